//! The headless CLI end to end: a real server in-process with a small
//! world, and the real `leadx` binary talking to it over HTTP. Every test
//! asserts what the command printed and its exit status.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;
#[path = "../cli_support/mod.rs"]
mod cli_support;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cli_support::{leadx_to as leadx, output, signal, wait_line};
use common::{World, id, version};
use leadx::domain::{Action, ActionItem, Actor, ItemResult};
use leadx::server::ServerConfig;
use leadx::store::{IdemSave, SharedStore, StoreError, StoreResult};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

mod actions;
mod configuration;
mod list_and_show;
mod watch;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A test world and a home directory for the CLI.
struct Fixture {
    w: World,
    home: tempfile::TempDir,
}

impl Fixture {
    async fn new() -> Self {
        Fixture {
            w: World::start().await,
            home: tempfile::tempdir().expect("home"),
        }
    }

    /// `leadx ARGS` as the user with `token`.
    async fn run(&self, token: &str, args: &[&str]) -> Run {
        self.run_cmd(leadx(self.home.path(), &self.w.url, Some(token), args))
            .await
    }

    async fn run_cmd(&self, cmd: Command) -> Run {
        let out = output(cmd).await;
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        }
    }

    /// northwind-net sends a lead to `to`; the referral.
    async fn send(&self, to: &str, company: &str) -> Value {
        self.w.send(&self.w.t.northwind, to, company, None).await
    }

    async fn get(&self, token: &str, rid: &str) -> Value {
        self.w
            .get(token, &format!("/v1/referrals/{rid}"))
            .await
            .ok()
    }
}

/// The real store, rigged: while `lose_next` is set, the next batch of
/// more than one item is applied and committed, and then its answer is
/// lost (the server answers 500), as when a connection drops after the
/// commit; the size of every apply is recorded; and `floor` raises the
/// oldest resume point the server serves (older is 410), as if it had
/// pruned its event log.
#[derive(Default)]
struct RiggedStore {
    inner: Option<SharedStore>,
    lose_next: Arc<AtomicBool>,
    sizes: Arc<Mutex<Vec<usize>>>,
    floor: Arc<AtomicU64>,
}

impl RiggedStore {
    fn inner(&self) -> &SharedStore {
        self.inner.as_ref().expect("wrapped store")
    }

    fn inner_store(&self) -> &SharedStore {
        self.inner()
    }

    /// Shares the knobs with a new wrapper around `inner`.
    fn wrap(&self, inner: SharedStore) -> SharedStore {
        Arc::new(RiggedStore {
            inner: Some(inner),
            lose_next: self.lose_next.clone(),
            sizes: self.sizes.clone(),
            floor: self.floor.clone(),
        })
    }
}

delegate_store_but_apply! {
    RiggedStore;
    async fn apply(
        &self,
        actor: &Actor,
        items: Vec<ActionItem>,
        idem: Option<IdemSave>,
    ) -> StoreResult<Vec<ItemResult>> {
        let n = items.len();
        // Only writes that ran are counted: a retry answered with the kept
        // response (by the store's claim, or inside the write on
        // PostgreSQL) is not.
        let results = self.inner().apply(actor, items, idem).await?;
        self.sizes.lock().unwrap().push(n);
        if n > 1 && self.lose_next.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Backend("the answer was lost".into()));
        }
        Ok(results)
    }

    async fn resume_floor(&self) -> StoreResult<u64> {
        Ok(self
            .inner()
            .resume_floor()
            .await?
            .max(self.floor.load(Ordering::SeqCst)))
    }
}
