//! Exact fingerprints of texts.
//!
//! A fingerprint is the blake3 hash of the normalised text, keyed by the normalisation
//! version (blake3's key derivation with the context string below), so fingerprints made
//! under different normalisations can never be equal by accident. The raw hash is blake3 over
//! the exact decoded text and is reported, never used for attribution.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::normalize::{FINGERPRINT_CONTEXT as CONTEXT, normalise};

/// A 32-byte fingerprint of a normalised text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// Fingerprints `text` after normalisation; the flag is true when normalisation fell back
    /// to the raw text (see [`crate::normalize`]).
    ///
    /// ```
    /// use provguard_lineage::Fingerprint;
    /// let (a, _) = Fingerprint::of_text("The café opens at nine.");
    /// let (b, _) = Fingerprint::of_text("THE CAFÉ  opens at nine. ");
    /// assert_eq!(a, b);
    /// ```
    #[must_use]
    pub fn of_text(text: &str) -> (Self, bool) {
        let n = normalise(text);
        (Self::of_normalised(&n.text), n.fell_back_to_raw)
    }

    /// Fingerprints a text that is already normalised.
    #[must_use]
    pub fn of_normalised(normalised: &str) -> Self {
        let mut hasher = blake3::Hasher::new_derive_key(CONTEXT);
        hasher.update(normalised.as_bytes());
        Self(*hasher.finalize().as_bytes())
    }

    /// Fingerprints a sequence of labelled parts (for example the turns of a conversation)
    /// so that different splits of the same characters give different fingerprints.
    #[must_use]
    pub fn of_parts<'a>(parts: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut hasher = blake3::Hasher::new_derive_key(CONTEXT);
        for (label, text) in parts {
            let n = normalise(text);
            for piece in [label.as_bytes(), n.text.as_bytes()] {
                hasher.update(&(piece.len() as u64).to_le_bytes());
                hasher.update(piece);
            }
        }
        Self(*hasher.finalize().as_bytes())
    }

    /// The hash of the exact text, without normalisation.
    #[must_use]
    pub fn raw(text: &str) -> Self {
        Self(*blake3::hash(text.as_bytes()).as_bytes())
    }

    /// Lowercase hexadecimal spelling.
    #[must_use]
    pub fn to_hex(&self) -> String {
        use fmt::Write as _;
        let mut s = String::with_capacity(64);
        for b in self.0 {
            let _ = write!(s, "{b:02x}");
        }
        s
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", &self.to_hex()[..16])
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_not_concatenation() {
        let a = Fingerprint::of_parts([("user", "ab"), ("assistant", "c")]);
        let b = Fingerprint::of_parts([("user", "a"), ("assistant", "bc")]);
        assert_ne!(a, b);
    }

    #[test]
    fn fingerprint_differs_from_plain_blake3() {
        let (f, _) = Fingerprint::of_text("hello");
        assert_ne!(f, Fingerprint::raw("hello"));
    }
}
