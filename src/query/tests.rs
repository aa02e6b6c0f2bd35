//! Parser, matcher and sort tests, and property tests of the parser.

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::wire::{Lead, Referral, Status, Timestamp};

mod index;
mod matching;
mod parsing;
mod properties;
mod sorting;

fn now() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

/// A pending referral from `acme-web` to `northwind`, created an hour ago,
/// expiring in 71 hours, worth 12,500.00, commission 10 %.
fn referral(id: &str) -> Referral {
    Referral {
        id: id.to_string(),
        version: 1,
        status: Status::Pending,
        from_partner: "acme-web".into(),
        to_partner: "northwind".into(),
        lead: Lead {
            company: "Main Street Bakery".into(),
            domain: Some("mainstreet.example".into()),
            contact_name: None,
            contact_email: None,
            contact_phone: None,
            category: "hosting".into(),
            summary: Some("Needs a VPS for the online shop".into()),
            est_value_cents: Some(1_250_000),
            currency: "EUR".into(),
            region: Some("EU-West".into()),
        },
        contact_masked: true,
        commission_pct: 10,
        note: Some("Warm intro from Dana".into()),
        decision_note: None,
        created_at: now() - Duration::hours(1),
        updated_at: now() - Duration::hours(1),
        expires_at: now() + Duration::hours(71),
        decided_at: None,
        decided_by: None,
        reason: None,
        outcome: None,
        parent_id: None,
        forwarded_to: None,
        chain: ["acme-web".into(), "northwind".into()].into(),
    }
}

fn q(s: &str) -> Query {
    Query::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn hit(query: &str, r: &Referral) -> bool {
    q(query).matches(r, now())
}

fn error(s: &str) -> ParseError {
    match Query::parse(s) {
        Ok(q) => panic!("{s:?} parsed as {q:?}"),
        Err(e) => e,
    }
}

// ---- strategies of the property tests (properties.rs, index.rs) ----

/// Text as a needle may hold: anything but control characters.
fn needle_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ._@:\"\\\\!-]{1,12}",
        "[^\\p{Cc}]{1,8}",
        Just("-".to_string()),
        Just(" ".to_string()),
    ]
}

fn cmp() -> impl Strategy<Value = Cmp> {
    prop_oneof![
        Just(Cmp::Eq),
        Just(Cmp::Lt),
        Just(Cmp::Le),
        Just(Cmp::Gt),
        Just(Cmp::Ge)
    ]
}

fn text_field() -> impl Strategy<Value = TextField> {
    prop_oneof![
        Just(TextField::From),
        Just(TextField::To),
        Just(TextField::Partner),
        Just(TextField::Category),
        Just(TextField::Region),
        Just(TextField::Company),
    ]
}

/// A term whose text comes from `needle`; a text term is `text_weight`
/// times as likely as each other kind.
fn term_from(needle: BoxedStrategy<String>, text_weight: u32) -> impl Strategy<Value = Term> {
    let amount = prop_oneof![0i64..1_000_000_000, 0i64..=i64::MAX];
    let secs = prop_oneof![
        0i64..10_000_000,
        (0i64..1000).prop_map(|n| n * 86_400),
        0i64..=i64::MAX
    ];
    let kind = prop_oneof![
        text_weight => needle.clone().prop_map(|t| Kind::Any(Needle::new(&t))),
        text_weight => (text_field(), needle).prop_map(|(f, t)| Kind::Text(f, Needle::new(&t))),
        1 => (1u16..256).prop_map(Kind::Status),
        1 => (cmp(), amount).prop_map(|(c, v)| Kind::Value(c, v)),
        1 => (cmp(), 0i64..=i64::MAX).prop_map(|(c, v)| Kind::Commission(c, v)),
        1 => (cmp(), secs.clone()).prop_map(|(c, v)| Kind::Age(c, v)),
        1 => (cmp(), secs).prop_map(|(c, v)| Kind::Expires(c, v)),
    ];
    (any::<bool>(), kind).prop_map(|(negated, kind)| Term { negated, kind })
}

fn query() -> impl Strategy<Value = Query> {
    query_from(needle_text().boxed(), 1, 0..6)
}

/// A query of `terms` terms (see [`term_from`]).
fn query_from(
    needle: BoxedStrategy<String>,
    text_weight: u32,
    terms: std::ops::Range<usize>,
) -> impl Strategy<Value = Query> {
    let sort = prop::option::of((0..SortField::ALL.len(), any::<bool>()).prop_map(
        |(i, descending)| SortSpec {
            field: SortField::ALL[i],
            descending,
        },
    ));
    (
        prop::collection::vec(term_from(needle, text_weight), terms),
        sort,
    )
        .prop_map(|(terms, sort)| Query { terms, sort })
}

/// Inputs that look like queries, so that the parser's deeper paths run.
fn query_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("status:".to_string()),
        Just("value:".to_string()),
        Just("age:".to_string()),
        Just("expires:".to_string()),
        Just("commission:".to_string()),
        Just("company:".to_string()),
        Just("sort:".to_string()),
        Just("colour:".to_string()),
        "[-!<>=.,:\"\\\\ kmhdws%0-9]{1,4}",
        "[a-zé]{1,6}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..10).prop_map(|v| v.concat())
}
