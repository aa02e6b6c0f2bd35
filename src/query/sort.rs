//! Sorting referrals by a column: stable, missing values last in either
//! direction, the id as the final tie-break.

use std::cmp::Ordering;
use std::fmt;

use crate::wire::{Referral, Status, Timestamp};

/// A column to sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortField {
    /// Time since `created_at` (ascending: newest first).
    Age,
    /// Time left until `expires_at`, for pending referrals (others last).
    Expires,
    /// `lead.est_value_cents` (unknown values last).
    Value,
    /// `commission_pct`.
    Commission,
    /// `lead.company`, case-insensitively.
    Company,
    /// The sending partner, then the receiving one, case-insensitively.
    Partner,
    /// The status, in the protocol's order (pending first).
    Status,
    /// `lead.category`, case-insensitively.
    Category,
    /// `lead.region`, case-insensitively (none last).
    Region,
    /// `created_at` (ascending: oldest first).
    Created,
    /// `updated_at` (ascending: least recently updated first).
    Updated,
}

impl SortField {
    /// Every sort field, in the order `s` cycles through them.
    pub const ALL: [SortField; 11] = [
        Self::Age,
        Self::Expires,
        Self::Value,
        Self::Commission,
        Self::Company,
        Self::Partner,
        Self::Status,
        Self::Category,
        Self::Region,
        Self::Created,
        Self::Updated,
    ];

    /// The name used in queries (`sort:value`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Age => "age",
            Self::Expires => "expires",
            Self::Value => "value",
            Self::Commission => "commission",
            Self::Company => "company",
            Self::Partner => "partner",
            Self::Status => "status",
            Self::Category => "category",
            Self::Region => "region",
            Self::Created => "created",
            Self::Updated => "updated",
        }
    }

    /// The field named `s` (ASCII case-insensitive).
    pub fn parse(s: &str) -> Option<SortField> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
    }

    /// The field after this one in [`SortField::ALL`], wrapping around.
    pub fn next(self) -> SortField {
        let i = Self::ALL.iter().position(|&f| f == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }
}

impl fmt::Display for SortField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A sort: which column, and which way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortSpec {
    /// The column.
    pub field: SortField,
    /// Largest first (missing values stay last either way).
    pub descending: bool,
}

impl SortSpec {
    /// Ascending by `field`.
    pub fn ascending(field: SortField) -> Self {
        Self {
            field,
            descending: false,
        }
    }

    /// The same column, the other way.
    pub fn reversed(self) -> Self {
        Self {
            descending: !self.descending,
            ..self
        }
    }

    /// `value` or `-value` (what follows `sort:` in a query).
    pub fn parse(s: &str) -> Option<SortSpec> {
        let (descending, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        SortField::parse(name).map(|field| SortSpec { field, descending })
    }
}

impl fmt::Display for SortSpec {
    /// `value` or `-value`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.descending {
            f.write_str("-")?;
        }
        f.write_str(self.field.as_str())
    }
}

/// Sorts `refs` by `spec`, stably, ties broken by id.
pub fn sort_referrals(refs: &mut [&Referral], spec: SortSpec, now: Timestamp) {
    refs.sort_by(|a, b| compare(a, b, spec, now));
}

/// How `a` and `b` compare under `spec`: the column (missing values last
/// whichever the direction), then the id, ascending.
pub fn compare(a: &Referral, b: &Referral, spec: SortSpec, now: Timestamp) -> Ordering {
    let dir = |o: Ordering| if spec.descending { o.reverse() } else { o };
    let primary = match spec.field {
        // Older is larger: compare creation times the other way round.
        SortField::Age => dir(b.created_at.cmp(&a.created_at)),
        SortField::Expires => {
            let left = |r: &Referral| {
                (r.status == Status::Pending).then(|| (r.expires_at - now).num_seconds())
            };
            missing_last(left(a), left(b), dir)
        }
        SortField::Value => missing_last(a.lead.est_value_cents, b.lead.est_value_cents, dir),
        SortField::Commission => dir(a.commission_pct.cmp(&b.commission_pct)),
        SortField::Company => dir(cmp_text(&a.lead.company, &b.lead.company)),
        SortField::Partner => dir(cmp_text(&a.from_partner, &b.from_partner)
            .then_with(|| cmp_text(&a.to_partner, &b.to_partner))),
        SortField::Status => dir(a.status.cmp(&b.status)),
        SortField::Category => dir(cmp_text(&a.lead.category, &b.lead.category)),
        SortField::Region => missing_last(
            a.lead.region.as_deref().map(TextKey),
            b.lead.region.as_deref().map(TextKey),
            dir,
        ),
        SortField::Created => dir(a.created_at.cmp(&b.created_at)),
        SortField::Updated => dir(a.updated_at.cmp(&b.updated_at)),
    };
    primary.then_with(|| a.id.cmp(&b.id))
}

/// Present values in `dir`'s order, then the missing ones.
fn missing_last<T: Ord>(
    a: Option<T>,
    b: Option<T>,
    dir: impl Fn(Ordering) -> Ordering,
) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => dir(a.cmp(&b)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Text ordered case-insensitively.
struct TextKey<'a>(&'a str);

impl PartialEq for TextKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for TextKey<'_> {}

impl PartialOrd for TextKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TextKey<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_text(self.0, other.0)
    }
}

/// Case-insensitive order, then the exact text so that the order is total.
fn cmp_text(a: &str, b: &str) -> Ordering {
    for (&x, &y) in a.as_bytes().iter().zip(b.as_bytes()) {
        if x == y {
            continue;
        }
        if x >= 0x80 || y >= 0x80 {
            return cmp_unicode(a, b);
        }
        let (x, y) = (x.to_ascii_lowercase(), y.to_ascii_lowercase());
        if x != y {
            return x.cmp(&y);
        }
    }
    // One is a prefix of the other, ignoring ASCII case: the shorter first.
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Compares the Unicode lower-case forms, then the exact text.
fn cmp_unicode(a: &str, b: &str) -> Ordering {
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
        .then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_order_ignores_case_and_agrees_with_unicode_lowercase() {
        let words = [
            "",
            "a",
            "A",
            "ab",
            "Ab",
            "b",
            "Bäckerei",
            "bäckerei",
            "BÄCKEREI",
            "Backerei",
            "café",
            "Café",
            "cafe",
            "Zürich",
            "zz",
            "Z",
            "main street",
            "Main Street Bakery",
        ];
        for a in words {
            for b in words {
                assert_eq!(cmp_text(a, b), cmp_unicode(a, b), "{a:?} vs {b:?}");
                assert_eq!(cmp_text(a, b), cmp_text(b, a).reverse(), "{a:?} vs {b:?}");
            }
        }
        assert_eq!(cmp_text("apple", "Banana"), Ordering::Less);
        assert_eq!(cmp_text("Ab", "ab"), Ordering::Less);
    }
}
