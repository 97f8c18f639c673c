//! The manifest: what the ledger holds, and the chain of its files.
//!
//! Every file a commit adds (a segment of fingerprints, a segment of one recorded scan, a
//! Bloom filter) gets an entry in `chain`: its sequence number, kind, name, size, blake3
//! hash, row count, and `prev`, the hash of the entry before it (64 zeros for the first).
//! An entry's own hash is blake3 of its fields joined by newlines, in that order
//! (see [`ChainEntry::hash`]); `head` is the hash of the last entry. Editing, removing,
//! inserting or reordering entries breaks a link; changing, removing, swapping or adding a
//! file breaks the match between the folder and the chain.
//!
//! The rest of the manifest (the sources with their origins and curation flags, the
//! registrations, the filters' settings) is sealed with the head: `seal` is blake3 of the
//! format, normalisation, sources, registrations, filters and head as compact JSON
//! ([`Manifest::compute_seal`]), so that turning a model's source into a human one in the
//! manifest is found like a changed segment. Every reader checks the links, the head, the
//! seal and that every listed file lies in `segments/` or `filters/` ([`Manifest::read`]);
//! `verify` lists what is wrong ([`Manifest::problems`]).

use std::path::{Path, PathBuf};

use fs_err as fs;
use provguard_lineage::NORMALISATION;
use serde::{Deserialize, Serialize};

use crate::LedgerError;
use crate::store::{FilterEntry, Registration, SourceEntry};

/// The version of the ledger's layout that this build reads and writes.
pub const FORMAT: &str = "provguard-ledger/2";
/// The manifest's file name inside the ledger folder.
pub const MANIFEST: &str = "manifest.json";
/// The `prev` of the first chain entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a file of the chain holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// A Parquet segment of (fingerprint, source, origin, curated, field, registration) rows.
    Fingerprints,
    /// A Parquet segment of one recorded scan's composition and verdict.
    Scans,
    /// A Bloom filter of the shingles of one registration's new texts.
    Filter,
}

impl FileKind {
    /// The kind's name, as in the manifest.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fingerprints => "fingerprints",
            Self::Scans => "scans",
            Self::Filter => "filter",
        }
    }
}

/// One link of the manifest's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainEntry {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// What the file holds.
    pub kind: FileKind,
    /// The file, relative to the ledger folder (`segments/fingerprints-000001.parquet`).
    pub file: String,
    /// The file's size in bytes.
    pub size: u64,
    /// blake3 of the file, in hex.
    pub blake3: String,
    /// Rows in a segment (entries or scans); shingles in a filter.
    pub rows: u64,
    /// The source a fingerprint segment or a filter belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The hash of the entry before ([`GENESIS`] for the first).
    pub prev: String,
}

impl ChainEntry {
    /// blake3 of `seq`, `kind`, `file`, `size`, `blake3`, `rows`, `source` (empty when none)
    /// and `prev`, each followed by a newline.
    #[must_use]
    pub fn hash(&self) -> String {
        let text = format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
            self.seq,
            self.kind.as_str(),
            self.file,
            self.size,
            self.blake3,
            self.rows,
            self.source.as_deref().unwrap_or(""),
            self.prev
        );
        blake3::hash(text.as_bytes()).to_hex().to_string()
    }
}

/// The manifest, as `manifest.json` holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub format: String,
    pub normalisation: String,
    pub sources: Vec<SourceEntry>,
    pub registrations: Vec<Registration>,
    /// The filters' settings, by file; each filter is also a link of `chain`.
    pub filters: Vec<FilterEntry>,
    pub chain: Vec<ChainEntry>,
    /// Hash of the last chain entry ([`GENESIS`] when the chain is empty).
    pub head: String,
    /// blake3 of everything above but the chain itself ([`Manifest::compute_seal`]).
    #[serde(default)]
    pub seal: String,
}

/// What [`Manifest::problems`] finds wrong with the manifest itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ManifestProblem {
    /// The file the problem concerns (`manifest.json` for the head and the seal).
    pub file: String,
    pub message: String,
}

/// The fields the seal covers, borrowed, in this order.
#[derive(Serialize)]
struct Sealed<'a> {
    format: &'a str,
    normalisation: &'a str,
    sources: &'a [SourceEntry],
    registrations: &'a [Registration],
    filters: &'a [FilterEntry],
    head: &'a str,
}

/// Only the version fields, to refuse another layout with a clear error before parsing it.
#[derive(Deserialize)]
struct Versions {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    normalisation: Option<String>,
}

impl Manifest {
    pub fn empty() -> Self {
        Self {
            format: FORMAT.to_owned(),
            normalisation: NORMALISATION.to_owned(),
            sources: Vec::new(),
            registrations: Vec::new(),
            filters: Vec::new(),
            chain: Vec::new(),
            head: GENESIS.to_owned(),
            seal: String::new(),
        }
    }

    /// blake3, in hex, of the format, normalisation, sources, registrations, filters and head
    /// as compact JSON.
    #[must_use]
    pub fn compute_seal(&self) -> String {
        let sealed = Sealed {
            format: &self.format,
            normalisation: &self.normalisation,
            sources: &self.sources,
            registrations: &self.registrations,
            filters: &self.filters,
            head: &self.head,
        };
        // Serialising plain data to memory cannot fail.
        let bytes = serde_json::to_vec(&sealed).unwrap_or_default();
        blake3::hash(&bytes).to_hex().to_string()
    }

    /// Everything wrong with the manifest on its own: a link that does not follow the one
    /// before it, a head that is not the last link's hash, a file listed twice or outside
    /// `segments/` and `filters/`, a seal that does not match.
    pub fn problems(&self) -> Vec<ManifestProblem> {
        let mut problems = Vec::new();
        let mut prev = GENESIS.to_owned();
        let mut seen = std::collections::HashSet::new();
        for (i, entry) in self.chain.iter().enumerate() {
            if entry.prev != prev || entry.seq != i as u64 + 1 {
                let after = i
                    .checked_sub(1)
                    .map_or("the start of the chain".to_owned(), |j| {
                        format!("`{}`", self.chain[j].file)
                    });
                problems.push(ManifestProblem {
                    file: entry.file.clone(),
                    message: format!(
                        "link {} does not follow {after}: a link was removed, inserted, edited \
                         or reordered in the manifest",
                        i + 1
                    ),
                });
            }
            if !inside_ledger(&entry.file, entry.kind) {
                problems.push(ManifestProblem {
                    file: entry.file.clone(),
                    message: format!(
                        "link {} names a file outside the ledger's `{}` folder",
                        i + 1,
                        folder_of(entry.kind)
                    ),
                });
            }
            if !seen.insert(entry.file.as_str()) {
                problems.push(ManifestProblem {
                    file: entry.file.clone(),
                    message: format!("link {} lists a file that an earlier link lists", i + 1),
                });
            }
            prev = entry.hash();
        }
        if self.head != prev {
            problems.push(ManifestProblem {
                file: MANIFEST.to_owned(),
                message: "the manifest's head is not the hash of its last link".to_owned(),
            });
        }
        if self.seal != self.compute_seal() {
            problems.push(ManifestProblem {
                file: MANIFEST.to_owned(),
                message: "the manifest's sources, registrations or filter settings were changed \
                          after it was written (its seal does not match them)"
                    .to_owned(),
            });
        }
        problems
    }

    /// Reads and parses `dir/manifest.json` and checks it ([`Manifest::problems`]); an error
    /// for another format or normalisation, or for the first problem found.
    pub fn read(dir: &Path) -> Result<Self, LedgerError> {
        let manifest = Self::read_unchecked(dir)?;
        if let Some(problem) = manifest.problems().into_iter().next() {
            return Err(LedgerError::Broken {
                path: dir.to_owned(),
                what: format!("`{}`: {}", problem.file, problem.message),
            });
        }
        Ok(manifest)
    }

    /// Reads and parses `dir/manifest.json` without checking its chain or seal (for
    /// `verify`, which lists what is wrong instead of refusing).
    pub fn read_unchecked(dir: &Path) -> Result<Self, LedgerError> {
        let path = dir.join(MANIFEST);
        if !path.is_file() {
            return Err(LedgerError::Missing(dir.to_owned()));
        }
        let text = fs::read_to_string(&path)?;
        let invalid = |source| LedgerError::Manifest {
            path: path.clone(),
            source,
        };
        let versions: Versions = serde_json::from_str(&text).map_err(invalid)?;
        for (found, expected) in [
            (versions.format, FORMAT),
            (versions.normalisation, NORMALISATION),
        ] {
            let found = found.unwrap_or_else(|| "no version".to_owned());
            if found != expected {
                return Err(LedgerError::Version {
                    path: dir.to_owned(),
                    found,
                    expected: expected.to_owned(),
                });
            }
        }
        serde_json::from_str(&text).map_err(invalid)
    }

    /// Seals the manifest and writes it atomically; this is a commit's commit point.
    pub fn write(&mut self, dir: &Path) -> Result<(), LedgerError> {
        self.seal = self.compute_seal();
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| LedgerError::Bug(format!("cannot encode the manifest: {e}")))?;
        crate::files::replace(&dir.join(MANIFEST), &bytes)?;
        Ok(())
    }

    /// Appends a link for a file just written aside.
    pub fn link(
        &mut self,
        kind: FileKind,
        file: String,
        bytes: &[u8],
        rows: u64,
        source: Option<String>,
    ) {
        let entry = ChainEntry {
            seq: self.chain.len() as u64 + 1,
            kind,
            file,
            size: bytes.len() as u64,
            blake3: blake3::hash(bytes).to_hex().to_string(),
            rows,
            source,
            prev: self.head.clone(),
        };
        self.head = entry.hash();
        self.chain.push(entry);
    }

    /// The listed files of `kind`, with their paths under `dir`.
    pub fn files(
        &self,
        dir: &Path,
        kind: FileKind,
    ) -> impl Iterator<Item = (&ChainEntry, PathBuf)> {
        self.chain
            .iter()
            .filter(move |e| e.kind == kind)
            .map(move |e| (e, dir.join(&e.file)))
    }
}

/// The folder files of `kind` live in.
fn folder_of(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Filter => crate::store::FILTERS,
        FileKind::Fingerprints | FileKind::Scans => crate::store::SEGMENTS,
    }
}

/// True when `file` is a plain name inside the folder of `kind` (`segments/x.parquet`).
pub(crate) fn inside_ledger(file: &str, kind: FileKind) -> bool {
    use std::path::Component;
    let mut parts = Path::new(file).components();
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(Component::Normal(folder)), Some(Component::Normal(_)), None)
            if folder == folder_of(kind)
    )
}
