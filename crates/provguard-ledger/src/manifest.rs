//! The manifest: what the ledger holds, and the chain of its files.
//!
//! Every file a commit adds (a segment of fingerprints, a segment of one recorded scan, a
//! Bloom filter) gets an entry in `chain`: its sequence number, kind, name, size, blake3
//! hash, row count, and `prev`, the hash of the entry before it (64 zeros for the first).
//! An entry's own hash is blake3 of its fields joined by newlines, in that order
//! (see [`ChainEntry::hash`]); `head` is the hash of the last entry. Editing, removing,
//! inserting or reordering entries breaks a link; changing, removing, swapping or adding a
//! file breaks the match between the folder and the chain.

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
        }
    }

    /// Reads and parses `dir/manifest.json`; an error for another format or normalisation.
    pub fn read(dir: &Path) -> Result<Self, LedgerError> {
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

    /// Writes the manifest atomically; this is a commit's commit point.
    pub fn write(&self, dir: &Path) -> Result<(), LedgerError> {
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
