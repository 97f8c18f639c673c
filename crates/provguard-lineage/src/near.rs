//! Near-copy lineage: attributing records that are edited copies of registered texts.
//!
//! Registration keeps, per source, a Bloom filter of the hashed shingles of every text the
//! source registered ([`SourceFilter`], sized from the expected shingle count and a target
//! false-positive rate, both stored with it). A record's text is looked up by its shingles
//! ([`crate::shingle`]):
//!
//! - its **containment** in a source is the share of its shingles the source's filter holds,
//!   corrected for the filter's false-positive rate `p`, so a text that shares nothing with
//!   the source scores 0 on average, not `p`;
//! - every source whose containment reaches the threshold (`NearConfig::threshold`, default
//!   [`DEFAULT_THRESHOLD`]) and is within `NearConfig::margin` (default [`DEFAULT_MARGIN`]) of
//!   the best source's is a candidate; one candidate gives that source, several make the text
//!   ambiguous, and the containment is the confidence. The margin is there because answers
//!   to one prompt open alike: the first half of a model's answer holds all its own shingles
//!   (containment 1) and often half of another model's (0.56); that is a copy of the first,
//!   not a text of either. Two sources that both hold the text (equal containments) stay
//!   ambiguous;
//! - a **spliced** text (the outputs of two sources joined) names both: it is spliced when
//!   one cut splits its shingles into a head and a tail of at least `NearConfig::min_part`
//!   shingles each, the head reaching the threshold in one source and not in the other, and
//!   the tail the other way round, and when the cut explains at least `threshold * min_part`
//!   more shingles than the better of the two sources alone (a closing phrase that one model
//!   often writes, added to another's text, is not a splice). The cut is the one that places
//!   most shingles in their side's source. A spliced text is reported as ambiguous between the
//!   two (each gets half in the composition) with the kind [`MatchKind::Spliced`], and the
//!   smaller of the two containments as its confidence. The splice rule is checked before the
//!   whole-text rule, so a splice whose longer part alone reaches the threshold still names
//!   both sources.
//!
//! Shingles a response shares with its own prompt are no evidence of who wrote it: anyone who
//! rewrites, corrects or quotes the input copies them. Given the record's prompt side
//! ([`NearIndex::lookup_in_context`], [`attribute_near`]), they are left out before the
//! containments are measured; without them, a human's and a model's corrections of the same
//! sentence look like copies of each other.
//!
//! Exact matches stay first: [`attribute_near`] takes the exact stage's [`Attribution`] and
//! looks texts up by shingles only when the exact stage matched nothing or only some of a
//! record's texts. Near lookups never override an exact match.
//!
//! The threshold of 0.5, the margin of 0.25 and the shingle length of 4 were chosen on the
//! accuracy benchmark (`benches/lineage_accuracy.rs`, which prints a sweep of shingle lengths
//! and thresholds): lightly edited copies keep far more than half of their shingles (a text
//! truncated to half keeps all of them, ten percent of words replaced keep about two thirds),
//! while texts written independently share a few percent, even when they answer the same
//! prompt. A lower threshold or shorter shingles take more human texts for a model's; a
//! higher one or longer shingles lose the texts with words replaced.
//!
//! Texts of fewer than 20 tokens (under 17 shingles) are looked up too, but one edit sways
//! them: the benchmark reports them apart, and the targets hold from 20 tokens on.
//!
//! TODO(#7): a lookup probes every source's filters, so its cost grows with the number of
//! sources: with seven sources, probing is now the largest part of a near lookup (the
//! `scan_stages` benchmark: about 47 MB/s of text for the probes against 90 MB/s for
//! shingling); many sources want one filter keyed by source and shingle, or a
//! shingle-to-sources map.
//! TODO(#6): a filter cannot grow; a source registered again gets one more filter (the index
//! takes several per source), and the ledger should rebuild them when they are many.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

pub use crate::filter::{DEFAULT_FALSE_POSITIVE_RATE, FilterSettings, SourceFilter};
use crate::normalize::normalise;
use crate::shingle::Shingler;
use crate::{Attribution, Evidence, Fingerprint, Lineage, LineageError, SourceId, attribute};

/// The containment a source must reach for a text to be attributed to it.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// How far below the best containment a source may be and still be a candidate.
pub const DEFAULT_MARGIN: f64 = 0.25;

/// The rules of near-copy attribution.
#[derive(Debug, Clone, PartialEq)]
pub struct NearConfig {
    /// Containment a source must reach to be a candidate.
    pub threshold: f64,
    /// Shingles a text needs for a near lookup; shorter texts are left to the exact stage.
    pub min_shingles: usize,
    /// Shingles each side of a splice needs.
    pub min_part: usize,
    /// How far below the best containment another source may be and still be a candidate.
    pub margin: f64,
}

impl Default for NearConfig {
    fn default() -> Self {
        Self {
            threshold: DEFAULT_THRESHOLD,
            min_shingles: 1,
            min_part: 16,
            margin: DEFAULT_MARGIN,
        }
    }
}

/// A text's containment in one source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Containment {
    /// The source.
    pub source: SourceId,
    /// Shingles of the text the source's filters hold.
    pub found: usize,
    /// Corrected containment in `[0, 1]`.
    pub value: f64,
}

/// How a record, or one of its texts, was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    /// Nothing matched.
    None,
    /// By exact fingerprints only.
    Exact,
    /// Some text by its shingles.
    Near,
    /// Some text by its shingles, as a splice of two sources' texts.
    Spliced,
}

impl MatchKind {
    /// The lowercase name used in reports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Exact => "exact",
            Self::Near => "near",
            Self::Spliced => "spliced",
        }
    }
}

/// The result of looking one text up by its shingles.
#[derive(Debug, Clone, PartialEq)]
pub struct NearMatch {
    /// The decided lineage of the text.
    pub lineage: Lineage,
    /// [`MatchKind::Near`], [`MatchKind::Spliced`], or [`MatchKind::None`].
    pub kind: MatchKind,
    /// The containment of the decision: of the source, the smallest of the candidates', the
    /// smaller of a splice's two parts; 0 when nothing matched.
    pub confidence: f64,
    /// The text's shingle count, less those found in its prompt.
    pub shingles: usize,
    /// Shingles left out because the prompt has them too.
    pub from_context: usize,
    /// Every source with a containment above 0, highest first.
    pub containments: Vec<Containment>,
}

impl NearMatch {
    fn unmatched(shingles: usize, containments: Vec<Containment>) -> Self {
        Self {
            lineage: Lineage::Unknown,
            kind: MatchKind::None,
            confidence: 0.0,
            shingles,
            from_context: 0,
            containments,
        }
    }
}

/// The near-copy evidence: the filters of every source, made with one shingler.
#[derive(Debug, Clone)]
pub struct NearIndex {
    shingler: Shingler,
    config: NearConfig,
    sources: BTreeMap<SourceId, SourceFilters>,
}

/// The filters of one source and their joint false-positive rate.
#[derive(Debug, Clone, Default)]
struct SourceFilters {
    filters: Vec<SourceFilter>,
    p: f64,
}

impl NearIndex {
    /// An empty index for shingles of `shingler`, deciding by `config`.
    ///
    /// ```
    /// use provguard_lineage::near::{NearConfig, NearIndex, SourceFilter};
    /// use provguard_lineage::shingle::Shingler;
    /// use provguard_lineage::Lineage;
    /// let shingler = Shingler::default();
    /// let text = "Paris is the capital of France and its largest city by far.";
    /// let filter = SourceFilter::from_shingles(&shingler, &shingler.shingles(text), 0.001)?;
    /// let mut index = NearIndex::new(shingler, NearConfig::default());
    /// index.add(7, filter)?;
    /// let found = index.lookup("Sure! Paris is the capital of France and its largest city.");
    /// assert_eq!(found.lineage, Lineage::Source(7));
    /// # Ok::<(), provguard_lineage::LineageError>(())
    /// ```
    #[must_use]
    pub fn new(shingler: Shingler, config: NearConfig) -> Self {
        Self {
            shingler,
            config,
            sources: BTreeMap::new(),
        }
    }

    /// Adds a filter of `source`. A source may have several filters (one per registration); a
    /// shingle is in the source when any of them holds it.
    pub fn add(&mut self, source: SourceId, filter: SourceFilter) -> Result<(), LineageError> {
        let s = filter.settings();
        if s.scheme != self.shingler.scheme() || s.n as usize != self.shingler.n() {
            return Err(LineageError::ShingleMismatch {
                source_id: source,
                found: format!("{}/{}", s.scheme, s.n),
                expected: format!("{}/{}", self.shingler.scheme(), self.shingler.n()),
            });
        }
        let entry = self.sources.entry(source).or_default();
        entry.filters.push(filter);
        entry.p = Self::false_positive_rate(&entry.filters);
        Ok(())
    }

    /// The same filters, deciding by `config`.
    #[must_use]
    pub fn with_config(mut self, config: NearConfig) -> Self {
        self.config = config;
        self
    }

    /// The bytes the filters' bits take in memory, and how many distinct shingles were
    /// inserted into them (a shingle of two sources counts twice): the cost of near-copy
    /// lookups per registered shingle.
    #[must_use]
    pub fn footprint(&self) -> (u64, u64) {
        self.sources
            .values()
            .flat_map(|s| &s.filters)
            .fold((0, 0), |(bytes, items), f| {
                let s = f.settings();
                (bytes + s.num_bits / 8, items + s.items)
            })
    }

    /// The shingler of the index.
    #[must_use]
    pub fn shingler(&self) -> &Shingler {
        &self.shingler
    }

    /// The rules of the index.
    #[must_use]
    pub fn config(&self) -> &NearConfig {
        &self.config
    }

    /// The false-positive rate of a source: the chance that one of its filters holds a shingle
    /// never inserted.
    fn false_positive_rate(filters: &[SourceFilter]) -> f64 {
        // A shingle is a false positive of the source unless every filter rejects it:
        //
        //     p = 1 - prod_i (1 - p_i)
        1.0 - filters
            .iter()
            .map(|f| 1.0 - f.false_positive_rate())
            .product::<f64>()
    }

    /// Looks `text` up by its shingles.
    #[must_use]
    pub fn lookup(&self, text: &str) -> NearMatch {
        self.lookup_shingles(&self.shingler.shingles(text))
    }

    /// Looks `text` up by the shingles it does not share with `context`, the prompt side of
    /// its record (instruction, input, earlier turns).
    #[must_use]
    pub fn lookup_in_context(&self, text: &str, context: &[&str]) -> NearMatch {
        self.lookup_normalised_in_context(&normalise(text).text, context)
    }

    /// [`NearIndex::lookup_in_context`] of a text that is already normalised (the context
    /// is not).
    fn lookup_normalised_in_context(&self, normalised: &str, context: &[&str]) -> NearMatch {
        let shingles = self.shingler.shingles_of_normalised(normalised);
        if context.is_empty() {
            return self.lookup_shingles(&shingles);
        }
        let copied: HashSet<u64> = context
            .iter()
            .flat_map(|c| self.shingler.shingles(c))
            .collect();
        let own: Vec<u64> = shingles
            .iter()
            .copied()
            .filter(|h| !copied.contains(h))
            .collect();
        let mut found = self.lookup_shingles(&own);
        found.from_context = shingles.len() - own.len();
        found
    }

    /// Looks a text up by its shingles (in text order), by the rules of the module
    /// documentation.
    #[must_use]
    pub fn lookup_shingles(&self, shingles: &[u64]) -> NearMatch {
        let total = shingles.len();
        if total == 0 || total < self.config.min_shingles {
            return NearMatch::unmatched(total, Vec::new());
        }

        // Probe every source's filters once; keep which shingles each source holds.
        let hits: Vec<Hits> = self
            .sources
            .iter()
            .map(|(&source, entry)| Hits {
                source,
                p: entry.p,
                held: shingles
                    .iter()
                    .map(|&h| entry.filters.iter().any(|f| f.contains(h)))
                    .collect(),
            })
            .filter(|h| h.held.iter().any(|&b| b))
            .collect();

        let mut containments: Vec<Containment> = hits
            .iter()
            .map(|h| {
                let found = h.held.iter().filter(|&&b| b).count();
                Containment {
                    source: h.source,
                    found,
                    value: corrected(found, total, h.p),
                }
            })
            .filter(|c| c.value > 0.0)
            .collect();
        containments.sort_by(|a, b| b.value.total_cmp(&a.value).then(a.source.cmp(&b.source)));

        // A splice names both its sources, whatever the whole text's containments say.
        if let Some((a, b, confidence)) = self.splice(&hits, total) {
            let mut pair = vec![a, b];
            pair.sort_unstable();
            return NearMatch {
                lineage: Lineage::Ambiguous(pair),
                kind: MatchKind::Spliced,
                confidence,
                shingles: total,
                from_context: 0,
                containments,
            };
        }

        let best = containments.first().map_or(0.0, |c| c.value);
        let candidates: Vec<&Containment> = containments
            .iter()
            .filter(|c| c.value >= self.config.threshold && best - c.value <= self.config.margin)
            .collect();
        let lineage = match candidates.as_slice() {
            [] => return NearMatch::unmatched(total, containments),
            [one] => Lineage::Source(one.source),
            several => {
                let mut ids: Vec<SourceId> = several.iter().map(|c| c.source).collect();
                ids.sort_unstable();
                Lineage::Ambiguous(ids)
            }
        };
        let confidence = candidates.iter().map(|c| c.value).fold(1.0, f64::min);
        NearMatch {
            lineage,
            kind: MatchKind::Near,
            confidence,
            shingles: total,
            from_context: 0,
            containments,
        }
    }

    /// The splice rule: the pair of sources `(head, tail)` and the confidence, if the text is
    /// a splice. Only the four sources holding most of the text's shingles are tried.
    fn splice(&self, hits: &[Hits], total: usize) -> Option<(SourceId, SourceId, f64)> {
        let min_part = self.config.min_part.max(1);
        if hits.len() < 2 || total < 2 * min_part {
            return None;
        }
        let mut ranked: Vec<(&Hits, Vec<usize>)> = hits.iter().map(|h| (h, h.prefix())).collect();
        ranked.sort_by_key(|(h, prefix)| (std::cmp::Reverse(prefix[total]), h.source));
        ranked.truncate(4);

        let threshold = self.config.threshold;
        let mut best: Option<(usize, SourceId, SourceId, f64)> = None;
        for (head, head_prefix) in &ranked {
            for (tail, tail_prefix) in &ranked {
                if head.source == tail.source {
                    continue;
                }

                // The cut k that places most shingles: head's hits before k, tail's after.
                let found_in = |prefix: &[usize], from: usize, to: usize| prefix[to] - prefix[from];
                let Some((score, std::cmp::Reverse(k))) = (min_part..=total - min_part)
                    .map(|k| {
                        let score = found_in(head_prefix, 0, k) + found_in(tail_prefix, k, total);
                        (score, std::cmp::Reverse(k))
                    })
                    .max()
                else {
                    continue;
                };

                // Each side must belong to its source and not to the other.
                let c = |h: &Hits, prefix: &[usize], from: usize, to: usize| {
                    corrected(found_in(prefix, from, to), to - from, h.p)
                };
                let head_in_head = c(head, head_prefix, 0, k);
                let tail_in_tail = c(tail, tail_prefix, k, total);
                let alone = head_prefix[total].max(tail_prefix[total]);
                let is_splice = head_in_head >= threshold
                    && tail_in_tail >= threshold
                    && c(head, head_prefix, k, total) < threshold
                    && c(tail, tail_prefix, 0, k) < threshold
                    && (score - alone) as f64 >= threshold * min_part as f64;
                if is_splice && best.is_none_or(|(s, ..)| score > s) {
                    best = Some((
                        score,
                        head.source,
                        tail.source,
                        head_in_head.min(tail_in_tail),
                    ));
                }
            }
        }
        best.map(|(_, a, b, confidence)| (a, b, confidence))
    }
}

/// Which shingles of a text one source holds.
struct Hits {
    source: SourceId,
    p: f64,
    held: Vec<bool>,
}

impl Hits {
    /// `prefix[i]` is the number of held shingles among the first `i`.
    fn prefix(&self) -> Vec<usize> {
        let mut prefix = Vec::with_capacity(self.held.len() + 1);
        prefix.push(0);
        let mut running = 0;
        for &held in &self.held {
            running += usize::from(held);
            prefix.push(running);
        }
        prefix
    }
}

/// The containment of a text in a source, corrected for the false-positive rate `p`.
///
/// ```
/// use provguard_lineage::near::corrected;
/// assert_eq!(corrected(50, 100, 0.0), 0.5);
/// assert!((corrected(55, 100, 0.1) - 0.5).abs() < 1e-12);
/// assert_eq!(corrected(1, 100, 0.1), 0.0);
/// ```
#[must_use]
pub fn corrected(found: usize, total: usize, p: f64) -> f64 {
    // A shingle the source holds is found; one it does not is found with probability p. With
    // a true share c of held shingles, the expected found share is f = c + (1 - c) p, so
    //
    //     c = (f - p) / (1 - p),   f = found / total,   clamped to [0, 1]
    if total == 0 {
        return 0.0;
    }
    let f = found as f64 / total as f64;
    ((f - p) / (1.0 - p)).clamp(0.0, 1.0)
}

/// How a record was matched, exact evidence first.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordMatch {
    /// The decided lineage, with the texts matched by either stage counted as matched.
    pub attribution: Attribution,
    /// The kind of the weakest evidence used: exact, near, spliced, or none.
    pub kind: MatchKind,
    /// 1 for exact matches; the smallest confidence of the near-matched texts otherwise; 0
    /// when nothing matched.
    pub confidence: f64,
    /// The near lookups made, one per text the exact stage left unmatched (none when the exact
    /// stage matched every text).
    pub near: Vec<NearMatch>,
}

/// Completes the exact stage's attribution of a record with near lookups.
///
/// `exact` is [`attribute()`]'s result for the record; `unmatched` are the record's response
/// texts whose fingerprints matched nothing; `context` is the record's prompt side, whose
/// shingles are no evidence ([`NearIndex::lookup_in_context`]; may be empty). When the exact
/// stage matched every text, no lookup is made. Otherwise each unmatched text is looked up by
/// its shingles, and the candidates of the exact stage (as one group) and of every
/// near-matched text are combined by the rule of [`crate::attribute`](mod@crate::attribute):
/// the sources all groups have in common, else all of them.
///
/// ```
/// use provguard_lineage::near::{attribute_near, MatchKind, NearConfig, NearIndex};
/// use provguard_lineage::shingle::Shingler;
/// use provguard_lineage::{Attribution, Lineage};
/// let index = NearIndex::new(Shingler::default(), NearConfig::default());
/// let exact = Attribution { lineage: Lineage::Source(2), matched_texts: 1, total_texts: 1 };
/// let m = attribute_near(exact, &[], &[], &index);
/// assert_eq!((m.kind, m.confidence), (MatchKind::Exact, 1.0));
/// ```
#[must_use]
pub fn attribute_near(
    exact: Attribution,
    unmatched: &[&str],
    context: &[&str],
    index: &NearIndex,
) -> RecordMatch {
    complete_near(exact, unmatched.len(), |i| {
        index.lookup_in_context(unmatched[i], context)
    })
}

/// [`attribute_near`] with the lookup of the `i`th of `unmatched` texts given.
fn complete_near(
    exact: Attribution,
    unmatched: usize,
    lookup: impl Fn(usize) -> NearMatch,
) -> RecordMatch {
    let exact_kind = if exact.matched_texts > 0 {
        MatchKind::Exact
    } else {
        MatchKind::None
    };
    if exact.matched_texts == exact.total_texts || unmatched == 0 {
        let confidence = if exact.matched_texts > 0 { 1.0 } else { 0.0 };
        return RecordMatch {
            attribution: exact,
            kind: exact_kind,
            confidence,
            near: Vec::new(),
        };
    }

    // Look the unmatched texts up; keep each matched one's candidates as a group.
    let near: Vec<NearMatch> = (0..unmatched).map(lookup).collect();
    let mut groups: Vec<Vec<SourceId>> = Vec::new();
    match &exact.lineage {
        Lineage::Unknown => {}
        Lineage::Source(id) => groups.push(vec![*id]),
        Lineage::Ambiguous(ids) => groups.push(ids.clone()),
    }
    let mut kind = exact_kind;
    let mut confidence: f64 = if exact.matched_texts > 0 {
        1.0
    } else {
        f64::INFINITY
    };
    let mut near_matched = 0;
    for m in &near {
        let group = match &m.lineage {
            Lineage::Unknown => continue,
            Lineage::Source(id) => vec![*id],
            Lineage::Ambiguous(ids) => ids.clone(),
        };
        groups.push(group);
        near_matched += 1;
        kind = kind.max(m.kind);
        confidence = confidence.min(m.confidence);
    }

    let lineage = combine(&groups);
    RecordMatch {
        attribution: Attribution {
            lineage,
            matched_texts: exact.matched_texts + near_matched,
            total_texts: exact.total_texts,
        },
        kind,
        confidence: if confidence.is_finite() {
            confidence
        } else {
            0.0
        },
        near,
    }
}

/// Fingerprints a record's response texts, attributes them exactly, and completes the
/// attribution with near lookups of the texts that matched nothing ([`attribute_near`]);
/// `context` is the record's prompt side.
#[must_use]
pub fn attribute_texts(
    texts: &[&str],
    context: &[&str],
    evidence: &impl Evidence,
    index: &NearIndex,
) -> RecordMatch {
    // Each text is normalised once, for its fingerprint and, if that matches nothing, for
    // its shingles.
    let normalised: Vec<_> = texts.iter().map(|t| normalise(t).text).collect();
    let fingerprints: Vec<Fingerprint> = normalised
        .iter()
        .map(|n| Fingerprint::of_normalised(n))
        .collect();
    let exact = attribute(&fingerprints, evidence);
    let unmatched: Vec<&str> = normalised
        .iter()
        .zip(&fingerprints)
        .filter(|(_, f)| evidence.sources_of(f).is_empty())
        .map(|(n, _)| n.as_ref())
        .collect();
    complete_near(exact, unmatched.len(), |i| {
        index.lookup_normalised_in_context(unmatched[i], context)
    })
}

/// The candidates of several groups: the sources all have in common, else all of them.
fn combine(groups: &[Vec<SourceId>]) -> Lineage {
    let Some((first, rest)) = groups.split_first() else {
        return Lineage::Unknown;
    };
    let mut common = first.clone();
    for g in rest {
        common.retain(|s| g.contains(s));
    }
    let mut candidates = if common.is_empty() {
        groups.concat()
    } else {
        common
    };
    candidates.sort_unstable();
    candidates.dedup();
    match candidates.as_slice() {
        [] => Lineage::Unknown,
        [one] => Lineage::Source(*one),
        _ => Lineage::Ambiguous(candidates),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shingler() -> Shingler {
        Shingler::default()
    }

    const A: &str = "Photosynthesis is the process by which green plants use sunlight, water and \
        carbon dioxide to make glucose and oxygen. It takes place mainly in the leaves, inside \
        the chloroplasts, where the pigment chlorophyll absorbs light energy and passes it on \
        to the reactions that build sugars.";
    const B: &str = "To change a flat tyre, first loosen the wheel nuts slightly while the car is \
        still on the ground, then raise it with the jack until the wheel is clear. Remove the \
        nuts, swap the wheel for the spare, tighten the nuts by hand and lower the car before \
        tightening them fully in a star pattern.";
    const C: &str = "The French Revolution began in 1789 when financial crisis, bad harvests and \
        resentment of privilege led the Estates General to declare itself a National Assembly \
        and, within weeks, the people of Paris stormed the Bastille.";

    fn index_of(texts: &[(SourceId, &str)]) -> NearIndex {
        let s = shingler();
        let mut index = NearIndex::new(s.clone(), NearConfig::default());
        for &(id, text) in texts {
            let filter = SourceFilter::from_shingles(&s, &s.shingles(text), 0.001).unwrap();
            index.add(id, filter).unwrap();
        }
        index
    }

    #[test]
    fn containment_is_corrected_for_false_positives() {
        // 10 of 100 shingles found with p = 0.1 is what chance gives: containment 0.
        assert!(corrected(10, 100, 0.1).abs() < 1e-12);
        assert!((corrected(100, 100, 0.1) - 1.0).abs() < 1e-12);
        assert!((corrected(55, 100, 0.1) - 0.5).abs() < 1e-12);
        assert!(corrected(0, 0, 0.1).abs() < 1e-12);

        // A nearly full filter is expected to answer yes to almost anything.
        let s = shingler();
        let mut full = SourceFilter::new(&s, 10, 0.01).unwrap();
        for h in 0..10_000_u64 {
            full.insert(h.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        }
        assert!(
            full.false_positive_rate() > 0.99,
            "{}",
            full.false_positive_rate()
        );
        let mut index = NearIndex::new(s.clone(), NearConfig::default());
        index.add(1, full).unwrap();
        let m = index.lookup(C);
        assert_eq!(m.lineage, Lineage::Unknown);
    }

    #[test]
    fn edited_copy_is_attributed_with_its_containment() {
        let index = index_of(&[(1, A), (2, B)]);
        let half: String = A.split(' ').take(25).collect::<Vec<_>>().join(" ");
        let m = index.lookup(&format!("Sure! Here you go: {half}"));
        assert_eq!(m.lineage, Lineage::Source(1));
        assert_eq!(m.kind, MatchKind::Near);
        assert!(
            m.confidence > 0.8 && m.confidence <= 1.0,
            "{}",
            m.confidence
        );
        assert_eq!(index.lookup(C).lineage, Lineage::Unknown);
    }

    #[test]
    fn text_of_two_sources_is_ambiguous() {
        let index = index_of(&[(1, A), (2, A), (3, B)]);
        let m = index.lookup(A);
        assert_eq!(m.lineage, Lineage::Ambiguous(vec![1, 2]));
        assert_eq!(m.kind, MatchKind::Near);
    }

    #[test]
    fn spliced_outputs_name_both_sources() {
        let index = index_of(&[(1, A), (2, B), (3, C)]);
        for joined in [
            format!("{A}\n\n{B}"),
            format!("{B} {C}"),
            format!("{C}\n{A}"),
        ] {
            let m = index.lookup(&joined);
            assert_eq!(m.kind, MatchKind::Spliced, "{joined}");
            assert!(m.confidence > 0.9);
        }
        assert_eq!(
            index.lookup(&format!("{A}\n\n{B}")).lineage,
            Lineage::Ambiguous(vec![1, 2])
        );

        // A long head and a short tail still name both.
        let m = index.lookup(&format!(
            "{A} {}",
            B.split(' ').take(20).collect::<Vec<_>>().join(" ")
        ));
        assert_eq!(m.lineage, Lineage::Ambiguous(vec![1, 2]));

        // A text of one source is not a splice.
        assert_eq!(index.lookup(B).kind, MatchKind::Near);
    }

    #[test]
    fn exact_matches_are_not_looked_up_again() {
        let index = index_of(&[(1, A), (2, B)]);
        let exact = Attribution {
            lineage: Lineage::Source(3),
            matched_texts: 1,
            total_texts: 1,
        };
        // B would be found near source 2, but the exact stage decided already.
        let m = attribute_near(exact.clone(), &[B], &[], &index);
        assert_eq!(
            (m.attribution, m.kind, m.near.len()),
            (exact, MatchKind::Exact, 0)
        );
    }

    #[test]
    fn partial_exact_matches_are_completed_by_near_lookups() {
        let index = index_of(&[(1, A), (2, B)]);
        let exact = Attribution {
            lineage: Lineage::Source(2),
            matched_texts: 1,
            total_texts: 3,
        };
        let edited_b = B.replace("spare", "spare wheel");
        let m = attribute_near(exact, &[&edited_b, C], &[], &index);
        assert_eq!(m.attribution.lineage, Lineage::Source(2));
        assert_eq!((m.attribution.matched_texts, m.kind), (2, MatchKind::Near));
        assert!(m.attribution.is_partial());
        assert_eq!(m.near.len(), 2);

        // Exact says 2, a near text says 1: a mixed record names both.
        let exact = Attribution {
            lineage: Lineage::Source(2),
            matched_texts: 1,
            total_texts: 2,
        };
        let m = attribute_near(exact, &[A], &[], &index);
        assert_eq!(m.attribution.lineage, Lineage::Ambiguous(vec![1, 2]));
    }

    #[test]
    fn unknown_records_are_looked_up() {
        struct Nothing;
        impl Evidence for Nothing {
            fn sources_of(&self, _: &Fingerprint) -> &[SourceId] {
                &[]
            }
        }
        let index = index_of(&[(1, A), (2, B)]);
        let m = attribute_texts(&[&A.to_uppercase()], &[], &Nothing, &index);
        assert_eq!(m.attribution.lineage, Lineage::Source(1));
        assert_eq!(m.kind, MatchKind::Near);
        let m = attribute_texts(&[C], &[], &Nothing, &index);
        assert_eq!(
            (m.attribution.lineage, m.kind),
            (Lineage::Unknown, MatchKind::None)
        );
        assert!(m.confidence.abs() < 1e-12);
    }

    #[test]
    fn shingles_copied_from_the_prompt_are_no_evidence() {
        // A model and a person who both quote the sentence they were asked about share the
        // quotation, which neither wrote.
        let sentence = "The committee have decided to postpone the annual meeting until the end \
            of next month because of the storm.";
        let prompt = format!("Is this sentence grammatical? '{sentence}'");
        let model = format!(
            "{sentence} Yes, this sentence is grammatical in British English, where collective \
             nouns can take plural verbs."
        );
        let person = format!("{sentence} Fine in British usage.");
        let index = index_of(&[(1, &model)]);
        assert_eq!(index.lookup(&person).lineage, Lineage::Source(1));
        let m = index.lookup_in_context(&person, &[&prompt]);
        assert_eq!(m.lineage, Lineage::Unknown);
        assert!(m.from_context > m.shingles, "{m:?}");
    }

    #[test]
    fn filters_of_another_shingle_length_are_refused() {
        let five = Shingler::new(5).unwrap();
        let filter = SourceFilter::from_shingles(&five, &five.shingles(A), 0.001).unwrap();
        let mut index = NearIndex::new(shingler(), NearConfig::default());
        assert!(matches!(
            index.add(4, filter),
            Err(LineageError::ShingleMismatch { source_id: 4, .. })
        ));
        assert!(matches!(
            SourceFilter::new(&five, 10, 1.0),
            Err(LineageError::FalsePositiveRate { .. })
        ));
    }
}
