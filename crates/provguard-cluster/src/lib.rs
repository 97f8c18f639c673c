//! Distributed scans on Apache DataFusion Ballista, for datasets that outgrow one machine.
//!
//! A cluster is a Ballista scheduler and executors whose DataFusion sessions have the
//! provguard functions registered over a ledger opened read-only ([`server`]); `provguard
//! cluster scheduler` and `provguard cluster executor` run them. [`client::run`] scans a
//! dataset on such a cluster: the executors read the files and tag every record with
//! `provguard_record` ([`record`]), which reads a record and attributes its lineage exactly as
//! the local scan does, and the client adds the counts up into the same composition and judges
//! it with the same code, so the composition, shares, dynamics and verdict are those of
//! `provguard scan` on the same files.
//!
//! What a cluster scan does not do, and the local scan does:
//!
//! - it reads flat records only: Alpaca (`output`), prompt/completion (`completion`,
//!   `response`), preference pairs whose `chosen` is a string, and plain `text`, from
//!   uncompressed Parquet, JSON Lines, CSV and TSV files; chat `messages`, `ShareGPT`
//!   `conversations`, preference sides given as turns, JSON arrays, Arrow IPC, compressed
//!   files and standard input are refused with an error that says to scan locally;
//! - problems are located by file only (no line, row group or row), and a line that is not
//!   valid JSON fails the whole scan instead of being listed;
//! - per-file sources have no `first_line`; blank lines are not counted; records are not
//!   written aside (`--admit`, `--quarantine`, `--records`);
//! - shares that add up `1/m` parts of ambiguous records may differ from the local scan's in
//!   the last bits of a float, since the records are added in another order.
//!
//! Every executor must read the dataset's files at the same absolute paths as the client (a
//! shared or identically mounted file system), and hold a copy of the client's ledger.
#![deny(missing_docs)]

pub mod client;
pub mod record;
pub mod server;

use std::path::PathBuf;

/// Errors of a cluster scan or a cluster process.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The ledger could not be opened.
    #[error("cannot open the ledger `{}`", dir.display())]
    Ledger {
        /// The ledger folder.
        dir: PathBuf,
        /// Why.
        #[source]
        source: provguard::ledger::LedgerError,
    },
    /// The cluster address is not a `df://HOST:PORT` URL.
    #[error("`{0}` is not a cluster address of the form `df://HOST:PORT`")]
    Url(String),
    /// An input could not be found or recognised.
    #[error("cannot read the input")]
    Ingest(#[from] provguard::ingest::IngestError),
    /// A file could not be opened.
    #[error("cannot read `{}`", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file holds what a cluster scan does not read.
    #[error(
        "`{}` holds {what}, which a cluster scan does not read; scan it locally (without \
         `--cluster`)",
        file.display()
    )]
    Unsupported {
        /// The file.
        file: PathBuf,
        /// What it holds.
        what: String,
    },
    /// A file could not be planned as a table.
    #[error("cannot plan the scan of `{}`", file.display())]
    Plan {
        /// The file.
        file: PathBuf,
        /// Why.
        #[source]
        source: datafusion::error::DataFusionError,
    },
    /// The cluster could not run the scan.
    #[error("the cluster at `{url}` could not run the scan")]
    Query {
        /// The cluster.
        url: String,
        /// Why.
        #[source]
        source: datafusion::error::DataFusionError,
    },
    /// The executors attributed a record to a source the client's ledger does not hold.
    #[error(
        "the executors attributed records to source `{0}`, which the client's ledger does not \
         hold; give every process a copy of the same ledger"
    )]
    LedgerMismatch(String),
    /// The measurements could not be judged.
    #[error("cannot judge the scan")]
    Judge(#[from] provguard::Error),
    /// Ballista failed.
    #[error("ballista failed")]
    Ballista(#[source] ballista_core::error::BallistaError),
    /// An address could not be listened on.
    #[error("cannot listen on `{address}`")]
    Bind {
        /// The address.
        address: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// A broken invariant: a bug in provguard.
    #[error("internal error: {0}; please report this as a bug")]
    Bug(String),
}
