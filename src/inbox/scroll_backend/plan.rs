//! Finding the band of rows that moved, and planning a frame: the plain
//! diff or the move plus the diff left after it, whichever is shorter.

use std::io::{self, Write};

use ratatui::buffer::{Buffer, Cell, CellDiffOption, CellWidth};
use ratatui::layout::Rect;

use super::encode::{bridged, encode_best, looks_same};

/// The largest number of lines a band is tried shifted by, either way.
const MAX_SHIFT: u16 = 6;
/// At least this many rows must have changed for a band to be looked for
/// (a cursor move changes two).
const MIN_ROWS: usize = 3;
/// A band must save at least this many bytes (estimated) to be encoded at
/// all: the scroll sequences themselves cost about 20.
const MIN_GAIN: i64 = 24;

/// A band of rows `[top, bottom]` (inclusive, 0-based) moved by `by` lines:
/// positive moves them down (lines inserted at `top`), negative moves them
/// up (lines deleted at `top`). Lines moved in are blank. Valid when
/// `0 < |by|` and `top + |by| <= bottom` (a scroll region needs two rows)
/// and `bottom` is on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    /// The band's first row.
    pub top: u16,
    /// The band's last row.
    pub bottom: u16,
    /// Lines moved: > 0 down, < 0 up; never 0.
    pub by: i16,
}

impl Shift {
    fn lines(&self) -> u16 {
        self.by.unsigned_abs()
    }

    fn valid_for(&self, area: Rect) -> bool {
        self.by != 0 && self.top + self.lines() <= self.bottom && self.bottom < area.height
    }

    /// Applies the move to `buf` as the terminal would: rows pushed out of
    /// the band are lost and blank rows come in. An invalid shift changes
    /// nothing.
    pub fn apply(&self, buf: &mut Buffer) {
        if !self.valid_for(buf.area) {
            return;
        }
        let w = buf.area.width as usize;
        let (top, bottom, k) = (
            self.top as usize,
            self.bottom as usize,
            self.lines() as usize,
        );
        let band = &mut buf.content[top * w..(bottom + 1) * w];
        let n = k.min(bottom + 1 - top) * w;
        if self.by > 0 {
            band.rotate_right(n);
            band[..n].fill(Cell::EMPTY);
        } else {
            band.rotate_left(n);
            let len = band.len();
            band[len - n..].fill(Cell::EMPTY);
        }
    }

    /// The escape sequences that make the terminal do the move: scroll
    /// region, cursor into it, attributes reset (inserted lines take the
    /// current background), insert or delete lines, region reset.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let top = self.top + 1;
        let bottom = self.bottom + 1;
        let op = if self.by > 0 { 'L' } else { 'M' };
        // Writing to a Vec cannot fail.
        let _ = write!(
            out,
            "\x1b[0m\x1b[{top};{bottom}r\x1b[{top};1H\x1b[{}{op}\x1b[r",
            self.lines()
        );
    }
}

/// The bytes to write for `prev` → `next`: [`repair_wide`] (which may
/// mark cells of `prev` unknown), then `encode::encode_cells` of the [`bridged`]
/// diff, less the cells the screen already shows alike ([`looks_same`]).
fn encode_diff(prev: &mut Buffer, next: &Buffer, bce: bool, out: &mut Vec<u8>) -> io::Result<()> {
    repair_wide(prev, next);
    encode_best(
        &bridged(next, visible(prev, prev.diff_iter(next))),
        next.area.width,
        bce,
        out,
    );
    Ok(())
}

/// The `updates` to `shown` that change what the terminal shows.
fn visible<'a>(
    shown: &Buffer,
    updates: impl Iterator<Item = (u16, u16, &'a Cell)>,
) -> std::vec::IntoIter<(u16, u16, &'a Cell)> {
    let v: Vec<_> = updates
        .filter(|(x, y, c)| !looks_same(&shown[(*x, *y)], c))
        .collect();
    v.into_iter()
}

/// Marks as unknown the columns of a wide symbol on screen that the diff
/// `prev` → `next` overwrites only in part; true when it marked any.
///
/// A terminal that prints over one column of a wide symbol erases the
/// other column too, with whatever colours are current, while ratatui's
/// buffers still hold the blank it had there: the plain diff leaves a
/// stray coloured blank (vt100 shows one). An unknown cell differs from
/// every cell, so the diff writes it again, right after the write that
/// erased it. Repeated until no write splits a symbol.
fn repair_wide(prev: &mut Buffer, next: &Buffer) -> bool {
    let mut any = false;
    loop {
        let writes: Vec<(u16, u16, u16)> = prev
            .diff_iter(next)
            .map(|(x, y, c)| (x, y, c.symbol().cell_width().max(1)))
            .collect();
        if !mark_split_wide(prev, &writes) {
            return any;
        }
        any = true;
    }
}

/// Marks unknown the columns of wide symbols in `prev` that `writes`
/// (x, y, width) overwrite only in part; true when it marked any.
fn mark_split_wide(prev: &mut Buffer, writes: &[(u16, u16, u16)]) -> bool {
    let mut unknown = Cell::EMPTY;
    unknown.set_diff_option(CellDiffOption::AlwaysUpdate);
    let width = prev.area.width;
    let mut changed = false;
    for &(x, y, w) in writes {
        let end = (x + w).min(width);
        // Symbols at most 4 columns wide can reach x from the left.
        for s in x.saturating_sub(3)..end {
            let old = prev[(s, y)].symbol().cell_width();
            if old <= 1 || s + old <= x || (s == x && old == w) {
                continue;
            }
            for c in s..(s + old).min(width) {
                if (c < x || c >= end) && prev[(c, y)] != unknown {
                    prev[(c, y)] = unknown.clone();
                    changed = true;
                }
            }
        }
    }
    changed
}

/// A cheap 64-bit summary of a cell: equal cells give equal values (and
/// different cells almost always different ones). Only used to estimate
/// which bands are worth encoding; the bytes written come from the cells.
fn fingerprint(c: &Cell) -> u64 {
    let sym = c.symbol().as_bytes();
    let mut h: u64 = if sym.len() <= 8 {
        let mut b = [0u8; 8];
        b[..sym.len()].copy_from_slice(sym);
        u64::from_le_bytes(b) ^ (sym.len() as u64).rotate_left(59)
    } else {
        sym.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    h ^= style_print(c).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    if c.diff_option != CellDiffOption::None {
        h = !h;
    }
    h
}

/// A cell's colours and attributes as one value.
fn style_print(c: &Cell) -> u64 {
    (color_bits(c.fg) << 32)
        ^ color_bits(c.bg).rotate_left(7)
        ^ color_bits(c.underline_color).rotate_left(19)
        ^ (u64::from(c.modifier.bits()) << 27)
}

fn color_bits(c: ratatui::style::Color) -> u64 {
    use ratatui::style::Color;
    match c {
        Color::Reset => 0,
        Color::Rgb(r, g, b) => 1 << 25 | u64::from(r) << 16 | u64::from(g) << 8 | u64::from(b),
        Color::Indexed(i) => 2 << 25 | u64::from(i),
        // The sixteen named colours.
        other => 3 << 25 | named_index(other),
    }
}

/// The sixteen named colours in their ANSI order (`38;5;N` writes them).
pub(crate) const NAMED_COLORS: [ratatui::style::Color; 16] = {
    use ratatui::style::Color;
    [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::Gray,
        Color::DarkGray,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
        Color::White,
    ]
};

fn named_index(c: ratatui::style::Color) -> u64 {
    NAMED_COLORS.iter().position(|n| *n == c).unwrap_or(16) as u64
}

/// The fingerprints of a buffer's cells, row after row, with each
/// cell's style fingerprint and symbol length (to estimate bytes).
#[derive(Clone)]
pub(super) struct Prints {
    width: usize,
    cells: Vec<u64>,
    styles: Vec<u64>,
    lens: Vec<u8>,
}

impl Prints {
    pub(super) fn of(buf: &Buffer) -> Prints {
        let mut p = Prints {
            width: buf.area.width as usize,
            cells: vec![0; buf.content.len()],
            styles: vec![0; buf.content.len()],
            lens: vec![0; buf.content.len()],
        };
        for (i, c) in buf.content.iter().enumerate() {
            p.set(i, c);
        }
        p
    }

    /// Becomes a copy of `other`, reusing its own allocations.
    pub(super) fn copy_of(&mut self, other: &Prints) {
        self.width = other.width;
        self.cells.clone_from(&other.cells);
        self.styles.clone_from(&other.styles);
        self.lens.clone_from(&other.lens);
    }

    pub(super) fn set(&mut self, i: usize, c: &Cell) {
        self.cells[i] = fingerprint(c);
        self.styles[i] = style_print(c);
        self.lens[i] = c.symbol().len().min(255) as u8;
    }

    fn height(&self) -> usize {
        self.cells.len().checked_div(self.width).unwrap_or(0)
    }

    fn row(&self, y: usize) -> &[u64] {
        &self.cells[y * self.width..(y + 1) * self.width]
    }
}

/// Estimated bytes of a cursor move (`CSI n C` or `CSI row;col H`).
const MOVE_BYTES: usize = 5;
/// Estimated bytes of a colour or attribute change (`CSI 38;2;r;g;b m`).
const SGR_BYTES: usize = 18;

/// About how many bytes the encoder writes to turn row `oy` of `old` into
/// row `ny` of `new`: the differing cells' symbols, a cursor move (or the
/// bridged cells) before each run, a style change where the style does.
fn row_cost(new: &Prints, ny: usize, old: &Prints, oy: usize) -> i64 {
    let (nc, oc) = (new.row(ny), old.row(oy));
    if nc == oc {
        return 0;
    }
    let w = new.width;
    let styles = &new.styles[ny * w..(ny + 1) * w];
    let lens = &new.lens[ny * w..(ny + 1) * w];
    let (mut cost, mut last, mut style) = (0usize, None::<usize>, None::<u64>);
    for x in 0..w {
        if nc[x] == oc[x] {
            continue;
        }
        cost += match last {
            Some(l) if l + 1 == x => 0,
            Some(l) => (x - l - 1).min(MOVE_BYTES),
            None => MOVE_BYTES,
        };
        if style != Some(styles[x]) {
            cost += SGR_BYTES;
            style = Some(styles[x]);
        }
        cost += usize::from(lens[x]);
        last = Some(x);
    }
    cost as i64
}

/// The bands worth encoding, best first by bytes saved (estimated): for
/// each shift, the band that saves the most against the plain diff.
pub fn candidates(prev: &Buffer, next: &Buffer) -> Vec<Shift> {
    if prev.area != next.area {
        return Vec::new();
    }
    candidates_of(&Prints::of(prev), &Prints::of(next))
}

fn candidates_of(old: &Prints, new: &Prints) -> Vec<Shift> {
    let h = old.height();
    if h < 2 || new.height() != h || new.width != old.width {
        return Vec::new();
    }
    // Moving rows pays only when several rows changed.
    if (0..h).filter(|y| new.row(*y) != old.row(*y)).count() < MIN_ROWS {
        return Vec::new();
    }
    let blank = Prints::of(&Buffer::empty(Rect::new(0, 0, new.width as u16, 1)));
    let d0: Vec<i64> = (0..h).map(|y| row_cost(new, y, old, y)).collect();
    // Bytes saved on row y when it becomes blank instead of staying.
    let blank_gain: Vec<i64> = (0..h)
        .map(|y| d0[y] - row_cost(new, y, &blank, 0))
        .collect();
    let mut found: Vec<(i64, Shift)> = Vec::new();
    let max = (MAX_SHIFT as usize).min(h - 1);
    for k in 1..=max {
        // Down by k: rows top..top+k blank, rows y in top+k..=bottom show prev[y-k].
        // gain(t, b) = B(t) + sum_{y=t+k}^{b} g[y].
        let g: Vec<i64> = (0..h)
            .map(|y| {
                if y < k {
                    0 // never inside a band's moved rows
                } else {
                    d0[y] - row_cost(new, y, old, y - k)
                }
            })
            .collect();
        if let Some(s) = best_down(&g, &blank_gain, k) {
            found.push(s);
        }
        // Up by k: rows y in top..=bottom-k show prev[y+k], rows bottom-k+1..=bottom blank.
        let g: Vec<i64> = (0..h)
            .map(|y| {
                if y + k >= h {
                    0 // never inside a band's moved rows
                } else {
                    d0[y] - row_cost(new, y, old, y + k)
                }
            })
            .collect();
        if let Some(s) = best_up(&g, &blank_gain, k) {
            found.push(s);
        }
    }
    found.retain(|(gain, _)| *gain >= MIN_GAIN);
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found.into_iter().map(|(_, s)| s).collect()
}

/// The best band moved down by `k`: `top` in 0..h-k, `bottom` >= top+k.
fn best_down(g: &[i64], blank_gain: &[i64], k: usize) -> Option<(i64, Shift)> {
    let h = g.len();
    // prefix[i] = sum g[..i]; best_end[i] = max over b >= i of prefix[b+1].
    let mut prefix = vec![0i64; h + 1];
    for y in 0..h {
        prefix[y + 1] = prefix[y] + g[y];
    }
    let mut best_end = vec![(i64::MIN, 0usize); h + 1];
    for i in (0..h).rev() {
        let here = (prefix[i + 1], i);
        best_end[i] = if best_end[i + 1].0 > here.0 {
            best_end[i + 1]
        } else {
            here
        };
    }
    let mut best: Option<(i64, Shift)> = None;
    let mut blanks: i64 = blank_gain[..k].iter().sum();
    for top in 0..h - k {
        if top > 0 {
            blanks += blank_gain[top + k - 1] - blank_gain[top - 1];
        }
        let (end, bottom) = best_end[top + k];
        let gain = blanks + end - prefix[top + k];
        if best.is_none_or(|(b, _)| gain > b) {
            best = Some((
                gain,
                Shift {
                    top: top as u16,
                    bottom: bottom as u16,
                    by: k as i16,
                },
            ));
        }
    }
    best
}

/// The best band moved up by `k`: `bottom` in k..h, `top` <= bottom-k.
fn best_up(g: &[i64], blank_gain: &[i64], k: usize) -> Option<(i64, Shift)> {
    let h = g.len();
    let mut prefix = vec![0i64; h + 1];
    for y in 0..h {
        prefix[y + 1] = prefix[y] + g[y];
    }
    // best_start[i] = min over t <= i of prefix[t] (to maximise prefix[b-k+1] - prefix[t]).
    let mut best_start = vec![(0i64, 0usize); h + 1];
    best_start[0] = (prefix[0], 0);
    for i in 1..=h {
        best_start[i] = if prefix[i] < best_start[i - 1].0 {
            (prefix[i], i)
        } else {
            best_start[i - 1]
        };
    }
    let mut best: Option<(i64, Shift)> = None;
    // Blank rows are bottom-k+1..=bottom.
    let mut blanks: i64 = blank_gain[1..=k].iter().sum();
    for bottom in k..h {
        if bottom > k {
            blanks += blank_gain[bottom] - blank_gain[bottom - k];
        }
        let last_moved = bottom - k; // rows top..=last_moved show prev[y+k]
        let (start, top) = best_start[last_moved];
        let gain = blanks + prefix[last_moved + 1] - start;
        if best.is_none_or(|(b, _)| gain > b) {
            best = Some((
                gain,
                Shift {
                    top: top as u16,
                    bottom: bottom as u16,
                    by: -(k as i16),
                },
            ));
        }
    }
    best
}

/// The cheapest way from `prev` to `next`: the bytes to write and the
/// shift they start with, if any.
pub fn plan(prev: &Buffer, next: &Buffer) -> io::Result<(Vec<u8>, Option<Shift>)> {
    let mut shown = prev.clone();
    let (old, new) = (Prints::of(prev), Prints::of(next));
    let updates: Vec<(u16, u16, &Cell)> = prev.diff_iter(next).collect();
    plan_in_place(&mut shown, next, &old, &new, &updates, false)
}

/// [`plan`] over `shown`, given `updates` = `shown.diff(next)`. It may
/// change `shown` (marks cells unknown): the caller replaces it with
/// `next` once the bytes are written.
pub(super) fn plan_in_place(
    shown: &mut Buffer,
    next: &Buffer,
    old: &Prints,
    new: &Prints,
    updates: &[(u16, u16, &Cell)],
    bce: bool,
) -> io::Result<(Vec<u8>, Option<Shift>)> {
    // The move is planned from the screen as it is: the plain plan below
    // marks unknown the wide symbols its writes would split, which a move
    // carries along intact (marked, every moved wide symbol would be
    // written again).
    let shift = candidates_of(old, new).into_iter().next();
    let mut moved = shift.map(|_| shown.clone());
    let mut best = Vec::new();
    let writes: Vec<(u16, u16, u16)> = updates
        .iter()
        .map(|(x, y, c)| (*x, *y, c.symbol().cell_width().max(1)))
        .collect();
    if mark_split_wide(shown, &writes) {
        encode_diff(shown, next, bce, &mut best)?;
    } else {
        // The common case: ratatui's own updates, bridged.
        encode_best(
            &bridged(next, visible(shown, updates.iter().copied())),
            next.area.width,
            bce,
            &mut best,
        );
    }
    let mut chosen = None;
    if let (Some(shift), Some(moved)) = (shift, moved.as_mut()) {
        shift.apply(moved);
        let mut bytes = Vec::with_capacity(best.len());
        shift.encode(&mut bytes);
        encode_diff(moved, next, bce, &mut bytes)?;
        if bytes.len() < best.len() {
            best = bytes;
            chosen = Some(shift);
        }
    }
    Ok((best, chosen))
}
