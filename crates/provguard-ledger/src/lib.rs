//! The provenance ledger: which texts each registered source produced, and which scans
//! admitted what.
//!
//! A ledger is a folder:
//!
//! ```text
//! .provguard/
//!   manifest.json                         sources, registrations, filter settings, and the
//!                                         chain of every file below with its blake3 hash
//!   segments/fingerprints-000001.parquet  the entries one registration added
//!   segments/scans-000001.parquet         one recorded scan: composition and verdict
//!   filters/000001.bloom                  a Bloom filter of that registration's shingles
//!   lock                                  taken by writers
//! ```
//!
//! A fingerprint segment has one row per (fingerprint, source, field): `fingerprint`
//! (32 bytes), `source`, `origin`, `curated`, `field` and `registration`
//! ([`segment::fingerprint_schema`]). A scan segment has one row per recorded scan
//! ([`segment::scan_schema`]). The manifest names its layout (`format`) and the
//! normalisation the fingerprints were made under; a ledger of another layout or
//! normalisation is refused, never compared.
//!
//! The manifest's `chain` lists every file with its size, blake3 hash and the hash of the
//! link before it ([`manifest::ChainEntry`]), so [`verify`] finds a file that was modified,
//! removed, swapped with another or added, and a link that was edited out of order.
//!
//! A filter is `provguard_lineage::SourceFilter`'s bytes; the manifest lists it with its
//! source and its `FilterSettings` (shingle scheme and length, sizing). All filters of a
//! ledger use one shingle length; the open ledger loads them into a `NearIndex`
//! ([`Ledger::near_index`]).
//!
//! Commits are atomic (see the `files` module): new files are written aside and flushed, the
//! manifest is replaced by rename (the commit point), then the new files are renamed and the
//! folders flushed. Writers take the `lock` file's exclusive lock and reload what others
//! committed; readers take no lock and see the ledger before or after a commit.
//!
//! The open ledger keeps a sorted index of 128-bit fingerprint keys in memory
//! ([`index::FingerprintIndex`]): about 20.5 bytes per fingerprint, 20 MB per million.
#![deny(missing_docs)]

mod files;
pub mod index;
pub mod manifest;
pub mod segment;
mod stats;
mod store;
mod verify;

pub use stats::{OriginSummary, SourceSummary, Stats, TableFiles};
pub use store::{
    FilterEntry, FilterOptions, Ledger, RecordedScan, Registration, SourceEntry, TextEntry,
};
pub use verify::{Problem, ProblemKind, Verification, verify};

use std::path::PathBuf;

/// Errors of the ledger.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// A file of the ledger could not be read or written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The folder holds no ledger.
    #[error("no ledger at `{0}`")]
    Missing(PathBuf),
    /// The manifest is not valid.
    #[error("ledger manifest `{path}` is not valid")]
    Manifest {
        /// The manifest's path.
        path: PathBuf,
        /// Why it is not valid.
        #[source]
        source: serde_json::Error,
    },
    /// The ledger was made by another format or normalisation version.
    #[error("ledger `{path}` uses `{found}`, this provguard uses `{expected}`")]
    Version {
        /// The ledger folder.
        path: PathBuf,
        /// What the ledger says.
        found: String,
        /// What this build implements.
        expected: String,
    },
    /// The manifest's chain or seal is broken, or the folder is a damaged ledger.
    #[error("ledger `{path}` is damaged: {what}; `provguard ledger verify` lists every problem")]
    Broken {
        /// The ledger folder.
        path: PathBuf,
        /// The first problem found.
        what: String,
    },
    /// A segment does not match what the manifest says about it.
    #[error("ledger segment `{path}` is damaged: {what}")]
    Segment {
        /// The segment's path.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// A Bloom filter does not match what the manifest says about it.
    #[error("ledger filter `{path}` is damaged: {what}")]
    Filter {
        /// The filter's path.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// A filter was made with other shingles than the ledger's other filters.
    #[error("ledger filter `{path}` cannot be compared with the ledger's other filters")]
    Shingles {
        /// The filter's path.
        path: PathBuf,
        /// The mismatch.
        #[source]
        source: provguard_lineage::LineageError,
    },
    /// A registration asked for another shingle length than the ledger's filters use.
    #[error("ledger `{path}` holds filters of `{found}` shingles; `{requested}` was asked for")]
    ShingleLength {
        /// The ledger folder.
        path: PathBuf,
        /// The scheme and length of the ledger's filters, as `scheme/n`.
        found: String,
        /// The scheme and length asked for.
        requested: String,
    },
    /// The near-copy settings asked for are not valid.
    #[error("cannot build the registration's bloom filter")]
    Near(#[source] provguard_lineage::LineageError),
    /// A broken invariant: a bug in provguard.
    #[error("internal error in the ledger: {0}; please report this as a bug")]
    Bug(String),
    /// A source was registered before with another origin or curation flag.
    #[error("source `{name}` is registered as {registered}, not as {requested}")]
    SourceConflict {
        /// The source's name.
        name: String,
        /// How it was registered.
        registered: String,
        /// How it was asked for now.
        requested: String,
    },
}
