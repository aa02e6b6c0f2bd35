//! The client against the real server over real HTTP: a SQLite store in a
//! temporary directory, `leadx::server::start` on a loopback port, and
//! `leadx::client` as the inbox and CLI use it.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::SubsecRound;
use leadx::client::{
    Backoff, Client, ClientConfig, ClientError, FeedEvent, FeedHandle, FeedOptions,
    new_idempotency_key, retry_until_definite, watch,
};
use leadx::clock::{ManualClock, SharedClock};
use leadx::domain::{Action, ActionItem};
use leadx::server::{RunningServer, ServerConfig, start};
use leadx::store::SharedStore;
use leadx::store::sqlite::SqliteStore;
use leadx::wire::{
    AcceptRequest, BatchAction, BatchItem, BatchOutcome, BatchRequest, CloseRequest, CloseStatus,
    CreateReferral, ErrorCode, ForwardRequest, LeadInput, OutcomeInput, Partner, PartnerKind,
    ReasonCode, ReasonInput, Referral, ReferralBox, RejectRequest, Role, Status, WithdrawRequest,
};

mod actions;
mod batches_and_retries;
mod feed;
mod reading;

struct World {
    _dir: tempfile::TempDir,
    store: SharedStore,
    clock: SharedClock,
    server: Option<RunningServer>,
    url: String,
    /// acme-web agent "Dana Reyes" (an integrator).
    acme: String,
    /// acme-web viewer.
    acme_viewer: String,
    /// northwind-net agent (a provider).
    northwind: String,
    /// harbor-host agent (a provider).
    harbor: String,
}

fn partner(id: &str, name: &str, kind: PartnerKind, cats: &[&str]) -> Partner {
    Partner {
        id: id.into(),
        name: name.into(),
        kind,
        categories: cats.iter().map(|s| s.to_string()).collect(),
        regions: vec!["US-West".into()],
    }
}

impl World {
    async fn start() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock: SharedClock = ManualClock::new(chrono::Utc::now().trunc_subsecs(0));
        let store: SharedStore = Arc::new(
            SqliteStore::open(&dir.path().join("leadx.db"), clock.clone()).expect("open store"),
        );
        for p in [
            partner(
                "acme-web",
                "Acme Web Studio",
                PartnerKind::Integrator,
                &["services", "design"],
            ),
            partner(
                "northwind-net",
                "Northwind Networks",
                PartnerKind::Provider,
                &["bandwidth"],
            ),
            partner(
                "harbor-host",
                "Harbor Hosting",
                PartnerKind::Provider,
                &["hosting"],
            ),
        ] {
            store.add_partner(&p).await.expect("add partner");
        }
        let user =
            async |p: &str, n: &str, r: Role| store.add_user(p, n, r).await.expect("add user").1;
        let acme = user("acme-web", "Dana Reyes", Role::Agent).await;
        let acme_viewer = user("acme-web", "Vic Viewer", Role::Viewer).await;
        let northwind = user("northwind-net", "Nia North", Role::Agent).await;
        let harbor = user("harbor-host", "Hal Harbor", Role::Agent).await;
        let server = start(store.clone(), clock.clone(), ServerConfig::for_tests())
            .await
            .expect("server starts");
        let url = server.url.clone();
        World {
            _dir: dir,
            store,
            clock,
            server: Some(server),
            url,
            acme,
            acme_viewer,
            northwind,
            harbor,
        }
    }

    fn client(&self, token: &str) -> Client {
        let mut config = ClientConfig::new(&self.url, token);
        config.request_timeout = Duration::from_secs(20);
        Client::new(config).expect("client")
    }

    /// northwind sends a lead to `to`.
    async fn send_from_northwind(&self, to: &str, company: &str, domain: Option<&str>) -> Referral {
        self.client(&self.northwind)
            .send(&lead(to, company, domain), &new_idempotency_key())
            .await
            .expect("send")
    }
}

fn lead(to: &str, company: &str, domain: Option<&str>) -> CreateReferral {
    CreateReferral {
        to_partner: to.into(),
        lead: LeadInput {
            company: Some(company.into()),
            domain: domain.map(str::to_string),
            contact_name: Some("Jo Contact".into()),
            contact_email: Some("jo@example.com".into()),
            contact_phone: None,
            category: Some("hosting".into()),
            summary: Some("Managed hosting for a relaunch".into()),
            est_value_cents: Some(1_200_000),
            currency: Some("USD".into()),
            region: Some("US-West".into()),
        },
        commission_pct: Some(15),
        note: Some("Warm intro".into()),
        expires_in_hours: None,
    }
}

fn accept(version: u64) -> AcceptRequest {
    AcceptRequest {
        version,
        note: Some("on it".into()),
    }
}

#[track_caller]
fn expect_api(e: &ClientError, status: u16, code: ErrorCode) {
    assert_eq!((e.status(), e.code()), (Some(status), Some(code)), "{e:?}");
}
