//! `leadx watch`: events printed as they happen, filtered by query, across
//! a server restart, and listed again when the server no longer holds the
//! resume point.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_prints_events_that_happen_after_it_starts() {
    let f = Fixture::new().await;
    let before = f.send("acme-web", "Before Watch").await;
    let mut cmd = leadx(
        f.home.path(),
        &f.w.url,
        Some(&f.w.t.acme),
        &["watch", "--format", "json"],
    );
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn watch");
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    wait_line(&mut err, "the watching notice", |l| {
        l.starts_with("leadx: watching ")
    })
    .await;

    let new = f.send("acme-web", "During Watch").await;
    let line = wait_line(&mut out, "the new referral", |_| true).await;
    let ev: Value = serde_json::from_str(&line).expect("one JSON object per line");
    assert_eq!(id(&ev["referral"]), id(&new), "{line}");
    assert_eq!(ev["referral"]["lead"]["company"], "During Watch");
    assert!(ev["seq"].as_u64().is_some(), "{line}");

    f.w.act(
        &f.w.t.acme_admin,
        &id(&before),
        "accept",
        json!({"version": 1}),
    )
    .await
    .ok();
    let line = wait_line(&mut out, "the accept", |_| true).await;
    let ev: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(id(&ev["referral"]), id(&before), "{line}");
    assert_eq!(ev["referral"]["status"], "accepted");
    assert_eq!(ev["referral"]["version"], 2);

    signal(child.id().expect("pid"), "TERM");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("watch stops on SIGTERM")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    // Nothing else was printed (no repeats).
    let rest = tokio::time::timeout(Duration::from_secs(5), out.next_line())
        .await
        .expect("stdout closes")
        .unwrap();
    assert_eq!(rest, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_line_format_filters_by_query_and_survives_a_server_restart() {
    let mut f = Fixture::new().await;
    let mut cmd = leadx(
        f.home.path(),
        &f.w.url,
        Some(&f.w.t.acme),
        &["watch", "--query", "hosting"],
    );
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn watch");
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    wait_line(&mut err, "the watching notice", |l| {
        l.starts_with("leadx: watching ")
    })
    .await;

    // A design lead does not match `hosting`: not printed.
    let mut body = common::lead_body("acme-web", "Design Only", None);
    body["lead"]["category"] = json!("design");
    body["lead"]["summary"] = json!("A new logo");
    f.w.post(&f.w.t.northwind, "/v1/referrals", &body)
        .await
        .ok();
    let hostile = f.send("acme-web", "Bad\u{1b}[2JCo").await;
    let line = wait_line(&mut out, "the new referral", |_| true).await;
    assert!(line.contains(&id(&hostile)), "{line}");
    assert!(
        line.contains("v1  pending  northwind-net → acme-web  Bad␛"),
        "{line}"
    );
    assert!(!line.contains('\u{1b}'), "{line:?}");

    // The server goes away and comes back on the same port: the watcher
    // resumes from where it was and prints what happened meanwhile, once.
    let server = f.w.server.take().expect("server");
    let addr = server.addr;
    server.shutdown().await;
    wait_line(&mut err, "the disconnect notice", |l| {
        l.contains("disconnected")
    })
    .await;
    // The accept happens while the server is down (straight into its
    // database), then a new server opens on the same port.
    let actor =
        f.w.store
            .authenticate(&f.w.t.acme)
            .await
            .unwrap()
            .expect("acme");
    let results =
        f.w.store
            .apply(
                &actor,
                vec![ActionItem {
                    id: id(&hostile),
                    version: 1,
                    action: Action::Accept { note: None },
                }],
                None,
            )
            .await
            .unwrap();
    assert!(results[0].is_ok());
    let mut config = leadx::server::ServerConfig::for_tests();
    config.listen = addr;
    let clock: leadx::clock::SharedClock = f.w.clock.clone();
    let restarted = leadx::server::start(f.w.store.clone(), clock, config)
        .await
        .expect("restart on the same port");
    f.w.server = Some(restarted);
    let line = wait_line(&mut out, "the accept after the restart", |_| true).await;
    assert!(
        line.contains(&format!("{}  v2  accepted", id(&hostile))),
        "{line}"
    );
    assert!(
        line.contains("(accepted by Dana Reyes (acme-web) at "),
        "{line}"
    );

    signal(child.id().expect("pid"), "TERM");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("watch stops on SIGTERM")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let rest = tokio::time::timeout(Duration::from_secs(5), out.next_line())
        .await
        .expect("stdout closes")
        .unwrap();
    assert_eq!(rest, None, "no repeats");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_lists_again_when_the_server_no_longer_holds_its_resume_point() {
    let rig = RiggedStore::default();
    let w = World::start_with(ServerConfig::for_tests(), |inner| rig.wrap(inner)).await;
    let mut f = Fixture {
        w,
        home: tempfile::tempdir().unwrap(),
    };
    let a = f.send("acme-web", "Before").await;
    let mut cmd = leadx(f.home.path(), &f.w.url, Some(&f.w.t.acme), &["watch"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn watch");
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    wait_line(&mut err, "the watching notice", |l| {
        l.starts_with("leadx: watching 1 referrals")
    })
    .await;

    // While the server is down, `a` is accepted and the server forgets
    // every event up to now.
    let server = f.w.server.take().expect("server");
    let addr = server.addr;
    server.shutdown().await;
    wait_line(&mut err, "the disconnect notice", |l| {
        l.contains("disconnected")
    })
    .await;
    let actor =
        f.w.store
            .authenticate(&f.w.t.acme)
            .await
            .unwrap()
            .expect("acme");
    let results =
        f.w.store
            .apply(
                &actor,
                vec![ActionItem {
                    id: id(&a),
                    version: 1,
                    action: Action::Accept { note: None },
                }],
                None,
            )
            .await
            .unwrap();
    assert!(results[0].is_ok());
    rig.floor
        .store(f.w.store.last_seq().await.unwrap(), Ordering::SeqCst);
    let mut config = ServerConfig::for_tests();
    config.listen = addr;
    let clock: leadx::clock::SharedClock = f.w.clock.clone();
    f.w.server = Some(
        leadx::server::start(f.w.store.clone(), clock, config)
            .await
            .expect("restart on the same port"),
    );

    // 410: it lists again and prints what changed meanwhile, once.
    wait_line(&mut err, "the relist notice", |l| {
        l.contains("listing again")
    })
    .await;
    let line = wait_line(&mut out, "the accept found by listing", |_| true).await;
    assert!(
        line.contains(&format!("{}  v2  accepted", id(&a))),
        "{line}"
    );
    // Then it follows the feed from the new list.
    let c = f.send("acme-web", "After").await;
    let line = wait_line(&mut out, "the live event", |_| true).await;
    assert!(line.contains(&format!("{}  v1  pending", id(&c))), "{line}");

    signal(child.id().expect("pid"), "INT");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("watch stops on SIGINT")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let rest = tokio::time::timeout(Duration::from_secs(5), out.next_line())
        .await
        .expect("stdout closes")
        .unwrap();
    assert_eq!(rest, None, "no repeats");
}
