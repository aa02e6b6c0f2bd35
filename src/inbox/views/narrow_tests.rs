//! Narrow screens: at 60x20 STATUS shows its glyph so VALUE stays; at
//! 80x24 the operator's FROM → TO keeps the recipient readable.

use insta::assert_snapshot;

use crate::inbox::state::State;
use crate::inbox::testkit::*;
use crate::wire::Role;

fn screen(state: &State) -> String {
    drawn(state)
}

#[test]
fn at_60x20_value_stays_and_status_is_its_glyph() {
    let s = loaded_sized(Role::Agent, sample(), 60, 20);
    let out = screen(&s);
    assert!(out.contains("VALUE"), "{out}");
    assert!(out.contains("$12.0k"), "{out}");
    assert!(!out.contains("pending  "), "the word gives way: {out}");
    assert_snapshot!("narrow_agent_60x20", out);
}

#[test]
fn at_80x24_the_operator_reads_both_partners() {
    let s = loaded_sized(Role::Operator, sample(), 80, 24);
    let out = screen(&s);
    assert!(out.contains("northwind-net → acme-web"), "{out}");
    assert_snapshot!("narrow_operator_80x24", out);
}
