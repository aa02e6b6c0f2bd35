//! Loading: the layers merged, each section read and checked, every
//! problem kept (one error, or [`ConfigError::Several`]), then which
//! server and token, with where each came from.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use ::config::{Map, Value};

use super::*;

/// Takes a section's value, or keeps its error and goes on with `default`:
/// every problem of a configuration is reported at once.
macro_rules! keep {
    ($errors:ident, $e:expr, $default:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => {
                $errors.push(e);
                $default
            }
        }
    };
}

pub(super) fn load_inner(
    o: &Overrides,
    env: &HashMap<String, String>,
    need_server: bool,
) -> Result<Settings, ConfigError> {
    let mut errors: Vec<ConfigError> = Vec::new();
    let home = env_dir(env, "HOME");
    let config_file = match &o.config {
        Some(p) if !p.exists() => return Err(ConfigError::MissingFile(p.clone())),
        Some(p) => Some(p.clone()),
        None => default_config_path(env).filter(|p| p.exists()),
    };
    let mut builder = ::config::Config::builder().add_source(defaults_layer());
    if let Some(p) = &config_file {
        builder = builder.add_source(file_layer(p)?);
    }
    let built = builder
        .add_source(env_layer(env))
        .add_source(flags_layer(o))
        .build()
        .map_err(|e| ConfigError::File {
            path: config_file.clone().unwrap_or_default(),
            message: e.to_string(),
        })?;
    let root = built.collect().map_err(|e| ConfigError::File {
        path: config_file.clone().unwrap_or_default(),
        message: e.to_string(),
    })?;
    let mut root = root;
    let blame = config_file
        .as_ref()
        .map_or_else(|| "configuration".to_string(), |p| p.display().to_string());
    fill_origins(&mut root, &blame);
    check_keys(&root, "", TOP_KEYS, &mut errors);

    // [server] and [profiles.*], checked in full whichever is used.
    let before_servers = errors.len();
    let server = match root.get("server") {
        Some(v) => keep!(
            errors,
            server_raw(v, "server", &mut errors),
            ServerRaw::default()
        ),
        None => ServerRaw::default(),
    };
    let mut profiles: BTreeMap<String, ServerRaw> = BTreeMap::new();
    if let Some(v) = root.get("profiles") {
        let empty = Map::new();
        for (name, pv) in keep!(errors, as_table(v, "profiles"), &empty) {
            let raw = server_raw(pv, &format!("profiles.{name}"), &mut errors);
            profiles.insert(name.clone(), keep!(errors, raw, ServerRaw::default()));
        }
    }

    let default_theme = || Item {
        value: DEFAULT_THEME.to_string(),
        origin: DEFAULT_ORIGIN.to_string(),
    };
    let theme_item = match root.get("theme") {
        Some(v) => keep!(
            errors,
            as_string(v, "theme", "a theme name (a string)").map(|t| Item::of(t, v)),
            default_theme()
        ),
        None => default_theme(),
    };
    let theme_dir = user_theme_dir(env);
    let theme_problem = theme::load(
        &theme_item.value,
        theme_dir.as_deref(),
        theme::ColorDepth::TrueColor,
    )
    .err()
    .map(|message| ConfigError::Theme {
        origin: theme_item.origin.clone(),
        message,
    });

    let readonly = match root.get("readonly") {
        Some(v) => keep!(errors, as_bool(v, "readonly"), false),
        None => false,
    };
    let layout = match root.get("layout") {
        Some(v) => {
            let expected = "one of \"auto\", \"side-by-side\", \"stacked\", \"single\"";
            let parsed = as_string(v, "layout", expected).and_then(|s| {
                Layout::parse(s.trim()).ok_or_else(|| invalid(v, "layout", expected))
            });
            keep!(errors, parsed, Layout::Auto)
        }
        None => Layout::Auto,
    };
    let log_file = match root.get("log_file") {
        Some(v) => {
            let path = as_string(v, "log_file", "a path").and_then(|s| {
                if s.trim().is_empty() {
                    Err(invalid(v, "log_file", "a path"))
                } else {
                    Ok(expand_path(
                        &s,
                        &origin(v),
                        home.as_deref(),
                        config_file.as_deref(),
                    ))
                }
            });
            keep!(errors, path, default_log_file(env))
        }
        None => default_log_file(env),
    };

    let keymap = keep!(errors, keys_section(&root), BTreeMap::new());
    let views = keep!(errors, views_section(&root, &mut errors), Vec::new());
    let batch = keep!(
        errors,
        batch_section(&root, &mut errors),
        BatchSettings::default()
    );

    let (max_fps, link_baud, colors, mouse) = keep!(
        errors,
        ui_section(&root, &mut errors),
        (None, None, Colors::Auto, true)
    );
    let notify = keep!(
        errors,
        notify_section(&root, &mut errors),
        NotifySettings::default()
    );

    // Which server: [server], or the profile as a whole (flags still win).
    let resolved = resolve_server(
        o,
        env,
        need_server,
        server,
        &profiles,
        home.as_deref(),
        config_file.as_deref(),
    );
    // A broken [server] or profile has been reported; what it would have
    // said would only repeat it. A missing URL or token after another
    // error (a misspelt `token_flie`) is most likely that error again.
    let servers_ok = errors[before_servers..]
        .iter()
        .all(|e| matches!(e, ConfigError::UnknownKey { .. }));
    let missing = |e: &ConfigError| {
        matches!(e, ConfigError::NoToken { .. })
            || matches!(e, ConfigError::Invalid { found, .. } if found == "nothing")
    };
    let resolved = match resolved {
        Err(_) if !servers_ok => ResolvedServer::default(),
        Err(e) if missing(&e) && !errors.is_empty() => ResolvedServer::default(),
        resolved => keep!(errors, resolved, ResolvedServer::default()),
    };
    if errors.len() > 1 {
        return Err(ConfigError::Several(errors));
    }
    if let Some(e) = errors.pop() {
        return Err(e);
    }
    Ok(Settings {
        server_url: resolved.url,
        server_url_origin: resolved.url_origin,
        fallback_urls: resolved.fallback_urls,
        token: resolved.token,
        token_origin: resolved.token_origin,
        allow_plain_http: resolved.allow_plain_http,
        theme: theme_item.value,
        theme_problem,
        readonly,
        layout,
        log_file,
        keys: keymap,
        views,
        batch,
        max_fps,
        link_baud,
        colors,
        mouse,
        notify,
        config_file,
    })
}

/// `[ui]`: `max_fps` and `link_baud`, each within its range, `colors` and
/// `mouse`.
fn ui_section(
    root: &Map<String, Value>,
    errors: &mut Vec<ConfigError>,
) -> Result<(Option<u32>, Option<u32>, Colors, bool), ConfigError> {
    let (mut max_fps, mut link_baud, mut colors, mut mouse) = (None, None, Colors::Auto, true);
    let Some(v) = root.get("ui") else {
        return Ok((max_fps, link_baud, colors, mouse));
    };
    let t = as_table(v, "ui")?;
    check_keys(t, "ui", UI_KEYS, errors);
    if let Some(n) = t.get("max_fps") {
        let expected = "a whole number of frames a second, 1 to 100";
        match as_uint(n, "ui.max_fps") {
            Ok(fps) if (1..=MAX_FPS_LIMIT).contains(&fps) => max_fps = Some(fps as u32),
            _ => errors.push(invalid(n, "ui.max_fps", expected)),
        }
    }
    if let Some(n) = t.get("link_baud") {
        let expected = "a whole number of bits a second, 300 to 100000000";
        match as_uint(n, "ui.link_baud") {
            Ok(baud) if (300..=100_000_000).contains(&baud) => link_baud = Some(baud as u32),
            _ => errors.push(invalid(n, "ui.link_baud", expected)),
        }
    }
    if let Some(c) = t.get("colors") {
        let expected = "one of \"auto\", \"truecolor\", \"256\", \"16\", \"none\"";
        // `colors = 256` reads as well as `colors = "256"`.
        let text = match &c.kind {
            ValueKind::String(s) => Some(s.trim().to_string()),
            ValueKind::I64(_) | ValueKind::U64(_) => Some(describe(c, false)),
            _ => None,
        };
        match text.as_deref().and_then(Colors::parse) {
            Some(parsed) => colors = parsed,
            None => errors.push(invalid(c, "ui.colors", expected)),
        }
    }
    if let Some(b) = t.get("mouse") {
        match as_bool(b, "ui.mouse") {
            Ok(on) => mouse = on,
            Err(e) => errors.push(e),
        }
    }
    Ok((max_fps, link_baud, colors, mouse))
}

/// `[notify]`: `title`, `alert` and `query` (parsed here, so that a bad
/// query is named with its file and key before the inbox starts).
fn notify_section(
    root: &Map<String, Value>,
    errors: &mut Vec<ConfigError>,
) -> Result<NotifySettings, ConfigError> {
    let mut notify = NotifySettings::default();
    let Some(v) = root.get("notify") else {
        return Ok(notify);
    };
    let t = as_table(v, "notify")?;
    check_keys(t, "notify", NOTIFY_KEYS, errors);
    if let Some(b) = t.get("title") {
        match as_bool(b, "notify.title") {
            Ok(on) => notify.title = on,
            Err(e) => errors.push(e),
        }
    }
    if let Some(a) = t.get("alert") {
        let expected = "one of \"off\", \"bell\", \"osc9\", \"osc777\"";
        match as_string(a, "notify.alert", expected).and_then(|s| {
            Alert::parse(s.trim()).ok_or_else(|| invalid(a, "notify.alert", expected))
        }) {
            Ok(alert) => notify.alert = alert,
            Err(e) => errors.push(e),
        }
    }
    if let Some(q) = t.get("query") {
        let expected = "a query (a string)";
        match as_string(q, "notify.query", expected) {
            Ok(text) if text.trim().is_empty() => {}
            Ok(text) => match crate::query::Query::parse(&text) {
                Ok(query) => notify.query = Some(query),
                Err(e) => errors.push(invalid(q, "notify.query", &format!("a query ({e})"))),
            },
            Err(e) => errors.push(e),
        }
    }
    Ok(notify)
}

/// `[keys]`: command → key strings, each key bound once.
fn keys_section(root: &Map<String, Value>) -> Result<BTreeMap<String, Vec<String>>, ConfigError> {
    let mut keymap = BTreeMap::new();
    if let Some(v) = root.get("keys") {
        let t = as_table(v, "keys")?;
        let mut unknown = Vec::new();
        check_keys(t, "keys", COMMANDS, &mut unknown);
        if let Some(e) = unknown.into_iter().next() {
            return Err(e);
        }
        let mut sorted: Vec<(&String, &Value)> = t.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let mut bound: HashMap<keys::KeySpec, String> = HashMap::new();
        for (cmd, kv) in sorted {
            let key = format!("keys.{cmd}");
            let list = key_list(kv, &key)?;
            for k in &list {
                let spec = keys::parse(k).map_err(|_| invalid(kv, &key, "a key"))?;
                if let Some(other) = bound.insert(spec, cmd.clone()) {
                    return Err(ConfigError::KeyConflict {
                        origin: origin(kv),
                        key,
                        spec: spec.to_string(),
                        other: format!("keys.{other}"),
                    });
                }
            }
            keymap.insert(cmd.clone(), list);
        }
    }
    Ok(keymap)
}

/// `[views]`: name → query, in the file's order (the tabs' order; the
/// config crate's `preserve_order` keeps it).
fn views_section(
    root: &Map<String, Value>,
    errors: &mut Vec<ConfigError>,
) -> Result<Vec<(String, String)>, ConfigError> {
    let mut views: Vec<(String, String)> = Vec::new();
    if let Some(v) = root.get("views") {
        for (name, vv) in as_table(v, "views")? {
            let prefix = format!("views.{name}");
            let t = as_table(vv, &prefix)?;
            check_keys(t, &prefix, VIEW_KEYS, errors);
            let key = format!("{prefix}.query");
            let q = match t.get("query") {
                Some(q) => as_string(q, &key, "a query (a string)")?,
                None => {
                    return Err(ConfigError::Invalid {
                        origin: origin(vv),
                        key,
                        expected: "a query (a string)".into(),
                        found: "nothing".into(),
                    });
                }
            };
            views.retain(|(n, _)| n != name);
            views.push((name.clone(), q));
        }
    }
    Ok(views)
}

/// `[batch]`.
fn batch_section(
    root: &Map<String, Value>,
    errors: &mut Vec<ConfigError>,
) -> Result<BatchSettings, ConfigError> {
    let mut batch = BatchSettings::default();
    if let Some(v) = root.get("batch") {
        let t = as_table(v, "batch")?;
        check_keys(t, "batch", BATCH_KEYS, errors);
        if let Some(n) = t.get("confirm_over") {
            batch.confirm_over = usize::try_from(as_uint(n, "batch.confirm_over")?)
                .map_err(|_| invalid(n, "batch.confirm_over", "a whole number"))?;
        }
        if let Some(n) = t.get("undo_seconds") {
            batch.undo_seconds = as_uint(n, "batch.undo_seconds")?;
        }
        if let Some(v) = t.get("undo_single") {
            batch.undo_single = as_bool(v, "batch.undo_single")?;
        }
    }
    Ok(batch)
}

/// The server to talk to and the token, with where each came from.
#[derive(Debug, Default)]
struct ResolvedServer {
    url: String,
    fallback_urls: Vec<String>,
    url_origin: String,
    token: String,
    token_origin: String,
    allow_plain_http: bool,
}

fn resolve_server(
    o: &Overrides,
    env: &HashMap<String, String>,
    need_server: bool,
    server: ServerRaw,
    profiles: &BTreeMap<String, ServerRaw>,
    home: Option<&Path>,
    config_file: Option<&Path>,
) -> Result<ResolvedServer, ConfigError> {
    // Which server: [server], or the profile as a whole (flags still win).
    let (raw, prefix, env_prefix) = match &o.profile {
        None => (server, "server".to_string(), "LEADX_SERVER".to_string()),
        Some(name) => {
            let Some(p) = profiles.get(name) else {
                let known: Vec<String> = profiles.keys().cloned().collect();
                return Err(ConfigError::UnknownProfile {
                    name: name.clone(),
                    suggestion: crate::suggest::closest(name, known.iter().map(String::as_str))
                        .map(String::from),
                    known,
                });
            };
            let mut raw = p.clone();
            if let Some(url) = server.url.filter(|i| rank(&i.origin) == 3) {
                raw.url = Some(url);
            }
            if let Some(tf) = server.token_file.filter(|i| rank(&i.origin) == 3) {
                raw.token_file = Some(tf);
            }
            (
                raw,
                format!("profiles.{name}"),
                format!("LEADX_PROFILES__{}", name.to_ascii_uppercase()),
            )
        }
    };
    let allow_plain_http = raw.allow_plain_http.as_ref().is_some_and(|i| i.value);
    let config_shown = config_file
        .map(Path::to_path_buf)
        .or_else(|| default_config_path(env))
        .map_or_else(
            || "the config file".to_string(),
            |p| p.display().to_string(),
        );

    if !need_server {
        let (url, url_origin) = raw.url.map_or_else(
            || (DEFAULT_SERVER_URL.to_string(), DEFAULT_ORIGIN.to_string()),
            |i| {
                let origin = i.origin;
                i.value.items.into_iter().next().map_or_else(
                    || (DEFAULT_SERVER_URL.to_string(), origin),
                    |u| (u.value, u.origin),
                )
            },
        );
        return Ok(ResolvedServer {
            url,
            url_origin,
            allow_plain_http,
            ..ResolvedServer::default()
        });
    }
    let url_item = raw.url.clone().ok_or_else(|| ConfigError::Invalid {
        origin: config_shown.clone(),
        key: format!("{prefix}.url"),
        expected: URL_EXPECTED.into(),
        found: "nothing".into(),
    })?;
    let urls = &url_item.value;
    let mut checked = urls
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let key = if urls.listed {
                format!("{prefix}.url[{i}]")
            } else {
                format!("{prefix}.url")
            };
            check_url(
                item,
                &key,
                allow_plain_http,
                &format!("{prefix}.allow_plain_http"),
            )
        })
        .collect::<Result<Vec<String>, _>>()?;
    let url = checked.remove(0);
    let (token, token_origin) =
        resolve_token(&raw, &prefix, home, config_file)?.ok_or_else(|| ConfigError::NoToken {
            server: url.clone(),
            key_prefix: prefix.clone(),
            env_prefix: env_prefix.clone(),
            config: config_shown.clone(),
        })?;
    Ok(ResolvedServer {
        url,
        fallback_urls: checked,
        url_origin: describe_origin(&url_item.origin, &format!("{prefix}.url")),
        token,
        token_origin,
        allow_plain_http,
    })
}

/// The token and where it came from (`--token-file PATH`, an environment
/// variable, the config file's key), if one is configured.
fn resolve_token(
    raw: &ServerRaw,
    prefix: &str,
    home: Option<&Path>,
    config_file: Option<&Path>,
) -> Result<Option<(String, String)>, ConfigError> {
    let key_token = format!("{prefix}.token");
    let key_file = format!("{prefix}.token_file");
    let use_inline = match (&raw.token, &raw.token_file) {
        (None, None) => return Ok(None),
        (Some(_), None) => true,
        (None, Some(_)) => false,
        (Some(t), Some(f)) => match rank(&t.origin).cmp(&rank(&f.origin)) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => {
                return Err(ConfigError::TwoTokens {
                    origin: t.origin.clone(),
                    key_token,
                    key_file,
                });
            }
        },
    };
    if use_inline {
        let Some(t) = &raw.token else { return Ok(None) };
        let token = t.value.trim();
        if !token_ok(token) {
            return Err(ConfigError::Invalid {
                origin: t.origin.clone(),
                key: key_token,
                expected: "a token: one word of visible ASCII characters".into(),
                found: if token.is_empty() {
                    "an empty string".into()
                } else {
                    "other characters".into()
                },
            });
        }
        let origin = describe_origin(&t.origin, &key_token);
        return Ok(Some((token.to_string(), origin)));
    }
    let Some(f) = &raw.token_file else {
        return Ok(None);
    };
    let path = expand_path(&f.value, &f.origin, home, config_file);
    let token = read_token_file(&path, &format!("{} (key '{key_file}')", f.origin))?;
    let origin = format!(
        "the token file {} (from {})",
        path.display(),
        describe_origin(&f.origin, &key_file)
    );
    Ok(Some((token, origin)))
}
