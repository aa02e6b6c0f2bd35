//! The query syntax: errors that point at the column, colons in text,
//! the canonical printed form, and completion of fields and values.

use super::*;

#[test]
fn errors_point_at_the_column() {
    let e = error("value:>abc");
    assert_eq!(e.column, 7);
    assert_eq!(e.message, "expected a number after 'value:>'");
    assert_eq!(e.to_string(), "column 7: expected a number after 'value:>'");

    let e = error("colour:red");
    assert_eq!(e.column, 0);
    for f in FIELDS {
        assert!(e.message.contains(f), "{} lacks {f}", e.message);
    }
    assert_eq!(error("acme -colour:red").column, 6);

    let e = error("acme \"main street");
    assert_eq!(e.column, 5);
    assert!(e.message.contains("unclosed quote"), "{e}");
    assert_eq!(error("company:\"main").column, 8);
    assert_eq!(error("\"ab\"cd").column, 4);

    assert_eq!(error("value:").column, 6);
    assert_eq!(error("status:pending value:<=").column, 23);
    assert_eq!(error("value:>10x").column, 9);
    assert_eq!(error("value:>10kk").column, 10);
    assert_eq!(error("value:-5").column, 6);
    assert_eq!(error("age:<2").column, 6);
    assert!(error("age:<2").message.contains("unit"));
    assert_eq!(error("age:<2y").column, 6);
    assert_eq!(error("age:<2d3").column, 8);
    assert_eq!(error("age:<2dd").column, 7);
    assert_eq!(error("expires:<").column, 9);
    assert_eq!(error("status:").column, 7);
    assert_eq!(error("status:pending,").column, 15);
    assert_eq!(error("status:pending,maybe").column, 15);
    assert_eq!(error("company:").column, 8);
    assert_eq!(error("company:\"\"").column, 8);
    assert_eq!(error("\"\"").column, 0);
    assert_eq!(error("acme -").column, 5);
    assert_eq!(error("acme ! x").column, 5);
    assert_eq!(error("--acme").column, 1);
    assert_eq!(error("ab\u{7}c").column, 2);
    assert_eq!(error("\"a\u{1b}[2J\"").column, 2);
    assert_eq!(error("value:>99999999999999999999999999999999").column, 7);
    assert_eq!(error("value:>99999999999999999m").column, 7);
    // Columns count characters, not bytes.
    assert_eq!(error("zürich value:>x").column, 14);
}

#[test]
fn colons_in_text_need_quotes_only_after_a_word() {
    let mut r = referral("r1");
    r.note = Some("call at 10:30, see http://x".into());
    assert!(hit("10:30", &r));
    assert!(hit("\"http://x\"", &r));
    assert_eq!(error("http://x").column, 0);
    assert_eq!(q("10:30").to_string(), "\"10:30\"");
    assert_eq!(q("company:a:b").to_string(), "company:a:b");
}

#[test]
fn canonical_form_normalises_spacing_case_and_order_of_statuses() {
    assert_eq!(
        q("  !Status:WON,pending   Company:\"main  st\"  value:>=2.5k\tsort:-age ").to_string(),
        "-status:pending,won company:\"main  st\" value:>=2500 sort:-age"
    );
    assert_eq!(q("-\"-x\"").to_string(), "-\"-x\"");
    assert_eq!(q("a\"b").to_string(), "\"a\\\"b\"");
}

#[test]
fn completion_of_fields_and_values() {
    assert_eq!(complete_field("st"), vec!["status"]);
    assert_eq!(
        complete_field("C"),
        vec!["category", "company", "commission"]
    );
    assert_eq!(complete_field("").len(), FIELDS.len());
    assert!(complete_field("x").is_empty());
    assert!(complete_field("é").is_empty());
    assert_eq!(
        complete_value("status", "pending,acc"),
        vec!["pending,accepted"]
    );
    assert_eq!(
        complete_value("sort", "-co"),
        vec!["-commission", "-company"]
    );
    assert!(complete_value("company", "a").is_empty());
}
