//! Builders for the inbox's unit and snapshot tests.

use std::sync::Arc;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::keymap::KeyMap;
use super::msg::Msg;
use super::state::State;
use super::update::{init, update};
use crate::wire::{
    DecidedBy, Lead, Me, MePartner, MeUser, Partner, PartnerKind, Referral, ReferralBox, Role,
    Status, Timestamp, parse_timestamp,
};

/// `2026-11-26T12:00:00Z`: "now" in every test.
pub const NOW: &str = "2026-11-26T12:00:00Z";

/// A timestamp.
pub fn t(s: &str) -> Timestamp {
    parse_timestamp(s).expect("test timestamp")
}

/// A pending referral created `age_min` minutes before [`NOW`], expiring 72 h later.
pub fn referral(id: &str, from: &str, to: &str, company: &str, age_min: i64) -> Referral {
    let created = t(NOW) - chrono::Duration::minutes(age_min);
    Referral {
        id: id.to_string(),
        version: 1,
        status: Status::Pending,
        from_partner: from.into(),
        to_partner: to.into(),
        lead: Lead {
            company: company.to_string(),
            domain: Some(format!(
                "{}.example",
                company.to_lowercase().replace(' ', "")
            )),
            contact_name: None,
            contact_email: None,
            contact_phone: None,
            category: "hosting".into(),
            summary: Some("Managed hosting for an e-commerce relaunch".to_string()),
            est_value_cents: Some(1_200_000),
            currency: "USD".into(),
            region: Some("US-West".into()),
        },
        contact_masked: true,
        commission_pct: 15,
        note: Some("Warm intro; their CTO expects a call this week".to_string()),
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
        chain: [from.into(), to.into()].into(),
    }
}

/// The same referral at `version`, decided by dana of acme-web at 10:42.
pub fn decided(mut r: Referral, status: Status, version: u64) -> Referral {
    r.status = status;
    r.version = version;
    r.decided_at = Some(t("2026-11-26T10:42:00Z"));
    r.decided_by = Some(Arc::new(DecidedBy {
        user: "u_dana".into(),
        name: "Dana".into(),
        partner: r.to_partner.clone(),
    }));
    r
}

/// A user of `partner`.
pub fn me(partner: &str, role: Role) -> Me {
    Me {
        user: MeUser {
            id: "u_sam".to_string(),
            name: "Sam Agent".to_string(),
            role,
        },
        partner: MePartner {
            id: partner.to_string(),
            name: "Acme Web".to_string(),
        },
    }
}

/// A directory entry.
pub fn partner(id: &str, name: &str, categories: &[&str], regions: &[&str]) -> Partner {
    Partner {
        id: id.to_string(),
        name: name.to_string(),
        kind: PartnerKind::Provider,
        categories: categories.iter().map(|s| s.to_string()).collect(),
        regions: regions.iter().map(|s| s.to_string()).collect(),
    }
}

/// The demo-ish directory.
pub fn directory() -> Vec<Partner> {
    vec![
        partner(
            "northwind-net",
            "Northwind Networks",
            &["bandwidth"],
            &["US-West"],
        ),
        partner(
            "acme-web",
            "Acme Web",
            &["design", "services"],
            &["US-West"],
        ),
        partner(
            "bluehost-co",
            "Blue Host Co",
            &["hosting", "colocation"],
            &["EU-Central"],
        ),
        partner("pixel-forge", "Pixel Forge", &["design"], &["US-East"]),
        partner("hostly", "Hostly", &["hosting"], &["US-East"]),
    ]
}

/// A model for `me` at 80x24 with the given referrals listed (incoming to
/// `acme-web` and outgoing from it), partners loaded, feed live.
pub fn loaded(role: Role, refs: Vec<Referral>) -> State {
    loaded_sized(role, refs, 80, 24)
}

/// A state for `server` at `w`x`h`, started, nothing loaded yet.
pub fn started(server: &str, w: u16, h: u16) -> State {
    let mut s = State::new(server, false, KeyMap::defaults(), "key", t(NOW));
    init(&mut s);
    update(&mut s, Msg::Resize(w, h));
    s
}

/// [`loaded`] at a given size.
pub fn loaded_sized(role: Role, refs: Vec<Referral>, w: u16, h: u16) -> State {
    let mut s = started("https://leadx.example", w, h);
    // Tests of sending and answers see a single action go at once; the
    // undo window of single actions (on by default) has its own tests,
    // which turn it back on (update/batch_single_tests.rs).
    s.batch_settings.undo_single = false;
    update(&mut s, Msg::Me(Ok(me("acme-web", role))));
    update(&mut s, Msg::Partners(Ok(directory())));
    let (inc, out): (Vec<_>, Vec<_>) = refs.into_iter().partition(|r| r.to_partner == "acme-web");
    if role == Role::Operator {
        let mut all = inc;
        all.extend(out);
        update(
            &mut s,
            Msg::Listed {
                box_: ReferralBox::All,
                result: Ok((all, 100)),
            },
        );
    } else {
        update(
            &mut s,
            Msg::Listed {
                box_: ReferralBox::Incoming,
                result: Ok((inc, 100)),
            },
        );
        update(
            &mut s,
            Msg::Listed {
                box_: ReferralBox::Outgoing,
                result: Ok((out, 101)),
            },
        );
    }
    update(
        &mut s,
        Msg::Feed(super::msg::FeedMsg::Connected { at: t(NOW) }),
    );
    s
}

/// A realistic mix: 6 incoming, 3 outgoing.
pub fn sample() -> Vec<Referral> {
    let mut v = vec![
        referral("r_09", "northwind-net", "acme-web", "Main Street Bakery", 5),
        referral("r_08", "bluehost-co", "acme-web", "Harbor Dental", 90),
        referral(
            "r_07",
            "northwind-net",
            "acme-web",
            "Lakeside Books",
            60 * 50,
        ),
        referral(
            "r_06",
            "pixel-forge",
            "acme-web",
            "Granite Gym",
            60 * 71 + 10,
        ),
        referral("r_05", "hostly", "acme-web", "Orchard Cafe", 60 * 30),
        referral("r_04", "northwind-net", "acme-web", "Summit Legal", 60 * 80),
        referral("r_03", "acme-web", "hostly", "Riverbend Florist", 20),
        referral("r_02", "acme-web", "bluehost-co", "Copper Kettle", 60 * 5),
        referral(
            "r_01",
            "acme-web",
            "northwind-net",
            "Alpine Outfitters",
            60 * 100,
        ),
    ];
    v[3].lead.category = "colocation".into();
    v[4].lead.est_value_cents = Some(95_000);
    v[4].lead.region = Some("EU-Central".into());
    let accepted = decided(v[5].clone(), Status::Accepted, 2);
    v[5] = accepted;
    v[5].contact_masked = false;
    v[5].lead.contact_name = Some("Lee Park".to_string());
    v[5].lead.contact_email = Some("lee@summitlegal.example".to_string());
    v[2].chain = [
        "pixel-forge".into(),
        "northwind-net".into(),
        "acme-web".into(),
    ]
    .into();
    let won = decided(v[8].clone(), Status::Rejected, 2);
    v[8] = won;
    v
}

/// A plain key press.
pub fn key(c: char) -> Msg {
    let mods = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    Msg::Key(KeyEvent::new(KeyCode::Char(c), mods))
}

/// A special key press.
pub fn code(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// Types a string, one key per character.
pub fn type_str(s: &mut State, text: &str) {
    for c in text.chars() {
        update(s, key(c));
    }
}

/// The screen drawn for `state` at its size, with the default theme.
pub fn drawn(state: &State) -> String {
    let (w, h) = state.size;
    let mut term =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).expect("test terminal");
    let th = crate::theme::builtin("default").expect("default theme");
    term.draw(|f| super::views::render(state, &th, f))
        .expect("draw");
    term.backend().to_string()
}
