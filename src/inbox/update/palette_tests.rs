//! Reducer tests of palette.

use insta::assert_snapshot;
use ratatui::crossterm::event::KeyCode;

use super::test_support::*;
use crate::inbox::msg::{Effect, ExportFormat, Msg};
use crate::inbox::state::State;
use crate::inbox::testkit::*;
use crate::inbox::update::{sort, update};
use crate::wire::{BatchAction, ReasonCode, Role};

#[test]
fn select_by_query_then_accept_from_the_line() {
    let mut s = loaded(Role::Agent, sample());
    s.batch_settings.undo_seconds = 0;
    let fx = run(&mut s, "select status:pending from:northwind");
    assert_eq!(
        fx,
        vec![Effect::SaveHistory(
            "select status:pending from:northwind".into()
        )]
    );
    assert_eq!(marked(&s), ["r_07", "r_09"]);
    let fx = run(&mut s, "accept");
    assert_eq!(batches(&fx)[0].2, ["r_09", "r_07"]);
}

#[test]
fn line_commands_act_on_the_cursor_without_marks() {
    let mut s = loaded(Role::Agent, sample());
    let fx = run(&mut s, "reject duplicate seen it");
    match &fx[1] {
        Effect::Send {
            referral_id,
            request: BatchAction::Reject(r),
            ..
        } => {
            assert_eq!(referral_id, "r_09");
            assert_eq!(r.reason.code, ReasonCode::Duplicate);
            assert_eq!(r.reason.note.as_deref(), Some("seen it"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn line_errors_say_what_was_expected() {
    let mut s = loaded(Role::Agent, sample());
    run(&mut s, "reject nope");
    assert!(
        status_text(&s).contains("expected a reason code (unclear_need"),
        "{}",
        status_text(&s)
    );
    run(&mut s, "forward nobody");
    assert!(status_text(&s).contains("expected a partner id"));
    run(&mut s, "sort sideways");
    assert!(status_text(&s).contains("expected a field (age, expires"));
    run(&mut s, "export out.txt");
    assert!(status_text(&s).contains(".csv or .json"));
    run(&mut s, "select value:>");
    assert!(status_text(&s).contains("column"), "{}", status_text(&s));
    run(&mut s, "fly");
    assert!(status_text(&s).contains("expected one of: accept"));
    run(&mut s, "view nope");
    assert!(status_text(&s).contains("expected a view name"));
}

#[test]
fn export_and_theme_are_effects_for_the_runtime() {
    let mut s = loaded(Role::Agent, sample());
    let fx = run(&mut s, "export /tmp/x.JSON");
    match &fx[1] {
        Effect::Export {
            path,
            format,
            referrals,
        } => {
            assert_eq!(path, "/tmp/x.JSON");
            assert_eq!(*format, ExportFormat::Json);
            assert_eq!(referrals.len(), 6);
        }
        other => panic!("{other:?}"),
    }
    update(&mut s, Msg::Exported(Ok(("/tmp/x.JSON".into(), 6))));
    assert_eq!(status_text(&s), "exported 6 referrals to /tmp/x.JSON");
    let fx = run(&mut s, "theme dark");
    assert_eq!(fx[1], Effect::SetTheme("dark".into()));
}

#[test]
fn tab_completes_commands_codes_partners_views_and_fields() {
    let mut s = loaded(Role::Agent, sample());
    s.views = vec![("hot".into(), "value:>50k".into())];
    s.themes = vec!["default".into(), "dark".into()];
    let value = |s: &State| s.cmdline.as_ref().unwrap().input.value().to_string();
    update(&mut s, key(':'));
    type_str(&mut s, "rej");
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(value(&s), "reject ");
    type_str(&mut s, "du");
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(value(&s), "reject duplicate ");
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key(':'));
    type_str(&mut s, "forward ho");
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(value(&s), "forward hostly ");
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key(':'));
    type_str(&mut s, "view h");
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(value(&s), "view hot ");
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key(':'));
    type_str(&mut s, "theme d");
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(value(&s), "theme d");
    assert_eq!(s.cmdline.as_ref().unwrap().completions, ["default", "dark"]);
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key(':'));
    type_str(&mut s, "select -sta");
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(value(&s), "select -status:");
    type_str(&mut s, "pe");
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(value(&s), "select -status:pending ");
    type_str(&mut s, "from:north");
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(value(&s), "select -status:pending from:northwind-net ");
}

#[test]
fn tab_offers_no_actions_to_those_who_may_not_act() {
    for (role, readonly) in [
        (Role::Viewer, false),
        (Role::Operator, false),
        (Role::Agent, true),
    ] {
        let mut s = loaded(role, sample());
        s.readonly = readonly;
        update(&mut s, key(':'));
        type_str(&mut s, "acc");
        update(&mut s, code(KeyCode::Tab));
        let line = s.cmdline.as_ref().unwrap();
        assert_eq!(line.input.value(), "acc", "{role:?} readonly={readonly}");
        assert!(line.completions.is_empty());
        update(&mut s, code(KeyCode::Esc));
        // What they may do still completes.
        update(&mut s, key(':'));
        type_str(&mut s, "sel");
        update(&mut s, code(KeyCode::Tab));
        assert_eq!(s.cmdline.as_ref().unwrap().input.value(), "select ");
        update(&mut s, code(KeyCode::Esc));
    }
}

#[test]
fn history_is_recalled_with_up_and_down() {
    let mut s = loaded(Role::Agent, sample());
    s.history = vec!["sort value".into()];
    run(&mut s, "filter region:eu");
    assert_eq!(s.history, ["sort value", "filter region:eu"]);
    update(&mut s, key(':'));
    update(&mut s, code(KeyCode::Up));
    assert_eq!(
        s.cmdline.as_ref().unwrap().input.value(),
        "filter region:eu"
    );
    update(&mut s, code(KeyCode::Up));
    assert_eq!(s.cmdline.as_ref().unwrap().input.value(), "sort value");
    update(&mut s, code(KeyCode::Down));
    update(&mut s, code(KeyCode::Down));
    assert_eq!(s.cmdline.as_ref().unwrap().input.value(), "");
    // Repeating the last line does not store it twice.
    update(&mut s, code(KeyCode::Esc));
    let fx = run(&mut s, "filter region:eu");
    assert!(!fx.iter().any(|e| matches!(e, Effect::SaveHistory(_))));
}

#[test]
fn snapshot_command_line_with_completions() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key(':'));
    type_str(&mut s, "reject ");
    update(&mut s, code(KeyCode::Tab));
    assert_snapshot!("cmdline_completion", screen(&s));
}

#[test]
fn key_commands_run_by_name_from_the_line() {
    let mut s = loaded(Role::Agent, sample());
    run(&mut s, "mark_all");
    assert_eq!(s.marks.len(), 6);
    run(&mut s, "sort_next");
    assert_eq!(sort::sort_words(&s), "age ↑");
    let fx = run(&mut s, "reload");
    assert!(fx.iter().any(|e| matches!(e, Effect::List(_))), "{fx:?}");
    update(&mut s, key(':'));
    type_str(&mut s, "mark_r");
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(s.cmdline.as_ref().unwrap().input.value(), "mark_range ");
    update(&mut s, code(KeyCode::Esc));
    // A viewer may not run acting ones, nor see them offered.
    let mut v = loaded(Role::Viewer, sample());
    run(&mut v, "close");
    assert!(status_text(&v).contains("read-only"), "{}", status_text(&v));
    update(&mut v, key(':'));
    type_str(&mut v, "un");
    update(&mut v, code(KeyCode::Tab));
    assert_eq!(
        v.cmdline.as_ref().unwrap().input.value(),
        "un",
        "undo is not offered"
    );
}
