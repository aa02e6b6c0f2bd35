//! A ratatui backend that moves rows with the terminal's own scrolling.
//!
//! ratatui diffs each frame against the previous one cell by cell. When a
//! new lead lands at the top of a short list, every row below it moves down
//! one line and every cell of those rows differs from the one above it, so
//! the whole table is rewritten (about 3.9 KB at 200x50). A terminal can do
//! that move itself: a scroll region (`CSI top;bottom r`) and insert-line
//! (`CSI k L`) or delete-line (`CSI k M`) cost about 20 bytes.
//!
//! [`ScrollBackend`] wraps a [`CrosstermBackend`] and keeps its own model of
//! what the terminal shows (the last flushed screen). On each `draw` it
//! builds the next screen (model plus ratatui's updates), looks for a band
//! of rows that moved up or down by a few lines, and when moving that band
//! with the terminal's scrolling and then writing the remaining diff takes
//! fewer bytes than the plain diff, it does that instead. Both outputs are
//! encoded exactly (by the same crossterm encoder) and the shorter one is
//! written, so a frame never costs more than it would without this backend.
//! Scroll regions span the full width (left/right margins are not portable:
//! tmux lacks them), so in a side-by-side layout the other pane's rows move
//! too and are redrawn; the byte comparison decides whether that pays.
//!
//! ratatui's own `Terminal` diffing is untouched: its previous buffer and
//! this model hold the same screen (both start blank and change by the same
//! updates; `clear` and resizes reset both).

use std::io::{self, Write};

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::{Buffer, Cell, CellDiffOption, CellWidth};
use ratatui::crossterm::cursor::MoveTo;
use ratatui::crossterm::queue;
use ratatui::layout::{Position, Rect, Size};

/// The largest number of lines a band is tried shifted by, either way.
const MAX_SHIFT: u16 = 8;
/// How many of the most promising bands are encoded to compare bytes.
const CANDIDATES: usize = 3;
/// A band must save at least this many cells (by count) to be encoded at
/// all: the scroll sequences themselves cost about 20 bytes.
const MIN_GAIN: i64 = 12;

/// A band of rows `[top, bottom]` (inclusive, 0-based) moved by `by` lines:
/// positive moves them down (lines inserted at `top`), negative moves them
/// up (lines deleted at `top`). Lines moved in are blank.
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

    /// Applies the move to `buf` as the terminal would: rows pushed out of
    /// the band are lost and blank rows come in.
    pub fn apply(&self, buf: &mut Buffer) {
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

/// How frames were written, for tests and the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScrollStats {
    /// Frames drawn.
    pub frames: u64,
    /// Frames that moved a band with the terminal's scrolling.
    pub scrolled: u64,
}

/// A [`CrosstermBackend`] that moves shifted rows with scroll regions
/// when that writes fewer bytes (see the module docs).
pub struct ScrollBackend<W: Write> {
    inner: CrosstermBackend<W>,
    /// What the terminal shows; `None` until the first draw or clear.
    model: Option<Buffer>,
    /// False after something the model cannot follow (a partial clear,
    /// appended lines): frames pass through as plain diffs until a full
    /// clear makes the screen known again.
    trusted: bool,
    /// The size to report instead of asking the terminal (tests).
    fixed_size: Option<Size>,
    /// Where the caller last put the cursor.
    cursor: Option<Position>,
    cursor_visible: bool,
    stats: ScrollStats,
}

impl<W: Write> ScrollBackend<W> {
    /// Wraps a writer to a real terminal (its size is asked of the tty).
    pub fn new(writer: W) -> Self {
        Self {
            inner: CrosstermBackend::new(writer),
            model: None,
            trusted: true,
            fixed_size: None,
            cursor: None,
            cursor_visible: true,
            stats: ScrollStats::default(),
        }
    }

    /// Wraps a writer and reports `size` instead of asking a terminal.
    pub fn with_size(writer: W, size: Size) -> Self {
        let mut b = Self::new(writer);
        b.fixed_size = Some(size);
        b
    }

    /// Changes the reported size (a resize, when built [`Self::with_size`]).
    pub fn set_size(&mut self, size: Size) {
        self.fixed_size = Some(size);
    }

    /// How frames were written so far.
    pub fn stats(&self) -> ScrollStats {
        self.stats
    }

    fn blank_model(&self) -> io::Result<Buffer> {
        let size = self.size()?;
        Ok(Buffer::empty(Rect::new(0, 0, size.width, size.height)))
    }
}

impl<W: Write> Write for ScrollBackend<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Write::flush(&mut self.inner)
    }
}

/// Sets `cell` at (x, y) in `buf` as ratatui's buffers hold it: the
/// columns a wide symbol covers are reset.
fn put(buf: &mut Buffer, x: u16, y: u16, cell: &Cell) {
    let area = buf.area;
    if x >= area.right() || y >= area.bottom() {
        return;
    }
    let i = buf.index_of(x, y);
    buf.content[i] = cell.clone();
    let width = cell.symbol().cell_width();
    for dx in 1..width {
        if x + dx >= area.right() {
            break;
        }
        buf.content[i + dx as usize].reset();
    }
}

/// The exact bytes crossterm writes for `prev` → `next` (after
/// [`repair_wide`]).
fn encode_diff(prev: &Buffer, next: &Buffer, out: &mut Vec<u8>) -> io::Result<()> {
    let mut repaired = None;
    if prev.content.iter().any(|c| c.symbol().cell_width() > 1) {
        let mut p = prev.clone();
        if repair_wide(&mut p, next) {
            repaired = Some(p);
        }
    }
    let prev = repaired.as_ref().unwrap_or(prev);
    CrosstermBackend::new(out).draw(prev.diff_iter(next))
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
pub fn repair_wide(prev: &mut Buffer, next: &Buffer) -> bool {
    let mut unknown = Cell::EMPTY;
    unknown.set_diff_option(CellDiffOption::AlwaysUpdate);
    let width = prev.area.width;
    let mut any = false;
    loop {
        let writes: Vec<(u16, u16, u16)> = prev
            .diff_iter(next)
            .map(|(x, y, c)| (x, y, c.symbol().cell_width().max(1)))
            .collect();
        let mut changed = false;
        for (x, y, w) in writes {
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
        if !changed {
            return any;
        }
        any = true;
    }
}

fn row(buf: &Buffer, y: usize) -> &[Cell] {
    let w = buf.area.width as usize;
    &buf.content[y * w..(y + 1) * w]
}

fn differing(a: &[Cell], b: &[Cell]) -> i64 {
    a.iter().zip(b).filter(|(x, y)| x != y).count() as i64
}

fn differing_blank(a: &[Cell]) -> i64 {
    a.iter().filter(|c| **c != Cell::EMPTY).count() as i64
}

/// The bands worth encoding, best first by cells saved: for each shift,
/// the band that saves the most differing cells against the plain diff.
pub fn candidates(prev: &Buffer, next: &Buffer) -> Vec<Shift> {
    if prev.area != next.area || prev.area.height < 2 {
        return Vec::new();
    }
    let h = prev.area.height as usize;
    let d0: Vec<i64> = (0..h)
        .map(|y| differing(row(next, y), row(prev, y)))
        .collect();
    if d0.iter().filter(|d| **d > 0).count() < 2 {
        return Vec::new();
    }
    // Cells saved on row y when it becomes blank instead of staying.
    let blank_gain: Vec<i64> = (0..h)
        .map(|y| d0[y] - differing_blank(row(next, y)))
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
                    d0[y] - differing(row(next, y), row(prev, y - k))
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
                    d0[y] - differing(row(next, y), row(prev, y + k))
                }
            })
            .collect();
        if let Some(s) = best_up(&g, &blank_gain, k) {
            found.push(s);
        }
    }
    found.retain(|(gain, _)| *gain >= MIN_GAIN);
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found.into_iter().map(|(_, s)| s).take(CANDIDATES).collect()
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
    let mut best = Vec::new();
    encode_diff(prev, next, &mut best)?;
    let mut chosen = None;
    for shift in candidates(prev, next) {
        let mut moved = prev.clone();
        shift.apply(&mut moved);
        let mut bytes = Vec::with_capacity(best.len());
        shift.encode(&mut bytes);
        encode_diff(&moved, next, &mut bytes)?;
        if bytes.len() < best.len() {
            best = bytes;
            chosen = Some(shift);
        }
    }
    Ok((best, chosen))
}

impl<W: Write> Backend for ScrollBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.stats.frames += 1;
        if !self.trusted {
            return self.inner.draw(content);
        }
        let model = match self.model.take() {
            Some(m) => m,
            None => self.blank_model()?,
        };
        let updates: Vec<(u16, u16, &Cell)> = content.collect();
        let area = model.area;
        if updates
            .iter()
            .any(|(x, y, _)| *x >= area.right() || *y >= area.bottom())
        {
            // The caller's screen is not the model's: write what it asks
            // and stop modelling until the next full clear.
            self.trusted = false;
            return self.inner.draw(updates.into_iter());
        }
        let mut next = model.clone();
        for (x, y, cell) in updates {
            put(&mut next, x, y, cell);
        }
        let (bytes, shift) = plan(&model, &next)?;
        self.inner.write_all(&bytes)?;
        if let Some(s) = shift {
            self.stats.scrolled += 1;
            tracing::trace!(?s, bytes = bytes.len(), "frame moved rows by scrolling");
            // The scroll sequences moved the cursor; put it back where the
            // caller left it when it is shown (ratatui re-sets it anyway).
            if self.cursor_visible
                && let Some(p) = self.cursor
            {
                queue!(self.inner, MoveTo(p.x, p.y))?;
            }
        }
        self.model = Some(next);
        Ok(())
    }

    fn append_lines(&mut self, n: u16) -> io::Result<()> {
        // Only inline viewports use this; the screen moved in a way the
        // model does not follow: pass frames through until a full clear.
        self.trusted = false;
        self.model = None;
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.cursor_visible = false;
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.cursor_visible = true;
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let p = position.into();
        self.cursor = Some(p);
        self.inner.set_cursor_position(p)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()?;
        self.model = Some(self.blank_model()?);
        self.trusted = true;
        Ok(())
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)?;
        if clear_type == ClearType::All {
            self.model = Some(self.blank_model()?);
            self.trusted = true;
        } else {
            // Partial clears depend on where the cursor is, which the
            // model does not follow: pass frames through until a full clear.
            self.model = None;
            self.trusted = false;
        }
        Ok(())
    }

    fn size(&self) -> io::Result<Size> {
        match self.fixed_size {
            Some(s) => Ok(s),
            None => self.inner.size(),
        }
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        match self.fixed_size {
            Some(s) => Ok(WindowSize {
                columns_rows: s,
                pixels: Size::default(),
            }),
            None => self.inner.window_size(),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}
