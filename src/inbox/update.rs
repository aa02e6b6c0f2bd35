//! The reducer: `update(state, msg) -> effects`. Pure: no clock, no I/O,
//! no randomness (idempotency keys are the run's random prefix plus a
//! counter kept in the state).
//!
//! **Sanitizing happens here, once.** Every string that arrives from the
//! network inside a [`Msg`] (referrals, partners, me, error messages, feed
//! reasons) goes through `crate::sanitize` at the top of the handler of its
//! message, before it is stored; the model holds only safe text and views
//! draw it as is.

use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::Input;
use tui_input::InputRequest;
use tui_input::backend::crossterm::to_input_request;

use super::command::{Command, Context};
use super::format;
use super::msg::{ActionOutcome, ActionRequest, Effect, FeedMsg, Msg, OpId};
use super::power;

use super::state::{
    ClosePopup, CloseStep, Conn, Entry, ForwardPopup, Level, Op, Pane, Popup, RejectPopup, State,
    StatusMessage,
};
use super::views::help;
use crate::sanitize;
use crate::wire::{
    AcceptRequest, ActionKind, CloseRequest, CloseStatus, ForwardRequest, MAX_CHAIN,
    MAX_LINE_CHARS, MAX_TEXT_CHARS, OutcomeInput, ReasonCode, ReasonInput, Referral, ReferralBox,
    RejectRequest, Role, Status, Timestamp, WithdrawRequest,
};

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
            power::on_tick(state, &mut fx);
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
        } => power::on_retrying(state, batch, chunk, &error),
        Msg::BatchDone {
            batch,
            chunk,
            result,
            at,
        } => {
            advance(state, at);
            power::on_done(state, batch, chunk, result)
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
            say(
                state,
                Level::Error,
                format!("cannot load your account: {}", sanitize::clean_line(&e)),
            );
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
            say(
                state,
                Level::Error,
                format!(
                    "cannot load {}: {}; retrying",
                    sanitize::clean_line(&what),
                    sanitize::clean_line(&error)
                ),
            );
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
        Msg::Feed(f) => on_feed(state, f, &mut fx),
    };
    if changed {
        state.dirty = true;
        mark_seen(state);
    }
    fx
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn advance(state: &mut State, now: Timestamp) {
    if now > state.now {
        state.now = now;
    }
}

fn say(state: &mut State, level: Level, text: String) {
    state.status = Some(StatusMessage::new(text, level, state.now));
}

/// The client moved on: the header and status bar follow the live server,
/// and the message says where to first (a narrow line cuts the end), then
/// which one could not be reached and why. When every server has failed,
/// it says that none answers and which one is tried next.
fn on_server_moved(state: &mut State, from: &str, to: &str, reason: &str, all_down: bool) {
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
fn note_refusal(state: &mut State, error: &str) {
    if let Some(why) = error.strip_prefix("unauthenticated: ") {
        state.refused = Some(sanitize::clean_line(why));
    }
}

/// The status while `R` lists again (replaced when the lists are in).
const RELOADING: &str = "reloading…";

fn clean_referral(r: Referral) -> Referral {
    sanitize::clean_referral(r)
}

// ---------------------------------------------------------------- loading

fn start_listing(state: &mut State, fx: &mut Vec<Effect>) {
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

fn on_listed(
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

/// Inserts or replaces an entry by version, without touching the panes.
/// Returns its index when it changed.
fn upsert_entry(state: &mut State, mut r: Referral, live: bool) -> Option<(u32, bool, Status)> {
    let known = state.index_of(&r.id);
    if let Some(i) = known
        && r.version <= state.entries[i as usize].referral.version
    {
        return None;
    }
    state.interner.referral(&mut r);
    if let Some(i) = known {
        let e = &mut state.entries[i as usize];
        let old = e.referral.status;
        e.referral = r;
        state
            .filter_text
            .set(i, &state.entries[i as usize].referral);
        Some((i, false, old))
    } else {
        let i = state.entries.len() as u32;
        let status = r.status;
        state.filter_text.set(i, &r);
        let mut e = Entry::new(r);
        e.fresh = live;
        state.entries.push(e);
        state.by_id.insert(&state.entries, i);
        Some((i, true, status))
    }
}

/// Applies one referral (feed event or action answer) in place, keeping
/// each pane's cursor on its referral and on its screen row.
pub(super) fn apply_referral(state: &mut State, r: Referral, live: bool) -> bool {
    let Some((i, is_new, old_status)) = upsert_entry(state, r, live) else {
        return false;
    };
    let Some(pane) = state.pane_of(&state.entries[i as usize].referral) else {
        return true;
    };
    let now_pending = state.entries[i as usize].referral.status == Status::Pending;
    let matches = state.matches_filter(i);
    let p = pane.index();
    let anchor = anchor_of(state, pane);
    if is_new {
        let pos = search(state, &state.panes[p].all, i).unwrap_or_else(|e| e);
        state.panes[p].all.insert(pos, i);
        if now_pending {
            state.panes[p].pending += 1;
        }
        if live {
            state.unseen.insert(i);
            if matches {
                state.panes[p].new_count += 1;
            }
        }
        if matches {
            let pos = search(state, &state.panes[p].rows, i).unwrap_or_else(|e| e);
            state.panes[p].rows.insert(pos, i);
        }
    } else {
        let was_pending = old_status == Status::Pending;
        if was_pending && !now_pending {
            state.panes[p].pending = state.panes[p].pending.saturating_sub(1);
        } else if !was_pending && now_pending {
            state.panes[p].pending += 1;
        }
        if state.sort.is_some() {
            // A sort by a column the update may have changed (status,
            // value, expiry...): the old position cannot be searched for
            // with the new key. Take the row out and put it back in order.
            if let Some(k) = state.panes[p].all.iter().position(|&x| x == i) {
                state.panes[p].all.remove(k);
            }
            let pos = search(state, &state.panes[p].all, i).unwrap_or_else(|e| e);
            state.panes[p].all.insert(pos, i);
            if let Some(k) = state.panes[p].rows.iter().position(|&x| x == i) {
                state.panes[p].rows.remove(k);
            }
            if matches {
                let pos = search(state, &state.panes[p].rows, i).unwrap_or_else(|e| e);
                state.panes[p].rows.insert(pos, i);
            }
            if state.unseen.contains(&i) {
                recount_new(state, pane);
            }
            relocate(state, pane, anchor);
            return true;
        }
        match (search(state, &state.panes[p].rows, i), matches) {
            (Ok(_), true) | (Err(_), false) => {}
            (Err(pos), true) => state.panes[p].rows.insert(pos, i),
            (Ok(pos), false) => {
                state.panes[p].rows.remove(pos);
            }
        }
        if state.unseen.contains(&i) {
            recount_new(state, pane);
        }
    }
    relocate(state, pane, anchor);
    true
}

/// Counts a pane's unseen rows again (after its rows changed wholesale).
fn recount_new(state: &mut State, pane: Pane) {
    let rows = &state.pane(pane).rows;
    let n = state
        .unseen
        .iter()
        .filter(|&&i| search(state, rows, i).is_ok())
        .count();
    state.panes[pane.index()].new_count = n;
}

/// Rows on screen now have been seen: they no longer count as new. A row
/// that arrived above the viewport stays counted until the user scrolls to
/// it, in whichever pane, however they get there.
fn mark_seen(state: &mut State) {
    for pane in [Pane::Incoming, Pane::Outgoing] {
        if state.pane(pane).new_count == 0 {
            continue;
        }
        for idx in state.visible_range(pane) {
            let e = state.pane(pane).rows[idx];
            if state.unseen.remove(&e) {
                let p = &mut state.panes[pane.index()];
                p.new_count = p.new_count.saturating_sub(1);
            }
        }
    }
}

fn search(state: &State, v: &[u32], i: u32) -> Result<usize, usize> {
    v.binary_search_by(|&x| state.order(x, i))
}

/// The cursor's row on screen, to keep when rows move.
pub(super) fn anchor_of(state: &State, pane: Pane) -> usize {
    let p = state.pane(pane);
    p.cursor.saturating_sub(p.offset)
}

/// Puts the cursor back on its referral (or the nearest row) and the
/// viewport so that the cursor stays on the same screen row.
pub(super) fn relocate(state: &mut State, pane: Pane, anchor: usize) {
    let p = state.pane(pane);
    if p.rows.is_empty() {
        let p = &mut state.panes[pane.index()];
        p.cursor = 0;
        p.offset = 0;
        return;
    }
    let pos = match p.cursor_entry {
        Some(e) => match search(state, &p.rows, e) {
            Ok(k) => k,
            Err(k) => k.min(p.rows.len() - 1),
        },
        None => 0,
    };
    let p = &mut state.panes[pane.index()];
    p.cursor = pos;
    p.cursor_entry = Some(p.rows[pos]);
    p.offset = pos.saturating_sub(anchor);
    clamp_view(state, pane);
}

/// Keeps the cursor inside the viewport and the viewport inside the rows.
fn clamp_view(state: &mut State, pane: Pane) {
    let page = state.page_rows(pane);
    let p = &mut state.panes[pane.index()];
    let len = p.rows.len();
    if len == 0 {
        p.cursor = 0;
        p.offset = 0;
        return;
    }
    p.cursor = p.cursor.min(len - 1);
    p.cursor_entry = Some(p.rows[p.cursor]);
    // Too small to draw: keep the viewport for when it grows again.
    let Some(page) = page else { return };
    if p.cursor < p.offset {
        p.offset = p.cursor;
    }
    if p.cursor >= p.offset + page {
        p.offset = p.cursor + 1 - page;
    }
    p.offset = p.offset.min(len.saturating_sub(page)).min(p.cursor);
}

/// Recomputes both panes from the entries (after a bulk list or `me`).
fn rebuild_panes(state: &mut State) {
    let mut all: [Vec<u32>; 2] = [Vec::new(), Vec::new()];
    for (i, e) in state.entries.iter().enumerate() {
        if let Some(p) = state.pane_of(&e.referral) {
            all[p.index()].push(i as u32);
        }
    }
    for pane in [Pane::Incoming, Pane::Outgoing] {
        let mut v = std::mem::take(&mut all[pane.index()]);
        v.sort_unstable_by(|&a, &b| state.order(a, b));
        let pending = v
            .iter()
            .filter(|&&i| state.entries[i as usize].referral.status == Status::Pending)
            .count();
        let anchor = anchor_of(state, pane);
        let p = &mut state.panes[pane.index()];
        p.all = v;
        p.pending = pending;
        refilter_pane(state, pane, anchor);
    }
}

/// The one lower-cased word of a filter that is a single bare word (the
/// common case, typed letter by letter): it is scanned for in the entries'
/// [`state::FilterText`] instead of matching the query row by row.
fn single_word(text: &str) -> Option<String> {
    let w = text.trim();
    let plain = !w.is_empty()
        && !w.starts_with(['-', '!'])
        && !w.contains(|c: char| c.is_whitespace() || matches!(c, ':' | '"' | '\\'));
    plain.then(|| w.to_lowercase())
}

fn refilter_pane(state: &mut State, pane: Pane, anchor: usize) {
    let word = single_word(&state.filter_applied);
    let bits = word.as_deref().map(|w| state.filter_text.scan(w));
    refilter_with(state, pane, anchor, bits.as_deref());
}

/// Recomputes a pane's rows from `all`: with the scan's bits when given,
/// else by matching the query.
fn refilter_with(state: &mut State, pane: Pane, anchor: usize, bits: Option<&[u64]>) {
    let p = state.pane(pane);
    let rows: Vec<u32> = if state.filter_query.matches_all() {
        p.all.clone()
    } else if let Some(bits) = bits {
        p.all
            .iter()
            .copied()
            .filter(|&i| super::state::bit(bits, i))
            .collect()
    } else {
        p.all
            .iter()
            .copied()
            .filter(|&i| state.matches_filter(i))
            .collect()
    };
    state.panes[pane.index()].rows = rows;
    recount_new(state, pane);
    relocate(state, pane, anchor);
}

/// Applies `text` as the filter query. When it does not parse, the error
/// (with its column) is kept for the status bar and the last good filter
/// stays applied. A `sort:` term sets the sort.
pub(super) fn set_filter(state: &mut State, text: String) {
    let q = match crate::query::Query::parse(&text) {
        Ok(q) => q,
        Err(e) => {
            state.filter_error = Some(e);
            return;
        }
    };
    state.filter_error = None;
    if let Some(spec) = q.sort() {
        power::set_sort(state, Some(spec));
    }
    let q = q.with_sort(None);
    let applied = if q.matches_all() {
        String::new()
    } else {
        text.trim().to_lowercase()
    };
    if q == state.filter_query {
        state.filter_applied = applied;
        return;
    }
    state.filter_query = q;
    state.filter_applied = applied;
    // One scan serves both panes.
    let word = single_word(&state.filter_applied);
    let bits = word.as_deref().map(|w| state.filter_text.scan(w));
    for pane in [Pane::Incoming, Pane::Outgoing] {
        let anchor = anchor_of(state, pane);
        refilter_with(state, pane, anchor, bits.as_deref());
    }
    power::follow_range(state);
}

// ---------------------------------------------------------------- keys

fn on_key(state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) -> bool {
    if ev.kind == KeyEventKind::Release {
        return false;
    }
    let ctx = state.context();
    let cmd = state.keymap.command_for(&ev, ctx);
    if cmd == Some(Command::Redraw) {
        return redraw(state);
    }
    match ctx {
        Context::List => match cmd {
            Some(c) => on_list_command(state, c, fx),
            None if ev.code == KeyCode::Esc
                && (!state.marks.is_empty() || state.range.is_some()) =>
            {
                power::clear_marks(state)
            }
            None if ev.code == KeyCode::Esc && !state.filter_applied.is_empty() => {
                state.filter.reset();
                state.view = None;
                set_filter(state, String::new());
                true
            }
            None => false,
        },
        Context::CommandLine => {
            if cmd == Some(Command::Quit) {
                return quit(state, fx);
            }
            power::on_cmdline_key(state, &ev, fx)
        }
        Context::Batch => power::on_batch_key(state, &ev, fx),
        Context::Filter => {
            if cmd == Some(Command::Quit) {
                return quit(state, fx);
            }
            match ev.code {
                // With a parse error, Enter keeps the line open to fix it.
                KeyCode::Enter => state.filter_editing = state.filter_error.is_some(),
                KeyCode::Esc => {
                    state.filter_editing = false;
                    state.filter.reset();
                    state.view = None;
                    set_filter(state, String::new());
                }
                _ => {
                    if !edit(&mut state.filter, &ev, MAX_LINE_CHARS) {
                        return false;
                    }
                    let text = state.filter.value().to_string();
                    set_filter(state, text);
                }
            }
            true
        }
        Context::Help => on_help_key(state, cmd, &ev),
        Context::Confirm => match ev.code {
            KeyCode::Char('c') if ev.modifiers.contains(KeyModifiers::CONTROL) => {
                state.popup = None;
                state.quitting = true;
                fx.push(Effect::Quit);
                true
            }
            KeyCode::Char('y' | 'Y') => {
                state.popup = None;
                state.quitting = true;
                fx.push(Effect::Quit);
                true
            }
            KeyCode::Char('n' | 'N') | KeyCode::Esc => {
                state.popup = None;
                true
            }
            _ => false,
        },
        Context::Choice | Context::Picker | Context::Note => {
            if cmd == Some(Command::Quit) {
                return quit(state, fx);
            }
            on_popup_key(state, cmd, &ev, fx)
        }
    }
}

/// Feeds a key to a tui-input, refusing to grow past `limit` characters.
pub(super) fn edit(input: &mut Input, ev: &KeyEvent, limit: usize) -> bool {
    let Some(req) = to_input_request(&Event::Key(*ev)) else {
        return false;
    };
    if let InputRequest::InsertChar(c) = req {
        // Typed text is shown as is: refuse what the sanitizer would replace.
        if sanitize::is_forbidden(c) || c.is_control() || input.value().chars().count() >= limit {
            return false;
        }
    }
    input.handle(req).is_some()
}

pub(super) fn quit(state: &mut State, fx: &mut Vec<Effect>) -> bool {
    let batch_open = state.batch.as_ref().is_some_and(|b| {
        matches!(
            b.phase,
            power::BatchPhase::Sending | power::BatchPhase::Undo { .. }
        )
    });
    if state.ops.is_empty() && !batch_open {
        state.quitting = true;
        fx.push(Effect::Quit);
    } else {
        state.popup = Some(Popup::ConfirmQuit);
    }
    true
}

fn on_help_key(state: &mut State, cmd: Option<Command>, ev: &KeyEvent) -> bool {
    let max = help::line_count(&state.keymap, state.may_act()).saturating_sub(1);
    let Some(Popup::Help { scroll }) = &mut state.popup else {
        return false;
    };
    match cmd {
        Some(Command::Help) => state.popup = None,
        // In the overlay, quit closes it first: a stray `q` never leaves the app.
        Some(Command::Quit) => state.popup = None,
        Some(Command::Up) => *scroll = scroll.saturating_sub(1),
        Some(Command::Down) => *scroll = (*scroll + 1).min(max),
        Some(Command::PageUp) => *scroll = scroll.saturating_sub(10),
        Some(Command::PageDown) => *scroll = (*scroll + 10).min(max),
        Some(Command::Top) => *scroll = 0,
        Some(Command::Bottom) => *scroll = max,
        _ if ev.code == KeyCode::Esc => state.popup = None,
        _ => return false,
    }
    true
}

pub(super) fn move_cursor(state: &mut State, cmd: Command) -> bool {
    let pane = state.active;
    let page = state.page_rows(pane).unwrap_or(1);
    let p = &mut state.panes[pane.index()];
    let len = p.rows.len();
    if len == 0 {
        return true;
    }
    let last = len - 1;
    p.cursor = match cmd {
        Command::Up => p.cursor.saturating_sub(1),
        Command::Down => (p.cursor + 1).min(last),
        Command::Top => 0,
        Command::Bottom => last,
        Command::PageUp => p.cursor.saturating_sub(page),
        Command::PageDown => (p.cursor + page).min(last),
        _ => p.cursor,
    };
    p.cursor_entry = Some(p.rows[p.cursor]);
    let e = p.rows[p.cursor];
    state.entries[e as usize].fresh = false;
    clamp_view(state, pane);
    power::follow_range(state);
    true
}

fn switch_pane(state: &mut State, pane: Pane) -> bool {
    if state.pane_count() == 1 {
        say(
            state,
            Level::Info,
            "operators have one pane: every referral".to_string(),
        );
        return true;
    }
    state.active = pane;
    clamp_view(state, pane);
    true
}

/// Runs a list command (also for the `:` line).
pub(super) fn list_command(state: &mut State, cmd: Command, fx: &mut Vec<Effect>) -> bool {
    on_list_command(state, cmd, fx)
}

/// `Ctrl-L`: the runtime clears the screen and draws it all again.
fn redraw(state: &mut State) -> bool {
    state.repaint = true;
    true
}

fn on_list_command(state: &mut State, cmd: Command, fx: &mut Vec<Effect>) -> bool {
    let batchable = matches!(
        cmd,
        Command::Accept | Command::Reject | Command::Forward | Command::Withdraw
    );
    if batchable && !state.marks.is_empty() {
        return power::batch_command(state, cmd, fx);
    }
    match cmd {
        Command::ToggleMark => return power::toggle_mark(state),
        Command::MarkRange => return power::mark_range(state),
        Command::MarkAll => return power::mark_all(state),
        Command::InvertMarks => return power::invert_marks(state),
        Command::Undo => return power::undo(state),
        Command::SortNext => return power::sort_next(state),
        Command::SortReverse => return power::sort_reverse(state),
        Command::NextView => return power::next_view(state),
        _ => {}
    }
    match cmd {
        Command::Up
        | Command::Down
        | Command::Top
        | Command::Bottom
        | Command::PageUp
        | Command::PageDown => move_cursor(state, cmd),
        Command::NextPane | Command::PrevPane => switch_pane(state, state.active.other()),
        Command::PaneIncoming => switch_pane(state, Pane::Incoming),
        Command::PaneOutgoing => switch_pane(state, Pane::Outgoing),
        Command::ToggleDetail => {
            state.show_detail = !state.show_detail;
            for pane in [Pane::Incoming, Pane::Outgoing] {
                clamp_view(state, pane);
            }
            true
        }
        Command::Accept => {
            match check(state, ActionKind::Accept) {
                Ok((id, version, company)) => {
                    let req = ActionRequest::Accept(AcceptRequest {
                        version,
                        note: None,
                    });
                    send(state, id, req, fx);
                    say(state, Level::Info, format!("accepting {company}…"));
                }
                Err(why) => say(state, Level::Error, why),
            }
            true
        }
        Command::Withdraw => {
            match check(state, ActionKind::Withdraw) {
                Ok((id, version, company)) => {
                    send(
                        state,
                        id,
                        ActionRequest::Withdraw(WithdrawRequest { version }),
                        fx,
                    );
                    say(state, Level::Info, format!("withdrawing {company}…"));
                }
                Err(why) => say(state, Level::Error, why),
            }
            true
        }
        Command::Reject => {
            match check(state, ActionKind::Reject) {
                Ok((id, version, company)) => {
                    state.popup = Some(Popup::Reject(RejectPopup {
                        id,
                        version,
                        company,
                        selected: 0,
                        note: None,
                        error: None,
                        batch: false,
                    }))
                }
                Err(why) => say(state, Level::Error, why),
            }
            true
        }
        Command::Forward => {
            match check(state, ActionKind::Forward) {
                Ok((id, version, company)) => {
                    let mut excluded: Vec<String> = state
                        .entry(&id)
                        .map(|e| e.referral.chain.iter().map(|c| c.to_string()).collect())
                        .unwrap_or_default();
                    excluded.extend(state.my_partner().map(str::to_string));
                    let mut p = ForwardPopup {
                        id,
                        version,
                        company,
                        excluded,
                        query: Input::default(),
                        matches: Vec::new(),
                        selected: 0,
                        offset: 0,
                        picked: None,
                        batch: false,
                    };
                    refresh_matches(&state.partners, &mut p);
                    if state.partners.is_empty() {
                        fx.push(Effect::LoadPartners);
                    }
                    state.popup = Some(Popup::Forward(p));
                }
                Err(why) => say(state, Level::Error, why),
            }
            true
        }
        Command::Close => {
            match check(state, ActionKind::Close) {
                Ok((id, version, company)) => {
                    state.popup = Some(Popup::Close(ClosePopup {
                        id,
                        version,
                        company,
                        selected: 0,
                        step: CloseStep::Choose,
                        value: Input::default(),
                        note: Input::default(),
                        error: None,
                    }))
                }
                Err(why) => say(state, Level::Error, why),
            }
            true
        }
        Command::Filter => {
            state.filter_editing = true;
            true
        }
        Command::Reload => {
            if state.me.is_none() {
                fx.push(Effect::LoadMe);
                say(state, Level::Info, "loading your account…".to_string());
            } else if state.listing.is_empty() {
                start_listing(state, fx);
                say(state, Level::Info, RELOADING.to_string());
            } else {
                say(state, Level::Info, "already loading".to_string());
            }
            true
        }
        Command::Redraw => redraw(state),
        Command::Help => {
            state.popup = Some(Popup::Help { scroll: 0 });
            true
        }
        Command::Quit => quit(state, fx),
        Command::Command => power::open_cmdline(state),
        Command::ToggleMark
        | Command::MarkRange
        | Command::MarkAll
        | Command::InvertMarks
        | Command::Undo
        | Command::SortNext
        | Command::SortReverse
        | Command::NextView => false,
    }
}

/// Whether the action may be taken on the row under the cursor: its id,
/// the version the user sees and the company, or why not.
pub(super) fn check(state: &State, kind: ActionKind) -> Result<(String, u64, String), String> {
    let verb = kind.as_str();
    if state.readonly {
        return Err(format!("read-only mode (--readonly): cannot {verb}"));
    }
    match state.role() {
        None => return Err("still loading your account".to_string()),
        Some(Role::Viewer) => return Err(format!("viewers can read but not {verb}")),
        Some(Role::Operator) => return Err(format!("operators can read but not {verb}")),
        Some(Role::Agent | Role::Admin) => {}
    }
    let Some(e) = state.current() else {
        return Err(format!("nothing to {verb}: no referral under the cursor"));
    };
    let r = &e.referral;
    if let Some(k) = e.in_flight {
        return Err(format!(
            "wait: a {} of this referral is still in flight",
            k.as_str()
        ));
    }
    let me = state.my_partner().unwrap_or_default();
    let recipient_side = matches!(
        kind,
        ActionKind::Accept | ActionKind::Reject | ActionKind::Forward | ActionKind::Close
    );
    if recipient_side && r.to_partner != me {
        return Err(format!(
            "cannot {verb} a referral you sent (only {} can)",
            r.to_partner
        ));
    }
    if kind == ActionKind::Withdraw && r.from_partner != me {
        return Err("cannot withdraw a referral sent to you (only its sender can)".to_string());
    }
    let wanted = if kind == ActionKind::Close {
        Status::Accepted
    } else {
        Status::Pending
    };
    if r.status != wanted {
        return Err(format!(
            "cannot {verb}: this referral is {}, only {} ones can be",
            r.status.as_str(),
            wanted.as_str()
        ));
    }
    if kind == ActionKind::Forward && r.chain.len() >= MAX_CHAIN {
        return Err(format!(
            "cannot forward: this lead already passed through {} hops",
            MAX_CHAIN - 1
        ));
    }
    Ok((r.id.clone(), r.version, r.lead.company.clone()))
}

/// Queues an action: fresh key, row in flight, runtime sends it.
pub(super) fn send(
    state: &mut State,
    referral_id: String,
    request: ActionRequest,
    fx: &mut Vec<Effect>,
) -> OpId {
    let op = state.next_op;
    state.next_op += 1;
    let idempotency_key = format!("{}-{op}", state.key_prefix);
    if let Some(i) = state.index_of(&referral_id) {
        state.entries[i as usize].in_flight = Some(request.kind());
    }
    state.ops.insert(
        op,
        Op {
            referral_id: referral_id.clone(),
            request: request.clone(),
            idempotency_key: idempotency_key.clone(),
            unsent: false,
            last_error: None,
        },
    );
    fx.push(Effect::Send {
        op,
        referral_id,
        request,
        idempotency_key,
    });
    op
}

pub(super) fn refresh_matches(partners: &[crate::wire::Partner], p: &mut ForwardPopup) {
    let q = p.query.value().to_lowercase();
    let q = q.trim();
    p.matches = partners
        .iter()
        .enumerate()
        .filter(|(_, x)| !p.excluded.contains(&x.id))
        .filter(|(_, x)| {
            q.is_empty()
                || x.id.to_lowercase().contains(q)
                || x.name.to_lowercase().contains(q)
                || x.categories.iter().any(|c| c.to_lowercase().contains(q))
                || x.regions.iter().any(|c| c.to_lowercase().contains(q))
        })
        .map(|(i, _)| i)
        .collect();
    p.selected = p.selected.min(p.matches.len().saturating_sub(1));
    p.offset = p.offset.min(p.selected);
}

fn step(selected: usize, len: usize, cmd: Command) -> Option<usize> {
    if len == 0 {
        return Some(0);
    }
    let last = len - 1;
    Some(match cmd {
        Command::Up => selected.saturating_sub(1),
        Command::Down => (selected + 1).min(last),
        Command::Top => 0,
        Command::Bottom => last,
        Command::PageUp => selected.saturating_sub(10),
        Command::PageDown => (selected + 10).min(last),
        _ => return None,
    })
}

fn note_value(input: &Input) -> Option<String> {
    let t = input.value().trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn on_popup_key(
    state: &mut State,
    cmd: Option<Command>,
    ev: &KeyEvent,
    fx: &mut Vec<Effect>,
) -> bool {
    let Some(popup) = state.popup.take() else {
        return false;
    };
    let (popup, changed) = match popup {
        Popup::Reject(p) => reject_key(state, p, cmd, ev, fx),
        Popup::Forward(p) => forward_key(state, p, cmd, ev, fx),
        Popup::Close(p) => close_key(state, p, cmd, ev, fx),
        other => (Some(other), false),
    };
    state.popup = popup;
    changed
}

type PopupStep = (Option<Popup>, bool);

fn reject_key(
    state: &mut State,
    mut p: RejectPopup,
    cmd: Option<Command>,
    ev: &KeyEvent,
    fx: &mut Vec<Effect>,
) -> PopupStep {
    match &mut p.note {
        None => {
            if let Some(s) = cmd.and_then(|c| step(p.selected, ReasonCode::ALL.len(), c)) {
                p.selected = s;
                return (Some(Popup::Reject(p)), true);
            }
            match ev.code {
                KeyCode::Esc => return (None, true),
                KeyCode::Enter => p.note = Some(Input::default()),
                KeyCode::Char(c @ '1'..='9') => {
                    let n = c as usize - '1' as usize;
                    if n >= ReasonCode::ALL.len() {
                        return (Some(Popup::Reject(p)), false);
                    }
                    p.selected = n;
                    p.note = Some(Input::default());
                }
                _ => return (Some(Popup::Reject(p)), false),
            }
            p.error = None;
            (Some(Popup::Reject(p)), true)
        }
        Some(input) => match ev.code {
            KeyCode::Esc => {
                p.note = None;
                p.error = None;
                (Some(Popup::Reject(p)), true)
            }
            KeyCode::Enter => {
                let note = note_value(input);
                let code = p.reason();
                if code == ReasonCode::Other && note.is_none() {
                    p.error = Some("a note is required with \"other\"".to_string());
                    return (Some(Popup::Reject(p)), true);
                }
                let req = ActionRequest::Reject(RejectRequest {
                    version: p.version,
                    reason: ReasonInput { code, note },
                });
                if p.batch {
                    power::plan(state, req, fx);
                    return (state.popup.take(), true);
                }
                send(state, p.id.clone(), req, fx);
                say(
                    state,
                    Level::Info,
                    format!("rejecting {} ({})…", p.company, code.label()),
                );
                (None, true)
            }
            _ => {
                let changed = edit(input, ev, MAX_TEXT_CHARS);
                // The complaint was about the empty note: typing answers it.
                if changed && note_value(input).is_some() {
                    p.error = None;
                }
                (Some(Popup::Reject(p)), changed)
            }
        },
    }
}

fn forward_key(
    state: &mut State,
    mut p: ForwardPopup,
    cmd: Option<Command>,
    ev: &KeyEvent,
    fx: &mut Vec<Effect>,
) -> PopupStep {
    match &mut p.picked {
        None => {
            if let Some(s) = cmd.and_then(|c| step(p.selected, p.matches.len(), c)) {
                p.selected = s;
                return (Some(Popup::Forward(p)), true);
            }
            match ev.code {
                KeyCode::Esc => (None, true),
                KeyCode::Enter => {
                    let Some(&i) = p.matches.get(p.selected) else {
                        return (Some(Popup::Forward(p)), false);
                    };
                    p.picked = Some((state.partners[i].id.clone(), Input::default()));
                    (Some(Popup::Forward(p)), true)
                }
                _ => {
                    let changed = edit(&mut p.query, ev, MAX_LINE_CHARS);
                    if changed {
                        p.selected = 0;
                        p.offset = 0;
                        refresh_matches(&state.partners, &mut p);
                    }
                    (Some(Popup::Forward(p)), changed)
                }
            }
        }
        Some((to, input)) => match ev.code {
            KeyCode::Esc => {
                p.picked = None;
                (Some(Popup::Forward(p)), true)
            }
            KeyCode::Enter => {
                let req = ActionRequest::Forward(ForwardRequest {
                    version: p.version,
                    to_partner: to.clone(),
                    note: note_value(input),
                    commission_pct: None,
                    expires_in_hours: None,
                });
                let to = to.clone();
                if p.batch {
                    power::plan(state, req, fx);
                    return (state.popup.take(), true);
                }
                send(state, p.id.clone(), req, fx);
                say(
                    state,
                    Level::Info,
                    format!("forwarding {} to {to}…", p.company),
                );
                (None, true)
            }
            _ => {
                let changed = edit(input, ev, MAX_TEXT_CHARS);
                (Some(Popup::Forward(p)), changed)
            }
        },
    }
}

fn close_key(
    state: &mut State,
    mut p: ClosePopup,
    cmd: Option<Command>,
    ev: &KeyEvent,
    fx: &mut Vec<Effect>,
) -> PopupStep {
    match p.step {
        CloseStep::Choose => {
            if let Some(s) = cmd.and_then(|c| step(p.selected, 2, c)) {
                p.selected = s;
                return (Some(Popup::Close(p)), true);
            }
            match ev.code {
                KeyCode::Esc => (None, true),
                KeyCode::Enter => {
                    p.step = CloseStep::Value;
                    (Some(Popup::Close(p)), true)
                }
                _ => (Some(Popup::Close(p)), false),
            }
        }
        CloseStep::Value => match ev.code {
            KeyCode::Esc => {
                p.step = CloseStep::Choose;
                p.error = None;
                (Some(Popup::Close(p)), true)
            }
            KeyCode::Enter => {
                match format::parse_money(p.value.value()) {
                    Ok(_) => {
                        p.error = None;
                        p.step = CloseStep::Note;
                    }
                    Err(e) => p.error = Some(e),
                }
                (Some(Popup::Close(p)), true)
            }
            _ => {
                let changed = edit(&mut p.value, ev, 32);
                (Some(Popup::Close(p)), changed)
            }
        },
        CloseStep::Note => match ev.code {
            KeyCode::Esc => {
                p.step = CloseStep::Value;
                (Some(Popup::Close(p)), true)
            }
            KeyCode::Enter => {
                let value_cents = format::parse_money(p.value.value()).unwrap_or(None);
                let note = note_value(&p.note);
                let status = if p.selected == 0 {
                    CloseStatus::Won
                } else {
                    CloseStatus::Lost
                };
                let outcome = (value_cents.is_some() || note.is_some())
                    .then_some(OutcomeInput { value_cents, note });
                let req = ActionRequest::Close(CloseRequest {
                    version: p.version,
                    status,
                    outcome,
                });
                send(state, p.id.clone(), req, fx);
                let word = if status == CloseStatus::Won {
                    "won"
                } else {
                    "lost"
                };
                say(
                    state,
                    Level::Info,
                    format!("closing {} as {word}…", p.company),
                );
                (None, true)
            }
            _ => {
                let changed = edit(&mut p.note, ev, MAX_TEXT_CHARS);
                (Some(Popup::Close(p)), changed)
            }
        },
    }
}

// ---------------------------------------------------------------- answers

fn past_tense(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Accept => "accepted",
        ActionKind::Reject => "rejected",
        ActionKind::Forward => "forwarded",
        ActionKind::Withdraw => "withdrew",
        ActionKind::Close => "closed",
    }
}

/// "accepted by Dana (acme-web) at 10:42", from a referral's decision.
pub fn describe_decision(state: &State, r: &Referral) -> String {
    // The time alone today; the date too on any other day.
    let today = state.now.with_timezone(&state.utc_offset).date_naive();
    let when = r
        .decided_at
        .map(|t| {
            if t.with_timezone(&state.utc_offset).date_naive() == today {
                format!(" at {}", format::clock(t, state.utc_offset))
            } else {
                format!(" on {}", format::date_time(t, state.utc_offset))
            }
        })
        .unwrap_or_default();
    match &r.decided_by {
        Some(d) => format!("{} by {} ({}){when}", r.status.as_str(), d.name, d.partner),
        None => format!("{}{when}", r.status.as_str()),
    }
}

fn on_action_done(state: &mut State, op: OpId, outcome: ActionOutcome) {
    let Some(o) = state.ops.remove(&op) else {
        return;
    };
    let kind = o.request.kind();
    if let Some(i) = state.index_of(&o.referral_id) {
        state.entries[i as usize].in_flight = None;
    }
    let company = state
        .entry(&o.referral_id)
        .map(|e| e.referral.lead.company.clone())
        .unwrap_or_else(|| o.referral_id.clone());
    match outcome {
        ActionOutcome::Applied(refs) => {
            for r in refs {
                apply_referral(state, clean_referral(r), false);
            }
            let detail = match (&o.request, state.entry(&o.referral_id)) {
                (ActionRequest::Forward(f), _) => {
                    format!(" to {}", sanitize::clean_line(&f.to_partner))
                }
                (ActionRequest::Close(_), Some(e)) => format!(" as {}", e.referral.status.as_str()),
                _ => String::new(),
            };
            say(
                state,
                Level::Success,
                format!("{} {company}{detail}", past_tense(kind)),
            );
        }
        ActionOutcome::Conflict { current, message } => {
            let text = match current {
                Some(c) => {
                    let c = clean_referral(*c);
                    let decided = describe_decision(state, &c);
                    apply_referral(state, c, false);
                    format!("cannot {} {company}: already {decided}", kind.as_str())
                }
                None => format!(
                    "cannot {} {company}: {}",
                    kind.as_str(),
                    sanitize::clean_line(&message)
                ),
            };
            say(state, Level::Error, text);
        }
        ActionOutcome::Failed { message } => {
            say(
                state,
                Level::Error,
                format!(
                    "{} {company} failed: {}",
                    kind.as_str(),
                    sanitize::clean_line(&message)
                ),
            );
        }
    }
}

fn on_feed(state: &mut State, f: FeedMsg, fx: &mut Vec<Effect>) -> bool {
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

impl State {
    /// Where keys go now.
    pub fn context(&self) -> Context {
        match &self.popup {
            Some(Popup::Help { .. }) => Context::Help,
            Some(Popup::ConfirmQuit) => Context::Confirm,
            Some(Popup::BatchConfirm | Popup::BatchResults { .. }) => Context::Batch,
            Some(Popup::Reject(p)) => {
                if p.note.is_some() {
                    Context::Note
                } else {
                    Context::Choice
                }
            }
            Some(Popup::Forward(p)) => {
                if p.picked.is_some() {
                    Context::Note
                } else {
                    Context::Picker
                }
            }
            Some(Popup::Close(p)) => {
                if p.step == CloseStep::Choose {
                    Context::Choice
                } else {
                    Context::Note
                }
            }
            None if self.cmdline.is_some() => Context::CommandLine,
            None if self.filter_editing => Context::Filter,
            None => Context::List,
        }
    }
}
