//! The one parser of amounts a person types: `leadx send --value`, the
//! inbox's close popup. Below both, knowing neither.
//!
//! `12000`, `12,000`, `12.5k`, `1,200.50`, `2.5m`, `$950`. A comma is a
//! thousands separator only in groups of three (`12,500`, `1,200,000`);
//! `12,5k` or `1,20` is refused with what was read and what to type,
//! never silently multiplied. Amounts above [`MAX_UNITS`] are refused.

/// The largest amount accepted, in currency units (one trillion).
pub const MAX_UNITS: i64 = 1_000_000_000_000;

/// What an amount looks like, for error messages.
pub const EXAMPLES: &str = "12000, 12,000, 12.5k, 2.5m or 1,200.50";

/// Parses an amount in currency units (optional leading `$`, optional `k`
/// or `m` suffix) into cents, exactly.
pub fn parse_amount(text: &str) -> Result<i64, String> {
    let shown = text.trim();
    let t = shown.strip_prefix('$').unwrap_or(shown).trim_start();
    if t.is_empty() {
        return Err(format!("expected an amount like {EXAMPLES}"));
    }
    if t.starts_with('-') {
        return Err(format!("{shown:?}: an amount cannot be negative"));
    }
    let (number, factor, suffix) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1_000i128, "k"),
        Some('m' | 'M') => (&t[..t.len() - 1], 1_000_000i128, "m"),
        _ => (t, 1i128, ""),
    };
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if !digits(frac) || frac.contains(',') {
        return Err(not_an_amount(shown));
    }
    let whole = if whole.contains(',') {
        thousands(whole).ok_or_else(|| comma_error(shown, whole, frac, suffix))?
    } else {
        whole.to_owned()
    };
    if whole.is_empty() && frac.is_empty() || !digits(&whole) {
        return Err(not_an_amount(shown));
    }
    let too_large = || {
        format!(
            "{shown:?} is above the largest amount accepted, {}",
            group(&MAX_UNITS.to_string())
        )
    };
    // Exact decimal arithmetic: cents = mantissa * factor * 100 / 10^frac.
    let whole = whole.trim_start_matches('0');
    if whole.len() > 18 {
        return Err(too_large());
    }
    let frac_digits = frac.trim_end_matches('0');
    if frac_digits.len() > 8 {
        return Err(format!("{shown:?} has more precision than a cent"));
    }
    let scale = 10i128.pow(frac_digits.len() as u32);
    let mantissa: i128 = format!("0{whole}{frac_digits}")
        .parse()
        .map_err(|_| not_an_amount(shown))?;
    let scaled = mantissa * factor * 100;
    if scaled % scale != 0 {
        return Err(format!("{shown:?} has more precision than a cent"));
    }
    let cents = scaled / scale;
    if cents > i128::from(MAX_UNITS) * 100 {
        return Err(too_large());
    }
    Ok(cents as i64)
}

fn not_an_amount(shown: &str) -> String {
    format!("not an amount: {shown:?} (expected an amount like {EXAMPLES})")
}

/// `12,500` → `12500`; `None` unless every group after the first has
/// exactly three digits and the first has one to three.
fn thousands(whole: &str) -> Option<String> {
    let mut groups = whole.split(',');
    let first = groups.next()?;
    if first.is_empty() || first.len() > 3 || !first.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut out = first.to_owned();
    for g in groups {
        if g.len() != 3 || !g.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        out.push_str(g);
    }
    Some(out)
}

/// The error for a comma that is not a thousands separator: what was
/// read, and the two things the person may have meant.
fn comma_error(shown: &str, whole: &str, frac: &str, suffix: &str) -> String {
    let mut message =
        format!("{shown:?}: a comma separates thousands, in groups of three digits (12,500)");
    if frac.is_empty() && whole.matches(',').count() == 1 {
        let (a, b) = whole.split_once(',').unwrap_or((whole, ""));
        if !a.is_empty() && !b.is_empty() {
            message.push_str(&format!(
                "; for a decimal type {a}.{b}{suffix}, for thousands type {a}{b}{suffix}"
            ));
        }
    }
    message
}

/// `1000000000000` → `1,000,000,000,000`.
fn group(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse_amount;

    #[test]
    fn plain_amounts_parse_to_cents() {
        assert_eq!(parse_amount("12000"), Ok(1_200_000));
        assert_eq!(parse_amount("12k"), Ok(1_200_000));
        assert_eq!(parse_amount("12.5K"), Ok(1_250_000));
        assert_eq!(parse_amount("2.5m"), Ok(250_000_000));
        assert_eq!(parse_amount("1,200.50"), Ok(120_050));
        assert_eq!(parse_amount(" 12,000 "), Ok(1_200_000));
        assert_eq!(parse_amount("1,200,000"), Ok(120_000_000));
        assert_eq!(parse_amount("12,500k"), Ok(1_250_000_000));
        assert_eq!(parse_amount("$950"), Ok(95_000));
        assert_eq!(parse_amount("0"), Ok(0));
        assert_eq!(parse_amount("0.01"), Ok(1));
        assert_eq!(parse_amount(".5k"), Ok(50_000));
        assert_eq!(parse_amount("1.2300"), Ok(123));
        assert_eq!(parse_amount("1000000000000"), Ok(100_000_000_000_000));
        assert_eq!(parse_amount("1000000m"), Ok(100_000_000_000_000));
    }

    #[test]
    fn a_comma_is_never_a_decimal_point() {
        assert_eq!(
            parse_amount("12,5k").unwrap_err(),
            "\"12,5k\": a comma separates thousands, in groups of three digits (12,500); \
             for a decimal type 12.5k, for thousands type 125k"
        );
        assert_eq!(
            parse_amount("1,20").unwrap_err(),
            "\"1,20\": a comma separates thousands, in groups of three digits (12,500); \
             for a decimal type 1.20, for thousands type 120"
        );
        for bad in [
            "1,2345",
            ",500",
            "1,,000",
            "1234,567",
            "1,000,00",
            "12,000.5,0",
        ] {
            assert!(parse_amount(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn too_large_negative_and_garbage_are_refused() {
        let large = "\"99999999999k\" is above the largest amount accepted, 1,000,000,000,000";
        assert_eq!(parse_amount("99999999999k").unwrap_err(), large);
        assert!(parse_amount("1000000000000.01").is_err());
        assert!(parse_amount("99999999999999999999999999999999m").is_err());
        assert_eq!(
            parse_amount("-5").unwrap_err(),
            "\"-5\": an amount cannot be negative"
        );
        assert_eq!(
            parse_amount("0.001").unwrap_err(),
            "\"0.001\" has more precision than a cent"
        );
        let expected = "expected an amount like 12000, 12,000, 12.5k, 2.5m or 1,200.50";
        assert_eq!(parse_amount("").unwrap_err(), expected);
        for bad in ["12x", "k", "lots", "1.2.3", "1e5", "0x10", "."] {
            assert_eq!(
                parse_amount(bad).unwrap_err(),
                format!("not an amount: {bad:?} ({expected})"),
                "{bad:?}"
            );
        }
    }
}
