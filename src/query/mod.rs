//! The one query language of leadx: the inbox's `/` filter, selection by
//! query, saved views and the headless CLI all parse and match with it.
//!
//! ```text
//! status:pending value:>10k -company:acme "main street" sort:-expires
//! ```
//!
//! - Terms are separated by spaces and ANDed. `-term` or `!term` negates.
//! - Bare words and `"quoted phrases"` match, case-insensitively, any of:
//!   company, domain, summary, note, category, region, the sending and the
//!   receiving partner, the status and the id.
//! - `from:`, `to:`, `partner:` (either side), `category:`, `region:`,
//!   `company:` match a case-insensitive substring of that field; the value
//!   may be quoted (`company:"main street"`).
//! - `status:pending` or `status:pending,accepted` match the status exactly.
//! - `value:`, `commission:`, `age:`, `expires:` compare: `>`, `>=`, `<`,
//!   `<=`, `=` or nothing (equal). `value` is in currency units with an
//!   optional `k` or `m` (`value:>=2.5m`; a referral without an estimate
//!   never matches); `commission` is a whole percent (`commission:>=15`);
//!   `age` (since `created_at`) and `expires` (time left until `expires_at`)
//!   take durations in `s`, `m`, `h`, `d`, `w`, combinable (`age:<1d12h`).
//!   `expires` applies to pending referrals only: no other matches it.
//! - `sort:FIELD` or `sort:-FIELD` sets the sort (the last one wins).
//!
//! A query prints back ([`Display`](std::fmt::Display)) in a canonical form
//! that parses to the same query.
//!
//! [`Query::matches`] tests one referral and allocates nothing on the common
//! path. Over many rows, text terms are bound by reading ten separate
//! strings per referral; a [`TextIndex`] built once from the list lets
//! [`Query::filter_indexed`] answer the same question several times faster.

mod index;
mod parse;
mod sort;
mod text;

#[cfg(test)]
mod tests;

use std::fmt;

pub use index::TextIndex;
pub use sort::{SortField, SortSpec, compare, sort_referrals};

use crate::wire::{Referral, Status, Timestamp};
use text::Needle;

/// Parses `input` as a query (same as [`Query::parse`]).
pub fn parse(input: &str) -> Result<Query, ParseError> {
    Query::parse(input)
}

/// Every field name a query accepts before `:`, for completion and errors.
pub const FIELDS: [&str; 12] = [
    "status",
    "from",
    "to",
    "partner",
    "category",
    "region",
    "company",
    "value",
    "commission",
    "age",
    "expires",
    "sort",
];

/// The comparison operators of `value:`, `commission:`, `age:`, `expires:`,
/// longest first (the parser takes the first that matches); none typed is `=`.
pub(crate) const OPERATORS: [(&str, Cmp); 5] = [
    (">=", Cmp::Ge),
    ("<=", Cmp::Le),
    (">", Cmp::Gt),
    ("<", Cmp::Lt),
    ("=", Cmp::Eq),
];

/// The operators as typed, for help and errors.
pub fn operators() -> impl Iterator<Item = &'static str> {
    OPERATORS.iter().map(|(op, _)| *op)
}

/// The suffixes of an amount (`value:>10k`) and what they multiply by.
pub const AMOUNT_UNITS: [(char, u128); 2] = [('k', 1_000), ('m', 1_000_000)];

/// The units of a duration (`age:<1d12h`) in seconds.
pub const DURATION_UNITS: [(char, u128); 5] = [
    ('s', 1),
    ('m', 60),
    ('h', 3_600),
    ('d', 86_400),
    ('w', 604_800),
];

/// Field names starting with `prefix` (ASCII case-insensitive), for Tab
/// completion; the caller adds the `:`.
pub fn complete_field(prefix: &str) -> Vec<&'static str> {
    FIELDS
        .into_iter()
        .filter(|f| starts_with_ignore_case(f, prefix))
        .collect()
}

/// Values of `field` starting with `prefix`, for Tab completion after
/// `field:`: statuses for `status`, sort fields for `sort` (a leading `-`
/// is kept); empty for fields whose values are free text or numbers.
pub fn complete_value(field: &str, prefix: &str) -> Vec<String> {
    let field = field.to_ascii_lowercase();
    match field.as_str() {
        "status" => {
            // Complete the last item of a comma list.
            let (done, last) = match prefix.rfind(',') {
                Some(i) => prefix.split_at(i + 1),
                None => ("", prefix),
            };
            Status::ALL
                .into_iter()
                .map(Status::as_str)
                .filter(|s| starts_with_ignore_case(s, last))
                .map(|s| format!("{done}{s}"))
                .collect()
        }
        "sort" => {
            let (dash, name) = match prefix.strip_prefix('-') {
                Some(rest) => ("-", rest),
                None => ("", prefix),
            };
            SortField::ALL
                .into_iter()
                .map(SortField::as_str)
                .filter(|s| starts_with_ignore_case(s, name))
                .map(|s| format!("{dash}{s}"))
                .collect()
        }
        _ => Vec::new(),
    }
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// A parsed query: terms (ANDed) and an optional sort.
/// `Query::default()` is empty and matches everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    terms: Vec<Term>,
    sort: Option<SortSpec>,
}

/// Where and why a query failed to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 0-based column, in characters, where the problem is.
    pub column: usize,
    /// What was expected, in words.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

/// One condition, possibly negated.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    negated: bool,
    kind: Kind,
}

/// What a term tests.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// A bare word or phrase: any text field.
    Any(Needle),
    /// `field:text`.
    Text(TextField, Needle),
    /// `status:a,b`: a bit per [`Status`], by its index in `Status::ALL`.
    Status(u16),
    /// `value:` in cents.
    Value(Cmp, i64),
    /// `commission:` in whole percent.
    Commission(Cmp, i64),
    /// `age:` in seconds.
    Age(Cmp, i64),
    /// `expires:` in seconds.
    Expires(Cmp, i64),
}

/// The text fields that `field:value` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextField {
    From,
    To,
    Partner,
    Category,
    Region,
    Company,
}

impl TextField {
    /// Where the field sits in [`searched_text`] (two places for `partner`).
    fn slots(self) -> &'static [usize] {
        match self {
            Self::Company => &[0],
            Self::From => &[1],
            Self::To => &[2],
            Self::Partner => &[1, 2],
            Self::Category => &[3],
            Self::Region => &[5],
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::From => "from",
            Self::To => "to",
            Self::Partner => "partner",
            Self::Category => "category",
            Self::Region => "region",
            Self::Company => "company",
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds(self, actual: i64, wanted: i64) -> bool {
        match self {
            Self::Eq => actual == wanted,
            Self::Lt => actual < wanted,
            Self::Le => actual <= wanted,
            Self::Gt => actual > wanted,
            Self::Ge => actual >= wanted,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }
}

fn status_bit(s: Status) -> u16 {
    let i = Status::ALL.iter().position(|&x| x == s).unwrap_or(0);
    1 << i
}

impl Query {
    /// Parses `input`; on failure says at which column and why.
    pub fn parse(input: &str) -> Result<Query, ParseError> {
        parse::parse(input)
    }

    /// True if there are no terms and no sort.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.sort.is_none()
    }

    /// True if the query has no terms (it may still sort).
    pub fn matches_all(&self) -> bool {
        self.terms.is_empty()
    }

    /// The sort the query asks for, if any.
    pub fn sort(&self) -> Option<SortSpec> {
        self.sort
    }

    /// Sets (or clears) the sort, keeping the terms.
    pub fn set_sort(&mut self, sort: Option<SortSpec>) {
        self.sort = sort;
    }

    /// The same terms with `sort` instead.
    pub fn with_sort(mut self, sort: Option<SortSpec>) -> Query {
        self.sort = sort;
        self
    }

    /// Whether `r` satisfies every term, `now` being the current time (for
    /// `age` and `expires`). Allocates nothing unless a text field holds
    /// non-ASCII text that did not match on the ASCII fast path.
    pub fn matches(&self, r: &Referral, now: Timestamp) -> bool {
        let now = now.timestamp();
        // Cheap terms first: they reject most referrals before any scan.
        self.terms
            .iter()
            .filter(|t| !t.is_text())
            .all(|t| t.test(r, now) != t.negated)
            && self
                .terms
                .iter()
                .filter(|t| t.is_text())
                .all(|t| t.test(r, now) != t.negated)
    }

    /// The referrals among `items` that match, sorted if the query sorts
    /// (otherwise in their original order).
    pub fn apply<'a>(
        &self,
        items: impl IntoIterator<Item = &'a Referral>,
        now: Timestamp,
    ) -> Vec<&'a Referral> {
        let mut out: Vec<&Referral> = items.into_iter().filter(|r| self.matches(r, now)).collect();
        if let Some(spec) = self.sort {
            sort_referrals(&mut out, spec, now);
        }
        out
    }
}

/// The fields a bare word or phrase searches (in an order that
/// [`TextField::slots`] knows).
#[inline]
pub(crate) fn searched_text(r: &Referral) -> [&str; 10] {
    let l = &r.lead;
    [
        &l.company,
        &r.from_partner,
        &r.to_partner,
        &l.category,
        r.status.as_str(),
        l.region.as_deref().unwrap_or(""),
        l.domain.as_deref().unwrap_or(""),
        &r.id,
        l.summary.as_deref().unwrap_or(""),
        r.note.as_deref().unwrap_or(""),
    ]
}

impl std::str::FromStr for Query {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Query, ParseError> {
        Query::parse(s)
    }
}

impl Term {
    fn is_text(&self) -> bool {
        matches!(self.kind, Kind::Any(_) | Kind::Text(..))
    }

    /// Whether the condition holds, before negation.
    fn test(&self, r: &Referral, now: i64) -> bool {
        match &self.kind {
            Kind::Any(n) => searched_text(r).iter().any(|f| n.found_in(f)),
            Kind::Text(field, n) => match field {
                TextField::From => n.found_in(&r.from_partner),
                TextField::To => n.found_in(&r.to_partner),
                TextField::Partner => n.found_in(&r.from_partner) || n.found_in(&r.to_partner),
                TextField::Category => n.found_in(&r.lead.category),
                TextField::Region => r.lead.region.as_deref().is_some_and(|s| n.found_in(s)),
                TextField::Company => n.found_in(&r.lead.company),
            },
            Kind::Status(mask) => mask & status_bit(r.status) != 0,
            Kind::Value(cmp, cents) => r.lead.est_value_cents.is_some_and(|v| cmp.holds(v, *cents)),
            Kind::Commission(cmp, pct) => cmp.holds(i64::from(r.commission_pct), *pct),
            Kind::Age(cmp, secs) => cmp.holds(now - r.created_at.timestamp(), *secs),
            Kind::Expires(cmp, secs) => {
                r.status == Status::Pending && cmp.holds(r.expires_at.timestamp() - now, *secs)
            }
        }
    }
}

impl fmt::Display for Query {
    /// The canonical form: terms in order, single spaces, `sort:` last.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for term in &self.terms {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{term}")?;
        }
        if let Some(sort) = self.sort {
            if !first {
                f.write_str(" ")?;
            }
            write!(f, "sort:{sort}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_str("-")?;
        }
        match &self.kind {
            Kind::Any(n) => write_text(f, n.text(), true),
            Kind::Text(field, n) => {
                write!(f, "{}:", field.as_str())?;
                write_text(f, n.text(), false)
            }
            Kind::Status(mask) => {
                f.write_str("status:")?;
                let mut first = true;
                for s in Status::ALL {
                    if mask & status_bit(s) != 0 {
                        if !first {
                            f.write_str(",")?;
                        }
                        first = false;
                        f.write_str(s.as_str())?;
                    }
                }
                Ok(())
            }
            Kind::Value(cmp, cents) => {
                write!(f, "value:{}{}", cmp.as_str(), cents / 100)?;
                match cents % 100 {
                    0 => Ok(()),
                    c if c % 10 == 0 => write!(f, ".{}", c / 10),
                    c => write!(f, ".{c:02}"),
                }
            }
            Kind::Commission(cmp, pct) => write!(f, "commission:{}{pct}", cmp.as_str()),
            Kind::Age(cmp, secs) => write!(f, "age:{}{}", cmp.as_str(), Span(*secs)),
            Kind::Expires(cmp, secs) => {
                write!(f, "expires:{}{}", cmp.as_str(), Span(*secs))
            }
        }
    }
}

/// Seconds printed in the largest unit that divides them exactly.
struct Span(i64);

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(i64, char); 4] = [(604_800, 'w'), (86_400, 'd'), (3_600, 'h'), (60, 'm')];
        for (size, unit) in UNITS {
            if self.0 != 0 && self.0 % size == 0 {
                return write!(f, "{}{unit}", self.0 / size);
            }
        }
        write!(f, "{}s", self.0)
    }
}

/// Writes `text` bare if it would parse back as itself, else quoted with
/// `"` and `\` escaped. `bare_term` is true for a term on its own (where a
/// leading `-`/`!` or a `:` would change its meaning).
fn write_text(f: &mut fmt::Formatter<'_>, text: &str, bare_term: bool) -> fmt::Result {
    let needs_quotes = text.is_empty()
        || text
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '\\')
        || (bare_term && (text.starts_with(['-', '!']) || text.contains(':')));
    if !needs_quotes {
        return f.write_str(text);
    }
    f.write_str("\"")?;
    for c in text.chars() {
        if c == '"' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}
