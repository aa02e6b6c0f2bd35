//! Field checks shared by every write: lengths in Unicode scalar values,
//! required fields, ranges, currency, slugs and domain normalisation.
//!
//! Every failure is a [`DomainError::Invalid`] naming the field as a dotted
//! path (`lead.company`, `reason.note`), which the server sends as 422.

use crate::domain::DomainError;
use crate::wire::{
    DEFAULT_EXPIRES_IN_HOURS, Lead, LeadInput, MAX_EXPIRES_IN_HOURS, MAX_LINE_CHARS,
    MAX_TEXT_CHARS, Name, Partner,
};

/// A 422 naming `field`.
pub fn invalid(field: &str, message: impl Into<String>) -> DomainError {
    DomainError::Invalid {
        field: Some(field.to_string()),
        message: message.into(),
    }
}

/// At most `max` Unicode scalar values.
pub fn check_len(field: &str, value: &str, max: usize) -> Result<(), DomainError> {
    let n = value.chars().count();
    if n > max {
        return Err(invalid(
            field,
            format!("{field} is {n} characters long; the limit is {max}"),
        ));
    }
    Ok(())
}

/// An optional one-line field (200 scalar values).
pub fn check_line(field: &str, value: Option<&str>) -> Result<(), DomainError> {
    value.map_or(Ok(()), |v| check_len(field, v, MAX_LINE_CHARS))
}

/// An optional multi-line field: summary or a note (4,000 scalar values).
pub fn check_text(field: &str, value: Option<&str>) -> Result<(), DomainError> {
    value.map_or(Ok(()), |v| check_len(field, v, MAX_TEXT_CHARS))
}

/// A required one-line field: present, not blank, within length.
pub fn required_line<'a>(field: &str, value: Option<&'a str>) -> Result<&'a str, DomainError> {
    match value {
        Some(v) if !v.trim().is_empty() => {
            check_len(field, v, MAX_LINE_CHARS)?;
            Ok(v)
        }
        Some(_) => Err(invalid(field, format!("{field} must not be empty"))),
        None => Err(invalid(field, format!("{field} is required"))),
    }
}

/// `commission_pct`: 0..=100 whole percent.
pub fn check_commission(field: &str, value: Option<u32>) -> Result<(), DomainError> {
    match value {
        Some(v) if v > 100 => Err(invalid(
            field,
            format!("{field} must be between 0 and 100, not {v}"),
        )),
        _ => Ok(()),
    }
}

/// `expires_in_hours`: 1..=720; returns the hours to use (default 72).
pub fn check_expires(field: &str, value: Option<u32>) -> Result<u32, DomainError> {
    match value {
        None => Ok(DEFAULT_EXPIRES_IN_HOURS),
        Some(v) if (1..=MAX_EXPIRES_IN_HOURS).contains(&v) => Ok(v),
        Some(v) => Err(invalid(
            field,
            format!("{field} must be between 1 and {MAX_EXPIRES_IN_HOURS}, not {v}"),
        )),
    }
}

/// A money amount in cents: never negative.
pub fn check_cents(field: &str, value: Option<i64>) -> Result<(), DomainError> {
    match value {
        Some(v) if v < 0 => Err(invalid(field, format!("{field} must not be negative"))),
        _ => Ok(()),
    }
}

/// ISO 4217 shape: exactly three ASCII uppercase letters; `USD` when absent.
pub fn check_currency(field: &str, value: Option<&str>) -> Result<String, DomainError> {
    match value {
        None => Ok("USD".to_string()),
        Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => Ok(c.to_string()),
        Some(_) => Err(invalid(
            field,
            format!("{field} must be three uppercase letters (ISO 4217), such as USD"),
        )),
    }
}

/// A partner id: `[a-z0-9-]{2,40}`.
/// An email address as a person would type one: one `@`, something
/// before it, a domain with a dot after it, no spaces. `None` when it
/// looks right, else what is wrong.
pub fn email_problem(email: &str) -> Option<&'static str> {
    let Some((local, domain)) = email.split_once('@') else {
        return Some("it has no @");
    };
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("it contains a space");
    }
    if local.is_empty() {
        return Some("nothing comes before the @");
    }
    if domain.contains('@') {
        return Some("it has more than one @");
    }
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return Some("the part after the @ is not a domain (such as example.com)");
    }
    None
}

pub fn is_slug(s: &str) -> bool {
    (2..=40).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The key duplicates are found by: lower-cased, trimmed, without a
/// leading `www.`; `None` when nothing is left.
pub fn normalize_domain(domain: &str) -> Option<String> {
    let d = domain.trim().to_lowercase();
    let d = d.strip_prefix("www.").unwrap_or(&d).trim();
    if d.is_empty() {
        None
    } else {
        Some(d.to_string())
    }
}

/// Checks a lead as sent and builds the stored one (strings kept as sent).
pub fn validate_lead(input: &LeadInput) -> Result<Lead, DomainError> {
    let company = required_line("lead.company", input.company.as_deref())?;
    check_line("lead.domain", input.domain.as_deref())?;
    check_line("lead.contact_name", input.contact_name.as_deref())?;
    check_line("lead.contact_email", input.contact_email.as_deref())?;
    check_line("lead.contact_phone", input.contact_phone.as_deref())?;
    let category = required_line("lead.category", input.category.as_deref())?;
    check_text("lead.summary", input.summary.as_deref())?;
    check_cents("lead.est_value_cents", input.est_value_cents)?;
    let currency = check_currency("lead.currency", input.currency.as_deref())?;
    check_line("lead.region", input.region.as_deref())?;
    Ok(Lead {
        company: company.to_string(),
        domain: input.domain.clone(),
        contact_name: input.contact_name.clone(),
        contact_email: input.contact_email.clone(),
        contact_phone: input.contact_phone.clone(),
        category: Name::from(category),
        summary: input.summary.clone(),
        est_value_cents: input.est_value_cents,
        currency: Name::from(currency),
        region: input.region.as_deref().map(Name::from),
    })
}

/// Checks a partner for the directory; the message names what is wrong.
pub fn validate_partner(p: &Partner) -> Result<(), String> {
    if !is_slug(&p.id) {
        return Err(format!(
            "bad partner id {:?}: use 2 to 40 of a-z, 0-9 and -",
            p.id
        ));
    }
    if p.name.trim().is_empty() {
        return Err("partner name must not be empty".to_string());
    }
    if p.name.chars().count() > MAX_LINE_CHARS {
        return Err(format!(
            "partner name is longer than {MAX_LINE_CHARS} characters"
        ));
    }
    for (what, list) in [("category", &p.categories), ("region", &p.regions)] {
        for v in list.iter() {
            if v.trim().is_empty() || v.chars().count() > MAX_LINE_CHARS {
                return Err(format!(
                    "bad {what} {v:?}: 1 to {MAX_LINE_CHARS} characters"
                ));
            }
        }
    }
    Ok(())
}

/// Checks a user's name for the admin CLI.
pub fn validate_user_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("user name must not be empty".to_string());
    }
    if name.chars().count() > MAX_LINE_CHARS {
        return Err(format!(
            "user name is longer than {MAX_LINE_CHARS} characters"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::PartnerKind;

    fn field_of(e: DomainError) -> String {
        match e {
            DomainError::Invalid { field, .. } => field.expect("field named"),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    fn lead() -> LeadInput {
        LeadInput {
            company: Some("Main Street Bakery".into()),
            category: Some("hosting".into()),
            ..LeadInput::default()
        }
    }

    #[test]
    fn lengths_count_scalar_values_not_bytes() {
        let two_hundred = "é".repeat(200);
        assert!(check_len("lead.company", &two_hundred, 200).is_ok());
        let over = "é".repeat(201);
        assert_eq!(
            field_of(check_len("lead.company", &over, 200).unwrap_err()),
            "lead.company"
        );
        assert!(check_text("note", Some(&"x".repeat(4000))).is_ok());
        assert_eq!(
            field_of(check_text("note", Some(&"x".repeat(4001))).unwrap_err()),
            "note"
        );
        assert!(check_line("lead.region", None).is_ok());
    }

    #[test]
    fn lead_requires_company_and_category() {
        let mut l = lead();
        l.company = None;
        assert_eq!(field_of(validate_lead(&l).unwrap_err()), "lead.company");
        l.company = Some("   ".into());
        assert_eq!(field_of(validate_lead(&l).unwrap_err()), "lead.company");
        let mut l = lead();
        l.category = Some(String::new());
        assert_eq!(field_of(validate_lead(&l).unwrap_err()), "lead.category");
        l.category = None;
        assert_eq!(field_of(validate_lead(&l).unwrap_err()), "lead.category");
    }

    #[test]
    fn lead_field_limits_name_the_field() {
        let long = "a".repeat(201);
        type Mutate = Box<dyn Fn(&mut LeadInput)>;
        let cases: Vec<(&str, Mutate)> = vec![
            (
                "lead.company",
                Box::new(|l| l.company = Some("a".repeat(201))),
            ),
            (
                "lead.domain",
                Box::new(|l| l.domain = Some("a".repeat(201))),
            ),
            (
                "lead.contact_name",
                Box::new(|l| l.contact_name = Some("a".repeat(201))),
            ),
            (
                "lead.contact_email",
                Box::new(|l| l.contact_email = Some("a".repeat(201))),
            ),
            (
                "lead.contact_phone",
                Box::new(|l| l.contact_phone = Some("a".repeat(201))),
            ),
            (
                "lead.category",
                Box::new(|l| l.category = Some("a".repeat(201))),
            ),
            (
                "lead.summary",
                Box::new(|l| l.summary = Some("a".repeat(4001))),
            ),
            (
                "lead.region",
                Box::new(|l| l.region = Some("a".repeat(201))),
            ),
            (
                "lead.est_value_cents",
                Box::new(|l| l.est_value_cents = Some(-1)),
            ),
            (
                "lead.currency",
                Box::new(|l| l.currency = Some("usd".into())),
            ),
        ];
        assert_eq!(long.len(), 201);
        for (field, mutate) in cases {
            let mut l = lead();
            mutate(&mut l);
            assert_eq!(field_of(validate_lead(&l).unwrap_err()), field);
        }
        let mut l = lead();
        l.summary = Some("s".repeat(4000));
        l.company = Some("c".repeat(200));
        assert!(validate_lead(&l).is_ok());
    }

    #[test]
    fn currency_defaults_to_usd_and_needs_three_capitals() {
        assert_eq!(check_currency("lead.currency", None).unwrap(), "USD");
        assert_eq!(check_currency("lead.currency", Some("EUR")).unwrap(), "EUR");
        for bad in ["EU", "EURO", "eur", "E1R", "ÉUR", ""] {
            let e = check_currency("lead.currency", Some(bad)).expect_err(bad);
            assert_eq!(field_of(e), "lead.currency", "{bad}");
        }
        let stored = validate_lead(&lead()).unwrap();
        assert_eq!(stored.currency, "USD");
    }

    #[test]
    fn ranges() {
        assert!(check_commission("commission_pct", Some(0)).is_ok());
        assert!(check_commission("commission_pct", Some(100)).is_ok());
        assert_eq!(
            field_of(check_commission("commission_pct", Some(101)).unwrap_err()),
            "commission_pct"
        );
        assert_eq!(check_expires("expires_in_hours", None).unwrap(), 72);
        assert_eq!(check_expires("expires_in_hours", Some(1)).unwrap(), 1);
        assert_eq!(check_expires("expires_in_hours", Some(720)).unwrap(), 720);
        for hours in [0, 721] {
            let e = check_expires("expires_in_hours", Some(hours)).unwrap_err();
            assert_eq!(field_of(e), "expires_in_hours", "{hours}");
        }
        assert!(check_cents("outcome.value_cents", Some(0)).is_ok());
        assert_eq!(
            field_of(check_cents("outcome.value_cents", Some(-5)).unwrap_err()),
            "outcome.value_cents"
        );
    }

    #[test]
    fn slugs() {
        for good in ["ab", "acme-web", "a1", &"a".repeat(40)] {
            assert!(is_slug(good), "{good}");
        }
        for bad in [
            "a",
            "Acme",
            "acme_web",
            "acme web",
            "",
            &"a".repeat(41),
            "ácme",
        ] {
            assert!(!is_slug(bad), "{bad}");
        }
    }

    #[test]
    fn domains_normalise() {
        assert_eq!(
            normalize_domain("  WWW.MainStreetBakery.Example ").as_deref(),
            Some("mainstreetbakery.example")
        );
        assert_eq!(
            normalize_domain("shop.example").as_deref(),
            Some("shop.example")
        );
        assert_eq!(normalize_domain("www."), None);
        assert_eq!(normalize_domain("   "), None);
        assert_eq!(
            normalize_domain("wwwx.example").as_deref(),
            Some("wwwx.example")
        );
    }

    #[test]
    fn partners_and_users() {
        let mut p = Partner {
            id: "acme-web".into(),
            name: "Acme Web".into(),
            kind: PartnerKind::Integrator,
            categories: vec!["design".into()],
            regions: vec![],
        };
        assert!(validate_partner(&p).is_ok());
        p.id = "Acme".into();
        assert!(validate_partner(&p).unwrap_err().contains("bad partner id"));
        p.id = "acme".into();
        p.name = " ".into();
        assert_eq!(
            validate_partner(&p).unwrap_err(),
            "partner name must not be empty"
        );
        p.name = "Acme".into();
        p.categories = vec![String::new()];
        assert_eq!(
            validate_partner(&p).unwrap_err(),
            format!("bad category \"\": 1 to {MAX_LINE_CHARS} characters")
        );
        assert!(validate_user_name("Dana Reyes").is_ok());
        assert_eq!(
            validate_user_name("").unwrap_err(),
            "user name must not be empty"
        );
        assert_eq!(
            validate_user_name(&"n".repeat(201)).unwrap_err(),
            format!("user name is longer than {MAX_LINE_CHARS} characters")
        );
    }
}
