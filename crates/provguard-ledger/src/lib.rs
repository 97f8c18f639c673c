//! The provenance ledger: which texts each registered source produced.
//!
//! A ledger is a folder:
//!
//! ```text
//! .provguard/
//!   manifest.json          sources, fields, registrations, segments and filters with hashes
//!   segments/000001.seg    one segment per registration that added entries
//!   filters/000001.bloom   a Bloom filter of the shingles of that registration's new texts
//!   lock                   taken by writers
//! ```
//!
//! A segment holds fixed-size entries, one per (fingerprint, source, field): the 32-byte
//! fingerprint, then the source index and the field index as little-endian `u32`. It starts
//! with the 8-byte magic `PGSEG001`. The manifest names the normalisation the fingerprints
//! were made under; a ledger made under another normalisation is refused, never compared.
//!
//! A filter is `provguard_lineage::SourceFilter`'s bytes; the manifest lists it with its
//! source, its blake3 hash and its `FilterSettings` (shingle scheme and length, sizing). All
//! filters of a ledger use one shingle length; the open ledger loads them into a
//! `NearIndex` ([`Ledger::near_index`]).
//!
//! Commits are atomic: a new segment and filter are written under temporary names, flushed and
//! renamed, then the manifest is replaced the same way, and the folder is flushed. A reader
//! sees the ledger before or after a registration, never half of one; a segment or filter
//! that the manifest does not list is ignored.
#![deny(missing_docs)]

mod store;

pub use store::{
    FilterEntry, FilterOptions, Ledger, RecordedScan, Registration, SourceEntry, TextEntry,
};

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
