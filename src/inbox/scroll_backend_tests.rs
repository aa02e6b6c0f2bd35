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

#[test]
fn a_row_inserted_at_the_top_is_scrolled_in_for_far_fewer_bytes() {
    let (w, h) = (200, 20);
    let before: Vec<String> = (1..=16).map(lead).collect();
    let mut after = vec![lead(99)];
    after.extend(before.iter().take(15).cloned());
    let a = table(w, h, &before, "live · last event 10:42:06");
    let b = table(w, h, &after, "live · last event 10:42:07 · 1 new");

    let mut rig = Rig::new(w, h);
    rig.show(&a);
    let scrolled = rig.show(&b);
    let plain = plain_bytes(&a, &b);
    assert_eq!(rig.backend.stats().scrolled, 1);
    // The plain diff rewrites ~15 rows of ~120 characters; the scroll and
    // one new row cost a fraction of that.
    assert!(
        scrolled * 5 < plain && scrolled < 500,
        "scrolled {scrolled} B, plain {plain} B"
    );
}

#[test]
fn backends_of_different_sizes_drawing_in_turn_on_one_thread_keep_their_own_screens() {
    // They share the thread's scratch frame (as an SSH server's sessions
    // do): each must still draw exactly its own frames, moves included.
    let mut big = Rig::new(120, 20);
    let mut small = Rig::new(60, 10);
    let rows: Vec<String> = (1..=30).map(lead).collect();
    for k in 0..6 {
        let b = table(120, 20, &rows[k..], &format!("big {k}"));
        let s = table(60, 10, &rows[k * 2..], &format!("small {k}"));
        big.show(&b);
        small.show(&s);
    }
    assert!(big.backend.stats().scrolled > 0 && small.backend.stats().scrolled > 0);
}

#[test]
fn the_band_found_for_an_insert_is_the_table() {
    let (w, h) = (120, 20);
    let before: Vec<String> = (1..=16).map(lead).collect();
    let mut after = vec![lead(99)];
    after.extend(before.iter().take(15).cloned());
    let a = table(w, h, &before, "live");
    let b = table(w, h, &after, "live");
    let (_, shift) = plan(&a, &b).expect("plan");
    // Rows 2..=17 hold the table; the last row pushed out is not needed.
    let s = shift.expect("a shift");
    assert_eq!(s.by, 1);
    assert_eq!(s.top, 2);
    assert!(s.bottom == 17 || s.bottom == 18, "{s:?}");
}

#[test]
fn a_deleted_row_is_scrolled_out() {
    let (w, h) = (160, 20);
    let before: Vec<String> = (1..=16).map(lead).collect();
    let mut after = before.clone();
    after.remove(4);
    let a = table(w, h, &before, "live");
    let b = table(w, h, &after, "live · accepted");
    let mut rig = Rig::new(w, h);
    rig.show(&a);
    let bytes = rig.show(&b);
    let (_, shift) = plan(&a, &b).expect("plan");
    let s = shift.expect("a shift");
    assert_eq!((s.by, s.top), (-1, 6), "{s:?}");
    assert_eq!(rig.backend.stats().scrolled, 1);
    assert!(bytes * 4 < plain_bytes(&a, &b), "{bytes} B");
}

#[test]
fn a_shift_in_a_sub_band_leaves_the_rest_in_place() {
    // Rows 5..=12 move down by two; everything above and below stays.
    let (w, h) = (100, 20);
    let rows: Vec<String> = (1..=17).map(lead).collect();
    let mut moved = rows.clone();
    moved.insert(3, lead(200));
    moved.insert(3, lead(201));
    moved.truncate(11);
    moved.extend(rows[11..].iter().cloned());
    let a = table(w, h, &rows, "live");
    let b = table(w, h, &moved, "live");
    let (_, shift) = plan(&a, &b).expect("plan");
    let s = shift.expect("a shift");
    assert_eq!((s.by, s.top, s.bottom), (2, 5, 12), "{s:?}");
    let mut rig = Rig::new(w, h);
    rig.show(&a);
    let bytes = rig.show(&b);
    assert!(bytes * 2 < plain_bytes(&a, &b), "{bytes} B");
}

/// Side by side: a list on the left and `right(y)` on the right half.
fn side_by_side(rows: &[String], right: impl Fn(u16) -> String) -> Buffer {
    let (w, h) = (200, 30);
    let mut b = Buffer::empty(Rect::new(0, 0, w, h));
    for y in 0..h {
        if let Some(r) = rows.get(y as usize) {
            b.set_stringn(0, y, r, 99, row_style(r));
        }
        b.set_string(100, y, right(y), Style::default().fg(Color::Indexed(250)));
    }
    b
}

#[test]
fn side_by_side_with_a_dense_right_pane_is_not_scrolled_when_that_costs_more() {
    let rows: Vec<String> = (1..=20).map(|n| format!("{n:03} lead {n}")).collect();
    let mut after = vec!["000 the new lead".to_string()];
    after.extend(rows.iter().take(19).cloned());
    // The detail pane: long text, different in every column from one line
    // to the next, which stays put.
    let detail = |y: u16| {
        (0..95u16)
            .map(|i| char::from(b'a' + ((i * 7 + y * 13) % 26) as u8))
            .collect::<String>()
    };
    let a = side_by_side(&rows, detail);
    let b = side_by_side(&after, detail);
    let (_, shift) = plan(&a, &b).expect("plan");
    assert_eq!(shift, None, "scrolling would redraw the whole right pane");
    let mut rig = Rig::new(200, 30);
    rig.show(&a);
    let bytes = rig.show(&b);
    assert!(bytes <= plain_bytes(&a, &b));
    assert_eq!(rig.backend.stats().scrolled, 0);
}

#[test]
fn side_by_side_with_a_sparse_right_pane_is_scrolled_when_that_pays() {
    let rows: Vec<String> = (1..=20).map(lead).collect();
    let mut after = vec![lead(99)];
    after.extend(rows.iter().take(19).cloned());
    // A detail pane with a few short lines near the top only.
    let detail = |y: u16| {
        if y < 3 {
            format!("field {y}")
        } else {
            String::new()
        }
    };
    let a = side_by_side(&rows, detail);
    let b = side_by_side(&after, detail);
    let mut rig = Rig::new(200, 30);
    rig.show(&a);
    let bytes = rig.show(&b);
    assert_eq!(rig.backend.stats().scrolled, 1);
    assert!(bytes * 3 < plain_bytes(&a, &b), "{bytes} B");
}

#[test]
fn wide_symbols_move_with_their_rows() {
    let rows: Vec<String> = (1..=12)
        .map(|n| format!("{n:02} 東京の取引先 {n} — Ünïcödé ✓ 한국어 {n}"))
        .collect();
    let mut after = vec!["00 新しいリード 📈 arrives".to_string()];
    after.extend(rows.iter().take(11).cloned());
    let (w, h) = (60, 16);
    let a = table(w, h, &rows, "live");
    let b = table(w, h, &after, "live · 1 new");
    let mut rig = Rig::new(w, h);
    rig.show(&a);
    rig.show(&b);
    assert_eq!(rig.backend.stats().scrolled, 1);
    // And back up again, the new row removed.
    rig.show(&a);
    assert_eq!(rig.backend.stats().scrolled, 2);
}

#[test]
fn a_resize_and_a_clear_reset_the_model() {
    let rows: Vec<String> = (1..=10).map(lead).collect();
    let mut after = vec![lead(50)];
    after.extend(rows.iter().cloned());
    let mut rig = Rig::new(80, 14);
    rig.show(&table(80, 14, &rows, "live"));
    // Larger, then a shifted frame at the new size.
    rig.show(&table(100, 18, &rows, "live"));
    rig.show(&table(100, 18, &after, "live"));
    assert_eq!(rig.backend.stats().scrolled, 1);
    // Smaller.
    rig.show(&table(70, 15, &rows, "live"));

    // A full clear: the terminal is blank and so is the model.
    rig.backend.clear().expect("clear");
    let bytes = rig.out.take();
    rig.parser.process(&bytes);
    rig.prev = Buffer::empty(rig.prev.area);
    assert_screen(&rig.parser, &rig.prev);
    rig.show(&table(70, 15, &after, "live"));
}

#[test]
fn the_cursor_is_put_back_after_a_scroll_when_shown() {
    let rows: Vec<String> = (1..=16).map(lead).collect();
    let mut after = vec![lead(99)];
    after.extend(rows.iter().take(15).cloned());
    let a = table(200, 20, &rows, "filter: ");
    let b = table(200, 20, &after, "filter: ");
    let mut rig = Rig::new(200, 20);
    rig.show(&a);
    rig.backend.show_cursor().expect("show");
    rig.backend.set_cursor_position((8, 19)).expect("cursor");
    let bytes = rig.out.take();
    rig.parser.process(&bytes);
    // The diff is only the moved rows' new row: draw it and look where
    // the cursor ended.
    rig.backend.draw(a.diff_iter(&b)).expect("draw");
    let bytes = rig.out.take();
    rig.parser.process(&bytes);
    assert_eq!(rig.backend.stats().scrolled, 1);
    assert_screen(&rig.parser, &b);
    assert_eq!(rig.parser.screen().cursor_position(), (19, 8));
}

#[test]
fn through_ratatui_terminal_a_new_top_row_is_scrolled() {
    let out = Shared::default();
    let backend = ScrollBackend::with_size(out.clone(), Size::new(120, 20));
    let mut term = Terminal::new(backend).expect("terminal");
    let mut parser = vt100::Parser::new(20, 120, 0);
    let rows: Vec<String> = (1..=16).map(lead).collect();
    let mut after = vec![lead(99)];
    after.extend(rows.iter().take(15).cloned());
    let mut sizes = Vec::new();
    for frame in [
        table(120, 20, &rows, "live"),
        table(120, 20, &after, "live · 1 new"),
    ] {
        term.draw(|f| f.buffer_mut().clone_from(&frame))
            .expect("draw");
        let bytes = out.take();
        sizes.push(bytes.len());
        parser.process(&bytes);
        assert_screen(&parser, &frame);
    }
    assert_eq!(term.backend().stats().scrolled, 1);
    assert!(sizes[1] < 400, "{sizes:?}");
}

#[test]
fn a_narrow_symbol_over_half_a_wide_one_leaves_no_stray_colour() {
    let area = Rect::new(0, 0, 6, 1);
    let mut a = Buffer::empty(area);
    a.set_string(0, 0, "東京", Style::default());
    let mut b = Buffer::empty(area);
    b.set_string(0, 0, "x", Style::default().bg(Color::Indexed(236)));
    // ratatui's plain diff: the terminal erases the rest of 東 in the
    // current background, which the buffer does not have there.
    let mut plain = vt100::Parser::new(1, 6, 0);
    for (p, n) in [(&Buffer::empty(area), &a), (&a, &b)] {
        let mut v = Vec::new();
        CrosstermBackend::new(&mut v)
            .draw(p.diff_iter(n))
            .expect("encode");
        plain.process(&v);
    }
    assert_eq!(
        plain.screen().cell(0, 1).expect("cell").bgcolor(),
        vt100::Color::Idx(236)
    );
    // This backend rewrites that column.
    let mut rig = Rig::new(6, 1);
    rig.show(&a);
    rig.show(&b);
}

#[test]
fn no_candidates_when_nothing_moved() {
    let rows: Vec<String> = (1..=16).map(lead).collect();
    let a = table(120, 20, &rows, "live");
    let b = table(120, 20, &rows, "live · 10:42:07");
    assert!(candidates(&a, &b).is_empty());
    assert!(candidates(&a, &a).is_empty());
}

#[test]
fn shift_apply_matches_the_terminal_for_both_directions() {
    let rows: Vec<String> = (1..=8).map(|n| format!("row {n}")).collect();
    let a = table(20, 12, &rows, "s");
    for shift in [
        Shift {
            top: 2,
            bottom: 9,
            by: 3,
        },
        Shift {
            top: 0,
            bottom: 11,
            by: -2,
        },
        Shift {
            top: 4,
            bottom: 5,
            by: 1,
        },
    ] {
        let mut parser = vt100::Parser::new(12, 20, 0);
        let mut bytes = Vec::new();
        CrosstermBackend::new(&mut bytes)
            .draw(Buffer::empty(a.area).diff_iter(&a))
            .expect("encode");
        shift.encode(&mut bytes);
        parser.process(&bytes);
        let mut moved = a.clone();
        shift.apply(&mut moved);
        assert_screen(&parser, &moved);
    }
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

// ---- the inbox's own screens ---------------------------------------------

/// The real views, drawn through ratatui's `Terminal` over a
/// `ScrollBackend`, for random sequences of what happens in an inbox.
mod inbox_screens {
    use super::*;
    use crate::inbox::msg::{FeedMsg, Msg};
    use crate::inbox::state::State;
    use crate::inbox::testkit::{NOW, decided, key, loaded_sized, referral, sample, t};
    use crate::inbox::update::update;
    use crate::inbox::views::render;
    use crate::theme;
    use crate::wire::{Referral, Role, Status};

    #[derive(Debug, Clone)]
    enum Ev {
        Incoming(u8),
        Outgoing(u8),
        Down,
        Up,
        Decide(usize),
        Resize(usize),
    }

    fn ev() -> impl Strategy<Value = Ev> {
        prop_oneof![
            5 => any::<u8>().prop_map(Ev::Incoming),
            2 => any::<u8>().prop_map(Ev::Outgoing),
            2 => Just(Ev::Down),
            1 => Just(Ev::Up),
            2 => (0usize..40).prop_map(Ev::Decide),
            1 => (0usize..4).prop_map(Ev::Resize),
        ]
    }

    const SIZES: [(u16, u16); 4] = [(200, 30), (80, 24), (120, 40), (170, 20)];
    const COMPANIES: [&str; 6] = [
        "Bytecount Bakery",
        "東京 Trading KK",
        "Ünïcödé GmbH",
        "Fresh Lead Ltd",
        "한국 Logistics",
        "Northgate Coffee Roasters and Partners",
    ];

    struct Inbox {
        state: State,
        term: Terminal<ScrollBackend<Shared>>,
        out: Shared,
        parser: vt100::Parser,
        known: Vec<Referral>,
        seq: u64,
    }

    impl Inbox {
        fn new(size: (u16, u16)) -> Inbox {
            let state = loaded_sized(Role::Agent, sample(), size.0, size.1);
            let out = Shared::default();
            let backend = ScrollBackend::with_size(out.clone(), Size::new(size.0, size.1));
            Inbox {
                state,
                term: Terminal::new(backend).expect("terminal"),
                out,
                parser: vt100::Parser::new(size.1, size.0, 0),
                known: Vec::new(),
                seq: 1000,
            }
        }

        fn feed(&mut self, r: Referral) {
            self.seq += 1;
            update(
                &mut self.state,
                Msg::Feed(FeedMsg::Event {
                    seq: self.seq,
                    referral: Box::new(r),
                    at: t(NOW),
                }),
            );
        }

        fn apply(&mut self, e: &Ev) {
            match e {
                Ev::Incoming(s) | Ev::Outgoing(s) => {
                    let n = self.known.len();
                    let company = format!("{} {n}", COMPANIES[*s as usize % COMPANIES.len()]);
                    let (from, to) = if matches!(e, Ev::Incoming(_)) {
                        ("pixel-forge", "acme-web")
                    } else {
                        ("acme-web", "pixel-forge")
                    };
                    let r = referral(&format!("r_new{n}"), from, to, &company, 0);
                    self.known.push(r.clone());
                    self.feed(r);
                }
                Ev::Down => {
                    update(&mut self.state, key('j'));
                }
                Ev::Up => {
                    update(&mut self.state, key('k'));
                }
                Ev::Decide(i) => {
                    if !self.known.is_empty() {
                        let i = i % self.known.len();
                        let r = self.known[i].clone();
                        let next = decided(r, Status::Accepted, self.known[i].version + 1);
                        self.known[i] = next.clone();
                        self.feed(next);
                    }
                }
                Ev::Resize(i) => {
                    let (w, h) = SIZES[*i];
                    self.term.backend_mut().set_size(Size::new(w, h));
                    self.parser.screen_mut().set_size(h, w);
                    update(&mut self.state, Msg::Resize(w, h));
                }
            }
        }

        /// Draws the state; checks the emulator shows the frame. The bytes
        /// it took.
        fn draw(&mut self, theme: &theme::Theme) -> usize {
            let frame = {
                let done = self
                    .term
                    .draw(|f| render(&self.state, theme, f))
                    .expect("draw");
                done.buffer.clone()
            };
            let bytes = self.out.take();
            self.parser.process(&bytes);
            assert_screen(&self.parser, &frame);
            bytes.len()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

        /// New leads, decisions, cursor moves and resizes on the inbox's
        /// own screens: the terminal always shows the frame.
        #[test]
        fn the_inbox_screen_is_always_exact(
            size in 0usize..4,
            events in proptest::collection::vec(ev(), 1..30),
        ) {
            let theme = theme::builtin("default").expect("default theme");
            let mut inbox = Inbox::new(SIZES[size]);
            let _ = inbox.draw(&theme);
            for e in &events {
                inbox.apply(e);
                let _ = inbox.draw(&theme);
            }
        }
    }

    #[test]
    fn new_leads_in_a_short_list_are_scrolled_in() {
        let theme = theme::builtin("default").expect("default theme");
        for size in [(200, 30), (80, 24)] {
            let mut inbox = Inbox::new(size);
            let _ = inbox.draw(&theme);
            let mut bytes = Vec::new();
            for i in 0..4 {
                inbox.apply(&Ev::Incoming(i));
                bytes.push(inbox.draw(&theme));
            }
            let stats = inbox.term.backend().stats();
            assert_eq!(stats.scrolled, 4, "each new lead scrolls in: {size:?}");
            // Issue 3's target is 2 KB a lead; one pane at 80x24 needs far
            // less (about 0.4-0.5 KB; the plain diff took about 1.5 KB).
            let limit = if size.0 < 160 { 1024 } else { 2048 };
            assert!(bytes.iter().all(|b| *b <= limit), "{size:?}: {bytes:?}");
        }
    }
}

/// ratatui follows a VS16 emoji with a blank for its second column; written
/// after the emoji, that blank would erase it on terminals that draw it two
/// columns wide. It must go first.
#[test]
fn the_blank_after_a_vs16_emoji_is_written_before_the_emoji() {
    let area = Rect::new(0, 0, 10, 1);
    let mut prev = Buffer::empty(area);
    prev.set_string(0, 0, "abcdef", Style::default());
    let mut next = Buffer::empty(area);
    next.set_string(0, 0, "\u{2764}\u{fe0f}cdef", Style::default());
    let updates: Vec<_> = prev
        .diff(&next)
        .into_iter()
        .map(|(x, _, c)| (x, c.symbol().to_string()))
        .collect();
    // What ratatui asks for: the emoji at 0, then the blank at 1.
    assert_eq!(
        updates[0],
        (0, "\u{2764}\u{fe0f}".to_string()),
        "{updates:?}"
    );
    assert!(
        updates.iter().any(|(x, s)| *x == 1 && s == " "),
        "{updates:?}"
    );
    let (bytes, _) = plan(&prev, &next).expect("plan");
    let text = String::from_utf8_lossy(&bytes).to_string();
    let emoji = text.find('\u{2764}').expect("the emoji is written");
    let blank = text.find(' ').expect("the blank is written");
    assert!(blank < emoji, "blank after the emoji: {text:?}");
}
