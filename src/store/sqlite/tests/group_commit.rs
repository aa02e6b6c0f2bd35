//! Group commit, counted: the writer's commits are read from
//! [`SqliteStore::group_commits`], and grouping is forced by holding the
//! writer inside a job while the others queue behind it.

use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration as StdDuration, Instant};

use super::*;

/// Waits until `n` more jobs than `from` have been handed to the writer.
fn until_queued(store: &SqliteStore, from: u64, n: u64) {
    let deadline = Instant::now() + StdDuration::from_secs(20);
    while store.queued.load(Ordering::Acquire) < from + n {
        assert!(Instant::now() < deadline, "{n} jobs never queued");
        std::thread::sleep(StdDuration::from_millis(2));
    }
}

#[test]
fn large_batch_is_one_commit() {
    let w = world();
    let before_sends = w.store.group_commits();
    let ids: Vec<String> = (0..500)
        .map(|_| w.sent("north", "acme").referral.id)
        .collect();
    // The counter counts: 500 sends one after another are 500 commits.
    assert_eq!(w.store.group_commits() - before_sends, 500);
    let items = ids
        .iter()
        .map(|id| ActionItem {
            id: id.clone(),
            version: 1,
            action: accept(),
        })
        .collect();
    let mut live = w.store.subscribe();
    let before = w.store.group_commits();
    let res = w.store.apply(&w.actor("acme"), items, None).unwrap();
    assert_eq!(
        w.store.group_commits() - before,
        1,
        "500 accepts in one batch are one commit"
    );
    assert_eq!(res.len(), 500);
    for (r, id) in res.into_iter().zip(&ids) {
        let a = r.unwrap_err_free();
        assert_eq!(&a.referral.referral.id, id);
        assert_eq!(a.referral.referral.status, Status::Accepted);
        assert_eq!(a.referral.referral.version, 2);
    }
    let mut seqs = Vec::new();
    while let Ok(e) = live.try_recv() {
        seqs.push(e.seq);
    }
    assert_eq!(seqs.len(), 500);
    assert!(seqs.windows(2).all(|p| p[1] == p[0] + 1));
}

/// Four accepts, each with an idempotency key, run in one group; the first
/// one's render panics. It alone is rolled back: the other three commit,
/// in that same transaction, with their events and saved responses.
#[test]
fn a_panicking_render_rolls_back_only_itself() {
    let w = world();
    let rs: Vec<StoredReferral> = (0..4).map(|_| w.sent("north", "acme")).collect();
    let events_before = w.all_events().len();
    let acme = w.actor("acme");
    let (entered_tx, entered) = mpsc::channel::<()>();
    let (release, released) = mpsc::channel::<()>();
    let store = &w.store;
    let queued = store.queued.load(Ordering::Acquire);
    let outcomes = std::thread::scope(|s| {
        // Owned here, so that a failing assertion drops it and frees the gate.
        let release = release;
        // Hold the writer inside a job of its own group...
        let gate = s.spawn(move || {
            store.submit(1, move |_| {
                entered_tx.send(()).unwrap();
                released.recv().unwrap();
                Ok(())
            })
        });
        entered.recv().unwrap();
        let commits = store.group_commits();
        // ...while the four queue up behind it, from four threads.
        let callers: Vec<_> = rs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let (acme, id) = (&acme, r.referral.id.clone());
                s.spawn(move || {
                    let key = format!("k{i}");
                    let save = if i == 0 {
                        IdemSave {
                            user_id: acme.user_id.clone(),
                            key,
                            request_hash: "h".into(),
                            render: Box::new(|_| panic!("render failed")),
                        }
                    } else {
                        idem(&acme.user_id, &key, "h", "ok")
                    };
                    let item = ActionItem {
                        id,
                        version: 1,
                        action: accept(),
                    };
                    store.apply(acme, vec![item], Some(save))
                })
            })
            .collect();
        // (The gate's own job counts as queued too, maybe only now.)
        until_queued(store, queued, 1 + 4);
        release.send(()).unwrap();
        gate.join().unwrap().unwrap();
        let outcomes: Vec<_> = callers.into_iter().map(|c| c.join().unwrap()).collect();
        // The gate's group, then one group holding all four.
        assert_eq!(
            store.group_commits() - commits,
            2,
            "the four were one group"
        );
        outcomes
    });
    let mut outcomes = outcomes.into_iter();
    match outcomes.next().unwrap() {
        Err(StoreError::Backend(m)) => assert_eq!(m, "the store's writer did not answer"),
        other => panic!("the panicking job: {other:?}"),
    }
    for (i, out) in outcomes.enumerate() {
        let res = out.unwrap();
        assert_eq!(res.len(), 1);
        assert_eq!(res[0].as_ref().unwrap().referral.referral.version, 2);
        let key = format!("k{}", i + 1);
        assert_eq!(
            w.store.idem_lookup(&acme.user_id, &key, "h").unwrap(),
            Some(IdemTaken::Replay(StoredResponse {
                status: 200,
                body: b"ok:v2".to_vec(),
            }))
        );
    }
    // Nothing of the panicking one was kept...
    let first = &rs[0].referral.id;
    assert_eq!(w.store.get(first).unwrap().unwrap().referral.version, 1);
    assert_eq!(w.store.idem_lookup(&acme.user_id, "k0", "h").unwrap(), None);
    // ...while the other three are stored, with one event each.
    for r in &rs[1..] {
        let got = w.store.get(&r.referral.id).unwrap().unwrap();
        assert_eq!(got.referral.status, Status::Accepted);
    }
    let events = w.all_events();
    assert_eq!(events.len(), events_before + 3);
    let accepted: BTreeSet<&str> = events[events_before..]
        .iter()
        .map(|e| e.referral.referral.id.as_str())
        .collect();
    let others: BTreeSet<&str> = rs[1..].iter().map(|r| r.referral.id.as_str()).collect();
    assert_eq!(accepted, others);
    // And the writer still works.
    w.store.health().unwrap();
    w.act("acme", first, 1, accept()).unwrap_err_free();
}
