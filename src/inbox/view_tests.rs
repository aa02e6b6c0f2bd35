//! Snapshot tests of each screen (`TestBackend` + insta).

use insta::assert_snapshot;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use ratatui::style::{Color, Modifier};

use super::msg::{FeedMsg, Msg};
use super::state::State;
use super::testkit::*;
use super::update::update;
use super::views::render;
use crate::theme::{self, ColorDepth, Theme};
use crate::wire::Role;

fn default_theme() -> Theme {
    theme::builtin("default").expect("built-in default theme")
}

fn draw(state: &State, theme: &Theme) -> Terminal<TestBackend> {
    let (w, h) = state.size;
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    term.draw(|f| render(state, theme, f)).expect("draw");
    term
}

fn screen(state: &State) -> String {
    draw(state, &default_theme()).backend().to_string()
}

#[test]
fn one_pane_at_80x24() {
    let s = loaded(Role::Agent, sample());
    assert_snapshot!("one_pane_80x24", screen(&s));
}

#[test]
fn both_panes_side_by_side() {
    let s = loaded_sized(Role::Agent, sample(), 200, 30);
    let out = screen(&s);
    assert!(out.contains("Incoming 6 · 5 pending") && out.contains("Outgoing 3 · 2 pending"));
    assert_snapshot!("both_panes_side_by_side", out);
}

#[test]
fn both_panes_stacked() {
    let s = loaded_sized(Role::Agent, sample(), 100, 40);
    assert_snapshot!("both_panes_stacked", screen(&s));
}

#[test]
fn outgoing_pane_with_new_count() {
    let mut s = loaded(Role::Agent, sample());
    let r = referral("r_20", "acme-web", "pixel-forge", "Fresh Lead Ltd", 0);
    update(
        &mut s,
        Msg::Feed(FeedMsg::Event {
            seq: 500,
            referral: Box::new(r),
            at: t(NOW),
        }),
    );
    let out = screen(&s);
    assert!(out.contains("Incoming 6 · 5 pending"));
    assert!(
        out.contains("2: Outgoing 4 · 1 new · 3 pending"),
        "the hidden pane's news shows"
    );
    update(&mut s, key('2'));
    assert_snapshot!("outgoing_after_new_lead", screen(&s));
}

#[test]
fn detail_of_a_masked_and_an_accepted_referral() {
    let mut s = loaded_sized(Role::Agent, sample(), 100, 32);
    for _ in 0..3 {
        update(&mut s, key('j'));
    }
    update(&mut s, code(KeyCode::Enter));
    let masked = screen(&s);
    assert!(masked.contains("contact shown after you accept"));
    assert!(masked.contains("pixel-forge → northwind-net → you"));
    assert_snapshot!("detail_masked", masked);
    update(&mut s, key('G'));
    let accepted = screen(&s);
    assert!(accepted.contains("Lee Park · lee@summitlegal.example"));
    assert!(accepted.contains("accepted by Dana (acme-web) at 10:42"));
    assert_snapshot!("detail_accepted", accepted);
}

#[test]
fn reject_popup() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('r'));
    update(&mut s, key('j'));
    assert_snapshot!("reject_reasons", screen(&s));
    update(&mut s, code(KeyCode::Enter));
    type_str(&mut s, "we only do design");
    assert_snapshot!("reject_note", screen(&s));
}

#[test]
fn forward_picker() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('f'));
    type_str(&mut s, "host");
    let out = screen(&s);
    assert!(out.contains("2 of 3 partners"));
    assert_snapshot!("forward_picker", out);
}

#[test]
fn close_popup() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('G'));
    update(&mut s, key('c'));
    assert_snapshot!("close_choose", screen(&s));
}

#[test]
fn help_overlay_lists_every_command() {
    let mut s = loaded_sized(Role::Agent, sample(), 100, 56);
    update(&mut s, key('?'));
    let out = screen(&s);
    for c in super::command::COMMANDS {
        assert!(out.contains(c.help), "{} missing from help", c.name);
    }
    assert_snapshot!("help", out);
}

#[test]
fn filter_line() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('/'));
    type_str(&mut s, "harbor");
    let out = screen(&s);
    assert!(out.contains("filter: harbor"));
    assert!(out.contains("1 shown"));
    assert_snapshot!("filter", out);
}

#[test]
fn reconnecting_and_offline() {
    let mut s = loaded(Role::Agent, sample());
    update(
        &mut s,
        Msg::Feed(FeedMsg::Disconnected {
            reason: "reset".into(),
            retry_in_ms: 3000,
            at: t(NOW),
        }),
    );
    let out = screen(&s);
    assert!(out.contains("◌ reconnecting in 3s"));
    assert_snapshot!("reconnecting", out);
    update(
        &mut s,
        Msg::Feed(FeedMsg::Disconnected {
            reason: "refused".into(),
            retry_in_ms: 8000,
            at: t("2026-11-26T12:01:00Z"),
        }),
    );
    assert!(screen(&s).contains("✕ offline since 12:00 · retry in 8s"));
}

#[test]
fn read_only_hides_action_hints_and_says_so() {
    let mut s = loaded(Role::Agent, sample());
    s.readonly = true;
    update(&mut s, key('a'));
    let out = screen(&s);
    assert!(out.contains("READ-ONLY"));
    assert!(!out.contains("accept  r"), "no action hints");
    assert_snapshot!("read_only", out);
}

#[test]
fn in_flight_and_unsent_actions_show() {
    let mut s = loaded(Role::Agent, sample());
    let fx = update(&mut s, key('a'));
    let super::msg::Effect::Send { op, .. } = fx[0].clone() else {
        panic!()
    };
    update(
        &mut s,
        Msg::ActionRetrying {
            op,
            error: "connection refused".into(),
        },
    );
    let out = screen(&s);
    // One action: counted once, as unsent (not also as in flight).
    assert!(out.contains("│ 1 unsent │"), "{out}");
    assert!(!out.contains("in flight"), "{out}");
    assert_snapshot!("in_flight", out);
    // A second one, sent and not answered yet.
    update(&mut s, key('j'));
    update(&mut s, key('a'));
    let out = screen(&s);
    assert!(out.contains("│ 1 in flight │ 1 unsent │"), "{out}");
}

#[test]
fn too_small() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, Msg::Resize(50, 12));
    let out = screen(&s);
    assert!(out.contains("terminal too small (need 60x15)"));
    assert_snapshot!("too_small", out);
}

#[test]
fn operator_sees_one_pane_of_everything() {
    let s = loaded_sized(Role::Operator, sample(), 120, 24);
    assert_snapshot!("operator", screen(&s));
}

#[test]
fn hostile_text_is_drawn_as_placeholders_and_wide_text_keeps_columns() {
    let mut refs = sample();
    refs[0].lead.company = "Evil\x1b[2J\x1b]0;pwn\x07 \u{202e}Corp".into();
    refs[1].lead.company = "寿司レストラン東京本店グループ".into();
    let s = loaded(Role::Agent, refs);
    let term = draw(&s, &default_theme());
    let buf = term.backend().buffer();
    for cell in buf.content() {
        assert!(
            !cell
                .symbol()
                .chars()
                .any(|c| c.is_control() || c == '\u{202e}'),
            "{:?}",
            cell.symbol()
        );
    }
    assert_snapshot!("hostile_and_wide", term.backend().to_string());
}

/// Each line's text, then a line marking each cell's modifiers
/// (R reversed, B bold, U underlined, D dim, . none).
fn styles(term: &Terminal<TestBackend>) -> String {
    let buf = term.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut text = String::new();
        let mut marks = String::new();
        for x in 0..buf.area.width {
            let c = &buf[(x, y)];
            text.push_str(c.symbol());
            let m = c.modifier;
            marks.push(if m.contains(Modifier::REVERSED) {
                'R'
            } else if m.contains(Modifier::BOLD) {
                'B'
            } else if m.contains(Modifier::UNDERLINED) {
                'U'
            } else if m.contains(Modifier::DIM) {
                'D'
            } else {
                '.'
            });
        }
        out.push_str(text.trim_end());
        out.push('\n');
        out.push_str(marks.trim_end_matches('.'));
        out.push('\n');
    }
    out
}

#[test]
fn every_builtin_theme_degrades_to_monochrome_readably() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('j'));
    for name in theme::builtin_names() {
        let th = theme::builtin(name)
            .expect("built-in")
            .degrade(ColorDepth::Mono);
        let term = draw(&s, &th);
        let buf = term.backend().buffer();
        for cell in buf.content() {
            assert!(matches!(cell.fg, Color::Reset), "{name}: fg {:?}", cell.fg);
            assert!(matches!(cell.bg, Color::Reset), "{name}: bg {:?}", cell.bg);
        }
        // The cursor row is readable without colour: reversed or bold, and a glyph.
        let cursor_y = (0..buf.area.height)
            .find(|&y| buf[(1u16, y)].symbol() == "▶")
            .expect("cursor glyph");
        let m = buf[(5u16, cursor_y)].modifier;
        assert!(
            m.intersects(Modifier::REVERSED | Modifier::BOLD),
            "{name}: {m:?}"
        );
        assert_snapshot!(format!("mono_{name}"), styles(&term));
    }
}

#[test]
fn a_long_message_pushes_out_the_event_time_and_is_cut_with_an_ellipsis() {
    let mut s = loaded(Role::Agent, sample());
    update(
        &mut s,
        Msg::Feed(super::msg::FeedMsg::Event {
            seq: 900,
            referral: Box::new(referral("r_90", "bluehost-co", "acme-web", "X", 0)),
            at: t(NOW),
        }),
    );
    assert!(screen(&s).contains("last event"));
    // A 409 answer: who decided and when matters more than the event time.
    update(&mut s, key('2'));
    update(&mut s, key('a'));
    let out = screen(&s);
    let bar = out.lines().rev().nth(1).unwrap().to_string();
    assert!(!bar.contains("last event"), "{bar}");
    assert!(
        bar.contains("cannot accept this referral: only its recipient"),
        "{bar}"
    );
    // Longer than the three rows a message may take under the line: the
    // last is cut with "…", not silently (`:messages` has it whole).
    s.status = Some(super::state::StatusMessage::new(
        "x".repeat(400),
        super::state::Level::Error,
        s.now,
    ));
    let out = screen(&s);
    let bar = out.lines().rev().nth(1).unwrap().trim_end().to_string();
    assert!(bar.contains("xx…"), "{bar}");
}

#[test]
fn the_close_popup_hints_its_own_keys() {
    let mut s = loaded(Role::Agent, sample());
    // r_04 in the sample is accepted (incoming): move to it and press c.
    while s.current().unwrap().referral.id != "r_04" {
        update(&mut s, key('j'));
    }
    update(&mut s, key('c'));
    let hint = screen(&s).lines().last().unwrap().to_string();
    assert!(
        hint.contains("Enter pick") && !hint.contains("reason"),
        "{hint}"
    );
    update(&mut s, code(KeyCode::Enter));
    let out = screen(&s);
    assert!(out.contains("Enter next"), "{out}");
    assert!(out.contains("Enter: next"), "the instruction fits: {out}");
}

#[test]
fn at_80x24_the_detail_keeps_the_note_decision_and_contact_and_cuts_the_rest_visibly() {
    let mut r = referral("r_50", "kestrel-digital", "acme-web", "Chain QA Ltd", 5);
    r.chain = [
        "northwind-net".into(),
        "kestrel-digital".into(),
        "acme-web".into(),
    ]
    .into();
    r.note = Some("kestrel says hi".into());
    r.lead.summary = Some("word ".repeat(80));
    let mut r = decided(r, crate::wire::Status::Accepted, 2);
    r.contact_masked = false;
    r.lead.contact_name = Some("Diego Sullivan".into());
    r.decision_note = Some("calling them tomorrow".into());
    let mut s = loaded(Role::Agent, vec![r]);
    update(&mut s, code(KeyCode::Enter));
    let out = screen(&s);
    for want in [
        "Note      kestrel says hi",
        "Chain     northwind-net → kestrel-digital → you",
        "Decision",
        "Reply     calling them tomorrow",
        "Contact   Diego Sullivan",
    ] {
        assert!(out.contains(want), "{want:?} missing:\n{out}");
    }
    // The long summary is cut, and says so.
    let summary = out
        .lines()
        .find(|l| l.contains("Summary"))
        .expect("summary");
    assert!(summary.contains('…'), "{summary}");
}

#[test]
fn a_refused_token_says_so_instead_of_loading_forever() {
    let mut s = started("https://leadx.example", 80, 24);
    update(
        &mut s,
        Msg::Me(Err("unauthenticated: missing or unknown token".into())),
    );
    update(
        &mut s,
        Msg::Partners(Err("unauthenticated: missing or unknown token".into())),
    );
    let out = screen(&s);
    assert!(out.contains("✕ token refused"), "{out}");
    assert!(out.contains("the server refused this token"), "{out}");
    assert!(!out.contains("loading…"), "{out}");
    // Another failure (the network) is not a refusal.
    let mut s2 = loaded(Role::Agent, sample());
    update(
        &mut s2,
        Msg::Partners(Err("server unreachable: refused".into())),
    );
    assert!(s2.refused.is_none());
}

#[test]
fn the_layout_setting_picks_how_the_panes_share_the_screen() {
    use super::layout::layout;
    use super::state::Pane;
    use crate::config::Layout;
    let shape = |pref: Layout, w: u16, h: u16| {
        let mut s = loaded_sized(Role::Agent, sample(), w, h);
        s.layout = pref;
        let l = layout(&s);
        let rects: Vec<_> = l.panes.iter().map(|(_, r)| *r).collect();
        match rects.as_slice() {
            [_] => "single",
            [a, b] if a.y == b.y => "side-by-side",
            [_, _] => "stacked",
            _ => "none",
        }
    };
    assert_eq!(shape(Layout::Auto, 200, 50), "side-by-side");
    assert_eq!(shape(Layout::Auto, 120, 50), "stacked");
    assert_eq!(shape(Layout::Auto, 80, 24), "single");
    assert_eq!(shape(Layout::Stacked, 200, 50), "stacked");
    assert_eq!(shape(Layout::Stacked, 200, 30), "single");
    assert_eq!(shape(Layout::SideBySide, 200, 30), "side-by-side");
    assert_eq!(shape(Layout::SideBySide, 120, 50), "single");
    assert_eq!(shape(Layout::Single, 200, 50), "single");
    // One pane: the hidden one's counts stay in the title.
    let mut s = loaded_sized(Role::Agent, sample(), 200, 50);
    s.layout = Layout::Single;
    assert!(screen(&s).contains("2: Outgoing"));
    assert_eq!(s.active, Pane::Incoming);
}

#[test]
fn second_qa_pass_detail_and_empty_table_fixes() {
    // A long company: the title is cut with "…", the status still shows.
    let long = "The Extraordinarily Long-Named Consolidated Regional Veterinary Hospital Group";
    let mut r = referral("r_70", "northwind-net", "acme-web", long, 5);
    r.note = Some("call Tuesday".into());
    let mut s = loaded(Role::Agent, vec![r.clone()]);
    update(&mut s, code(KeyCode::Enter));
    let out = screen(&s);
    let title = out
        .lines()
        .find(|l| l.contains("The Extraordinarily"))
        .unwrap();
    assert!(title.contains('…') && title.contains("pending"), "{title}");
    // A close's note is shown once (the server repeats it as the reply).
    let mut won = decided(r.clone(), crate::wire::Status::Won, 3);
    won.decision_note = Some("Signed a 6-month retainer".into());
    won.outcome = Some(Box::new(crate::wire::Outcome {
        value_cents: Some(500_000),
        note: Some("Signed a 6-month retainer".into()),
    }));
    let mut s = loaded_sized(Role::Agent, vec![won], 200, 50);
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(screen(&s).matches("Signed a 6-month retainer").count(), 1);
    // A read-only monitor at 80x24: the detail keeps its note and contact
    // (the queue summary gives way while the detail is open).
    let mut s = loaded(Role::Operator, vec![r]);
    update(&mut s, code(KeyCode::Enter));
    let out = screen(&s);
    assert!(out.contains("Note      call Tuesday"), "{out}");
    assert!(out.contains("hidden from exchange operators"), "{out}");
    // A wrong server path: the reason stays on screen, not "loading…".
    let mut s = started("http://localhost:7955/exchange", 80, 24);
    update(&mut s, Msg::Me(Err("not found: no such route".into())));
    update(&mut s, Msg::Tick(t(NOW) + chrono::Duration::seconds(60)));
    let out = screen(&s);
    assert!(out.contains("cannot load your account: not found"), "{out}");
    assert!(out.contains("✕ cannot load your account"), "{out}");
    assert!(!out.contains("loading…"), "{out}");
}
