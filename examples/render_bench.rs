//! Times the inbox's hot paths with 100,000 referrals loaded:
//! rendering a 200x50 frame, and one filter keystroke (re-filter + frame).
//!
//! `cargo run --release --example render_bench` (debug builds are ~10x slower).

use std::time::{Duration, Instant};

use chrono::Utc;
use leadx::inbox::keymap::KeyMap;
use leadx::inbox::msg::Msg;
use leadx::inbox::state::State;
use leadx::inbox::update::{init, update};
use leadx::inbox::{theme, views};
use leadx::wire::{Lead, Me, MePartner, MeUser, Referral, ReferralBox, Role, Status};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

const N: usize = 100_000;
const COMPANIES: [&str; 8] = [
    "Main Street Bakery",
    "Harbor Dental",
    "Lakeside Books",
    "Granite Gym",
    "Orchard Cafe",
    "Summit Legal",
    "Riverbend Florist",
    "Copper Kettle",
];
const PARTNERS: [&str; 5] = [
    "northwind-net",
    "bluehost-co",
    "pixel-forge",
    "hostly",
    "harbor-host",
];
const CATEGORIES: [&str; 4] = ["hosting", "bandwidth", "design", "services"];

fn referral(i: usize) -> Referral {
    let now = Utc::now();
    let created = now - chrono::Duration::seconds((i * 37 % 300_000) as i64);
    let other = PARTNERS[i % PARTNERS.len()];
    let incoming = !i.is_multiple_of(3);
    let (from, to) = if incoming {
        (other, "acme-web")
    } else {
        ("acme-web", other)
    };
    Referral {
        id: format!("r_{i:026}"),
        version: 1,
        status: if i.is_multiple_of(5) {
            Status::Accepted
        } else {
            Status::Pending
        },
        from_partner: from.to_string(),
        to_partner: to.to_string(),
        lead: Lead {
            company: format!("{} #{i}", COMPANIES[i % COMPANIES.len()]),
            domain: None,
            contact_name: None,
            contact_email: None,
            contact_phone: None,
            category: CATEGORIES[i % CATEGORIES.len()].to_string(),
            summary: Some(format!("Lead number {i}: managed services for a relaunch")),
            est_value_cents: Some((i as i64 % 500) * 10_000),
            currency: "USD".to_string(),
            region: Some("US-West".to_string()),
        },
        contact_masked: true,
        commission_pct: 15,
        note: None,
        decision_note: None,
        created_at: created,
        updated_at: created,
        expires_at: created + chrono::Duration::hours(72),
        decided_at: None,
        decided_by: None,
        reason: None,
        outcome: None,
        parent_id: None,
        forwarded_to: None,
        chain: vec![from.to_string(), to.to_string()],
    }
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

/// CPU time this thread has run (Linux `/proc/thread-self/schedstat`), so
/// that figures hold on a busy machine; `None` elsewhere.
fn cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Resident memory (Linux `VmRSS`), or `None` elsewhere.
fn rss() -> Option<String> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    Some(line.trim_start_matches("VmRSS:").trim().to_string())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let mut state = State::new(
        "https://bench",
        false,
        KeyMap::defaults(),
        "bench",
        leadx::wire::now_seconds(),
    );
    init(&mut state);
    update(&mut state, Msg::Resize(200, 50));
    update(
        &mut state,
        Msg::Me(Ok(Me {
            user: MeUser {
                id: "u".into(),
                name: "Bench".into(),
                role: Role::Agent,
            },
            partner: MePartner {
                id: "acme-web".into(),
                name: "Acme Web".into(),
            },
        })),
    );
    let refs: Vec<Referral> = (0..N).map(referral).collect();
    let (inc, out): (Vec<_>, Vec<_>) = refs.into_iter().partition(|r| r.to_partner == "acme-web");
    let t = Instant::now();
    update(
        &mut state,
        Msg::Listed {
            box_: ReferralBox::Incoming,
            result: Ok((inc, 1)),
        },
    );
    update(
        &mut state,
        Msg::Listed {
            box_: ReferralBox::Outgoing,
            result: Ok((out, 1)),
        },
    );
    println!("load {N} referrals into the model: {:?}", t.elapsed());

    if let Some(r) = rss() {
        println!("resident memory after load: {r}");
    }
    let th = theme::builtin("default").expect("default theme");
    let mut term = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    term.draw(|f| views::render(&state, &th, f)).expect("draw");

    let mut frames = Vec::new();
    let cpu0 = cpu_time();
    for i in 0..200 {
        update(&mut state, key(if i % 2 == 0 { 'j' } else { 'k' }));
        let t = Instant::now();
        term.draw(|f| views::render(&state, &th, f)).expect("draw");
        frames.push(t.elapsed());
    }
    if let (Some(a), Some(b)) = (cpu0, cpu_time()) {
        println!(
            "frame CPU time: mean {:?} (a cursor move each)",
            (b - a) / 200
        );
    }
    println!(
        "render a 200x50 frame: median {:?}, max {:?}",
        median(frames.clone()),
        frames.iter().max().unwrap()
    );

    update(&mut state, key('/'));
    let mut keystrokes = Vec::new();
    let cpu0 = cpu_time();
    for c in "lakeside 7".chars() {
        let t = Instant::now();
        update(&mut state, key(c));
        term.draw(|f| views::render(&state, &th, f)).expect("draw");
        keystrokes.push(t.elapsed());
    }
    for _ in 0.."lakeside 7".len() {
        let t = Instant::now();
        update(
            &mut state,
            Msg::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)),
        );
        term.draw(|f| views::render(&state, &th, f)).expect("draw");
        keystrokes.push(t.elapsed());
    }
    if let (Some(a), Some(b)) = (cpu0, cpu_time()) {
        println!(
            "filter keystroke CPU time: mean {:?} over {} keystrokes",
            (b - a) / keystrokes.len() as u32,
            keystrokes.len()
        );
    }
    println!(
        "filter keystroke (re-filter {N} + frame): median {:?}, max {:?}",
        median(keystrokes.clone()),
        keystrokes.iter().max().unwrap()
    );
}
