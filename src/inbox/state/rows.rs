//! One referral as the inbox holds it, the shared copies of repeated
//! values, and the index from id to entry.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use crate::wire::{ActionKind, DecidedBy, Name, Referral};

/// One referral and what the inbox knows about it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The referral, sanitized, at the highest version seen.
    pub referral: Referral,
    /// The action sent and not yet answered, if any.
    pub in_flight: Option<ActionKind>,
    /// Arrived live and the cursor has not been on it yet (the row's `•`).
    pub fresh: bool,
}

impl Entry {
    /// Wraps a (sanitized) referral.
    pub fn new(referral: Referral) -> Self {
        Self {
            referral,
            in_flight: None,
            fresh: false,
        }
    }
}

/// One shared copy of each repeated value in the referrals held: partner
/// ids, categories, currencies, regions, deciders and forward chains. A
/// hundred thousand referrals name a few dozen partners; decoded from JSON,
/// each would carry its own copies (about half a kilobyte a referral).
#[derive(Debug, Clone, Default)]
pub struct Interner {
    names: HashSet<Name>,
    deciders: HashSet<Arc<DecidedBy>>,
    chains: HashSet<Arc<[Name]>>,
}

impl Interner {
    /// The shared copy of `n` (which becomes it, if it is the first).
    pub fn name(&mut self, n: &Name) -> Name {
        if let Some(x) = self.names.get(n.as_str()) {
            return x.clone();
        }
        self.names.insert(n.clone());
        n.clone()
    }

    /// Replaces every repeated value in `r` with its shared copy.
    pub fn referral(&mut self, r: &mut Referral) {
        r.from_partner = self.name(&r.from_partner);
        r.to_partner = self.name(&r.to_partner);
        r.lead.category = self.name(&r.lead.category);
        r.lead.currency = self.name(&r.lead.currency);
        if let Some(region) = &r.lead.region {
            r.lead.region = Some(self.name(region));
        }
        if let Some(d) = &r.decided_by {
            r.decided_by = Some(match self.deciders.get(&**d) {
                Some(x) => x.clone(),
                None => {
                    let x = Arc::new(DecidedBy {
                        user: self.name(&d.user),
                        name: self.name(&d.name),
                        partner: self.name(&d.partner),
                    });
                    self.deciders.insert(x.clone());
                    x
                }
            });
        }
        r.chain = match self.chains.get(&*r.chain) {
            Some(x) => x.clone(),
            None => {
                let x: Arc<[Name]> = r.chain.iter().map(|n| self.name(n)).collect();
                self.chains.insert(x.clone());
                x
            }
        };
    }

    /// Distinct values held (names, deciders, chains).
    pub fn len(&self) -> (usize, usize, usize) {
        (self.names.len(), self.deciders.len(), self.chains.len())
    }
}

/// Referral id → index in `entries`, without a second copy of every id:
/// an open-addressing table of entry indices placed by the id's hash, the
/// id itself compared against `entries[i].referral.id` on lookup (~4 bytes
/// a slot instead of a cloned `String` and a map bucket per referral).
/// Entries are never removed, so neither are slots.
#[derive(Debug, Clone, Default)]
pub struct IdIndex {
    /// Entry index per slot, [`EMPTY_SLOT`] when free; a power of two long.
    slots: Vec<u32>,
    len: usize,
    hasher: RandomState,
}

pub(super) const EMPTY_SLOT: u32 = u32::MAX;

impl IdIndex {
    fn slot_of(&self, id: &str) -> usize {
        (self.hasher.hash_one(id) as usize) & (self.slots.len() - 1)
    }

    /// The index of the entry whose referral has `id`.
    pub fn get(&self, entries: &[Entry], id: &str) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut s = self.slot_of(id);
        loop {
            let i = self.slots[s];
            if i == EMPTY_SLOT {
                return None;
            }
            if entries[i as usize].referral.id == id {
                return Some(i);
            }
            s = (s + 1) & mask;
        }
    }

    /// Number of ids indexed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no id is indexed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Makes room for `additional` more ids without growing again.
    pub fn reserve(&mut self, entries: &[Entry], additional: usize) {
        let want = (self.len + additional)
            .saturating_mul(2)
            .next_power_of_two();
        if want > self.slots.len() {
            self.rebuild(entries, want.max(16));
        }
    }

    /// Indexes `entries[i]` (already pushed, its id not indexed yet).
    pub fn insert(&mut self, entries: &[Entry], i: u32) {
        self.reserve(entries, 1);
        self.place(entries, i);
        self.len += 1;
    }

    fn place(&mut self, entries: &[Entry], i: u32) {
        let mask = self.slots.len() - 1;
        let mut s = self.slot_of(&entries[i as usize].referral.id);
        while self.slots[s] != EMPTY_SLOT {
            s = (s + 1) & mask;
        }
        self.slots[s] = i;
    }

    fn rebuild(&mut self, entries: &[Entry], slots: usize) {
        let old = std::mem::replace(&mut self.slots, vec![EMPTY_SLOT; slots]);
        for i in old.into_iter().filter(|&i| i != EMPTY_SLOT) {
            self.place(entries, i);
        }
    }
}
