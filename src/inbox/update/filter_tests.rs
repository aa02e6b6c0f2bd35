//! Reducer tests of filter.

use ratatui::crossterm::event::KeyCode;

use super::test_support::*;
use crate::inbox::msg::{FeedMsg, Msg};
use crate::inbox::state::Pane;
use crate::inbox::testkit::*;
use crate::inbox::update::update;
use crate::wire::Role;

#[test]
fn filter_narrows_as_you_type_enter_keeps_esc_clears() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('/'));
    type_str(&mut s, "BAK");
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 1);
    assert_eq!(current_id(&s), "r_09");
    update(&mut s, code(KeyCode::Enter));
    assert!(!s.filter_editing);
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 1, "kept");
    // Letters are commands again.
    update(&mut s, key('j'));
    assert_eq!(current_id(&s), "r_09");
    update(&mut s, key('/'));
    for _ in 0..3 {
        update(&mut s, code(KeyCode::Backspace));
    }
    type_str(&mut s, "accepted");
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 1, "matches status");
    assert_eq!(current_id(&s), "r_04");
    update(&mut s, code(KeyCode::Esc));
    assert!(s.filter_applied.is_empty());
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 6);
    assert_eq!(current_id(&s), "r_04", "the cursor stays on its referral");
    // Partner, category and region match too.
    for (q, n) in [
        ("pixel", 1),
        ("colocation", 1),
        ("eu-central", 1),
        ("us-west", 5),
    ] {
        update(&mut s, key('/'));
        type_str(&mut s, q);
        assert_eq!(s.pane(Pane::Incoming).rows.len(), n, "{q}");
        update(&mut s, code(KeyCode::Esc));
    }
}

#[test]
fn filter_text_survives_many_updates_and_compaction() {
    let long = "x".repeat(3000);
    let mut refs = Vec::new();
    for i in 0..10 {
        let mut r = referral(
            &format!("r_{i:02}"),
            "northwind-net",
            "acme-web",
            &format!("Co{i}"),
            i,
        );
        r.lead.summary = Some(long.clone());
        refs.push(r);
    }
    let mut s = loaded(Role::Agent, refs.clone());
    let before = s.filter_text.len();
    for v in 2..80u64 {
        for r in &refs {
            let mut r = r.clone();
            r.version = v;
            r.lead.company = format!("{} v{v}", r.lead.company);
            update(
                &mut s,
                Msg::Feed(FeedMsg::Event {
                    seq: v,
                    referral: Box::new(r),
                    at: t(NOW),
                }),
            );
        }
    }
    assert!(
        s.filter_text.len() < before + (1 << 21),
        "compacted: {}",
        s.filter_text.len()
    );
    update(&mut s, key('/'));
    type_str(&mut s, "co3 v79");
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 1);
    assert_eq!(current_id(&s), "r_03");
    for _ in 0..7 {
        update(&mut s, code(KeyCode::Backspace));
    }
    type_str(&mut s, "v78");
    assert_eq!(
        s.pane(Pane::Incoming).rows.len(),
        0,
        "old text is not searched"
    );
}

#[test]
fn a_filter_query_narrows_as_typed_and_agrees_with_a_full_scan() {
    let refs: Vec<_> = (0..100)
        .map(|i| {
            referral(
                &format!("r_{i:03}"),
                "northwind-net",
                "acme-web",
                &format!("Shop {i}"),
                i,
            )
        })
        .collect();
    let mut s = loaded(Role::Agent, refs);
    update(&mut s, key('/'));
    type_str(&mut s, "company:\"shop 5");
    // An open quote does not parse: the last good filter stays applied.
    assert!(s.filter_error.is_some());
    type_str(&mut s, "\"");
    assert!(s.filter_error.is_none());
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 11);
    update(&mut s, code(KeyCode::Backspace));
    assert!(s.filter_error.is_some());
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 11);
    type_str(&mut s, "5\"");
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 1);
    assert_eq!(current_id(&s), "r_055");
    for _ in 0..2 {
        update(&mut s, code(KeyCode::Backspace));
    }
    type_str(&mut s, "\"");
    assert_eq!(
        s.pane(Pane::Incoming).rows.len(),
        11,
        "widening scans again"
    );
}

#[test]
fn filter_text_scan_matches_each_field_and_never_across_fields() {
    use crate::inbox::state::{FilterText, bit};
    let mut a = referral("r_A1", "northwind-net", "acme-web", "Harbor Dental", 1);
    a.lead.summary = Some("Needs NEW Laptops".into());
    let b = referral("r_B2", "globex", "acme-web", "Zeta Bakery", 2);
    let mut ft = FilterText::default();
    ft.set(0, &a);
    ft.set(1, &b);
    let hits = |ft: &FilterText, needle: &str| -> Vec<bool> {
        let bits = ft.scan(needle);
        (0..2).map(|i| bit(&bits, i)).collect()
    };
    // A few-valued field (partner), a per-entry field (company, summary,
    // id), lower-cased.
    assert_eq!(hits(&ft, "northwind"), [true, false]);
    assert_eq!(hits(&ft, "acme-web"), [true, true]);
    assert_eq!(hits(&ft, "bakery"), [false, true]);
    assert_eq!(hits(&ft, "new laptops"), [true, false]);
    assert_eq!(hits(&ft, "r_b2"), [false, true]);
    assert!(ft.matches(0, "harbor") && !ft.matches(1, "harbor"));
    // No match spans two fields (company then partner).
    assert_eq!(hits(&ft, "dentalnorthwind"), [false, false]);
    // Re-indexing replaces the old text and the old tuple.
    let mut a2 = a.clone();
    a2.from_partner = "initech".into();
    a2.lead.company = "Quay Florist".into();
    ft.set(0, &a2);
    assert_eq!(hits(&ft, "northwind"), [false, false]);
    assert_eq!(hits(&ft, "harbor dental"), [false, false]);
    assert_eq!(hits(&ft, "initech"), [true, false]);
    assert_eq!(hits(&ft, "florist"), [true, false]);
}

#[test]
fn a_bad_filter_shows_its_column_and_keeps_the_last_good_one() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('/'));
    type_str(&mut s, "status:pending \"");
    let e = s.filter_error.clone().expect("a parse error");
    assert_eq!(e.column, 15, "{e:?}");
    assert_eq!(
        s.pane(Pane::Incoming).rows.len(),
        5,
        "status:pending stays applied"
    );
    update(&mut s, code(KeyCode::Enter));
    assert!(
        s.filter_editing,
        "Enter does not leave a filter that does not parse"
    );
    let out = screen(&s);
    assert!(out.contains(&format!("col {}", e.column + 1)), "{out}");
    type_str(&mut s, "harbor");
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 5);
    type_str(&mut s, "\"");
    assert!(s.filter_error.is_none());
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 1);
}

#[test]
fn a_one_word_filter_scans_the_index_and_agrees_with_the_query() {
    let mut refs = sample();
    refs[0].lead.company = "Ärzte Straße GmbH".into();
    refs[1].note = Some("Call Mr. ÖZIL before noon".into());
    let mut s = loaded(Role::Agent, refs);
    for word in [
        "bakery", "ärzte", "STRASSE", "straße", "özil", "example", "r_0", "warm", "pending",
        "us-west", "hostly", "nothing",
    ] {
        update(&mut s, key('/'));
        type_str(&mut s, word);
        update(&mut s, code(KeyCode::Enter));
        let q = crate::query::Query::parse(word).expect("parses");
        for pane in [Pane::Incoming, Pane::Outgoing] {
            let want: Vec<u32> = s
                .pane(pane)
                .all
                .iter()
                .copied()
                .filter(|&i| q.matches(&s.entries[i as usize].referral, s.now))
                .collect();
            assert_eq!(s.pane(pane).rows, want, "{word:?} in {pane:?}");
        }
        update(&mut s, key('/'));
        update(&mut s, code(KeyCode::Esc));
    }
}

#[test]
fn time_terms_refilter_as_time_passes() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('/'));
    type_str(&mut s, "age:<10m");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        s.pane(Pane::Incoming).rows.len(),
        1,
        "only Main Street Bakery (5m)"
    );
    tick(&mut s, 6 * 60);
    assert_eq!(
        s.pane(Pane::Incoming).rows.len(),
        0,
        "it is 11 minutes old now"
    );
}

#[test]
fn a_deferred_filter_text_is_built_by_the_first_filter_and_then_kept_up() {
    use crate::inbox::state::FilterText;
    let mut eager = loaded(Role::Agent, sample());
    let mut s = started("https://leadx.example", 80, 24);
    s.filter_text = FilterText::deferred();
    update(&mut s, Msg::Me(Ok(me("acme-web", Role::Agent))));
    let (inc, out): (Vec<_>, Vec<_>) = sample()
        .into_iter()
        .partition(|r| r.to_partner == "acme-web");
    for (box_, items) in [
        (crate::wire::ReferralBox::Incoming, inc),
        (crate::wire::ReferralBox::Outgoing, out),
    ] {
        update(
            &mut s,
            Msg::Listed {
                box_,
                result: Ok((items, 100)),
            },
        );
    }
    assert_eq!(s.filter_text.len(), 0, "nothing held before a filter");
    assert!(!eager.filter_text.is_empty());
    for st in [&mut s, &mut eager] {
        update(st, key('/'));
        type_str(st, "BAK");
    }
    assert!(!s.filter_text.is_empty(), "built by the filter");
    assert_eq!(s.pane(Pane::Incoming).rows, eager.pane(Pane::Incoming).rows);
    assert_eq!(current_id(&s), "r_09");
    // A referral that arrives afterwards is indexed as it comes.
    let r = referral("r_99", "northwind-net", "acme-web", "Bakery Two", 1);
    update(
        &mut s,
        Msg::Feed(FeedMsg::Event {
            seq: 1,
            referral: Box::new(r),
            at: t(NOW),
        }),
    );
    assert_eq!(
        s.pane(Pane::Incoming).rows.len(),
        2,
        "{:?}",
        s.pane(Pane::Incoming).rows
    );
}
