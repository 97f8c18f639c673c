//! The error type of this crate.

/// Everything that can go wrong while building, storing or reading near-copy evidence.
#[derive(Debug, thiserror::Error)]
pub enum LineageError {
    /// A shingle length of zero was asked for.
    #[error("shingle length must be at least 1, got `{n}`")]
    ShingleLength {
        /// The length asked for.
        n: usize,
    },

    /// A Bloom filter was asked for with a false-positive rate outside `(0, 1)`.
    #[error("bloom filter false-positive rate must be in (0, 1), got `{rate}`")]
    FalsePositiveRate {
        /// The rate asked for.
        rate: f64,
    },

    /// A stored Bloom filter could not be read back.
    #[error("bloom filter bytes: {reason}")]
    FilterBytes {
        /// What is wrong with the bytes.
        reason: String,
    },

    /// A filter was made with other shingles than the index that is asked to hold it: another
    /// hash key or another shingle length. Its lookups would find nothing.
    #[error(
        "bloom filter of source `{source_id}` holds `{found}` shingles, the index uses `{expected}`"
    )]
    ShingleMismatch {
        /// The source the filter belongs to.
        source_id: u32,
        /// The filter's scheme and shingle length, as `scheme/n`.
        found: String,
        /// The index's scheme and shingle length, as `scheme/n`.
        expected: String,
    },
}
