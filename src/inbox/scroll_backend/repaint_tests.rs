//! What a full repaint of the inbox costs, and what erasing with the
//! background saves on a terminal that does so (issue 13, item 4).

use ratatui::Terminal;
use ratatui::buffer::Buffer;
use ratatui::layout::Size;

use super::fidelity_tests::Shared;
use super::{ScrollBackend, term_erases_with_background};
use crate::inbox::scroll_backend_tests::assert_screen;
use crate::inbox::state::State;
use crate::inbox::testkit::{decided, loaded_sized, referral, sample};
use crate::inbox::update::update;
use crate::inbox::views::render;
use crate::theme;
use crate::wire::{Referral, Role, Status};

/// Draws `state` twice through one backend (the first frame, then the
/// same screen with the cursor one row down), replaying both into vt100
/// and checking it shows each frame; the bytes of each.
fn two_frames(state: &mut State, bce: bool) -> (usize, usize) {
    two_frames_in(state, bce, theme::ColorDepth::TrueColor)
}

/// [`two_frames`] with the default theme at `depth`.
fn two_frames_in(state: &mut State, bce: bool, depth: theme::ColorDepth) -> (usize, usize) {
    let sizes = frames(state, bce, depth, &[0, 1]);
    (sizes[0].len(), sizes[1].len())
}

/// Draws `state` once after each step of `js` (that many `j` keys
/// first) through one backend, replaying each frame into vt100 and
/// checking it shows the frame; the bytes of each.
fn frames(state: &mut State, bce: bool, depth: theme::ColorDepth, js: &[usize]) -> Vec<Vec<u8>> {
    let (w, h) = (state.size.0, state.size.1);
    let theme = theme::builtin("default")
        .expect("default theme")
        .degrade(depth);
    let out = Shared::default();
    let backend = ScrollBackend::with_size(out.clone(), Size::new(w, h)).erase_with_background(bce);
    let mut term = Terminal::new(backend).expect("terminal");
    let mut vt = vt100::Parser::new(h, w, 0);
    let mut sizes = Vec::new();
    for &n in js {
        for _ in 0..n {
            update(state, crate::inbox::testkit::key('j'));
        }
        let frame: Buffer = term
            .draw(|f| render(state, &theme, f))
            .expect("draw")
            .buffer
            .clone();
        let bytes = out.take();
        vt.process(&bytes);
        assert_screen(&vt, &frame);
        sizes.push(bytes);
    }
    sizes
}

#[test]
fn erasing_with_the_background_shortens_the_repaint_and_stays_exact() {
    for (w, h) in [(200u16, 50u16), (80, 24)] {
        let plain = two_frames(&mut loaded_sized(Role::Agent, sample(), w, h), false);
        let bce = two_frames(&mut loaded_sized(Role::Agent, sample(), w, h), true);
        println!(
            "{w}x{h}: repaint {} -> {} B, j {} -> {} B",
            plain.0, bce.0, plain.1, bce.1
        );
        assert!(bce.0 < plain.0, "{w}x{h}: repaint {plain:?} vs {bce:?}");
        assert!(bce.1 <= plain.1, "{w}x{h}: key {plain:?} vs {bce:?}");
    }
}

#[test]
fn only_terminals_known_to_erase_with_the_background_are_trusted_to() {
    for t in [
        "xterm-256color",
        "xterm",
        "tmux-256color",
        "linux",
        "xterm-kitty",
        "foot",
        "alacritty",
    ] {
        assert!(term_erases_with_background(t), "{t}");
    }
    for t in ["screen-256color", "screen", "dumb", "vt100", ""] {
        assert!(!term_erases_with_background(t), "{t}");
    }
}

/// 300 referrals, every row of the screen filled, statuses mixed (as
/// `examples/slow_link.rs` seeds them).
fn three_hundred() -> Vec<Referral> {
    let partners = ["northwind-net", "bluehost-co", "pixel-forge", "hostly"];
    let statuses = [Status::Accepted, Status::Won, Status::Lost];
    (0..300)
        .map(|i| {
            let r = referral(
                &format!("r_{i:03}"),
                partners[i % partners.len()],
                "acme-web",
                &format!("Company {i} Holdings"),
                (i as i64) * 37,
            );
            match i % 4 {
                0 => r,
                n => decided(r, statuses[n - 1], 2),
            }
        })
        .collect()
}

/// `[ui] colors = "256"`: the same screen in the 256-colour palette, each
/// colour change 8–10 bytes instead of up to 19; vt100 shows each frame as
/// drawn (checked in `two_frames_in`). Not exact colours: the nearest in
/// the palette, so only when asked for. The repaint gains little (the
/// encoder already writes each style once where it can: ~20 SGRs in a
/// 200x50 repaint); a key's frame, which changes colour per cell run,
/// more.
#[test]
fn the_256_colour_palette_shortens_a_full_repaint() {
    for (w, h) in [(200u16, 50u16), (80, 24)] {
        let full = |depth| {
            let mut s = loaded_sized(Role::Agent, three_hundred(), w, h);
            two_frames_in(&mut s, true, depth)
        };
        let truecolor = full(theme::ColorDepth::TrueColor);
        let palette = full(theme::ColorDepth::Ansi256);
        println!(
            "{w}x{h}, 300 referrals: repaint {} -> {} B, j {} -> {} B (truecolor -> 256)",
            truecolor.0, palette.0, truecolor.1, palette.1
        );
        assert!(
            palette.0 < truecolor.0,
            "{w}x{h}: repaint {truecolor:?} vs {palette:?}"
        );
        assert!(
            palette.1 < truecolor.1,
            "{w}x{h}: {truecolor:?} vs {palette:?}"
        );
    }
}

/// The byte budget of the frames a slow link carries (issue 13, items 3
/// and 4), 300 referrals, truecolor, a terminal erasing with the
/// background: a repaint, one `j`, and the last frame of a burst of 20
/// `j` (the first drawn at once, 19 folded into one frame) which at
/// 80x24 scrolls the list by four rows. The bounds are the figures now
/// (80x24 / 200x50: repaint 2,915 / 7,994 B, `j` 358 / 393 B, the
/// burst's last frame 642 / 367 B) plus ~3%; before (`3ce03c4`): 3,657 /
/// 9,982 B, 379 / 415 B, 697 / 396 B. `--nocapture` prints them.
#[test]
fn a_key_and_a_burst_stay_within_their_byte_budget() {
    // (size, repaint, j, the burst's last frame): the most bytes each.
    let budgets = [
        ((80u16, 24u16), 3_000, 370, 660),
        ((200, 50), 8_200, 405, 380),
    ];
    for ((w, h), repaint, key, burst) in budgets {
        let mut s = loaded_sized(Role::Agent, three_hundred(), w, h);
        let f = frames(&mut s, true, theme::ColorDepth::TrueColor, &[0, 1, 1, 19]);
        let (r, k, b) = (f[0].len(), f[1].len(), f[3].len());
        println!("{w}x{h}: repaint {r} B, j {k} B, the burst's last frame {b} B");
        assert!(r <= repaint, "{w}x{h}: repaint {r} B > {repaint}");
        assert!(k <= key, "{w}x{h}: j {k} B > {key}");
        assert!(b <= burst, "{w}x{h}: burst {b} B > {burst}");
    }
}

/// Rows a scroll brings in arrive blank: the gaps of a table row in the
/// row's colour (a blank's foreground cannot be seen) need no writing
/// there, and are not written (they were: 20–30 B a row).
#[test]
fn a_scroll_writes_no_blank_gap_of_the_rows_it_brings_in() {
    let (w, h) = (60u16, 12u16);
    let area = ratatui::layout::Rect::new(0, 0, w, h);
    let style = ratatui::style::Style::default().fg(ratatui::style::Color::Rgb(212, 217, 225));
    let draw = |first: usize| {
        let mut b = Buffer::empty(area);
        b.set_style(area, style);
        for y in 0..h {
            let n = first + y as usize;
            b.set_string(8, y, format!("partner-{n:03}        Company {n}"), style);
        }
        b
    };
    let (before, after) = (draw(0), draw(3));
    let (bytes, shift) = super::plan(&before, &after).expect("plan");
    assert!(shift.is_some(), "the rows were scrolled");
    let mut vt = vt100::Parser::new(h, w, 0);
    let mut first = Vec::new();
    first.extend(super::plan(&Buffer::empty(area), &before).expect("plan").0);
    vt.process(&first);
    vt.process(&bytes);
    assert_screen(&vt, &after);
    let text = String::from_utf8(bytes).expect("utf-8");
    assert!(!text.contains("     "), "a blank gap written: {text:?}");
}
