//! `server.url` naming several servers: a TOML array, a comma-separated
//! list from the environment or `--server`, each URL checked on its own.

use super::tests::{Fx, none};
use super::*;

#[test]
fn a_toml_array_names_several_servers_in_order() {
    let fx = Fx::new();
    fx.config(
        "[server]\nurl = [\"https://a.example\", \"https://b.example:8443/\", \"http://127.0.0.1:7878\"]\ntoken = \"t\"\n",
    );
    let s = fx.ok(&none());
    assert_eq!(s.server_url, "https://a.example");
    assert_eq!(
        s.fallback_urls,
        ["https://b.example:8443", "http://127.0.0.1:7878"]
    );
    assert_eq!(
        s.server_urls(),
        [
            "https://a.example",
            "https://b.example:8443",
            "http://127.0.0.1:7878"
        ]
    );
    // An array of one is one server.
    fx.config("[server]\nurl = [\"https://a.example\"]\ntoken = \"t\"\n");
    let s = fx.ok(&none());
    assert_eq!(
        (s.server_url.as_str(), s.fallback_urls.len()),
        ("https://a.example", 0)
    );
}

#[test]
fn a_single_string_works_as_before() {
    let mut fx = Fx::new();
    fx.set("LEADX_SERVER__TOKEN", "t");
    fx.config("[server]\nurl = \"https://one.example/\"\n");
    let s = fx.ok(&none());
    assert_eq!(s.server_url, "https://one.example");
    assert!(s.fallback_urls.is_empty());
    assert_eq!(s.server_urls(), ["https://one.example"]);
}

#[test]
fn a_comma_list_from_the_environment_or_the_flag() {
    let mut fx = Fx::new();
    fx.set("LEADX_SERVER__TOKEN", "t");
    fx.set(
        "LEADX_SERVER__URL",
        "https://env-a.example, https://env-b.example",
    );
    let s = fx.ok(&none());
    assert_eq!(
        s.server_urls(),
        ["https://env-a.example", "https://env-b.example"]
    );
    let flagged = Overrides {
        server: Some("http://127.0.0.1:7001,http://localhost:7002/".into()),
        ..none()
    };
    assert_eq!(
        fx.ok(&flagged).server_urls(),
        ["http://127.0.0.1:7001", "http://localhost:7002"]
    );
    // The flag still overrides a profile's list as a whole.
    fx.config(
        "[profiles.work]\nurl = [\"https://w1.example\", \"https://w2.example\"]\ntoken = \"w\"\n",
    );
    let work = Overrides {
        profile: Some("work".into()),
        ..none()
    };
    assert_eq!(
        fx.ok(&work).server_urls(),
        ["https://w1.example", "https://w2.example"]
    );
    let both = Overrides {
        server: Some("https://x.example,https://y.example".into()),
        ..work
    };
    assert_eq!(
        fx.ok(&both).server_urls(),
        ["https://x.example", "https://y.example"]
    );
}

#[test]
fn a_bad_element_is_named_by_its_index() {
    let fx = Fx::new();
    let cfg = fx
        .config("[server]\nurl = [\"https://a.example\", \"leads.example.com\"]\ntoken = \"t\"\n");
    assert_eq!(
        fx.err(&none()),
        format!(
            "{}: key 'server.url[1]': expected a URL like https://leads.example.com or \
             http://127.0.0.1:7878, found \"leads.example.com\"",
            cfg.display()
        )
    );
    // An element that is not a string.
    fx.config("[server]\nurl = [\"https://a.example\", 7878]\ntoken = \"t\"\n");
    let e = fx.err(&none());
    assert!(
        e.ends_with(
            "key 'server.url[1]': expected a URL like https://leads.example.com or \
             http://127.0.0.1:7878, found 7878"
        ),
        "{e}"
    );
    // The plain-http rule applies to each element.
    fx.config(
        "[server]\nurl = [\"https://a.example\", \"http://b.example:7878\"]\ntoken = \"t\"\n",
    );
    let e = fx.err(&none());
    assert!(
        e.contains("key 'server.url[1]': refusing plain http:// to b.example")
            && e.contains("set server.allow_plain_http = true"),
        "{e}"
    );
    fx.config(
        "[server]\nurl = [\"https://a.example\", \"http://b.example:7878\"]\nallow_plain_http = true\ntoken = \"t\"\n",
    );
    assert_eq!(fx.ok(&none()).fallback_urls, ["http://b.example:7878"]);
    // An empty list, and a value that is neither a string nor a list.
    fx.config("[server]\nurl = []\ntoken = \"t\"\n");
    let e = fx.err(&none());
    assert!(
        e.ends_with(
            "key 'server.url': expected a URL like https://leads.example.com or \
             http://127.0.0.1:7878, or a list of them (tried in order), found an empty list"
        ),
        "{e}"
    );
    fx.config("[server]\nurl = 7878\ntoken = \"t\"\n");
    let e = fx.err(&none());
    assert!(
        e.ends_with("or a list of them (tried in order), found 7878"),
        "{e}"
    );
}

#[test]
fn a_bad_element_of_a_comma_list_is_named_by_its_index() {
    let mut fx = Fx::new();
    fx.set("LEADX_SERVER__TOKEN", "t");
    let e = fx.err(&Overrides {
        server: Some("https://a.example,,https://c.example".into()),
        ..none()
    });
    assert_eq!(
        e,
        "--server: key 'server.url[1]': expected a URL like https://leads.example.com or \
         http://127.0.0.1:7878, found \"\""
    );
    fx.set(
        "LEADX_SERVER__URL",
        "https://a.example,http://far.example:7878",
    );
    let e = fx.err(&none());
    assert!(
        e.starts_with(
            "environment variable LEADX_SERVER__URL: key 'server.url[1]': refusing plain http:// to far.example"
        ),
        "{e}"
    );
}

#[test]
fn the_demo_reads_no_server_list() {
    let fx = Fx::new();
    fx.config("[server]\nurl = [\"http://far.example\", \"http://other.example\"]\n");
    let s = load_for_demo_from(&none(), &fx.env).expect("demo settings");
    assert!(s.fallback_urls.is_empty());
    assert!(s.token.is_empty());
}
