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
                read_channel(input, tx, resized).await;
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

/// Turns the channel's input into `Msg`s until it closes.
async fn read_channel(
    mut input: Receiver<RemoteInput>,
    tx: UnboundedSender<Msg>,
    resized: Arc<Mutex<Option<Size>>>,
) {
    let mut parser = InputParser::new();
    let mut partial = false;
    loop {
        let next = if partial {
            match tokio::time::timeout(ESC_WAIT, input.recv()).await {
                Ok(next) => next,
                Err(_) => {
                    // Nothing more came: a lone ESC is the Escape key.
                    partial = false;
                    if !send_keys(&mut parser, &[], false, &tx) {
                        return;
                    }
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
            Some(RemoteInput::Bytes(bytes)) => {
                partial = true;
                if !send_keys(&mut parser, &bytes, true, &tx) {
                    return;
                }
            }
        }
    }
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
        let task = tokio::spawn(read_channel(in_rx, tx, resized.clone()));
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
}
