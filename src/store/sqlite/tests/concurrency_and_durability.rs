//! Many writers at once (one winner, every write in order) and what is
//! on disk: WAL with full sync, times in whole seconds.

use super::*;

#[test]
fn concurrent_accepts_have_exactly_one_winner() {
    let w = Arc::new(world());
    let r = w.sent("north", "acme");
    let id = r.referral.id.clone();
    let threads: Vec<_> = (0..24)
        .map(|i| {
            let w = w.clone();
            let id = id.clone();
            std::thread::spawn(move || {
                let who = if i % 2 == 0 { "acme" } else { "acme-admin" };
                w.act(who, &id, 1, accept())
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let winners = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(winners, 1);
    for r in &results {
        if let Err(e) = r {
            match e {
                DomainError::Conflict { message, current } => {
                    assert!(message.starts_with("accepted by acme"), "{message}");
                    assert_eq!(current.referral.version, 2);
                }
                other => panic!("{other:?}"),
            }
        }
    }
    let got = w.store.get(&id).unwrap().unwrap();
    assert_eq!(got.referral.version, 2);
    assert_eq!(w.all_events().len(), 2);
}

#[test]
fn writes_from_many_threads_all_land_in_order() {
    let w = Arc::new(world());
    let mut live = w.store.subscribe();
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let w = w.clone();
            std::thread::spawn(move || {
                (0..20)
                    .map(|_| w.sent("north", "acme").referral.id)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let ids: BTreeSet<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(ids.len(), 320);
    let mut last = 0;
    let mut got = BTreeSet::new();
    while let Ok(e) = live.try_recv() {
        assert!(e.seq > last);
        last = e.seq;
        got.insert(e.referral.referral.id.clone());
    }
    assert_eq!(got, ids);
    assert_eq!(last, 320);
}

#[test]
fn stored_times_are_whole_seconds() {
    let w = world();
    w.clock.advance(Duration::milliseconds(1500));
    let r = w.sent("north", "acme");
    assert_eq!(r.referral.created_at.timestamp_subsec_nanos(), 0);
    assert_eq!(r.referral.expires_at.timestamp_subsec_nanos(), 0);
    assert_eq!(r.referral.created_at.timestamp() % 60, 4);
}

#[test]
fn the_writer_is_wal_with_full_sync() {
    let w = world();
    let (sync, mode, busy) = w
        .store
        .submit(1, |ctx| {
            let q = |sql: &str| -> StoreResult<String> {
                ctx.conn
                    .query_row(sql, [], |r| r.get::<_, rusqlite::types::Value>(0))
                    .map(|v| match v {
                        rusqlite::types::Value::Integer(i) => i.to_string(),
                        rusqlite::types::Value::Text(t) => t,
                        other => format!("{other:?}"),
                    })
                    .map_err(backend)
            };
            Ok((
                q("PRAGMA synchronous")?,
                q("PRAGMA journal_mode")?,
                q("PRAGMA busy_timeout")?,
            ))
        })
        .unwrap();
    assert_eq!(sync, "2", "synchronous=FULL");
    assert_eq!(mode, "wal");
    assert_eq!(busy, "10000", "writers wait up to 10 s for a lock");
}
