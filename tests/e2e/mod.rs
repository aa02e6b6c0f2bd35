//! Drives the real `leadx` binary in a pseudo-terminal: its output goes
//! through a `vt100` parser on a reader thread (and is kept raw, byte for
//! byte); keys are bytes written to the pty master.
#![allow(dead_code)]

use std::fmt;
use std::time::Duration;

mod output;
mod serve;
mod tui;

// Each test target uses only some of these (as with `dead_code` above).
#[allow(unused_imports)]
pub use output::{contains, count, cursor_row, frames, rfind, sgr_params, status_line};
#[allow(unused_imports)]
pub use serve::{Serve, free_port};
pub use tui::Tui;

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
