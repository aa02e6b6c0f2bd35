//! Reducer and snapshot tests of marks, batches, the query filter and
//! sort, the `:` line and the monitor.

use insta::assert_snapshot;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;

use super::msg::{Effect, ExportFormat, FeedMsg, Msg};
use super::state::{Pane, Popup, State};
use super::testkit::*;
use super::update::batch::BatchPhase;
use super::update::update;
use super::update::{batch, marks, monitor, sort};
use super::views::render;
use crate::theme;
use crate::wire::{
    ApiError, BatchAction, BatchOutcome, BatchResponse, BatchResult, BatchSummary, ErrorCode,
    ReasonCode, Referral, Role, Status,
};

fn screen(state: &State) -> String {
    let (w, h) = state.size;
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    let th = theme::builtin("default").expect("default theme");
    term.draw(|f| render(state, &th, f)).expect("draw");
    term.backend().to_string()
}

fn status_text(s: &State) -> String {
    s.status
        .as_ref()
        .map(|m| m.text.clone())
        .unwrap_or_default()
}

fn marked(s: &State) -> Vec<String> {
    let mut v: Vec<String> = s.marks.iter().cloned().collect();
    v.sort();
    v
}

fn current_id(s: &State) -> String {
    s.current().expect("a row").referral.id.clone()
}

/// `n` pending referrals sent to acme-web, ids `r_0000`...
fn many(n: usize) -> Vec<Referral> {
    (0..n)
        .map(|i| {
            referral(
                &format!("r_{i:04}"),
                "northwind-net",
                "acme-web",
                &format!("Shop {i}"),
                i as i64,
            )
        })
        .collect()
}

fn batches(fx: &[Effect]) -> Vec<(u64, usize, Vec<String>, String)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::SendBatch {
                batch,
                chunk,
                request,
                idempotency_key,
            } => Some((
                *batch,
                *chunk,
                request.items.iter().map(|i| i.id.clone()).collect(),
                idempotency_key.clone(),
            )),
            _ => None,
        })
        .collect()
}

fn tick(s: &mut State, secs: i64) -> Vec<Effect> {
    let at = s.now + chrono::Duration::seconds(secs);
    update(s, Msg::Tick(at))
}

fn applied(r: &Referral) -> BatchResult {
    let mut v = decided(r.clone(), Status::Accepted, r.version + 1);
    let mut by = (**v.decided_by.as_ref().expect("decided")).clone();
    by.name = "Sam Agent".into();
    v.decided_by = Some(std::sync::Arc::new(by));
    BatchResult {
        id: r.id.clone(),
        outcome: BatchOutcome::Applied,
        referral: Some(v),
        forwarded: None,
        error: None,
    }
}

fn conflict(r: &Referral) -> BatchResult {
    let cur = decided(r.clone(), Status::Accepted, r.version + 1);
    BatchResult {
        id: r.id.clone(),
        outcome: BatchOutcome::Conflict,
        referral: None,
        forwarded: None,
        error: Some(ApiError {
            code: ErrorCode::Conflict,
            message: "already decided".into(),
            field: None,
            current: Some(Box::new(cur)),
            existing_id: None,
        }),
    }
}

fn not_found(id: &str) -> BatchResult {
    BatchResult {
        id: id.into(),
        outcome: BatchOutcome::NotFound,
        referral: None,
        forwarded: None,
        error: Some(ApiError {
            code: ErrorCode::NotFound,
            message: "no such referral".into(),
            field: None,
            current: None,
            existing_id: None,
        }),
    }
}

fn response(results: Vec<BatchResult>) -> BatchResponse {
    let mut summary = BatchSummary::default();
    for r in &results {
        summary.count(r.outcome);
    }
    BatchResponse { results, summary }
}

// ---------------------------------------------------------------- marks

#[test]
fn space_toggles_and_moves_down_and_esc_clears() {
    let mut s = loaded(Role::Agent, sample());
    assert_eq!(current_id(&s), "r_09");
    update(&mut s, key(' '));
    assert_eq!(marked(&s), ["r_09"]);
    assert_eq!(current_id(&s), "r_08", "space moves down");
    update(&mut s, key(' '));
    assert_eq!(marked(&s), ["r_08", "r_09"]);
    update(&mut s, key('k'));
    update(&mut s, key(' '));
    assert_eq!(marked(&s), ["r_09"], "space on a marked row unmarks it");
    update(&mut s, code(KeyCode::Esc));
    assert!(s.marks.is_empty());
}

#[test]
fn v_marks_a_range_that_follows_the_cursor() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('j'));
    update(&mut s, key('v'));
    assert_eq!(marked(&s), ["r_08"]);
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    assert_eq!(marked(&s).len(), 3);
    update(&mut s, key('k'));
    assert_eq!(marked(&s).len(), 2, "moving back shrinks the range");
    update(&mut s, key('k'));
    update(&mut s, key('k'));
    assert_eq!(marked(&s), ["r_08", "r_09"], "a range extends upwards too");
    update(&mut s, key('v'));
    assert!(s.range.is_none());
    update(&mut s, key('G'));
    assert_eq!(
        marked(&s),
        ["r_08", "r_09"],
        "after v the cursor moves freely"
    );
}

#[test]
fn star_marks_what_the_filter_shows_and_bang_inverts_within_it() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('/'));
    type_str(&mut s, "from:northwind");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 3);
    update(&mut s, key('*'));
    assert_eq!(marked(&s), ["r_04", "r_07", "r_09"]);
    update(&mut s, key(' '));
    assert_eq!(marked(&s), ["r_04", "r_07"]);
    update(&mut s, key('!'));
    assert_eq!(marked(&s), ["r_09"], "! inverts among the shown rows only");
    // Rows outside the filter keep their marks through an invert.
    update(&mut s, key('/'));
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key('/'));
    type_str(&mut s, "harbor");
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, key('*'));
    update(&mut s, key('/'));
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key('/'));
    type_str(&mut s, "from:northwind");
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, key('!'));
    assert_eq!(marked(&s), ["r_04", "r_07", "r_08"]);
}

#[test]
fn marks_survive_updates_reloads_and_filters_and_count_hidden_ones() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('*'));
    assert_eq!(s.marks.len(), 6);
    assert_eq!(marks::marks_words(&s).as_deref(), Some("6 selected"));
    // A live update of a marked referral keeps it marked.
    let r = sample().into_iter().find(|r| r.id == "r_08").expect("r_08");
    update(
        &mut s,
        Msg::Feed(FeedMsg::Event {
            seq: 200,
            referral: Box::new(decided(r, Status::Accepted, 2)),
            at: t(NOW),
        }),
    );
    assert!(s.is_marked("r_08"));
    // A reload keeps them.
    update(&mut s, key('R'));
    update(
        &mut s,
        Msg::Listed {
            box_: crate::wire::ReferralBox::Incoming,
            result: Ok((
                sample()
                    .into_iter()
                    .filter(|r| r.to_partner == "acme-web")
                    .collect(),
                300,
            )),
        },
    );
    assert_eq!(s.marks.len(), 6);
    // A filter hides three of them: they stay marked, counted as hidden.
    update(&mut s, key('/'));
    type_str(&mut s, "from:northwind");
    assert_eq!(s.marks.len(), 6);
    assert_eq!(s.hidden_marks(), 3);
    assert_eq!(
        marks::marks_words(&s).as_deref(),
        Some("6 selected (3 hidden)")
    );
    update(&mut s, code(KeyCode::Enter));
    assert!(screen(&s).contains("6 selected (3 hidden)"));
    // The other pane's rows count as hidden too.
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key('2'));
    update(&mut s, key(' '));
    update(&mut s, key('1'));
    assert_eq!(s.hidden_marks(), 1);
}

#[test]
fn marked_rows_show_a_glyph_in_monochrome() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key(' '));
    let out = screen(&s);
    let line = out
        .lines()
        .find(|l| l.contains("Main Street Ba"))
        .unwrap_or_else(|| panic!("row drawn: {out}"));
    assert!(line.contains('✓'), "{line}");
}

// ---------------------------------------------------------------- batches

#[test]
fn a_small_batch_skips_what_does_not_apply_and_waits_the_undo_window() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('*'));
    let fx = update(&mut s, key('a'));
    assert!(
        batches(&fx).is_empty(),
        "nothing is sent during the undo window"
    );
    let b = s.batch.as_ref().expect("a batch");
    assert_eq!(b.items.len(), 5);
    assert_eq!(b.skipped, vec![("r_04".to_string(), "not pending")]);
    assert!(matches!(b.phase, BatchPhase::Undo { .. }));
    assert!(s.popup.is_none(), "5 is under the confirmation threshold");
    assert_eq!(batch::undo_left(&s), Some(5));
    assert_eq!(s.in_flight(), 5, "not confirmed by the server yet");
    assert_eq!(s.next_wakeup(), Some(s.now + chrono::Duration::seconds(1)));
    assert!(batches(&tick(&mut s, 4)).is_empty());
    assert_eq!(batch::undo_left(&s), Some(1));
    let fx = tick(&mut s, 1);
    let sent = batches(&fx);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].2, ["r_09", "r_08", "r_05", "r_07", "r_06"]);
    assert_eq!(sent[0].3, "key-b1-0");
    for item in &s.batch.as_ref().unwrap().items {
        match &item.action {
            BatchAction::Accept(a) => assert_eq!(a.version, 1),
            other => panic!("{other:?}"),
        }
    }
    assert!(s.entry("r_09").unwrap().in_flight.is_some());
}

#[test]
fn above_the_threshold_a_confirmation_says_what_will_happen() {
    let mut s = loaded(Role::Agent, sample());
    s.batch_settings.confirm_over = 2;
    update(&mut s, key('*'));
    update(&mut s, key('a'));
    assert!(matches!(s.popup, Some(Popup::BatchConfirm)));
    assert_eq!(
        s.batch.as_ref().unwrap().question(),
        "Accept 5 referrals (1 skipped: not pending)?"
    );
    update(&mut s, key('n'));
    assert!(s.batch.is_none() && s.popup.is_none());
    assert_eq!(s.marks.len(), 6, "declining keeps the marks");
    update(&mut s, key('a'));
    update(&mut s, key('y'));
    assert!(matches!(
        s.batch.as_ref().unwrap().phase,
        BatchPhase::Undo { .. }
    ));
}

#[test]
fn undo_cancels_before_anything_is_sent() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('*'));
    update(&mut s, key('a'));
    tick(&mut s, 2);
    let fx = update(&mut s, key('u'));
    assert!(fx.is_empty());
    assert!(s.batch.is_none());
    assert!(
        status_text(&s).contains("nothing was sent"),
        "{}",
        status_text(&s)
    );
    assert!(batches(&tick(&mut s, 10)).is_empty());
    assert_eq!(s.marks.len(), 6, "undo keeps the marks");
    assert!(s.entry("r_09").unwrap().in_flight.is_none());
}

#[test]
fn undo_seconds_zero_sends_at_once() {
    let mut s = loaded(Role::Agent, sample());
    s.batch_settings.undo_seconds = 0;
    update(&mut s, key('*'));
    let fx = update(&mut s, key('a'));
    assert_eq!(batches(&fx).len(), 1);
    assert_eq!(s.batch.as_ref().unwrap().phase, BatchPhase::Sending);
}

#[test]
fn big_batches_go_in_chunks_of_500_with_their_own_keys() {
    let mut s = loaded(Role::Agent, many(1201));
    update(&mut s, key('*'));
    update(&mut s, key('a'));
    assert!(matches!(s.popup, Some(Popup::BatchConfirm)));
    update(&mut s, code(KeyCode::Enter));
    let sent = batches(&tick(&mut s, 5));
    let sizes: Vec<usize> = sent.iter().map(|c| c.2.len()).collect();
    assert_eq!(sizes, [500, 500, 201]);
    let keys: Vec<&str> = sent.iter().map(|c| c.3.as_str()).collect();
    assert_eq!(keys, ["key-b1-0", "key-b1-1", "key-b1-2"]);
    let mut all: Vec<String> = sent.iter().flat_map(|c| c.2.clone()).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 1201, "every item once");
}

#[test]
fn results_map_per_item_and_failures_stay_selected() {
    let refs = many(5);
    let mut s = loaded(Role::Agent, refs.clone());
    update(&mut s, key('*'));
    s.batch_settings.undo_seconds = 0;
    let fx = update(&mut s, key('a'));
    let (batch, chunk, ids, _) = batches(&fx).remove(0);
    assert_eq!(ids.len(), 5);
    let by = |id: &str| refs.iter().find(|r| r.id == id).unwrap();
    let answer = response(vec![
        applied(by("r_0004")),
        applied(by("r_0003")),
        applied(by("r_0002")),
        conflict(by("r_0001")),
        not_found("r_0000"),
    ]);
    update(
        &mut s,
        Msg::BatchDone {
            batch,
            chunk,
            result: Ok(answer.clone()),
            at: t(NOW),
        },
    );
    let b = s.batch.as_ref().unwrap();
    assert_eq!(b.phase, BatchPhase::Done);
    assert_eq!(b.summary(), "3 accepted · 1 conflict · 1 not found");
    assert!(matches!(s.popup, Some(Popup::BatchResults { .. })));
    let conflict = b.failures().find(|f| f.id == "r_0001").unwrap();
    assert_eq!(
        conflict.reason.as_deref(),
        Some("accepted by Dana (acme-web) at 10:42")
    );
    let nf = b.failures().find(|f| f.id == "r_0000").unwrap();
    assert_eq!(nf.reason.as_deref(), Some("no such referral"));
    assert_eq!(marked(&s), ["r_0000", "r_0001"], "failures stay selected");
    assert_eq!(s.entry("r_0004").unwrap().referral.status, Status::Accepted);
    assert_eq!(s.entry("r_0004").unwrap().referral.version, 2);
    assert_eq!(
        s.entry("r_0001").unwrap().referral.version,
        2,
        "conflict shows who"
    );
    assert!(s.entry("r_0004").unwrap().in_flight.is_none());
    assert_eq!(status_text(&s), "3 accepted · 1 conflict · 1 not found");
    // A repeated answer for the same chunk changes nothing.
    let before = s.batch.clone();
    update(
        &mut s,
        Msg::BatchDone {
            batch,
            chunk,
            result: Ok(answer),
            at: t(NOW),
        },
    );
    assert_eq!(s.batch, before);
    // Esc closes the results; the failures can be acted on again.
    update(&mut s, code(KeyCode::Esc));
    assert!(s.popup.is_none());
}

#[test]
fn a_retried_chunk_keeps_its_key_and_is_not_sent_twice() {
    let mut s = loaded(Role::Agent, many(3));
    s.batch_settings.undo_seconds = 0;
    update(&mut s, key('*'));
    let fx = update(&mut s, key('a'));
    let (batch, chunk, _, chunk_key) = batches(&fx).remove(0);
    let fx = update(
        &mut s,
        Msg::BatchRetrying {
            batch,
            chunk,
            error: "connection refused".into(),
        },
    );
    assert!(
        fx.is_empty(),
        "the runtime retries; the reducer sends nothing new"
    );
    let b = s.batch.as_ref().unwrap();
    assert!(b.chunks[0].unsent);
    assert_eq!(b.chunks[0].key, chunk_key);
    assert!(status_text(&s).contains("queued"), "{}", status_text(&s));
    assert_eq!((s.in_flight(), s.unsent()), (3, 3));
    // Quitting now asks first: the batch is not answered.
    update(&mut s, key('q'));
    assert!(matches!(s.popup, Some(Popup::ConfirmQuit)));
    update(&mut s, key('n'));
    // Another batch waits for this one.
    let fx = update(&mut s, key('a'));
    assert!(batches(&fx).is_empty());
    assert!(status_text(&s).contains("still under way"));
}

#[test]
fn a_refused_chunk_fails_every_item_with_the_reason() {
    let mut s = loaded(Role::Agent, many(2));
    s.batch_settings.undo_seconds = 0;
    update(&mut s, key('*'));
    let fx = update(&mut s, key('a'));
    let (batch, chunk, _, _) = batches(&fx).remove(0);
    update(
        &mut s,
        Msg::BatchDone {
            batch,
            chunk,
            result: Err("forbidden: \x1b[31mno".into()),
            at: t(NOW),
        },
    );
    let b = s.batch.as_ref().unwrap();
    assert_eq!(b.failures().count(), 2);
    assert!(
        b.failures()
            .all(|f| !f.reason.as_ref().unwrap().contains('\x1b'))
    );
    assert_eq!(s.marks.len(), 2);
}

#[test]
fn batch_reject_asks_one_reason_and_note_for_all() {
    let mut s = loaded(Role::Agent, sample());
    s.batch_settings.undo_seconds = 0;
    update(&mut s, key(' '));
    update(&mut s, key(' '));
    update(&mut s, key('r'));
    match &s.popup {
        Some(Popup::Reject(p)) => {
            assert!(p.batch);
            assert_eq!(p.company, "2 selected referrals");
        }
        other => panic!("{other:?}"),
    }
    update(&mut s, key('3'));
    type_str(&mut s, "dup of r_01");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(s.popup.is_none());
    let sent = batches(&fx);
    assert_eq!(sent.len(), 1);
    for item in &s.batch.as_ref().unwrap().items {
        match &item.action {
            BatchAction::Reject(r) => {
                assert_eq!(r.reason.code, ReasonCode::Duplicate);
                assert_eq!(r.reason.note.as_deref(), Some("dup of r_01"));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn batch_forward_picks_one_target_and_skips_leads_already_there() {
    let mut s = loaded(Role::Agent, sample());
    s.batch_settings.undo_seconds = 0;
    update(&mut s, key('*'));
    update(&mut s, key('f'));
    type_str(&mut s, "pixel");
    update(&mut s, code(KeyCode::Enter));
    let fx = update(&mut s, code(KeyCode::Enter));
    let b = s.batch.as_ref().expect("batch");
    // r_07 already passed through pixel-forge; r_04 is accepted.
    assert!(
        b.skipped
            .contains(&("r_07".to_string(), "already passed through it"))
    );
    assert!(
        b.skipped
            .contains(&("r_06".to_string(), "already passed through it"))
    );
    assert!(b.skipped.contains(&("r_04".to_string(), "not pending")));
    assert_eq!(batches(&fx)[0].2, ["r_09", "r_08", "r_05"]);
}

#[test]
fn read_only_and_viewers_cannot_batch() {
    let mut s = loaded(Role::Viewer, sample());
    update(&mut s, key('*'));
    let fx = update(&mut s, key('a'));
    assert!(fx.is_empty() && s.batch.is_none());
    assert!(status_text(&s).contains("viewers"));
}

// ---------------------------------------------------------------- query filter and sort

#[test]
fn a_bad_filter_shows_its_column_and_keeps_the_last_good_one() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('/'));
    type_str(&mut s, "status:pending \"");
    let e = s.filter_error.clone().expect("a parse error");
    assert_eq!(e.column, 15, "{e:?}");
    assert_eq!(
        s.pane(Pane::Incoming).rows.len(),
        5,
        "status:pending stays applied"
    );
    update(&mut s, code(KeyCode::Enter));
    assert!(
        s.filter_editing,
        "Enter does not leave a filter that does not parse"
    );
    let out = screen(&s);
    assert!(out.contains(&format!("col {}", e.column + 1)), "{out}");
    type_str(&mut s, "harbor");
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 5);
    type_str(&mut s, "\"");
    assert!(s.filter_error.is_none());
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 1);
}

#[test]
fn s_cycles_the_sort_and_capital_s_reverses_it() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('s'));
    assert_eq!(sort::sort_words(&s), "age ↑");
    update(&mut s, key('s'));
    assert_eq!(sort::sort_words(&s), "expires ↑");
    let ids: Vec<String> = s
        .pane(Pane::Incoming)
        .rows
        .iter()
        .map(|&i| s.entries[i as usize].referral.id.clone())
        .collect();
    assert_eq!(ids[0], "r_06", "the one expiring first leads: {ids:?}");
    update(&mut s, key('S'));
    assert_eq!(sort::sort_words(&s), "expires ↓");
    let first = s.pane(Pane::Incoming).rows[0];
    assert_ne!(s.entries[first as usize].referral.id, "r_06");
    // The cursor stays on its referral.
    let before = current_id(&s);
    update(&mut s, key('s'));
    assert_eq!(current_id(&s), before);
}

#[test]
fn sort_in_a_query_sets_the_sort_and_live_rows_land_in_order() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('/'));
    type_str(&mut s, "sort:-value");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(sort::sort_words(&s), "value ↓");
    let mut big = referral("r_99", "hostly", "acme-web", "Big Co", 1);
    big.lead.est_value_cents = Some(900_000_000);
    update(
        &mut s,
        Msg::Feed(FeedMsg::Event {
            seq: 500,
            referral: Box::new(big),
            at: t(NOW),
        }),
    );
    let first = s.pane(Pane::Incoming).rows[0];
    assert_eq!(s.entries[first as usize].referral.id, "r_99");
}

#[test]
fn saved_views_cycle_as_tabs() {
    let mut s = loaded(Role::Agent, sample());
    s.views = vec![
        ("eu".into(), "region:eu".into()),
        ("north".into(), "from:northwind status:pending".into()),
    ];
    update(&mut s, key(']'));
    assert_eq!(s.view, Some(0));
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 1);
    let out = screen(&s);
    assert!(out.contains("view eu"));
    assert!(
        out.lines().next().unwrap().contains(" all  eu  north "),
        "{out}"
    );
    update(&mut s, key(']'));
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 2);
    update(&mut s, key(']'));
    assert_eq!(s.view, None);
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 6);
}

// ---------------------------------------------------------------- the : line

fn run(s: &mut State, line: &str) -> Vec<Effect> {
    update(s, key(':'));
    type_str(s, line);
    update(s, code(KeyCode::Enter))
}

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

// ---------------------------------------------------------------- monitor

#[test]
fn the_monitor_summarizes_queues_live_and_hides_actions() {
    let mut s = loaded(Role::Operator, sample());
    let q = monitor::queue_summary(&s);
    let acme = q.iter().find(|r| r.partner == "acme-web").unwrap();
    assert_eq!(acme.pending, 5);
    assert_eq!(acme.expiring_24h, 2);
    assert_eq!(acme.oldest_secs, (60 * 71 + 10) * 60);
    let mut r = referral("r_50", "acme-web", "hostly", "New Co", 1);
    r.expires_at = t(NOW) + chrono::Duration::hours(3);
    update(
        &mut s,
        Msg::Feed(FeedMsg::Event {
            seq: 900,
            referral: Box::new(r),
            at: t(NOW),
        }),
    );
    let q = monitor::queue_summary(&s);
    let hostly = q.iter().find(|r| r.partner == "hostly").unwrap();
    assert_eq!((hostly.pending, hostly.expiring_24h), (2, 1));
    run(&mut s, "accept");
    assert!(status_text(&s).contains("read-only monitor"));
}

// ---------------------------------------------------------------- snapshots

#[test]
fn snapshot_batch_confirmation() {
    let mut s = loaded(Role::Agent, sample());
    s.batch_settings.confirm_over = 2;
    update(&mut s, key('*'));
    update(&mut s, key('a'));
    assert_snapshot!("batch_confirm", screen(&s));
}

#[test]
fn snapshot_undo_countdown() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('*'));
    update(&mut s, key('a'));
    tick(&mut s, 2);
    let out = screen(&s);
    assert!(out.contains("in 3s — press u to undo"), "{out}");
    assert_snapshot!("batch_undo", out);
}

#[test]
fn snapshot_batch_results() {
    let refs = sample();
    let mut s = loaded(Role::Agent, refs.clone());
    s.batch_settings.undo_seconds = 0;
    update(&mut s, key('*'));
    let fx = update(&mut s, key('a'));
    let (batch, chunk, ids, _) = batches(&fx).remove(0);
    let by = |id: &str| refs.iter().find(|r| r.id == id).unwrap();
    let mut results: Vec<BatchResult> = ids.iter().map(|id| applied(by(id))).collect();
    results[1] = conflict(by(&ids[1]));
    results[4] = not_found(&ids[4]);
    update(
        &mut s,
        Msg::BatchDone {
            batch,
            chunk,
            result: Ok(response(results)),
            at: t(NOW),
        },
    );
    assert_snapshot!("batch_results", screen(&s));
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
fn snapshot_read_only_monitor_summary() {
    let mut s = State::new(
        "https://leadx.example",
        true,
        super::keymap::KeyMap::defaults(),
        "key",
        t(NOW),
    );
    update(&mut s, Msg::Resize(120, 30));
    update(&mut s, Msg::Me(Ok(me("acme-web", Role::Agent))));
    let (inc, out): (Vec<_>, Vec<_>) = sample()
        .into_iter()
        .partition(|r| r.to_partner == "acme-web");
    update(
        &mut s,
        Msg::Listed {
            box_: crate::wire::ReferralBox::Incoming,
            result: Ok((inc, 1)),
        },
    );
    update(
        &mut s,
        Msg::Listed {
            box_: crate::wire::ReferralBox::Outgoing,
            result: Ok((out, 1)),
        },
    );
    update(&mut s, Msg::Feed(FeedMsg::Connected { at: t(NOW) }));
    let out = screen(&s);
    assert!(out.contains("Queues (live)"));
    assert!(
        !out.contains("a accept"),
        "no action in a read-only monitor"
    );
    assert_snapshot!("monitor_summary", out);
}

#[test]
fn a_one_word_filter_scans_the_index_and_agrees_with_the_query() {
    let mut refs = sample();
    refs[0].lead.company = "Ärzte Straße GmbH".into();
    refs[1].note = Some("Call Mr. ÖZIL before noon".into());
    let mut s = loaded(Role::Agent, refs);
    for word in [
        "bakery", "ärzte", "STRASSE", "straße", "özil", "example", "r_0", "warm", "pending",
        "us-west", "hostly", "nothing",
    ] {
        update(&mut s, key('/'));
        type_str(&mut s, word);
        update(&mut s, code(KeyCode::Enter));
        let q = crate::query::Query::parse(word).expect("parses");
        for pane in [Pane::Incoming, Pane::Outgoing] {
            let want: Vec<u32> = s
                .pane(pane)
                .all
                .iter()
                .copied()
                .filter(|&i| q.matches(&s.entries[i as usize].referral, s.now))
                .collect();
            assert_eq!(s.pane(pane).rows, want, "{word:?} in {pane:?}");
        }
        update(&mut s, key('/'));
        update(&mut s, code(KeyCode::Esc));
    }
}

#[test]
fn time_terms_refilter_as_time_passes() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('/'));
    type_str(&mut s, "age:<10m");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        s.pane(Pane::Incoming).rows.len(),
        1,
        "only Main Street Bakery (5m)"
    );
    tick(&mut s, 6 * 60);
    assert_eq!(
        s.pane(Pane::Incoming).rows.len(),
        0,
        "it is 11 minutes old now"
    );
}

#[test]
fn sorted_by_a_column_an_update_changes_the_row_moves_once() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('/'));
    type_str(&mut s, "sort:status");
    update(&mut s, code(KeyCode::Enter));
    let r = sample().into_iter().find(|r| r.id == "r_05").expect("r_05");
    for (seq, status) in [(701, Status::Accepted), (702, Status::Rejected)] {
        let version = if status == Status::Accepted { 2 } else { 3 };
        update(
            &mut s,
            Msg::Feed(FeedMsg::Event {
                seq,
                referral: Box::new(decided(r.clone(), status, version)),
                at: t(NOW),
            }),
        );
        for v in [&s.pane(Pane::Incoming).all, &s.pane(Pane::Incoming).rows] {
            assert_eq!(v.len(), 6, "no duplicate, none lost");
            let sorted = v.windows(2).all(|w| s.order(w[0], w[1]).is_lt());
            assert!(sorted, "still in order after {status:?}");
        }
    }
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
