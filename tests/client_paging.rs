//! `Client::list_all*` against tiny hostile servers: pagination that never
//! ends is stopped with an error that says why, after a bounded number of
//! requests, instead of growing the client without limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use leadx::client::{Client, ClientConfig, ClientError, ListLimits};
use leadx::wire::ReferralBox;
use serde_json::{Value, json};

/// How a hostile server answers a page request.
#[derive(Clone, Copy)]
enum Hostile {
    /// Always the same next cursor.
    SameCursor,
    /// A new cursor each time, with the same items.
    StuckItems,
    /// A new cursor and new items each time, forever.
    Endless,
    /// New items each time, each page about 64 KiB.
    HugePages,
}

struct Served {
    mode: Hostile,
    requests: AtomicU64,
}

fn referral(n: u64, note: &str) -> Value {
    json!({
        "id": format!("r_{n:026}"),
        "version": 1,
        "status": "pending",
        "from_partner": "northwind-net",
        "to_partner": "acme-web",
        "lead": {
            "company": "Main Street Bakery", "domain": null, "contact_name": null,
            "contact_email": null, "contact_phone": null, "category": "hosting",
            "summary": null, "est_value_cents": null, "currency": "USD", "region": null
        },
        "contact_masked": true,
        "commission_pct": 15,
        "note": note,
        "decision_note": null,
        "created_at": "2026-11-26T09:14:03Z",
        "updated_at": "2026-11-26T09:14:03Z",
        "expires_at": "2026-11-29T09:14:03Z",
        "decided_at": null, "decided_by": null, "reason": null, "outcome": null,
        "parent_id": null, "forwarded_to": null,
        "chain": ["northwind-net", "acme-web"]
    })
}

async fn page(
    State(served): State<Arc<Served>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Json<Value> {
    let n = served.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let cursor = match served.mode {
        Hostile::SameCursor => "c".to_owned(),
        _ => format!("c{n}"),
    };
    let items = match served.mode {
        Hostile::SameCursor | Hostile::Endless => vec![referral(n, "")],
        Hostile::StuckItems => vec![referral(1, "")],
        Hostile::HugePages => vec![referral(n, &"x".repeat(64 * 1024))],
    };
    let _ = q.get("cursor");
    Json(json!({"items": items, "next_cursor": cursor, "as_of": 7}))
}

/// Serves `mode` on a loopback port; a client for it with `limits`.
async fn hostile(mode: Hostile, limits: ListLimits) -> (Client, Arc<Served>) {
    let served = Arc::new(Served {
        mode,
        requests: AtomicU64::new(0),
    });
    let app = Router::new()
        .route("/v1/referrals", get(page))
        .with_state(served.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut config = ClientConfig::new(format!("http://{addr}"), "lx_test");
    config.list_limits = limits;
    (Client::new(config).unwrap(), served)
}

/// `list_all` of the hostile server, which must end within 20 s.
async fn load(client: &Client) -> ClientError {
    tokio::time::timeout(Duration::from_secs(20), client.list_all(ReferralBox::All))
        .await
        .expect("list_all kept following the server's cursors")
        .expect_err("an endless list is an error")
}

#[tokio::test]
async fn a_repeated_cursor_stops_the_load() {
    let (client, served) = hostile(Hostile::SameCursor, ListLimits::default()).await;
    let err = load(&client).await;
    assert!(err.to_string().contains("repeated the cursor"), "{err}");
    assert_eq!(served.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn new_cursors_over_the_same_items_stop_the_load() {
    let (client, served) = hostile(Hostile::StuckItems, ListLimits::default()).await;
    let err = load(&client).await;
    assert!(err.to_string().contains("did not move forward"), "{err}");
    assert_eq!(served.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn endless_new_pages_stop_at_the_item_bound() {
    let limits = ListLimits {
        max_items: 300,
        ..ListLimits::default()
    };
    let (client, served) = hostile(Hostile::Endless, limits).await;
    // Pages of one, as asked: only the item bound can stop it.
    let err = tokio::time::timeout(
        Duration::from_secs(20),
        client.list_all_with(ReferralBox::All, &[], 1),
    )
    .await
    .expect("list_all kept following the server's cursors")
    .expect_err("an endless list is an error");
    assert!(
        err.to_string().contains("sent more than 300 referrals"),
        "{err}"
    );
    assert!(
        matches!(err, ClientError::Decode(_)),
        "not retried: {err:?}"
    );
    assert!(!err.is_retryable());
    assert!(served.requests.load(Ordering::SeqCst) <= 301);
}

#[tokio::test]
async fn endless_new_pages_stop_at_the_page_bound() {
    // Pages of one item while asking for 500: short pages count as pages.
    let limits = ListLimits {
        max_items: 1_000,
        ..ListLimits::default()
    };
    assert_eq!(limits.max_pages(500), 5);
    let (client, served) = hostile(Hostile::Endless, limits).await;
    let err = load(&client).await;
    assert!(
        err.to_string().contains("sent 5 pages of up to 500"),
        "{err}"
    );
    assert_eq!(served.requests.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn endless_large_pages_stop_at_the_byte_bound() {
    let limits = ListLimits {
        max_bytes: 1024 * 1024,
        ..ListLimits::default()
    };
    let (client, served) = hostile(Hostile::HugePages, limits).await;
    let err = load(&client).await;
    assert!(err.to_string().contains("more than 1 MiB"), "{err}");
    assert!(served.requests.load(Ordering::SeqCst) <= 17);
}

#[test]
fn default_bounds_are_generous() {
    let limits = ListLimits::default();
    assert_eq!(limits.max_items, 200_000);
    assert_eq!(limits.max_bytes, 512 << 20);
    assert_eq!(limits.max_pages(500), 801);
}
