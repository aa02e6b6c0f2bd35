//! Property tests (strategies in `tests.rs`): the parser never panics and
//! printed queries parse back to themselves; text matching agrees with
//! lowercase `contains`.

use super::*;

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
