//! Lineage: where each record of a dataset came from.
//!
//! Texts are normalised ([`normalize`]) and fingerprinted ([`fingerprint`]); a record's
//! response-side fingerprints are looked up in the evidence the ledger holds and the record is
//! attributed to a source, to several (ambiguous), or to none ([`attribute`]); the admitted
//! records add up to a [`Composition`]. Records whose texts match no registered text exactly
//! are looked up by their shingles ([`shingle`]) in per-source Bloom filters ([`near`]), which
//! find edited copies: trimmed, re-worded, prefixed or spliced.
#![deny(missing_docs)]

pub mod attribute;
pub mod composition;
pub mod error;
pub mod filter;
pub mod fingerprint;
pub mod near;
pub mod normalize;
pub mod shingle;

pub use attribute::{Attribution, Evidence, Lineage, Origin, SourceId, attribute};
pub use composition::{Composition, SourceKind, SourceTally};
pub use error::LineageError;
pub use fingerprint::Fingerprint;
pub use near::{
    FilterSettings, MatchKind, NearConfig, NearIndex, NearMatch, RecordMatch, SourceFilter,
    attribute_near, attribute_texts,
};
pub use normalize::{NORMALISATION, normalise};
pub use shingle::{SHINGLE_SCHEME, Shingler};
