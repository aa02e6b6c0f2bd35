//! Reducer tests of feed.

use crate::inbox::msg::{FeedMsg, Msg};
use crate::inbox::state::{Conn, Pane};
use crate::inbox::testkit::*;
use crate::inbox::update::update;
use crate::wire::{Role, Status};

#[test]
fn feed_events_apply_only_higher_versions() {
    let mut s = loaded(Role::Agent, sample());
    let newer = decided(
        referral("r_08", "bluehost-co", "acme-web", "Harbor Dental", 90),
        Status::Accepted,
        3,
    );
    update(
        &mut s,
        Msg::Feed(FeedMsg::Event {
            seq: 300,
            referral: Box::new(newer.clone()),
            at: t(NOW),
        }),
    );
    assert_eq!(s.entry("r_08").unwrap().referral.version, 3);
    let older = decided(
        referral("r_08", "bluehost-co", "acme-web", "Harbor Dental", 90),
        Status::Rejected,
        2,
    );
    update(
        &mut s,
        Msg::Feed(FeedMsg::Event {
            seq: 301,
            referral: Box::new(older),
            at: t(NOW),
        }),
    );
    assert_eq!(s.entry("r_08").unwrap().referral.status, Status::Accepted);
    assert_eq!(s.pane(Pane::Incoming).new_count, 0, "updates are not new");
    assert_eq!(s.last_event_at, Some(t(NOW)));
}

#[test]
fn connection_state_follows_the_feed() {
    let mut s = loaded(Role::Agent, sample());
    assert!(matches!(s.conn, Conn::Live { .. }));
    update(
        &mut s,
        Msg::Feed(FeedMsg::Disconnected {
            reason: "reset".into(),
            retry_in_ms: 3000,
            at: t(NOW),
        }),
    );
    let Conn::Reconnecting {
        since, retry_at, ..
    } = s.conn.clone()
    else {
        panic!()
    };
    assert_eq!(since, t(NOW));
    assert_eq!(retry_at, t("2026-11-26T12:00:03Z"));
    assert_eq!(
        crate::inbox::views::status_bar::connection(&s),
        "◌ reconnecting in 3s"
    );
    assert_eq!(
        s.next_wakeup(),
        Some(t("2026-11-26T12:00:01Z")),
        "counts down each second"
    );
    // A second drop keeps the first time it went down.
    update(
        &mut s,
        Msg::Feed(FeedMsg::Disconnected {
            reason: "refused".into(),
            retry_in_ms: 10_000,
            at: t("2026-11-26T12:00:40Z"),
        }),
    );
    let Conn::Reconnecting { since, .. } = s.conn.clone() else {
        panic!()
    };
    assert_eq!(since, t(NOW));
    assert_eq!(
        crate::inbox::views::status_bar::connection(&s),
        "✕ offline since 12:00 · retry in 10s"
    );
    update(
        &mut s,
        Msg::Feed(FeedMsg::Stale {
            at: t("2026-11-26T12:00:41Z"),
        }),
    );
    assert!(s.stale);
    update(
        &mut s,
        Msg::Feed(FeedMsg::Connected {
            at: t("2026-11-26T12:00:50Z"),
        }),
    );
    assert!(matches!(s.conn, Conn::Live { .. }));
    assert!(!s.stale);
}
