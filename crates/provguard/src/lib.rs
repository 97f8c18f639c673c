//! provguard as a library: register the texts of sources in a provenance ledger, then scan a
//! dataset, tag every record's lineage, measure the composition, model the ecosystem and let
//! a policy decide.
//!
//! The stages live in their own crates, re-exported here: [`ingest`] reads records,
//! [`lineage`] fingerprints and attributes them, [`ledger`] stores what each source wrote,
//! [`dynamics`] models the ecosystem and [`gate`] decides. This crate joins them:
//! [`register()`] fills the ledger and [`Scan`] runs the main job; [`formats`] writes its
//! report for CI (Markdown, SARIF, JUnit XML).
#![deny(missing_docs)]

pub mod batch;
mod error;
pub mod formats;
pub mod quarantine;
pub mod records;
pub mod register;
pub mod report;
pub mod scan;
pub mod shares;

pub use error::Error;
pub use provguard_dynamics as dynamics;
pub use provguard_gate as gate;
pub use provguard_ingest as ingest;
pub use provguard_ledger as ledger;
pub use provguard_lineage as lineage;
pub use register::{RegisterSummary, register};
pub use report::Report;
pub use scan::Scan;
pub use shares::Measured;
