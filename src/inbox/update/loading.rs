//! Loading: who am I, the lists page by page, the live server moving.

use crate::inbox::msg::Effect;
use crate::inbox::state::{Level, State};
use crate::inbox::update::{rows::*, shared::*};
use crate::sanitize;
use crate::wire::{Referral, ReferralBox, Role};

/// The client moved on: the header and status bar follow the live server,
/// and the message says where to first (a narrow line cuts the end), then
/// which one could not be reached and why. When every server has failed,
/// it says that none answers and which one is tried next.
pub(crate) fn on_server_moved(
    state: &mut State,
    from: &str,
    to: &str,
    reason: &str,
    all_down: bool,
) {
    state.server = sanitize::clean_line(to.trim_end_matches('/'));
    let label = |u: &str| sanitize::clean_line(&crate::client::server_label(u));
    let why = sanitize::clean_line(crate::client::servers::unreachable_why(reason));
    let (level, text) = if all_down {
        (
            Level::Error,
            format!(
                "no server answers; next try {} ({} {why})",
                label(to),
                label(from)
            ),
        )
    } else {
        (
            Level::Info,
            format!(
                "moved to {}: {} unreachable ({why})",
                label(to),
                label(from)
            ),
        )
    };
    say(state, level, text);
}

/// A load answered 401: the token is wrong, and retrying will not help.
/// Kept for the connection indicator and the empty table, which say so and
/// what to do, instead of "connecting" and "loading…" forever.
pub(crate) fn note_refusal(state: &mut State, error: &str) {
    if let Some(why) = error.strip_prefix("unauthenticated: ") {
        state.refused = Some(sanitize::clean_line(why));
    }
}

pub(crate) fn start_listing(state: &mut State, fx: &mut Vec<Effect>) {
    if !state.listing.is_empty() || state.me.is_none() {
        return;
    }
    let boxes = if state.role() == Some(Role::Operator) {
        vec![ReferralBox::All]
    } else {
        vec![ReferralBox::Incoming, ReferralBox::Outgoing]
    };
    state.list_as_of = None;
    for b in &boxes {
        fx.push(Effect::List(*b));
    }
    state.listing = boxes;
}

pub(crate) fn on_listed(
    state: &mut State,
    box_: ReferralBox,
    result: Result<(Vec<Referral>, u64), String>,
    fx: &mut Vec<Effect>,
) {
    state.listing.retain(|b| *b != box_);
    match result {
        Ok((items, as_of)) => {
            // Exactly what is needed: doubling 100,000 entries wastes tens of MB.
            state.entries.reserve_exact(items.len());
            state.by_id.reserve(&state.entries, items.len());
            for r in items {
                upsert_entry(state, clean_referral(r), false);
            }
            state.list_as_of = Some(state.list_as_of.map_or(as_of, |a| a.min(as_of)));
            if state.listing.is_empty()
                && state.status.as_ref().is_some_and(|m| m.text == RELOADING)
            {
                let n = state.entries.len();
                say(
                    state,
                    Level::Success,
                    format!("reloaded: {n} referral{}", plural(n)),
                );
            }
            if state.listing.is_empty() {
                // The bulk load is over: give back what growing left spare.
                state.entries.shrink_to_fit();
                state.filter_text.shrink_to_fit();
            }
            rebuild_panes(state);
        }
        Err(e) => {
            note_refusal(state, &e);
            say(
                state,
                Level::Error,
                format!(
                    "cannot list {}: {}",
                    box_.as_str(),
                    sanitize::clean_line(&e)
                ),
            );
        }
    }
    if state.listing.is_empty()
        && state.watch_after_list
        && let Some(after) = state.list_as_of
    {
        state.watch_after_list = false;
        fx.push(Effect::Watch { after });
    }
}

// ---------------------------------------------------------------- the model's rows
