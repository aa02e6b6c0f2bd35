//! The lower-cased text of every entry, scanned for one-word filters.

use std::collections::HashMap;

use super::Entry;
use crate::wire::Referral;

/// Where one entry's filter text is: its range in [`FilterText`]'s
/// buffer and its few-valued fields' tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Slot {
    start: u32,
    end: u32,
    /// Index in `FilterText::tuples`; [`NO_TUPLE`] for an entry never set.
    tuple: u32,
}

pub(super) const NO_TUPLE: u32 = u32::MAX;

/// Which of `crate::query::searched_text`'s fields take few distinct
/// values (both partners, category, status, region): stored once per
/// distinct combination, not once per entry.
pub(super) const FEW_VALUED: [bool; 10] = [
    false, true, true, true, true, true, false, false, false, false,
];

/// The lower-cased text a bare word searches (see
/// `crate::query::searched_text`) of every entry. The fields with few
/// distinct values (partners, category, status, region) are kept once per
/// distinct combination (a "tuple") and referenced by index; the rest
/// (company, domain, id, summary, note) sits in ONE buffer, in the order
/// it was written. A keystroke tests each tuple once, then scans the buffer
/// front to back and marks the entries that match, instead of chasing
/// 100,000 heap strings in display order. A replaced entry's old text is
/// garbage until compaction. Every field ends with a separator no typed
/// filter contains, so a match never spans two fields.
///
/// [`FilterText::deferred`] holds nothing until the first one-word filter
/// asks for it ([`FilterText::ensure`]): an SSH server's sessions that
/// never filter keep no second, lower-cased copy of their referrals.
#[derive(Debug, Clone)]
pub struct FilterText {
    /// Kept up to date; false while deferred and not yet asked for.
    built: bool,
    text: String,
    /// Entry index → its live range in `text` and its tuple.
    current: Vec<Slot>,
    garbage: usize,
    /// Every distinct tuple's text, lower-cased, separators included.
    tuples: Vec<Box<str>>,
    /// Tuple text → index in `tuples`.
    tuple_ids: HashMap<Box<str>, u32>,
}

/// Appends `part` lower-cased (as the query language lowers it) and the
/// field separator.
pub(super) fn push_lowered(out: &mut String, part: &str) {
    if part.is_ascii() {
        let from = out.len();
        out.push_str(part);
        out[from..].make_ascii_lowercase();
    } else {
        out.push_str(&part.to_lowercase());
    }
    out.push('\u{1f}');
}

pub(super) fn offset(n: usize) -> u32 {
    u32::try_from(n).expect("the filter text stays under 4 GiB")
}

impl Default for FilterText {
    /// Kept up to date from the first referral on.
    fn default() -> Self {
        Self {
            built: true,
            text: String::new(),
            current: Vec::new(),
            garbage: 0,
            tuples: Vec::new(),
            tuple_ids: HashMap::new(),
        }
    }
}

impl FilterText {
    /// Built from the entries when first needed ([`FilterText::ensure`]),
    /// not as referrals arrive.
    pub fn deferred() -> Self {
        Self {
            built: false,
            ..Self::default()
        }
    }

    /// Builds the text of every entry if it was deferred; then [`Self::scan`]
    /// may be called.
    pub fn ensure(&mut self, entries: &[Entry]) {
        if self.built {
            return;
        }
        self.built = true;
        for (i, e) in entries.iter().enumerate() {
            self.set(offset(i), &e.referral);
        }
        self.shrink_to_fit();
    }

    /// Indexes (or re-indexes) entry `entry`'s referral (nothing while
    /// deferred: [`Self::ensure`] will).
    pub fn set(&mut self, entry: u32, r: &Referral) {
        if !self.built {
            return;
        }
        let fields = crate::query::searched_text(r);
        let mut tuple = String::new();
        for (part, few) in fields.iter().zip(FEW_VALUED) {
            if few {
                push_lowered(&mut tuple, part);
            }
        }
        let tuple = match self.tuple_ids.get(tuple.as_str()) {
            Some(&t) => t,
            None => {
                let t = offset(self.tuples.len());
                let text: Box<str> = tuple.into();
                self.tuples.push(text.clone());
                self.tuple_ids.insert(text, t);
                t
            }
        };
        let start = offset(self.text.len());
        for (part, few) in fields.iter().zip(FEW_VALUED) {
            if !few {
                push_lowered(&mut self.text, part);
            }
        }
        let slot = Slot {
            start,
            end: offset(self.text.len()),
            tuple,
        };
        let e = entry as usize;
        if e < self.current.len() {
            let old = self.current[e];
            self.garbage += (old.end - old.start) as usize;
            self.current[e] = slot;
        } else {
            self.current.resize(
                e + 1,
                Slot {
                    start: 0,
                    end: 0,
                    tuple: NO_TUPLE,
                },
            );
            self.current[e] = slot;
        }
        if self.garbage > 1 << 20 && self.garbage > self.text.len() / 2 {
            self.compact();
        }
    }

    /// Frees the text of replaced entries.
    fn compact(&mut self) {
        let mut text = String::with_capacity(self.text.len() - self.garbage);
        for slot in &mut self.current {
            let start = offset(text.len());
            text.push_str(&self.text[slot.start as usize..slot.end as usize]);
            slot.start = start;
            slot.end = offset(text.len());
        }
        self.text = text;
        self.garbage = 0;
    }

    /// Whether entry `entry` contains `needle` (lower-case).
    pub fn matches(&self, entry: u32, needle: &str) -> bool {
        let slot = self.current[entry as usize];
        slot.tuple != NO_TUPLE
            && (self.tuples[slot.tuple as usize].contains(needle)
                || self.text[slot.start as usize..slot.end as usize].contains(needle))
    }

    /// One bit per entry: which contain `needle` (lower-case), in one
    /// front-to-back pass over the buffer (after [`Self::ensure`]).
    pub fn scan(&self, needle: &str) -> Vec<u64> {
        debug_assert!(self.built, "scan of a deferred FilterText before ensure");
        let tuple_hit: Vec<bool> = self.tuples.iter().map(|t| t.contains(needle)).collect();
        let mut bits = vec![0u64; self.current.len().div_ceil(64)];
        for (e, slot) in self.current.iter().enumerate() {
            if slot.tuple != NO_TUPLE
                && (tuple_hit[slot.tuple as usize]
                    || self.text[slot.start as usize..slot.end as usize].contains(needle))
            {
                bits[e / 64] |= 1 << (e % 64);
            }
        }
        bits
    }

    /// Bytes of entry text held (live and garbage).
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.current.is_empty()
    }

    /// Gives back spare capacity (after a bulk load).
    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.current.shrink_to_fit();
    }
}

/// Whether bit `i` is set in a [`FilterText::scan`] result.
pub fn bit(bits: &[u64], i: u32) -> bool {
    bits[i as usize / 64] & (1 << (i % 64)) != 0
}
