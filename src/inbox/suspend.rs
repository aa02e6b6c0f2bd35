//! The local terminal front end's hooks: reading input on a thread that can
//! be paused, leaving the terminal and coming back (`Ctrl-Z` / `fg`, the
//! note editor), starting the browser, and writing the title and alert
//! sequences outside a frame. One place for all of it, so that the
//! runtime's effect runner has one call to make ([`perform`]), and a front
//! end without a local terminal (SSH) one call to refuse ([`refuse`]).
//!
//! Why a thread of our own rather than crossterm's `EventStream`: the
//! stream's reader thread keeps reading the terminal while an editor runs
//! and would steal its keys; this one parks on request (`pause_input`)
//! and says when it has.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyEventKind};
use ratatui::crossterm::terminal::{
    EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode,
    enable_raw_mode,
};
use ratatui::crossterm::{cursor, execute};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::UnboundedSender;

use super::msg::{Msg, TermDone, TermEffect};
use crate::config::Alert;

/// Mouse reporting was asked for (and is on while the app has the screen).
static MOUSE: AtomicBool = AtomicBool::new(false);
/// The title was saved on the terminal's stack (restored on leaving).
static TITLE_PUSHED: AtomicBool = AtomicBool::new(false);
/// The reader is asked to park.
static PAUSE: AtomicBool = AtomicBool::new(false);
/// The reader is parked (reads nothing).
static PARKED: AtomicBool = AtomicBool::new(false);
/// The local front end is running (input read here).
static LOCAL: AtomicBool = AtomicBool::new(false);

/// Why a terminal effect is refused where there is no local terminal.
pub const NOT_HERE: &str = "not available in this session";

/// Click and wheel reports, SGR encoded (1000 + 1006): no motion reports,
/// and terminals keep Shift-drag for selecting text.
const MOUSE_ON: &[u8] = b"\x1b[?1000h\x1b[?1006h";
const MOUSE_OFF: &[u8] = b"\x1b[?1006l\x1b[?1000l";

/// The running input reader; [`InputHandle::abort`] stops it.
pub struct InputHandle {
    stop: Arc<AtomicBool>,
    signals: tokio::task::JoinHandle<()>,
}

impl InputHandle {
    /// Stops reading (the thread ends within a poll interval).
    pub fn abort(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.signals.abort();
        LOCAL.store(false, Ordering::SeqCst);
    }
}

/// Starts reading the local terminal: keys, resizes and (with `mouse`)
/// clicks, relayed as [`Msg`]s; a SIGTSTP (`kill -TSTP`) becomes
/// [`Msg::SuspendRequested`]. Call inside the runtime, with the terminal
/// already entered.
pub fn spawn_input(tx: UnboundedSender<Msg>, mouse: bool) -> InputHandle {
    LOCAL.store(true, Ordering::SeqCst);
    MOUSE.store(mouse, Ordering::SeqCst);
    if mouse {
        write_raw(MOUSE_ON);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let halt = stop.clone();
    let keys = tx.clone();
    std::thread::spawn(move || read_loop(&keys, &halt));
    let signals = tokio::spawn(async move {
        let Ok(mut tstp) = signal(SignalKind::from_raw(libc::SIGTSTP)) else {
            return;
        };
        while tstp.recv().await.is_some() {
            if tx.send(Msg::SuspendRequested).is_err() {
                return;
            }
        }
    });
    InputHandle { stop, signals }
}

fn read_loop(tx: &UnboundedSender<Msg>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        if PAUSE.load(Ordering::SeqCst) {
            PARKED.store(true, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        PARKED.store(false, Ordering::SeqCst);
        match event::poll(Duration::from_millis(50)) {
            Ok(false) => continue,
            Ok(true) => {}
            Err(e) => {
                tracing::error!(error = %e, "terminal input failed");
                return;
            }
        }
        let msg = match event::read() {
            Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => Msg::Key(k),
            Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
            Ok(Event::Mouse(m)) => Msg::Mouse(m),
            Ok(_) => continue,
            Err(e) => {
                tracing::error!(error = %e, "terminal input failed");
                return;
            }
        };
        if tx.send(msg).is_err() {
            return;
        }
    }
}

/// Parks the reader and waits (at most a second) until it reads nothing.
fn pause_input() {
    PAUSE.store(true, Ordering::SeqCst);
    for _ in 0..200 {
        if PARKED.load(Ordering::SeqCst) || !LOCAL.load(Ordering::SeqCst) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn resume_input() {
    PARKED.store(false, Ordering::SeqCst);
    PAUSE.store(false, Ordering::SeqCst);
}

fn write_raw(bytes: &[u8]) {
    let mut out = std::io::stdout();
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

/// Gives the terminal back: mouse reports off, the title restored, raw mode
/// and the alternate screen left, the cursor shown. Safe to call more than
/// once; errors are ignored (the terminal may be gone).
pub fn leave_terminal() {
    let _ = disable_raw_mode();
    let mut out = std::io::stdout();
    // A frame cut short may have left a scroll region (ScrollBackend) or
    // colours set; xterm would carry the region over to the main screen.
    let _ = out.write_all(b"\x1b[r\x1b[0m");
    if MOUSE.load(Ordering::SeqCst) {
        let _ = out.write_all(MOUSE_OFF);
    }
    if TITLE_PUSHED.swap(false, Ordering::SeqCst) {
        // XTWINOPS: pop the title saved when the first one was set.
        let _ = out.write_all(b"\x1b[23;0t");
    }
    let _ = execute!(
        out,
        EndSynchronizedUpdate,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = out.flush();
}

/// Takes the terminal again after [`leave_terminal`]; the caller repaints
/// the whole screen.
fn enter_terminal() {
    let _ = enable_raw_mode();
    let mut out = std::io::stdout();
    let _ = execute!(out, EnterAlternateScreen, cursor::Hide);
    if MOUSE.load(Ordering::SeqCst) {
        let _ = out.write_all(MOUSE_ON);
    }
    let _ = out.flush();
}

/// Runs `f` with the terminal given back (input parked, screen and modes
/// restored) and takes it again afterwards.
fn released<T>(f: impl FnOnce() -> T) -> T {
    let run = || {
        pause_input();
        leave_terminal();
        let r = f();
        enter_terminal();
        resume_input();
        r
    };
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(run)
        }
        _ => run(),
    }
}

/// Performs a terminal effect on the local terminal; the outcome (when it
/// has one) comes back as [`Msg::Terminal`].
pub fn perform(effect: TermEffect, tx: &UnboundedSender<Msg>) {
    if !LOCAL.load(Ordering::SeqCst) {
        return refuse(effect, tx);
    }
    match effect {
        TermEffect::Suspend => {
            released(|| {
                // SIGSTOP, not SIGTSTP: ours is caught. The shell sees the
                // job stopped the same way; `fg` sends SIGCONT.
                // SAFETY: raise has no memory-safety preconditions.
                unsafe { libc::raise(libc::SIGSTOP) };
            });
            let _ = tx.send(Msg::Terminal(TermDone::Resumed(Ok(()))));
        }
        TermEffect::EditNote(text) => {
            let r = released(|| edit(&text));
            let _ = tx.send(Msg::Terminal(TermDone::Edited(r)));
        }
        TermEffect::Open(url) => {
            let r = open(&url).map(|()| url);
            let _ = tx.send(Msg::Terminal(TermDone::Opened(r)));
        }
        TermEffect::Title(t) => {
            let mut seq = Vec::new();
            if !TITLE_PUSHED.swap(true, Ordering::SeqCst) {
                // XTWINOPS: save the user's title, popped on leaving.
                seq.extend_from_slice(b"\x1b[22;0t");
            }
            seq.extend_from_slice(osc(&format!("2;{}", osc_text(&t, false))).as_bytes());
            write_raw(&seq);
        }
        TermEffect::Alert { how, title, body } => {
            if let Some(seq) = alert_sequence(how, &title, &body) {
                write_raw(seq.as_bytes());
            }
        }
    }
}

/// Answers a terminal effect where there is no local terminal (SSH): the
/// ones the user asked for say [`NOT_HERE`]; title and alerts are dropped.
pub fn refuse(effect: TermEffect, tx: &UnboundedSender<Msg>) {
    let why = NOT_HERE.to_string();
    let done = match effect {
        TermEffect::Suspend => TermDone::Resumed(Err(why)),
        TermEffect::EditNote(_) => TermDone::Edited(Err(why)),
        TermEffect::Open(_) => TermDone::Opened(Err(why)),
        TermEffect::Title(_) | TermEffect::Alert { .. } => return,
    };
    let _ = tx.send(Msg::Terminal(done));
}

fn osc(body: &str) -> String {
    format!("\x1b]{body}\x07")
}

/// Text safe inside an OSC string: no control character (C0, DEL, C1: ESC,
/// BEL and ST end the sequence), `;` too where it separates fields; at most
/// 200 characters.
pub fn osc_text(s: &str, no_semicolon: bool) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .map(|c| if no_semicolon && c == ';' { ',' } else { c })
        .take(200)
        .collect()
}

/// The bytes announcing a new lead, by `how`.
pub fn alert_sequence(how: Alert, title: &str, body: &str) -> Option<String> {
    match how {
        Alert::Off => None,
        Alert::Bell => Some("\x07".to_string()),
        Alert::Osc9 => Some(osc(&format!("9;{}", osc_text(body, false)))),
        Alert::Osc777 => Some(osc(&format!(
            "777;notify;{};{}",
            osc_text(title, true),
            osc_text(body, true)
        ))),
    }
}

/// The editor's program and arguments: `$VISUAL`, else `$EDITOR`, else
/// `vi`; split on white space (no shell: the note's file is one argument).
pub fn editor_command(visual: Option<&str>, editor: Option<&str>) -> Vec<String> {
    let chosen = [visual, editor]
        .into_iter()
        .flatten()
        .find(|s| !s.trim().is_empty())
        .unwrap_or("vi");
    chosen.split_whitespace().map(str::to_string).collect()
}

fn edit(text: &str) -> Result<String, String> {
    let file = tempfile::Builder::new()
        .prefix("leadx-note-")
        .suffix(".txt")
        .tempfile()
        .map_err(|e| format!("cannot create the note's file: {e}"))?;
    std::fs::write(file.path(), text).map_err(|e| format!("cannot write the note's file: {e}"))?;
    let cmd = editor_command(
        std::env::var("VISUAL").ok().as_deref(),
        std::env::var("EDITOR").ok().as_deref(),
    );
    run_editor(&cmd, file.path())?;
    std::fs::read_to_string(file.path()).map_err(|e| format!("cannot read the note back: {e}"))
}

fn run_editor(cmd: &[String], path: &Path) -> Result<(), String> {
    let (prog, args) = cmd.split_first().ok_or("no editor")?;
    let status = Command::new(prog)
        .args(args)
        .arg(path)
        .status()
        .map_err(|e| format!("cannot start {prog}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{prog} failed ({status}); the note is unchanged"))
    }
}

/// The program that opens a URL: the first of `$BROWSER` (a `:` list),
/// else `open` on macOS, else `xdg-open`.
pub fn opener(browser: Option<&str>) -> String {
    browser
        .and_then(|b| b.split(':').map(str::trim).find(|s| !s.is_empty()))
        .map(str::to_string)
        .unwrap_or_else(|| {
            if cfg!(target_os = "macos") {
                "open".to_string()
            } else {
                "xdg-open".to_string()
            }
        })
}

/// Starts the opener on `url` (one argument, no shell), detached from the
/// screen: its output would draw over the app.
fn open(url: &str) -> Result<(), String> {
    let prog = opener(std::env::var("BROWSER").ok().as_deref());
    let mut child = Command::new(&prog)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {prog}: {e}"))?;
    // Reap it in the background; xdg-open returns at once.
    std::thread::spawn(move || child.wait());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc_text_drops_everything_that_ends_the_sequence() {
        let hostile = "Acme\x07\x1b]2;pwned\x1b\\\u{9c}\u{7f};x";
        assert_eq!(osc_text(hostile, false), "Acme]2;pwned\\;x");
        assert_eq!(osc_text(hostile, true), "Acme]2,pwned\\,x");
        let seq = alert_sequence(Alert::Osc777, "new; lead", hostile).unwrap();
        assert_eq!(seq, "\x1b]777;notify;new, lead;Acme]2,pwned\\,x\x07");
        assert_eq!(seq.matches('\x07').count(), 1);
        assert_eq!(seq.matches('\x1b').count(), 1);
        assert_eq!(alert_sequence(Alert::Bell, "t", "b").unwrap(), "\x07");
        assert_eq!(alert_sequence(Alert::Off, "t", "b"), None);
        assert_eq!(
            alert_sequence(Alert::Osc9, "t", "a;b").unwrap(),
            "\x1b]9;a;b\x07"
        );
    }

    #[test]
    fn editor_is_visual_then_editor_then_vi_split_without_a_shell() {
        assert_eq!(
            editor_command(Some("code -w"), Some("nano")),
            ["code", "-w"]
        );
        assert_eq!(editor_command(Some(" "), Some("nano")), ["nano"]);
        assert_eq!(editor_command(None, None), ["vi"]);
    }

    #[test]
    fn opener_takes_the_first_browser() {
        assert_eq!(opener(Some("firefox:chromium")), "firefox");
        assert_eq!(opener(Some("")), opener(None));
    }

    #[test]
    fn without_a_local_terminal_effects_are_refused() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        perform(TermEffect::Suspend, &tx);
        match rx.try_recv() {
            Ok(Msg::Terminal(TermDone::Resumed(Err(e)))) => assert_eq!(e, NOT_HERE),
            other => panic!("{other:?}"),
        }
        refuse(TermEffect::Title("x".into()), &tx);
        assert!(rx.try_recv().is_err());
    }
}
