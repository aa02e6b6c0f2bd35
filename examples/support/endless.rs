//! A hostile server for `attack_bench`, whose pagination never ends:
//! every page is full (as many referrals as asked for), new, past the
//! last, with a new cursor.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::extract::{Query, State};
use serde_json::{Value, json};

pub async fn page(
    State(next): State<std::sync::Arc<AtomicU64>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Json<Value> {
    let limit: u64 = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(500);
    let first = next.fetch_add(limit, Ordering::SeqCst);
    let items: Vec<Value> = (first..first + limit).map(referral).collect();
    Json(json!({"items": items, "next_cursor": format!("c{first}"), "as_of": 7}))
}

fn referral(n: u64) -> Value {
    json!({
        "id": format!("r_{n:026}"), "version": 1, "status": "pending",
        "from_partner": "northwind-net", "to_partner": "acme-web",
        "lead": {"company": "Main Street Bakery", "domain": null, "contact_name": null,
            "contact_email": null, "contact_phone": null, "category": "hosting",
            "summary": "Managed hosting for a relaunch", "est_value_cents": 1200000,
            "currency": "USD", "region": "US-West"},
        "contact_masked": true, "commission_pct": 15, "note": "Warm intro",
        "decision_note": null, "created_at": "2026-11-26T09:14:03Z",
        "updated_at": "2026-11-26T09:14:03Z", "expires_at": "2026-11-29T09:14:03Z",
        "decided_at": null, "decided_by": null, "reason": null, "outcome": null,
        "parent_id": null, "forwarded_to": null, "chain": ["northwind-net", "acme-web"]
    })
}
