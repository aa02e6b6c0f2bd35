//! Acting from the command line: accept, reject, forward, withdraw and
//! send, by id or by query (planned with `--dry-run`, done with `--yes`),
//! and batches sent in chunks and retried with their idempotency key.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_by_id_applies_and_exits_zero() {
    let f = Fixture::new().await;
    let a = f.send("acme-web", "Main Street Bakery").await;
    let b = f.send("acme-web", "Second Co").await;
    let acme = f.w.t.acme.clone();

    let r = f
        .run(&acme, &["accept", &id(&a), &id(&b), "--note", "on it"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        format!("{} accepted\n{} accepted\n2 applied\n", id(&a), id(&b))
    );
    let now = f.get(&acme, &id(&a)).await;
    assert_eq!(now["status"], "accepted");
    assert_eq!(now["decision_note"], "on it");
    assert_eq!(now["decided_by"]["name"], "Dana Reyes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_where_one_item_conflicts_exits_one_with_the_reason() {
    let f = Fixture::new().await;
    let a = f.send("acme-web", "First Co").await;
    let b = f.send("acme-web", "Taken Co").await;
    // Someone else at acme accepts b first.
    f.w.act(
        &f.w.t.acme_admin,
        &id(&b),
        "accept",
        json!({"version": version(&b)}),
    )
    .await
    .ok();

    let r = f
        .run(&f.w.t.acme, &["accept", &id(&a), &id(&b), "r_GONE"])
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines.contains(&"r_GONE not found"), "{r:?}");
    assert!(
        lines.contains(&format!("{} accepted", id(&a)).as_str()),
        "{r:?}"
    );
    let conflict = format!("{} conflict: accepted by Ada Admin (acme-web) at ", id(&b));
    assert!(
        lines.iter().any(|l| l.starts_with(&conflict)),
        "expected {conflict:?}: {r:?}"
    );
    assert_eq!(
        lines.last().copied(),
        Some("1 applied · 1 conflict · 1 not found")
    );
    assert_eq!(f.get(&f.w.t.acme, &id(&a)).await["status"], "accepted");
    assert_eq!(
        f.get(&f.w.t.acme, &id(&b)).await["decided_by"]["name"],
        "Ada Admin",
        "the conflict did not overwrite"
    );

    // The same as JSON: one array of per-item results, exit 1.
    let c = f.send("acme-web", "Json Co").await;
    let r = f
        .run(
            &f.w.t.acme,
            &["accept", &id(&c), &id(&b), "r_GONE", "--format", "json"],
        )
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    let results: Vec<Value> = serde_json::from_str(&r.stdout).expect("one JSON array");
    let outcomes: Vec<(String, &str)> = results
        .iter()
        .map(|x| (id(x), x["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(outcomes.len(), 3, "{r:?}");
    assert!(outcomes.contains(&(id(&c), "applied")), "{r:?}");
    assert!(outcomes.contains(&(id(&b), "conflict")), "{r:?}");
    assert!(
        outcomes.contains(&("r_GONE".to_owned(), "not_found")),
        "{r:?}"
    );
    let conflict = results.iter().find(|x| id(x) == id(&b)).unwrap();
    assert_eq!(
        conflict["error"]["current"]["decided_by"]["name"],
        "Ada Admin"
    );
    let applied = results.iter().find(|x| id(x) == id(&c)).unwrap();
    assert_eq!(applied["referral"]["status"], "accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_forward_and_withdraw() {
    let f = Fixture::new().await;
    let a = f.send("acme-web", "Reject Me").await;
    let b = f.send("acme-web", "Forward Me").await;
    let c = f.send("acme-web", "Withdraw Me").await;
    let acme = f.w.t.acme.clone();

    // Reject needs a reason: a usage error, nothing sent.
    let r = f.run(&acme, &["reject", &id(&a)]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--reason"), "{r:?}");
    let r = f
        .run(&acme, &["reject", &id(&a), "--reason", "bogus"])
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(f.get(&acme, &id(&a)).await["status"], "pending");

    let r = f
        .run(
            &acme,
            &[
                "reject",
                &id(&a),
                "--reason",
                "unable_to_support",
                "--note",
                "no capacity",
            ],
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        format!("{} rejected (unable_to_support)\n1 applied\n", id(&a))
    );
    let now = f.get(&acme, &id(&a)).await;
    assert_eq!(now["status"], "rejected");
    assert_eq!(now["reason"]["code"], "unable_to_support");
    assert_eq!(now["reason"]["note"], "no capacity");

    let r = f
        .run(
            &acme,
            &["forward", &id(&b), "--to", "harbor-host", "--note", "yours"],
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let first = r.stdout.lines().next().unwrap_or_default();
    let prefix = format!("{} forwarded to harbor-host as r_", id(&b));
    assert!(first.starts_with(&prefix), "{r:?}");
    let child = first.rsplit(' ').next().unwrap();
    assert_eq!(f.get(&acme, &id(&b)).await["status"], "forwarded");
    let child = f.get(&f.w.t.harbor, child).await;
    assert_eq!(child["to_partner"], "harbor-host");
    assert_eq!(child["status"], "pending");

    // Forwarding to a partner already in the chain is refused: exit 1.
    let d = f.send("acme-web", "Back To Sender").await;
    let r = f
        .run(&acme, &["forward", &id(&d), "--to", "northwind-net"])
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.starts_with(&format!("{} invalid: ", id(&d))),
        "{r:?}"
    );
    assert!(r.stdout.ends_with("0 applied · 1 invalid\n"), "{r:?}");

    // A viewer may not act: refused, exit 1, nothing changes.
    let r = f.run(&f.w.t.acme_viewer, &["accept", &id(&d)]).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.starts_with(&format!("{} forbidden", id(&d))),
        "{r:?}"
    );
    assert!(r.stdout.ends_with("0 applied · 1 forbidden\n"), "{r:?}");
    assert_eq!(f.get(&acme, &id(&d)).await["status"], "pending");

    // Only the sender withdraws: acme is refused, northwind succeeds.
    let r = f.run(&acme, &["withdraw", &id(&c)]).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.starts_with(&format!("{} forbidden", id(&c))),
        "{r:?}"
    );
    let r = f.run(&f.w.t.northwind, &["withdraw", &id(&c)]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, format!("{} withdrawn\n1 applied\n", id(&c)));
    assert_eq!(f.get(&acme, &id(&c)).await["status"], "withdrawn");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_selection_plans_with_dry_run_and_acts_only_with_yes() {
    let f = Fixture::new().await;
    let mut pending = Vec::new();
    for i in 0..3 {
        pending.push(id(&f.send("acme-web", &format!("Pending {i}")).await));
    }
    let done = f.send("acme-web", "Already Taken").await;
    f.w.act(&f.w.t.acme, &id(&done), "accept", json!({"version": 1}))
        .await
        .ok();
    let mine =
        f.w.send(&f.w.t.acme, "northwind-net", "Outgoing", None)
            .await;
    let acme = f.w.t.acme.clone();

    // --dry-run: the plan, exit 0, nothing changes.
    let r = f
        .run(&acme, &["accept", "--query", "status:pending", "--dry-run"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("would accept 3 referrals:\n"), "{r:?}");
    for p in &pending {
        assert!(r.stdout.contains(p.as_str()), "{r:?}");
    }
    assert!(
        !r.stdout.contains(&id(&mine)),
        "outgoing is not accepted: {r:?}"
    );
    // The plan as JSON: the referrals that would be acted on.
    let r = f
        .run(
            &acme,
            &[
                "accept",
                "--query",
                "status:pending",
                "--dry-run",
                "--format",
                "json",
            ],
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let planned: Vec<Value> = serde_json::from_str(&r.stdout).expect("one JSON array");
    let mut planned: Vec<String> = planned.iter().map(id).collect();
    planned.sort();
    let mut expected = pending.clone();
    expected.sort();
    assert_eq!(planned, expected);

    // What the query matches but the action does not apply to is counted.
    let r = f
        .run(&acme, &["accept", "--query", "taken", "--dry-run"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        "would accept 0 referrals\n(1 skipped: not pending incoming)\n"
    );
    for p in &pending {
        assert_eq!(f.get(&acme, p).await["status"], "pending");
    }

    // Without --yes: the plan, exit 1, nothing changes.
    let r = f.run(&acme, &["accept", "--query", "status:pending"]).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.starts_with("would accept 3 referrals:"), "{r:?}");
    assert!(r.stderr.contains("--yes"), "{r:?}");
    for p in &pending {
        assert_eq!(f.get(&acme, p).await["status"], "pending");
    }

    // With --yes: acted on, each once.
    let r = f
        .run(&acme, &["accept", "--query", "status:pending", "--yes"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.ends_with("3 applied\n"), "{r:?}");
    for p in &pending {
        let now = f.get(&acme, p).await;
        assert_eq!(
            (now["status"].as_str(), now["version"].as_u64()),
            (Some("accepted"), Some(2))
        );
    }
    assert_eq!(f.get(&acme, &id(&mine)).await["status"], "pending");

    // Nothing left to act on: exit 0, and what matched but was skipped
    // ("pending" matches the companies "Pending N", accepted by now).
    let r = f
        .run(&acme, &["accept", "--query", "pending", "--yes"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "(3 skipped: not pending incoming)\n0 applied\n");

    // ids and --query together are a usage error.
    let r = f
        .run(&acme, &["accept", &pending[0], "--query", "status:pending"])
        .await;
    assert_eq!(r.code, 2, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_prints_the_new_id() {
    let f = Fixture::new().await;
    let r = f
        .run(
            &f.w.t.northwind,
            &[
                "send",
                "--to",
                "acme-web",
                "--company",
                "New Co",
                "--category",
                "hosting",
                "--domain",
                "newco.example",
                "--value",
                "12k",
                "--commission",
                "10",
                "--summary",
                "Two lines\nof summary",
                "--expires-in-hours",
                "24",
            ],
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let rid = r.stdout.trim_end();
    assert!(rid.starts_with("r_") && !rid.contains('\n'), "{r:?}");
    let v = f.get(&f.w.t.acme, rid).await;
    assert_eq!(v["lead"]["company"], "New Co");
    assert_eq!(v["lead"]["est_value_cents"], 1_200_000);
    assert_eq!(v["commission_pct"], 10);
    assert_eq!(v["lead"]["summary"], "Two lines\nof summary");

    // The same domain again: refused as a duplicate, naming the open hop.
    let r = f
        .run(
            &f.w.t.northwind,
            &[
                "send",
                "--to",
                "acme-web",
                "--company",
                "New Co",
                "--category",
                "hosting",
                "--domain",
                "newco.example",
            ],
        )
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("duplicate"), "{r:?}");
    assert!(r.stderr.contains(rid), "{r:?}");
    assert!(r.stdout.is_empty());

    // A bad value is a usage error.
    let r = f
        .run(
            &f.w.t.northwind,
            &[
                "send",
                "--to",
                "acme-web",
                "--company",
                "X",
                "--category",
                "hosting",
                "--value",
                "lots",
            ],
        )
        .await;
    assert_eq!(r.code, 2, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_go_in_chunks_of_500_and_a_lost_answer_is_retried_with_its_key() {
    let rig = RiggedStore::default();
    rig.lose_next.store(true, Ordering::SeqCst);
    let w = World::start_with(ServerConfig::for_tests(), |inner| rig.wrap(inner)).await;
    let f = Fixture {
        w,
        home: tempfile::tempdir().unwrap(),
    };
    for i in 0..501 {
        f.send("acme-web", &format!("Bulk {i}")).await;
    }
    let r = f
        .run(
            &f.w.t.acme,
            &["accept", "--query", "status:pending bulk", "--yes"],
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.ends_with("\n501 applied\n"), "{r:?}");
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.ends_with(" accepted"))
            .count(),
        501
    );
    assert!(
        r.stderr.contains("batch 1 of 2, attempt 1: ") && r.stderr.contains("retrying in"),
        "the lost answer was retried: {r:?}"
    );
    // Two chunks were applied: 500 then 1. The retry of the first was
    // answered from the stored response, not applied again.
    assert_eq!(*rig.sizes.lock().unwrap(), vec![500, 1]);
    let all =
        f.w.get(&f.w.t.acme, "/v1/referrals?box=incoming&limit=5000")
            .await
            .ok();
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 501);
    for item in items {
        assert_eq!(
            (item["status"].as_str(), item["version"].as_u64()),
            (Some("accepted"), Some(2)),
            "applied exactly once: {item}"
        );
    }
}
