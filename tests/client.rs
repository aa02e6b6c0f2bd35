//! The client against the real server over real HTTP: a SQLite store in a
//! temporary directory, `leadx::server::start` on a loopback port, and
//! `leadx::client` as the inbox and CLI use it.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::SubsecRound;
use leadx::client::{
    Backoff, Client, ClientConfig, ClientError, FeedEvent, FeedHandle, FeedOptions,
    new_idempotency_key, retry_until_definite, watch,
};
use leadx::clock::{ManualClock, SharedClock};
use leadx::domain::{Action, ActionItem};
use leadx::server::{RunningServer, ServerConfig, start};
use leadx::store::SharedStore;
use leadx::store::sqlite::SqliteStore;
use leadx::wire::{
    AcceptRequest, BatchAction, BatchItem, BatchOutcome, BatchRequest, CloseRequest, CloseStatus,
    CreateReferral, ErrorCode, ForwardRequest, LeadInput, OutcomeInput, Partner, PartnerKind,
    ReasonCode, ReasonInput, Referral, ReferralBox, RejectRequest, Role, Status, WithdrawRequest,
};

struct World {
    _dir: tempfile::TempDir,
    store: SharedStore,
    clock: SharedClock,
    server: Option<RunningServer>,
    url: String,
    /// acme-web agent "Dana Reyes" (an integrator).
    acme: String,
    /// acme-web viewer.
    acme_viewer: String,
    /// northwind-net agent (a provider).
    northwind: String,
    /// harbor-host agent (a provider).
    harbor: String,
}

fn partner(id: &str, name: &str, kind: PartnerKind, cats: &[&str]) -> Partner {
    Partner {
        id: id.into(),
        name: name.into(),
        kind,
        categories: cats.iter().map(|s| s.to_string()).collect(),
        regions: vec!["US-West".into()],
    }
}

impl World {
    async fn start() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock: SharedClock = ManualClock::new(chrono::Utc::now().trunc_subsecs(0));
        let store: SharedStore = Arc::new(
            SqliteStore::open(&dir.path().join("leadx.db"), clock.clone()).expect("open store"),
        );
        for p in [
            partner(
                "acme-web",
                "Acme Web Studio",
                PartnerKind::Integrator,
                &["services", "design"],
            ),
            partner(
                "northwind-net",
                "Northwind Networks",
                PartnerKind::Provider,
                &["bandwidth"],
            ),
            partner(
                "harbor-host",
                "Harbor Hosting",
                PartnerKind::Provider,
                &["hosting"],
            ),
        ] {
            store.add_partner(&p).await.expect("add partner");
        }
        let user =
            async |p: &str, n: &str, r: Role| store.add_user(p, n, r).await.expect("add user").1;
        let acme = user("acme-web", "Dana Reyes", Role::Agent).await;
        let acme_viewer = user("acme-web", "Vic Viewer", Role::Viewer).await;
        let northwind = user("northwind-net", "Nia North", Role::Agent).await;
        let harbor = user("harbor-host", "Hal Harbor", Role::Agent).await;
        let server = start(store.clone(), clock.clone(), ServerConfig::for_tests())
            .await
            .expect("server starts");
        let url = server.url.clone();
        World {
            _dir: dir,
            store,
            clock,
            server: Some(server),
            url,
            acme,
            acme_viewer,
            northwind,
            harbor,
        }
    }

    fn client(&self, token: &str) -> Client {
        let mut config = ClientConfig::new(&self.url, token);
        config.request_timeout = Duration::from_secs(20);
        Client::new(config).expect("client")
    }

    /// northwind sends a lead to `to`.
    async fn send_from_northwind(&self, to: &str, company: &str, domain: Option<&str>) -> Referral {
        self.client(&self.northwind)
            .send(&lead(to, company, domain), &new_idempotency_key())
            .await
            .expect("send")
    }
}

fn lead(to: &str, company: &str, domain: Option<&str>) -> CreateReferral {
    CreateReferral {
        to_partner: to.into(),
        lead: LeadInput {
            company: Some(company.into()),
            domain: domain.map(str::to_string),
            contact_name: Some("Jo Contact".into()),
            contact_email: Some("jo@example.com".into()),
            contact_phone: None,
            category: Some("hosting".into()),
            summary: Some("Managed hosting for a relaunch".into()),
            est_value_cents: Some(1_200_000),
            currency: Some("USD".into()),
            region: Some("US-West".into()),
        },
        commission_pct: Some(15),
        note: Some("Warm intro".into()),
        expires_in_hours: None,
    }
}

fn accept(version: u64) -> AcceptRequest {
    AcceptRequest {
        version,
        note: Some("on it".into()),
    }
}

#[track_caller]
fn expect_api(e: &ClientError, status: u16, code: ErrorCode) {
    assert_eq!((e.status(), e.code()), (Some(status), Some(code)), "{e:?}");
}

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
async fn me_partners_and_healthz() {
    let w = World::start().await;
    let c = w.client(&w.acme);
    let me = c.me().await.unwrap();
    assert_eq!(me.user.name, "Dana Reyes");
    assert_eq!(me.user.role, Role::Agent);
    assert_eq!(me.partner.id, "acme-web");
    let all = c.partners(None).await.unwrap();
    assert_eq!(all.len(), 3);
    let hosting = c.partners(Some("hosting")).await.unwrap();
    let ids: Vec<&str> = hosting.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["harbor-host"]);
    // A query with characters that need encoding reaches the server intact.
    assert!(c.partners(Some("a&b=c d")).await.unwrap().is_empty());
    c.healthz().await.unwrap();

    let e = w.client("not-a-token").me().await.unwrap_err();
    expect_api(&e, 401, ErrorCode::Unauthenticated);
    assert!(e.is_definite());
    assert!(e.to_string().starts_with("unauthenticated: "), "{e}");
}

#[tokio::test]
async fn list_all_over_many_pages_returns_each_referral_once() {
    let w = World::start().await;
    let mut sent = HashSet::new();
    for i in 0..23 {
        let to = if i % 2 == 0 {
            "acme-web"
        } else {
            "harbor-host"
        };
        let r = w
            .send_from_northwind(to, &format!("Company {i}"), None)
            .await;
        sent.insert(r.id);
    }
    let c = w.client(&w.northwind);
    let (items, as_of) = c
        .list_all_with(ReferralBox::Outgoing, &[], 4)
        .await
        .unwrap();
    assert_eq!(items.len(), 23);
    let ids: HashSet<String> = items.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids, sent, "every referral exactly once");
    let mut sorted: Vec<&String> = items.iter().map(|r| &r.id).collect();
    sorted.sort();
    assert_eq!(
        sorted,
        items.iter().map(|r| &r.id).collect::<Vec<_>>(),
        "ordered by id"
    );
    assert_eq!(as_of, 23, "as_of is the event seq at the first page");

    // The default page size, and a box and status filter.
    let (all, _) = c.list_all(ReferralBox::All).await.unwrap();
    assert_eq!(all.len(), 23);
    let acme = w.client(&w.acme);
    let (incoming, _) = acme
        .list_all_with(ReferralBox::Incoming, &[Status::Pending], 3)
        .await
        .unwrap();
    assert_eq!(incoming.len(), 12);
    assert!(incoming.iter().all(|r| r.to_partner == "acme-web"));
    let (outgoing, _) = acme
        .list_all_with(ReferralBox::Outgoing, &[], 3)
        .await
        .unwrap();
    assert!(outgoing.is_empty());

    // One page by hand: the cursor goes back URL-encoded.
    let p1 = c
        .list_page(ReferralBox::Outgoing, &[], None, 10)
        .await
        .unwrap();
    assert_eq!(p1.items.len(), 10);
    let cursor = p1.next_cursor.expect("more pages");
    let p2 = c
        .list_page(ReferralBox::Outgoing, &[], Some(&cursor), 10)
        .await
        .unwrap();
    assert_eq!(p2.items.len(), 10);
    assert!(p2.items[0].id > p1.items[9].id);

    let e = c
        .list_page(ReferralBox::All, &[], None, 0)
        .await
        .unwrap_err();
    expect_api(&e, 400, ErrorCode::BadRequest);
}

#[tokio::test]
async fn accept_and_its_conflict_with_current() {
    let w = World::start().await;
    let r = w
        .send_from_northwind("acme-web", "Main Street Bakery", Some("bakery.example"))
        .await;
    assert_eq!((r.version, r.status), (1, Status::Pending));
    let acme = w.client(&w.acme);
    assert_eq!(acme.get(&r.id).await.unwrap().id, r.id);

    let a = acme
        .accept(&r.id, &accept(1), &new_idempotency_key())
        .await
        .unwrap();
    assert_eq!((a.version, a.status), (2, Status::Accepted));
    assert_eq!(a.decided_by.as_ref().unwrap().name, "Dana Reyes");
    assert!(!a.contact_masked, "the accepting partner sees the contact");

    // A second accept at the version the person saw: 409 with current.
    let e = acme
        .accept(&r.id, &accept(1), &new_idempotency_key())
        .await
        .unwrap_err();
    expect_api(&e, 409, ErrorCode::Conflict);
    assert!(e.is_definite() && !e.is_retryable());
    let current = e.current().expect("current on a conflict");
    assert_eq!((current.version, current.status), (2, Status::Accepted));
    let shown = e.to_string();
    assert!(
        shown.starts_with("conflict: accepted by Dana Reyes (acme-web) at "),
        "{shown}"
    );

    // Not the recipient: 403; not visible: 404; a viewer: 403.
    let e = w
        .client(&w.northwind)
        .accept(&r.id, &accept(2), &new_idempotency_key())
        .await
        .unwrap_err();
    expect_api(&e, 403, ErrorCode::Forbidden);
    let e = w.client(&w.harbor).get(&r.id).await.unwrap_err();
    expect_api(&e, 404, ErrorCode::NotFound);
    let e = w
        .client(&w.acme_viewer)
        .accept(&r.id, &accept(2), &new_idempotency_key())
        .await
        .unwrap_err();
    expect_api(&e, 403, ErrorCode::Forbidden);

    // A duplicate domain while the lead is open.
    let e = w
        .client(&w.northwind)
        .send(
            &lead("harbor-host", "Bakery again", Some("www.Bakery.example")),
            &new_idempotency_key(),
        )
        .await
        .unwrap_err();
    expect_api(&e, 409, ErrorCode::Duplicate);
    let ClientError::Api { error, .. } = &e else {
        unreachable!()
    };
    assert_eq!(error.existing_id.as_deref(), Some(r.id.as_str()));
}

#[tokio::test]
async fn reject_withdraw_close_and_forward_with_their_conflicts() {
    let w = World::start().await;
    let acme = w.client(&w.acme);
    let north = w.client(&w.northwind);

    // reject
    let r = w.send_from_northwind("acme-web", "Rejected Co", None).await;
    let reject = RejectRequest {
        version: 1,
        reason: ReasonInput {
            code: ReasonCode::WrongPartner,
            note: Some("we do design".into()),
        },
    };
    let got = acme
        .reject(&r.id, &reject, &new_idempotency_key())
        .await
        .unwrap();
    assert_eq!((got.status, got.version), (Status::Rejected, 2));
    assert_eq!(got.reason.unwrap().code, ReasonCode::WrongPartner);
    let e = acme
        .reject(&r.id, &reject, &new_idempotency_key())
        .await
        .unwrap_err();
    expect_api(&e, 409, ErrorCode::Conflict);
    assert_eq!(e.current().unwrap().status, Status::Rejected);
    // `other` without a note breaks a rule: 422 naming the field.
    let r2 = w.send_from_northwind("acme-web", "Other Co", None).await;
    let bad = RejectRequest {
        version: 1,
        reason: ReasonInput {
            code: ReasonCode::Other,
            note: None,
        },
    };
    let e = acme
        .reject(&r2.id, &bad, &new_idempotency_key())
        .await
        .unwrap_err();
    expect_api(&e, 422, ErrorCode::Invalid);
    assert!(e.to_string().starts_with("invalid: "), "{e}");

    // withdraw (by the sender)
    let got = north
        .withdraw(
            &r2.id,
            &WithdrawRequest { version: 1 },
            &new_idempotency_key(),
        )
        .await
        .unwrap();
    assert_eq!((got.status, got.version), (Status::Withdrawn, 2));
    let e = north
        .withdraw(
            &r2.id,
            &WithdrawRequest { version: 1 },
            &new_idempotency_key(),
        )
        .await
        .unwrap_err();
    expect_api(&e, 409, ErrorCode::Conflict);
    assert_eq!(e.current().unwrap().status, Status::Withdrawn);

    // close (accepted → won)
    let r3 = w.send_from_northwind("acme-web", "Won Co", None).await;
    acme.accept(&r3.id, &accept(1), &new_idempotency_key())
        .await
        .unwrap();
    let close = CloseRequest {
        version: 2,
        status: CloseStatus::Won,
        outcome: Some(OutcomeInput {
            value_cents: Some(990_000),
            note: Some("signed".into()),
        }),
    };
    let got = acme
        .close(&r3.id, &close, &new_idempotency_key())
        .await
        .unwrap();
    assert_eq!((got.status, got.version), (Status::Won, 3));
    assert_eq!(got.outcome.unwrap().value_cents, Some(990_000));
    let e = acme
        .close(&r3.id, &close, &new_idempotency_key())
        .await
        .unwrap_err();
    expect_api(&e, 409, ErrorCode::Conflict);
    assert_eq!(e.current().unwrap().status, Status::Won);

    // forward: the closed hop and the new one
    let r4 = w
        .send_from_northwind("acme-web", "Forwarded Co", None)
        .await;
    let fwd = ForwardRequest {
        version: 1,
        to_partner: "harbor-host".into(),
        note: Some("they host".into()),
        commission_pct: Some(10),
        expires_in_hours: Some(48),
    };
    let got = acme
        .forward(&r4.id, &fwd, &new_idempotency_key())
        .await
        .unwrap();
    assert_eq!(
        (got.referral.status, got.referral.version),
        (Status::Forwarded, 2)
    );
    assert_eq!(
        got.referral.forwarded_to.as_deref(),
        Some(got.forwarded.id.as_str())
    );
    assert_eq!(got.forwarded.parent_id.as_deref(), Some(r4.id.as_str()));
    assert_eq!(
        *got.forwarded.chain,
        ["northwind-net", "acme-web", "harbor-host"]
    );
    assert_eq!(got.forwarded.commission_pct, 10);
    assert!(
        got.forwarded.contact_masked,
        "a forwarder does not see the contact"
    );
    let e = acme
        .forward(&r4.id, &fwd, &new_idempotency_key())
        .await
        .unwrap_err();
    expect_api(&e, 409, ErrorCode::Conflict);
    assert_eq!(e.current().unwrap().status, Status::Forwarded);
    // The new hop is harbor's to act on.
    let h = w.client(&w.harbor).get(&got.forwarded.id).await.unwrap();
    assert_eq!(h.status, Status::Pending);
}

#[tokio::test]
async fn batch_applies_items_independently() {
    let w = World::start().await;
    let a = w.send_from_northwind("acme-web", "Batch A", None).await;
    let b = w.send_from_northwind("acme-web", "Batch B", None).await;
    let acme = w.client(&w.acme);
    acme.accept(&b.id, &accept(1), &new_idempotency_key())
        .await
        .unwrap();
    let request = BatchRequest {
        items: vec![
            BatchItem {
                id: a.id.clone(),
                action: BatchAction::Accept(accept(1)),
            },
            BatchItem {
                id: b.id.clone(),
                action: BatchAction::Accept(accept(1)),
            },
            BatchItem {
                id: "r_nonexistent".into(),
                action: BatchAction::Withdraw(WithdrawRequest { version: 1 }),
            },
        ],
    };
    let got = acme.batch(&request, &new_idempotency_key()).await.unwrap();
    let outcomes: Vec<BatchOutcome> = got.results.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        [
            BatchOutcome::Applied,
            BatchOutcome::Conflict,
            BatchOutcome::NotFound
        ]
    );
    assert_eq!(
        got.results[0].referral.as_ref().unwrap().status,
        Status::Accepted
    );
    let conflict = got.results[1].error.as_ref().unwrap();
    assert_eq!(conflict.current.as_ref().unwrap().version, 2);
    assert_eq!(
        (
            got.summary.applied,
            got.summary.conflict,
            got.summary.not_found
        ),
        (1, 1, 1)
    );

    let e = acme
        .batch(&BatchRequest { items: vec![] }, &new_idempotency_key())
        .await
        .unwrap_err();
    expect_api(&e, 422, ErrorCode::Invalid);
}

#[tokio::test]
async fn a_retry_with_the_same_key_after_a_lost_answer_does_not_act_twice() {
    let w = World::start().await;
    let r = w.send_from_northwind("acme-web", "Once Only", None).await;
    let acme = w.client(&w.acme);
    let key = new_idempotency_key();

    // The first attempt reaches the server, which accepts; its answer is
    // "lost" on the way back. The retry sends the same key.
    let attempts = AtomicU32::new(0);
    let mut retries = Vec::new();
    let got = retry_until_definite(
        Backoff::new(Duration::from_millis(10), Duration::from_millis(50)),
        || {
            let n = attempts.fetch_add(1, Ordering::SeqCst);
            let (acme, id, key) = (acme.clone(), r.id.clone(), key.clone());
            async move {
                let answer = acme
                    .post_answer::<_, Referral>(
                        &["v1", "referrals", &id, "accept"],
                        &accept(1),
                        &key,
                    )
                    .await?;
                if n == 0 {
                    return Err(ClientError::Network(
                        "connection lost: connection reset".into(),
                    ));
                }
                Ok(answer)
            }
        },
        |n, e, _| retries.push((n, e.to_string())),
    )
    .await
    .unwrap();
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    assert_eq!(
        retries,
        [(1, "connection lost: connection reset".to_string())]
    );
    assert!(got.replayed, "the second answer is the stored one");
    assert_eq!((got.value.status, got.value.version), (Status::Accepted, 2));

    // Once more with the typed method: replayed again, nothing changes.
    let again = acme.accept(&r.id, &accept(1), &key).await.unwrap();
    assert_eq!(again, got.value);
    assert_eq!(
        acme.get(&r.id).await.unwrap().version,
        2,
        "accepted exactly once"
    );

    // A fresh key with the same stale version is a real conflict.
    let e = acme
        .accept(&r.id, &accept(1), &new_idempotency_key())
        .await
        .unwrap_err();
    expect_api(&e, 409, ErrorCode::Conflict);
    // The same key with a different request: 422 idempotency_mismatch.
    let e = acme.accept(&r.id, &accept(2), &key).await.unwrap_err();
    expect_api(&e, 422, ErrorCode::IdempotencyMismatch);
    assert!(e.is_definite());

    // A first answer that was an error is replayed as that error.
    let first = acme
        .post_answer::<_, Referral>(
            &["v1", "referrals", &r.id, "withdraw"],
            &WithdrawRequest { version: 2 },
            "k-403",
        )
        .await
        .unwrap_err();
    expect_api(&first, 403, ErrorCode::Forbidden);
    let second = acme
        .withdraw(&r.id, &WithdrawRequest { version: 2 }, "k-403")
        .await
        .unwrap_err();
    expect_api(&second, 403, ErrorCode::Forbidden);

    // A send retried with its key creates one referral, not two.
    let north = w.client(&w.northwind);
    let send_key = new_idempotency_key();
    let one = north
        .send(&lead("acme-web", "Sent Once", None), &send_key)
        .await
        .unwrap();
    let two = north
        .send(&lead("acme-web", "Sent Once", None), &send_key)
        .await
        .unwrap();
    assert_eq!(one.id, two.id);
    let (mine, _) = north.list_all(ReferralBox::Outgoing).await.unwrap();
    assert_eq!(
        mine.iter()
            .filter(|r| r.lead.company == "Sent Once")
            .count(),
        1
    );
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
