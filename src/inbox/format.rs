//! How numbers and times are written on screen. Pure; the views and the
//! timer ([`super::state::State::next_wakeup`]) agree through it.

use chrono::{Duration, FixedOffset};

use crate::wire::{Status, Timestamp};

/// The granularity (seconds) at which an age of `secs` is shown.
fn age_unit(secs: i64) -> i64 {
    if secs < 3600 {
        60
    } else if secs < 48 * 3600 {
        3600
    } else {
        86400
    }
}

/// Age: `0m`, `42m`, `5h`, `3d`.
pub fn age(now: Timestamp, created: Timestamp) -> String {
    let secs = (now - created).num_seconds().max(0);
    match age_unit(secs) {
        60 => format!("{}m", secs / 60),
        3600 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86400),
    }
}

/// When [`age`] next shows something else.
pub fn next_age_change(now: Timestamp, created: Timestamp) -> Timestamp {
    let secs = (now - created).num_seconds().max(0);
    let unit = age_unit(secs);
    created + Duration::seconds((secs / unit + 1) * unit)
}

fn left_unit(secs: i64) -> i64 {
    if secs < 60 {
        1
    } else if secs < 48 * 3600 {
        60
    } else {
        3600
    }
}

/// Time left before expiry: `2d04h`, `5h07m`, `42m`, `30s`, or `expired`.
pub fn left(now: Timestamp, expires: Timestamp) -> String {
    let secs = (expires - now).num_seconds();
    if secs <= 0 {
        return "due".to_string();
    }
    match left_unit(secs) {
        1 => format!("{secs}s"),
        60 if secs < 3600 => format!("{}m", secs / 60),
        60 => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d{:02}h", secs / 86400, secs % 86400 / 3600),
    }
}

/// When [`left`] next shows something else.
pub fn next_left_change(now: Timestamp, expires: Timestamp) -> Timestamp {
    let secs = (expires - now).num_seconds();
    if secs <= 0 {
        // "due" until the server says expired: nothing counts down.
        return now;
    }
    let unit = left_unit(secs);
    // Shown floored: it changes when `secs` drops below a multiple of `unit`.
    now + Duration::seconds(secs % unit + 1)
}

/// How close a deadline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    /// 24 hours or more.
    Ok,
    /// Under 24 hours.
    Soon,
    /// Under 2 hours.
    Urgent,
}

/// The urgency of a deadline.
pub fn urgency(now: Timestamp, expires: Timestamp) -> Urgency {
    let secs = (expires - now).num_seconds();
    if secs < 2 * 3600 {
        Urgency::Urgent
    } else if secs < 24 * 3600 {
        Urgency::Soon
    } else {
        Urgency::Ok
    }
}

/// `$12.0k`, `€950`, `£1.2M`, `CHF 3.0k`; `-` when unknown.
pub fn money(cents: Option<i64>, currency: &str) -> String {
    let Some(cents) = cents else {
        return "-".to_string();
    };
    let units = cents as f64 / 100.0;
    let abs = units.abs();
    let num = if abs >= 1_000_000.0 {
        format!("{:.1}M", units / 1_000_000.0)
    } else if abs >= 1_000.0 {
        format!("{:.1}k", units / 1_000.0)
    } else {
        format!("{}", units.round() as i64)
    };
    match currency {
        "USD" => format!("${num}"),
        "EUR" => format!("€{num}"),
        "GBP" => format!("£{num}"),
        other => format!("{other} {num}"),
    }
}

/// `10:42` in the given offset.
pub fn clock(t: Timestamp, offset: FixedOffset) -> String {
    t.with_timezone(&offset).format("%H:%M").to_string()
}

/// `10:42:07` in the given offset.
pub fn clock_secs(t: Timestamp, offset: FixedOffset) -> String {
    t.with_timezone(&offset).format("%H:%M:%S").to_string()
}

/// `2026-11-26 10:42` in the given offset.
pub fn date_time(t: Timestamp, offset: FixedOffset) -> String {
    t.with_timezone(&offset)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A one-cell glyph for a status, so status reads without colour.
pub fn status_glyph(s: Status) -> char {
    match s {
        Status::Pending => '○',
        Status::Accepted => '●',
        Status::Rejected => '✗',
        Status::Forwarded => '→',
        Status::Withdrawn => '↩',
        Status::Expired => '⊘',
        Status::Won => '★',
        Status::Lost => '✕',
    }
}

/// Parses a value typed in the close popup (`12000`, `12,000.50`,
/// `12.5k`, `1.2M`) into cents; empty is no value. The CLI's `--value`
/// uses the same parser, [`crate::money::parse_amount`].
pub fn parse_money(s: &str) -> Result<Option<i64>, String> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    crate::money::parse_amount(s).map(Some)
}

/// `text` broken into rows of at most `w` cells: at its newlines, then at
/// the last space that fits (or anywhere, for a word longer than a row).
pub fn wrap(text: &str, w: usize) -> Vec<String> {
    let w = w.max(1);
    let mut out = Vec::new();
    for line in text.split('\n') {
        let mut rest = line;
        loop {
            if crate::sanitize::width(rest) <= w {
                out.push(rest.to_string());
                break;
            }
            // The longest prefix that fits, by cells.
            let mut end = 0;
            let mut used = 0;
            for (i, c) in rest.char_indices() {
                let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(1);
                if used + cw > w {
                    break;
                }
                used += cw;
                end = i + c.len_utf8();
            }
            if end == 0 {
                end = rest.chars().next().map_or(rest.len(), char::len_utf8);
            }
            let cut = match rest[..end].rfind(' ') {
                _ if rest[end..].starts_with(' ') => end,
                Some(sp) if sp > 0 => sp,
                _ => end,
            };
            out.push(rest[..cut].to_string());
            rest = rest[cut..].strip_prefix(' ').unwrap_or(&rest[cut..]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::parse_timestamp;

    fn t(s: &str) -> Timestamp {
        parse_timestamp(s).unwrap()
    }

    #[test]
    fn ages_and_their_next_change() {
        let c = t("2026-11-26T09:00:00Z");
        assert_eq!(age(t("2026-11-26T09:00:30Z"), c), "0m");
        assert_eq!(
            next_age_change(t("2026-11-26T09:00:30Z"), c),
            t("2026-11-26T09:01:00Z")
        );
        assert_eq!(age(t("2026-11-26T09:42:10Z"), c), "42m");
        assert_eq!(age(t("2026-11-26T14:10:00Z"), c), "5h");
        assert_eq!(
            next_age_change(t("2026-11-26T14:10:00Z"), c),
            t("2026-11-26T15:00:00Z")
        );
        assert_eq!(age(t("2026-11-29T10:00:00Z"), c), "3d");
    }

    #[test]
    fn time_left_and_its_next_change() {
        let e = t("2026-11-29T09:00:00Z");
        assert_eq!(left(t("2026-11-26T09:00:00Z"), e), "3d00h");
        assert_eq!(left(t("2026-11-28T12:30:00Z"), e), "20h30m");
        assert_eq!(left(t("2026-11-29T08:18:00Z"), e), "42m");
        assert_eq!(left(t("2026-11-29T08:59:30Z"), e), "30s");
        assert_eq!(left(t("2026-11-29T09:00:00Z"), e), "due");
        let now = t("2026-11-28T12:30:20Z");
        let next = next_left_change(now, e);
        assert_ne!(left(next, e), left(now, e));
        assert_eq!(left(next - Duration::seconds(1), e), left(now, e));
        assert_eq!(urgency(t("2026-11-26T09:00:00Z"), e), Urgency::Ok);
        assert_eq!(urgency(t("2026-11-28T12:00:00Z"), e), Urgency::Soon);
        assert_eq!(urgency(t("2026-11-29T07:30:00Z"), e), Urgency::Urgent);
    }

    #[test]
    fn money_is_short() {
        assert_eq!(money(Some(1_200_000), "USD"), "$12.0k");
        assert_eq!(money(Some(95_000), "EUR"), "€950");
        assert_eq!(money(Some(120_000_000), "GBP"), "£1.2M");
        assert_eq!(money(Some(300_000), "CHF"), "CHF 3.0k");
        assert_eq!(money(None, "USD"), "-");
        assert_eq!(parse_money("12.5k"), Ok(Some(1_250_000)));
        assert_eq!(parse_money(" 12,000 "), Ok(Some(1_200_000)));
        assert_eq!(parse_money(""), Ok(None));
        assert_eq!(
            parse_money("lots").unwrap_err(),
            "not an amount: \"lots\" (expected an amount like 12000, 12,000, 12.5k, 2.5m or 1,200.50)"
        );
        assert_eq!(
            parse_money("-5").unwrap_err(),
            "\"-5\": an amount cannot be negative"
        );
        // The TUI and the CLI share one parser: a comma is never a decimal.
        assert!(parse_money("12,5k").is_err());
        assert!(parse_money("99999999999k").is_err());
    }
}
