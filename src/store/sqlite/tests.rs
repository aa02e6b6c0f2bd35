//! The SQLite store end to end: rules through the writer, durability,
//! concurrency, idempotency, events, paging.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::Duration;

use super::*;
use crate::clock::{Clock, ManualClock};
use crate::domain::{Action, Applied, DomainError};
use crate::store::Scope;
use crate::wire::{
    CloseStatus, LeadInput, OutcomeInput, PartnerKind, ReasonCode, ReasonInput, ReferralBox,
    parse_timestamp,
};

mod batches_and_idempotency;
mod concurrency_and_durability;
mod directory;
mod events_and_paging;
mod group_commit;
mod rules;

struct World {
    _dir: tempfile::TempDir,
    path: PathBuf,
    clock: Arc<ManualClock>,
    store: SqliteStore,
    tokens: BTreeMap<&'static str, String>,
}

const PARTNERS: [&str; 5] = [
    "northwind-net",
    "acme-web",
    "blue-host",
    "pixel-shop",
    "fox-design",
];

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leadx.db");
    let clock = ManualClock::new(parse_timestamp("2026-11-26T09:14:03Z").unwrap());
    let store = SqliteStore::open(&path, clock.clone()).unwrap();
    let mut tokens = BTreeMap::new();
    for id in PARTNERS.iter().copied().chain(["exchange"]) {
        store
            .add_partner(&Partner {
                id: id.into(),
                name: id.to_uppercase(),
                kind: PartnerKind::Integrator,
                categories: vec!["hosting".into(), "design".into()],
                regions: vec!["US-West".into()],
            })
            .unwrap();
    }
    for (label, partner, role) in [
        ("north", "northwind-net", Role::Agent),
        ("acme", "acme-web", Role::Agent),
        ("acme-admin", "acme-web", Role::Admin),
        ("acme-viewer", "acme-web", Role::Viewer),
        ("blue", "blue-host", Role::Agent),
        ("pixel", "pixel-shop", Role::Agent),
        ("fox", "fox-design", Role::Agent),
        ("op", "exchange", Role::Operator),
    ] {
        let (_, token) = store.add_user(partner, label, role).unwrap();
        tokens.insert(label, token);
    }
    World {
        _dir: dir,
        path,
        clock,
        store,
        tokens,
    }
}

impl World {
    fn actor(&self, label: &str) -> Actor {
        self.store
            .authenticate(&self.tokens[label])
            .unwrap()
            .unwrap()
    }

    fn send(&self, from: &str, to: &str, domain: Option<&str>) -> ItemResult {
        let req = CreateReferral {
            to_partner: pid(to),
            lead: LeadInput {
                company: Some("Main Street Bakery".into()),
                domain: domain.map(String::from),
                contact_name: Some("Sam Baker".into()),
                contact_email: Some("sam@example.com".into()),
                category: Some("hosting".into()),
                ..LeadInput::default()
            },
            commission_pct: Some(15),
            note: Some("warm intro".into()),
            expires_in_hours: None,
        };
        self.store.create(&self.actor(from), req, None).unwrap()
    }

    fn sent(&self, from: &str, to: &str) -> StoredReferral {
        self.send(from, to, None).unwrap().referral
    }

    fn act(&self, who: &str, id: &str, version: u64, action: Action) -> ItemResult {
        let item = ActionItem {
            id: id.into(),
            version,
            action,
        };
        let mut r = self
            .store
            .apply(&self.actor(who), vec![item], None)
            .unwrap();
        assert_eq!(r.len(), 1);
        r.pop().unwrap()
    }

    fn all_events(&self) -> Vec<Arc<StoredEvent>> {
        self.store.events_after(0, usize::MAX).unwrap()
    }
}

/// A test label's partner id (labels pass through when already an id).
fn pid(label: &str) -> String {
    match label {
        "north" => "northwind-net",
        "acme" => "acme-web",
        "blue" => "blue-host",
        "pixel" => "pixel-shop",
        "fox" => "fox-design",
        other => other,
    }
    .to_string()
}

fn accept() -> Action {
    Action::Accept { note: None }
}

fn forward(to: &str) -> Action {
    Action::Forward {
        to_partner: pid(to),
        note: Some("better fit".into()),
        commission_pct: None,
        expires_in_hours: None,
    }
}

fn idem(user: &str, key: &str, hash: &str, tag: &'static str) -> IdemSave {
    IdemSave {
        user_id: user.into(),
        key: key.into(),
        request_hash: hash.into(),
        render: Box::new(move |results| StoredResponse {
            status: 200,
            body: format!(
                "{tag}:{}",
                results
                    .iter()
                    .map(|r| match r {
                        Ok(a) => format!("v{}", a.referral.referral.version),
                        Err(e) => format!("{e:?}").chars().take(8).collect(),
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            )
            .into_bytes(),
        }),
    }
}

trait Unwrapped {
    fn unwrap_err_free(self) -> Applied;
}

impl Unwrapped for ItemResult {
    fn unwrap_err_free(self) -> Applied {
        match self {
            Ok(a) => a,
            Err(e) => panic!("expected applied, got {e:?}"),
        }
    }
}
