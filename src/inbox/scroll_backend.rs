//! A ratatui backend that moves rows with the terminal's own scrolling.
//!
//! ratatui diffs each frame against the previous one cell by cell. When a
//! new lead lands at the top of a short list, every row below it moves down
//! one line and every cell of those rows differs from the one above it, so
//! the whole table is rewritten (about 3.9 KB at 200x50). A terminal can do
//! that move itself: a scroll region (`CSI top;bottom r`) and insert-line
//! (`CSI k L`) or delete-line (`CSI k M`) cost about 20 bytes.
//!
//! [`ScrollBackend`] wraps a [`CrosstermBackend`] and keeps the screen it
//! last wrote and the frame being drawn (that screen plus ratatui's
//! updates), with 64-bit fingerprints of their cells. On each `draw` it
//! looks for the band of rows that moved up or down by a few lines and
//! saves the most (estimated bytes), encodes the frame both as the plain
//! diff and as that move plus the diff left after it, and writes the
//! shorter: scrolling never makes a frame dearer. Scroll regions span the
//! full width (left/right margins are not portable: tmux lacks them), so in
//! a side-by-side layout the other pane's rows move too and are redrawn;
//! the byte comparison decides whether that pays.
//!
//! Cells are written by [`encode_cells`]'s compact encoder rather than
//! crossterm's: one SGR sequence per change with only what changed,
//! relative cursor moves when shorter, `CSI n X` for long blank runs, a
//! single reset at the end; each encoding is made row by row and grouped by
//! style, and the shorter kept. A write that would split a wide symbol on screen also
//! rewrites the symbol's other column ([`repair_wide`]).
//!
//! ratatui's own `Terminal` diffing is untouched: its previous buffer and
//! the shown screen hold the same cells (both start blank and change by the
//! same updates; `clear` and resizes reset both), and its updates are the
//! plain diff.

use std::io::{self, Write};

use ratatui::backend::{Backend, ClearType, CrosstermBackend, IntoCrossterm, WindowSize};
use ratatui::buffer::{Buffer, Cell, CellDiffOption, CellWidth};
use ratatui::crossterm::cursor::MoveTo;
use ratatui::crossterm::queue;
use ratatui::crossterm::style::{Color as CrosstermColor, Colored};
use ratatui::layout::{Position, Rect, Size};
use ratatui::style::{Color, Modifier};

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
    screens: Option<Screens>,
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
            screens: None,
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

    fn blank_screens(&self) -> io::Result<Screens> {
        let size = self.size()?;
        Ok(Screens::blank(Rect::new(0, 0, size.width, size.height)))
    }
}

/// The screen as shown and the frame being drawn, with their cells'
/// fingerprints. Between frames `next` equals `shown`.
struct Screens {
    shown: Buffer,
    next: Buffer,
    shown_prints: Prints,
    next_prints: Prints,
}

impl Screens {
    fn blank(area: Rect) -> Screens {
        let shown = Buffer::empty(area);
        let prints = Prints::of(&shown);
        Screens {
            next: shown.clone(),
            shown,
            shown_prints: prints.clone(),
            next_prints: prints,
        }
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

/// Sets `cell` at (x, y) in `buf` as ratatui's buffers hold it (the
/// columns a wide symbol covers are reset), and its fingerprints.
fn put(buf: &mut Buffer, prints: Option<&mut Prints>, x: u16, y: u16, cell: &Cell) {
    let area = buf.area;
    if x >= area.right() || y >= area.bottom() {
        return;
    }
    let i = buf.index_of(x, y);
    buf.content[i] = cell.clone();
    let width = cell.symbol().cell_width().max(1);
    let end = (x + width).min(area.right()) - x;
    for dx in 1..end {
        buf.content[i + dx as usize].reset();
    }
    if let Some(p) = prints {
        for dx in 0..end as usize {
            p.set(i + dx, &buf.content[i + dx]);
        }
    }
}

/// The bytes to write for `prev` → `next`: [`repair_wide`] (which may
/// mark cells of `prev` unknown), then [`encode_cells`] of the [`bridged`]
/// diff.
fn encode_diff(prev: &mut Buffer, next: &Buffer, out: &mut Vec<u8>) -> io::Result<()> {
    repair_wide(prev, next);
    encode_best(&bridged(next, prev.diff_iter(next)), next.area.width, out);
    Ok(())
}

/// The shorter of [`encode_cells`] in the diff's order (row by row) and in
/// [`by_style`] order.
fn encode_best(cells: &[(u16, u16, &Cell)], width: u16, out: &mut Vec<u8>) {
    let reordered = trailing_first(cells);
    let cells = reordered.as_deref().unwrap_or(cells);
    let start = out.len();
    encode_cells(cells, width, out);
    if let Some(grouped) = by_style(cells) {
        let mut other = Vec::with_capacity(out.len() - start);
        encode_cells(&grouped, width, &mut other);
        if other.len() < out.len() - start {
            out.truncate(start);
            out.extend_from_slice(&other);
        }
    }
}

/// `cells` with each update that falls inside a wide symbol written in the
/// same frame moved before that symbol. ratatui follows an emoji with
/// VS16 (`❤️`) with a blank for the column after it, for terminals that
/// draw it one column wide; a terminal that draws it two wide would let
/// that later blank erase the emoji. Written first, the blank is right on
/// both: covered by a wide emoji, or left blank beside a narrow one.
fn trailing_first<'a>(cells: &[(u16, u16, &'a Cell)]) -> Option<Vec<(u16, u16, &'a Cell)>> {
    let inside = |a: &(u16, u16, &Cell), b: &(u16, u16, &Cell)| {
        let w = a.2.symbol().cell_width();
        w > 1 && a.1 == b.1 && b.0 > a.0 && b.0 < a.0 + w
    };
    if !cells.windows(2).any(|p| inside(&p[0], &p[1])) {
        return None;
    }
    let mut v = cells.to_vec();
    let mut i = 0;
    while i + 1 < v.len() {
        if inside(&v[i], &v[i + 1]) {
            v.swap(i, i + 1);
            i += 2;
        } else {
            i += 1;
        }
    }
    Some(v)
}

/// `cells` regrouped so that runs of one style are written together
/// (first the runs in the style met first, row by row, then the next
/// style's): one colour change per style instead of one per run, for a
/// cursor move per run. `None` when a cell is wide or there are not two
/// styles: only narrow cells may be written in any order (a write that
/// splits a wide symbol on screen is paired with a rewrite of the
/// symbol's other column, [`repair_wide`], so both end right whatever
/// comes first).
fn by_style<'a>(cells: &[(u16, u16, &'a Cell)]) -> Option<Vec<(u16, u16, &'a Cell)>> {
    if cells.iter().any(|(_, _, c)| c.symbol().cell_width() != 1) {
        return None;
    }
    let mut styles: Vec<Pen> = Vec::new();
    let mut keyed: Vec<(usize, usize, (u16, u16, &'a Cell))> = Vec::with_capacity(cells.len());
    for (i, &(x, y, c)) in cells.iter().enumerate() {
        let pen = Pen::of(c);
        let k = match styles.iter().position(|p| *p == pen) {
            Some(k) => k,
            None => {
                styles.push(pen);
                styles.len() - 1
            }
        };
        keyed.push((k, i, (x, y, c)));
    }
    if styles.len() < 2 {
        return None;
    }
    keyed.sort_by_key(|(k, i, _)| (*k, *i));
    Some(keyed.into_iter().map(|(_, _, c)| c).collect())
}

/// The terminal's colours and attributes (SGR state) while encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pen {
    fg: Color,
    bg: Color,
    underline: Color,
    modifier: Modifier,
}

impl Pen {
    /// After `CSI 0 m`: what ratatui assumes between frames.
    const RESET: Pen = Pen {
        fg: Color::Reset,
        bg: Color::Reset,
        underline: Color::Reset,
        modifier: Modifier::empty(),
    };

    fn of(c: &Cell) -> Pen {
        Pen {
            fg: c.fg,
            bg: c.bg,
            underline: c.underline_color,
            modifier: c.modifier,
        }
    }
}

/// SGR parameters that turn each attribute on, and the one that turns it off.
const ATTRIBUTES: [(Modifier, u8, u8); 9] = [
    (Modifier::BOLD, 1, 22),
    (Modifier::DIM, 2, 22),
    (Modifier::ITALIC, 3, 23),
    (Modifier::UNDERLINED, 4, 24),
    (Modifier::SLOW_BLINK, 5, 25),
    (Modifier::RAPID_BLINK, 6, 25),
    (Modifier::REVERSED, 7, 27),
    (Modifier::HIDDEN, 8, 28),
    (Modifier::CROSSED_OUT, 9, 29),
];

/// A colour as crossterm writes it (`38;2;r;g;b`, `39`, ...); empty when
/// crossterm writes no colour at all (`NO_COLOR`).
fn color_param(which: fn(CrosstermColor) -> Colored, c: Color) -> String {
    which(c.into_crossterm()).to_string()
}

/// The parameters that take the terminal from `from` to `to`, changing
/// only what differs (an attribute turned off that shares its parameter
/// with one that stays, bold and dim or the two blinks, is turned on again).
fn sgr_changes(from: Pen, to: Pen) -> Vec<String> {
    let mut params = Vec::new();
    let removed = from.modifier - to.modifier;
    let mut again = Modifier::empty();
    let mut offs: Vec<u8> = Vec::new();
    for (m, _, off) in ATTRIBUTES {
        if removed.contains(m) && !offs.contains(&off) {
            offs.push(off);
            params.push(off.to_string());
            // Whatever else this parameter turned off comes back on.
            for (other, _, other_off) in ATTRIBUTES {
                if other_off == off && to.modifier.contains(other) {
                    again |= other;
                }
            }
        }
    }
    let on = (to.modifier - from.modifier) | again;
    for (m, code, _) in ATTRIBUTES {
        if on.contains(m) {
            params.push(code.to_string());
        }
    }
    if from.fg != to.fg {
        params.push(color_param(Colored::ForegroundColor, to.fg));
    }
    if from.bg != to.bg {
        params.push(color_param(Colored::BackgroundColor, to.bg));
    }
    if from.underline != to.underline {
        params.push(color_param(Colored::UnderlineColor, to.underline));
    }
    params
}

/// The parameters that set `to` from a full reset (`0` first).
fn sgr_from_reset(to: Pen) -> Vec<String> {
    let mut params = vec!["0".to_string()];
    params.extend(sgr_changes(Pen::RESET, to));
    params
}

/// Writes one SGR sequence taking the terminal from `from` to `to`: the
/// shorter of changing what differs and resetting then setting.
fn sgr(from: Pen, to: Pen, out: &mut Vec<u8>) {
    if from == to {
        return;
    }
    let len = |p: &[String]| p.iter().map(|s| s.len() + 1).sum::<usize>();
    let mut changes = sgr_changes(from, to);
    let reset = sgr_from_reset(to);
    if len(&reset) < len(&changes) {
        changes = reset;
    }
    changes.retain(|p| !p.is_empty());
    if changes.is_empty() {
        return;
    }
    out.extend_from_slice(b"\x1b[");
    out.extend_from_slice(changes.join(";").as_bytes());
    out.push(b'm');
}

/// Moves the cursor from `cursor` (when known) to (x, y) with the
/// shortest of `CSI row;col H` and relative moves: up/down (`CSI n A`,
/// `CSI n B`), then forward/back (`CSI n C`, `CSI n D`), column (`CSI n
/// G`) or carriage return. Relative moves stop at the screen's edges and
/// no scroll region is set while cells are written, so they land exactly.
fn move_to(cursor: Option<(u16, u16)>, x: u16, y: u16, out: &mut Vec<u8>) {
    let absolute = format!("\x1b[{};{}H", y + 1, x + 1);
    let Some((cx, cy)) = cursor else {
        out.extend_from_slice(absolute.as_bytes());
        return;
    };
    let csi = |n: u16, op: char| {
        if n == 1 {
            format!("\x1b[{op}")
        } else {
            format!("\x1b[{n}{op}")
        }
    };
    let vertical = match y.cmp(&cy) {
        std::cmp::Ordering::Greater => csi(y - cy, 'B'),
        std::cmp::Ordering::Less => csi(cy - y, 'A'),
        std::cmp::Ordering::Equal => String::new(),
    };
    let horizontal = match x.cmp(&cx) {
        std::cmp::Ordering::Equal => String::new(),
        std::cmp::Ordering::Greater => csi(x - cx, 'C'),
        std::cmp::Ordering::Less => {
            let back = csi(cx - x, 'D');
            let home = if x == 0 {
                "\r".to_string()
            } else {
                format!("\r{}", csi(x, 'C'))
            };
            if home.len() < back.len() { home } else { back }
        }
    };
    let column = if x == cx {
        String::new()
    } else {
        format!("\x1b[{}G", x + 1)
    };
    let horizontal = if !column.is_empty() && column.len() < horizontal.len() {
        column
    } else {
        horizontal
    };
    let relative = vertical + &horizontal;
    if relative.len() < absolute.len() {
        out.extend_from_slice(relative.as_bytes());
    } else {
        out.extend_from_slice(absolute.as_bytes());
    }
}

fn digits(n: u16) -> usize {
    n.checked_ilog10().unwrap_or(0) as usize + 1
}

/// Bytes of `CSI n C`.
fn forward_len(n: u16) -> usize {
    3 + digits(n)
}

/// Bytes of `CSI row;col H` to (x, y).
fn jump_len(x: u16, y: u16) -> usize {
    4 + digits(y + 1) + digits(x + 1)
}

/// Runs of at least this many blank cells are erased (`CSI n X`) rather
/// than written: the sequence and the cursor move after it cost ~12 bytes.
const ERASE_MIN: usize = 16;

/// Attributes that show on a blank cell.
const VISIBLE_ON_BLANK: Modifier = Modifier::REVERSED
    .union(Modifier::UNDERLINED)
    .union(Modifier::SLOW_BLINK)
    .union(Modifier::RAPID_BLINK)
    .union(Modifier::CROSSED_OUT);

/// A cell `CSI n X` shows exactly: a blank on the default background with
/// no attribute that shows on a blank. Its foreground colour (and bold,
/// dim, italic) cannot be seen, and terminals differ in what they erase
/// to (tmux keeps no foreground, vt100 the current one). The model keeps
/// the frame's cell; a later frame that makes the difference visible
/// changes the cell, so the diff writes it.
fn erasable(c: &Cell) -> bool {
    c.symbol() == " "
        && c.bg == Color::Reset
        && !c.modifier.intersects(VISIBLE_ON_BLANK)
        && c.diff_option == CellDiffOption::None
}

/// Encodes `cells` (x, y, cell; as ratatui's diff gives them): cursor moves
/// only where a cell does not follow the one before, one SGR sequence per
/// change of colours or attributes (only what changed), long runs of blank
/// cells erased, and the attributes reset at the end (ratatui assumes a
/// reset terminal between frames).
fn encode_cells(cells: &[(u16, u16, &Cell)], width: u16, out: &mut Vec<u8>) {
    let mut pen = Pen::RESET;
    let mut cursor: Option<(u16, u16)> = None;
    let mut i = 0;
    while i < cells.len() {
        let (x, y, cell) = cells[i];
        if cursor != Some((x, y)) {
            move_to(cursor, x, y, out);
        }
        if erasable(cell) {
            let run = cells[i..]
                .iter()
                .enumerate()
                .take_while(|(k, (cx, cy, c))| {
                    *cy == y && usize::from(*cx) == usize::from(x) + k && erasable(c)
                })
                .count();
            if run >= ERASE_MIN {
                // Only the background and the attributes that show on a
                // blank matter to the erase.
                let to = Pen {
                    bg: Color::Reset,
                    modifier: pen.modifier - VISIBLE_ON_BLANK,
                    ..pen
                };
                sgr(pen, to, out);
                pen = to;
                let _ = write!(out, "\x1b[{run}X");
                // The cursor stays where it was.
                cursor = Some((x, y));
                i += run;
                continue;
            }
        }
        let to = Pen::of(cell);
        sgr(pen, to, out);
        pen = to;
        out.extend_from_slice(cell.symbol().as_bytes());
        // After a wide symbol the cursor's column depends on the terminal's
        // idea of its width, and after the last column a wrap is pending:
        // move explicitly before the next cell.
        cursor = (cell.symbol().cell_width() == 1 && x + 1 < width).then_some((x + 1, y));
        i += 1;
    }
    if pen != Pen::RESET {
        out.extend_from_slice(b"\x1b[0m");
    }
}

/// The cells to write: `updates`, plus the unchanged cells of a short gap
/// between two updates on a row when writing them costs fewer bytes than
/// the cursor move over them (`CSI n C`, 4–6 bytes). Only gaps of
/// narrow cells in the style of the cell before them are bridged, so no
/// colour or attribute change is added; unchanged cells are rewritten with
/// what the screen already shows there.
fn bridged<'a>(
    next: &'a Buffer,
    updates: impl Iterator<Item = (u16, u16, &'a Cell)>,
) -> Vec<(u16, u16, &'a Cell)> {
    let mut out: Vec<(u16, u16, &'a Cell)> = Vec::new();
    for (x, y, cell) in updates {
        if let Some(&(px, py, prev)) = out.last() {
            let from = px + prev.symbol().cell_width().max(1);
            if py == y && from < x {
                let gap: Vec<&Cell> = (from..x).map(|gx| &next[(gx, y)]).collect();
                let same_style = |c: &&Cell| {
                    c.fg == prev.fg
                        && c.bg == prev.bg
                        && c.underline_color == prev.underline_color
                        && c.modifier == prev.modifier
                        && c.diff_option == CellDiffOption::None
                        && c.symbol().cell_width() == 1
                };
                let bytes: usize = gap.iter().map(|c| c.symbol().len()).sum();
                let jump = forward_len(x - from).min(jump_len(x, y));
                if bytes < jump && gap.iter().all(same_style) {
                    out.extend(gap.into_iter().zip(from..x).map(|(c, gx)| (gx, y, c)));
                }
            }
        }
        out.push((x, y, cell));
    }
    out
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
struct Prints {
    width: usize,
    cells: Vec<u64>,
    styles: Vec<u64>,
    lens: Vec<u8>,
}

impl Prints {
    fn of(buf: &Buffer) -> Prints {
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

    fn set(&mut self, i: usize, c: &Cell) {
        self.cells[i] = fingerprint(c);
        self.styles[i] = style_print(c);
        self.lens[i] = c.symbol().len().min(255) as u8;
    }

    fn copy_from(&mut self, other: &Prints) {
        self.cells.copy_from_slice(&other.cells);
        self.styles.copy_from_slice(&other.styles);
        self.lens.copy_from_slice(&other.lens);
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
    Ok(plan_in_place(&mut shown, next, &old, &new, &updates)?.0)
}

/// [`plan`] over `shown`, given `updates` = `shown.diff(next)`; true as
/// the second value when it changed `shown` (shifted a band, marked cells
/// unknown): the caller must then copy `next` over it.
#[allow(clippy::type_complexity)]
fn plan_in_place(
    shown: &mut Buffer,
    next: &Buffer,
    old: &Prints,
    new: &Prints,
    updates: &[(u16, u16, &Cell)],
) -> io::Result<((Vec<u8>, Option<Shift>), bool)> {
    let mut best = Vec::new();
    let writes: Vec<(u16, u16, u16)> = updates
        .iter()
        .map(|(x, y, c)| (*x, *y, c.symbol().cell_width().max(1)))
        .collect();
    let mut touched = mark_split_wide(shown, &writes);
    if touched {
        encode_diff(shown, next, &mut best)?;
    } else {
        // The common case: ratatui's own updates, bridged.
        encode_best(
            &bridged(next, updates.iter().copied()),
            next.area.width,
            &mut best,
        );
    }
    let mut chosen = None;
    if let Some(shift) = candidates_of(old, new).into_iter().next() {
        touched = true;
        shift.apply(shown);
        let mut bytes = Vec::with_capacity(best.len());
        shift.encode(&mut bytes);
        encode_diff(shown, next, &mut bytes)?;
        if bytes.len() < best.len() {
            best = bytes;
            chosen = Some(shift);
        }
    }
    Ok(((best, chosen), touched))
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
        let mut sc = match self.screens.take() {
            Some(s) => s,
            None => self.blank_screens()?,
        };
        let updates: Vec<(u16, u16, &Cell)> = content.collect();
        let area = sc.shown.area;
        if updates
            .iter()
            .any(|(x, y, _)| *x >= area.right() || *y >= area.bottom())
        {
            // The caller's screen is not the model's: write what it asks
            // and stop modelling until the next full clear.
            self.trusted = false;
            return self.inner.draw(updates.into_iter());
        }
        for (x, y, cell) in &updates {
            put(&mut sc.next, Some(&mut sc.next_prints), *x, *y, cell);
        }
        let Screens {
            shown,
            next,
            shown_prints,
            next_prints,
        } = &mut sc;
        let ((bytes, shift), touched) =
            plan_in_place(shown, next, shown_prints, next_prints, &updates)?;
        if let Err(e) = self.inner.write_all(&bytes) {
            // Part of the frame may be on screen: the model is no longer
            // known to match; write plainly until the next full clear.
            self.trusted = false;
            return Err(e);
        }
        // The shown screen is now the frame.
        if touched {
            shown.clone_from(next);
        } else {
            for (x, y, cell) in &updates {
                put(shown, None, *x, *y, cell);
            }
        }
        shown_prints.copy_from(next_prints);
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
        self.screens = Some(sc);
        Ok(())
    }

    fn append_lines(&mut self, n: u16) -> io::Result<()> {
        // Only inline viewports use this; the screen moved in a way the
        // model does not follow: pass frames through until a full clear.
        self.trusted = false;
        self.screens = None;
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
        self.screens = Some(self.blank_screens()?);
        self.trusted = true;
        Ok(())
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)?;
        if clear_type == ClearType::All {
            self.screens = Some(self.blank_screens()?);
            self.trusted = true;
        } else {
            // Partial clears depend on where the cursor is, which the
            // model does not follow: pass frames through until a full clear.
            self.screens = None;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pen(fg: Color, bg: Color, modifier: Modifier) -> Pen {
        Pen {
            fg,
            bg,
            underline: Color::Reset,
            modifier,
        }
    }

    fn sgr_text(from: Pen, to: Pen) -> String {
        let mut v = Vec::new();
        sgr(from, to, &mut v);
        String::from_utf8(v).expect("ascii")
    }

    #[test]
    fn sgr_writes_only_what_changed_in_one_sequence() {
        let plain = pen(Color::Rgb(212, 217, 225), Color::Reset, Modifier::empty());
        assert_eq!(sgr_text(Pen::RESET, plain), "\x1b[38;2;212;217;225m");
        assert_eq!(sgr_text(plain, plain), "");
        let bold = Pen {
            modifier: Modifier::BOLD,
            ..plain
        };
        assert_eq!(sgr_text(plain, bold), "\x1b[1m");
        // Turning bold off keeps dim: 22 clears both, so dim comes back.
        let both = Pen {
            modifier: Modifier::BOLD | Modifier::DIM,
            ..plain
        };
        let dim = Pen {
            modifier: Modifier::DIM,
            ..plain
        };
        assert_eq!(sgr_text(both, dim), "\x1b[22;2m");
        // Many attributes off at once: a reset is shorter.
        let many = pen(
            Color::Red,
            Color::Indexed(236),
            Modifier::BOLD | Modifier::ITALIC | Modifier::UNDERLINED | Modifier::REVERSED,
        );
        assert_eq!(sgr_text(many, plain), "\x1b[0;38;2;212;217;225m");
        // Named colours as crossterm writes them; the underline colour too.
        let under = Pen {
            underline: Color::Rgb(1, 2, 3),
            ..pen(Color::LightRed, Color::Reset, Modifier::UNDERLINED)
        };
        assert_eq!(sgr_text(Pen::RESET, under), "\x1b[4;38;5;9;58;2;1;2;3m");
        assert_eq!(
            sgr_text(under, Pen::RESET),
            "\x1b[0m",
            "back to reset is one parameter"
        );
    }

    #[test]
    fn cursor_moves_forward_on_a_row_and_jumps_elsewhere() {
        let moves = [
            (Some((10, 4)), 30, 4, "\x1b[20C"),
            (Some((10, 4)), 3, 4, "\x1b[7D"),
            (Some((10, 4)), 0, 4, "\r"),
            (Some((50, 4)), 2, 4, "\x1b[3G"),
            (Some((50, 4)), 1, 4, "\r\x1b[C"),
            (None, 30, 4, "\x1b[5;31H"),
            (Some((30, 3)), 30, 4, "\x1b[B"),
            (Some((31, 16)), 30, 14, "\x1b[2A\x1b[D"),
            (Some((33, 9)), 30, 4, "\x1b[5;31H"),
            (Some((10, 3)), 120, 30, "\x1b[31;121H"),
        ];
        for (from, x, y, want) in moves {
            let mut v = Vec::new();
            move_to(from, x, y, &mut v);
            assert_eq!(
                String::from_utf8(v).expect("ascii"),
                want,
                "{from:?} to ({x},{y})"
            );
        }
    }

    #[test]
    fn long_blank_runs_are_erased_and_short_ones_written() {
        let area = Rect::new(0, 0, 40, 2);
        let mut prev = Buffer::empty(area);
        prev.set_string(0, 0, "x".repeat(40), Style::default().fg(Color::Indexed(3)));
        prev.set_string(0, 1, "y".repeat(10), Style::default());
        let mut next = Buffer::empty(area);
        next.set_string(0, 0, "ab", Style::default());
        let cells: Vec<_> = prev.diff_iter(&next).collect();
        let mut v = Vec::new();
        encode_cells(&cells, 40, &mut v);
        let text = String::from_utf8(v.clone()).expect("utf-8");
        // 38 blanks on row 0 are erased; the 10 on row 1 are written.
        assert!(text.contains("\x1b[38X"), "{text:?}");
        assert!(text.contains(&" ".repeat(10)), "{text:?}");
        let mut parser = vt100::Parser::new(2, 40, 0);
        let mut first = Vec::new();
        encode_cells(
            &Buffer::empty(area).diff_iter(&prev).collect::<Vec<_>>(),
            40,
            &mut first,
        );
        parser.process(&first);
        parser.process(&v);
        assert_eq!(parser.screen().contents().trim_end(), "ab");
        assert_eq!(
            parser.screen().cell(0, 20).expect("cell").fgcolor(),
            vt100::Color::Default
        );
    }

    use ratatui::style::Style;
}
