//! The live feed (`watch`): an event after an accept, resuming across a
//! server restart without missing anything, and a resume point the server
//! can no longer serve.

use super::*;

fn quick_feed() -> FeedOptions {
    FeedOptions {
        heartbeat_timeout: Duration::from_secs(30),
        reconnect: Backoff::new(Duration::from_millis(50), Duration::from_millis(200)),
        min_retry: Duration::from_millis(50),
        open_timeout: Duration::from_secs(10),
        channel_capacity: 256,
    }
}

async fn next(h: &mut FeedHandle) -> FeedEvent {
    tokio::time::timeout(Duration::from_secs(20), h.recv())
        .await
        .expect("a feed event within 20 s")
        .expect("the feed is running")
}

/// The next referral event, skipping connection news.
async fn next_event(h: &mut FeedHandle) -> (u64, Referral) {
    loop {
        match next(h).await {
            FeedEvent::Event { seq, referral } => return (seq, referral),
            FeedEvent::Connected | FeedEvent::Disconnected { .. } => {}
            other => panic!("unexpected feed event {other:?}"),
        }
    }
}

#[tokio::test]
async fn watch_receives_a_live_event_after_an_accept() {
    let w = World::start().await;
    let r = w.send_from_northwind("acme-web", "Live Co", None).await;
    let north = w.client(&w.northwind);
    let (_, as_of) = north.list_all(ReferralBox::All).await.unwrap();
    let mut feed = watch(north.clone(), as_of, quick_feed());
    assert_eq!(next(&mut feed).await, FeedEvent::Connected);

    let acme = w.client(&w.acme);
    acme.accept(&r.id, &accept(1), &new_idempotency_key())
        .await
        .unwrap();
    let (seq, got) = next_event(&mut feed).await;
    assert_eq!(seq, as_of + 1, "the accept is the next event");
    assert_eq!(
        (got.id.as_str(), got.version, got.status),
        (r.id.as_str(), 2, Status::Accepted)
    );
    assert!(!got.contact_masked, "the originator sees the contact");
    assert_eq!(feed.last_seq(), seq);

    // A forward is two events, each sent only to whoever may see it:
    // acme (party to both hops) gets both, northwind (party to the first)
    // the closed hop only, harbor (party to the new one) the new hop only.
    let mut acme_feed = watch(acme.clone(), as_of, quick_feed());
    let mut harbor_feed = watch(w.client(&w.harbor), as_of, quick_feed());
    assert_eq!(next(&mut harbor_feed).await, FeedEvent::Connected);
    let r2 = w.send_from_northwind("acme-web", "Forward Co", None).await;
    assert_eq!(next_event(&mut feed).await.1.id, r2.id);
    let fwd = ForwardRequest {
        version: 1,
        to_partner: "harbor-host".into(),
        note: None,
        commission_pct: None,
        expires_in_hours: None,
    };
    let f = acme
        .forward(&r2.id, &fwd, &new_idempotency_key())
        .await
        .unwrap();
    // acme replays from as_of: r1 v1 was before; r1 v2, r2 v1, then the forward.
    let mut acme_seen = Vec::new();
    for _ in 0..4 {
        let (_, e) = next_event(&mut acme_feed).await;
        acme_seen.push((e.id, e.version));
    }
    assert_eq!(
        acme_seen,
        [
            (r.id.clone(), 2),
            (r2.id.clone(), 1),
            (r2.id.clone(), 2),
            (f.forwarded.id.clone(), 1)
        ]
    );
    let (_, parent) = next_event(&mut feed).await;
    assert_eq!(
        (parent.id.as_str(), parent.status),
        (r2.id.as_str(), Status::Forwarded)
    );
    let (_, h) = next_event(&mut harbor_feed).await;
    assert_eq!(h.id, f.forwarded.id);
    assert!(
        h.contact_masked,
        "a recipient that has not accepted sees no contact"
    );
    // Nothing else reached northwind: its next event is the next change.
    let r3 = w.send_from_northwind("harbor-host", "Next Co", None).await;
    assert_eq!(next_event(&mut feed).await.1.id, r3.id);
    acme_feed.stop();
    feed.stop();
    harbor_feed.stop();
}

#[tokio::test]
async fn watch_resumes_across_a_server_restart_without_missing_anything() {
    let mut w = World::start().await;
    let north = w.client(&w.northwind);
    let r1 = w.send_from_northwind("acme-web", "Before", None).await;
    let (_, as_of) = north.list_all(ReferralBox::All).await.unwrap();
    let mut feed = watch(north.clone(), as_of, quick_feed());
    assert_eq!(next(&mut feed).await, FeedEvent::Connected);
    let acme = w.client(&w.acme);
    acme.accept(&r1.id, &accept(1), &new_idempotency_key())
        .await
        .unwrap();
    let (seen_seq, got) = next_event(&mut feed).await;
    assert_eq!((got.id.as_str(), got.version), (r1.id.as_str(), 2));
    assert_eq!(seen_seq, as_of + 1);

    // The server goes away: the feed reports it and keeps trying.
    let addr = w.server.as_ref().unwrap().addr;
    w.server.take().unwrap().shutdown().await;
    loop {
        match next(&mut feed).await {
            FeedEvent::Disconnected { reason, .. } if reason.contains("connection refused") => {
                assert_eq!(reason, "server unreachable: connection refused");
                break;
            }
            FeedEvent::Disconnected { .. } => {}
            other => panic!("expected Disconnected, got {other:?}"),
        }
    }

    // Changes while it is down (straight into the same database).
    let actor = w.store.authenticate(&w.acme).await.unwrap().expect("acme");
    let r2 = w.send_from_northwind_direct("acme-web", "While down").await;
    let results = w
        .store
        .apply(
            &actor,
            vec![ActionItem {
                id: r2.clone(),
                version: 1,
                action: Action::Accept { note: None },
            }],
            None,
        )
        .await
        .unwrap();
    assert!(results[0].is_ok());

    // A new server on the same port and database.
    let mut config = ServerConfig::for_tests();
    config.listen = addr;
    let server = start(w.store.clone(), w.clock.clone(), config)
        .await
        .expect("restart");
    w.server = Some(server);

    // The feed reconnects with Last-Event-ID and replays what it missed, in order.
    let (s1, e1) = next_event(&mut feed).await;
    let (s2, e2) = next_event(&mut feed).await;
    assert_eq!((s1, s2), (seen_seq + 1, seen_seq + 2), "nothing missed");
    assert_eq!(
        (e1.id.as_str(), e1.version, e1.status),
        (r2.as_str(), 1, Status::Pending)
    );
    assert_eq!(
        (e2.id.as_str(), e2.version, e2.status),
        (r2.as_str(), 2, Status::Accepted)
    );

    // And it is live again.
    let r3 = w.send_from_northwind("acme-web", "After", None).await;
    let (_, e3) = next_event(&mut feed).await;
    assert_eq!(e3.id, r3.id);
    assert_eq!(feed.last_seq(), s2 + 1);
}

impl World {
    /// northwind sends a lead through the store, not over HTTP.
    async fn send_from_northwind_direct(&self, to: &str, company: &str) -> String {
        let actor = self
            .store
            .authenticate(&self.northwind)
            .await
            .unwrap()
            .expect("northwind");
        let applied = self
            .store
            .create(&actor, lead(to, company, None), None)
            .await
            .unwrap()
            .expect("created");
        applied.referral.referral.id
    }
}

#[tokio::test]
async fn a_resume_point_the_server_cannot_serve_is_gone() {
    let w = World::start().await;
    w.send_from_northwind("acme-web", "Any", None).await;
    let north = w.client(&w.northwind);
    let (_, as_of) = north.list_all(ReferralBox::All).await.unwrap();
    // The server holds every event from 0 on and none past `as_of`: a
    // resume point beyond its newest event is one it cannot serve.
    let mut feed = watch(north, as_of + 1000, quick_feed());
    assert_eq!(next(&mut feed).await, FeedEvent::Gone);
    assert!(
        tokio::time::timeout(Duration::from_secs(5), feed.recv())
            .await
            .unwrap()
            .is_none(),
        "the feed stops after Gone"
    );
}
