//! Helpers the reducer's tests share.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;

use crate::inbox::msg::{Effect, Msg};
use crate::inbox::state::State;
use crate::inbox::testkit::*;
use crate::inbox::update::update;
use crate::inbox::views::render;
use crate::theme;
use crate::wire::{
    ApiError, BatchAction, BatchOutcome, BatchResponse, BatchResult, BatchSummary, ErrorCode,
    Referral, Status,
};

pub(crate) fn current_id(s: &State) -> String {
    s.current()
        .expect("a row under the cursor")
        .referral
        .id
        .clone()
}

pub(crate) fn status_text(s: &State) -> String {
    s.status
        .as_ref()
        .map(|m| m.text.clone())
        .unwrap_or_default()
}

pub(crate) fn sent(fx: &[Effect]) -> (u64, String, BatchAction, String) {
    match fx {
        [
            Effect::Send {
                op,
                referral_id,
                request,
                idempotency_key,
            },
        ] => (
            *op,
            referral_id.clone(),
            request.clone(),
            idempotency_key.clone(),
        ),
        other => panic!("expected one Send, got {other:?}"),
    }
}

pub(crate) fn screen(state: &State) -> String {
    let (w, h) = state.size;
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    let th = theme::builtin("default").expect("default theme");
    term.draw(|f| render(state, &th, f)).expect("draw");
    term.backend().to_string()
}

pub(crate) fn marked(s: &State) -> Vec<String> {
    let mut v: Vec<String> = s.marks.iter().cloned().collect();
    v.sort();
    v
}

/// `n` pending referrals sent to acme-web, ids `r_0000`...
pub(crate) fn many(n: usize) -> Vec<Referral> {
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

pub(crate) fn batches(fx: &[Effect]) -> Vec<(u64, usize, Vec<String>, String)> {
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

pub(crate) fn tick(s: &mut State, secs: i64) -> Vec<Effect> {
    let at = s.now + chrono::Duration::seconds(secs);
    update(s, Msg::Tick(at))
}

pub(crate) fn applied(r: &Referral) -> BatchResult {
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

pub(crate) fn conflict(r: &Referral) -> BatchResult {
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

pub(crate) fn not_found(id: &str) -> BatchResult {
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

pub(crate) fn response(results: Vec<BatchResult>) -> BatchResponse {
    let mut summary = BatchSummary::default();
    for r in &results {
        summary.count(r.outcome);
    }
    BatchResponse { results, summary }
}

pub(crate) fn run(s: &mut State, line: &str) -> Vec<Effect> {
    update(s, key(':'));
    type_str(s, line);
    update(s, code(KeyCode::Enter))
}
