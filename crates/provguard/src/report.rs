//! The scan report: what `--format json` prints and `--report FILE` writes.
//!
//! The report is versioned by `schema_version`; a field is only ever added within a version.
//! A quantity that is undefined is `null`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use provguard_dynamics::ModelAnalysis;
use provguard_gate::{Level, Policy, Reason};
use provguard_ingest::schema::SchemaError;
use provguard_ingest::{Discovery, Locator, Scope};
use provguard_ledger::{RecordedScan, SourceEntry};
use provguard_lineage::Composition;
use serde::Serialize;

/// Version of the report's layout; `schemas/report.schema.json` describes it.
pub const SCHEMA_VERSION: u32 = 1;

/// How many problems a report lists; the rest are counted in `errors_not_listed`.
pub const MAX_LISTED_PROBLEMS: usize = 1000;

/// A problem with one record, or with a file from some point on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// Where: file and line, column, byte offset, row group and row, or array index.
    #[serde(flatten)]
    pub locator: Locator,
    /// The field at fault, when one is.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// One record, or the (rest of the) file.
    pub scope: Scope,
}

impl Problem {
    /// A problem with one record.
    #[must_use]
    pub fn at(locator: &Locator, field: &str, message: &str) -> Self {
        Self {
            locator: locator.clone(),
            field: field.to_owned(),
            message: message.to_owned(),
            hint: None,
            scope: Scope::Record,
        }
    }

    /// A problem from a record that does not fit its schema.
    #[must_use]
    pub fn from_schema(locator: &Locator, e: &SchemaError) -> Self {
        let mut p = Self::at(locator, &e.field, &e.to_string());
        p.hint.clone_from(&e.hint);
        p
    }
}

/// The whole report of a scan.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Version of this layout.
    pub schema_version: u32,
    /// The tool and its version.
    pub tool: String,
    /// The model the dataset is meant to train.
    pub home: String,
    /// The normalisation the fingerprints were made under.
    pub normalisation: String,
    /// Admitted records: the base of every share.
    pub records: u64,
    /// Every record read, and where it went.
    pub accounting: Accounting,
    /// The files read and the files passed over.
    pub inputs: Inputs,
    /// Lineage of the admitted records.
    pub composition: CompositionReport,
    /// The shares the dynamics use, before unknown records are folded.
    pub measured: crate::Measured,
    /// An order-independent digest of the admitted records' fingerprints: the same content
    /// gives the same id whatever its order or file layout.
    pub content_id: String,
    /// The ecosystem model fed by the composition.
    pub dynamics: DynamicsReport,
    /// This batch against the last scan of the same home model recorded in the ledger;
    /// `null` when none was recorded.
    pub baseline: Option<Baseline>,
    /// The policy the verdict was made by, every limit and rule as applied.
    pub policy: Policy,
    /// `pass`, `flag` or `block`.
    pub verdict: Level,
    /// Every limit crossed, most severe first.
    pub reasons: Vec<Reason>,
    /// Records (or rests of files) that could not be read, up to [`MAX_LISTED_PROBLEMS`].
    pub errors: Vec<Problem>,
    /// Problems beyond the listed ones.
    pub errors_not_listed: u64,
    /// Degraded work that continued.
    pub warnings: Vec<Problem>,
}

/// Where every record went: `records_read = admitted + rejected`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Accounting {
    /// Records met in the input. A file that could not be read from some point on counts as
    /// one rejected record there: what it still held is unknown.
    pub records_read: u64,
    /// Records read, valid and measured.
    pub admitted: u64,
    /// Records that could not be read or did not fit their schema.
    pub rejected: u64,
    /// Rejected records written aside for inspection (none until a quarantine folder is set).
    pub quarantined: u64,
    /// Blank lines skipped (not records).
    pub blank_lines: u64,
}

/// The files of a scan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inputs {
    /// Files read.
    pub files: Vec<String>,
    /// Files found in folders that are not data files, passed over.
    pub ignored: Vec<String>,
    /// The dataset split each file read belongs to, as a dataset hub lays folders out
    /// (`train`, `test`, `validation`, ...; [`provguard_ingest::split_of`]), `null` when its
    /// place names none.
    pub splits: BTreeMap<String, Option<String>>,
}

impl Inputs {
    /// The inputs of a scan of `given` (the paths on the command line) that found `discovery`.
    ///
    /// A file's split is named by its path below the folder that holds the path given, so
    /// that folders above what the user named (`/home/train/...`) never name a split; a file
    /// given by name is judged by the path as given.
    #[must_use]
    pub fn new(given: &[PathBuf], discovery: &Discovery) -> Self {
        let shown = |files: &[PathBuf]| files.iter().map(|f| f.display().to_string()).collect();
        let splits = discovery
            .files
            .iter()
            .map(|file| {
                let root = given
                    .iter()
                    .filter(|root| file.starts_with(root) && *root != file)
                    .max_by_key(|root| root.components().count());
                let below = root
                    .and_then(|root| root.parent())
                    .and_then(|parent| file.strip_prefix(parent).ok())
                    .unwrap_or(file);
                let split = provguard_ingest::split_of(below).map(str::to_owned);
                (file.display().to_string(), split)
            })
            .collect();
        Self {
            files: shown(&discovery.files),
            ignored: shown(&discovery.ignored),
            splits,
        }
    }
}

/// Records and share of one origin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct OriginCount {
    /// Records.
    pub records: u64,
    /// Share of admitted records; `null` when nothing was admitted.
    pub share: Option<f64>,
}

/// Lineage of the admitted records.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CompositionReport {
    /// By origin: `human`, `synthetic`, `unknown`, `ambiguous`.
    pub by_origin: BTreeMap<&'static str, OriginCount>,
    /// By registered source, for every source that any admitted record matched.
    pub by_source: BTreeMap<String, SourceCount>,
    /// Records whose text several sources registered.
    pub ambiguous: AmbiguousReport,
    /// Records by schema.
    pub by_schema: BTreeMap<&'static str, u64>,
    /// Records by flag (system turns, empty turns, no response text, ...).
    pub flags: BTreeMap<String, u64>,
    /// Records that matched only in part (some response turns unknown).
    pub partial_matches: u64,
    /// Provenance the records declare about themselves, against the hash evidence.
    pub declared: DeclaredReport,
    /// Records by how their lineage was found: by exact fingerprints, by shingles (near
    /// copies), as a splice of two sources' texts, or not at all.
    pub by_match: MatchCounts,
    /// Mean confidence (containment) of the records matched `near` or `spliced`; `null` when
    /// there are none.
    pub near_mean_confidence: Option<f64>,
    /// The admitted records of each file by origin and by source, so that a limit crossed
    /// can be traced to the files that cross it.
    pub by_file: BTreeMap<String, FileComposition>,
}

impl CompositionReport {
    /// The counts of `composition` by origin and by source, and its ambiguous records with
    /// their candidate sets (most records first), named by `sources`; the other parts empty,
    /// for the scan that counted them to fill in.
    #[must_use]
    pub fn of(c: &Composition, sources: &[SourceEntry]) -> Self {
        let count = |records: u64| OriginCount {
            records,
            share: c.share(records as f64),
        };
        let by_origin = BTreeMap::from([
            ("human", count(c.human)),
            ("synthetic", count(c.synthetic)),
            ("unknown", count(c.unknown)),
            ("ambiguous", count(c.ambiguous)),
        ]);
        let by_source = c
            .by_source
            .iter()
            .map(|(id, t)| {
                let s = &sources[*id as usize];
                let entry = SourceCount {
                    origin: s.origin.as_str(),
                    records: t.records,
                    weight: t.weight,
                    share: c.share(t.weight),
                    curated: (t.weight > 0.0).then(|| t.curated_weight / t.weight),
                };
                (s.name.clone(), entry)
            })
            .collect();
        let mut candidates: Vec<CandidateSet> = c
            .ambiguous_sets
            .iter()
            .map(|(ids, records)| CandidateSet {
                sources: ids
                    .iter()
                    .map(|id| sources[*id as usize].name.clone())
                    .collect(),
                records: *records,
            })
            .collect();
        candidates.sort_by(|a, b| b.records.cmp(&a.records).then(a.sources.cmp(&b.sources)));
        Self {
            by_origin,
            by_source,
            ambiguous: AmbiguousReport {
                records: c.ambiguous,
                candidates,
            },
            ..Self::default()
        }
    }
}

/// The admitted records of one file.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FileComposition {
    /// Admitted records.
    pub records: u64,
    /// Records attributed to a human source.
    pub human: u64,
    /// Records attributed to a synthetic source.
    pub synthetic: u64,
    /// Records whose text no source registered.
    pub unknown: u64,
    /// Records whose text several sources registered.
    pub ambiguous: u64,
    /// Each source the file's records were attributed to, alone or among candidates.
    pub by_source: BTreeMap<String, FileSource>,
}

/// One source's records in one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileSource {
    /// Records attributed to the source, alone or among the candidates of an ambiguous
    /// record.
    pub records: u64,
    /// The line of the first of them, when the file has lines (JSON Lines, CSV, TSV).
    pub first_line: Option<u64>,
}

impl FileComposition {
    /// Counts one admitted record of this file: its origin (`human`, `synthetic`, `unknown`
    /// or `ambiguous`) and the sources it was attributed to.
    pub fn add<'a>(
        &mut self,
        origin: &str,
        sources: impl IntoIterator<Item = &'a str>,
        line: Option<u64>,
    ) {
        self.records += 1;
        match origin {
            "human" => self.human += 1,
            "synthetic" => self.synthetic += 1,
            "ambiguous" => self.ambiguous += 1,
            _ => self.unknown += 1,
        }
        for name in sources {
            let source = self.by_source.entry(name.to_owned()).or_default();
            source.records += 1;
            if source.first_line.is_none() {
                source.first_line = line;
            }
        }
    }
}

/// This batch against the last recorded scan of the same home model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baseline {
    /// When the scan compared with was recorded, in seconds since the Unix epoch.
    pub at: u64,
    /// Its content id; equal to this batch's when the same records were scanned again.
    pub content_id: String,
    /// Whether this batch has the same content as the recorded scan.
    pub same_content: bool,
    /// Its admitted records.
    pub records: u64,
    /// Its human share `h`, before unknown records are folded.
    pub human_share: f64,
    /// Its unknown share `u`.
    pub unknown_share: f64,
    /// Its share of every synthetic source, by name.
    pub model_shares: BTreeMap<String, f64>,
    /// This batch minus the recorded scan.
    pub change: BaselineChange,
}

/// Differences between this batch and the baseline, this batch minus the baseline.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BaselineChange {
    /// Of the admitted record count.
    pub records: i64,
    /// Of the human share.
    pub human_share: f64,
    /// Of the unknown share.
    pub unknown_share: f64,
    /// Of each synthetic source's share, for every source in either (absent counts as 0).
    pub model_shares: BTreeMap<String, f64>,
}

impl Baseline {
    /// The comparison of `batch` (with content id `content_id`) with the last scan of `home`
    /// among `recorded` (oldest first, as the ledger lists them); `None` when there is none.
    #[must_use]
    pub fn last(
        recorded: &[RecordedScan],
        home: &str,
        batch: &crate::Measured,
        content_id: &str,
    ) -> Option<Self> {
        let last = recorded.iter().rev().find(|s| s.home == home)?;
        let mut model_shares = BTreeMap::new();
        for name in last.models.keys().chain(batch.models.keys()) {
            let now = batch.models.get(name).copied().unwrap_or(0.0);
            let then = last.models.get(name).copied().unwrap_or(0.0);
            model_shares.insert(name.clone(), now - then);
        }
        let records = i64::try_from(batch.records).unwrap_or(i64::MAX)
            - i64::try_from(last.records).unwrap_or(i64::MAX);
        Some(Self {
            at: last.at,
            content_id: last.content.clone(),
            same_content: last.content == content_id,
            records: last.records,
            human_share: last.human,
            unknown_share: last.unknown,
            model_shares: last.models.clone(),
            change: BaselineChange {
                records,
                human_share: batch.human - last.human,
                unknown_share: batch.unknown - last.unknown,
                model_shares,
            },
        })
    }
}

/// Admitted records by match kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MatchCounts {
    /// Every matched text matched exactly.
    pub exact: u64,
    /// Some text matched by its shingles.
    pub near: u64,
    /// Some text matched as a splice of two sources' texts.
    pub spliced: u64,
    /// Nothing matched.
    pub none: u64,
}

impl MatchCounts {
    /// Counts one record matched by `kind`.
    pub fn add(&mut self, kind: provguard_lineage::MatchKind) {
        use provguard_lineage::MatchKind;
        match kind {
            MatchKind::None => self.none += 1,
            MatchKind::Exact => self.exact += 1,
            MatchKind::Near => self.near += 1,
            MatchKind::Spliced => self.spliced += 1,
        }
    }
}

/// One source's part of the composition.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SourceCount {
    /// `human` or `synthetic`.
    pub origin: &'static str,
    /// Records attributed to this source alone.
    pub records: u64,
    /// Records plus `1/m` of each ambiguous record naming it among `m` candidates.
    pub weight: f64,
    /// `weight` over admitted records: the share the dynamics use.
    pub share: Option<f64>,
    /// Share of this source's weight that people curated (`c_kj`).
    pub curated: Option<f64>,
}

/// Ambiguous records and their candidates.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AmbiguousReport {
    /// Records matched to several sources.
    pub records: u64,
    /// Each candidate set with its record count, largest first.
    pub candidates: Vec<CandidateSet>,
}

/// A set of sources that registered the same texts.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateSet {
    /// The sources.
    pub sources: Vec<String>,
    /// Records matching exactly this set.
    pub records: u64,
}

/// Self-declared provenance checked against the hash evidence.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeclaredReport {
    /// Records that declare a source, model or generator.
    pub records: u64,
    /// Declarations the evidence supports.
    pub agree: u64,
    /// Declarations the evidence contradicts (a model's output declared human, another
    /// model named); these never count as declared.
    pub conflict: u64,
    /// Declarations about records the evidence cannot place.
    pub unverified: u64,
    /// The first conflicts, with their locators.
    pub conflicts: Vec<Problem>,
}

/// The ecosystem quantities of the home model.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DynamicsReport {
    /// `stable`, `unanchored` or `divergent`; `null` when nothing was admitted.
    pub regime: Option<String>,
    /// Whether every record of the home model traces back to people.
    pub anchored: Option<bool>,
    /// How unknown records were folded.
    pub unknown_rule: &'static str,
    /// `h_k` after folding.
    pub human_share: Option<f64>,
    /// `w_kk` after folding: the home model's own outputs (and unknown records folded there).
    pub self_share: Option<f64>,
    /// `w_kj` for each other model `j`, after folding.
    pub model_shares: BTreeMap<String, f64>,
    /// `X_k`: the share of what the home model learns from people that reached it through
    /// other models.
    pub cross_influence_share: Option<f64>,
    /// `D_k`: model generations a record has passed through since it left a person.
    pub synthetic_depth: Option<f64>,
    /// `v*_k / v_H`: the human spread the home model keeps, with the admitted record count as
    /// the sample size.
    pub diversity_retention: Option<f64>,
    /// `r(M)`.
    pub spectral_radius: Option<f64>,
    /// `r(W)`.
    pub lineage_spectral_radius: Option<f64>,
    /// Every model of the ecosystem the batch was judged in, with its quantities.
    pub models: Vec<ModelAnalysis>,
    /// Self- and cross-influence of every curation share on every model it reaches.
    pub influence: Vec<provguard_dynamics::Influence>,
    /// The home model before and after this batch, when the ledger recorded earlier scans of
    /// it; `null` otherwise.
    pub what_if: Option<WhatIfReport>,
    /// The ecosystem the batch was judged in, with this batch as the home model's data;
    /// `null` when nothing was admitted. Reports sweep it to draw curves.
    pub ecosystem: Option<provguard_dynamics::Ecosystem>,
    /// Every assumption the numbers rest on.
    pub assumptions: Vec<String>,
}

/// The home model before and after a batch, and the change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIfReport {
    /// The home model as the ledger's recorded scans leave it.
    pub before: ModelAnalysis,
    /// The home model with this batch.
    pub after: ModelAnalysis,
    /// `r(M)` before and after.
    pub spectral_radius: [f64; 2],
    /// The regime before and after.
    pub regime: [String; 2],
    /// After minus before, for each quantity defined on both sides (`null` otherwise).
    pub change: Change,
}

/// Differences after minus before.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Change {
    /// Of the reward.
    pub reward: Option<f64>,
    /// Of `X_k`.
    pub cross_influence_share: Option<f64>,
    /// Of `D_k`.
    pub synthetic_depth: Option<f64>,
    /// Of `v*_k / v_H`.
    pub diversity_retention: Option<f64>,
    /// Of `r(M)`.
    pub spectral_radius: f64,
}

impl WhatIfReport {
    /// The comparison of the home model's analyses before and after a batch.
    #[must_use]
    pub fn between(
        before: &ModelAnalysis,
        after: &ModelAnalysis,
        before_all: &provguard_dynamics::Analysis,
        after_all: &provguard_dynamics::Analysis,
    ) -> Self {
        let diff = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| b - a);
        let change = Change {
            reward: diff(before.reward, after.reward),
            cross_influence_share: diff(before.cross_influence_share, after.cross_influence_share),
            synthetic_depth: diff(before.synthetic_depth, after.synthetic_depth),
            diversity_retention: diff(before.diversity_retention, after.diversity_retention),
            spectral_radius: after_all.spectral_radius - before_all.spectral_radius,
        };
        Self {
            before: before.clone(),
            after: after.clone(),
            spectral_radius: [before_all.spectral_radius, after_all.spectral_radius],
            regime: [
                crate::shares::regime_name(before_all),
                crate::shares::regime_name(after_all),
            ],
            change,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_name_the_split_of_each_file_below_the_folder_given() {
        let given = [
            PathBuf::from("/home/train/hub/data"),
            PathBuf::from("shards"),
            PathBuf::from("x/test.jsonl"),
            PathBuf::from("y/validation/part.jsonl"),
        ];
        let discovery = Discovery {
            files: [
                "/home/train/hub/data/train-00000-of-00002.parquet",
                "/home/train/hub/data/test/0.jsonl",
                "/home/train/hub/data/shard-1.jsonl",
                "shards/a.jsonl",
                "x/test.jsonl",
                "y/validation/part.jsonl",
            ]
            .map(PathBuf::from)
            .to_vec(),
            ignored: vec![PathBuf::from("shards/README.md")],
        };
        let inputs = Inputs::new(&given, &discovery);
        let splits: Vec<Option<&str>> = discovery
            .files
            .iter()
            .map(|f| inputs.splits[&f.display().to_string()].as_deref())
            .collect();
        assert_eq!(
            splits,
            [
                Some("train"),
                Some("test"),
                None,
                None,
                Some("test"),
                Some("validation")
            ]
        );
        assert_eq!(inputs.files.len(), 6);
        assert_eq!(inputs.ignored, ["shards/README.md"]);
    }
}
