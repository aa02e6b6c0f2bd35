//! A real server on an ephemeral loopback port, a real SQLite store in a
//! temporary directory, a manual clock, and a few partners and users.
#![allow(dead_code)]

/// `impl Store for $ty` passing every listed method to
/// `self.inner_store()`, with the items after `;;` (the methods a test
/// store changes) written as they are. `async_trait` must see the methods
/// themselves, so the macro writes the whole impl.
#[allow(unused_macros)]
macro_rules! delegate_store {
    ($ty:ty; $($name:ident($($arg:ident : $argty:ty),*) -> $ret:ty;)* ;; $($rest:tt)*) => {
        #[async_trait::async_trait]
        impl leadx::store::Store for $ty {
            $(async fn $name(&self $(, $arg: $argty)*) -> $ret {
                self.inner_store().$name($($arg),*).await
            })*
            fn subscribe(&self) -> tokio::sync::broadcast::Receiver<std::sync::Arc<leadx::store::StoredEvent>> {
                self.inner_store().subscribe()
            }
            fn describe(&self) -> String {
                self.inner_store().describe()
            }
            $($rest)*
        }
    };
}

/// [`delegate_store!`] for every method but `apply` and `resume_floor`,
/// which follow the `;` as written: what the rigged stores of the CLI
/// suites change.
#[allow(unused_macros)]
macro_rules! delegate_store_but_apply {
    ($ty:ty; $($rest:tt)*) => {
        delegate_store! {
            $ty;
            add_partner(p: &leadx::wire::Partner) -> leadx::store::StoreResult<()>;
            list_partners(q: Option<&str>) -> leadx::store::StoreResult<Vec<leadx::wire::Partner>>;
            get_partner(id: &str) -> leadx::store::StoreResult<Option<leadx::wire::Partner>>;
            add_user(p: &str, n: &str, r: leadx::wire::Role) -> leadx::store::StoreResult<(leadx::store::UserRecord, String)>;
            list_users() -> leadx::store::StoreResult<Vec<leadx::store::UserRecord>>;
            revoke_user(u: &str) -> leadx::store::StoreResult<bool>;
            update_partner(p: &leadx::wire::Partner) -> leadx::store::StoreResult<bool>;
            remove_partner(id: &str) -> leadx::store::StoreResult<bool>;
            rotate_user(u: &str) -> leadx::store::StoreResult<Option<(leadx::store::UserRecord, String)>>;
            add_key(u: &str, k: &leadx::store::NewKey) -> leadx::store::StoreResult<leadx::store::KeyRecord>;
            list_keys(u: &str) -> leadx::store::StoreResult<Vec<leadx::store::KeyRecord>>;
            remove_key(u: &str, f: &str) -> leadx::store::StoreResult<bool>;
            authenticate_key(f: &str) -> leadx::store::StoreResult<Option<leadx::domain::Actor>>;
            revoked_since(s: leadx::wire::Timestamp) -> leadx::store::StoreResult<Vec<String>>;
            authenticate(t: &str) -> leadx::store::StoreResult<Option<leadx::domain::Actor>>;
            create(a: &leadx::domain::Actor, r: leadx::wire::CreateReferral, i: Option<leadx::store::IdemSave>) -> leadx::store::StoreResult<leadx::domain::ItemResult>;
            save_response(u: &str, k: &str, h: &str, r: leadx::store::StoredResponse) -> leadx::store::StoreResult<()>;
            idem_claim(u: &str, k: &str, h: &str) -> leadx::store::StoreResult<leadx::store::IdemClaim>;
            idem_release(u: &str, k: &str) -> leadx::store::StoreResult<()>;
            get(id: &str) -> leadx::store::StoreResult<Option<leadx::domain::StoredReferral>>;
            list(q: &leadx::store::ListQuery) -> leadx::store::StoreResult<leadx::store::ListPage>;
            expire_due() -> leadx::store::StoreResult<usize>;
            next_expiry() -> leadx::store::StoreResult<Option<leadx::wire::Timestamp>>;
            events_after(s: u64, l: usize) -> leadx::store::StoreResult<Vec<std::sync::Arc<leadx::store::StoredEvent>>>;
            last_seq() -> leadx::store::StoreResult<u64>;
            prune() -> leadx::store::StoreResult<()>;
            count_by_status() -> leadx::store::StoreResult<Vec<(leadx::wire::Status, u64)>>;
            health() -> leadx::store::StoreResult<()>;
            writable() -> leadx::store::StoreResult<()>;
            ;;
            $($rest)*
        }
    };
}

use std::sync::Arc;
use std::time::Duration;

use chrono::SubsecRound;
use leadx::clock::{ManualClock, SharedClock};
use leadx::server::{RunningServer, ServerConfig, start};
use leadx::store::sqlite::SqliteStore;
use leadx::store::{SharedStore, Store};
use leadx::wire::{Partner, PartnerKind, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Tokens of the test world's users.
pub struct Tokens {
    /// acme-web (integrator)
    pub acme: String,
    pub acme_viewer: String,
    pub acme_admin: String,
    /// northwind-net (provider)
    pub northwind: String,
    /// blue-design (affiliate)
    pub blue: String,
    /// harbor-host (provider)
    pub harbor: String,
    /// pixel-forge (integrator)
    pub pixel: String,
    /// exchange staff
    pub operator: String,
}

/// The store the HTTP suites run against: `LEADX_TEST_STORE=postgres`
/// runs them on a throwaway PostgreSQL database (see
/// `leadx::store::postgres::test_db`); anything else, SQLite.
pub fn on_postgres() -> bool {
    std::env::var("LEADX_TEST_STORE").is_ok_and(|v| v == "postgres")
}

/// A fresh store for one test: a SQLite file in `dir`, or a throwaway
/// PostgreSQL database (kept alive by the returned guard). On PostgreSQL
/// without a reachable server the test cannot run: it panics, since a
/// caller asked for PostgreSQL by name.
pub async fn fresh_store(
    dir: &std::path::Path,
    clock: SharedClock,
) -> (SharedStore, Option<leadx::store::postgres::test_db::TestDb>) {
    if on_postgres() {
        let db = leadx::store::postgres::test_db::TestDb::create()
            .await
            .expect("LEADX_TEST_STORE=postgres needs a reachable PostgreSQL (LEADX_TEST_PG)");
        let store = leadx::store::postgres::PgStore::connect(&db.url, clock)
            .await
            .expect("open the PostgreSQL store");
        (Arc::new(store), Some(db))
    } else {
        let store = SqliteStore::open(&dir.join("leadx.db"), clock).expect("open store");
        (Arc::new(store), None)
    }
}

pub struct World {
    pub dir: tempfile::TempDir,
    pub store: SharedStore,
    pub clock: Arc<ManualClock>,
    pub server: Option<RunningServer>,
    pub url: String,
    pub http: reqwest::Client,
    pub t: Tokens,
    /// The PostgreSQL database under test: last, so it is dropped after
    /// the server and the store.
    pub pg: Option<leadx::store::postgres::test_db::TestDb>,
}

/// A reply: status, headers, JSON body (Null when not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn ok(self) -> Value {
        assert!(
            self.status.is_success(),
            "expected success, got {} {}",
            self.status,
            self.body
        );
        self.body
    }

    #[track_caller]
    pub fn expect(self, status: u16, code: &str) -> Value {
        assert_eq!(
            (self.status.as_u16(), self.code()),
            (status, code),
            "body: {}",
            self.body
        );
        self.body
    }
}

pub fn partner(
    id: &str,
    name: &str,
    kind: PartnerKind,
    cats: &[&str],
    regions: &[&str],
) -> Partner {
    Partner {
        id: id.into(),
        name: name.into(),
        kind,
        categories: cats.iter().map(|s| s.to_string()).collect(),
        regions: regions.iter().map(|s| s.to_string()).collect(),
    }
}

/// Adds the test partners and users to a store; returns the tokens.
pub async fn populate(store: &dyn Store) -> Tokens {
    for p in [
        partner(
            "acme-web",
            "Acme Web Studio",
            PartnerKind::Integrator,
            &["services", "design"],
            &["US-West"],
        ),
        partner(
            "northwind-net",
            "Northwind Networks",
            PartnerKind::Provider,
            &["bandwidth", "colocation"],
            &["US-West", "US-East"],
        ),
        partner(
            "blue-design",
            "Blue Design Co",
            PartnerKind::Affiliate,
            &["design"],
            &["EU-Central"],
        ),
        partner(
            "harbor-host",
            "Harbor Hosting",
            PartnerKind::Provider,
            &["hosting"],
            &["UK"],
        ),
        partner(
            "pixel-forge",
            "Pixel Forge",
            PartnerKind::Integrator,
            &["ecommerce"],
            &["US-East"],
        ),
        partner(
            "exchange",
            "Exchange Staff",
            PartnerKind::Provider,
            &[],
            &[],
        ),
    ] {
        store.add_partner(&p).await.expect("add partner");
    }
    let mut tokens = Vec::new();
    for (partner, name, role) in [
        ("acme-web", "Dana Reyes", Role::Agent),
        ("acme-web", "Vic Viewer", Role::Viewer),
        ("acme-web", "Ada Admin", Role::Admin),
        ("northwind-net", "Nia North", Role::Agent),
        ("blue-design", "Bo Blue", Role::Agent),
        ("harbor-host", "Hal Harbor", Role::Agent),
        ("pixel-forge", "Pia Pixel", Role::Agent),
        ("exchange", "Otto Operator", Role::Operator),
    ] {
        tokens.push(
            store
                .add_user(partner, name, role)
                .await
                .expect("add user")
                .1,
        );
    }
    let [
        acme,
        acme_viewer,
        acme_admin,
        northwind,
        blue,
        harbor,
        pixel,
        operator,
    ] = <[String; 8]>::try_from(tokens).expect("eight users");
    Tokens {
        acme,
        acme_viewer,
        acme_admin,
        northwind,
        blue,
        harbor,
        pixel,
        operator,
    }
}

impl World {
    pub async fn start() -> World {
        Self::start_with(ServerConfig::for_tests(), |s| s).await
    }

    /// Starts with a config, and a chance to wrap the store.
    pub async fn start_with(
        config: ServerConfig,
        wrap: impl FnOnce(SharedStore) -> SharedStore,
    ) -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = ManualClock::new(chrono::Utc::now().trunc_subsecs(0));
        let shared: SharedClock = clock.clone();
        let (store, pg) = fresh_store(dir.path(), shared.clone()).await;
        let t = populate(store.as_ref()).await;
        let store = wrap(store);
        let server = start(store.clone(), shared, config)
            .await
            .expect("server starts");
        let url = server.url.clone();
        World {
            pg,
            dir,
            store,
            clock,
            server: Some(server),
            url,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("http client"),
            t,
        }
    }

    /// Every referral of one box (`incoming`, `outgoing`, `all`), as
    /// `token`'s partner sees it, in one page.
    pub async fn boxed(&self, token: &str, which: &str) -> Vec<Value> {
        let page = self
            .get(token, &format!("/v1/referrals?box={which}&limit=5000"))
            .await
            .ok();
        assert!(page["next_cursor"].is_null(), "one page is enough here");
        page["items"].as_array().expect("items").clone()
    }

    pub async fn get(&self, token: &str, path: &str) -> Reply {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        reply(r).await
    }

    pub async fn post(&self, token: &str, path: &str, body: &Value) -> Reply {
        self.post_raw(token, path, body.to_string().into_bytes(), None)
            .await
    }

    pub async fn post_key(&self, token: &str, path: &str, body: &Value, key: &str) -> Reply {
        self.post_raw(token, path, body.to_string().into_bytes(), Some(key))
            .await
    }

    pub async fn post_raw(
        &self,
        token: &str,
        path: &str,
        body: Vec<u8>,
        key: Option<&str>,
    ) -> Reply {
        let mut req = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        reply(req.send().await.expect("request")).await
    }

    /// Sends a lead from `token`'s partner to `to`; returns the referral.
    pub async fn send(&self, token: &str, to: &str, company: &str, domain: Option<&str>) -> Value {
        self.post(token, "/v1/referrals", &lead_body(to, company, domain))
            .await
            .ok()
    }

    pub async fn act(&self, token: &str, id: &str, action: &str, body: Value) -> Reply {
        self.post(token, &format!("/v1/referrals/{id}/{action}"), &body)
            .await
    }
}

pub fn lead_body(to: &str, company: &str, domain: Option<&str>) -> Value {
    json!({
        "to_partner": to,
        "lead": {
            "company": company,
            "domain": domain,
            "contact_name": "Jo Contact",
            "contact_email": "jo@example.com",
            "contact_phone": "+1 555 0100",
            "category": "hosting",
            "summary": "Managed hosting for a relaunch",
            "est_value_cents": 1_200_000,
            "currency": "USD",
            "region": "US-West"
        },
        "commission_pct": 15,
        "note": "Warm intro"
    })
}

pub async fn reply(r: reqwest::Response) -> Reply {
    let status = r.status();
    let headers = r.headers().clone();
    let bytes = r.bytes().await.expect("body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
    }
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

pub fn version(v: &Value) -> u64 {
    v["version"].as_u64().expect("version")
}

/// Starts the real `leadx serve` process on the database `db` (a SQLite
/// path or a PostgreSQL URL, given as `LEADX_DB`) on a free loopback port,
/// with no rate limit and `extra` flags; returns it with its URL.
pub fn serve_process(db: &str, extra: &[&str]) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_leadx"))
        .args(["serve", "--listen", "127.0.0.1:0", "--rate-limit", "0"])
        .args(extra)
        .env("LEADX_DB", db)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn leadx serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("first line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, url)
}

/// A world whose acme-web inbox holds `companies` sent by northwind-net,
/// each 10 minutes after the one before (so the last is on top); returns
/// their ids in the same order.
pub async fn world_with(companies: &[&str]) -> (World, Vec<String>) {
    let w = World::start().await;
    w.clock.set(chrono::Utc::now() - chrono::Duration::hours(3));
    let mut ids = Vec::new();
    for c in companies {
        ids.push(id(&w.send(&w.t.northwind, "acme-web", c, None).await));
        w.clock.advance(chrono::Duration::minutes(10));
    }
    (w, ids)
}
