//! `--query`: the inbox's query language ([`crate::query`]) for the CLI,
//! with parse errors shown at their column.

use crate::query::{Query, compare};
use crate::sanitize::{clean_line, width};
use crate::wire::{Referral, Timestamp};

use super::Failure;

/// A parsed `--query`.
#[derive(Debug, Clone)]
pub(super) struct Selector(Query);

impl Selector {
    /// Parses `text`; a parse error is a usage error that shows the query
    /// with a caret under the column at fault.
    pub(super) fn parse(text: &str) -> Result<Self, Failure> {
        Query::parse(text)
            .map(Selector)
            .map_err(|e| Failure::usage(error_text(text, e.column, &e.message)))
    }

    /// Whether `r` matches at `now`.
    pub(super) fn matches(&self, r: &Referral, now: Timestamp) -> bool {
        self.0.matches(r, now)
    }

    /// The referrals that match, in the query's sort order if it gives one
    /// (else in the order given).
    pub(super) fn select(&self, items: Vec<Referral>, now: Timestamp) -> Vec<Referral> {
        let mut out: Vec<Referral> = items
            .into_iter()
            .filter(|r| self.0.matches(r, now))
            .collect();
        if let Some(spec) = self.0.sort() {
            out.sort_by(|a, b| compare(a, b, spec, now));
        }
        out
    }
}

/// `bad query at column 8: expected ...`, then the query and a caret under
/// the column (0-based, in characters).
fn error_text(query: &str, column: usize, message: &str) -> String {
    let before: String = query.chars().take(column).collect();
    let pad = " ".repeat(width(&clean_line(&before)));
    format!(
        "bad query at column {}: {}\n  {}\n  {pad}^",
        column + 1,
        clean_line(message),
        clean_line(query)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_point_at_the_column() {
        assert_eq!(
            error_text("status:x value:>1", 7, "expected a status"),
            "bad query at column 8: expected a status\n  status:x value:>1\n         ^"
        );
    }

    #[test]
    fn a_bad_query_is_a_usage_error() {
        match Selector::parse("value:>>") {
            Err(Failure::Message { code, message }) => {
                assert_eq!(code, super::super::EXIT_USAGE);
                assert!(message.starts_with("bad query at column "), "{message}");
                assert!(message.contains("value:>>"), "{message}");
            }
            other => panic!("expected a usage error, got {other:?}"),
        }
    }
}
