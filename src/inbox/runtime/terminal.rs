//! The local terminal as a front end: crossterm's event stream in, stdout
//! out. The terminal is restored on quit, on error, on panic (hook), and on
//! SIGTERM / SIGHUP / SIGINT.

use std::io::{BufWriter, Stdout, Write};
use std::sync::Arc;
use std::sync::Once;
use std::sync::atomic::AtomicU64;

use ratatui::Terminal;
use ratatui::crossterm::terminal::enable_raw_mode;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc::UnboundedSender;

use super::{FrontEnd, Input, Stop, Term, enter_screen};
use crate::inbox::msg::Msg;
use crate::inbox::pace::{Counted, output_queue};
use crate::inbox::scroll_backend::{ScrollBackend, term_erases_with_background};

/// Owns the terminal while the inbox runs; restores it when dropped.
///
/// ratatui's own `Drop` for `Terminal` shows the cursor and, when that
/// fails, prints to stderr: after a hang-up (SIGHUP, a dropped SSH session)
/// stderr is gone too and that print panics. So the `Terminal` is never
/// dropped; `restore_terminal` does its work, ignoring errors.
pub struct TerminalGuard {
    terminal: std::mem::ManuallyDrop<Term<BufWriter<Stdout>>>,
    /// Bytes written to the terminal so far (frames' sizes, for pacing).
    written: Arc<AtomicU64>,
    signals: Signals,
    /// Mouse reports on (`[ui] mouse`); set before the loop starts.
    pub mouse: bool,
}

struct Signals {
    term: Signal,
    hup: Signal,
    /// In raw mode Ctrl-C is a key; a SIGINT comes from `kill -INT`.
    int: Signal,
}

impl TerminalGuard {
    /// Raw mode, the alternate screen, signal handlers.
    pub fn enter() -> anyhow::Result<Self> {
        let signals = Signals {
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
            int: signal(SignalKind::interrupt())?,
        };
        enable_raw_mode()?;
        if let Err(e) = enter_screen(&mut std::io::stdout()) {
            restore_terminal();
            return Err(e.into());
        }
        let (out, written) = Counted::new(BufWriter::with_capacity(64 * 1024, std::io::stdout()));
        let bce = std::env::var("TERM").is_ok_and(|t| term_erases_with_background(&t));
        let backend = ScrollBackend::new(out)
            .synchronized()
            .erase_with_background(bce);
        let terminal = match Terminal::new(backend) {
            Ok(t) => t,
            Err(e) => {
                restore_terminal();
                return Err(e.into());
            }
        };
        Ok(Self {
            terminal: std::mem::ManuallyDrop::new(terminal),
            written,
            signals,
            mouse: false,
        })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = self.terminal.backend_mut().flush();
        restore_terminal();
    }
}

impl FrontEnd for TerminalGuard {
    type Out = BufWriter<Stdout>;

    fn terminal(&mut self) -> &mut Term<Self::Out> {
        &mut self.terminal
    }

    fn written(&self) -> Arc<AtomicU64> {
        self.written.clone()
    }

    fn queued(&self) -> Option<usize> {
        output_queue(libc::STDOUT_FILENO)
    }

    fn start_input(&mut self, tx: UnboundedSender<Msg>) -> Input {
        // A thread that parks while an editor runs (see `suspend`), with
        // mouse reports when asked.
        Input::Local(crate::inbox::suspend::spawn_input(tx, self.mouse))
    }

    async fn stopped(&mut self) -> Stop {
        let s = &mut self.signals;
        tokio::select! {
            () = PANICKED.notified() => Stop::Failed(panicked()),
            _ = s.term.recv() => {
                tracing::info!("SIGTERM");
                Stop::Done
            }
            _ = s.int.recv() => {
                tracing::info!("SIGINT");
                Stop::Done
            }
            _ = s.hup.recv() => {
                tracing::info!("SIGHUP: the terminal went away");
                Stop::Done
            }
        }
    }

    fn may_draw(&self) -> Result<(), anyhow::Error> {
        if PANIC_SEEN.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(panicked());
        }
        Ok(())
    }
}

fn panicked() -> anyhow::Error {
    anyhow::anyhow!("a task panicked (see the log); the terminal was restored")
}

/// Leaves raw mode and the alternate screen, shows the cursor. Safe to
/// call more than once.
fn restore_terminal() {
    crate::inbox::suspend::leave_terminal();
}

/// Wakes the loop when any thread panicked: the hook has already restored
/// the terminal, so the app must stop rather than draw on the main screen.
static PANICKED: tokio::sync::Notify = tokio::sync::Notify::const_new();
/// Set with [`PANICKED`]: checked before every frame, so that no frame is
/// drawn on the restored (main) screen while the loop has not yet seen the
/// notification.
static PANIC_SEEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Restores the terminal on a panic anywhere, then lets the loop stop.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANIC_SEEN.store(true, std::sync::atomic::Ordering::SeqCst);
            restore_terminal();
            let backtrace = std::backtrace::Backtrace::force_capture();
            tracing::error!(panic = %info, %backtrace, "panic");
            PANICKED.notify_one();
            previous(info);
        }));
    });
}

/// Logs to `path`; the guard keeps the writer thread.
pub fn init_logging(path: &std::path::Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty())?;
    let name = path.file_name()?;
    if std::fs::create_dir_all(dir).is_err() {
        return None;
    }
    // The log names servers and partners: the user's eyes only.
    let _ = crate::inbox::private_file::ensure(path);
    let appender = tracing_appender::rolling::never(dir, name);
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("LEADX_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ok = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .is_ok();
    // Someone (the demo) already set a subscriber: its output goes where it says.
    ok.then_some(guard)
}
