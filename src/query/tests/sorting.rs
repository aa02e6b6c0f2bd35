//! `sort:`, parsed and applied: the last one wins, stable with missing
//! values last, and `apply` filtering then sorting as `matches` does.

use super::*;

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
