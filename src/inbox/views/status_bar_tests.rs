//! The status bar with several servers: which one is live, a move
//! between them, a long host cut with its port kept.

use insta::assert_snapshot;

use crate::inbox::msg::{FeedMsg, Msg};
use crate::inbox::state::State;
use crate::inbox::testkit::*;
use crate::inbox::update::update;
use crate::wire::Role;

fn screen(state: &State) -> String {
    drawn(state)
}

#[test]
fn the_status_bar_names_the_live_server_when_there_are_several() {
    let mut s = loaded(Role::Agent, sample());
    // The status bar is the line above the hints (TestBackend quotes lines).
    let status = |s: &State| {
        let out = screen(s);
        // The status bar's first line (a long message wraps under it).
        out.lines()
            .rev()
            .find(|l| ["\" ●", "\" ◌", "\" ✕"].iter().any(|p| l.starts_with(p)))
            .expect("a status line")
            .trim_matches('"')
            .to_string()
    };
    // The screen's words in order, rows joined (a wrapped message reads whole).
    let whole = |s: &State| {
        screen(s)
            .replace('"', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    // One server: the header names it, the status bar does not.
    assert!(!status(&s).contains("leadx.example"), "{}", status(&s));
    s.servers = 2;
    assert_eq!(status(&s).trim_end(), " ● live · leadx.example");

    // The feed drops, the client finds the first server unreachable and
    // moves to the second: the runtime reports it as a message.
    update(
        &mut s,
        Msg::Feed(FeedMsg::Disconnected {
            reason: "the server closed the feed".into(),
            retry_in_ms: 3000,
            at: t(NOW),
        }),
    );
    update(
        &mut s,
        Msg::ServerMoved {
            from: "https://leadx.example/".into(),
            to: "https://leadx-b.example:8443/".into(),
            reason: "server unreachable: connection refused".into(),
            all_down: false,
            at: t(NOW),
        },
    );
    let out = screen(&s);
    assert!(
        out.contains("◌ reconnecting in 3s → leadx-b.example:8443"),
        "{out}"
    );
    assert!(
        out.contains("https://leadx-b.example:8443"),
        "the header follows"
    );
    assert_snapshot!("server_moved_reconnecting", out);

    update(&mut s, Msg::Feed(FeedMsg::Connected { at: t(NOW) }));
    // Too long for the line at 80 columns: the message takes the row
    // under it, whole.
    let out = screen(&s);
    let lines: Vec<&str> = out.lines().collect();
    let line = lines[lines.len() - 3];
    assert!(line.contains("● live · leadx-b.example:8443 "), "{out}");
    assert!(
        lines[lines.len() - 2].contains(
            "moved to leadx-b.example:8443: leadx.example unreachable (connection refused)"
        ),
        "{out}"
    );
    update(&mut s, Msg::Resize(140, 24));
    assert!(
        status(&s).contains(
            "● live · leadx-b.example:8443 │ moved to leadx-b.example:8443: leadx.example \
             unreachable (connection refused)"
        ),
        "{}",
        status(&s)
    );
    update(&mut s, Msg::Resize(80, 24));

    // A long host name is cut, its port kept, and the line still fits 80.
    update(
        &mut s,
        Msg::ServerMoved {
            from: "https://leadx-b.example:8443".into(),
            to: "https://leads-eu-west-2.internal.corp.example:7878".into(),
            reason: "server unreachable: timed out\x1b[31m".into(),
            all_down: false,
            at: t(NOW),
        },
    );
    let line = status(&s);
    assert!(
        line.contains("● live · leads-eu-west-2.in…:7878 "),
        "{line}"
    );
    assert!(
        whole(&s).contains("leadx-b.example:8443 unreachable (timed out"),
        "the message whole under it: {}",
        screen(&s)
    );
    assert!(!line.contains('\x1b'), "{line:?}");
    assert_eq!(crate::sanitize::width(&line), 80);

    // Every server has failed: the message says none answers, and which
    // one is tried next.
    update(
        &mut s,
        Msg::Feed(FeedMsg::Disconnected {
            reason: "server unreachable: connection refused".into(),
            retry_in_ms: 5000,
            at: t(NOW),
        }),
    );
    update(
        &mut s,
        Msg::ServerMoved {
            from: "https://leads-eu-west-2.internal.corp.example:7878".into(),
            to: "https://leadx.example".into(),
            reason: "server unreachable: connection refused".into(),
            all_down: true,
            at: t(NOW),
        },
    );
    let line = status(&s);
    assert!(
        line.contains("◌ reconnecting in 5s → leadx.example"),
        "{line}"
    );
    assert!(
        whole(&s).contains("no server answers; next try leadx.ex"),
        "{}",
        screen(&s)
    );
}
