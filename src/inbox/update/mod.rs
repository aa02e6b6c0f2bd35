//! The reducer: `update(state, msg) -> effects`. Pure: no clock, no I/O,
//! no randomness (idempotency keys are the run's random prefix plus a
//! counter kept in the state).
//!
//! **Sanitizing happens here, once.** Every string that arrives from the
//! network inside a [`Msg`] (referrals, partners, me, error messages, feed
//! reasons) goes through `crate::sanitize` at the top of the handler of its
//! message, before it is stored; the model holds only safe text and views
//! draw it as is.
//!
//! One module per feature (see docs/ARCHITECTURE.md for the map): this
//! file only routes a message to its feature; keys go through
//! `dispatch`.

use crate::inbox::msg::{Effect, Msg};
use crate::inbox::state::{Conn, Level, Pane, Popup, State};
use crate::sanitize;
use crate::wire::Role;

pub mod actions;
pub mod batch;
pub mod compose;
pub mod detail;
pub mod dispatch;
pub mod feed;
pub mod filter;
pub mod loading;
pub mod marks;
pub mod messages;
pub mod monitor;
pub mod mouse;
pub mod navigation;
pub mod notify;
pub mod open;
pub mod palette;
pub mod popups;
pub mod quit;
pub mod rows;
pub mod saved_views;
pub mod shared;
pub mod sort;
pub mod yank;

use crate::inbox::update::{actions::*, batch::*, dispatch::*, loading::*, rows::*, shared::*};

/// The effects to start with: who am I, and the partner directory.
/// (The lists follow once `me` is known, the feed once the lists are in.)
pub fn init(_state: &mut State) -> Vec<Effect> {
    vec![Effect::LoadMe, Effect::LoadPartners]
}

/// Applies one message to the model and says what the runtime must do.
/// Sets `state.dirty` when anything visible may have changed.
pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    let mut fx = Vec::new();
    let changed = match msg {
        Msg::Key(ev) => on_key(state, ev, &mut fx),
        Msg::Mouse(ev) => mouse::on_mouse(state, ev),
        Msg::SuspendRequested => open::suspend(&mut fx),
        Msg::Terminal(done) => open::on_terminal(state, done),
        Msg::Resize(w, h) => {
            state.size = (w, h);
            for pane in [Pane::Incoming, Pane::Outgoing] {
                clamp_view(state, pane);
            }
            true
        }
        Msg::Tick(now) => {
            advance(state, now);
            if state.status.as_ref().is_some_and(|m| m.until <= state.now) {
                state.status = None;
            }
            on_tick(state, &mut fx);
            // `age:` and `expires:` terms change their answer with time alone.
            let f = &state.filter_applied;
            if f.contains("age:") || f.contains("expires:") {
                for pane in [Pane::Incoming, Pane::Outgoing] {
                    let anchor = anchor_of(state, pane);
                    refilter_pane(state, pane, anchor);
                }
            }
            true
        }
        Msg::BatchRetrying {
            batch,
            chunk,
            error,
        } => on_retrying(state, batch, chunk, &error),
        Msg::BatchDone {
            batch,
            chunk,
            result,
            at,
        } => {
            advance(state, at);
            on_done(state, batch, chunk, result)
        }
        Msg::ServerMoved {
            from,
            to,
            reason,
            all_down,
            at,
        } => {
            advance(state, at);
            on_server_moved(state, &from, &to, &reason, all_down);
            true
        }
        Msg::Exported(r) => {
            match r {
                Ok((path, n)) => say(
                    state,
                    Level::Success,
                    format!(
                        "exported {n} referral{} to {}",
                        plural(n),
                        sanitize::clean_line(&path)
                    ),
                ),
                Err(e) => say(
                    state,
                    Level::Error,
                    format!(":export: {}", sanitize::clean_line(&e)),
                ),
            }
            true
        }
        Msg::ThemeChanged(r) => {
            match r {
                Ok(name) => say(
                    state,
                    Level::Success,
                    format!("theme {}", sanitize::clean_line(&name)),
                ),
                Err(e) => say(
                    state,
                    Level::Error,
                    format!(":theme: {}", sanitize::clean_line(&e)),
                ),
            }
            true
        }
        Msg::Me(Ok(me)) => {
            let me = sanitize::clean_me(me);
            let operator = me.user.role == Role::Operator;
            state.me = Some(me);
            state.refused = None;
            state.load_error = None;
            if operator {
                state.active = Pane::Incoming;
            }
            rebuild_panes(state);
            start_listing(state, &mut fx);
            true
        }
        Msg::Me(Err(e)) => {
            note_refusal(state, &e);
            state.load_error = Some(sanitize::clean_line(&e));
            let text = first_load_failed(state, &e).unwrap_or_else(|| {
                format!("cannot load your account: {}", sanitize::clean_line(&e))
            });
            say(state, Level::Error, text);
            true
        }
        Msg::Partners(Ok(list)) => {
            let mut list: Vec<_> = list.into_iter().map(sanitize::clean_partner).collect();
            list.sort_by(|a, b| a.id.cmp(&b.id));
            state.partners = list;
            if let Some(Popup::Forward(p)) = &mut state.popup {
                refresh_matches(&state.partners, p);
            }
            true
        }
        Msg::Partners(Err(e)) => {
            note_refusal(state, &e);
            say(
                state,
                Level::Error,
                format!(
                    "cannot load the partner directory: {}",
                    sanitize::clean_line(&e)
                ),
            );
            true
        }
        Msg::ListPage { box_, items } => {
            if !state.listing.contains(&box_) {
                return fx;
            }
            // The panes are rebuilt once, when the last page is in.
            state.entries.reserve(items.len());
            state.by_id.reserve(&state.entries, items.len());
            for r in items {
                upsert_entry(state, clean_referral(r), false);
            }
            false
        }
        Msg::Listed { box_, result } => {
            on_listed(state, box_, result, &mut fx);
            true
        }
        Msg::LoadRetrying {
            what,
            error,
            retry_in_ms,
            at,
        } => {
            advance(state, at);
            // Before the feed is up, loads are what tells whether the
            // server answers: show it the same way.
            if !matches!(state.conn, Conn::Live { .. }) {
                let since = match &state.conn {
                    Conn::Reconnecting { since, .. } => *since,
                    _ => at,
                };
                state.conn = Conn::Reconnecting {
                    since,
                    retry_at: at + chrono::Duration::milliseconds(retry_in_ms as i64),
                    reason: sanitize::clean_line(&error),
                };
            }
            // Nothing has loaded yet: say which URL was tried, where it
            // came from and what to change.
            let first = state
                .me
                .is_none()
                .then(|| first_load_failed(state, &error))
                .flatten();
            let text = match first {
                Some(t) => format!("{t}; retrying"),
                None => format!(
                    "cannot load {}: {}; retrying",
                    sanitize::clean_line(&what),
                    sanitize::clean_line(&error)
                ),
            };
            say(state, Level::Error, text);
            true
        }
        Msg::ActionRetrying { op, error } => {
            let Some(o) = state.ops.get_mut(&op) else {
                return fx;
            };
            o.unsent = true;
            o.last_error = Some(sanitize::clean_line(&error));
            let n = state.unsent();
            say(
                state,
                Level::Error,
                format!(
                    "{n} action{} unsent, retrying: {}",
                    plural(n),
                    sanitize::clean_line(&error)
                ),
            );
            true
        }
        Msg::ActionDone { op, outcome, at } => {
            advance(state, at);
            on_action_done(state, op, outcome);
            true
        }
        Msg::LeadSent(result) => compose::on_sent(state, result),
        Msg::Feed(f) => notify::on_feed_notify(state, f, &mut fx),
    };
    if changed {
        state.dirty = true;
        mark_seen(state);
        notify::title(state, &mut fx);
    }
    fx
}

#[cfg(test)]
mod actions_tests;
#[cfg(test)]
mod batch_single_tests;
#[cfg(test)]
mod batch_tests;
#[cfg(test)]
mod detail_tests;
#[cfg(test)]
mod dispatch_tests;
#[cfg(test)]
mod feed_tests;
#[cfg(test)]
mod filter_tests;
#[cfg(test)]
mod loading_tests;
#[cfg(test)]
mod marks_tests;
#[cfg(test)]
mod messages_tests;
#[cfg(test)]
mod monitor_tests;
#[cfg(test)]
mod mouse_tests;
#[cfg(test)]
mod notify_tests;
#[cfg(test)]
mod open_tests;
#[cfg(test)]
mod palette_tests;
#[cfg(test)]
mod popups_tests;
#[cfg(test)]
mod rows_tests;
#[cfg(test)]
mod saved_views_tests;
#[cfg(test)]
mod sort_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod yank_tests;

/// Before anything has loaded, a failure is most often a wrong address or
/// token: the URL tried, where it came from and what to change (or, for a
/// refused token, where the token came from and whom to ask). `None` when
/// the origins are not known (an SSH session) or once something loaded.
fn first_load_failed(state: &State, error: &str) -> Option<String> {
    let o = &state.origins;
    if state.me.is_some() || o.url_origin.is_empty() {
        return None;
    }
    let error = sanitize::clean_line(error);
    let text = if error.starts_with("unauthenticated: ") {
        o.refused_token(&error)
    } else {
        o.unreachable(&error)
    };
    Some(sanitize::clean_line(&text))
}
