//! The configuration's sources as layers whose every value remembers
//! where it came from (built-in default, config file, environment, flag),
//! and the typed readers that name the file, key and what was expected
//! when a value is wrong. Used by `load`.

use std::collections::HashMap;
use std::path::Path;

use ::config::{FileFormat, Format, Map, Source, Value, ValueKind};

use super::*;

/// One layer of configuration values, each remembering its origin.
#[derive(Debug, Clone, Default)]
pub(super) struct Layer {
    pub(super) root: Map<String, Value>,
}

impl Layer {
    pub(super) fn set(&mut self, path: &[String], kind: ValueKind, origin: &str) {
        fn set_in(
            table: &mut Map<String, Value>,
            path: &[String],
            kind: ValueKind,
            origin: &String,
        ) {
            match path {
                [] => {}
                [last] => {
                    table.insert(last.clone(), Value::new(Some(origin), kind));
                }
                [first, rest @ ..] => {
                    let entry = table
                        .entry(first.clone())
                        .or_insert_with(|| Value::new(Some(origin), Map::<String, Value>::new()));
                    if !matches!(entry.kind, ValueKind::Table(_)) {
                        *entry = Value::new(Some(origin), Map::<String, Value>::new());
                    }
                    if let ValueKind::Table(t) = &mut entry.kind {
                        set_in(t, rest, kind, origin);
                    }
                }
            }
        }
        set_in(&mut self.root, path, kind, &origin.to_string());
    }

    pub(super) fn set_str(&mut self, path: &str, kind: impl Into<ValueKind>, origin: &str) {
        let path: Vec<String> = path.split('.').map(String::from).collect();
        self.set(&path, kind.into(), origin);
    }
}

impl Source for Layer {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<Map<String, Value>, ::config::ConfigError> {
        Ok(self.root.clone())
    }
}

pub(super) fn defaults_layer() -> Layer {
    let mut l = Layer::default();
    l.set_str("server.url", DEFAULT_SERVER_URL, DEFAULT_ORIGIN);
    l.set_str("server.allow_plain_http", false, DEFAULT_ORIGIN);
    l.set_str("theme", DEFAULT_THEME, DEFAULT_ORIGIN);
    l.set_str("readonly", false, DEFAULT_ORIGIN);
    l.set_str(
        "batch.confirm_over",
        DEFAULT_CONFIRM_OVER as i64,
        DEFAULT_ORIGIN,
    );
    l.set_str(
        "batch.undo_seconds",
        DEFAULT_UNDO_SECONDS as i64,
        DEFAULT_ORIGIN,
    );
    l.set_str("batch.undo_single", true, DEFAULT_ORIGIN);
    l
}

pub(super) fn file_layer(path: &Path) -> Result<Layer, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
        path: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    let uri = path.display().to_string();
    let root =
        <FileFormat as Format>::parse(&FileFormat::Toml, Some(&uri), &text).map_err(|e| {
            ConfigError::File {
                path: path.to_path_buf(),
                message: format!("not valid TOML: {e}"),
            }
        })?;
    Ok(Layer { root })
}

pub(super) fn env_layer(env: &HashMap<String, String>) -> Layer {
    let mut layer = Layer::default();
    let mut names: Vec<&String> = env.keys().filter(|k| k.starts_with("LEADX_")).collect();
    names.sort();
    for name in names {
        let path: Vec<String> = name["LEADX_".len()..]
            .split("__")
            .map(|s| s.to_ascii_lowercase())
            .collect();
        let Some(first) = path.first() else { continue };
        if !TOP_KEYS.contains(&first.as_str()) || path.iter().any(String::is_empty) {
            continue;
        }
        if path.len() == 1 && TABLE_KEYS.contains(&first.as_str()) {
            continue;
        }
        layer.set(
            &path,
            ValueKind::String(env[name].clone()),
            &format!("{ENV_ORIGIN}{name}"),
        );
    }
    layer
}

pub(super) fn flags_layer(o: &Overrides) -> Layer {
    let mut l = Layer::default();
    if let Some(s) = &o.server {
        l.set_str("server.url", s.as_str(), "--server");
    }
    if let Some(p) = &o.token_file {
        l.set_str("server.token_file", p.display().to_string(), "--token-file");
    }
    if let Some(t) = &o.theme {
        l.set_str("theme", t.as_str(), "--theme");
    }
    if o.readonly {
        l.set_str("readonly", true, "--readonly");
    }
    l
}

/// How much a layer weighs: defaults 0, file 1, environment 2, flags 3.
pub(super) fn rank(origin: &str) -> u8 {
    if origin == DEFAULT_ORIGIN {
        0
    } else if origin.starts_with(ENV_ORIGIN) {
        2
    } else if origin.starts_with("--") {
        3
    } else {
        1
    }
}

/// Gives every table an origin: merging creates tables without one. A table
/// takes its first child's (by key), or `fallback` when it is empty (only a
/// file can write an empty table).
pub(super) fn fill_origins(table: &mut Map<String, Value>, fallback: &str) {
    let mut keys: Vec<String> = table.keys().cloned().collect();
    keys.sort();
    for k in keys {
        let Some(v) = table.get_mut(&k) else { continue };
        let has_origin = v.origin().is_some();
        let ValueKind::Table(t) = &mut v.kind else {
            continue;
        };
        fill_origins(t, fallback);
        if has_origin {
            continue;
        }
        let mut child_keys: Vec<&String> = t.keys().collect();
        child_keys.sort();
        let o = child_keys
            .first()
            .and_then(|ck| t.get(*ck))
            .and_then(Value::origin)
            .unwrap_or(fallback)
            .to_string();
        let kind = std::mem::take(&mut v.kind);
        *v = Value::new(Some(&o), kind);
    }
}

pub(super) fn origin(v: &Value) -> String {
    v.origin().unwrap_or(DEFAULT_ORIGIN).to_string()
}

pub(super) fn from_env(v: &Value) -> bool {
    v.origin().is_some_and(|o| o.starts_with(ENV_ORIGIN))
}

pub(super) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Describes a value for an error message; secrets are described by kind only.
pub(super) fn describe(v: &Value, secret: bool) -> String {
    match &v.kind {
        ValueKind::String(s) if secret => {
            if s.is_empty() {
                "an empty string".into()
            } else {
                "a string".into()
            }
        }
        ValueKind::String(s) => format!("{s:?}"),
        _ if secret => match &v.kind {
            ValueKind::Boolean(_) => "true or false".into(),
            ValueKind::Table(_) => "a table".into(),
            ValueKind::Array(_) => "a list".into(),
            _ => "a number".into(),
        },
        ValueKind::Boolean(b) => b.to_string(),
        ValueKind::I64(i) => i.to_string(),
        ValueKind::I128(i) => i.to_string(),
        ValueKind::U64(i) => i.to_string(),
        ValueKind::U128(i) => i.to_string(),
        ValueKind::Float(f) => f.to_string(),
        ValueKind::Table(_) => "a table".into(),
        ValueKind::Array(_) => "a list".into(),
        ValueKind::Nil => "nothing".into(),
    }
}

pub(super) fn invalid(v: &Value, key: &str, expected: &str) -> ConfigError {
    ConfigError::Invalid {
        origin: origin(v),
        key: key.to_string(),
        expected: expected.to_string(),
        found: describe(v, key.ends_with(".token")),
    }
}

pub(super) fn as_table<'a>(v: &'a Value, key: &str) -> Result<&'a Map<String, Value>, ConfigError> {
    match &v.kind {
        ValueKind::Table(t) => Ok(t),
        _ => Err(invalid(v, key, "a table")),
    }
}

/// Errors on the first key (in sorted order) not in `allowed`.
pub(super) fn check_keys(
    table: &Map<String, Value>,
    prefix: &str,
    allowed: &[&str],
    errors: &mut Vec<ConfigError>,
) {
    let mut unknown: Vec<(&String, &Value)> = table
        .iter()
        .filter(|(k, _)| !allowed.contains(&k.as_str()))
        .collect();
    unknown.sort_by(|a, b| a.0.cmp(b.0));
    for (k, v) in unknown {
        errors.push(ConfigError::UnknownKey {
            origin: origin(v),
            key: join(prefix, k),
            suggestion: crate::suggest::closest(k, allowed.iter().copied())
                .map(|s| join(prefix, s)),
        });
    }
}

/// Where a value came from, for a person: `--server`, `the environment
/// variable LEADX_SERVER__URL`, `key 'server.url' in /path/config.toml`.
pub(super) fn describe_origin(origin: &str, key: &str) -> String {
    if origin.starts_with("--") || origin.starts_with(ENV_ORIGIN) {
        origin.to_string()
    } else if origin == DEFAULT_ORIGIN {
        "the default".to_string()
    } else {
        format!("key '{key}' in {origin}")
    }
}

pub(super) fn as_string(v: &Value, key: &str, expected: &str) -> Result<String, ConfigError> {
    match &v.kind {
        ValueKind::String(s) => Ok(s.clone()),
        _ => Err(invalid(v, key, expected)),
    }
}

pub(super) fn as_bool(v: &Value, key: &str) -> Result<bool, ConfigError> {
    match &v.kind {
        ValueKind::Boolean(b) => Ok(*b),
        ValueKind::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" => Ok(false),
            _ => Err(invalid(v, key, "true or false")),
        },
        _ => Err(invalid(v, key, "true or false")),
    }
}

pub(super) fn as_uint(v: &Value, key: &str) -> Result<u64, ConfigError> {
    let n = match &v.kind {
        ValueKind::I64(i) => u64::try_from(*i).ok(),
        ValueKind::U64(i) => Some(*i),
        ValueKind::I128(i) => u64::try_from(*i).ok(),
        ValueKind::U128(i) => u64::try_from(*i).ok(),
        ValueKind::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    n.ok_or_else(|| invalid(v, key, "a whole number"))
}

/// A value with the place it came from.
#[derive(Debug, Clone)]
pub(super) struct Item<T> {
    pub(super) value: T,
    pub(super) origin: String,
}

impl<T> Item<T> {
    pub(super) fn of(value: T, v: &Value) -> Item<T> {
        Item {
            value,
            origin: origin(v),
        }
    }
}

/// `[server]` or one `[profiles.NAME]` as written.
#[derive(Debug, Clone, Default)]
pub(super) struct ServerRaw {
    pub(super) url: Option<Item<Urls>>,
    pub(super) token: Option<Item<String>>,
    pub(super) token_file: Option<Item<String>>,
    pub(super) allow_plain_http: Option<Item<bool>>,
}

pub(super) fn server_raw(
    v: &Value,
    prefix: &str,
    errors: &mut Vec<ConfigError>,
) -> Result<ServerRaw, ConfigError> {
    let t = as_table(v, prefix)?;
    check_keys(t, prefix, SERVER_KEYS, errors);
    let mut raw = ServerRaw::default();
    if let Some(v) = t.get("url") {
        raw.url = Some(Item::of(url_list(v, &join(prefix, "url"))?, v));
    }
    if let Some(v) = t.get("token") {
        raw.token = Some(Item::of(
            as_string(v, &join(prefix, "token"), "a token (a string)")?,
            v,
        ));
    }
    if let Some(v) = t.get("token_file") {
        let s = as_string(
            v,
            &join(prefix, "token_file"),
            "a path to a file holding the token",
        )?;
        if s.trim().is_empty() {
            return Err(invalid(
                v,
                &join(prefix, "token_file"),
                "a path to a file holding the token",
            ));
        }
        raw.token_file = Some(Item::of(s, v));
    }
    if let Some(v) = t.get("allow_plain_http") {
        raw.allow_plain_http = Some(Item::of(as_bool(v, &join(prefix, "allow_plain_http"))?, v));
    }
    Ok(raw)
}

pub(super) fn key_list(v: &Value, key: &str) -> Result<Vec<String>, ConfigError> {
    const EXPECTED: &str =
        "a key like \"a\", \"ctrl-x\" or \"enter\", a list of them, or \"\" to unbind";
    let list: Vec<String> = match &v.kind {
        ValueKind::String(s) if s.trim().is_empty() => Vec::new(),
        ValueKind::String(s) if from_env(v) => s.split_whitespace().map(String::from).collect(),
        ValueKind::String(s) => vec![s.trim().to_string()],
        ValueKind::Array(items) => items
            .iter()
            .map(|x| match &x.kind {
                ValueKind::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                _ => Err(invalid(x, key, EXPECTED)),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(invalid(v, key, EXPECTED)),
    };
    for s in &list {
        if keys::parse(s).is_err() {
            return Err(ConfigError::Invalid {
                origin: origin(v),
                key: key.to_string(),
                expected: EXPECTED.to_string(),
                found: format!("{s:?}"),
            });
        }
    }
    Ok(list)
}
