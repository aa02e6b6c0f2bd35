//! An optional index for bare-word search over many referrals: the text a
//! bare word searches, lower-cased once and laid out contiguously, so that
//! a search streams through one buffer instead of ten allocations a row.

use crate::wire::{Referral, Timestamp};

use super::{Kind, Query, searched_text};

/// Lower-cased searchable text of a list of referrals, row by row.
///
/// Build it from the same slice (same order) that is then filtered with
/// [`Query::filter_indexed`]; rebuild or [`push`](TextIndex::push) when the
/// list changes.
#[derive(Debug, Clone, Default)]
pub struct TextIndex {
    text: String,
    /// `ends[i]` is where row `i` ends in `text` (it starts at `ends[i-1]`).
    ends: Vec<usize>,
}

impl TextIndex {
    /// The index of `refs`, in their order.
    pub fn new<'a>(refs: impl IntoIterator<Item = &'a Referral>) -> TextIndex {
        let mut index = TextIndex::default();
        for r in refs {
            index.push(r);
        }
        index
    }

    /// Appends `r` as the next row.
    pub fn push(&mut self, r: &Referral) {
        for field in searched_text(r) {
            // NUL ends each field; a NUL inside one becomes U+0001. No
            // needle holds a control character, so neither changes a match
            // and none spans two fields.
            if field.is_ascii() {
                self.text.extend(
                    field
                        .bytes()
                        .map(|b| char::from(b.to_ascii_lowercase().max(1))),
                );
            } else {
                self.text.extend(
                    field
                        .to_lowercase()
                        .chars()
                        .map(|c| if c == '\0' { '\u{1}' } else { c }),
                );
            }
            self.text.push('\0');
        }
        self.ends.push(self.text.len());
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True if there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Row `i`'s text: its searched fields lower-cased, each followed by NUL.
    pub fn row(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
}

impl Query {
    /// The positions in `refs` of the referrals that match, using `index`
    /// (built from `refs`) for bare words and phrases; the same answer as
    /// [`Query::matches`], faster over many rows. Does not sort.
    /// Text terms (bare words, phrases, `company:` and the like) read the
    /// index; the other terms read the referrals.
    ///
    /// # Panics
    ///
    /// If `index` has fewer rows than `refs`.
    pub fn filter_indexed(
        &self,
        refs: &[Referral],
        index: &TextIndex,
        now: Timestamp,
    ) -> Vec<usize> {
        assert!(
            index.len() >= refs.len(),
            "TextIndex has {} rows for {} referrals",
            index.len(),
            refs.len()
        );
        let secs = now.timestamp();
        // Text terms read the index; the others read the referral.
        let mut text_terms = Vec::new();
        let mut other = Vec::new();
        for t in &self.terms {
            match &t.kind {
                Kind::Any(n) => text_terms.push((None, n, t.negated)),
                Kind::Text(field, n) => text_terms.push((Some(field.slots()), n, t.negated)),
                _ => other.push(t),
            }
        }
        let last_slot = text_terms
            .iter()
            .filter_map(|(slots, ..)| slots.and_then(|s| s.iter().max().copied()))
            .max()
            .unwrap_or(0);
        let mut out = Vec::new();
        for (i, r) in refs.iter().enumerate() {
            if !other.iter().all(|t| t.test(r, secs) != t.negated) {
                continue;
            }
            if !text_terms.is_empty() {
                let text = index.row(i);
                let mut fields: Option<[&str; SLOTS]> = None;
                let hit = text_terms.iter().all(|&(slots, needle, negated)| {
                    let found = match slots {
                        // A whole row is long enough for std's SIMD search.
                        None => text.contains(needle.lower()),
                        Some(slots) => {
                            let fields = fields.get_or_insert_with(|| split_slots(text, last_slot));
                            slots.iter().any(|&k| needle.found_in_lowered(fields[k]))
                        }
                    };
                    found != negated
                });
                if !hit {
                    continue;
                }
            }
            out.push(i);
        }
        out
    }
}

/// How many leading fields of a row field terms may name (up to region).
const SLOTS: usize = 6;

/// The fields of an index row up to slot `last` (the rest left empty).
fn split_slots(text: &str, last: usize) -> [&str; SLOTS] {
    let mut out = [""; SLOTS];
    let mut start = 0;
    for slot in out.iter_mut().take(last + 1) {
        let Some(len) = text[start..].find('\0') else {
            break;
        };
        *slot = &text[start..start + len];
        start += len + 1;
    }
    out
}
