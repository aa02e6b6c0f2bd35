//! Terminal fidelity (issue 13): the backend's bytes replayed into two
//! emulators with different width tables, and what a scroll writes again.
//!
//! `vt100` measures each code point on its own (wcwidth, like tmux, GNU
//! screen and xterm.js: `❤️` is one column, `👍🏽` four). [`Model`] is a
//! small emulator of the other kind (kitty, WezTerm, iTerm2, foot): it
//! measures each grapheme cluster, so an emoji presentation sequence, a
//! keycap, a skin-tone sequence or a flag is two columns. The rows must read
//! right in both.

use std::io::Write;
use std::sync::{Arc, Mutex};

use ratatui::backend::Backend;
use ratatui::buffer::{Buffer, CellWidth};
use ratatui::layout::{Rect, Size};
use ratatui::style::{Color, Modifier, Style};
use unicode_width::UnicodeWidthChar;

use super::ScrollBackend;
use crate::sanitize::clean_line;

#[derive(Clone, Default)]
pub(super) struct Shared(Arc<Mutex<Vec<u8>>>);

impl Shared {
    pub(super) fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().expect("lock"))
    }
}

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn is_skin_tone(c: char) -> bool {
    ('\u{1F3FB}'..='\u{1F3FF}').contains(&c)
}

fn is_regional(c: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

/// A test-only terminal that measures grapheme clusters: the escape
/// sequences the backend writes (cursor moves, scroll region, IL/DL, ECH,
/// EL, ED; colours are ignored) and text.
struct Model {
    w: usize,
    h: usize,
    /// `Some(grapheme)` or `None` for a column covered by the wide one
    /// before it.
    rows: Vec<Vec<Option<String>>>,
    x: usize,
    y: usize,
    top: usize,
    bottom: usize,
    pending_wrap: bool,
}

impl Model {
    fn new(w: u16, h: u16) -> Model {
        let (w, h) = (w as usize, h as usize);
        Model {
            w,
            h,
            rows: vec![Self::blank_row(w); h],
            x: 0,
            y: 0,
            top: 0,
            bottom: h - 1,
            pending_wrap: false,
        }
    }

    fn blank_row(w: usize) -> Vec<Option<String>> {
        vec![Some(" ".to_string()); w]
    }

    /// The cluster's width in this table.
    fn width_of(g: &str) -> usize {
        let mut chars = g.chars();
        let first = chars.next().expect("a grapheme");
        let rest: Vec<char> = chars.collect();
        let joined = rest
            .iter()
            .any(|&c| c == '\u{FE0F}' || c == '\u{20E3}' || c == '\u{200D}' || is_skin_tone(c))
            || (is_regional(first) && !rest.is_empty());
        if joined {
            2
        } else {
            first.width().unwrap_or(1)
        }
    }

    /// Blanks the whole of any wide cluster that column `x` of row `y` is part of.
    fn unsplit(&mut self, x: usize, y: usize) {
        let mut start = x;
        while start > 0 && self.rows[y][start].is_none() {
            start -= 1;
        }
        let width = self.rows[y][start]
            .as_deref()
            .map_or(1, Self::width_of)
            .max(1);
        if width > 1 {
            for c in start..(start + width).min(self.w) {
                self.rows[y][c] = Some(" ".to_string());
            }
        }
    }

    fn print(&mut self, g: String) {
        let width = Self::width_of(&g).max(1);
        if self.pending_wrap || self.x + width > self.w {
            self.x = 0;
            self.y = (self.y + 1).min(self.h - 1);
            self.pending_wrap = false;
        }
        let (x, y) = (self.x, self.y);
        for c in x..(x + width).min(self.w) {
            self.unsplit(c, y);
        }
        self.rows[y][x] = Some(g);
        for c in x + 1..(x + width).min(self.w) {
            self.rows[y][c] = None;
        }
        self.x += width;
        if self.x >= self.w {
            self.x = self.w - 1;
            self.pending_wrap = true;
        }
    }

    fn erase(&mut self, from: usize, to: usize) {
        let y = self.y;
        for c in from..to.min(self.w) {
            self.unsplit(c, y);
            self.rows[y][c] = Some(" ".to_string());
        }
    }

    fn csi(&mut self, params: &str, op: char) {
        if params.starts_with('?') {
            return;
        }
        let nums: Vec<usize> = params
            .split(';')
            .map(|p| p.parse::<usize>().unwrap_or(0))
            .collect();
        let n = nums.first().copied().unwrap_or(0).max(1);
        let p0 = nums.first().copied().unwrap_or(0);
        self.pending_wrap = false;
        match op {
            'H' | 'f' => {
                self.y = (n - 1).min(self.h - 1);
                self.x = (nums.get(1).copied().unwrap_or(1).max(1) - 1).min(self.w - 1);
            }
            'A' => self.y = self.y.saturating_sub(n),
            'B' => self.y = (self.y + n).min(self.h - 1),
            'C' => self.x = (self.x + n).min(self.w - 1),
            'D' => self.x = self.x.saturating_sub(n),
            'G' => self.x = (n - 1).min(self.w - 1),
            'r' => {
                let b = nums.get(1).copied().filter(|b| *b > 0).unwrap_or(self.h);
                self.top = n - 1;
                self.bottom = b - 1;
                self.x = 0;
                self.y = 0;
            }
            'L' | 'M' if (self.top..=self.bottom).contains(&self.y) => {
                for _ in 0..n {
                    if op == 'L' {
                        self.rows.remove(self.bottom);
                        self.rows.insert(self.y, Self::blank_row(self.w));
                    } else {
                        self.rows.remove(self.y);
                        self.rows.insert(self.bottom, Self::blank_row(self.w));
                    }
                }
                self.x = 0;
            }
            'X' => self.erase(self.x, self.x + n),
            'K' if p0 == 0 => self.erase(self.x, self.w),
            'J' if p0 == 2 => self.rows = vec![Self::blank_row(self.w); self.h],
            _ => {}
        }
    }

    fn process(&mut self, bytes: &[u8]) {
        let text = std::str::from_utf8(bytes).expect("frames are UTF-8");
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\x1b' => {
                    if chars.next() == Some('[') {
                        let mut params = String::new();
                        for p in chars.by_ref() {
                            if ('\x40'..='\x7e').contains(&p) {
                                self.csi(&params, p);
                                break;
                            }
                            params.push(p);
                        }
                    }
                }
                '\r' => {
                    self.x = 0;
                    self.pending_wrap = false;
                }
                // Line feed (the backend writes it after a carriage
                // return, never on the bottom row).
                '\n' => self.y = (self.y + 1).min(self.h - 1),
                c if c.is_control() => {}
                c => {
                    let mut g = c.to_string();
                    while let Some(&d) = chars.peek() {
                        let joins = d.width() == Some(0)
                            || is_skin_tone(d)
                            || (is_regional(c) && is_regional(d) && g.chars().count() == 1)
                            || g.ends_with('\u{200D}');
                        if !joins {
                            break;
                        }
                        g.push(d);
                        chars.next();
                    }
                    self.print(g);
                }
            }
        }
    }

    fn row_text(&self, y: usize) -> String {
        self.rows[y].iter().flatten().map(String::as_str).collect()
    }
}

/// Row `y` of the frame as it should read: each symbol once.
fn intended(buf: &Buffer, y: u16) -> String {
    let mut out = String::new();
    let mut x = 0;
    while x < buf.area.width {
        let s = buf[(x, y)].symbol();
        out.push_str(if s.is_empty() { " " } else { s });
        x += s.cell_width().max(1);
    }
    out
}

/// vt100 draws nothing for U+FFFD (its parser's stand-in for bad UTF-8),
/// not even a column; a terminal shows it one column wide. The sanitizer's
/// `�` reaches vt100 as `?` (and is expected as `?`).
const VT100_DROPS: char = '\u{FFFD}';
const VT100_SHOWS: &str = "?";

fn vt100_input(bytes: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(bytes)
        .replace(VT100_DROPS, VT100_SHOWS)
        .into_bytes()
}

/// Row `y` as vt100 shows it (covered columns skipped).
fn vt_row(p: &vt100::Parser, y: u16, w: u16) -> String {
    let s = p.screen();
    (0..w)
        .filter_map(|x| s.cell(y, x))
        .filter(|c| !c.is_wide_continuation())
        .map(|c| {
            if c.has_contents() {
                c.contents().to_string()
            } else {
                " ".to_string()
            }
        })
        .collect()
}

/// A row an emulator shows wrong: which emulator, the row, what it
/// shows, what it should.
type Wrong = (&'static str, u16, String, String);

/// A backend and both emulators reading its bytes.
struct TwoTerms {
    backend: ScrollBackend<Shared>,
    out: Shared,
    vt: vt100::Parser,
    model: Model,
    prev: Buffer,
}

impl TwoTerms {
    fn new(w: u16, h: u16) -> TwoTerms {
        let out = Shared::default();
        TwoTerms {
            backend: ScrollBackend::with_size(out.clone(), Size::new(w, h)),
            out,
            vt: vt100::Parser::new(h, w, 0),
            model: Model::new(w, h),
            prev: Buffer::empty(Rect::new(0, 0, w, h)),
        }
    }

    /// Draws `next`; its bytes, and the rows each emulator shows wrong
    /// (`(which, y, shown, intended)`).
    fn show(&mut self, next: &Buffer) -> (Vec<u8>, Vec<Wrong>) {
        self.backend.draw(self.prev.diff_iter(next)).expect("draw");
        Backend::flush(&mut self.backend).expect("flush");
        let bytes = self.out.take();
        self.vt.process(&vt100_input(&bytes));
        self.model.process(&bytes);
        self.prev = next.clone();
        let (w, h) = (next.area.width, next.area.height);
        let mut wrong = Vec::new();
        for y in 0..h {
            let want = intended(next, y);
            let vt = vt_row(&self.vt, y, w);
            if vt != want.replace(VT100_DROPS, VT100_SHOWS) {
                wrong.push(("vt100", y, vt, want.clone()));
            }
            let model = self.model.row_text(y as usize);
            if model != want {
                wrong.push(("grapheme model", y, model, want));
            }
        }
        (bytes, wrong)
    }
}

/// An inbox-like screen: a header, `rows` with the one at `cursor`
/// highlighted, a status line.
fn screen(w: u16, h: u16, rows: &[String], cursor: usize, status: &str) -> Buffer {
    let mut b = Buffer::empty(Rect::new(0, 0, w, h));
    b.set_string(0, 0, "leadx │ acme-web", Style::default());
    for (i, r) in rows.iter().enumerate() {
        let y = 1 + i as u16;
        if y + 1 >= h {
            break;
        }
        let style = if i == cursor {
            Style::default()
                .bg(Color::Indexed(236))
                .add_modifier(Modifier::BOLD)
        } else {
            // The colour goes with the row, as a referral's status does.
            let hue = r.bytes().map(usize::from).sum::<usize>() % 6;
            Style::default().fg(Color::Indexed(hue as u8 + 1))
        };
        b.set_style(Rect::new(0, y, w, 1), style);
        b.set_string(0, y, r, style);
    }
    b.set_string(0, h - 1, status, Style::default().fg(Color::Indexed(8)));
    b
}

fn row(n: usize, company: &str) -> String {
    format!("{n:>2}h  ○ pending  northwind-net  {company:<24} hosting  $12.0k")
}

/// Company names with every kind of emoji terminals measure differently.
const EMOJI_NAMES: [&str; 8] = [
    "\u{2764}\u{FE0F} Heart Co",
    "\u{2714}\u{FE0F} Checked Sys",
    "\u{26A0}\u{FE0F} Warning Labs",
    "1\u{FE0F}\u{20E3} First Bank",
    "\u{1F44D}\u{1F3FD}Thumbs Up Co",
    "\u{1F1F8}\u{1F1EA} Swedish AB",
    "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467} Family Inc",
    "\u{1F3F3}\u{FE0F}\u{200D}\u{1F308} Pride Ltd",
];

/// Frames like the inbox's: the list, the cursor moving down it, a new
/// lead scrolled in at the top, a name changing under the cursor.
fn frames(names: &[String]) -> Vec<Buffer> {
    let (w, h) = (80, 16);
    let rows: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, c)| row(i + 1, c))
        .collect();
    let mut out = Vec::new();
    for cursor in 0..3 {
        out.push(screen(w, h, &rows, cursor, "● live"));
    }
    let mut more = vec![row(0, &names[names.len() - 1])];
    more.extend(rows.iter().cloned());
    out.push(screen(w, h, &more, 3, "● live · last event 10:42"));
    more[4] = row(9, &names[0]);
    out.push(screen(w, h, &more, 4, "● live · last event 10:43"));
    out.push(screen(w, h, &rows, 0, "● live"));
    out
}

/// Item 1: the sanitizer gives every such emoji its plain form, so both
/// width tables agree and every row reads as intended after every frame.
#[test]
fn sanitized_emoji_rows_read_right_in_both_width_tables() {
    let names: Vec<String> = EMOJI_NAMES.iter().map(|n| clean_line(n)).collect();
    let mut t = TwoTerms::new(80, 16);
    for (i, f) in frames(&names).iter().enumerate() {
        let (_, wrong) = t.show(f);
        assert!(wrong.is_empty(), "frame {i}: {wrong:#?}");
    }
    assert!(t.backend.stats().scrolled >= 1, "a frame was scrolled");
}

/// The replay catches what the sanitizer prevents: raw, the same names
/// break rows in the code-point table (ratatui measures clusters, as the
/// model does), so the test above can fail.
#[test]
fn raw_emoji_rows_break_in_the_code_point_table() {
    let names: Vec<String> = EMOJI_NAMES.iter().map(|n| n.to_string()).collect();
    let mut t = TwoTerms::new(80, 16);
    let mut broken = Vec::new();
    for f in frames(&names) {
        broken.extend(t.show(&f).1);
    }
    assert!(
        broken.iter().any(|b| b.0 == "vt100"),
        "no row broken in vt100: {broken:#?}"
    );
}

/// Item 2: rows holding CJK names moved by the terminal's scrolling are
/// not written again; only the new row's cells are.
#[test]
fn a_scroll_writes_none_of_the_moved_wide_cells_again() {
    let names = [
        "東京の取引先",
        "大阪商事",
        "한국어 회사",
        "北京贸易",
        "株式会社山田",
        "名古屋物産",
        "서울 상사",
        "横浜倉庫",
    ];
    // 80x24: 21 rows of the list, all moved down by the new one.
    let rows: Vec<String> = (0..21)
        .map(|i| row(i + 1, &format!("{} {i}", names[i % names.len()])))
        .collect();
    let mut after = vec![row(0, "Newcomer Inc")];
    after.extend(rows.iter().cloned());
    let (w, h) = (80, 24);
    let a = screen(w, h, &rows, 99, "● live");
    let b = screen(w, h, &after, 99, "● live · last event 10:42");
    let mut t = TwoTerms::new(w, h);
    t.show(&a);
    let (bytes, wrong) = t.show(&b);
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(t.backend.stats().scrolled, 1, "the rows were scrolled");
    let text = String::from_utf8(bytes.clone()).expect("utf-8");
    let wide: Vec<char> = text.chars().filter(|c| c.width() == Some(2)).collect();
    assert!(wide.is_empty(), "moved wide cells written again: {wide:?}");
    println!("a scroll of 21 CJK rows at 80x24: {} bytes", bytes.len());
}

/// The two emulators do measure differently, so the replays above prove
/// the rows right in both width tables: raw, `❤️` takes one column in
/// vt100 and two in the model, `👍🏽` four and two.
#[test]
fn the_two_width_tables_disagree_on_the_raw_emoji() {
    let column_of_bar = |name: &str| {
        let bytes = format!("\x1b[1;1H{name}|");
        let mut vt = vt100::Parser::new(2, 40, 0);
        vt.process(bytes.as_bytes());
        let in_vt = (0..40u16)
            .find(|&x| vt.screen().cell(0, x).is_some_and(|c| c.contents() == "|"))
            .expect("vt100 shows the bar");
        let mut model = Model::new(40, 2);
        model.process(bytes.as_bytes());
        let in_model = model.rows[0]
            .iter()
            .position(|c| c.as_deref() == Some("|"))
            .expect("the model shows the bar");
        (in_vt as usize, in_model)
    };
    assert_eq!(column_of_bar("\u{2764}\u{FE0F}"), (1, 2));
    assert_eq!(column_of_bar("\u{1F44D}\u{1F3FD}"), (4, 2));
    assert_eq!(column_of_bar("1\u{FE0F}\u{20E3}"), (1, 2));
    // Where the tables agree: a CJK character is two columns in both.
    assert_eq!(column_of_bar("\u{6771}"), (2, 2));
}
