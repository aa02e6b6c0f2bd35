//! The inbox's runtime, one for every front end: the loop that feeds
//! [`Msg`]s to the reducer and draws when it says something changed.
//!
//! A front end ([`FrontEnd`]) gives the loop a stream of input events (keys
//! and resizes, as `Msg`s) and a writer with a size to draw on; everything
//! else (the reducer, [`effects`], the scrolling backend, themes, keys,
//! the sanitizer) is the same app. Two front ends exist: the local
//! terminal ([`terminal`]) and an SSH channel ([`ssh`]).
//!
//! - One `mpsc` channel of `Msg`: the front end's input task, the live feed
//!   relay, one task per load or action.
//! - No frame loop: a frame is drawn only when `state.dirty`, after
//!   draining the channel (bursts coalesce), at most one per ~10 ms (or the
//!   `[ui] max_fps` ceiling), and not while the front end's output queue
//!   still holds a frame ([`super::pace`]: on a slow link the newest state
//!   is drawn once the last frame has drained), wrapped in synchronized
//!   output. The only timer is [`State::next_wakeup`].

pub mod effects;
pub mod ssh;
pub mod terminal;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use ratatui::Terminal;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use self::effects::Runner;
use super::msg::Msg;
use super::pace::{Counted, Pace, Pacer};
use super::scroll_backend::ScrollBackend;
use super::state::State;
use super::update::{init, update};
use super::views;
use crate::client::Client;
use crate::theme::{self, Theme};
use crate::wire::now_seconds;

/// The terminal a front end draws on: ratatui over the backend that moves
/// shifted rows with the terminal's scrolling and encodes cells compactly.
pub type Term<W> = Terminal<ScrollBackend<Counted<W>>>;

/// Why a front end asks the loop to stop.
#[derive(Debug)]
pub enum Stop {
    /// An orderly end: a signal, a hang-up, the SSH channel closed.
    Done,
    /// Something failed (a task panicked): the loop ends with this error.
    Failed(anyhow::Error),
}

/// Where the app's input comes from and where its frames go.
/// A front end's running input reader.
pub enum Input {
    /// A task (an SSH channel's reader).
    Task(JoinHandle<()>),
    /// The local terminal's reader thread ([`crate::inbox::suspend`]).
    Local(crate::inbox::suspend::InputHandle),
}

impl Input {
    /// Stops reading.
    pub fn abort(&self) {
        match self {
            Input::Task(t) => t.abort(),
            Input::Local(h) => h.abort(),
        }
    }
}

pub trait FrontEnd {
    /// The writer frames are written to.
    type Out: Write;
    /// The terminal to draw on.
    fn terminal(&mut self) -> &mut Term<Self::Out>;
    /// Bytes written to the terminal so far (frames' sizes, for pacing).
    fn written(&self) -> Arc<AtomicU64>;
    /// Bytes written but not yet delivered (`None`: not known).
    fn queued(&self) -> Option<usize>;
    /// Starts the task that sends keys and resizes as `Msg`s.
    fn start_input(&mut self, tx: UnboundedSender<Msg>) -> Input;
    /// Resolves when the front end must stop.
    fn stopped(&mut self) -> impl Future<Output = Stop> + Send;
    /// Called before each frame (an SSH channel applies its newest size).
    fn before_draw(&mut self) {}
    /// False once a frame must no longer be drawn (the terminal restored).
    fn may_draw(&self) -> Result<(), anyhow::Error> {
        Ok(())
    }
}

/// What the runner needs besides the client.
pub struct Extras {
    /// `ui.max_fps`.
    pub max_fps: Option<u32>,
    /// `ui.link_baud`.
    pub link_baud: Option<u32>,
    pub history: Option<PathBuf>,
    pub theme_dir: Option<PathBuf>,
    pub depth: theme::ColorDepth,
}

pub(crate) fn instant_of(t: crate::wire::Timestamp) -> Instant {
    instant_at(t, Utc::now(), Instant::now())
}

/// The instant at which the wall clock reads `t`, given that it reads
/// `wall` at `mono`; a time already past is `mono`.
pub(crate) fn instant_at(
    t: crate::wire::Timestamp,
    wall: chrono::DateTime<Utc>,
    mono: Instant,
) -> Instant {
    let wait = (t - wall).to_std().unwrap_or(Duration::ZERO);
    // Wake just after the second turns, so `now_seconds()` has moved.
    mono + wait + Duration::from_millis(5)
}

/// Draws a frame: the backend wraps it in synchronized output, and writes
/// nothing at all when nothing changed. After `Ctrl-L` the screen is
/// cleared first and drawn whole (ratatui's `resize` to the same size
/// clears the terminal and forgets the previous frame, without asking the
/// terminal where its cursor is as `clear` would).
fn draw<W: Write>(term: &mut Term<W>, state: &mut State, theme: &Theme) -> anyhow::Result<()> {
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
    // Keys carry no time and ticks come only while something counts down,
    // so the reducer's clock may be stale when a key starts a countdown (an
    // undo window): bring it up to date first (at most once a second).
    if matches!(msg, Msg::Key(_)) {
        let now = now_seconds();
        if now > state.now {
            for e in update(state, Msg::Tick(now)) {
                quit |= runner.run(e);
            }
        }
    }
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

/// Runs the app on `front` until the user quits or the front end stops.
pub async fn run_loop<F: FrontEnd>(
    state: &mut State,
    mut theme: Theme,
    client: Client,
    extras: Extras,
    front: &mut F,
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
        raw_out: Vec::new(),
        tx: tx.clone(),
        feed: None,
        tasks: Vec::new(),
    };
    let input = front.start_input(tx.clone());

    front.before_draw();
    let size = front.terminal().size()?;
    let _ = update(state, Msg::Resize(size.width, size.height));
    for e in init(state) {
        runner.run(e);
    }
    let written = front.written();
    let bytes = || written.load(Ordering::Relaxed);
    draw(front.terminal(), state, &theme)?;
    state.dirty = false;
    let mut last_frame = Instant::now();
    pacer.drawn(last_frame.into_std(), bytes());
    // A dirty state waiting for the pacer: when to look again.
    let mut retry: Option<Instant> = None;

    let outcome = loop {
        let wake = state.next_wakeup().map(instant_of);
        let stop = tokio::select! {
            m = rx.recv() => match m {
                Some(m) => {
                    if matches!(m, Msg::Key(_)) {
                        pacer.input(Instant::now().into_std());
                    }
                    step(state, &mut runner, m)
                }
                None => true,
            },
            () = async { tokio::time::sleep_until(wake.expect("guarded")).await }, if wake.is_some() => {
                step(state, &mut runner, Msg::Tick(now_seconds()))
            }
            () = async { tokio::time::sleep_until(retry.expect("guarded")).await }, if retry.is_some() => false,
            why = front.stopped() => match why {
                Stop::Done => true,
                Stop::Failed(e) => break Err(e),
            },
        };
        if stop || drain(state, &mut runner, &mut rx) {
            break Ok(());
        }
        if !runner.raw_out.is_empty() {
            // Sequences for the terminal itself (OSC 52), between frames
            // and through the front end: the local terminal or the channel.
            let out = std::mem::take(&mut runner.raw_out);
            let backend = front.terminal().backend_mut();
            if let Err(e) = backend.write_all(&out).and_then(|()| backend.flush()) {
                tracing::warn!(error = %e, "cannot write the clipboard sequence");
            }
        }
        if let Some(t) = runner.new_theme.take() {
            theme = t;
            state.dirty = true;
        }
        retry = None;
        if state.dirty {
            // The newest state is drawn once the link can take it; keys
            // that come meanwhile fold into that one frame.
            let queued = front.queued();
            let now = Instant::now();
            if let Pace::Wait(d) = pacer.decide(now.into_std(), now - last_frame, queued) {
                retry = Some(now + d);
                continue;
            }
            if let Err(e) = front.may_draw() {
                break Err(e);
            }
            front.before_draw();
            let before = bytes();
            if let Err(e) = draw(front.terminal(), state, &theme) {
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

/// What leaves the app's screen: no scroll region or colours left over,
/// synchronized output ended, the main screen back, the cursor shown.
pub fn leave_screen(out: &mut impl Write) -> std::io::Result<()> {
    use ratatui::crossterm::terminal::{EndSynchronizedUpdate, LeaveAlternateScreen};
    use ratatui::crossterm::{cursor, queue};
    // A frame cut short may have left a scroll region (ScrollBackend) or
    // colours set; xterm would carry the region over to the main screen.
    out.write_all(b"\x1b[r\x1b[0m")?;
    queue!(
        out,
        EndSynchronizedUpdate,
        LeaveAlternateScreen,
        cursor::Show
    )?;
    out.flush()
}

/// What enters it: the alternate screen, the cursor hidden.
pub fn enter_screen(out: &mut impl Write) -> std::io::Result<()> {
    use ratatui::crossterm::terminal::EnterAlternateScreen;
    use ratatui::crossterm::{cursor, queue};
    queue!(out, EnterAlternateScreen, cursor::Hide)?;
    out.flush()
}
