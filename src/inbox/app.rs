//! The runtime: terminal, network tasks, timer, and the loop that feeds
//! [`Msg`]s to the reducer and draws when it says something changed.
//!
//! - One `mpsc` channel of `Msg`: a task reads crossterm's `EventStream`,
//!   a task relays the live feed, one task per load or action (retrying
//!   with the same idempotency key until the answer is definite).
//! - No frame loop: a frame is drawn only when `state.dirty`, after
//!   draining the channel (bursts coalesce), at most one per ~10 ms (or the
//!   `[ui] max_fps` ceiling), and not while the terminal's output queue
//!   still holds a frame ([`super::pace`]: on a slow link the newest state
//!   is drawn once the last frame has drained), wrapped in synchronized
//!   output. The only timer is [`State::next_wakeup`]:
//!   something visible counting down.
//! - The terminal is restored on quit, on error, on panic (hook), and on
//!   SIGTERM / SIGHUP / SIGINT. Logs go to `settings.log_file`, never the screen.

use std::fmt;
use std::io::{BufWriter, Stdout, Write};
use std::path::PathBuf;
use std::sync::Once;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{Offset, Utc};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::crossterm::event::{Event, EventStream, KeyEventKind};
use ratatui::crossterm::terminal::{
    EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode,
    enable_raw_mode,
};
use ratatui::crossterm::{cursor, execute};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::keymap::{KeyMap, KeymapError};
use super::msg::{ActionOutcome, Effect, ExportFormat, FeedMsg, Msg, OpId};
use super::pace::{Counted, Pace, Pacer, output_queue};
use super::scroll_backend::{ScrollBackend, term_erases_with_background};
use super::state::State;
use super::update::{init, update};
use super::views;
use crate::client::{
    Backoff, Client, ClientError, FeedEvent, FeedOptions, LIST_ALL_PAGE, new_idempotency_key,
    retry_until_definite, watch,
};
use crate::config::{self, Settings};
use crate::theme::{self, Theme};
use crate::wire::BatchAction as ActionRequest;
use crate::wire::{ErrorCode, Referral, now_seconds};

/// A setting the inbox cannot start with (a bad `[keys]` entry or theme).
/// The CLI prints it and exits 2, before the terminal is touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupError {
    /// The config file, when one was read.
    pub file: Option<PathBuf>,
    /// The key to blame: `keys.accept`, `theme`.
    pub key: String,
    /// What was wrong and what was expected.
    pub message: String,
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(p) => write!(f, "{}: {}: {}", p.display(), self.key, self.message),
            None => write!(f, "{}: {}", self.key, self.message),
        }
    }
}

impl std::error::Error for SetupError {}

/// The keymap and theme the settings ask for, or what is wrong with them.
pub fn prepare(settings: &Settings) -> Result<(KeyMap, Theme), SetupError> {
    let keymap =
        KeyMap::from_config(&settings.keys).map_err(|KeymapError { key, message }| SetupError {
            file: settings.config_file.clone(),
            key,
            message,
        })?;
    let env = config::process_env();
    let depth = theme::detect(&|k: &str| env.get(k).cloned());
    let user_dir = config::user_theme_dir(&env);
    let theme =
        theme::load(&settings.theme, user_dir.as_deref(), depth).map_err(|message| SetupError {
            file: settings.config_file.clone(),
            key: "theme".to_string(),
            message,
        })?;
    Ok((keymap, theme))
}

/// Runs the inbox until the user quits (or SIGTERM / SIGHUP). A
/// [`SetupError`] (downcast it) means bad settings: exit 2.
pub async fn run(settings: Settings, client: Client) -> anyhow::Result<()> {
    let (keymap, theme) = prepare(&settings)?;
    let _log_guard = init_logging(&settings.log_file);
    tracing::info!(server = %settings.server_url, fallbacks = ?settings.fallback_urls, readonly = settings.readonly, "inbox starting");

    let mut state = State::new(
        crate::sanitize::clean_line(&settings.server_url),
        settings.readonly,
        keymap,
        new_idempotency_key(),
        now_seconds(),
    );
    state.utc_offset = chrono::Local::now().offset().fix();
    state.servers = client.server_urls().len();
    state.batch_settings = settings.batch;
    state.layout = settings.layout;
    state.views = settings
        .views
        .iter()
        .map(|(k, v)| {
            (
                crate::sanitize::clean_line(k),
                crate::sanitize::clean_line(v),
            )
        })
        .collect();
    let env = config::process_env();
    let theme_dir = config::user_theme_dir(&env);
    state.themes = theme::available(theme_dir.as_deref());
    let history = history_path(&settings);
    if let Some(p) = &history {
        state.history = load_history(p);
    }
    let depth = theme::detect(&|k: &str| env.get(k).cloned());
    let extras = Extras {
        max_fps: settings.max_fps,
        link_baud: settings.link_baud,
        history,
        theme_dir,
        depth,
    };

    install_panic_hook();
    let mut term = TerminalGuard::enter().context("cannot set up the terminal")?;
    let result = run_loop(&mut state, theme, client, extras, &mut term).await;
    drop(term);
    if let Err(e) = &result {
        tracing::error!(error = %e, "inbox stopped on an error");
    } else {
        tracing::info!("inbox stopped");
    }
    result
}

/// The terminal: ratatui over a backend that moves shifted rows with the
/// terminal's scrolling when that writes fewer bytes, and encodes cells
/// compactly (a new lead in a short list at 200x50: 0.9–1.4 KB instead of
/// 3.9 KB; see docs/PERFORMANCE.md).
type Term = Terminal<ScrollBackend<Counted<BufWriter<Stdout>>>>;

/// Owns the terminal while the inbox runs; restores it when dropped.
///
/// ratatui's own `Drop` for `Terminal` shows the cursor and, when that
/// fails, prints to stderr: after a hang-up (SIGHUP, a dropped SSH session)
/// stderr is gone too and that print panics. So the `Terminal` is never
/// dropped; [`restore_terminal`] does its work, ignoring errors.
struct TerminalGuard {
    terminal: std::mem::ManuallyDrop<Term>,
    /// Bytes written to the terminal so far (frames' sizes, for pacing).
    written: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl TerminalGuard {
    fn enter() -> anyhow::Result<Self> {
        enable_raw_mode()?;
        let mut out = std::io::stdout();
        if let Err(e) = execute!(out, EnterAlternateScreen, cursor::Hide) {
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
        })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = self.terminal.backend_mut().flush();
        restore_terminal();
    }
}

/// Leaves raw mode and the alternate screen, shows the cursor. Safe to
/// call more than once.
fn restore_terminal() {
    let _ = disable_raw_mode();
    let mut out = std::io::stdout();
    // A frame cut short may have left a scroll region (ScrollBackend) or
    // colours set; xterm would carry the region over to the main screen.
    let _ = out.write_all(b"\x1b[r\x1b[0m");
    let _ = execute!(
        out,
        EndSynchronizedUpdate,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = out.flush();
}

/// Wakes the loop when any thread panicked: the hook has already restored
/// the terminal, so the app must stop rather than draw on the main screen.
static PANICKED: tokio::sync::Notify = tokio::sync::Notify::const_new();
/// Set with [`PANICKED`]: checked before every frame, so that no frame is
/// drawn on the restored (main) screen while the loop has not yet seen the
/// notification.
static PANIC_SEEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn install_panic_hook() {
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

fn init_logging(path: &std::path::Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty())?;
    let name = path.file_name()?;
    if std::fs::create_dir_all(dir).is_err() {
        return None;
    }
    // The log names servers and partners: the user's eyes only.
    let _ = super::private_file::ensure(path);
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

/// The effect runner: spawns tasks that answer with `Msg`s.
struct Runner {
    client: Client,
    tx: UnboundedSender<Msg>,
    /// Where `:` history is appended.
    history: Option<PathBuf>,
    /// For `:theme`: where user themes live, and the colour depth.
    theme_dir: Option<PathBuf>,
    depth: theme::ColorDepth,
    /// A theme `:theme` loaded, for the loop to switch to.
    new_theme: Option<Theme>,
    feed: Option<JoinHandle<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Runner {
    fn backoff() -> Backoff {
        Backoff::new(Duration::from_millis(500), Duration::from_secs(30))
    }

    /// Runs one effect; returns true for `Quit`.
    fn run(&mut self, effect: Effect) -> bool {
        self.tasks.retain(|t| !t.is_finished());
        match effect {
            Effect::Quit => return true,
            Effect::LoadMe => {
                let (client, tx) = (self.client.clone(), self.tx.clone());
                self.spawn(async move {
                    let r = load("your account", &tx, || client.me()).await;
                    let _ = tx.send(Msg::Me(r.map_err(|e| e.to_string())));
                });
            }
            Effect::LoadPartners => {
                let (client, tx) = (self.client.clone(), self.tx.clone());
                self.spawn(async move {
                    let r = load("the partner directory", &tx, || client.partners(None)).await;
                    let _ = tx.send(Msg::Partners(r.map_err(|e| e.to_string())));
                });
            }
            Effect::List(box_) => {
                let (client, tx) = (self.client.clone(), self.tx.clone());
                self.spawn(async move {
                    let what = format!("{} referrals", box_.as_str());
                    // Page by page: the model takes each as it comes, so the
                    // raw list never exists whole next to the model's copy.
                    let r = load(&what, &tx, || {
                        let tx = tx.clone();
                        client.list_all_each(box_, &[], LIST_ALL_PAGE, move |items| {
                            let _ = tx.send(Msg::ListPage { box_, items });
                        })
                    })
                    .await;
                    let _ = tx.send(Msg::Listed {
                        box_,
                        result: r
                            .map(|as_of| (Vec::new(), as_of))
                            .map_err(|e| e.to_string()),
                    });
                });
            }
            Effect::Watch { after } => {
                if let Some(old) = self.feed.take() {
                    old.abort();
                }
                let (client, tx) = (self.client.clone(), self.tx.clone());
                tracing::info!(after, "watching the feed");
                self.feed = Some(tokio::spawn(relay_feed(client, after, tx)));
            }
            Effect::SendBatch {
                batch,
                chunk,
                request,
                idempotency_key,
            } => {
                let (client, tx) = (self.client.clone(), self.tx.clone());
                tracing::info!(batch, chunk, items = request.items.len(), key = %idempotency_key, "sending batch chunk");
                self.spawn(async move {
                    let result = retry_until_definite(
                        Runner::backoff(),
                        || client.batch(&request, &idempotency_key),
                        |n, e, wait| {
                            tracing::warn!(batch, chunk, attempt = n, error = %e, ?wait, "batch chunk not answered, retrying with the same key");
                            let _ = tx.send(Msg::BatchRetrying {
                                batch,
                                chunk,
                                error: e.to_string(),
                            });
                        },
                    )
                    .await;
                    let _ = tx.send(Msg::BatchDone {
                        batch,
                        chunk,
                        result: result.map_err(|e| e.to_string()),
                        at: now_seconds(),
                    });
                });
            }
            Effect::Export {
                path,
                format,
                referrals,
            } => {
                let tx = self.tx.clone();
                self.spawn(async move {
                    let p = path.clone();
                    let r = tokio::task::spawn_blocking(move || export(&p, format, &referrals))
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|r| r);
                    let _ = tx.send(Msg::Exported(r.map(|n| (path, n))));
                });
            }
            Effect::SaveHistory(line) => {
                if let Some(p) = &self.history
                    && let Err(e) = append_history(p, &line)
                {
                    tracing::warn!(error = %e, path = %p.display(), "cannot save the command history");
                }
            }
            Effect::SetTheme(name) => {
                let r = theme::load(&name, self.theme_dir.as_deref(), self.depth);
                let msg = match r {
                    Ok(t) => {
                        self.new_theme = Some(t);
                        Ok(name)
                    }
                    Err(e) => Err(e),
                };
                let _ = self.tx.send(Msg::ThemeChanged(msg));
            }
            Effect::Send {
                op,
                referral_id,
                request,
                idempotency_key,
            } => {
                let (client, tx) = (self.client.clone(), self.tx.clone());
                tracing::info!(op, id = %referral_id, action = request.kind().as_str(), "sending");
                self.spawn(async move {
                    let outcome =
                        send_action(&client, &tx, op, &referral_id, &request, &idempotency_key)
                            .await;
                    let _ = tx.send(Msg::ActionDone {
                        op,
                        outcome,
                        at: now_seconds(),
                    });
                });
            }
        }
        false
    }

    fn spawn(&mut self, fut: impl Future<Output = ()> + Send + 'static) {
        self.tasks.push(tokio::spawn(fut));
    }

    fn stop(&mut self) {
        if let Some(f) = self.feed.take() {
            f.abort();
        }
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }
}

/// Writes `:export`'s file; the number of rows written.
fn export(path: &str, format: ExportFormat, referrals: &[Referral]) -> Result<usize, String> {
    let file = std::fs::File::create(crate::config::expand_home_env(path))
        .map_err(|e| format!("cannot create {path}: {e}"))?;
    let mut out = BufWriter::new(file);
    crate::export::export_referrals(&mut out, referrals, format == ExportFormat::Json)
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write {path}: {e}"))?;
    Ok(referrals.len())
}

/// Most lines of `:` history kept.
const HISTORY_MAX: usize = 1000;

/// The history file: next to the log file (`$XDG_STATE_HOME/leadx/history`).
pub fn history_path(settings: &Settings) -> Option<PathBuf> {
    let dir = settings.log_file.parent()?;
    (!dir.as_os_str().is_empty()).then(|| dir.join("history"))
}

/// The last [`HISTORY_MAX`] lines of the history file (none when missing).
pub fn load_history(path: &std::path::Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let lines: Vec<String> = text
        .lines()
        .map(crate::sanitize::clean_line)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let skip = lines.len().saturating_sub(HISTORY_MAX);
    let kept: Vec<String> = lines.into_iter().skip(skip).collect();
    // The file only grows when appended to: cut it back now and then.
    if skip > HISTORY_MAX {
        let mut text = kept.join("\n");
        text.push('\n');
        if let Err(e) = std::fs::write(path, text) {
            tracing::warn!(error = %e, path = %path.display(), "cannot trim the command history");
        }
    }
    kept
}

fn append_history(path: &std::path::Path, line: &str) -> std::io::Result<()> {
    let mut f = super::private_file::open_append(path)?;
    writeln!(f, "{}", line.replace(['\n', '\r'], " "))
}

/// A load retried until the server gives a definite answer.
async fn load<T, F, Fut>(what: &str, tx: &UnboundedSender<Msg>, f: F) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ClientError>>,
{
    retry_until_definite(Runner::backoff(), f, |n, e, wait| {
        tracing::warn!(what, attempt = n, error = %e, ?wait, "load failed, retrying");
        let _ = tx.send(Msg::LoadRetrying {
            what: what.to_string(),
            error: e.to_string(),
            retry_in_ms: wait.as_millis().min(u64::MAX as u128) as u64,
            at: now_seconds(),
        });
    })
    .await
}

/// Sends one action, retrying with the same key until the answer is definite.
async fn send_action(
    client: &Client,
    tx: &UnboundedSender<Msg>,
    op: OpId,
    id: &str,
    request: &ActionRequest,
    key: &str,
) -> ActionOutcome {
    let result: Result<Vec<Referral>, ClientError> = retry_until_definite(
        Runner::backoff(),
        || async move {
            match request {
                ActionRequest::Accept(r) => client.accept(id, r, key).await.map(|x| vec![x]),
                ActionRequest::Reject(r) => client.reject(id, r, key).await.map(|x| vec![x]),
                ActionRequest::Withdraw(r) => client.withdraw(id, r, key).await.map(|x| vec![x]),
                ActionRequest::Close(r) => client.close(id, r, key).await.map(|x| vec![x]),
                ActionRequest::Forward(r) => client
                    .forward(id, r, key)
                    .await
                    .map(|x| vec![x.referral, x.forwarded]),
            }
        },
        |n, e, wait| {
            tracing::warn!(op, attempt = n, error = %e, ?wait, "action not answered, retrying with the same key");
            let _ = tx.send(Msg::ActionRetrying {
                op,
                error: e.to_string(),
            });
        },
    )
    .await;
    match result {
        Ok(refs) => ActionOutcome::Applied(refs),
        Err(e) if e.code() == Some(ErrorCode::Conflict) => ActionOutcome::Conflict {
            current: e.current().cloned().map(Box::new),
            message: e.to_string(),
        },
        Err(e) => ActionOutcome::Failed {
            message: e.to_string(),
        },
    }
}

/// Follows the feed and relays it as `Msg::Feed`, stamped with the time.
async fn relay_feed(client: Client, after: u64, tx: UnboundedSender<Msg>) {
    let mut handle = watch(client, after, FeedOptions::default());
    while let Some(ev) = handle.recv().await {
        let at = now_seconds();
        let msg = match ev {
            FeedEvent::Connected => FeedMsg::Connected { at },
            FeedEvent::Event { seq, referral } => FeedMsg::Event {
                seq,
                referral: Box::new(referral),
                at,
            },
            FeedEvent::Disconnected { reason, retry_in } => {
                tracing::warn!(%reason, ?retry_in, "feed dropped");
                FeedMsg::Disconnected {
                    reason,
                    retry_in_ms: retry_in.as_millis().min(u64::MAX as u128) as u64,
                    at,
                }
            }
            FeedEvent::Gone => FeedMsg::Gone { at },
            FeedEvent::Stale => FeedMsg::Stale { at },
        };
        if tx.send(Msg::Feed(msg)).is_err() {
            return;
        }
    }
}

/// Reads the terminal and relays keys and resizes.
async fn read_input(tx: UnboundedSender<Msg>) {
    let mut events = EventStream::new();
    while let Some(ev) = events.next().await {
        let msg = match ev {
            Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => Msg::Key(k),
            Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
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

fn instant_of(t: crate::wire::Timestamp) -> Instant {
    instant_at(t, Utc::now(), Instant::now())
}

/// The instant at which the wall clock reads `t`, given that it reads
/// `wall` at `mono`; a time already past is `mono`.
fn instant_at(t: crate::wire::Timestamp, wall: chrono::DateTime<Utc>, mono: Instant) -> Instant {
    let wait = (t - wall).to_std().unwrap_or(Duration::ZERO);
    // Wake just after the second turns, so `now_seconds()` has moved.
    mono + wait + Duration::from_millis(5)
}

/// Draws a frame: the backend wraps it in synchronized output, and writes
/// nothing at all when nothing changed. After `Ctrl-L` the screen is
/// cleared first and drawn whole (ratatui's `resize` to the same size
/// clears the terminal and forgets the previous frame, without asking the
/// terminal where its cursor is as `clear` would).
fn draw(term: &mut Term, state: &mut State, theme: &Theme) -> anyhow::Result<()> {
    if std::mem::take(&mut state.repaint) {
        let size = term.size()?;
        term.resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))?;
    }
    term.draw(|f| views::render(state, theme, f))?;
    Ok(())
}

/// Applies a message and runs its effects; true when the app must stop.
fn step(state: &mut State, runner: &mut Runner, msg: Msg) -> bool {
    let mut quit = false;
    for e in update(state, msg) {
        quit |= runner.run(e);
    }
    quit || state.quitting
}

fn drain(state: &mut State, runner: &mut Runner, rx: &mut UnboundedReceiver<Msg>) -> bool {
    while let Ok(m) = rx.try_recv() {
        if step(state, runner, m) {
            return true;
        }
    }
    false
}

/// What the runner needs besides the client.
struct Extras {
    /// `ui.max_fps`.
    max_fps: Option<u32>,
    /// `ui.link_baud`.
    link_baud: Option<u32>,
    history: Option<PathBuf>,
    theme_dir: Option<PathBuf>,
    depth: theme::ColorDepth,
}

async fn run_loop(
    state: &mut State,
    mut theme: Theme,
    client: Client,
    extras: Extras,
    guard: &mut TerminalGuard,
) -> anyhow::Result<()> {
    let (tx, mut rx) = unbounded_channel();
    // Which server answers is the client's to decide; the reducer hears of
    // each move as a message, like every other effect's outcome.
    let moved = tx.clone();
    client.on_move(move |m| {
        let _ = moved.send(Msg::ServerMoved {
            from: m.from.clone(),
            to: m.to.clone(),
            reason: m.reason.clone(),
            all_down: m.all_down,
            at: now_seconds(),
        });
    });
    let mut pacer = Pacer::new(extras.max_fps, extras.link_baud);
    let mut runner = Runner {
        client,
        history: extras.history,
        theme_dir: extras.theme_dir,
        depth: extras.depth,
        new_theme: None,
        tx: tx.clone(),
        feed: None,
        tasks: Vec::new(),
    };
    let input = tokio::spawn(read_input(tx.clone()));
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    // In raw mode Ctrl-C is a key; a SIGINT comes from `kill -INT`.
    let mut sigint = signal(SignalKind::interrupt())?;

    let size = guard.terminal.size()?;
    let _ = update(state, Msg::Resize(size.width, size.height));
    for e in init(state) {
        runner.run(e);
    }
    let written = guard.written.clone();
    let bytes = || written.load(std::sync::atomic::Ordering::Relaxed);
    let term = &mut guard.terminal;
    draw(term, state, &theme)?;
    state.dirty = false;
    let mut last_frame = Instant::now();
    pacer.drawn(last_frame.into_std(), bytes());
    // A dirty state waiting for the pacer: when to look again.
    let mut retry: Option<Instant> = None;

    let outcome = loop {
        let wake = state.next_wakeup().map(instant_of);
        let stop = tokio::select! {
            m = rx.recv() => match m {
                Some(m) => step(state, &mut runner, m),
                None => true,
            },
            () = async { tokio::time::sleep_until(wake.expect("guarded")).await }, if wake.is_some() => {
                step(state, &mut runner, Msg::Tick(now_seconds()))
            }
            () = async { tokio::time::sleep_until(retry.expect("guarded")).await }, if retry.is_some() => false,
            () = PANICKED.notified() => {
                break Err(anyhow::anyhow!("a task panicked (see the log); the terminal was restored"));
            }
            _ = sigterm.recv() => {
                tracing::info!("SIGTERM");
                true
            }
            _ = sigint.recv() => {
                tracing::info!("SIGINT");
                true
            }
            _ = sighup.recv() => {
                tracing::info!("SIGHUP: the terminal went away");
                true
            }
        };
        if stop || drain(state, &mut runner, &mut rx) {
            break Ok(());
        }
        if let Some(t) = runner.new_theme.take() {
            theme = t;
            state.dirty = true;
        }
        retry = None;
        if state.dirty {
            // The newest state is drawn once the link can take it; keys
            // that come meanwhile fold into that one frame.
            let queued = output_queue(libc::STDOUT_FILENO);
            let now = Instant::now();
            if let Pace::Wait(d) = pacer.decide(now.into_std(), now - last_frame, queued) {
                retry = Some(now + d);
                continue;
            }
            if PANIC_SEEN.load(std::sync::atomic::Ordering::SeqCst) {
                break Err(anyhow::anyhow!(
                    "a task panicked (see the log); the terminal was restored"
                ));
            }
            let before = bytes();
            if let Err(e) = draw(term, state, &theme) {
                break Err(e);
            }
            state.dirty = false;
            last_frame = Instant::now();
            pacer.drawn(last_frame.into_std(), bytes() - before);
        }
    };
    input.abort();
    runner.stop();
    if !state.ops.is_empty() {
        tracing::warn!(unsent = state.ops.len(), "quit with actions not confirmed");
    }
    outcome
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
