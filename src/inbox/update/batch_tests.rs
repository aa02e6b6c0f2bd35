//! Reducer tests of batch.

use insta::assert_snapshot;
use ratatui::crossterm::event::KeyCode;

use super::test_support::*;
use crate::inbox::msg::Msg;
use crate::inbox::state::Popup;
use crate::inbox::testkit::*;
use crate::inbox::update::batch::{self, BatchPhase};
use crate::inbox::update::update;
use crate::wire::{BatchAction, BatchResult, ReasonCode, Role, Status};

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
    assert_eq!(b.summary(), "3 of 5 accepted; 1 conflict; 1 not found");
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
    assert_eq!(status_text(&s), "3 of 5 accepted; 1 conflict; 1 not found");
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

/// Issue 9, item 8: the results never say "all" over a count of skipped
/// ones: `3 of 10 accepted; 7 skipped (not pending)`.
#[test]
fn summary_counts_of_all_marked_and_says_why_skipped() {
    use crate::inbox::update::batch::{Batch, ItemResult};
    use crate::wire::{AcceptRequest, ActionKind, BatchItem, BatchOutcome};
    let item = |i: usize| BatchItem {
        id: format!("r_{i}"),
        action: BatchAction::Accept(AcceptRequest {
            version: 1,
            note: None,
        }),
    };
    let b = Batch {
        id: 1,
        kind: ActionKind::Accept,
        detail: String::new(),
        items: (0..3).map(item).collect(),
        companies: Default::default(),
        skipped: (3..10).map(|i| (format!("r_{i}"), "not pending")).collect(),
        phase: BatchPhase::Done,
        chunks: vec![],
        results: (0..3)
            .map(|i| ItemResult {
                id: format!("r_{i}"),
                company: format!("C{i}"),
                outcome: BatchOutcome::Applied,
                reason: None,
            })
            .collect(),
        single: None,
    };
    assert_eq!(b.summary(), "3 of 10 accepted; 7 skipped (not pending)");
}
