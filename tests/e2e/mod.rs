//! Drives the real `leadx` binary in a pseudo-terminal: its output goes
//! through a `vt100` parser on a reader thread (and is kept raw, byte for
//! byte); keys are bytes written to the pty master.
#![allow(dead_code)]

use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};

/// How long a wait lasts unless the test says otherwise: generous, the
/// machine is shared with other builds.
pub const TIMEOUT: Duration = Duration::from_secs(20);
/// How often a wait looks at the screen.
const POLL: Duration = Duration::from_millis(20);

/// What the terminal was asked to do besides drawing: titles, clipboard
/// writes, bells. A hostile lead must cause none of them.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// Window titles set (OSC 0/2).
    pub titles: Vec<Vec<u8>>,
    /// Icon names set (OSC 1).
    pub icon_names: Vec<Vec<u8>>,
    /// Clipboard writes (OSC 52).
    pub clipboard: Vec<Vec<u8>>,
    /// Audible or visual bells.
    pub bells: usize,
    /// Characters vt100 would not draw: C1 controls and U+FFFD (which
    /// vt100, unlike xterm, does not show).
    pub undrawn: Vec<char>,
}

impl vt100::Callbacks for Seen {
    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.bells += 1;
    }
    fn visual_bell(&mut self, _: &mut vt100::Screen) {
        self.bells += 1;
    }
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.titles.push(title.to_vec());
    }
    fn set_window_icon_name(&mut self, _: &mut vt100::Screen, name: &[u8]) {
        self.icon_names.push(name.to_vec());
    }
    fn unhandled_char(&mut self, _: &mut vt100::Screen, c: char) {
        self.undrawn.push(c);
    }
    fn copy_to_clipboard(&mut self, _: &mut vt100::Screen, _ty: &[u8], data: &[u8]) {
        self.clipboard.push(data.to_vec());
    }
}

/// How to start the inbox.
#[derive(Debug, Clone)]
pub struct Options {
    /// `LEADX_SERVER__URL`.
    pub url: String,
    /// `LEADX_SERVER__TOKEN`.
    pub token: String,
    /// Terminal width.
    pub cols: u16,
    /// Terminal height.
    pub rows: u16,
    /// Extra command-line arguments.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Written to `$XDG_CONFIG_HOME/leadx/config.toml` when set.
    pub config_toml: Option<String>,
    /// Run this instead of `leadx` (`ssh`, for the SSH front end).
    pub program: Option<String>,
    /// Start an interactive `bash` (prompt `shell$ `, no line editing)
    /// instead of `leadx`, with `$LEADX_BIN` naming the binary: for job
    /// control (`Ctrl-Z`, `fg`).
    pub shell: bool,
}

impl Options {
    /// The inbox of `token` against `url`, at `cols`x`rows`.
    pub fn new(url: &str, token: &str, cols: u16, rows: u16) -> Self {
        Self {
            url: url.to_owned(),
            token: token.to_owned(),
            cols,
            rows,
            args: Vec::new(),
            env: Vec::new(),
            config_toml: None,
            program: None,
            shell: false,
        }
    }

    /// Starts a job-control shell instead (see [`Options::shell`]).
    pub fn in_shell(mut self) -> Self {
        self.shell = true;
        self
    }

    /// Adds a command-line argument.
    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.to_owned());
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.to_owned(), v.to_owned()));
        self
    }

    /// Writes this config file before starting.
    pub fn config(mut self, toml: &str) -> Self {
        self.config_toml = Some(toml.to_owned());
        self
    }
}

/// A wait that ran out: what was awaited, and what the screen showed.
#[derive(Debug)]
pub struct WaitError {
    /// What the test waited for.
    pub what: String,
    /// How long it waited.
    pub waited: Duration,
    /// The screen at the end.
    pub screen: String,
    /// Whether (and how) the child had exited.
    pub exit: Option<String>,
    /// The end of the inbox's log file.
    pub log_tail: String,
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "timed out after {:?} waiting for: {}",
            self.waited, self.what
        )?;
        if let Some(e) = &self.exit {
            writeln!(f, "the child has exited: {e}")?;
        }
        writeln!(f, "screen:\n{}", frame(&self.screen))?;
        write!(f, "log (tail):\n{}", self.log_tail)
    }
}

impl std::error::Error for WaitError {}

/// The screen with a border, so trailing blanks are visible in a failure.
pub fn frame(screen: &str) -> String {
    let mut out = String::new();
    for line in screen.lines() {
        out.push('|');
        out.push_str(line);
        out.push_str("|\n");
    }
    out
}

/// The real `leadx` inbox in a pseudo-terminal.
pub struct Tui {
    parser: Arc<Mutex<vt100::Parser<Seen>>>,
    raw: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    master: Box<dyn MasterPty + Send>,
    child: Box<dyn Child + Send + Sync>,
    reader: Option<JoinHandle<()>>,
    exit: Option<ExitStatus>,
    cols: u16,
    rows: u16,
    /// HOME, XDG_CONFIG_HOME, XDG_STATE_HOME live here.
    pub dir: tempfile::TempDir,
}

impl Tui {
    /// Starts `leadx` as `token` against `url` at `cols`x`rows`.
    pub fn spawn(url: &str, token: &str, cols: u16, rows: u16) -> Tui {
        Tui::start(Options::new(url, token, cols, rows))
    }

    /// Starts `leadx` with these options.
    pub fn start(o: Options) -> Tui {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        let config = dir.path().join("config");
        let state = dir.path().join("state");
        for d in [&home, &config, &state] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        if let Some(toml) = &o.config_toml {
            std::fs::create_dir_all(config.join("leadx")).expect("mkdir");
            std::fs::write(config.join("leadx/config.toml"), toml).expect("write config");
        }

        let pair = native_pty_system()
            .openpty(PtySize {
                rows: o.rows,
                cols: o.cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let mut cmd = if o.shell {
            let mut c = CommandBuilder::new("bash");
            c.args(["--norc", "--noprofile", "--noediting", "-i"]);
            c
        } else {
            let mut c =
                CommandBuilder::new(o.program.as_deref().unwrap_or(env!("CARGO_BIN_EXE_leadx")));
            c.args(&o.args);
            c
        };
        cmd.env_clear();
        if o.shell {
            cmd.env("PS1", "shell$ ");
            cmd.env("LEADX_BIN", env!("CARGO_BIN_EXE_leadx"));
        }
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        cmd.env("TERM", "xterm-256color");
        cmd.env("HOME", &home);
        cmd.env("XDG_CONFIG_HOME", &config);
        cmd.env("XDG_STATE_HOME", &state);
        cmd.env("LEADX_SERVER__URL", &o.url);
        cmd.env("LEADX_SERVER__TOKEN", &o.token);
        cmd.env("LEADX_LOG", "leadx=debug,info");
        for (k, v) in &o.env {
            cmd.env(k, v);
        }
        cmd.cwd(dir.path());
        let child = pair.slave.spawn_command(cmd).expect("spawn leadx");
        // Only the child holds the slave now: its exit ends the reader.
        drop(pair.slave);

        let parser = Arc::new(Mutex::new(vt100::Parser::new_with_callbacks(
            o.rows,
            o.cols,
            0,
            Seen::default(),
        )));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let reader = {
            let (parser, raw) = (parser.clone(), raw.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            // Both under the raw lock (always taken first):
                            // whoever holds it sees the bytes and the screen
                            // they made, together.
                            let mut raw = raw.lock().unwrap();
                            raw.extend_from_slice(&buf[..n]);
                            parser.lock().unwrap().process(&buf[..n]);
                        }
                    }
                }
            })
        };
        Tui {
            parser,
            raw,
            writer,
            master: pair.master,
            child,
            reader: Some(reader),
            exit: None,
            cols: o.cols,
            rows: o.rows,
            dir,
        }
    }

    /// What the terminal shows now, one line per row.
    pub fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// The screen's rows, each padded to the full width.
    pub fn lines(&self) -> Vec<String> {
        let p = self.parser.lock().unwrap();
        p.screen()
            .rows(0, self.cols)
            .map(|r| format!("{r:<width$}", width = self.cols as usize))
            .collect()
    }

    /// Whether any cell of screen row `row` is drawn bold or reversed.
    pub fn row_emphasised(&self, row: u16) -> bool {
        let p = self.parser.lock().unwrap();
        let screen = p.screen();
        (0..self.cols).any(|c| {
            screen
                .cell(row, c)
                .is_some_and(|cell| cell.has_contents() && (cell.bold() || cell.inverse()))
        })
    }

    /// The contents of the last cell of screen row `row`.
    pub fn last_cell(&self, row: u16) -> String {
        let p = self.parser.lock().unwrap();
        p.screen()
            .cell(row, self.cols - 1)
            .map(|c| c.contents().to_string())
            .unwrap_or_default()
    }

    /// Whether the terminal is on its alternate screen.
    pub fn alternate_screen(&self) -> bool {
        self.parser.lock().unwrap().screen().alternate_screen()
    }

    /// Whether the cursor is hidden.
    pub fn cursor_hidden(&self) -> bool {
        self.parser.lock().unwrap().screen().hide_cursor()
    }

    /// Titles, clipboard writes and bells the output asked for.
    pub fn seen(&self) -> Seen {
        self.parser.lock().unwrap().callbacks().clone()
    }

    /// Every byte the child wrote so far.
    pub fn raw_bytes(&self) -> Vec<u8> {
        self.raw.lock().unwrap().clone()
    }

    /// How many bytes the child wrote so far.
    pub fn raw_len(&self) -> usize {
        self.raw.lock().unwrap().len()
    }

    /// Waits until the output read so far ends on a whole frame (the end
    /// of a synchronized update), so no frame is cut in two; returns it all.
    #[track_caller]
    pub fn whole_frames(&mut self) -> Vec<u8> {
        let start = Instant::now();
        loop {
            let raw = self.raw_bytes();
            if raw.ends_with(b"\x1b[?2026l") {
                return raw;
            }
            if start.elapsed() >= TIMEOUT {
                let tail =
                    String::from_utf8_lossy(&raw[raw.len().saturating_sub(200)..]).into_owned();
                panic!("the output does not end on a whole frame: {tail:?}");
            }
            std::thread::sleep(POLL);
        }
    }

    /// Types bytes, as a terminal would send them.
    pub fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.writer.write_all(bytes.as_ref()).expect("write to pty");
        self.writer.flush().expect("flush pty");
    }

    /// Resizes the terminal (the child gets SIGWINCH).
    pub fn resize(&mut self, cols: u16, rows: u16) {
        // The parser first: the child redraws as soon as it hears of it.
        self.parser
            .lock()
            .unwrap()
            .screen_mut()
            .set_size(rows, cols);
        self.cols = cols;
        self.rows = rows;
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("resize pty");
    }

    /// The screen, unless a frame is being drawn (its synchronized update
    /// has begun but not yet ended in the bytes read so far).
    pub fn settled_screen(&self) -> Option<String> {
        let raw = self.raw.lock().unwrap();
        let begin = rfind(&raw, b"\x1b[?2026h");
        let end = rfind(&raw, b"\x1b[?2026l");
        let drawing = match (begin, end) {
            (Some(b), Some(e)) => b > e,
            (Some(_), None) => true,
            (None, _) => false,
        };
        (!drawing).then(|| self.parser.lock().unwrap().screen().contents())
    }

    /// Waits until `pred` holds for the screen (looked at between frames,
    /// never half drawn); returns that screen.
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Result<String, WaitError> {
        let start = Instant::now();
        loop {
            if let Some(s) = self.settled_screen()
                && pred(&s)
            {
                return Ok(s);
            }
            if start.elapsed() >= timeout {
                let exit = self.try_exit().map(|e| format!("{e:?}"));
                return Err(WaitError {
                    what: what.to_owned(),
                    waited: start.elapsed(),
                    screen: self.screen(),
                    exit,
                    log_tail: self.log_tail(40),
                });
            }
            std::thread::sleep(POLL);
        }
    }

    /// [`Tui::wait_for`] with the default timeout, failing the test with
    /// the screen when it runs out.
    #[track_caller]
    pub fn until(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        match self.wait_for(what, TIMEOUT, pred) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    /// Waits until the screen shows `text`.
    #[track_caller]
    pub fn until_shows(&mut self, text: &str) -> String {
        self.until(&format!("the screen to show {text:?}"), |s| {
            s.contains(text)
        })
    }

    /// The row under the cursor (the one marked `▶`), if any.
    pub fn cursor_row(&self) -> Option<String> {
        cursor_row(&self.screen())
    }

    /// The status bar (second line from the bottom).
    pub fn status_bar(&self) -> String {
        status_line(&self.screen())
    }

    /// Waits until the inbox has loaded, shows `company` and is live.
    #[track_caller]
    pub fn until_live(&mut self, company: &str) -> String {
        self.until(&format!("the inbox to be live and show {company:?}"), |s| {
            s.contains(company) && status_line(s).contains("● live")
        })
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("pid")
    }

    /// The child's exit status, if it has exited.
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().expect("try_wait");
        }
        self.exit.clone()
    }

    /// Waits for the child to exit and for its last bytes to be read.
    #[track_caller]
    pub fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.try_exit() {
                break s;
            }
            if start.elapsed() >= TIMEOUT {
                panic!(
                    "leadx did not exit within {TIMEOUT:?}; screen:\n{}\nlog (tail):\n{}",
                    frame(&self.screen()),
                    self.log_tail(40)
                );
            }
            std::thread::sleep(POLL);
        };
        // The slave is closed with the child: the reader sees EOF / EIO
        // once it has read everything.
        if let Some(r) = self.reader.take() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !r.is_finished() && Instant::now() < deadline {
                std::thread::sleep(POLL);
            }
            assert!(
                r.is_finished(),
                "the pty reader did not reach the end of the output"
            );
            r.join().expect("reader thread");
        }
        status
    }

    /// Presses `q` and waits for the exit.
    #[track_caller]
    pub fn quit(&mut self) -> ExitStatus {
        self.send("q");
        self.wait_exit()
    }

    /// Local-mode flags of the pty (e.g. `ICANON`, `ECHO`), by name.
    pub fn local_flags(&self) -> Vec<String> {
        let t = self.master.get_termios().expect("termios of the pty");
        // nix's bitflags debug form: `LocalFlags(ECHOKE | ECHOE | ...)`.
        format!("{:?}", t.local_flags)
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .filter(|w| !w.is_empty() && *w != "LocalFlags")
            .map(str::to_owned)
            .collect()
    }

    /// Whether the pty is in raw mode (no line editing, no echo).
    pub fn raw_mode(&self) -> bool {
        let f = self.local_flags();
        !f.iter().any(|x| x == "ICANON") && !f.iter().any(|x| x == "ECHO")
    }

    /// Whether the pty is in its usual cooked mode (line editing and echo).
    pub fn cooked_mode(&self) -> bool {
        let f = self.local_flags();
        f.iter().any(|x| x == "ICANON") && f.iter().any(|x| x == "ECHO")
    }

    /// The inbox's log files' last `n` lines.
    pub fn log_tail(&self, n: usize) -> String {
        let mut out = String::new();
        for f in files_under(&self.dir.path().join("state")) {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!("== {}\n", f.display()));
            for l in &lines[lines.len().saturating_sub(n)..] {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        if self.try_exit().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The status bar of `screen` (second line from the bottom).
pub fn status_line(screen: &str) -> String {
    let lines: Vec<&str> = screen.lines().collect();
    // vt100 drops trailing empty rows; the hints line is never empty.
    lines
        .len()
        .checked_sub(2)
        .map(|i| lines[i].to_owned())
        .unwrap_or_default()
}

/// The line of `screen` marked with the cursor glyph `▶`.
pub fn cursor_row(screen: &str) -> Option<String> {
    screen.lines().find(|l| l.contains('▶')).map(str::to_owned)
}

/// Whether `hay` contains `needle`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// How many times `needle` occurs in `hay`.
pub fn count(hay: &[u8], needle: &[u8]) -> usize {
    if needle.is_empty() {
        return 0;
    }
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// Where `needle` last occurs in `hay`.
pub fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len())
        .rev()
        .find(|&i| &hay[i..i + needle.len()] == needle)
}

/// The parameters of every SGR sequence (`ESC [ ... m`) in `bytes`.
pub fn sgr_params(bytes: &[u8]) -> Vec<Vec<u16>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == 0x1b && bytes[i + 1] == b'[' {
            let start = i + 2;
            let mut j = start;
            while j < bytes.len()
                && (bytes[j].is_ascii_digit() || bytes[j] == b';' || bytes[j] == b':')
            {
                j += 1;
            }
            if j < bytes.len() && bytes[j] == b'm' {
                let params = std::str::from_utf8(&bytes[start..j]).unwrap_or("");
                out.push(
                    params
                        .split([';', ':'])
                        .map(|p| p.parse().unwrap_or(0))
                        .collect(),
                );
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// The frames in `bytes`: each synchronized update, `ESC [ ? 2026 h` to
/// `ESC [ ? 2026 l`, both included.
pub fn frames(bytes: &[u8]) -> Vec<&[u8]> {
    const BEGIN: &[u8] = b"\x1b[?2026h";
    const END: &[u8] = b"\x1b[?2026l";
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(b) = find_from(bytes, BEGIN, i) {
        let Some(e) = find_from(bytes, END, b + BEGIN.len()) else {
            break;
        };
        out.push(&bytes[b..e + END.len()]);
        i = e + END.len();
    }
    out
}

fn find_from(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A `leadx serve` child process on a fixed port; killed when dropped.
pub struct Serve {
    child: std::process::Child,
}

impl Serve {
    /// Starts `leadx serve` on `port` (retrying while the port is not free
    /// yet); returns it with its URL.
    pub fn start(db: &Path, port: u16) -> (Serve, String) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let mut child = Command::new(env!("CARGO_BIN_EXE_leadx"))
                .args(["serve", "--db"])
                .arg(db)
                .args([
                    "--listen",
                    &format!("127.0.0.1:{port}"),
                    "--rate-limit",
                    "0",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn leadx serve");
            let mut line = String::new();
            let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
            if let Some(url) = line.trim().strip_prefix("listening on ") {
                return (Serve { child }, url.to_owned());
            }
            let _ = child.kill();
            let _ = child.wait();
            assert!(
                Instant::now() < deadline,
                "leadx serve would not start on port {port}: {line:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn kill(mut self) {
        self.child.kill().expect("kill leadx serve");
        self.child.wait().expect("wait leadx serve");
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
