//! The inbox and its server: `leadx demo`'s own server, the server killed
//! and restarted under a running inbox, and a queued action that lost the
//! race to another partner.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leadx_demo_opens_a_live_queue_with_no_setup() {
    // Nothing configured: the demo runs its own server and world.
    let (cols, rows) = WIDE;
    let mut t = Tui::start(
        Options::new("", "", cols, rows)
            .arg("demo")
            .arg("--interval")
            .arg("0.3"),
    );
    let s = t.until("the demo inbox, live", |s| {
        let header = s.lines().next().unwrap_or("");
        header.contains("· agent")
            && header.contains("http://127.0.0.1:")
            && status_line(s).contains("● live")
            && s.contains("▸ Incoming")
    });
    assert!(cursor_row(&s).is_some(), "no rows:\n{}", e2e::frame(&s));
    // The simulator moves the queue: events arrive with no key pressed.
    t.until("an event from the simulator", |s| {
        status_line(s).contains("last event")
    });
    // Its server answers on the URL the header shows.
    let header = s.lines().next().unwrap().to_owned();
    let url = header
        .split(" │ ")
        .map(str::trim)
        .find(|p| p.starts_with("http://127.0.0.1:"))
        .expect("server in the header")
        .to_owned();
    let health = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let status = t.quit();
    assert!(status.success(), "{status:?}");
    assert_restored(&t, "demo q");
    // Quitting the demo stops its server.
    let gone = reqwest::get(format!("{url}/healthz"))
        .await
        .expect_err("the demo server outlived the demo");
    assert!(gone.is_connect(), "refused, not some other error: {gone}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_killed_and_restarted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("leadx.db");
    let tokens = {
        let store = SqliteStore::open(&db, clock::system()).unwrap();
        populate(&store).await
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let send = |url: &str, token: &str, company: &str| {
        http.post(format!("{url}/v1/referrals"))
            .bearer_auth(token)
            .json(&lead_body("acme-web", company, None))
            .send()
    };
    let port = e2e::free_port();
    let (server, url) = Serve::start(&db, port);
    let first = reply(send(&url, &tokens.northwind, "Echo Bakery").await.unwrap()).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let first = id(&first.body);

    let (cols, rows) = SMALL;
    let mut t = Tui::spawn(&url, &tokens.acme, cols, rows);
    t.until_live("Echo Bakery");

    server.kill();
    t.until("the status bar to say the feed is down", |s| {
        let st = status_line(s);
        st.contains("reconnecting") || st.contains("offline")
    });
    // It never exits, and still shows what it had.
    assert!(t.try_exit().is_none(), "the inbox exited with the server");
    assert!(t.screen().contains("Echo Bakery"));
    // An action taken while the server is away waits in the queue.
    t.send("a");
    t.until("the accept to be in flight or queued", |s| {
        let st = status_line(s);
        st.contains("in flight") || st.contains("unsent")
    });

    let (server, url2) = Serve::start(&db, port);
    assert_eq!(url2, url);
    let second = reply(send(&url, &tokens.pixel, "Foxtrot Florist").await.unwrap()).await;
    assert_eq!(second.status, 201, "{}", second.body);
    let second = id(&second.body);

    let deadline = Duration::from_secs(45);
    t.wait_for("live again, with the lead sent meanwhile", deadline, |s| {
        s.contains("Foxtrot Florist") && status_line(s).contains("● live")
    })
    .unwrap_or_else(|e| panic!("{e}"));
    t.wait_for("the queued accept to be applied", deadline, |s| {
        s.lines()
            .any(|l| l.contains("Echo Bakery") && l.contains("accepted"))
            && !status_line(s).contains("in flight")
            && !status_line(s).contains("unsent")
    })
    .unwrap_or_else(|e| panic!("{e}"));

    let get = |rid: String| {
        let http = http.clone();
        let (url, token) = (url.clone(), tokens.acme.clone());
        async move {
            reply(
                http.get(format!("{url}/v1/referrals/{rid}"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
            .ok()
        }
    };
    let r = get(first).await;
    assert_eq!(r["status"], "accepted");
    assert_eq!(r["version"], 2, "accepted exactly once");
    assert_eq!(r["decided_by"]["name"], "Dana Reyes");
    assert_eq!(get(second).await["status"], "pending");
    assert_eq!(t.quit().exit_code(), 0);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_action_that_lost_the_race_shows_who_won() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("leadx.db");
    let tokens = {
        let store = SqliteStore::open(&db, clock::system()).unwrap();
        populate(&store).await
    };
    let port = e2e::free_port();
    let (server, url) = Serve::start(&db, port);
    let http = reqwest::Client::new();
    let sent = reply(
        http.post(format!("{url}/v1/referrals"))
            .bearer_auth(&tokens.northwind)
            .json(&lead_body("acme-web", "Echo Co", None))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    let rid = id(&sent.body);

    let (cols, rows) = WIDE;
    let mut t = Tui::spawn(&url, &tokens.acme, cols, rows);
    t.until_live("Echo Co");
    server.kill();
    t.until("the feed to be down", |s| {
        let st = status_line(s);
        st.contains("reconnecting") || st.contains("offline")
    });
    // Dana accepts what she sees (version 1); it cannot be sent yet.
    t.send("a");
    t.until("the accept to wait", |s| {
        status_line(s).contains("1 unsent")
    });
    // Meanwhile her admin rejects it (straight in the database: the server
    // is down).
    {
        let store = SqliteStore::open(&db, clock::system()).unwrap();
        let ada = store.authenticate(&tokens.acme_admin).unwrap().unwrap();
        let results = store
            .apply(
                &ada,
                vec![ActionItem {
                    id: rid.clone(),
                    version: 1,
                    action: Action::Reject {
                        reason: ReasonInput {
                            code: ReasonCode::WrongPartner,
                            note: None,
                        },
                    },
                }],
                None,
            )
            .unwrap();
        assert_eq!(results.len(), 1);
    }
    let (_server, _) = Serve::start(&db, port);
    // The retried accept gets 409: the row shows the current state and the
    // status bar says who decided. Nothing is retried after that.
    let s = t
        .wait_for("the conflict to be shown", Duration::from_secs(45), |s| {
            cursor_row(s).is_some_and(|r| r.contains("Echo Co") && r.contains("rejected"))
                && status_line(s).contains("cannot accept Echo Co: already rejected by Ada Admin")
                && !status_line(s).contains("in flight")
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!s.contains("accepted"), "{}", e2e::frame(&s));
    let r = reply(
        http.get(format!("{url}/v1/referrals/{rid}"))
            .bearer_auth(&tokens.acme)
            .send()
            .await
            .unwrap(),
    )
    .await
    .ok();
    assert_eq!(r["status"], "rejected");
    assert_eq!(r["version"], 2);
    assert_eq!(r["decided_by"]["name"], "Ada Admin");
    assert_eq!(t.quit().exit_code(), 0);
}
