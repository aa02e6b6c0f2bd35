//! `leadx accept|reject|withdraw` run again (issue 9 item 16): what the
//! caller already did counts as done, whether the read before the batch
//! shows it or the batch's 409 does; and `accept --help` lists only its
//! own options, the connection flags in a section of their own.

#[macro_use]
mod common;
mod cli_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cli_support::{Run, leadx_to, run as run_cmd};
use common::{World, id};
use leadx::domain::{ActionItem, Actor, ItemResult};
use leadx::server::ServerConfig;
use leadx::store::{IdemSave, SharedStore, StoreResult};

async fn run(w: &World, home: &std::path::Path, token: &str, args: &[&str]) -> Run {
    run_cmd(leadx_to(home, &w.url, Some(token), args)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerunning_a_reject_or_withdraw_you_made_is_done() {
    let w = World::start().await;
    let home = tempfile::tempdir().unwrap();
    let a = w
        .send(&w.t.northwind, "acme-web", "Reject Twice", None)
        .await;
    let args = ["reject", &id(&a), "--reason", "duplicate"];
    let first = run(&w, home.path(), &w.t.acme, &args).await;
    assert_eq!(first.code, 0, "{first:?}");
    let again = run(&w, home.path(), &w.t.acme, &args).await;
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again
            .stdout
            .contains(&format!("{} already rejected by you", id(&a))),
        "{again:?}"
    );
    assert!(again.stdout.contains("1 already done by you"), "{again:?}");
    // Someone else's rejection is still a conflict.
    let other = run(&w, home.path(), &w.t.acme_admin, &args).await;
    assert_ne!(other.code, 0, "{other:?}");
    assert!(other.stdout.contains("conflict"), "{other:?}");

    let b = w
        .send(&w.t.northwind, "acme-web", "Withdraw Twice", None)
        .await;
    let args = ["withdraw", &id(&b)];
    assert_eq!(run(&w, home.path(), &w.t.northwind, &args).await.code, 0);
    let again = run(&w, home.path(), &w.t.northwind, &args).await;
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again
            .stdout
            .contains(&format!("{} already withdrawn by you", id(&b))),
        "{again:?}"
    );
}

/// The real store; while `echo` is set, the next apply is made twice: once
/// as if an earlier run's batch had landed, then as asked, so that the
/// batch the CLI sent meets its own result (a 409 whose current state is
/// what it asked for).
#[derive(Default)]
struct EchoStore {
    inner: Option<SharedStore>,
    echo: Arc<AtomicBool>,
}

impl EchoStore {
    fn inner_store(&self) -> &SharedStore {
        self.inner.as_ref().expect("wrapped store")
    }
}

delegate_store_but_apply! {
    EchoStore;
    async fn resume_floor(&self) -> StoreResult<u64> {
        self.inner_store().resume_floor().await
    }
    async fn apply(
        &self,
        actor: &Actor,
        items: Vec<ActionItem>,
        idem: Option<IdemSave>,
    ) -> StoreResult<Vec<ItemResult>> {
        if self.echo.swap(false, Ordering::SeqCst) {
            self.inner_store().apply(actor, items.clone(), None).await?;
        }
        self.inner_store().apply(actor, items, idem).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_with_your_own_accept_is_done() {
    let echo = Arc::new(AtomicBool::new(false));
    let knob = echo.clone();
    let w = World::start_with(ServerConfig::for_tests(), move |inner| {
        Arc::new(EchoStore {
            inner: Some(inner),
            echo: knob.clone(),
        }) as SharedStore
    })
    .await;
    let home = tempfile::tempdir().unwrap();
    let a = w
        .send(&w.t.northwind, "acme-web", "Accepted Meanwhile", None)
        .await;
    let b = w
        .send(&w.t.northwind, "acme-web", "Accepted Too", None)
        .await;
    echo.store(true, Ordering::SeqCst);
    let r = run(&w, home.path(), &w.t.acme, &["accept", &id(&a), &id(&b)]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains(&format!("{} already accepted by you", id(&a))),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains(&format!("{} already accepted by you", id(&b))),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("0 applied · 2 already done by you"),
        "{r:?}"
    );
    assert!(
        !echo.load(Ordering::SeqCst),
        "the batch went through the echo"
    );
    // JSON: each counts as applied, with the referral as it is.
    let c = w
        .send(&w.t.northwind, "acme-web", "Accepted Json", None)
        .await;
    echo.store(true, Ordering::SeqCst);
    let r = run(
        &w,
        home.path(),
        &w.t.acme,
        &["accept", &id(&c), "--format", "json"],
    )
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    let results: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(results[0]["outcome"], "applied", "{r:?}");
    assert_eq!(results[0]["referral"]["status"], "accepted", "{r:?}");
}

#[tokio::test]
async fn accept_help_lists_its_own_options_and_connection_apart() {
    let home = tempfile::tempdir().unwrap();
    let out = run_cmd(leadx_to(
        home.path(),
        "http://127.0.0.1:9",
        None,
        &["accept", "--help"],
    ))
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    let help = out.stdout;
    let (options, connection) = help
        .split_once("\nConnection:\n")
        .unwrap_or_else(|| panic!("no Connection section:\n{help}"));
    let options = options
        .split_once("\nOptions:\n")
        .expect("an Options section")
        .1;
    for own in [
        "--query",
        "--note",
        "--dry-run",
        "--yes",
        "--format",
        "--retry-for",
    ] {
        assert!(options.contains(own), "{own} missing from Options:\n{help}");
    }
    for flag in ["--server", "--token-file", "--config", "--profile"] {
        assert!(
            !options.contains(flag),
            "{flag} among accept's own options:\n{help}"
        );
        assert!(
            connection.contains(flag),
            "{flag} missing from Connection:\n{help}"
        );
    }
    // Flags of other actions are not shown.
    assert!(
        !help.contains("--reason") && !help.contains("--to "),
        "{help}"
    );
}
