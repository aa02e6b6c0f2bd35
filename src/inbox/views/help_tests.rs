//! The `?` overlay at small sizes: its query and symbol sections come from
//! the tables they describe, it scrolls with an indicator, and it wraps.

use insta::assert_snapshot;

use crate::inbox::format::status_glyph;
use crate::inbox::state::State;
use crate::inbox::testkit::*;
use crate::inbox::update::update;
use crate::inbox::views::table::{MARKED_GLYPH, UNSEEN_GLYPH, in_flight_glyph};
use crate::query::{self, SortField};
use crate::wire::{ActionKind, Role, Status};

fn screen(state: &State) -> String {
    drawn(state)
}

/// Every page of the overlay, scrolling down to its end.
fn every_page(s: &mut State) -> String {
    let mut all = String::new();
    for _ in 0..120 {
        all.push_str(&screen(s));
        update(s, key('j'));
    }
    all
}

#[test]
fn help_has_a_query_section_and_a_symbol_legend_from_their_tables() {
    let mut s = loaded_sized(Role::Agent, sample(), 100, 50);
    update(&mut s, key('?'));
    let all = every_page(&mut s);
    for f in query::FIELDS {
        assert!(all.contains(&format!("{f}:")), "field {f}");
    }
    for op in query::operators() {
        assert!(all.contains(op), "operator {op}");
    }
    for f in SortField::ALL {
        assert!(all.contains(f.as_str()), "sort {}", f.as_str());
    }
    assert!(all.contains("durations s m h d w"), "units");
    assert!(all.contains("Symbols in the table"));
    assert!(all.contains(&format!("{UNSEEN_GLYPH}  ")));
    assert!(all.contains(&format!("{MARKED_GLYPH}  ")));
    for k in ActionKind::ALL {
        assert!(all.contains(&format!("{}  ", in_flight_glyph(k))), "{k:?}");
    }
    for st in Status::ALL {
        assert!(
            all.contains(&format!("{}  ", status_glyph(st))) && all.contains(st.as_str()),
            "{st:?}"
        );
    }
}

#[test]
fn help_scrolls_with_an_indicator_and_wraps_at_60_columns() {
    let mut s = loaded_sized(Role::Agent, sample(), 60, 20);
    update(&mut s, key('?'));
    let top = screen(&s);
    assert!(top.contains(" Keys — ? or Esc closes · 1-18/"), "{top}");
    assert!(top.contains(" ↓ ─"), "{top}");
    assert_snapshot!("help_60x20_top", top);
    // Nothing runs past the box: every row of the screen is 60 cells.
    for l in top.lines() {
        assert_eq!(crate::sanitize::width(l.trim_matches('"')), 60, "{l}");
    }
    update(&mut s, key('G'));
    let bottom = screen(&s);
    assert!(bottom.contains(" ↑ ─"), "{bottom}");
    assert!(bottom.contains("expired"), "the last symbol is reachable");
    assert_snapshot!("help_60x20_bottom", bottom);
    // A long line wraps under its text instead of being cut.
    update(&mut s, key('g'));
    let mut found = false;
    for _ in 0..120 {
        let out = screen(&s);
        let top_half: String = out.lines().take(10).collect::<Vec<_>>().join("\n");
        if top_half.contains("  operators ") {
            let at = out.find("  operators ").expect("on screen");
            // Its text goes on under it: the last words are not cut off.
            let after = &out[at..];
            found = after.contains("equal)") && after.contains("age, expires");
            break;
        }
        update(&mut s, key('j'));
    }
    assert!(found, "the operators line wraps whole: {}", screen(&s));
}

#[test]
fn help_at_80x24_scrolls_to_the_symbols() {
    let mut s = loaded_sized(Role::Agent, sample(), 80, 24);
    update(&mut s, key('?'));
    update(&mut s, key('G'));
    assert_snapshot!("help_80x24_bottom", screen(&s));
}
