//! End to end, the bytes one new lead costs on the terminal (target ≤ 2 KB)
//! in the layout where that target is known to be missed: both panes side
//! by side at 200x50, a short Incoming list (every row fits, so the new
//! row is drawn on top and the rows below it move) beside a long Outgoing
//! one. Every byte the real binary writes from the lead's POST until the
//! screen settles is counted: every frame the lead causes (its row, the
//! moved rows, the counts, the countdown turning a second later), not only
//! the first. `tests/inbox_e2e/` covers one pane at 100x30.

mod common;
mod e2e;

use std::time::{Duration, Instant};

use chrono::Utc;
use common::{World, lead_body};
use e2e::{Options, Tui, contains, status_line};
use serde_json::json;

const COLS: u16 = 200;
const ROWS: u16 = 50;
/// The target: one new lead, at most this many bytes written.
const TWO_KB: usize = 2048;
/// Outgoing rows: more than fit a pane.
const OUTGOING: usize = 60;
/// No output for this long: the screen has settled.
const QUIET: Duration = Duration::from_millis(1500);

/// Companies of different lengths, so that rows beside each other differ
/// as in real use (rows that differ by a digit would cost next to nothing).
const NAMES: &[&str] = &[
    "Harbor Dental",
    "Riverside Legal LLP",
    "Café Lumière",
    "Granite Logistics",
    "Oak & Ash Studio",
    "Summit Brewery",
    "Bäckerei Müller",
    "Copperfield Architects",
    "Blue Sky Fitness",
    "Ironbridge Motors",
    "Maple Leaf Florist",
];
const PARTNERS: &[&str] = &["northwind-net", "blue-design", "harbor-host", "pixel-forge"];

/// A world where acme-web has `incoming` referrals in and `OUTGOING` out,
/// from about ten hours ago, spread over those hours, to and from several
/// partners, with different companies and values.
async fn short_beside_long(incoming: usize) -> World {
    let w = World::start().await;
    let start = Utc::now() - chrono::Duration::hours(10);
    let step = chrono::Duration::minutes(600 / (incoming + OUTGOING) as i64);
    let senders = [&w.t.northwind, &w.t.blue, &w.t.harbor, &w.t.pixel];
    for i in 0..incoming + OUTGOING {
        w.clock.set(start + step * i as i32);
        let company = format!("{} {i:02}", NAMES[i % NAMES.len()]);
        let (token, to) = if i < incoming {
            (senders[i % senders.len()], "acme-web")
        } else {
            (&w.t.acme, PARTNERS[i % PARTNERS.len()])
        };
        let mut body = lead_body(to, &company, None);
        body["lead"]["est_value_cents"] = json!(((i * 7_919) % 90 + 1) * 10_000);
        w.post(token, "/v1/referrals", &body).await.ok();
    }
    w
}

/// Every byte written from `before` (a length of the raw output) until
/// `shown` holds and then nothing is written for [`QUIET`].
#[track_caller]
fn bytes_until_settled(t: &mut Tui, before: usize, shown: impl Fn(&str) -> bool) -> Vec<u8> {
    t.until("the new lead on screen", &shown);
    let start = Instant::now();
    let (mut len, mut since) = (t.raw_len(), Instant::now());
    while since.elapsed() < QUIET {
        assert!(start.elapsed() < Duration::from_secs(30), "never quiet");
        std::thread::sleep(Duration::from_millis(20));
        if t.raw_len() != len {
            (len, since) = (t.raw_len(), Instant::now());
        }
    }
    t.whole_frames()[before..].to_vec()
}

/// One new lead into `layout` ("" for the default): the bytes it cost, in
/// how many frames, and whether its row was drawn (else it landed above
/// the view and the pane's title counts it).
async fn one_lead(w: &World, layout: &str, tag: &str) -> (usize, usize, bool) {
    let mut o = Options::new(&w.url, &w.t.acme, COLS, ROWS);
    if !layout.is_empty() {
        o = o.env("LEADX_LAYOUT", layout);
    }
    let mut t = Tui::start(o);
    t.until("both boxes listed and the feed live", |s| {
        s.contains("Incoming ") && s.contains("Outgoing 60 ") && status_line(s).contains("● live")
    });
    let company = format!("Newcomer {tag}");
    let before = t.whole_frames().len();
    w.clock.set(Utc::now());
    w.send(&w.t.pixel, "acme-web", &company, None).await;
    let raw = bytes_until_settled(&mut t, before, |s| {
        s.contains(&company) || s.contains("· 1 new")
    });
    let frames = e2e::frames(&raw);
    let drawn = frames.iter().any(|f| contains(f, company.as_bytes()));
    assert_eq!(t.quit().exit_code(), 0);
    (raw.len(), frames.len(), drawn)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_lead_beside_a_long_outgoing_pane_counts_every_frame() {
    // Stacked (full-width panes, 20 rows each at 200x50), 16 incoming: the
    // new row is drawn on top and the terminal scrolls only the Incoming
    // rows below it. Within the target.
    let w = short_beside_long(16).await;
    let (stacked, frames, drawn) = one_lead(&w, "stacked", "stacked").await;
    assert!(drawn, "stacked: a frame drew the new row");
    assert!(
        stacked <= TWO_KB,
        "stacked at {COLS}x{ROWS}: one new lead wrote {stacked} bytes in {frames} frames"
    );
    assert_eq!(w.boxed(&w.t.acme, "incoming").await.len(), 17);

    // Side by side, 32 incoming (all fit) beside 60 outgoing: the new row
    // is drawn on top and the rows below move down with the terminal's
    // scrolling; a full-width scroll moves the Outgoing rows beside the
    // band too, and each must be put back (~90 bytes a row).
    //
    // This is the recorded MISS of docs/PERFORMANCE.md ("One new lead
    // ≤ 2 KB", side by side, 2026-12-06: 1,607–2,130 B with 32 incoming
    // beside 16 outgoing, up to 2,540 B with 40 beside 20; this test's
    // case measured 2,216–2,279 B in 2 frames). The test holds that
    // measured truth, not the target: the lead must be drawn and cost no
    // more than the largest recorded miss, RECORDED_MISS. It does not hide
    // the miss: the day the encoder meets 2 KB here, this bound becomes
    // TWO_KB.
    const RECORDED_MISS: usize = 2540;
    let w = short_beside_long(32).await;
    let (side, frames, drawn) = one_lead(&w, "", "side").await;
    assert!(drawn, "side by side: a frame drew the new row");
    eprintln!(
        "one new lead at {COLS}x{ROWS}: stacked, 16 incoming: {stacked} B; side by side, \
         32 incoming beside {OUTGOING} outgoing: {side} B in {frames} frames (target {TWO_KB} B)"
    );
    assert!(
        side <= RECORDED_MISS,
        "side by side at {COLS}x{ROWS}, 32 incoming beside {OUTGOING} outgoing: one new lead \
         wrote {side} bytes in {frames} frames (recorded miss: up to {RECORDED_MISS})"
    );
    assert_eq!(w.boxed(&w.t.acme, "incoming").await.len(), 33);
}
