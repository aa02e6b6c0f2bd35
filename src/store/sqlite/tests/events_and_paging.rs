//! The event log's pruning (a day, or the last 100,000) and list pages
//! that cover every row once with a consistent `as_of`.

use super::*;

#[test]
fn prune_keeps_events_within_a_day() {
    let w = world();
    w.sent("north", "acme");
    w.clock.advance(Duration::hours(30));
    w.sent("north", "acme");
    w.store.prune().unwrap();
    // The old event is beyond 24 h but inside the last 100,000: kept.
    assert_eq!(w.all_events().len(), 2);
    assert_eq!(w.store.resume_floor().unwrap(), 0);
}

#[test]
fn list_pages_cover_every_row_once_with_consistent_as_of() {
    let w = Arc::new(world());
    let mut expected_acme = BTreeSet::new();
    for i in 0..60 {
        let (from, to) = match i % 3 {
            0 => ("north", "acme"),
            1 => ("acme", "blue"),
            _ => ("blue", "pixel"),
        };
        let r = w.sent(from, to);
        if from == "acme" || to == "acme" {
            expected_acme.insert(r.referral.id.clone());
        }
    }
    // Writers keep changing things while we page.
    let busy = {
        let w = w.clone();
        std::thread::spawn(move || {
            for _ in 0..30 {
                w.sent("blue", "acme");
            }
        })
    };
    let page_through = |box_: ReferralBox, statuses: Vec<Status>, scope: Scope| {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = w
                .store
                .list(&ListQuery {
                    scope: scope.clone(),
                    box_,
                    statuses: statuses.clone(),
                    after_id: after.clone(),
                    limit: 7,
                })
                .unwrap();
            // Each item is exactly as the log stood at as_of.
            let log = w.store.events_after(0, usize::MAX).unwrap();
            for item in &page.items {
                let at = log
                    .iter()
                    .rfind(|e| e.seq <= page.as_of && e.referral.referral.id == item.referral.id)
                    .expect("item's event at or before as_of");
                assert_eq!(at.referral, *item);
            }
            seen.extend(page.items.iter().map(|s| s.referral.id.clone()));
            if !page.has_more {
                break;
            }
            after = seen.last().cloned();
        }
        seen
    };
    let seen = page_through(ReferralBox::All, vec![], Scope::Partner("acme-web".into()));
    busy.join().unwrap();
    let set: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(set.len(), seen.len(), "no row twice");
    assert!(seen.windows(2).all(|p| p[0] < p[1]), "ordered by id");
    assert!(expected_acme.is_subset(&set));
    let after_busy = page_through(ReferralBox::All, vec![], Scope::Partner("acme-web".into()));
    assert_eq!(after_busy.len(), expected_acme.len() + 30);

    let incoming = page_through(
        ReferralBox::Incoming,
        vec![],
        Scope::Partner("acme-web".into()),
    );
    let outgoing = page_through(
        ReferralBox::Outgoing,
        vec![],
        Scope::Partner("acme-web".into()),
    );
    assert_eq!(incoming.len(), 20 + 30);
    assert_eq!(outgoing.len(), 20);
    let everything = page_through(ReferralBox::All, vec![], Scope::Everything);
    assert_eq!(everything.len(), 90);
    let one = outgoing[0].clone();
    w.act("blue", &one, 1, accept()).unwrap_err_free();
    let accepted = page_through(
        ReferralBox::All,
        vec![Status::Accepted],
        Scope::Partner("acme-web".into()),
    );
    assert_eq!(accepted, vec![one]);
    let open = page_through(
        ReferralBox::Outgoing,
        vec![Status::Pending, Status::Accepted],
        Scope::Partner("acme-web".into()),
    );
    assert_eq!(open.len(), 20);
    let page = w
        .store
        .list(&ListQuery {
            scope: Scope::Partner("fox-design".into()),
            box_: ReferralBox::All,
            statuses: vec![],
            after_id: None,
            limit: 10,
        })
        .unwrap();
    assert!(page.items.is_empty() && !page.has_more);
    assert_eq!(page.as_of, w.store.last_seq().unwrap());
}

#[test]
fn prune_keeps_a_day_or_the_last_100000_whichever_is_more() {
    let w = world();
    w.sent("north", "acme");
    // 100,009 more old events, written straight into the log.
    let c = Connection::open(&w.path).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    c.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100009) \
         INSERT INTO events (at, referral_id, accepted_partner, body) \
         SELECT e.at, e.referral_id, e.accepted_partner, e.body FROM n, events e WHERE e.seq = 1",
        [],
    )
    .unwrap();
    assert_eq!(w.store.last_seq().unwrap(), 100_010);
    w.clock.advance(Duration::hours(25));
    w.sent("north", "acme");
    let last = w.store.last_seq().unwrap();
    assert_eq!(last, 100_011);
    w.store.prune().unwrap();
    // Older than a day and not among the last 100,000: seqs 1..=11 go.
    assert_eq!(w.store.resume_floor().unwrap(), 11);
    let first = w.store.events_after(0, 1).unwrap();
    assert_eq!(first[0].seq, 12);
    let n: i64 = c
        .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 100_000);
    // Pruning again changes nothing; a newer day keeps everything it has.
    w.store.prune().unwrap();
    assert_eq!(w.store.resume_floor().unwrap(), 11);
    assert_eq!(w.store.last_seq().unwrap(), last);
}
