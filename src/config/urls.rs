//! `server.url`: one URL or several (tried in order when one is
//! unreachable), each checked the same way: http(s) with a host, and plain
//! http only to loopback unless `allow_plain_http` says otherwise.

use std::net::IpAddr;

use ::config::{Value, ValueKind};

use super::{ConfigError, Item, describe, invalid, origin, rank};

/// `url` as written: one URL, or several tried in order.
#[derive(Debug, Clone)]
pub(super) struct Urls {
    /// Each URL with where it came from.
    pub(super) items: Vec<Item<String>>,
    /// Written as a list (a TOML array, or a comma-separated string from
    /// the environment or a flag): errors name the element's index.
    pub(super) listed: bool,
}

pub(super) const URL_EXPECTED: &str =
    "a URL like https://leads.example.com or http://127.0.0.1:7878";
const URLS_EXPECTED: &str = "a URL like https://leads.example.com or http://127.0.0.1:7878, \
     or a list of them (tried in order)";

/// `url`: a string (from the environment or a flag, a comma-separated list
/// of URLs), or a TOML array of strings. Each URL is checked later, by
/// [`check_url`].
pub(super) fn url_list(v: &Value, key: &str) -> Result<Urls, ConfigError> {
    match &v.kind {
        ValueKind::String(s) if rank(&origin(v)) >= 2 && s.contains(',') => Ok(Urls {
            items: s
                .split(',')
                .map(|part| Item {
                    value: part.trim().to_string(),
                    origin: origin(v),
                })
                .collect(),
            listed: true,
        }),
        ValueKind::String(s) => Ok(Urls {
            items: vec![Item::of(s.clone(), v)],
            listed: false,
        }),
        ValueKind::Array(items) if items.is_empty() => Err(ConfigError::Invalid {
            origin: origin(v),
            key: key.to_string(),
            expected: URLS_EXPECTED.to_string(),
            found: "an empty list".to_string(),
        }),
        ValueKind::Array(items) => Ok(Urls {
            items: items
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    // An element's origin is its own, else the array's.
                    let origin = x.origin().map_or_else(|| origin(v), str::to_string);
                    match &x.kind {
                        ValueKind::String(s) => Ok(Item {
                            value: s.clone(),
                            origin,
                        }),
                        _ => Err(ConfigError::Invalid {
                            origin,
                            key: format!("{key}[{i}]"),
                            expected: URL_EXPECTED.to_string(),
                            found: describe(x, false),
                        }),
                    }
                })
                .collect::<Result<_, _>>()?,
            listed: true,
        }),
        _ => Err(invalid(v, key, URLS_EXPECTED)),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host_str() {
        None => false,
        Some(h) => {
            let h = h.trim_start_matches('[').trim_end_matches(']');
            if h.eq_ignore_ascii_case("localhost") || h.eq_ignore_ascii_case("localhost.") {
                return true;
            }
            match h.parse::<IpAddr>() {
                Ok(IpAddr::V4(ip)) => ip.is_loopback(),
                Ok(IpAddr::V6(ip)) => {
                    ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
                }
                Err(_) => false,
            }
        }
    }
}

pub(super) fn check_url(
    item: &Item<String>,
    key: &str,
    allow_plain: bool,
    allow_key: &str,
) -> Result<String, ConfigError> {
    let bad = || ConfigError::Invalid {
        origin: item.origin.clone(),
        key: key.to_string(),
        expected: URL_EXPECTED.to_string(),
        found: format!("{:?}", item.value),
    };
    let url = reqwest::Url::parse(item.value.trim()).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad());
    }
    if url.scheme() == "http" && !allow_plain && !is_loopback(&url) {
        return Err(ConfigError::PlainHttp {
            origin: item.origin.clone(),
            key: key.to_string(),
            host: url.host_str().unwrap_or_default().to_string(),
            allow_key: allow_key.to_string(),
        });
    }
    Ok(item.value.trim().trim_end_matches('/').to_string())
}
