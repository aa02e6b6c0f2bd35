//! Configuration errors: each names where the bad value came from (a file,
//! an environment variable, a flag), the key, and what was expected. The
//! caller prints one and exits 2 before the terminal is touched.

use std::path::PathBuf;

/// Why the configuration could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A key holds a value of the wrong type or shape.
    #[error("{origin}: key '{key}': expected {expected}, found {found}")]
    Invalid {
        /// The file path, `environment variable LEADX_...` or `--flag`.
        origin: String,
        /// The dotted key, e.g. `batch.confirm_over`.
        key: String,
        /// What the key takes.
        expected: String,
        /// What was there (never a secret).
        found: String,
    },
    /// A key that leadx does not know.
    #[error("{origin}: unknown key '{key}'{}", suggest(suggestion))]
    UnknownKey {
        /// Where the key was written.
        origin: String,
        /// The dotted key.
        key: String,
        /// A known key close to it.
        suggestion: Option<String>,
    },
    /// `--config PATH` names no file.
    #[error("config file {} (given by --config) does not exist", .0.display())]
    MissingFile(PathBuf),
    /// The config file could not be read or is not valid TOML.
    #[error("{}: {message}", path.display())]
    File {
        /// The config file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// `--profile NAME` names no `[profiles.NAME]` table.
    #[error(
        "unknown profile '{name}' (given by --profile){}; {}",
        suggest(suggestion),
        known_profiles(known)
    )]
    UnknownProfile {
        /// The name asked for.
        name: String,
        /// The profiles the configuration defines.
        known: Vec<String>,
        /// A known profile close to it.
        suggestion: Option<String>,
    },
    /// No token in the flags, the environment or the config file.
    #[error(
        "no token for {server}: give one with --token-file PATH, with the environment variable \
         {env_prefix}__TOKEN_FILE (or {env_prefix}__TOKEN), or with {key_prefix}.token_file (or \
         {key_prefix}.token) in {config}"
    )]
    NoToken {
        /// The server URL the token is for.
        server: String,
        /// `server` or `profiles.NAME`.
        key_prefix: String,
        /// `LEADX_SERVER` or `LEADX_PROFILES__NAME`.
        env_prefix: String,
        /// The config file that would be read.
        config: String,
    },
    /// Both a token and a token file at the same level.
    #[error("{origin}: keys '{key_token}' and '{key_file}' are both set; keep only one")]
    TwoTokens {
        /// Where both were set.
        origin: String,
        /// The token key.
        key_token: String,
        /// The token file key.
        key_file: String,
    },
    /// A token file that is open to others.
    #[error("token file {} is {} (mode {mode:04o}); run: chmod 600 {}", path.display(), open_to(*mode), path.display())]
    TokenFileMode {
        /// The token file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A token file that cannot be used for another reason.
    #[error("token file {}: {message} (given by {origin})", path.display())]
    TokenFile {
        /// The token file.
        path: PathBuf,
        /// What is wrong.
        message: String,
        /// Where the path was given.
        origin: String,
    },
    /// Plain `http://` to a host that is not loopback.
    #[error(
        "{origin}: key '{key}': refusing plain http:// to {host}, which is not a loopback address (the token would cross the network unencrypted); use https://, or set {allow_key} = true"
    )]
    PlainHttp {
        /// Where the URL came from.
        origin: String,
        /// The URL key.
        key: String,
        /// The host.
        host: String,
        /// The key that would allow it.
        allow_key: String,
    },
    /// One key bound to two commands in `[keys]`.
    #[error(
        "{origin}: key '{key}': {spec} is already bound by '{other}'; a key can run only one command"
    )]
    KeyConflict {
        /// Where the second binding was written.
        origin: String,
        /// The second command's key, e.g. `keys.reject`.
        key: String,
        /// The key, in its short form.
        spec: String,
        /// The first command's key, e.g. `keys.accept`.
        other: String,
    },
    /// More than one of the above, each on its own line.
    #[error("{}", several(.0))]
    Several(Vec<ConfigError>),
    /// The theme cannot be loaded.
    #[error("{origin}: key 'theme': {message}")]
    Theme {
        /// Where the theme name came from.
        origin: String,
        /// The theme loader's message.
        message: String,
    },
}

fn several(errors: &[ConfigError]) -> String {
    let mut out = format!("{} problems in the configuration:", errors.len());
    for e in errors {
        out.push_str("\n  ");
        out.push_str(&e.to_string().replace('\n', "\n    "));
    }
    out
}

fn suggest(s: &Option<String>) -> String {
    match s {
        Some(s) => format!(" (did you mean '{s}'?)"),
        None => String::new(),
    }
}

fn known_profiles(known: &[String]) -> String {
    if known.is_empty() {
        "no profiles are defined (add a [profiles.NAME] table with url and token_file)".to_string()
    } else {
        format!("known profiles: {}", known.join(", "))
    }
}

/// Who besides the owner may read (or otherwise use) a file with `mode`.
fn open_to(mode: u32) -> &'static str {
    let (group, others) = (mode & 0o070 != 0, mode & 0o007 != 0);
    let read = mode & 0o044 != 0;
    match (read, group, others) {
        (true, true, true) => "readable by its group and others",
        (true, true, false) => "readable by its group",
        (true, _, _) => "readable by others",
        (false, true, true) => "accessible to its group and others",
        (false, true, false) => "accessible to its group",
        (false, _, _) => "accessible to others",
    }
}
