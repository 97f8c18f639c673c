//! Lineage: where each record of a dataset came from.
//!
//! Texts are normalised ([`normalize`]) and fingerprinted ([`fingerprint`]); a record's
//! response-side fingerprints are looked up in the evidence the ledger holds and the record is
//! attributed to a source, to several (ambiguous), or to none ([`attribute`]); the admitted
//! records add up to a [`Composition`].
#![deny(missing_docs)]

pub mod attribute;
pub mod composition;
pub mod fingerprint;
pub mod normalize;

pub use attribute::{Attribution, Evidence, Lineage, Origin, SourceId, attribute};
pub use composition::{Composition, SourceKind, SourceTally};
pub use fingerprint::Fingerprint;
pub use normalize::{NORMALISATION, normalise};
