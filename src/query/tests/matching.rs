//! What a query matches: bare words, terms and negation, phrases, text
//! fields, case folding, status, value and commission, age and expiry.

use super::*;

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
