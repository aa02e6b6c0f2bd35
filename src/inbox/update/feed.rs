//! The live feed: connected, events, disconnected, gone, stale.

use crate::inbox::msg::{Effect, FeedMsg};
use crate::inbox::state::{Conn, Level, State};
use crate::inbox::update::{loading::*, rows::*, shared::*};
use crate::sanitize;

pub(crate) fn on_feed(state: &mut State, f: FeedMsg, fx: &mut Vec<Effect>) -> bool {
    match f {
        FeedMsg::Connected { at } => {
            advance(state, at);
            state.conn = Conn::Live { since: at };
            state.stale = false;
            true
        }
        FeedMsg::Event { seq, referral, at } => {
            advance(state, at);
            state.last_event_at = Some(at);
            state.last_seq = state.last_seq.max(seq);
            state.stale = false;
            if !matches!(state.conn, Conn::Live { .. }) {
                state.conn = Conn::Live { since: at };
            }
            apply_referral(state, clean_referral(*referral), true);
            true
        }
        FeedMsg::Disconnected {
            reason,
            retry_in_ms,
            at,
        } => {
            advance(state, at);
            let since = match &state.conn {
                Conn::Reconnecting { since, .. } => *since,
                _ => at,
            };
            let retry_at = at + chrono::Duration::milliseconds(retry_in_ms as i64);
            state.conn = Conn::Reconnecting {
                since,
                retry_at,
                reason: sanitize::clean_line(&reason),
            };
            true
        }
        FeedMsg::Gone { at } => {
            advance(state, at);
            state.watch_after_list = true;
            start_listing(state, fx);
            say(
                state,
                Level::Info,
                "the feed lost its place: listing everything again".to_string(),
            );
            true
        }
        FeedMsg::Stale { at } => {
            advance(state, at);
            let was = state.stale;
            state.stale = true;
            !was
        }
    }
}
