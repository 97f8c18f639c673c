//! Errors of the library facade: the tool could not do its job.

/// Why a registration or a scan could not be carried out. Problems inside the data are not
/// errors: they are reported, record by record.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input could not be found or opened.
    #[error("cannot read the input")]
    Ingest(#[from] provguard_ingest::IngestError),
    /// The ledger could not be opened or written.
    #[error("cannot use the ledger")]
    Ledger(#[from] provguard_ledger::LedgerError),
    /// The policy is not valid.
    #[error("cannot use the policy")]
    Policy(#[from] provguard_gate::PolicyError),
    /// The ecosystem could not be modelled.
    #[error("cannot model the ecosystem")]
    Dynamics(#[from] provguard_dynamics::DynamicsError),
    /// Admitted or quarantined records could not be written.
    #[error("cannot write records aside")]
    Quarantine(#[from] crate::quarantine::QuarantineError),
    /// A record batch could not be tagged or tallied.
    #[error("cannot tag the record batch")]
    Batch(#[from] crate::batch::BatchError),
    /// The field paths found no text in any record.
    #[error("the field paths `{fields}` found no text in any of the {records} records")]
    NoText {
        /// The paths, joined.
        fields: String,
        /// Records read.
        records: u64,
    },
    /// A field path given for registration is not valid.
    #[error("field path `{0}` is not valid")]
    FieldPath(String),
    /// The threads of a parallel scan could not be started.
    #[error("cannot start the scan's threads: {0}")]
    Threads(String),
    /// A broken invariant: a bug in provguard.
    #[error("internal error: {0}; please report this as a bug")]
    Bug(String),
}
