//! The inbox and CLI configuration, layered through the `config` crate:
//!
//! built-in defaults < the config file < environment `LEADX_*` < flags.
//!
//! - The file is `--config PATH` (which must exist), else
//!   `$XDG_CONFIG_HOME/leadx/config.toml`, else `~/.config/leadx/config.toml`
//!   (which may be absent). `config.example.toml` at the repository top
//!   documents every key.
//! - Environment variables are `LEADX_` and the key's path with `__` between
//!   levels, upper-cased: `LEADX_SERVER__URL`, `LEADX_SERVER__TOKEN_FILE`,
//!   `LEADX_THEME`, `LEADX_BATCH__CONFIRM_OVER`, `LEADX_KEYS__ACCEPT="a
//!   ctrl-a"` (several keys separated by spaces),
//!   `LEADX_PROFILES__WORK__URL`. Names are lower-cased on the way in.
//!   Variables whose first level is not a configuration key (`LEADX_LOG`,
//!   `LEADX_DB`, ...) belong to other parts of leadx and are left alone;
//!   under a known key, an unknown name is an error.
//! - `--profile NAME` takes the server (`url`, `token`, `token_file`,
//!   `allow_plain_http`) from `[profiles.NAME]` instead of `[server]`, as a
//!   whole: a `server.token` (from any layer) is never sent to a profile's
//!   server. `--server` and `--token-file` still override it.
//! - When both a token and a token file are given, the one from the higher
//!   layer wins; both in the same layer is an error.
//! - Relative paths in the file are relative to the file's directory; `~/`
//!   is the home directory.
//!
//! - `server.url` may name several servers, tried in order when the one in
//!   use is unreachable: a TOML array, or (from the environment or
//!   `--server`) a comma-separated list; each is checked on its own and a
//!   bad one is named by its index (`server.url[1]`). See `urls`.
//!
//! Every error names where the value came from, the key and what was
//! expected; unknown keys are errors (with "did you mean"). A token file
//! readable by group or others is refused, and so is plain `http://` to a
//! host that is not loopback unless `allow_plain_http = true`.

mod error;
mod load;
mod origins;
pub use origins::Origins;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_report;
#[cfg(test)]
mod url_tests;
mod urls;
mod values;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use ::config::{Source, ValueKind};

pub use error::ConfigError;
use load::load_inner;

use crate::{keyspec as keys, theme};
use urls::{URL_EXPECTED, Urls, check_url, url_list};
use values::*;

/// The default server.
pub const DEFAULT_SERVER_URL: &str = "http://127.0.0.1:7878";
/// The default theme.
pub const DEFAULT_THEME: &str = "default";
/// Default for `batch.confirm_over`.
pub const DEFAULT_CONFIRM_OVER: usize = 10;
/// Default for `batch.undo_seconds`.
pub const DEFAULT_UNDO_SECONDS: u64 = 5;

/// The command names `[keys]` may rebind (the inbox keymap's commands).
pub const COMMANDS: &[&str] = &[
    "up",
    "down",
    "top",
    "bottom",
    "page_up",
    "page_down",
    "next_pane",
    "prev_pane",
    "pane_incoming",
    "pane_outgoing",
    "toggle_detail",
    "accept",
    "reject",
    "forward",
    "withdraw",
    "close",
    "filter",
    "reload",
    "redraw",
    "help",
    "quit",
    "command",
    "toggle_mark",
    "mark_range",
    "mark_all",
    "invert_marks",
    "undo",
    "sort_next",
    "sort_reverse",
    "next_view",
    "suspend",
    "open_site",
    "open_mail",
    "edit_note",
    // issue 9, item 6 (copy)
    "yank",
    "yank_menu",
    // issue 9, reading at 80x24
    "messages",
    "detail_down",
    "detail_up",
    "detail_full",
    // issue 9, item 21
    "new_lead",
];

const TOP_KEYS: &[&str] = &[
    "server", "profiles", "theme", "readonly", "layout", "log_file", "keys", "views", "batch",
    "ui", "notify",
];
const SERVER_KEYS: &[&str] = &["url", "token", "token_file", "allow_plain_http"];
const BATCH_KEYS: &[&str] = &["confirm_over", "undo_seconds", "undo_single"];
const UI_KEYS: &[&str] = &["max_fps", "link_baud", "colors", "mouse"];
const NOTIFY_KEYS: &[&str] = &["title", "alert", "query"];
/// The largest `ui.max_fps` (a frame every 10 ms is the runtime's floor).
pub const MAX_FPS_LIMIT: u64 = 100;
const VIEW_KEYS: &[&str] = &["query"];
/// Top-level keys whose value is a table (an env var cannot set them whole).
const TABLE_KEYS: &[&str] = &[
    "server", "profiles", "keys", "views", "batch", "ui", "notify",
];

const DEFAULT_ORIGIN: &str = "built-in default";
const ENV_ORIGIN: &str = "environment variable ";

/// What the command line says, above every other layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--server URL`.
    pub server: Option<String>,
    /// `--token-file PATH`.
    pub token_file: Option<PathBuf>,
    /// `--config PATH` (must exist).
    pub config: Option<PathBuf>,
    /// `--profile NAME`.
    pub profile: Option<String>,
    /// `--theme NAME`.
    pub theme: Option<String>,
    /// `--readonly` (false means "not given", not "read-write").
    pub readonly: bool,
}

/// `ui.colors`: the most colours the inbox uses (fewer than the terminal
/// shows make every colour change shorter on a slow link: `38;5;n` is 8–10
/// bytes, `38;2;r;g;b` up to 19).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Colors {
    /// As many as the terminal says it shows (`COLORTERM`, `TERM`).
    #[default]
    Auto,
    /// At most 24-bit colour (the same as `auto` on such a terminal).
    TrueColor,
    /// At most the xterm 256-colour palette (each colour its nearest).
    C256,
    /// At most the 16 ANSI colours.
    C16,
    /// No colour (attributes only).
    None,
}

impl Colors {
    /// The config spellings.
    pub const NAMES: [&str; 5] = ["auto", "truecolor", "256", "16", "none"];

    /// Parses a config value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(Self::Auto),
            "truecolor" => Some(Self::TrueColor),
            "256" => Some(Self::C256),
            "16" => Some(Self::C16),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

/// `layout`: how the two panes share a large screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// Side by side from 160 columns, else stacked from 40 rows, else one.
    #[default]
    Auto,
    /// Side by side from 160 columns, else one pane at a time.
    SideBySide,
    /// Stacked from 40 rows, else one pane at a time: every table row is
    /// the full width, so a new lead in a short list is moved in by the
    /// terminal's own scrolling (the fewest bytes on a slow link).
    Stacked,
    /// One pane at a time (`Tab`, `1`, `2`).
    Single,
}

impl Layout {
    /// The config spellings.
    pub const NAMES: [&str; 4] = ["auto", "side-by-side", "stacked", "single"];

    /// Parses a config value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(Self::Auto),
            "side-by-side" => Some(Self::SideBySide),
            "stacked" => Some(Self::Stacked),
            "single" => Some(Self::Single),
            _ => None,
        }
    }
}

/// `[batch]`: multi-select actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSettings {
    /// Ask for confirmation when a batch acts on more referrals than this.
    pub confirm_over: usize,
    /// Seconds during which a confirmed batch can be undone (0: no undo).
    pub undo_seconds: u64,
    /// Whether a single action on the cursor row (`a`, `w`, `r`, `f`) gets
    /// the same undo window as a batch.
    pub undo_single: bool,
}

impl Default for BatchSettings {
    fn default() -> Self {
        BatchSettings {
            confirm_over: DEFAULT_CONFIRM_OVER,
            undo_seconds: DEFAULT_UNDO_SECONDS,
            undo_single: true,
        }
    }
}

/// `notify.alert`: how a new incoming lead is announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Alert {
    /// Nothing.
    Off,
    /// The terminal bell (BEL).
    #[default]
    Bell,
    /// A desktop notification through OSC 9 (iTerm2, kitty, WezTerm, foot).
    Osc9,
    /// A desktop notification through OSC 777 (rxvt-unicode, VTE, Ghostty).
    Osc777,
}

impl Alert {
    /// Parses a config value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "off" => Some(Self::Off),
            "bell" => Some(Self::Bell),
            "osc9" => Some(Self::Osc9),
            "osc777" => Some(Self::Osc777),
            _ => None,
        }
    }
}

/// `[notify]`: the terminal title and alerts for new incoming leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifySettings {
    /// Show the pending count in the terminal title (OSC 2).
    pub title: bool,
    /// How a new incoming lead is announced.
    pub alert: Alert,
    /// Only leads matching this query are announced (`None`: every one).
    pub query: Option<crate::query::Query>,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            title: true,
            alert: Alert::Bell,
            query: None,
        }
    }
}

/// The resolved configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The server's base URL (checked: http(s), and https unless loopback or
    /// allowed); with several, the first.
    pub server_url: String,
    /// Where the server URL came from, for a person: `--server`, `environment
    /// variable LEADX_SERVER__URL`, `key 'server.url' in PATH`, `the default`.
    pub server_url_origin: String,
    /// The other servers when `server.url` names several (each checked as
    /// `server_url` is), in order: the client moves to the next one when
    /// the one it uses is unreachable.
    pub fallback_urls: Vec<String>,
    /// The bearer token (trimmed; empty only from [`load_for_demo`]).
    pub token: String,
    /// Where the token came from, for a person (empty with no token).
    pub token_origin: String,
    /// Whether plain http to a non-loopback host was allowed.
    pub allow_plain_http: bool,
    /// The theme name.
    pub theme: String,
    /// Why the theme cannot be loaded, if it cannot: an error for the
    /// inbox ([`fn@load`] refuses it), a warning for headless commands
    /// ([`load_for_scripts`]), which draw nothing.
    pub theme_problem: Option<ConfigError>,
    /// Hide and refuse every action.
    pub readonly: bool,
    /// How the panes share a large screen.
    pub layout: Layout,
    /// Where logs go.
    pub log_file: PathBuf,
    /// Key bindings the user configured: command → key strings (each parses
    /// with [`keys::parse`]); an empty list unbinds the command. Commands not
    /// listed keep their default keys.
    pub keys: BTreeMap<String, Vec<String>>,
    /// Saved views: name → query, in the config file's order.
    pub views: Vec<(String, String)>,
    /// `[batch]`.
    pub batch: BatchSettings,
    /// `ui.max_fps`: at most this many frames a second (`None`: only the
    /// runtime's own pacing, at most one frame per 10 ms and none while the
    /// terminal's output queue is still draining).
    pub max_fps: Option<u32>,
    /// `ui.link_baud`: the link's speed in bits a second, when slow and
    /// known (frames are then spaced by the time the link takes to carry
    /// them).
    pub link_baud: Option<u32>,
    /// `ui.colors`: the most colours to use.
    pub colors: Colors,
    /// `ui.mouse`: click, wheel and pane titles (Shift-drag still selects text).
    pub mouse: bool,
    /// `[notify]`.
    pub notify: NotifySettings,
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
}

impl Default for Settings {
    /// The built-in defaults, with no token and no config file.
    fn default() -> Self {
        Settings {
            server_url: DEFAULT_SERVER_URL.to_string(),
            server_url_origin: DEFAULT_ORIGIN.to_string(),
            fallback_urls: Vec::new(),
            token: String::new(),
            token_origin: String::new(),
            allow_plain_http: false,
            theme: DEFAULT_THEME.to_string(),
            theme_problem: None,
            readonly: false,
            layout: Layout::Auto,
            log_file: default_log_file(&HashMap::new()),
            keys: BTreeMap::new(),
            views: Vec::new(),
            batch: BatchSettings::default(),
            max_fps: None,
            link_baud: None,
            colors: Colors::Auto,
            mouse: true,
            notify: NotifySettings::default(),
            config_file: None,
        }
    }
}

impl Settings {
    /// Every server, in the order they are tried: `server_url` first.
    pub fn server_urls(&self) -> Vec<String> {
        std::iter::once(self.server_url.clone())
            .chain(self.fallback_urls.iter().cloned())
            .collect()
    }
}

/// Loads the configuration from the process environment and the files it
/// points at, for a command that talks to a server.
pub fn load(overrides: &Overrides) -> Result<Settings, ConfigError> {
    load_from(overrides, &process_env())
}

/// As [`fn@load`], with the environment given (tests pass their own, so the
/// process environment is never mutated). `HOME`, `XDG_CONFIG_HOME` and
/// `XDG_STATE_HOME` are read from it too.
pub fn load_from(
    overrides: &Overrides,
    env: &HashMap<String, String>,
) -> Result<Settings, ConfigError> {
    strict(load_inner(overrides, env, true))
}

/// As [`fn@load`], for headless commands: a theme that cannot be loaded is
/// left in [`Settings::theme_problem`] (to be shown as a warning) instead
/// of refusing the configuration, since they draw nothing.
pub fn load_for_scripts(overrides: &Overrides) -> Result<Settings, ConfigError> {
    load_for_scripts_from(overrides, &process_env())
}

/// As [`load_for_scripts`], with the environment given.
pub fn load_for_scripts_from(
    overrides: &Overrides,
    env: &HashMap<String, String>,
) -> Result<Settings, ConfigError> {
    load_inner(overrides, env, true)
}

/// A configuration whose theme cannot be loaded is refused.
fn strict(loaded: Result<Settings, ConfigError>) -> Result<Settings, ConfigError> {
    match loaded {
        Ok(Settings {
            theme_problem: Some(problem),
            ..
        }) => Err(problem),
        other => other,
    }
}

/// As [`fn@load`], for `leadx demo`, which runs its own server: everything is
/// read and checked except the server URL and token (`token` is empty).
pub fn load_for_demo(overrides: &Overrides) -> Result<Settings, ConfigError> {
    load_for_demo_from(overrides, &process_env())
}

/// As [`load_for_demo`], with the environment given.
pub fn load_for_demo_from(
    overrides: &Overrides,
    env: &HashMap<String, String>,
) -> Result<Settings, ConfigError> {
    strict(load_inner(overrides, env, false))
}

/// The process environment (variables that are not valid UTF-8 are skipped).
pub fn process_env() -> HashMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// An absolute path from the environment (XDG says to ignore relative ones).
fn env_dir(env: &HashMap<String, String>, name: &str) -> Option<PathBuf> {
    let v = env.get(name)?;
    let p = PathBuf::from(v);
    (!v.is_empty() && p.is_absolute()).then_some(p)
}

/// `$XDG_CONFIG_HOME/leadx`, else `~/.config/leadx`.
pub fn config_dir(env: &HashMap<String, String>) -> Option<PathBuf> {
    env_dir(env, "XDG_CONFIG_HOME")
        .or_else(|| env_dir(env, "HOME").map(|h| h.join(".config")))
        .map(|d| d.join("leadx"))
}

/// The config file read when `--config` is not given.
pub fn default_config_path(env: &HashMap<String, String>) -> Option<PathBuf> {
    config_dir(env).map(|d| d.join("config.toml"))
}

/// Where user themes live: `$XDG_CONFIG_HOME/leadx/themes`.
pub fn user_theme_dir(env: &HashMap<String, String>) -> Option<PathBuf> {
    config_dir(env).map(|d| d.join("themes"))
}

/// `$XDG_STATE_HOME/leadx/leadx.log`, else `~/.local/state/leadx/leadx.log`
/// (else under the temporary directory).
pub fn default_log_file(env: &HashMap<String, String>) -> PathBuf {
    env_dir(env, "XDG_STATE_HOME")
        .or_else(|| env_dir(env, "HOME").map(|h| h.join(".local").join("state")))
        .unwrap_or_else(std::env::temp_dir)
        .join("leadx")
        .join("leadx.log")
}

/// `~` and `~/x` → the home folder (and x in it); anything else as is.
/// The config's paths and the inbox's `:export` path go through it.
pub fn expand_home(s: &str, home: Option<&Path>) -> PathBuf {
    if let Some(home) = home {
        if s == "~" {
            return home.to_path_buf();
        }
        if let Some(rest) = s.strip_prefix("~/") {
            return home.join(rest);
        }
    }
    PathBuf::from(s)
}

/// [`expand_home`] with the process's `$HOME` (an absolute one only).
pub fn expand_home_env(s: &str) -> PathBuf {
    let env: HashMap<String, String> = std::env::var("HOME")
        .map(|h| HashMap::from([("HOME".to_string(), h)]))
        .unwrap_or_default();
    expand_home(s, env_dir(&env, "HOME").as_deref())
}

/// `~/x` → home/x; a relative path from a file → relative to that file.
fn expand_path(s: &str, origin: &str, home: Option<&Path>, config_file: Option<&Path>) -> PathBuf {
    let s = s.trim();
    if (s == "~" || s.starts_with("~/")) && home.is_some() {
        return expand_home(s, home);
    }
    let p = PathBuf::from(s);
    if p.is_relative()
        && rank(origin) == 1
        && let Some(dir) = config_file.and_then(Path::parent)
    {
        return dir.join(p);
    }
    p
}

/// A token must be one visible-ASCII word to go in an `Authorization` header.
fn token_ok(t: &str) -> bool {
    !t.is_empty() && t.bytes().all(|b| (0x21..0x7f).contains(&b))
}

fn read_token_file(path: &Path, origin: &str) -> Result<String, ConfigError> {
    let fail = |message: String| ConfigError::TokenFile {
        path: path.to_path_buf(),
        message,
        origin: origin.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    if !meta.is_file() {
        return Err(fail("not a regular file".into()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(ConfigError::TokenFileMode {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(fail("is empty".into()));
    }
    if !token_ok(token) {
        return Err(fail(
            "holds more than one word or characters that cannot go in an HTTP header".into(),
        ));
    }
    Ok(token.to_string())
}
