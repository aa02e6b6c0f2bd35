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
//! last wrote, with 64-bit fingerprints of its cells; each `draw` makes
//! the frame being drawn (that screen plus ratatui's updates) in a
//! per-thread scratch copy and swaps it in once written. On each `draw` it
//! looks for the band of rows that moved up or down by a few lines and
//! saves the most (estimated bytes), encodes the frame both as the plain
//! diff and as that move plus the diff left after it, and writes the
//! shorter: scrolling never makes a frame dearer. Scroll regions span the
//! full width (left/right margins are not portable: tmux lacks them), so in
//! a side-by-side layout the other pane's rows move too and are redrawn;
//! the byte comparison decides whether that pays.
//!
//! Cells are written by `encode::encode_cells`'s compact encoder rather than
//! crossterm's: one SGR sequence per change with only what changed,
//! relative cursor moves when shorter, `CSI n X` for long blank runs, a
//! single reset at the end; each encoding is made row by row and grouped by
//! style, and the shorter kept. A write that would split a wide symbol on screen also
//! rewrites the symbol's other column (`plan::repair_wide`).
//!
//! ratatui's own `Terminal` diffing is untouched: its previous buffer and
//! the shown screen hold the same cells (both start blank and change by the
//! same updates; `clear` and resizes reset both), and its updates are the
//! plain diff.

mod encode;
mod erase_first;
#[cfg(test)]
mod fidelity_tests;
mod plan;
#[cfg(test)]
mod repaint_tests;

use std::cell::RefCell;
use std::io::{self, Write};

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::{Buffer, Cell, CellWidth};
use ratatui::crossterm::cursor::MoveTo;
use ratatui::crossterm::queue;
use ratatui::layout::{Position, Rect, Size};

#[cfg(test)]
pub(crate) use plan::NAMED_COLORS;
use plan::{Prints, plan_in_place};
pub use plan::{Shift, candidates, plan};

/// How frames were written, for tests and the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScrollStats {
    /// Frames drawn.
    pub frames: u64,
    /// Frames that moved a band with the terminal's scrolling.
    pub scrolled: u64,
    /// Bytes of cells and moves written by `draw` (no wrapper, no cursor).
    pub bytes: u64,
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
    /// Whether the terminal's cursor is still where the caller put it
    /// (nothing was written since): setting it there again writes nothing.
    cursor_in_place: bool,
    cursor_visible: bool,
    /// Wrap each frame's bytes in synchronized output (mode 2026).
    synchronized: bool,
    /// A synchronized frame was opened and not yet closed (by `flush`).
    frame_open: bool,
    /// The terminal erases with the current background (BCE).
    bce: bool,
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
            cursor_in_place: false,
            cursor_visible: true,
            synchronized: false,
            frame_open: false,
            bce: false,
            stats: ScrollStats::default(),
        }
    }

    /// Wraps what each frame writes in synchronized output (mode 2026):
    /// opened before the frame's first byte, closed by `flush`. A frame
    /// that changes nothing writes nothing at all, not even the wrapper.
    pub fn synchronized(mut self) -> Self {
        self.synchronized = true;
        self
    }

    /// Tells the encoder that the terminal erases with the current
    /// background (back-colour erase, `bce` in terminfo): long blank runs
    /// on a coloured background are then erased (`CSI n X`) rather than
    /// written.
    pub fn erase_with_background(mut self, bce: bool) -> Self {
        self.bce = bce;
        self
    }

    /// Called before anything is written: opens the synchronized frame
    /// and notes that the cursor moved.
    fn begin(&mut self) -> io::Result<()> {
        self.cursor_in_place = false;
        if self.synchronized && !self.frame_open {
            self.inner.write_all(SYNC_BEGIN)?;
            self.frame_open = true;
        }
        Ok(())
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

/// Whether the terminal `TERM` names erases with the current background
/// (back-colour erase): xterm and its kin, tmux, rxvt, the Linux console,
/// kitty, foot, Alacritty, WezTerm, Ghostty. GNU screen (`screen*`) does
/// not by default, and nothing unknown is assumed to.
pub fn term_erases_with_background(term: &str) -> bool {
    const BCE: [&str; 11] = [
        "xterm",
        "tmux",
        "rxvt",
        "linux",
        "kitty",
        "foot",
        "alacritty",
        "wezterm",
        "ghostty",
        "vte",
        "gnome",
    ];
    BCE.iter().any(|t| term.starts_with(t))
}

/// Begin and end synchronized update (mode 2026).
const SYNC_BEGIN: &[u8] = b"\x1b[?2026h";
const SYNC_END: &[u8] = b"\x1b[?2026l";

/// The screen as shown, with its cells' fingerprints. The frame being
/// drawn is a copy of it in [`SCRATCH`], swapped in when written: between
/// frames a session holds one screen, not two (an SSH server holds one per
/// session).
struct Screens {
    shown: Buffer,
    shown_prints: Prints,
}

thread_local! {
    /// The frame being drawn, one per thread: a `draw` runs start to end
    /// on one thread, so the backends drawing there (an SSH server's
    /// sessions) share it, neither keeping one each nor allocating one a
    /// frame. After a frame it holds the screen shown before it.
    static SCRATCH: RefCell<Option<(Buffer, Prints)>> = const { RefCell::new(None) };
}

/// `shown` and its prints copied into the thread's scratch (or new ones).
fn scratch_copy(shown: &Buffer, prints: &Prints) -> (Buffer, Prints) {
    match SCRATCH.with(|s| s.borrow_mut().take()) {
        Some((mut next, mut next_prints)) => {
            next.area = shown.area;
            next.content.clone_from(&shown.content);
            next_prints.copy_of(prints);
            (next, next_prints)
        }
        None => (shown.clone(), prints.clone()),
    }
}

impl Screens {
    fn blank(area: Rect) -> Screens {
        let shown = Buffer::empty(area);
        Screens {
            shown_prints: Prints::of(&shown),
            shown,
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
impl<W: Write> Backend for ScrollBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.stats.frames += 1;
        if !self.trusted {
            let mut content = content.peekable();
            if content.peek().is_none() {
                return Ok(());
            }
            self.begin()?;
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
            self.begin()?;
            return self.inner.draw(updates.into_iter());
        }
        let (mut next, mut next_prints) = scratch_copy(&sc.shown, &sc.shown_prints);
        for (x, y, cell) in &updates {
            put(&mut next, Some(&mut next_prints), *x, *y, cell);
        }
        let (bytes, shift) = plan_in_place(
            &mut sc.shown,
            &next,
            &sc.shown_prints,
            &next_prints,
            &updates,
            self.bce,
        )?;
        let written = if bytes.is_empty() {
            Ok(())
        } else {
            self.stats.bytes += bytes.len() as u64;
            self.begin().and_then(|()| self.inner.write_all(&bytes))
        };
        if let Err(e) = written {
            // Part of the frame may be on screen: the model is no longer
            // known to match; write plainly until the next full clear.
            self.trusted = false;
            return Err(e);
        }
        // The shown screen is now the frame; the old one is the scratch.
        let old = std::mem::replace(&mut sc.shown, next);
        let old_prints = std::mem::replace(&mut sc.shown_prints, next_prints);
        SCRATCH.with(|s| *s.borrow_mut() = Some((old, old_prints)));
        if let Some(s) = shift {
            self.stats.scrolled += 1;
            tracing::trace!(?s, bytes = bytes.len(), "frame moved rows by scrolling");
            // The scroll sequences moved the cursor; put it back where the
            // caller left it when it is shown (ratatui re-sets it anyway).
            if self.cursor_visible
                && let Some(p) = self.cursor
            {
                queue!(self.inner, MoveTo(p.x, p.y))?;
                self.cursor_in_place = true;
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
        self.begin()?;
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        // ratatui hides it on every frame; once is enough.
        if !self.cursor_visible {
            return Ok(());
        }
        self.cursor_visible = false;
        let in_place = self.cursor_in_place;
        self.begin()?;
        self.cursor_in_place = in_place;
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        if self.cursor_visible {
            return Ok(());
        }
        self.cursor_visible = true;
        let in_place = self.cursor_in_place;
        self.begin()?;
        self.cursor_in_place = in_place;
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let p = position.into();
        if self.cursor_in_place && self.cursor == Some(p) {
            return Ok(());
        }
        self.begin()?;
        self.cursor = Some(p);
        self.inner.set_cursor_position(p)?;
        self.cursor_in_place = true;
        Ok(())
    }

    fn clear(&mut self) -> io::Result<()> {
        self.begin()?;
        self.inner.clear()?;
        self.screens = Some(self.blank_screens()?);
        self.trusted = true;
        Ok(())
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.begin()?;
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
        if self.frame_open {
            self.frame_open = false;
            self.inner.write_all(SYNC_END)?;
        }
        Backend::flush(&mut self.inner)
    }
}
