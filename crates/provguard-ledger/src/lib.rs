//! The provenance ledger: which texts each registered source produced.
//!
//! A ledger is a folder:
//!
//! ```text
//! .provguard/
//!   manifest.json        sources, fields, registrations and the segment list with hashes
//!   segments/000001.seg  one segment per registration that added entries
//!   lock                 taken by writers
//! ```
//!
//! A segment holds fixed-size entries, one per (fingerprint, source, field): the 32-byte
//! fingerprint, then the source index and the field index as little-endian `u32`. It starts
//! with the 8-byte magic `PGSEG001`. The manifest names the normalisation the fingerprints
//! were made under; a ledger made under another normalisation is refused, never compared.
//!
//! Commits are atomic: a new segment is written under a temporary name, flushed and renamed,
//! then the manifest is replaced the same way, and the folder is flushed. A reader sees the
//! ledger before or after a registration, never half of one; a segment that the manifest does
//! not list is ignored.
#![deny(missing_docs)]

mod store;

pub use store::{Ledger, RecordedScan, Registration, SourceEntry};

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
