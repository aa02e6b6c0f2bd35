//! Erasing a changed span of a row before writing it (issue 13, item 4).
//!
//! When the cursor leaves a row or comes to it, every cell of the row
//! changes its background, blanks included: the table's gaps between
//! columns are written as spaces or crossed by cursor moves, a few bytes
//! each. Erasing the row's changed span first (`CSI n X`, in the blanks'
//! background) puts every blank right at once, and only the text is
//! written after it. [`erase_first`] finds such spans; the encoder tries
//! the frame both ways and keeps the shorter.

use ratatui::buffer::{Cell, CellWidth};
use ratatui::style::Color;

use super::encode::{ERASE_MIN, Pen, erasable};

/// Erased blanks between two writes are skipped (a cursor move, 3–4
/// bytes) from this many on, and written (a byte each) below it.
const SKIP_MIN: usize = 4;

/// A span of a row to erase in one background: row, first column,
/// columns, background.
pub(super) type Span = (u16, u16, u16, Color);

/// Cells to write: column, row, cell.
type Cells<'a> = Vec<(u16, u16, &'a Cell)>;

/// The spans worth erasing in `cells` (x, y, cell, row by row as the
/// diff gives them) and the cells left to write after them: each run of
/// at least [`ERASE_MIN`] consecutive cells of one row, erased in the
/// background most of its erasable blanks have; those blanks are not
/// written (but for short gaps, [`SKIP_MIN`]). `None` when no run has such blanks, or a cell is wide (an
/// erase next to a wide symbol is left to the plain encodings).
pub(super) fn erase_first<'a>(
    cells: &[(u16, u16, &'a Cell)],
    bce: bool,
) -> Option<(Vec<Span>, Cells<'a>)> {
    if cells.iter().any(|(_, _, c)| c.symbol().cell_width() != 1) {
        return None;
    }
    let mut spans = Vec::new();
    let mut rest = Vec::with_capacity(cells.len());
    let mut i = 0;
    while i < cells.len() {
        let (x0, y, _) = cells[i];
        let len = cells[i..]
            .iter()
            .enumerate()
            .take_while(|(k, (x, cy, _))| *cy == y && usize::from(*x) == usize::from(x0) + k)
            .count();
        let run = &cells[i..i + len];
        i += len;
        let bg = (len >= ERASE_MIN)
            .then(|| most_erased_background(run, bce))
            .flatten();
        let Some(bg) = bg else {
            rest.extend_from_slice(run);
            continue;
        };
        spans.push((y, x0, len as u16, bg));
        // The erased blanks are not written again, except a short gap
        // between two writes in the gap's own style: a blank or two
        // costs less than the cursor move over them, in either order.
        let erased = |k: usize| erasable(run[k].2, bce) && run[k].2.bg == bg;
        let pen = |k: usize| Pen::of(run[k].2);
        let mut k = 0;
        while k < len {
            let n = (k..len).take_while(|j| erased(*j)).count();
            if n == 0 {
                rest.push(run[k]);
                k += 1;
                continue;
            }
            let bridged = k > 0 && k + n < len && (k - 1..=k + n).all(|j| pen(j) == pen(k));
            if n < SKIP_MIN && bridged {
                rest.extend_from_slice(&run[k..k + n]);
            }
            k += n;
        }
    }
    (!spans.is_empty()).then_some((spans, rest))
}

/// The background most of `run`'s erasable blanks have, when at least
/// a few of them do.
fn most_erased_background(run: &[(u16, u16, &Cell)], bce: bool) -> Option<Color> {
    let mut counts: Vec<(Color, usize)> = Vec::new();
    for (_, _, c) in run.iter().filter(|(_, _, c)| erasable(c, bce)) {
        match counts.iter_mut().find(|(bg, _)| *bg == c.bg) {
            Some((_, n)) => *n += 1,
            None => counts.push((c.bg, 1)),
        }
    }
    // An erase costs about what writing four blanks does.
    counts
        .into_iter()
        .filter(|(_, n)| *n >= 4)
        .max_by_key(|(_, n)| *n)
        .map(|(bg, _)| bg)
}

/// One blank cell of each span's background, to encode the erase with:
/// the encoder erases a run of [`ERASE_MIN`] or more such cells.
pub(super) fn blank_cells(spans: &[Span]) -> Vec<Cell> {
    spans
        .iter()
        .map(|(_, _, _, bg)| {
            let mut c = Cell::EMPTY;
            c.bg = *bg;
            c
        })
        .collect()
}

/// The cells that make the encoder erase `spans` (`blanks` from
/// [`blank_cells`]), in order.
pub(super) fn span_cells<'a>(spans: &[Span], blanks: &'a [Cell]) -> Cells<'a> {
    spans
        .iter()
        .zip(blanks)
        .flat_map(|((y, x0, len, _), b)| (*x0..*x0 + *len).map(move |x| (x, *y, b)))
        .collect()
}
