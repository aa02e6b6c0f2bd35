//! Tests of [`ScrollBackend`]: every frame's bytes are fed to a terminal
//! emulator (`vt100`) and its screen must equal the frame, cell by cell;
//! frames with shifted rows must cost fewer bytes than the plain diff, and
//! no frame may cost more.

use std::io::Write;
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::buffer::{Buffer, CellWidth};
use ratatui::layout::{Rect, Size};
use ratatui::style::{Color, Modifier, Style};

use super::scroll_backend::{ScrollBackend, Shift, candidates, plan};

mod inbox_screens;
mod scrolling;
mod wide_symbols;

/// A writer whose bytes the test can read while the backend owns it.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Shared {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().expect("bytes"))
    }
}

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("bytes").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn vt_color(c: Color) -> vt100::Color {
    match c {
        Color::Reset => vt100::Color::Default,
        Color::Indexed(i) => vt100::Color::Idx(i),
        Color::Rgb(r, g, b) => vt100::Color::Rgb(r, g, b),
        // The sixteen named colours are written as `38;5;N` (crossterm).
        named => {
            let order = super::scroll_backend::NAMED_COLORS;
            let i = order
                .iter()
                .position(|c| *c == named)
                .expect("a named colour");
            vt100::Color::Idx(i as u8)
        }
    }
}

/// The emulator's screen equals `want`: symbols, colours, attributes and
/// the columns wide symbols cover.
pub(super) fn assert_screen(parser: &vt100::Parser, want: &Buffer) {
    let screen = parser.screen();
    assert_eq!(
        screen.size(),
        (want.area.height, want.area.width),
        "screen size"
    );
    for y in 0..want.area.height {
        let mut covered = 0u16;
        for x in 0..want.area.width {
            let vt = screen.cell(y, x).expect("cell in screen");
            if covered > 0 {
                covered -= 1;
                assert!(
                    vt.is_wide_continuation(),
                    "({x},{y}) should be covered by a wide symbol; screen:\n{}",
                    screen.contents()
                );
                continue;
            }
            let cell = &want[(x, y)];
            let width = cell.symbol().cell_width();
            covered = width.saturating_sub(1);
            let norm = |s: &str| {
                if s.is_empty() {
                    " ".to_string()
                } else {
                    s.to_string()
                }
            };
            assert_eq!(
                norm(vt.contents()),
                norm(cell.symbol()),
                "symbol at ({x},{y}); screen:\n{}\nwant:\n{want:?}",
                screen.contents()
            );
            // On a blank cell that is neither reversed nor underlined the
            // foreground, bold, dim and italic do not show, and terminals
            // differ in what they keep there after an erase: not compared.
            let m = cell.modifier;
            let blank =
                cell.symbol() == " " && !m.intersects(Modifier::REVERSED | Modifier::UNDERLINED);
            if !blank {
                assert_eq!(vt.fgcolor(), vt_color(cell.fg), "fg at ({x},{y})");
                assert_eq!(vt.bold(), m.contains(Modifier::BOLD), "bold at ({x},{y})");
                assert_eq!(vt.dim(), m.contains(Modifier::DIM), "dim at ({x},{y})");
                assert_eq!(
                    vt.italic(),
                    m.contains(Modifier::ITALIC),
                    "italic at ({x},{y})"
                );
            }
            assert_eq!(vt.bgcolor(), vt_color(cell.bg), "bg at ({x},{y})");
            assert_eq!(
                vt.underline(),
                m.contains(Modifier::UNDERLINED),
                "underline at ({x},{y})"
            );
            assert_eq!(
                vt.inverse(),
                m.contains(Modifier::REVERSED),
                "inverse at ({x},{y})"
            );
        }
    }
}

/// A `ScrollBackend` driven the way ratatui's `Terminal` drives it
/// (diff against the previous frame), and an emulator reading its bytes.
struct Rig {
    backend: ScrollBackend<Shared>,
    out: Shared,
    parser: vt100::Parser,
    prev: Buffer,
}

impl Rig {
    fn new(width: u16, height: u16) -> Rig {
        let out = Shared::default();
        Rig {
            backend: ScrollBackend::with_size(out.clone(), Size::new(width, height)),
            out,
            parser: vt100::Parser::new(height, width, 0),
            prev: Buffer::empty(Rect::new(0, 0, width, height)),
        }
    }

    /// Shows `next`; the bytes it cost. Checks the screen.
    fn show(&mut self, next: &Buffer) -> usize {
        if next.area != self.prev.area {
            // What ratatui does on a resize: clear, then diff from blank.
            let size = Size::new(next.area.width, next.area.height);
            self.backend.set_size(size);
            self.parser.screen_mut().set_size(size.height, size.width);
            self.backend
                .clear_region(ratatui::backend::ClearType::All)
                .expect("clear");
            self.prev = Buffer::empty(next.area);
        }
        self.backend.draw(self.prev.diff_iter(next)).expect("draw");
        Backend::flush(&mut self.backend).expect("flush");
        let bytes = self.out.take();
        self.parser.process(&bytes);
        assert_screen(&self.parser, next);
        self.prev = next.clone();
        bytes.len()
    }
}

/// The bytes a plain `CrosstermBackend` writes for `prev` → `next`.
fn plain_bytes(prev: &Buffer, next: &Buffer) -> usize {
    let mut v = Vec::new();
    CrosstermBackend::new(&mut v)
        .draw(prev.diff_iter(next))
        .expect("encode");
    v.len()
}

fn style(i: usize) -> Style {
    match i % 8 {
        0 => Style::default(),
        1 => Style::default().fg(Color::Indexed(33)),
        2 => Style::default()
            .fg(Color::Rgb(200, 120, 40))
            .add_modifier(Modifier::BOLD),
        3 => Style::default().bg(Color::Indexed(236)),
        4 => Style::default()
            .fg(Color::Red)
            .add_modifier(Modifier::DIM | Modifier::ITALIC),
        5 => Style::default()
            .fg(Color::LightCyan)
            .bg(Color::Blue)
            .add_modifier(Modifier::DIM | Modifier::UNDERLINED),
        // (No underline colour: vt100 reads `58;2;r;g;b` as separate
        // attributes. Bold and dim are one setting in vt100.)
        6 => Style::default().add_modifier(Modifier::REVERSED | Modifier::CROSSED_OUT),
        _ => Style::default()
            .fg(Color::Rgb(212, 217, 225))
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
    }
}

/// A screen like the inbox's: a header, a table of `rows` (one per line
/// from line 2), a status line at the bottom.
fn table(width: u16, height: u16, rows: &[String], status: &str) -> Buffer {
    let mut b = Buffer::empty(Rect::new(0, 0, width, height));
    b.set_string(0, 0, "acme-web · Sam Ortiz · agent", Style::default());
    b.set_string(0, 1, "  Incoming", Style::default().fg(Color::Indexed(3)));
    for (i, r) in rows.iter().enumerate() {
        let y = 2 + i as u16;
        if y + 1 >= height {
            break;
        }
        // A row's style goes with its content, as a referral's status does.
        b.set_string(0, y, r, row_style(r));
    }
    b.set_string(
        0,
        height - 1,
        status,
        Style::default().fg(Color::Indexed(8)),
    );
    b
}

fn row_style(r: &str) -> Style {
    style(r.bytes().map(usize::from).sum())
}

fn lead(n: usize) -> String {
    format!(
        "01JD{n:04}  Bytecount Bakery {n:<4} hosting  US-West  $12,500  10%  pending  47h left  \
         Elena Novak <e***@bytecount.example>"
    )
}

/// Resolves overlaps the way a terminal would: a wide symbol whose second
/// column was written over afterwards is gone (a blank in its style), so
/// the buffer describes a screen a terminal can show.
fn well_formed(buf: &mut Buffer) {
    let area = buf.area;
    for y in 0..area.height {
        let mut x = 0;
        while x < area.width {
            let w = buf[(x, y)].symbol().cell_width();
            if w > 1 {
                let fits = x + w <= area.width;
                let covered_blank =
                    fits && (1..w).all(|d| buf[(x + d, y)] == ratatui::buffer::Cell::EMPTY);
                if !covered_blank {
                    buf[(x, y)].set_symbol(" ");
                    x += 1;
                    continue;
                }
                x += w;
            } else {
                x += 1;
            }
        }
    }
}

// ---- random frame sequences ------------------------------------------

/// What happens between two frames.
#[derive(Debug, Clone)]
enum Step {
    Insert(usize, u8),
    Delete(usize),
    Edit(usize, u8),
    Status(u8),
    Side(u8),
    Resize(u16, u16),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0usize..20, any::<u8>()).prop_map(|(p, s)| Step::Insert(p, s)),
        3 => (0usize..20).prop_map(Step::Delete),
        2 => (0usize..20, any::<u8>()).prop_map(|(p, s)| Step::Edit(p, s)),
        1 => any::<u8>().prop_map(Step::Status),
        1 => any::<u8>().prop_map(Step::Side),
        1 => (6u16..40, 3u16..16).prop_map(|(w, h)| Step::Resize(w, h)),
    ]
}

const ASCII: [&str; 8] = ["lead", "Acme", "Unit", "x", "accepted", "a", "wide", "-"];

const WORDS: [&str; 8] = [
    "lead",
    "東京",
    "Ünï",
    "📈",
    "accepted",
    "a",
    "ｗｉｄｅ",
    "—",
];

fn text(seed: u8, words: &[&str]) -> String {
    let n = 1 + seed as usize % 5;
    (0..n)
        .map(|i| words[(seed as usize + i * 3) % words.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

/// A frame: the rows from line 1 (styled by their seed), a status line,
/// and text on the right third of some lines (a "detail pane").
fn frame(w: u16, h: u16, rows: &[u8], status: u8, side: u8, words: &[&str]) -> Buffer {
    let mut b = Buffer::empty(Rect::new(0, 0, w, h));
    b.set_stringn(
        0,
        0,
        format!("hdr {}", status % 3),
        w as usize,
        Style::default(),
    );
    let split = w * 2 / 3;
    for (i, seed) in rows.iter().enumerate() {
        let y = 1 + i as u16;
        if y + 1 >= h {
            break;
        }
        b.set_stringn(
            0,
            y,
            text(*seed, words),
            split as usize,
            style(*seed as usize),
        );
    }
    if !side.is_multiple_of(3) {
        for y in 1..h.saturating_sub(1) {
            if (y as u8).wrapping_add(side).is_multiple_of(3) {
                b.set_stringn(
                    split,
                    y,
                    text(side ^ y as u8, words),
                    (w - split) as usize,
                    style(y as usize),
                );
            }
        }
    }
    b.set_stringn(
        0,
        h - 1,
        text(status, words),
        w as usize,
        style(status as usize),
    );
    b
}

/// Plays `steps` from `start`; each frame's screen is checked by the rig.
/// The bytes of each frame and of the plain diff, for frames of one size.
fn play(start: Vec<u8>, steps: Vec<Step>, words: &[&str]) -> (Vec<(usize, usize)>, u64) {
    let (mut w, mut h) = (30u16, 12u16);
    let mut rows = start;
    let (mut status, mut side) = (0u8, 0u8);
    let mut rig = Rig::new(w, h);
    let mut prev = frame(w, h, &rows, status, side, words);
    rig.show(&prev);
    let mut costs = Vec::new();
    for s in steps {
        match s {
            Step::Insert(p, seed) => rows.insert(p.min(rows.len()), seed),
            Step::Delete(p) => {
                if !rows.is_empty() {
                    rows.remove(p % rows.len());
                }
            }
            Step::Edit(p, seed) => {
                if !rows.is_empty() {
                    let n = rows.len();
                    rows[p % n] = seed;
                }
            }
            Step::Status(v) => status = v,
            Step::Side(v) => side = v,
            Step::Resize(nw, nh) => {
                w = nw;
                h = nh;
            }
        }
        let next = frame(w, h, &rows, status, side, words);
        let same_size = next.area == prev.area;
        let plain = plain_bytes(if same_size { &prev } else { &next }, &next);
        let bytes = rig.show(&next);
        if same_size {
            costs.push((bytes, plain));
        }
        prev = next;
    }
    (costs, rig.backend.stats().scrolled)
}

#[test]
fn a_played_sequence_of_inserts_and_deletes_scrolls() {
    let steps: Vec<Step> = (0..6)
        .map(|i| Step::Insert(0, 40 + i))
        .chain((0..4).map(|_| Step::Delete(1)))
        .collect();
    let start: Vec<u8> = (0..10).map(|i| i * 7).collect();
    let (costs, scrolled) = play(start, steps, &ASCII);
    assert_eq!(scrolled, 10, "every one of the 10 steps scrolls");
    let (bytes, plain) = costs.iter().fold((0, 0), |(b, p), (x, y)| (b + x, p + y));
    assert!(bytes * 2 < plain, "{bytes} B vs plain {plain} B");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// The key guarantee: whatever the frames, the terminal shows the last
    /// one (checked in `Rig::show`), and no frame costs more bytes than
    /// the plain diff.
    #[test]
    fn the_screen_always_equals_the_last_frame(
        start in proptest::collection::vec(any::<u8>(), 0..14),
        steps in proptest::collection::vec(step(), 1..25),
    ) {
        for (bytes, plain) in play(start, steps, &ASCII).0 {
            prop_assert!(bytes <= plain, "{bytes} B > plain {plain} B");
        }
    }

    /// With wide symbols too the screen is exact. (A frame may cost a few
    /// bytes more than the plain diff here: the columns of a wide symbol
    /// the plain diff leaves erased in the wrong colours are rewritten.)
    #[test]
    fn the_screen_always_equals_the_last_frame_with_wide_symbols(
        start in proptest::collection::vec(any::<u8>(), 0..14),
        steps in proptest::collection::vec(step(), 1..25),
    ) {
        play(start, steps, &WORDS);
    }

    /// Arbitrary cells (not only whole rows moving): still exact.
    #[test]
    fn arbitrary_cell_changes_stay_exact(
        frames in proptest::collection::vec(
            proptest::collection::vec((0u16..16, 0u16..8, 0usize..WORDS.len(), 0usize..4), 0..30),
            1..8,
        ),
        shifts in proptest::collection::vec((-3i16..=3, 0u16..8), 8),
    ) {
        let area = Rect::new(0, 0, 16, 8);
        let mut rig = Rig::new(16, 8);
        let mut cur = Buffer::empty(area);
        for (i, edits) in frames.into_iter().enumerate() {
            // Move some rows of the previous frame, then scribble on it.
            let (by, top) = shifts[i];
            if by != 0 && top + by.unsigned_abs() < 7 {
                Shift { top, bottom: 7, by }.apply(&mut cur);
            }
            for (x, y, word, st) in edits {
                cur.set_stringn(x, y, WORDS[word], (16 - x) as usize, style(st));
            }
            well_formed(&mut cur);
            rig.show(&cur);
        }
    }
}
