//! The exchange `scale_bench` measures, set up through a store:
//! northwind-net sends, acme-web's users receive; and the one lead sent
//! over HTTP to reach them all (the fan-out's event).

use leadx::domain::Actor;
use leadx::store::SharedStore;
use leadx::wire::{Partner, PartnerKind, Role};
use serde_json::{Value, json};

use super::check;

/// The exchange the benchmark needs: northwind-net sends, acme-web's
/// users receive.
pub struct World {
    pub sender: Actor,
    pub sender_token: String,
    pub receivers: Vec<String>,
}

/// The two partners, northwind-net's sender and `receivers` users of
/// acme-web (added 32 at a time), through `store`.
pub async fn populate(store: &SharedStore, receivers: usize) -> World {
    for (id, kind) in [
        ("northwind-net", PartnerKind::Provider),
        ("acme-web", PartnerKind::Integrator),
    ] {
        let partner = Partner {
            id: id.into(),
            name: id.into(),
            kind,
            categories: vec![],
            regions: vec![],
        };
        store.add_partner(&partner).await.expect("partner");
    }
    let sender_token = store
        .add_user("northwind-net", "Sender", Role::Agent)
        .await
        .expect("sender")
        .1;
    let sender = store
        .authenticate(&sender_token)
        .await
        .expect("auth")
        .expect("sender");
    let mut tokens = Vec::with_capacity(receivers);
    for chunk in (0..receivers).collect::<Vec<_>>().chunks(32) {
        let adds = chunk.iter().map(|k| async move {
            let name = format!("Receiver {k}");
            store.add_user("acme-web", &name, Role::Agent).await
        });
        for added in futures::future::join_all(adds).await {
            tokens.push(added.expect("receiver").1);
        }
    }
    World {
        sender,
        sender_token,
        receivers: tokens,
    }
}

/// Sends one lead to acme-web through `url`; the referral's id.
pub async fn send_lead(http: &reqwest::Client, url: &str, token: &str, company: &str) -> String {
    let body =
        json!({"to_partner": "acme-web", "lead": {"company": company, "category": "hosting"}});
    let r = http
        .post(format!("{url}/v1/referrals"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("send lead");
    check(r.status() == 201, &format!("send answered {}", r.status()));
    let v: Value = r.json().await.expect("referral");
    v["id"].as_str().expect("id").to_owned()
}
