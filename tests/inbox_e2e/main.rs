//! End to end: the real `leadx` binary in a pseudo-terminal (portable-pty,
//! its output read through a vt100 parser) against a real server and a real
//! SQLite store. Keys are typed as bytes; every test checks both what the
//! screen shows and what the server holds.

#[path = "../common/mod.rs"]
mod common;
#[path = "../e2e/mod.rs"]
mod e2e;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use chrono::Utc;
use common::{World, id, lead_body, populate, reply, world_with};
use e2e::{Options, Serve, Tui, contains, count, cursor_row, rfind, status_line};
use leadx::clock;
use leadx::domain::{Action, ActionItem};
use leadx::sanitize::{clean_line, clean_text};
use leadx::store::sqlite::SqliteStore;
use leadx::wire::{PartnerKind, Role};
use leadx::wire::{ReasonCode, ReasonInput};
use serde_json::{Value, json};

mod actions;
mod drawing;
mod hostile_text;
mod read_only;
mod server;
mod terminal_restore;

/// No title and no alert: the hostile-text tests assert that nothing but
/// drawing reaches the terminal (the title and alerts, which write OSC
/// sequences of their own, are tested in inbox_term_e2e.rs).
const QUIET: &str = "[notify]\ntitle = false\nalert = \"off\"\n";

/// The sizes the inbox is driven at.
const WIDE: (u16, u16) = (100, 30);
const SMALL: (u16, u16) = (80, 24);

/// The referral as `token`'s partner sees it now.
async fn referral(w: &World, token: &str, rid: &str) -> Value {
    w.get(token, &format!("/v1/referrals/{rid}")).await.ok()
}

/// Waits until the row under the cursor satisfies `pred`.
#[track_caller]
fn until_cursor(t: &mut Tui, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let s = t.until(&format!("the row under the cursor to {what}"), |s| {
        cursor_row(s).is_some_and(|r| pred(&r))
    });
    cursor_row(&s).expect("cursor row")
}

/// The child left the terminal as it found it.
#[track_caller]
fn assert_restored(t: &Tui, how: &str) {
    let raw = t.raw_bytes();
    let tail = String::from_utf8_lossy(&raw[raw.len().saturating_sub(80)..]).into_owned();
    let enter = rfind(&raw, b"\x1b[?1049h").expect("entered the alternate screen");
    let leave = rfind(&raw, b"\x1b[?1049l")
        .unwrap_or_else(|| panic!("{how}: never left the alternate screen: {tail:?}"));
    assert!(leave > enter, "{how}: {tail:?}");
    let show =
        rfind(&raw, b"\x1b[?25h").unwrap_or_else(|| panic!("{how}: cursor never shown: {tail:?}"));
    assert!(show > leave, "{how}: cursor shown before leaving: {tail:?}");
    assert!(
        raw.ends_with(b"\x1b[?25h"),
        "{how}: output ends with {tail:?}"
    );
    // Nothing drawn after leaving: only private mode resets follow.
    assert!(
        only_mode_resets(&raw[leave..]),
        "{how}: drawn after leaving: {tail:?}"
    );
    assert!(
        !t.alternate_screen(),
        "{how}: still on the alternate screen"
    );
    assert!(!t.cursor_hidden(), "{how}: cursor still hidden");
    assert!(
        t.cooked_mode(),
        "{how}: tty left in raw mode: {:?}",
        t.local_flags()
    );
}

/// Whether `bytes` is nothing but `ESC [ ? n h` / `ESC [ ? n l` sequences.
fn only_mode_resets(mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        let Some(rest) = bytes.strip_prefix(b"\x1b[?") else {
            return false;
        };
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || !matches!(rest.get(digits), Some(b'h' | b'l')) {
            return false;
        }
        bytes = &rest[digits + 1..];
    }
    true
}
