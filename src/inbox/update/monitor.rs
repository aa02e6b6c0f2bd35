//! The monitor: per-partner queue summary.

use std::collections::BTreeMap;

use crate::inbox::state::State;
use crate::wire::Status;

/// One partner's queue in the monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRow {
    /// The partner whose queue it is (the receiving side).
    pub partner: String,
    /// Pending referrals waiting for it.
    pub pending: usize,
    /// Seconds the oldest pending one has waited.
    pub oldest_secs: i64,
    /// How many pending ones expire within 24 h.
    pub expiring_24h: usize,
}

/// The per-partner queue summary, most pending first.
pub fn queue_summary(state: &State) -> Vec<QueueRow> {
    let mut by: BTreeMap<&str, QueueRow> = BTreeMap::new();
    let day = state.now + chrono::Duration::hours(24);
    for e in &state.entries {
        let r = &e.referral;
        if r.status != Status::Pending || r.expires_at <= state.now {
            continue;
        }
        let row = by.entry(r.to_partner.as_str()).or_insert_with(|| QueueRow {
            partner: r.to_partner.to_string(),
            pending: 0,
            oldest_secs: 0,
            expiring_24h: 0,
        });
        row.pending += 1;
        row.oldest_secs = row
            .oldest_secs
            .max((state.now - r.created_at).num_seconds());
        if r.expires_at <= day {
            row.expiring_24h += 1;
        }
    }
    let mut v: Vec<QueueRow> = by.into_values().collect();
    v.sort_by(|a, b| {
        b.pending
            .cmp(&a.pending)
            .then_with(|| a.partner.cmp(&b.partner))
    });
    v
}
