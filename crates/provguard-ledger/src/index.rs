//! The in-memory index in front of the segments.
//!
//! Fingerprints are blake3 hashes, so they are spread evenly; the index keeps the first 128
//! bits of each as a sorted array of `u128` keys, beside a parallel array of `u32` ids of the
//! set of (source, field) pairs that registered it. Sets are interned: a ledger has few
//! distinct ones. A table of offsets by the keys' top `b` bits, with `b` about
//! `log2(n) - 3`, narrows a lookup to a run of about eight keys, so a lookup costs one or two
//! cache misses whatever the ledger's size.
//!
//! Memory: 16 bytes of key and 4 of set id per fingerprint, plus about half a byte of offset
//! table: 20.5 bytes, so about 20 MB per million fingerprints (the sort when loading needs
//! the same again for a moment).
//!
//! Two distinct fingerprints share a 128-bit key with probability about `n^2 / 2^129`, below
//! `1e-22` at `n = 10^8`; the full 32 bytes stay in the segments.

use std::collections::HashMap;

use provguard_lineage::{Fingerprint, SourceId};

/// The (source, field) pairs that registered one fingerprint, and their sources.
#[derive(Debug, Clone, Default)]
struct Set {
    /// Sorted, without repeats.
    entries: Vec<(SourceId, u32)>,
    /// Sorted, without repeats.
    sources: Vec<SourceId>,
}

/// A sorted, memory-bounded index from fingerprints to the sources that registered them.
#[derive(Debug, Default)]
pub struct FingerprintIndex {
    keys: Vec<u128>,
    sets: Vec<u32>,
    /// `offsets[p]` is the first position whose key's top `bits` bits are `>= p`.
    offsets: Vec<u32>,
    bits: u32,
    table: Vec<Set>,
    interned: HashMap<Vec<(SourceId, u32)>, u32>,
}

/// The index's key of a fingerprint: its first 16 bytes, big-endian, so keys sort as bytes.
#[must_use]
pub fn key(fingerprint: &Fingerprint) -> u128 {
    let mut first = [0u8; 16];
    first.copy_from_slice(&fingerprint.0[..16]);
    u128::from_be_bytes(first)
}

impl FingerprintIndex {
    /// Builds an index from (key, source, field) triples in any order, with repeats.
    #[must_use]
    pub fn build(mut triples: Vec<(u128, SourceId, u32)>) -> Self {
        triples.sort_unstable();
        triples.dedup();
        let mut index = Self::default();
        let mut keys = Vec::new();
        let mut sets = Vec::new();
        let mut at = 0;
        while at < triples.len() {
            let key = triples[at].0;
            let end = at + triples[at..].partition_point(|t| t.0 == key);
            let entries: Vec<(SourceId, u32)> =
                triples[at..end].iter().map(|&(_, s, f)| (s, f)).collect();
            keys.push(key);
            sets.push(index.intern(entries));
            at = end;
        }
        drop(triples);
        // Pushed one by one, the arrays have grown by doubling: give back the slack.
        keys.shrink_to_fit();
        sets.shrink_to_fit();
        index.keys = keys;
        index.sets = sets;
        index.reindex();
        index
    }

    /// Number of distinct fingerprints.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when the index holds nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Bytes the index holds on the heap (keys, set ids, offsets; the few sets aside).
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.keys.capacity() * 16 + self.sets.capacity() * 4 + self.offsets.capacity() * 4
    }

    fn intern(&mut self, entries: Vec<(SourceId, u32)>) -> u32 {
        if let Some(&id) = self.interned.get(&entries) {
            return id;
        }
        let mut sources: Vec<SourceId> = entries.iter().map(|&(s, _)| s).collect();
        sources.dedup();
        let id = self.table.len() as u32;
        self.table.push(Set {
            entries: entries.clone(),
            sources,
        });
        self.interned.insert(entries, id);
        id
    }

    /// Rebuilds the offset table for the current keys.
    fn reindex(&mut self) {
        // About eight keys per slot; at least one slot bit, at most 2^26 slots.
        let n = self.keys.len().max(1);
        self.bits = (usize::BITS - n.leading_zeros())
            .saturating_sub(3)
            .clamp(1, 26);
        let slots = 1usize << self.bits;
        let mut offsets = Vec::with_capacity(slots + 1);
        let mut at = 0usize;
        for slot in 0..slots {
            while at < self.keys.len() && self.slot(self.keys[at]) < slot {
                at += 1;
            }
            offsets.push(at as u32);
        }
        offsets.push(self.keys.len() as u32);
        self.offsets = offsets;
    }

    fn slot(&self, key: u128) -> usize {
        (key >> (128 - self.bits)) as usize
    }

    fn position(&self, key: u128) -> Result<usize, usize> {
        if self.keys.is_empty() {
            return Err(0);
        }
        let slot = self.slot(key);
        let (start, end) = (self.offsets[slot] as usize, self.offsets[slot + 1] as usize);
        self.keys[start..end]
            .binary_search(&key)
            .map(|i| start + i)
            .map_err(|i| start + i)
    }

    /// The sources that registered `fingerprint`, sorted, without repeats.
    #[must_use]
    pub fn sources_of(&self, fingerprint: &Fingerprint) -> &[SourceId] {
        match self.position(key(fingerprint)) {
            Ok(i) => &self.table[self.sets[i] as usize].sources,
            Err(_) => &[],
        }
    }

    /// True when the index holds the (fingerprint, source, field) entry.
    #[must_use]
    pub fn contains(&self, key: u128, source: SourceId, field: u32) -> bool {
        self.position(key).is_ok_and(|i| {
            self.table[self.sets[i] as usize]
                .entries
                .binary_search(&(source, field))
                .is_ok()
        })
    }

    /// Adds entries, merging them into the sorted arrays: `O(n + m log m)`.
    pub fn extend(&mut self, mut added: Vec<(u128, SourceId, u32)>) {
        added.sort_unstable();
        added.dedup();

        // Entries for keys already present change their set in place; the rest are merged.
        let mut fresh: Vec<(u128, u32)> = Vec::new();
        let mut at = 0;
        while at < added.len() {
            let key = added[at].0;
            let end = at + added[at..].partition_point(|t| t.0 == key);
            let position = self.position(key);
            let mut entries = match position {
                Ok(i) => self.table[self.sets[i] as usize].entries.clone(),
                Err(_) => Vec::new(),
            };
            entries.extend(added[at..end].iter().map(|&(_, s, f)| (s, f)));
            entries.sort_unstable();
            entries.dedup();
            let set = self.intern(entries);
            match position {
                Ok(i) => self.sets[i] = set,
                Err(_) => fresh.push((key, set)),
            }
            at = end;
        }
        if fresh.is_empty() {
            return;
        }

        let old_keys = std::mem::take(&mut self.keys);
        let old_sets = std::mem::take(&mut self.sets);
        let total = old_keys.len() + fresh.len();
        let (mut keys, mut sets) = (Vec::with_capacity(total), Vec::with_capacity(total));
        let (mut i, mut j) = (0, 0);
        while i < old_keys.len() || j < fresh.len() {
            if j == fresh.len() || (i < old_keys.len() && old_keys[i] < fresh[j].0) {
                keys.push(old_keys[i]);
                sets.push(old_sets[i]);
                i += 1;
            } else {
                keys.push(fresh[j].0);
                sets.push(fresh[j].1);
                j += 1;
            }
        }
        self.keys = keys;
        self.sets = sets;
        self.reindex();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(i: u32) -> Fingerprint {
        Fingerprint::of_text(&format!("text {i}")).0
    }

    #[test]
    fn built_and_extended_indexes_agree() {
        let triples: Vec<_> = (0..5000).map(|i| (key(&fp(i)), i % 3, 0)).collect();
        let built = FingerprintIndex::build(triples.clone());
        let mut extended = FingerprintIndex::build(triples[..1000].to_vec());
        extended.extend(triples[1000..].to_vec());
        extended.extend(vec![(key(&fp(7)), 2, 1)]);
        assert_eq!(built.len(), 5000);
        assert_eq!(extended.len(), 5000);
        for i in 0..5000 {
            assert_eq!(built.sources_of(&fp(i)), &[i % 3], "{i}");
            if i != 7 {
                assert_eq!(extended.sources_of(&fp(i)), &[i % 3], "{i}");
            }
        }
        assert_eq!(extended.sources_of(&fp(7)), &[1, 2]);
        assert!(extended.contains(key(&fp(7)), 2, 1));
        assert!(!extended.contains(key(&fp(7)), 2, 0));
        assert!(built.sources_of(&fp(9999)).is_empty());
    }
}
