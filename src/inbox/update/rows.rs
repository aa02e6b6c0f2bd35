//! The model's rows: entries by id and version, each pane's rows in
//! order, the cursor kept on its referral and screen row.

use crate::inbox::state::{Entry, Pane, State};
use crate::wire::{Referral, Status};

/// Inserts or replaces an entry by version, without touching the panes.
/// Returns its index when it changed.
pub(crate) fn upsert_entry(
    state: &mut State,
    mut r: Referral,
    live: bool,
) -> Option<(u32, bool, Status)> {
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
pub(crate) fn apply_referral(state: &mut State, r: Referral, live: bool) -> bool {
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
pub(crate) fn recount_new(state: &mut State, pane: Pane) {
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
pub(crate) fn mark_seen(state: &mut State) {
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

pub(crate) fn search(state: &State, v: &[u32], i: u32) -> Result<usize, usize> {
    v.binary_search_by(|&x| state.order(x, i))
}

/// The cursor's row on screen, to keep when rows move.
pub(crate) fn anchor_of(state: &State, pane: Pane) -> usize {
    let p = state.pane(pane);
    p.cursor.saturating_sub(p.offset)
}

/// Puts the cursor back on its referral (or the nearest row) and the
/// viewport so that the cursor stays on the same screen row.
pub(crate) fn relocate(state: &mut State, pane: Pane, anchor: usize) {
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
pub(crate) fn clamp_view(state: &mut State, pane: Pane) {
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
pub(crate) fn rebuild_panes(state: &mut State) {
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
/// [`crate::inbox::state::FilterText`] instead of matching the query row by row.
pub(crate) fn single_word(text: &str) -> Option<String> {
    let w = text.trim();
    let plain = !w.is_empty()
        && !w.starts_with(['-', '!'])
        && !w.contains(|c: char| c.is_whitespace() || matches!(c, ':' | '"' | '\\'));
    plain.then(|| w.to_lowercase())
}

pub(crate) fn refilter_pane(state: &mut State, pane: Pane, anchor: usize) {
    let word = single_word(&state.filter_applied);
    let bits = word.as_deref().map(|w| {
        state.filter_text.ensure(&state.entries);
        state.filter_text.scan(w)
    });
    refilter_with(state, pane, anchor, bits.as_deref());
}

/// Recomputes a pane's rows from `all`: with the scan's bits when given,
/// else by matching the query.
pub(crate) fn refilter_with(state: &mut State, pane: Pane, anchor: usize, bits: Option<&[u64]>) {
    let p = state.pane(pane);
    let rows: Vec<u32> = if state.filter_query.matches_all() {
        p.all.clone()
    } else if let Some(bits) = bits {
        p.all
            .iter()
            .copied()
            .filter(|&i| crate::inbox::state::bit(bits, i))
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
