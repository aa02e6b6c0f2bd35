//! An SSH channel as a front end: the channel's bytes in (parsed into key
//! events by termwiz's `InputParser`, wezterm's maintained parser of what
//! terminals send), frames out through a writer whose size is the
//! client's `pty-req` / `window-change`.
//!
//! Frames go to the channel through one writer task. The bytes handed to
//! it and not yet taken by the channel (whose window the client opens as
//! it reads) are the pacer's output queue, so a slow or stalled client
//! gets the newest state once it has caught up, never a backlog: what one
//! session holds is bounded by about one frame, the parser's partial
//! sequence and the bounded input queue.
//!
//! A parser (termwiz's `InputParser`, with its table of every key
//! sequence: about 600 KB, 1 ms to build) is held only while a session's
//! input is being parsed: for plain keys just that long, after an ESC
//! until the flush once the input paused. It then goes back to
//! [`PARSERS`] for the next session that types, and only when it provably
//! holds nothing of this session's input ([`ParserPool::give_back`]).
//! Idle sessions hold none.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ratatui::Terminal;
use ratatui::crossterm::event::{KeyCode as CtKey, KeyEvent as CtEvent, KeyModifiers};
use ratatui::layout::Size;
use termwiz::input::{InputEvent, InputParser, KeyCode, KeyEvent, Modifiers};
use tokio::io::{AsyncWrite, AsyncWriteExt as _};
use tokio::sync::mpsc::{Receiver, UnboundedSender, unbounded_channel};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use super::{FrontEnd, Input, Stop, Term, enter_screen, leave_screen};
use crate::inbox::msg::Msg;
use crate::inbox::pace::Counted;
use crate::inbox::scroll_backend::{ScrollBackend, term_erases_with_background};

/// What the SSH session hands the app.
#[derive(Debug)]
pub enum RemoteInput {
    /// Bytes the client typed.
    Bytes(Vec<u8>),
    /// `window-change`: columns, rows.
    Resize(u16, u16),
}

/// The longest paste taken as keys (the rest is dropped).
const MAX_PASTE: usize = 4096;
/// How long a lone ESC waits for the rest of a sequence.
const ESC_WAIT: Duration = Duration::from_millis(25);
/// Idle parsers kept for reuse (each ~600 KB). Plain keys are parsed and
/// the parser given back at once; a session holds one across a pause only
/// after an ESC (for ESC_WAIT), so few are in use at one moment.
const IDLE_PARSERS_MAX: usize = 16;

/// Input parsers not in use, shared by every SSH session of the process.
pub static PARSERS: ParserPool = ParserPool::new();

/// Input parsers for reuse by the next session that types.
pub struct ParserPool {
    idle: Mutex<Vec<InputParser>>,
}

impl Default for ParserPool {
    fn default() -> Self {
        Self::new()
    }
}

impl ParserPool {
    /// An empty pool.
    pub const fn new() -> Self {
        Self {
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An idle parser, or a new one.
    pub fn take(&self) -> InputParser {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        idle.unwrap_or_default()
    }

    /// Keeps `parser` for another session if it holds nothing: it is fed
    /// one `a` and must give back exactly that key. A parser still inside
    /// a bracketed paste swallows it, one stuck on bytes it cannot decode
    /// gives nothing, one after a lone ESC gives Alt-a: each is dropped,
    /// so no byte of one session ever reaches another.
    pub fn give_back(&self, mut parser: InputParser) {
        let mut events = Vec::with_capacity(1);
        parser.parse(b"a", |e| events.push(e), false);
        let clean = matches!(
            events.as_slice(),
            [InputEvent::Key(KeyEvent {
                key: KeyCode::Char('a'),
                modifiers: Modifiers::NONE,
            })]
        );
        if let (true, Ok(mut idle)) = (clean, self.idle.lock())
            && idle.len() < IDLE_PARSERS_MAX
        {
            idle.push(parser);
        }
    }

    /// Parsers kept.
    pub fn idle(&self) -> usize {
        self.idle.lock().map_or(0, |idle| idle.len())
    }
}

/// The frames' writer: each flushed frame goes to the channel's writer task.
pub struct ChannelSink {
    buf: Vec<u8>,
    tx: UnboundedSender<Vec<u8>>,
    queued: Arc<AtomicU64>,
}

impl Write for ChannelSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let frame = std::mem::take(&mut self.buf);
        self.queued.fetch_add(frame.len() as u64, Ordering::Relaxed);
        self.tx
            .send(frame)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "channel closed"))
    }
}

/// The SSH front end.
pub struct SshFront {
    terminal: Term<ChannelSink>,
    written: Arc<AtomicU64>,
    queued: Arc<AtomicU64>,
    /// A size from `window-change` not yet given to the backend.
    resized: Arc<Mutex<Option<Size>>>,
    input: Option<Receiver<RemoteInput>>,
    /// Notified when the input ends (the channel closed) or output fails.
    ended: Arc<Notify>,
    writer: JoinHandle<()>,
}

impl SshFront {
    /// Enters the alternate screen on `output` at `size`; `env` holds the
    /// client's TERM (for back-colour erase).
    pub fn new(
        size: (u16, u16),
        env: &HashMap<String, String>,
        input: Receiver<RemoteInput>,
        output: impl AsyncWrite + Unpin + Send + 'static,
    ) -> anyhow::Result<Self> {
        let (tx, rx) = unbounded_channel::<Vec<u8>>();
        let queued = Arc::new(AtomicU64::new(0));
        let ended = Arc::new(Notify::new());
        let writer = tokio::spawn(write_frames(rx, output, queued.clone(), ended.clone()));
        let mut sink = ChannelSink {
            buf: Vec::with_capacity(16 * 1024),
            tx,
            queued: queued.clone(),
        };
        enter_screen(&mut sink)?;
        let (out, written) = Counted::new(sink);
        let bce = env
            .get("TERM")
            .is_some_and(|t| term_erases_with_background(t));
        let backend = ScrollBackend::with_size(out, Size::new(size.0.max(1), size.1.max(1)))
            .synchronized()
            .erase_with_background(bce);
        Ok(Self {
            terminal: Terminal::new(backend)?,
            written,
            queued,
            resized: Arc::new(Mutex::new(None)),
            input: Some(input),
            ended,
            writer,
        })
    }

    /// Leaves the screen as it was and lets the last bytes reach the channel.
    pub async fn finish(mut self) {
        let sink = self.terminal.backend_mut();
        let _ = Write::flush(sink);
        let _ = leave_screen(sink);
        // Dropping the terminal closes the frames' queue: the writer task
        // ends once the last frame is written.
        let Self { writer, .. } = self;
        let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    }
}

async fn write_frames(
    mut rx: mpsc::UnboundedReceiver<Vec<u8>>,
    mut out: impl AsyncWrite + Unpin,
    queued: Arc<AtomicU64>,
    ended: Arc<Notify>,
) {
    while let Some(frame) = rx.recv().await {
        let ok = out.write_all(&frame).await.is_ok() && out.flush().await.is_ok();
        queued.fetch_sub(frame.len() as u64, Ordering::Relaxed);
        if !ok {
            ended.notify_one();
            return;
        }
    }
}

impl FrontEnd for SshFront {
    type Out = ChannelSink;

    fn terminal(&mut self) -> &mut Term<ChannelSink> {
        &mut self.terminal
    }

    fn written(&self) -> Arc<AtomicU64> {
        self.written.clone()
    }

    fn queued(&self) -> Option<usize> {
        Some(self.queued.load(Ordering::Relaxed) as usize)
    }

    fn start_input(&mut self, tx: UnboundedSender<Msg>) -> Input {
        let input = self.input.take();
        let resized = self.resized.clone();
        let ended = self.ended.clone();
        Input::Task(tokio::spawn(async move {
            if let Some(input) = input {
                read_channel(input, tx, resized, &PARSERS).await;
            }
            ended.notify_one();
        }))
    }

    async fn stopped(&mut self) -> Stop {
        self.ended.notified().await;
        Stop::Done
    }

    fn before_draw(&mut self) {
        let size = self.resized.lock().expect("resize lock").take();
        if let Some(size) = size {
            self.terminal.backend_mut().set_size(size);
        }
    }
}

/// Turns the channel's input into `Msg`s until it closes, with a parser
/// from `parsers` while input is coming.
async fn read_channel(
    mut input: Receiver<RemoteInput>,
    tx: UnboundedSender<Msg>,
    resized: Arc<Mutex<Option<Size>>>,
    parsers: &'static ParserPool,
) {
    // Held from the first byte of a burst until the flush after it.
    let mut parser: Option<InputParser> = None;
    loop {
        let next = if let Some(p) = parser.as_mut() {
            match tokio::time::timeout(ESC_WAIT, input.recv()).await {
                Ok(next) => next,
                Err(_) => {
                    // Nothing more came: a lone ESC is the Escape key.
                    if !send_keys(p, &[], false, &tx) {
                        return;
                    }
                    parsers.give_back(parser.take().expect("held"));
                    continue;
                }
            }
        } else {
            input.recv().await
        };
        match next {
            None => return,
            Some(RemoteInput::Resize(w, h)) => {
                let (w, h) = (w.max(1), h.max(1));
                *resized.lock().expect("resize lock") = Some(Size::new(w, h));
                if tx.send(Msg::Resize(w, h)).is_err() {
                    return;
                }
            }
            Some(RemoteInput::Bytes(bytes)) if parser.is_none() && complete(&bytes) => {
                // Nothing to wait for: parsed at once, the parser given back.
                let mut p = parsers.take();
                let ok = send_keys(&mut p, &bytes, false, &tx);
                parsers.give_back(p);
                if !ok {
                    return;
                }
            }
            Some(RemoteInput::Bytes(bytes)) => {
                let p = parser.get_or_insert_with(|| parsers.take());
                if !send_keys(p, &bytes, true, &tx) {
                    return;
                }
            }
        }
    }
}

/// Whether `bytes` parse the same now as after a pause: no ESC (every
/// sequence that may go on starts with one; the parser's other keys are
/// single bytes) and whole UTF-8 characters.
fn complete(bytes: &[u8]) -> bool {
    !bytes.contains(&0x1b) && std::str::from_utf8(bytes).is_ok()
}

/// Parses `bytes` and sends the keys; false when the app is gone.
fn send_keys(
    parser: &mut InputParser,
    bytes: &[u8],
    maybe_more: bool,
    tx: &UnboundedSender<Msg>,
) -> bool {
    let mut ok = true;
    parser.parse(
        bytes,
        |event| {
            for key in keys_of(event) {
                ok &= tx.send(Msg::Key(key)).is_ok();
            }
        },
        maybe_more,
    );
    ok
}

/// The crossterm key events (what the keymap reads) of one input event.
pub fn keys_of(event: InputEvent) -> Vec<CtEvent> {
    match event {
        InputEvent::Key(k) => key_of(&k).into_iter().collect(),
        InputEvent::Paste(text) => text
            .chars()
            .take(MAX_PASTE)
            .filter(|c| !c.is_control())
            .map(|c| CtEvent::new(CtKey::Char(c), KeyModifiers::NONE))
            .collect(),
        _ => Vec::new(),
    }
}

fn key_of(k: &KeyEvent) -> Option<CtEvent> {
    let mut mods = KeyModifiers::NONE;
    if k.modifiers.contains(Modifiers::SHIFT) {
        mods |= KeyModifiers::SHIFT;
    }
    if k.modifiers.contains(Modifiers::ALT) {
        mods |= KeyModifiers::ALT;
    }
    if k.modifiers.contains(Modifiers::CTRL) {
        mods |= KeyModifiers::CONTROL;
    }
    let code = match k.key {
        KeyCode::Char('\r' | '\n') => CtKey::Enter,
        KeyCode::Char('\t') => CtKey::Tab,
        KeyCode::Char('\u{7f}' | '\u{8}') => CtKey::Backspace,
        KeyCode::Char('\u{1b}') => CtKey::Esc,
        KeyCode::Char('\0') => {
            mods |= KeyModifiers::CONTROL;
            CtKey::Char(' ')
        }
        // Ctrl-A .. Ctrl-Z and friends arrive as their control bytes, as
        // crossterm reports them: the letter with CONTROL.
        KeyCode::Char(c) if (c as u32) < 0x20 => {
            mods |= KeyModifiers::CONTROL;
            CtKey::Char(char::from(c as u8 + 0x60))
        }
        KeyCode::Char(c) => {
            if c.is_uppercase() {
                mods |= KeyModifiers::SHIFT;
            }
            CtKey::Char(c)
        }
        KeyCode::Enter => CtKey::Enter,
        KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => CtKey::BackTab,
        KeyCode::Tab => CtKey::Tab,
        KeyCode::Backspace => CtKey::Backspace,
        KeyCode::Escape => CtKey::Esc,
        KeyCode::UpArrow | KeyCode::ApplicationUpArrow => CtKey::Up,
        KeyCode::DownArrow | KeyCode::ApplicationDownArrow => CtKey::Down,
        KeyCode::LeftArrow | KeyCode::ApplicationLeftArrow => CtKey::Left,
        KeyCode::RightArrow | KeyCode::ApplicationRightArrow => CtKey::Right,
        KeyCode::Home | KeyCode::KeyPadHome => CtKey::Home,
        KeyCode::End | KeyCode::KeyPadEnd => CtKey::End,
        KeyCode::PageUp | KeyCode::KeyPadPageUp => CtKey::PageUp,
        KeyCode::PageDown | KeyCode::KeyPadPageDown => CtKey::PageDown,
        KeyCode::Insert => CtKey::Insert,
        KeyCode::Delete => CtKey::Delete,
        KeyCode::Function(n) => CtKey::F(n),
        _ => return None,
    };
    Some(CtEvent::new(code, mods))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Vec<CtEvent> {
        let mut p = InputParser::new();
        let mut out = Vec::new();
        p.parse(bytes, |e| out.extend(keys_of(e)), false);
        out
    }

    fn key(c: CtKey, m: KeyModifiers) -> CtEvent {
        CtEvent::new(c, m)
    }

    #[test]
    fn channel_bytes_become_the_keys_crossterm_would_report() {
        let none = KeyModifiers::NONE;
        assert_eq!(parse(b"q"), [key(CtKey::Char('q'), none)]);
        assert_eq!(parse(b"G"), [key(CtKey::Char('G'), KeyModifiers::SHIFT)]);
        assert_eq!(
            parse(b"\x03"),
            [key(CtKey::Char('c'), KeyModifiers::CONTROL)]
        );
        assert_eq!(parse(b"\r"), [key(CtKey::Enter, none)]);
        assert_eq!(parse(b"\x7f"), [key(CtKey::Backspace, none)]);
        assert_eq!(
            parse(b"\x1b[A\x1bOB"),
            [key(CtKey::Up, none), key(CtKey::Down, none)]
        );
        assert_eq!(parse(b"\x1b[6~"), [key(CtKey::PageDown, none)]);
        assert_eq!(parse(b"\x1b"), [key(CtKey::Esc, none)]);
        assert_eq!(parse("é".as_bytes()), [key(CtKey::Char('é'), none)]);
    }

    #[tokio::test]
    async fn a_split_sequence_waits_and_a_lone_escape_is_the_escape_key() {
        let (in_tx, in_rx) = mpsc::channel(8);
        let (tx, mut rx) = unbounded_channel();
        let resized = Arc::new(Mutex::new(None));
        let pool: &'static ParserPool = Box::leak(Box::new(ParserPool::new()));
        let task = tokio::spawn(read_channel(in_rx, tx, resized.clone(), pool));
        in_tx
            .send(RemoteInput::Bytes(b"\x1b[".to_vec()))
            .await
            .unwrap();
        in_tx.send(RemoteInput::Bytes(b"A".to_vec())).await.unwrap();
        in_tx.send(RemoteInput::Resize(100, 30)).await.unwrap();
        in_tx
            .send(RemoteInput::Bytes(b"\x1b".to_vec()))
            .await
            .unwrap();
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(rx.recv().await.unwrap());
        }
        assert!(
            matches!(&got[0], Msg::Key(k) if k.code == CtKey::Up),
            "{got:?}"
        );
        assert!(matches!(got[1], Msg::Resize(100, 30)), "{got:?}");
        assert!(
            matches!(&got[2], Msg::Key(k) if k.code == CtKey::Esc),
            "{got:?}"
        );
        assert_eq!(*resized.lock().unwrap(), Some(Size::new(100, 30)));
        drop(in_tx);
        task.await.unwrap();
    }

    /// Feeds `bytes` as one burst and flushes it, as `read_channel` does.
    fn burst(pool: &ParserPool, bytes: &[u8]) -> Vec<CtEvent> {
        let mut p = pool.take();
        let mut out = Vec::new();
        p.parse(bytes, |e| out.extend(keys_of(e)), true);
        p.parse(&[], |e| out.extend(keys_of(e)), false);
        pool.give_back(p);
        out
    }

    #[test]
    fn a_parser_is_reused_only_when_it_holds_nothing_of_the_last_session() {
        let pool = ParserPool::new();
        let none = KeyModifiers::NONE;
        assert_eq!(
            burst(&pool, b"j\x1b[A"),
            [key(CtKey::Char('j'), none), key(CtKey::Up, none)]
        );
        assert_eq!(pool.idle(), 1, "a clean parser is kept");
        // An open paste, an undecodable byte, an ESC before one: each
        // leaves state behind, so that parser is dropped, not reused.
        for hostile in [&b"\x1b[200~secret"[..], b"\xff", b"\x1b\xff"] {
            burst(&pool, hostile);
            assert_eq!(pool.idle(), 0, "{hostile:?} left its parser in the pool");
            // The next session's keys come through as typed.
            assert_eq!(burst(&pool, b"k"), [key(CtKey::Char('k'), none)]);
            assert_eq!(pool.idle(), 1);
        }
    }

    #[test]
    fn only_input_without_escapes_or_split_characters_is_parsed_at_once() {
        assert!(complete(b"jk q"));
        assert!(complete("é\r".as_bytes()));
        assert!(!complete(b"\x1b[A"));
        assert!(!complete(b"j\x1b"));
        assert!(!complete(&"é".as_bytes()[..1]));
    }

    #[tokio::test]
    async fn an_idle_session_holds_no_parser() {
        let (in_tx, in_rx) = mpsc::channel(8);
        let (tx, mut rx) = unbounded_channel();
        let pool: &'static ParserPool = Box::leak(Box::new(ParserPool::new()));
        let task = tokio::spawn(read_channel(in_rx, tx, Arc::new(Mutex::new(None)), pool));
        in_tx.send(RemoteInput::Bytes(b"q".to_vec())).await.unwrap();
        assert!(matches!(rx.recv().await, Some(Msg::Key(k)) if k.code == CtKey::Char('q')));
        // After the pause the parser is back in the pool for another session.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while pool.idle() == 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the parser was not given back"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(in_tx);
        task.await.unwrap();
    }
}
