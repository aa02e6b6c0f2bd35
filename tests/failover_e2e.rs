//! The real inbox in a pseudo-terminal with two servers of one exchange
//! (two front ends over the same store): when the live one goes away, the
//! inbox moves to the other, says so, shows it as live, and its feed and
//! actions carry on there.

mod common;
mod e2e;

use std::time::Duration;

use common::{World, id, lead_body, reply};
use e2e::{Tui, cursor_row, status_line};
use leadx::client::server_label;
use leadx::server::{ServerConfig, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_moves_to_the_second_server_when_the_first_goes_away() {
    let mut w = World::start().await;
    let first = id(&w
        .send(&w.t.northwind, "acme-web", "Alpha Bakery", None)
        .await);
    let b = start(w.store.clone(), w.clock.clone(), ServerConfig::for_tests())
        .await
        .expect("second server");
    let (a_name, b_name) = (server_label(&w.url), server_label(&b.url));

    let mut t = Tui::spawn(&format!("{},{}", w.url, b.url), &w.t.acme, 80, 24);
    let s = t.until_live("Alpha Bakery");
    assert!(
        status_line(&s).contains(&format!("● live · {a_name}")),
        "{}",
        e2e::frame(&s)
    );

    // The live server goes away: the feed drops, finds it unreachable and
    // moves to the second, which is then live.
    w.server.take().expect("server A").shutdown().await;
    // The status line is live on B, and the message, too long for that
    // line at 80 columns, has rows of its own under it: whole, not cut.
    let moved = format!("moved to {b_name}: {a_name} unreachable");
    let s = t.until(
        "the inbox to be live on the second server, saying why",
        |s| {
            let bottom: Vec<&str> = s.lines().rev().take(5).collect();
            bottom
                .iter()
                .any(|l| l.contains(&format!("● live · {b_name}")))
                && bottom.iter().any(|l| l.contains(&moved))
        },
    );
    assert!(s.contains(&moved), "{}", e2e::frame(&s));
    assert!(t.try_exit().is_none(), "the inbox exited with a server");

    // A lead sent through the second server arrives live.
    let http = reqwest::Client::new();
    let sent = reply(
        http.post(format!("{}/v1/referrals", b.url))
            .bearer_auth(&w.t.pixel)
            .json(&lead_body("acme-web", "Bravo Dental", None))
            .send()
            .await
            .expect("send via B"),
    )
    .await
    .ok();
    let second = id(&sent);
    t.until("the lead sent via B", |s| s.contains("Bravo Dental"));

    // An action goes to the second server and applies once.
    t.send("G");
    t.until("the cursor on Alpha Bakery", |s| {
        cursor_row(s).is_some_and(|r| r.contains("Alpha Bakery"))
    });
    t.send("a");
    t.until("Alpha Bakery accepted", |s| {
        cursor_row(s).is_some_and(|r| r.contains("Alpha Bakery") && r.contains("accepted"))
    });
    let get = |rid: String| {
        let (http, url, token) = (http.clone(), b.url.clone(), w.t.acme.clone());
        async move {
            reply(
                http.get(format!("{url}/v1/referrals/{rid}"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .expect("get via B"),
            )
            .await
            .ok()
        }
    };
    let r = get(first).await;
    assert_eq!(
        (r["status"].as_str(), r["version"].as_u64()),
        (Some("accepted"), Some(2))
    );
    assert_eq!(get(second).await["status"], "pending");
    assert_eq!(t.quit().exit_code(), 0);
    tokio::time::timeout(Duration::from_secs(10), b.shutdown())
        .await
        .expect("B stops");
}
