//! `config.example.toml`: valid as it is, and every commented-out setting
//! in it valid once uncommented.

use super::*;

/// `key = value` or `[table]`: a commented-out setting, not prose.
fn is_setting(line: &str) -> bool {
    line.strip_prefix('[')
        .and_then(|l| l.strip_suffix(']'))
        .is_some_and(|t| {
            t.chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
        })
        || line.split_once(" = ").is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        })
}

fn example() -> String {
    include_str!("../../../config.example.toml").to_string()
}

#[test]
fn the_example_file_is_valid_as_is_and_uncommented() {
    let mut fx = Fx::new();
    fx.set("LEADX_SERVER__TOKEN", "t");
    let p = fx.dir.path().join("example.toml");
    fs::write(&p, example()).expect("w");
    let s = fx.ok(&Overrides {
        config: Some(p.clone()),
        ..none()
    });
    assert_eq!(s.server_url, DEFAULT_SERVER_URL);
    // Uncommenting every `# key = value` line must still give a valid file
    // with the documented defaults.
    let uncommented: String = example()
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if is_setting(rest) => rest.to_string(),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    fs::write(&p, &uncommented).expect("w");
    let tf = fx.token_file("example-token", "t", 0o600);
    // The example names ~/.config/leadx/token; put one there.
    let home_token = fx.home().join(".config/leadx/token");
    fs::create_dir_all(home_token.parent().expect("dir")).expect("mkdir");
    fs::copy(&tf, &home_token).expect("copy");
    fx.env.remove("LEADX_SERVER__TOKEN");
    let s = fx.ok(&Overrides {
        config: Some(p),
        ..none()
    });
    assert_eq!(s.server_url, DEFAULT_SERVER_URL);
    assert_eq!(s.theme, DEFAULT_THEME);
    assert_eq!(s.batch, BatchSettings::default());
    for cmd in COMMANDS {
        assert!(
            s.keys.contains_key(*cmd),
            "config.example.toml does not document keys.{cmd}"
        );
    }
    assert!(
        !s.views.is_empty(),
        "config.example.toml shows no [views.NAME]"
    );
    let doc: toml::Table = toml::from_str(&uncommented).expect("toml");
    for k in TOP_KEYS {
        assert!(
            doc.contains_key(*k),
            "config.example.toml does not document {k}"
        );
    }
    let section = |name: &str| {
        doc.get(name)
            .and_then(|v| v.as_table())
            .cloned()
            .unwrap_or_default()
    };
    for k in SERVER_KEYS.iter().filter(|k| **k != "token") {
        assert!(
            section("server").contains_key(*k),
            "server.{k} undocumented"
        );
    }
    assert!(
        example().contains("token = \"...\""),
        "server.token undocumented"
    );
    for k in BATCH_KEYS {
        assert!(section("batch").contains_key(*k), "batch.{k} undocumented");
    }
}
