//! The compact cell encoder: one SGR change per style change, short
//! cursor moves, erased blank runs.

use std::io::Write;

use ratatui::backend::IntoCrossterm;
use ratatui::buffer::{Buffer, Cell, CellDiffOption, CellWidth};
use ratatui::crossterm::style::{Color as CrosstermColor, Colored};
use ratatui::style::{Color, Modifier};

use super::erase_first::{blank_cells, erase_first, span_cells};

/// The shortest of [`encode_cells`] in the diff's order (row by row) and
/// in [`by_style`] order, each also after erasing the changed spans of
/// rows first ([`erase_first`]).
pub(super) fn encode_best(cells: &[(u16, u16, &Cell)], width: u16, bce: bool, out: &mut Vec<u8>) {
    let reordered = trailing_first(cells);
    let cells = reordered.as_deref().unwrap_or(cells);
    let start = out.len();
    encode_cells(cells, width, bce, out);
    let mut keep_shorter = |order: &[(u16, u16, &Cell)]| {
        let mut other = Vec::with_capacity(out.len() - start);
        encode_cells(order, width, bce, &mut other);
        if other.len() < out.len() - start {
            out.truncate(start);
            out.extend_from_slice(&other);
        }
    };
    if let Some(grouped) = by_style(cells) {
        keep_shorter(&grouped);
    }
    // Where the terminal erases with the current background, erasing
    // only the blanks on the default one may still be the shorter.
    let erases: &[bool] = if bce { &[true, false] } else { &[false] };
    for &on_colour in erases {
        if let Some((spans, rest)) = erase_first(cells, on_colour) {
            let blanks = blank_cells(&spans);
            let erase = span_cells(&spans, &blanks);
            keep_shorter(&[erase.as_slice(), &rest].concat());
            if let Some(grouped) = by_style(&rest) {
                keep_shorter(&[erase.as_slice(), &grouped].concat());
            }
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
/// (row by row), one style after another: one colour change per style
/// instead of one per run, for a cursor move per run. The styles go in
/// the order whose changes are shortest, each chosen nearest to the one
/// before (a cursor row's styles differ from the plain rows' by the
/// background alone: `CSI 48;2;r;g;b m` rather than every colour again). `None` when a cell is wide or there are not two
/// styles: only narrow cells may be written in any order (a write that
/// splits a wide symbol on screen is paired with a rewrite of the
/// symbol's other column, `plan::repair_wide`, so both end right whatever
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
    let rank = nearest_order(&styles);
    keyed.sort_by_key(|(k, i, _)| (rank[*k], *i));
    Some(keyed.into_iter().map(|(_, _, c)| c).collect())
}

/// The rank of each of `styles` in the order that starts from a reset
/// terminal and goes each time to the style whose change from the one
/// before is shortest (the first met on a tie).
fn nearest_order(styles: &[Pen]) -> Vec<usize> {
    let cost = |from: Pen, to: Pen| {
        let mut v = Vec::new();
        sgr(from, to, &mut v);
        v.len()
    };
    let mut rank = vec![usize::MAX; styles.len()];
    let mut pen = Pen::RESET;
    for r in 0..styles.len() {
        let next = (0..styles.len())
            .filter(|k| rank[*k] == usize::MAX)
            .min_by_key(|k| (cost(pen, styles[*k]), *k))
            .expect("a style not yet ranked");
        rank[next] = r;
        pen = styles[next];
    }
    rank
}

/// The terminal's colours and attributes (SGR state) while encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pen {
    fg: Color,
    bg: Color,
    underline: Color,
    modifier: Modifier,
}

impl Pen {
    /// After `CSI 0 m`: what ratatui assumes between frames.
    pub(super) const RESET: Pen = Pen {
        fg: Color::Reset,
        bg: Color::Reset,
        underline: Color::Reset,
        modifier: Modifier::empty(),
    };

    pub(super) fn of(c: &Cell) -> Pen {
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
    let mut relative = vertical + &horizontal;
    if y == cy + 1 && x == 0 {
        // Carriage return and line feed: the line below is on screen and
        // no scroll region is set, so the feed does not scroll; after the
        // return a terminal that adds one to the feed (ONLCR) lands alike.
        relative = "\r\n".to_string();
    }
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
pub(super) const ERASE_MIN: usize = 16;

/// Attributes that show on a blank cell.
const VISIBLE_ON_BLANK: Modifier = Modifier::REVERSED
    .union(Modifier::UNDERLINED)
    .union(Modifier::SLOW_BLINK)
    .union(Modifier::RAPID_BLINK)
    .union(Modifier::CROSSED_OUT);

/// A cell `CSI n X` shows exactly: a blank on the default background (any
/// background on a terminal that erases with the current one, `bce`) with
/// no attribute that shows on a blank. Its foreground colour (and bold,
/// dim, italic) cannot be seen, and terminals differ in what they erase
/// to (tmux keeps no foreground, vt100 the current one). The model keeps
/// the frame's cell; a later frame that makes the difference visible
/// changes the cell, so the diff writes it.
pub(super) fn erasable(c: &Cell, bce: bool) -> bool {
    c.symbol() == " "
        && (bce || c.bg == Color::Reset)
        && !c.modifier.intersects(VISIBLE_ON_BLANK)
        && c.diff_option == CellDiffOption::None
}

/// Whether the terminal shows `a` and `b` alike: both blank on the same
/// background, with no attribute that shows on a blank (a blank's
/// foreground, bold, dim and italic cannot be seen). Writing `b` over
/// `a` changes nothing on screen, so it is not written; the model keeps
/// `b`, as after an erase ([`erasable`]), and a later frame that makes a
/// difference visible changes the cell, so the diff writes it. The rows
/// a scroll brings in blank are the common case: a table row's gaps in
/// the row's colour need no writing there.
pub(super) fn looks_same(a: &Cell, b: &Cell) -> bool {
    let blank = |c: &Cell| {
        c.symbol() == " "
            && !c.modifier.intersects(VISIBLE_ON_BLANK)
            && c.diff_option == CellDiffOption::None
    };
    blank(a) && blank(b) && a.bg == b.bg
}

/// Encodes `cells` (x, y, cell; as ratatui's diff gives them): cursor moves
/// only where a cell does not follow the one before, one SGR sequence per
/// change of colours or attributes (only what changed), long runs of blank
/// cells erased, and the attributes reset at the end (ratatui assumes a
/// reset terminal between frames). With `bce` the terminal erases with the
/// current background (xterm, tmux, VTE, kitty, the Linux console; not GNU
/// screen unless `defbce on`), so a long run of blanks on a coloured
/// background (the cursor row, the status and hint bars) is erased too.
fn encode_cells(cells: &[(u16, u16, &Cell)], width: u16, bce: bool, out: &mut Vec<u8>) {
    let mut pen = Pen::RESET;
    let mut cursor: Option<(u16, u16)> = None;
    // The row the cursor is on when only its column is unknown: after
    // the last column (a wrap pending), which a carriage return ends.
    let mut row: Option<u16> = None;
    let mut i = 0;
    while i < cells.len() {
        let (x, y, cell) = cells[i];
        if cursor != Some((x, y)) {
            match (cursor, row) {
                (None, Some(r)) => {
                    let mut jump = Vec::new();
                    move_to(None, x, y, &mut jump);
                    let mut ret = b"\r".to_vec();
                    move_to(Some((0, r)), x, y, &mut ret);
                    out.extend_from_slice(if ret.len() < jump.len() { &ret } else { &jump });
                }
                _ => move_to(cursor, x, y, out),
            }
        }
        row = None;
        if erasable(cell, bce) {
            let run = cells[i..]
                .iter()
                .enumerate()
                .take_while(|(k, (cx, cy, c))| {
                    *cy == y
                        && usize::from(*cx) == usize::from(x) + k
                        && erasable(c, bce)
                        && c.bg == cell.bg
                })
                .count();
            if run >= ERASE_MIN {
                // Only the background and the attributes that show on a
                // blank matter to the erase.
                let to = Pen {
                    bg: cell.bg,
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
        let narrow = cell.symbol().cell_width() == 1;
        cursor = (narrow && x + 1 < width).then_some((x + 1, y));
        row = (narrow && x + 1 == width).then_some(y);
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
pub(super) fn bridged<'a>(
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
        encode_cells(&cells, 40, false, &mut v);
        let text = String::from_utf8(v.clone()).expect("utf-8");
        // 38 blanks on row 0 are erased; the 10 on row 1 are written.
        assert!(text.contains("\x1b[38X"), "{text:?}");
        assert!(text.contains(&" ".repeat(10)), "{text:?}");
        let mut parser = vt100::Parser::new(2, 40, 0);
        let mut first = Vec::new();
        encode_cells(
            &Buffer::empty(area).diff_iter(&prev).collect::<Vec<_>>(),
            40,
            false,
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

    use ratatui::layout::Rect;
    use ratatui::style::Style;
}
