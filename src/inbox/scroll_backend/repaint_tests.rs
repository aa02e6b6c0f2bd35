//! What a full repaint of the inbox costs, and what erasing with the
//! background saves on a terminal that does so (issue 13, item 4).

use ratatui::Terminal;
use ratatui::buffer::Buffer;
use ratatui::layout::Size;

use super::fidelity_tests::Shared;
use super::{ScrollBackend, term_erases_with_background};
use crate::inbox::scroll_backend_tests::assert_screen;
use crate::inbox::state::State;
use crate::inbox::testkit::{loaded_sized, sample};
use crate::inbox::update::update;
use crate::inbox::views::render;
use crate::theme;
use crate::wire::Role;

/// Draws `state` twice through one backend (the first frame, then the
/// same screen with the cursor one row down), replaying both into vt100
/// and checking it shows each frame; the bytes of each.
fn two_frames(state: &mut State, bce: bool) -> (usize, usize) {
    let (w, h) = (state.size.0, state.size.1);
    let theme = theme::builtin("default").expect("default theme");
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
