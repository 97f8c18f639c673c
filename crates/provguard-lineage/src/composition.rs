//! The composition of the admitted records: counts and shares by origin and by source.
//!
//! Counts are whole records. Shares fed to the dynamics are weights: a record attributed to
//! one source weighs 1 for it; an ambiguous record weighs `1/m` for each of its `m`
//! candidates. Curated weight is the part of a source's weight that people curated: records of
//! a source registered as curated, and the chosen side of preference pairs.

use std::collections::BTreeMap;

use crate::{Attribution, Lineage, Origin, SourceId};

/// What the composition needs to know about a registered source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceKind {
    /// Human or synthetic.
    pub origin: Origin,
    /// Registered with `--curated`: every text of it was chosen by people.
    pub curated: bool,
}

/// Per-source tallies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceTally {
    /// Records attributed to this source alone.
    pub records: u64,
    /// Records plus `1/m` of each ambiguous record that names this source among `m`.
    pub weight: f64,
    /// The part of `weight` that people curated.
    pub curated_weight: f64,
}

/// Running composition of admitted records.
#[derive(Debug, Clone)]
pub struct Composition {
    kinds: Vec<SourceKind>,
    /// Admitted records.
    pub records: u64,
    /// Records attributed to one human source.
    pub human: u64,
    /// Records attributed to one synthetic source.
    pub synthetic: u64,
    /// Records no registered text matched.
    pub unknown: u64,
    /// Records matched to several sources.
    pub ambiguous: u64,
    /// Tallies by source id.
    pub by_source: BTreeMap<SourceId, SourceTally>,
    /// Ambiguous records by their candidate set.
    pub ambiguous_sets: BTreeMap<Vec<SourceId>, u64>,
}

impl Composition {
    /// An empty composition over the given source table (indexed by [`SourceId`]).
    #[must_use]
    pub fn new(kinds: Vec<SourceKind>) -> Self {
        Self {
            kinds,
            records: 0,
            human: 0,
            synthetic: 0,
            unknown: 0,
            ambiguous: 0,
            by_source: BTreeMap::new(),
            ambiguous_sets: BTreeMap::new(),
        }
    }

    /// Adds one admitted record; `curated_side` is true for the chosen side of a preference
    /// pair (people picked it).
    pub fn add(&mut self, attribution: &Attribution, curated_side: bool) {
        self.records += 1;
        match &attribution.lineage {
            Lineage::Unknown => self.unknown += 1,
            Lineage::Source(id) => {
                match self.kind(*id).origin {
                    Origin::Human => self.human += 1,
                    Origin::Synthetic => self.synthetic += 1,
                }
                self.credit(*id, 1.0, curated_side);
                self.by_source.entry(*id).or_default().records += 1;
            }
            Lineage::Ambiguous(candidates) => {
                self.ambiguous += 1;
                let part = 1.0 / candidates.len() as f64;
                for id in candidates {
                    self.credit(*id, part, curated_side);
                }
                *self.ambiguous_sets.entry(candidates.clone()).or_default() += 1;
            }
        }
    }

    fn credit(&mut self, id: SourceId, weight: f64, curated_side: bool) {
        let curated = curated_side || self.kind(id).curated;
        let tally = self.by_source.entry(id).or_default();
        tally.weight += weight;
        if curated {
            tally.curated_weight += weight;
        }
    }

    fn kind(&self, id: SourceId) -> SourceKind {
        self.kinds[id as usize]
    }

    /// The origin of a source of this composition's table.
    #[must_use]
    pub fn origin_of(&self, id: SourceId) -> Origin {
        self.kind(id).origin
    }

    /// Share of admitted records in `count`; `None` when nothing was admitted.
    #[must_use]
    pub fn share(&self, count: f64) -> Option<f64> {
        (self.records > 0).then(|| count / self.records as f64)
    }

    /// Weight of human origin: human records plus the human candidates' parts of ambiguous
    /// records (`h_k` times the record count).
    #[must_use]
    pub fn human_weight(&self) -> f64 {
        self.by_source
            .iter()
            .filter(|(id, _)| self.kind(**id).origin == Origin::Human)
            .map(|(_, t)| t.weight)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribution(lineage: Lineage) -> Attribution {
        Attribution {
            lineage,
            matched_texts: 1,
            total_texts: 1,
        }
    }

    #[test]
    fn ambiguous_records_split_their_weight() {
        let kinds = vec![
            SourceKind {
                origin: Origin::Human,
                curated: false,
            },
            SourceKind {
                origin: Origin::Synthetic,
                curated: false,
            },
            SourceKind {
                origin: Origin::Synthetic,
                curated: true,
            },
        ];
        let mut c = Composition::new(kinds);
        c.add(&attribution(Lineage::Source(1)), false);
        c.add(&attribution(Lineage::Ambiguous(vec![0, 1, 2])), false);
        c.add(&attribution(Lineage::Unknown), true);
        c.add(&attribution(Lineage::Source(0)), true);

        assert_eq!(
            (c.records, c.human, c.synthetic, c.unknown, c.ambiguous),
            (4, 1, 1, 1, 1)
        );
        let third = 1.0 / 3.0;
        assert!((c.by_source[&1].weight - (1.0 + third)).abs() < 1e-12);
        assert_eq!(c.by_source[&1].records, 1);
        assert!((c.by_source[&2].curated_weight - third).abs() < 1e-12);
        assert!((c.by_source[&0].curated_weight - 1.0).abs() < 1e-12);
        assert!((c.human_weight() - (1.0 + third)).abs() < 1e-12);
        assert_eq!(c.ambiguous_sets[&vec![0, 1, 2]], 1);
    }
}
