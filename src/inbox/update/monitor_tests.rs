//! Reducer tests of monitor.

use insta::assert_snapshot;

use super::test_support::*;
use crate::inbox::msg::{FeedMsg, Msg};
use crate::inbox::state::State;
use crate::inbox::testkit::*;
use crate::inbox::update::{monitor, update};
use crate::wire::Role;

#[test]
fn the_monitor_summarizes_queues_live_and_hides_actions() {
    let mut s = loaded(Role::Operator, sample());
    let q = monitor::queue_summary(&s);
    let acme = q.iter().find(|r| r.partner == "acme-web").unwrap();
    assert_eq!(acme.pending, 5);
    assert_eq!(acme.expiring_24h, 2);
    assert_eq!(acme.oldest_secs, (60 * 71 + 10) * 60);
    let mut r = referral("r_50", "acme-web", "hostly", "New Co", 1);
    r.expires_at = t(NOW) + chrono::Duration::hours(3);
    update(
        &mut s,
        Msg::Feed(FeedMsg::Event {
            seq: 900,
            referral: Box::new(r),
            at: t(NOW),
        }),
    );
    let q = monitor::queue_summary(&s);
    let hostly = q.iter().find(|r| r.partner == "hostly").unwrap();
    assert_eq!((hostly.pending, hostly.expiring_24h), (2, 1));
    run(&mut s, "accept");
    assert!(status_text(&s).contains("read-only monitor"));
}

#[test]
fn snapshot_read_only_monitor_summary() {
    let mut s = State::new(
        "https://leadx.example",
        true,
        crate::inbox::keymap::KeyMap::defaults(),
        "key",
        t(NOW),
    );
    update(&mut s, Msg::Resize(120, 30));
    update(&mut s, Msg::Me(Ok(me("acme-web", Role::Agent))));
    let (inc, out): (Vec<_>, Vec<_>) = sample()
        .into_iter()
        .partition(|r| r.to_partner == "acme-web");
    update(
        &mut s,
        Msg::Listed {
            box_: crate::wire::ReferralBox::Incoming,
            result: Ok((inc, 1)),
        },
    );
    update(
        &mut s,
        Msg::Listed {
            box_: crate::wire::ReferralBox::Outgoing,
            result: Ok((out, 1)),
        },
    );
    update(&mut s, Msg::Feed(FeedMsg::Connected { at: t(NOW) }));
    let out = screen(&s);
    assert!(out.contains("Queues (live)"));
    assert!(
        !out.contains("a accept"),
        "no action in a read-only monitor"
    );
    assert_snapshot!("monitor_summary", out);
}

#[test]
fn every_read_only_role_gets_the_same_monitor() {
    for role in [Role::Viewer, Role::Operator] {
        let s = loaded_sized(role, sample(), 120, 30);
        assert!(s.monitor(), "{role:?}");
        let out = screen(&s);
        assert!(out.contains("READ-ONLY"), "{role:?}: {out}");
        assert!(out.contains("Queues (live)"), "{role:?}: {out}");
        assert!(out.contains("EXP<24H"), "the column says what it counts");
    }
    let agent = loaded_sized(Role::Agent, sample(), 120, 30);
    assert!(!agent.monitor());
    assert!(!screen(&agent).contains("READ-ONLY"));
}

#[test]
fn the_queue_pane_says_how_many_partners_it_cannot_show() {
    let mut refs = Vec::new();
    for i in 0..30 {
        refs.push(referral(
            &format!("r_q{i:02}"),
            "acme-web",
            &format!("partner-{i:02}"),
            "Co",
            5,
        ));
    }
    let s = loaded_sized(Role::Operator, refs, 120, 24);
    let out = screen(&s);
    // The queue pane (the right 44 columns) cannot list 30 partners: its
    // last row counts the rest, and the count adds up.
    let pane: Vec<String> = out
        .lines()
        .map(|l| l.trim_matches('"').chars().skip(76).collect())
        .collect();
    let listed = pane.iter().filter(|l| l.contains("partner-")).count();
    let more = pane
        .iter()
        .find_map(|l| {
            let at = l.find("… ")?;
            l[at + "… ".len()..]
                .split(' ')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .expect("a '… N more partners' row");
    assert_eq!(listed + more, 30, "{out}");
    assert_snapshot!("monitor_more_partners", out);
}
