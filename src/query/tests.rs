//! Parser, matcher and sort tests, and property tests of the parser.

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::wire::{Lead, Referral, Status, Timestamp};

mod index;

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

#[test]
fn empty_query_matches_everything() {
    let r = referral("r1");
    assert!(Query::default().matches(&r, now()));
    assert!(q("").is_empty());
    assert!(q("   \t ").is_empty());
    assert_eq!(q(""), Query::default());
    assert!(!q("acme").is_empty());
    assert!(!q("sort:value").is_empty());
    assert!(q("sort:value").matches_all());
}

#[test]
fn bare_words_search_every_text_field_case_insensitively() {
    let mut r = referral("01JDZK6W1");
    for word in [
        "bakery",
        "MAIN",
        "mainstreet.example",
        "vps",
        "dana",
        "HOSTING",
        "eu-west",
        "acme",
        "northWIND",
        "pending",
        "01jdzk",
    ] {
        assert!(hit(word, &r), "{word}");
    }
    assert!(!hit("bakeries", &r));
    // Contact fields are not searched (they may be masked).
    r.lead.contact_name = Some("Zed Zebra".into());
    assert!(!hit("zebra", &r));
    r.note = None;
    assert!(!hit("dana", &r));
}

#[test]
fn terms_are_anded_and_negation_inverts() {
    let r = referral("r1");
    assert!(hit("bakery hosting", &r));
    assert!(!hit("bakery florist", &r));
    assert!(!hit("-bakery", &r));
    assert!(!hit("!bakery", &r));
    assert!(hit("-florist", &r));
    assert!(hit("!florist bakery", &r));
    assert!(!hit("-status:pending", &r));
    assert!(hit("!status:accepted", &r));
    assert!(hit("-company:florist", &r));
}

#[test]
fn phrases_match_as_a_whole() {
    let r = referral("r1");
    assert!(hit("\"main street\"", &r));
    assert!(hit("\"STREET BAKERY\"", &r));
    assert!(!hit("\"main bakery\"", &r));
    assert!(hit("company:\"main street\"", &r));
    assert!(!hit("company:\"online shop\"", &r));
    assert!(hit("-\"online store\"", &r));
    assert!(hit(r#""the online""#, &r));
    assert_eq!(
        q(r#""say \"hi\" \\ now""#).to_string(),
        r#""say \"hi\" \\ now""#
    );
}

#[test]
fn text_fields_match_their_own_field_only() {
    let mut r = referral("r1");
    assert!(hit("from:acme", &r));
    assert!(!hit("to:acme", &r));
    assert!(hit("to:NORTH", &r));
    assert!(!hit("from:north", &r));
    assert!(hit("partner:acme", &r));
    assert!(hit("partner:northwind", &r));
    assert!(!hit("partner:globex", &r));
    assert!(hit("category:host", &r));
    assert!(!hit("category:bakery", &r));
    assert!(hit("region:eu", &r));
    assert!(hit("company:bakery", &r));
    assert!(!hit("company:hosting", &r));
    assert!(hit("Company:BAKERY", &r));
    r.lead.region = None;
    assert!(!hit("region:eu", &r));
    assert!(hit("-region:eu", &r));
}

#[test]
fn non_ascii_text_folds_case() {
    let mut r = referral("r1");
    r.lead.company = "ÉCOLE DU LAC, Zürich".into();
    assert!(hit("école", &r));
    assert!(hit("company:zürich", &r));
    assert!(hit("ZÜRICH", &r));
    assert!(!hit("zurich", &r));
}

#[test]
fn status_is_exact_and_takes_a_list() {
    let mut r = referral("r1");
    assert!(hit("status:pending", &r));
    assert!(hit("status:PENDING", &r));
    assert!(hit("status:accepted,pending", &r));
    assert!(!hit("status:accepted", &r));
    r.status = Status::Won;
    assert!(hit("status:won,lost", &r));
    assert!(!hit("status:pending,accepted", &r));
    // Exact: a substring of a status is not a status.
    assert_eq!(error("status:pend").column, 7);
}

#[test]
fn value_compares_in_currency_units_with_suffixes() {
    let mut r = referral("r1"); // 12,500.00
    assert!(hit("value:>10k", &r));
    assert!(!hit("value:>12.5k", &r));
    assert!(hit("value:>=12.5k", &r));
    assert!(hit("value:12500", &r));
    assert!(hit("value:=12500.00", &r));
    assert!(!hit("value:12500.01", &r));
    assert!(hit("value:<=2.5m", &r));
    assert!(!hit("value:<0.0125M", &r));
    assert!(hit("value:<12500.01", &r));
    assert!(!hit("value:<12500", &r));
    r.lead.est_value_cents = Some(250_000_000);
    assert!(hit("value:2.5m", &r));
    assert!(hit("value:2500k", &r));
    r.lead.est_value_cents = None;
    assert!(!hit("value:>0", &r));
    assert!(!hit("value:<1m", &r));
    assert!(hit("-value:>0", &r));
}

#[test]
fn amounts_round_to_the_cent_and_print_canonically() {
    assert_eq!(q("value:>10k").to_string(), "value:>10000");
    assert_eq!(q("value:<=2.5m").to_string(), "value:<=2500000");
    assert_eq!(q("value:1.5").to_string(), "value:1.5");
    assert_eq!(q("value:0.05").to_string(), "value:0.05");
    assert_eq!(q("value:.5").to_string(), "value:0.5");
    assert_eq!(q("value:1.005").to_string(), "value:1.01");
    assert_eq!(q("value:=7").to_string(), "value:7");
    assert_eq!(q("value:1.2345k").to_string(), "value:1234.5");
}

#[test]
fn commission_compares_whole_percent() {
    let r = referral("r1"); // 10 %
    assert!(hit("commission:10", &r));
    assert!(hit("commission:10%", &r));
    assert!(hit("commission:>=10", &r));
    assert!(!hit("commission:>=15", &r));
    assert!(hit("commission:<15", &r));
    assert!(!hit("commission:>10", &r));
    assert_eq!(error("commission:>=15.5").column, 13);
    assert_eq!(error("commission:15x").column, 13);
}

#[test]
fn age_is_measured_from_created_at_to_now() {
    let mut r = referral("r1"); // an hour old
    assert!(hit("age:<2d", &r));
    assert!(hit("age:<61m", &r));
    assert!(!hit("age:<1h", &r));
    assert!(hit("age:>=1h", &r));
    assert!(hit("age:3600s", &r));
    assert!(hit("age:>59m59s", &r));
    assert!(!hit("age:>1w", &r));
    r.created_at = now() - Duration::days(8);
    assert!(hit("age:>1w", &r));
    assert!(!hit("age:>=1.5w", &r));
    assert!(!hit("age:<1d1w", &r));
    assert!(hit("age:<=1w1d", &r));
    assert_eq!(q("age:<1d12h").to_string(), "age:<36h");
    assert_eq!(q("age:<1.5h").to_string(), "age:<90m");
    assert_eq!(q("age:>14d").to_string(), "age:>2w");
    assert_eq!(q("age:>0s").to_string(), "age:>0s");
    assert_eq!(q("age:>90S").to_string(), "age:>90s");
}

#[test]
fn expires_counts_time_left_for_pending_only() {
    let mut r = referral("r1"); // 71 hours left
    assert!(hit("expires:<3d", &r));
    assert!(!hit("expires:<6h", &r));
    assert!(hit("expires:>70h", &r));
    r.expires_at = now() + Duration::hours(5);
    assert!(hit("expires:<6h", &r));
    // Already past its time but not yet swept: negative time left.
    r.expires_at = now() - Duration::minutes(1);
    assert!(hit("expires:<6h", &r));
    r.expires_at = now() + Duration::hours(5);
    for status in [Status::Accepted, Status::Expired, Status::Won] {
        r.status = status;
        assert!(!hit("expires:<6h", &r), "{status:?}");
        assert!(!hit("expires:>1s", &r), "{status:?}");
        assert!(hit("-expires:<6h", &r), "{status:?}");
    }
}

#[test]
fn sort_is_parsed_and_the_last_one_wins() {
    assert_eq!(
        q("sort:value").sort(),
        Some(SortSpec::ascending(SortField::Value))
    );
    assert_eq!(
        q("status:pending sort:-expires").sort(),
        Some(SortSpec {
            field: SortField::Expires,
            descending: true
        })
    );
    assert_eq!(
        q("sort:age sort:-Company").sort().unwrap().field,
        SortField::Company
    );
    assert_eq!(q("acme").sort(), None);
    assert_eq!(q("sort:-value acme").to_string(), "acme sort:-value");
    for f in SortField::ALL {
        assert_eq!(SortField::parse(f.as_str()), Some(f));
        assert_eq!(q(&format!("sort:{f}")).sort().unwrap().field, f);
        let spec = SortSpec::parse(&format!("-{f}")).unwrap();
        assert_eq!(spec, SortSpec::ascending(f).reversed());
        assert_eq!(SortSpec::parse(&spec.to_string()), Some(spec));
    }
    assert_eq!(SortField::parse("colour"), None);
    assert_eq!(SortField::Updated.next(), SortField::Age);
    assert_eq!(SortField::Age.next(), SortField::Expires);
    let e = error("sort:colour");
    assert_eq!(e.column, 5);
    assert!(e.message.contains("expires"), "{e}");
    assert_eq!(error("sort:-colour").column, 6);
    assert_eq!(error("sort:").column, 5);
    assert_eq!(error("acme -sort:value").column, 5);
}

#[test]
fn set_sort_keeps_terms() {
    let query = q("acme status:pending").with_sort(Some(SortSpec::ascending(SortField::Age)));
    assert_eq!(query.to_string(), "acme status:pending sort:age");
    let mut other = query.clone();
    other.set_sort(None);
    assert_eq!(other, q("acme status:pending"));
}

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

#[test]
fn sorting_is_stable_with_missing_values_last() {
    let base = referral("a");
    let mk = |id: &str, value: Option<i64>, company: &str, hours_old: i64| {
        let mut r = base.clone();
        r.id = id.into();
        r.lead.est_value_cents = value;
        r.lead.company = company.into();
        r.created_at = now() - Duration::hours(hours_old);
        r
    };
    let rs = [
        mk("r3", Some(500), "beta", 3),
        mk("r1", None, "Alpha", 1),
        mk("r2", Some(900), "alpha", 2),
        mk("r4", Some(500), "Gamma", 5),
    ];
    let ids = |spec: SortSpec| {
        let mut v: Vec<&Referral> = rs.iter().collect();
        sort_referrals(&mut v, spec, now());
        v.iter().map(|r| r.id.as_str()).collect::<Vec<_>>()
    };
    let asc = |f| SortSpec::ascending(f);
    assert_eq!(ids(asc(SortField::Value)), ["r3", "r4", "r2", "r1"]);
    assert_eq!(
        ids(asc(SortField::Value).reversed()),
        ["r2", "r3", "r4", "r1"]
    );
    assert_eq!(ids(asc(SortField::Company)), ["r1", "r2", "r3", "r4"]);
    assert_eq!(ids(asc(SortField::Age)), ["r1", "r2", "r3", "r4"]);
    assert_eq!(
        ids(asc(SortField::Age).reversed()),
        ["r4", "r3", "r2", "r1"]
    );
    assert_eq!(ids(asc(SortField::Created)), ["r4", "r3", "r2", "r1"]);
    // All equal: the id decides.
    assert_eq!(ids(asc(SortField::Commission)), ["r1", "r2", "r3", "r4"]);
    assert_eq!(
        compare(&rs[0], &rs[3], asc(SortField::Value), now()),
        std::cmp::Ordering::Less
    );
}

#[test]
fn expires_sort_puts_non_pending_last() {
    let mut a = referral("a");
    a.expires_at = now() + Duration::hours(2);
    let mut b = referral("b");
    b.expires_at = now() + Duration::hours(1);
    let mut c = referral("c");
    c.status = Status::Accepted;
    c.expires_at = now();
    let mut v = vec![&a, &b, &c];
    sort_referrals(&mut v, SortSpec::ascending(SortField::Expires), now());
    assert_eq!(
        v.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["b", "a", "c"]
    );
    sort_referrals(
        &mut v,
        SortSpec::ascending(SortField::Expires).reversed(),
        now(),
    );
    assert_eq!(
        v.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
}

#[test]
fn apply_filters_then_sorts() {
    let mut rs = Vec::new();
    for (i, v) in [300, 100, 200, 50].into_iter().enumerate() {
        let mut r = referral(&format!("r{i}"));
        r.lead.est_value_cents = Some(v * 100);
        rs.push(r);
    }
    let got = q("value:>=100 sort:-value").apply(&rs, now());
    let ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["r0", "r2", "r1"]);
    let got = q("value:>=100").apply(&rs, now());
    let ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["r0", "r1", "r2"]);
}

// ---- property tests ----

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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_never_panics(s in any::<String>()) {
        match Query::parse(&s) {
            Ok(query) => prop_assert_eq!(Query::parse(&query.to_string()), Ok(query)),
            Err(e) => prop_assert!(e.column <= s.chars().count(), "{} in {:?}", e, s),
        }
    }

    #[test]
    fn query_like_input_never_panics_and_round_trips(s in query_like()) {
        match Query::parse(&s) {
            Ok(query) => {
                let printed = query.to_string();
                prop_assert_eq!(Query::parse(&printed), Ok(query), "printed {:?}", printed);
            }
            Err(e) => prop_assert!(e.column <= s.chars().count(), "{} in {:?}", e, s),
        }
    }

    #[test]
    fn printed_queries_parse_back_to_themselves(query in query()) {
        let printed = query.to_string();
        prop_assert_eq!(Query::parse(&printed), Ok(query), "printed {:?}", printed);
    }

    #[test]
    fn text_matching_agrees_with_lowercase_contains(
        hay in "[a-zA-ZéÉßİ\u{212A} ]{0,30}",
        needle in "[a-zA-ZéÉßİ\u{212A}]{1,3}",
    ) {
        let expected = hay.to_lowercase().contains(&needle.to_lowercase());
        prop_assert_eq!(Needle::new(&needle).found_in(&hay), expected);
    }
}

#[test]
fn apply_agrees_with_matches_over_many_rows() {
    let rs: Vec<Referral> = (0..50)
        .map(|i| {
            let mut r = referral(&format!("r{i:02}"));
            r.lead.company = if i % 3 == 0 {
                "Harbor Dental"
            } else {
                "Summit Motors"
            }
            .into();
            r.lead.summary = (i % 5 == 0).then(|| "harbor view".to_string());
            r
        })
        .collect();
    for text in [
        "harbor",
        "-harbor",
        "company:harbor",
        "harbor sort:-company",
        "",
    ] {
        let query = q(text);
        let mut expected: Vec<&Referral> = rs.iter().filter(|r| query.matches(r, now())).collect();
        if let Some(spec) = query.sort() {
            sort_referrals(&mut expected, spec, now());
        }
        let got = query.apply(&rs, now());
        assert_eq!(got, expected, "{text}");
    }
    // Multiples of 3 (17), and of 5 but not of 3 (6).
    assert_eq!(q("harbor").apply(&rs, now()).len(), 17 + 6);
}
