//! [`Tui`]: the real `leadx` inbox in a pseudo-terminal, its screen read
//! through `vt100`, its raw bytes kept, and waits on what it shows.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};

use super::{Options, POLL, Seen, TIMEOUT, WaitError, cursor_row, frame, rfind, status_line};

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
