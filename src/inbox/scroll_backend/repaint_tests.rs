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
    let (w, h) = (state.size.0, state.size.1);
    let theme = theme::builtin("default")
        .expect("default theme")
        .degrade(depth);
    let out = Shared::default();
    let backend = ScrollBackend::with_size(out.clone(), Size::new(w, h)).erase_with_background(bce);
    let mut term = Terminal::new(backend).expect("terminal");
    let mut vt = vt100::Parser::new(h, w, 0);
    let mut sizes = Vec::new();
    for step in 0..2 {
        if step == 1 {
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
        sizes.push(bytes.len());
    }
    (sizes[0], sizes[1])
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
