//! A source's Bloom filter of shingle hashes, with the settings it was built with, and its
//! stored form.

use fastbloom::BloomFilter;
use serde::{Deserialize, Serialize};

use crate::LineageError;
use crate::shingle::Shingler;

/// The target false-positive rate of a source's filter unless another is asked for: about
/// 14.4 bits per shingle, a correction of a tenth of a percent.
pub const DEFAULT_FALSE_POSITIVE_RATE: f64 = 0.001;

/// The first bytes of a stored filter; the digit is the layout version.
const MAGIC: &[u8; 8] = b"PGBLOOM1";

/// What is recorded with a source's filter: how its shingles were made and how it was sized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterSettings {
    /// The shingle scheme, which names the tokenisation and the hash key
    /// ([`crate::shingle::SHINGLE_SCHEME`]).
    pub scheme: String,
    /// The shingle length in tokens.
    pub n: u32,
    /// The shingle count the filter was sized for.
    pub expected_items: u64,
    /// The false-positive rate the filter was sized for at `expected_items`.
    pub target_false_positive_rate: f64,
    /// Bit positions set per shingle.
    pub num_hashes: u32,
    /// Size of the filter in bits (a multiple of 64).
    pub num_bits: u64,
    /// Distinct shingles inserted, as far as the filter can tell (an insertion whose bits were
    /// all set already counts as a repeat).
    pub items: u64,
}

/// A Bloom filter of the shingle hashes of one source's texts, with its settings.
#[derive(Debug, Clone)]
pub struct SourceFilter {
    settings: FilterSettings,
    bloom: BloomFilter,
}

impl SourceFilter {
    /// An empty filter for shingles of `shingler`, sized for `expected_items` shingles at the
    /// false-positive rate `false_positive_rate`.
    ///
    /// ```
    /// use provguard_lineage::near::SourceFilter;
    /// use provguard_lineage::shingle::Shingler;
    /// let shingler = Shingler::default();
    /// let mut filter = SourceFilter::new(&shingler, 1_000, 0.001)?;
    /// filter.insert_text(&shingler, "The quick brown fox jumps over the lazy dog.");
    /// assert_eq!(filter.settings().items, 6);
    /// let back = SourceFilter::from_bytes(&filter.to_bytes())?;
    /// assert_eq!(back.settings(), filter.settings());
    /// # Ok::<(), provguard_lineage::LineageError>(())
    /// ```
    pub fn new(
        shingler: &Shingler,
        expected_items: u64,
        false_positive_rate: f64,
    ) -> Result<Self, LineageError> {
        if !(false_positive_rate > 0.0 && false_positive_rate < 1.0) {
            return Err(LineageError::FalsePositiveRate {
                rate: false_positive_rate,
            });
        }
        let bloom = BloomFilter::with_false_pos(false_positive_rate)
            .seed(&0)
            .expected_items(usize::try_from(expected_items).unwrap_or(usize::MAX));
        Ok(Self {
            settings: FilterSettings {
                scheme: shingler.scheme().to_owned(),
                n: shingler.n() as u32,
                expected_items,
                target_false_positive_rate: false_positive_rate,
                num_hashes: bloom.num_hashes(),
                num_bits: bloom.num_bits() as u64,
                items: 0,
            },
            bloom,
        })
    }

    /// A filter holding `shingles`, sized for their distinct count.
    pub fn from_shingles(
        shingler: &Shingler,
        shingles: &[u64],
        false_positive_rate: f64,
    ) -> Result<Self, LineageError> {
        let mut distinct = shingles.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let mut filter = Self::new(shingler, distinct.len() as u64, false_positive_rate)?;
        for &shingle in &distinct {
            filter.insert(shingle);
        }
        Ok(filter)
    }

    /// Adds one shingle hash.
    pub fn insert(&mut self, shingle: u64) {
        if !self.bloom.insert_hash(shingle) {
            self.settings.items += 1;
        }
    }

    /// Adds the shingles of `text`; `shingler` must be the one the filter was made for.
    pub fn insert_text(&mut self, shingler: &Shingler, text: &str) {
        debug_assert_eq!(shingler.n() as u32, self.settings.n);
        for shingle in shingler.shingles(text) {
            self.insert(shingle);
        }
    }

    /// True when the shingle may have been inserted (always, if it was).
    #[must_use]
    pub fn contains(&self, shingle: u64) -> bool {
        self.bloom.contains_hash(shingle)
    }

    /// The settings recorded with the filter.
    #[must_use]
    pub fn settings(&self) -> &FilterSettings {
        &self.settings
    }

    /// The false-positive rate at the filter's present fill, from the share of its bits set
    /// (which, unlike a count of insertions, stays right when the filter is fuller than it was
    /// sized for). Counts the bits: keep the result rather than calling this per lookup.
    #[must_use]
    pub fn false_positive_rate(&self) -> f64 {
        // A shingle never inserted finds each of its k probed bits set with probability X / m,
        // X of the m bits being set:
        //
        //     p = (X / m)^k
        let set: u64 = self
            .bloom
            .as_slice()
            .iter()
            .map(|w| u64::from(w.count_ones()))
            .sum();
        let m = self.settings.num_bits as f64;
        (set as f64 / m).powf(f64::from(self.settings.num_hashes))
    }

    /// The filter as bytes, to be stored; [`Self::from_bytes`] reads them back.
    ///
    /// Layout (integers little-endian): the magic `PGBLOOM1`; the scheme's byte length (`u16`)
    /// and UTF-8 bytes; `n` (`u32`); `expected_items` (`u64`); the target false-positive rate
    /// (`f64` bits as `u64`); `num_hashes` (`u32`); `num_bits` (`u64`); `items` (`u64`); then
    /// `num_bits / 64` words (`u64`) of fastbloom 0.17's bit vector.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let s = &self.settings;
        let words = self.bloom.as_slice();
        let mut out = Vec::with_capacity(64 + s.scheme.len() + 8 * words.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(s.scheme.len() as u16).to_le_bytes());
        out.extend_from_slice(s.scheme.as_bytes());
        out.extend_from_slice(&s.n.to_le_bytes());
        out.extend_from_slice(&s.expected_items.to_le_bytes());
        out.extend_from_slice(&s.target_false_positive_rate.to_bits().to_le_bytes());
        out.extend_from_slice(&s.num_hashes.to_le_bytes());
        out.extend_from_slice(&s.num_bits.to_le_bytes());
        out.extend_from_slice(&s.items.to_le_bytes());
        for word in words {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out
    }

    /// Reads a filter written by [`Self::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LineageError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(MAGIC.len())? != MAGIC {
            return Err(bad(
                "not a provguard bloom filter (magic `PGBLOOM1` missing)",
            ));
        }
        let scheme_len = usize::from(u16::from_le_bytes(r.array()?));
        let scheme = std::str::from_utf8(r.take(scheme_len)?)
            .map_err(|_| bad("the shingle scheme is not UTF-8"))?
            .to_owned();
        let n = u32::from_le_bytes(r.array()?);
        let expected_items = u64::from_le_bytes(r.array()?);
        let target_false_positive_rate = f64::from_bits(u64::from_le_bytes(r.array()?));
        let num_hashes = u32::from_le_bytes(r.array()?);
        let num_bits = u64::from_le_bytes(r.array()?);
        let items = u64::from_le_bytes(r.array()?);

        // Check the sizes before trusting them.
        if n == 0 || num_hashes == 0 || num_bits == 0 || num_bits % 64 != 0 {
            return Err(bad(&format!(
                "impossible settings: n `{n}`, `{num_hashes}` hashes, `{num_bits}` bits"
            )));
        }
        let word_count = usize::try_from(num_bits / 64).map_err(|_| bad("filter too large"))?;
        if r.bytes.len() - r.at != word_count * 8 {
            return Err(bad(&format!(
                "expected `{}` bytes of bits, found `{}`",
                word_count * 8,
                r.bytes.len() - r.at
            )));
        }
        let words = (0..word_count)
            .map(|_| r.array().map(u64::from_le_bytes))
            .collect::<Result<Vec<_>, _>>()?;

        let bloom = BloomFilter::from_vec(words).seed(&0).hashes(num_hashes);
        Ok(Self {
            settings: FilterSettings {
                scheme,
                n,
                expected_items,
                target_false_positive_rate,
                num_hashes,
                num_bits,
                items,
            },
            bloom,
        })
    }
}

fn bad(reason: &str) -> LineageError {
    LineageError::FilterBytes {
        reason: reason.to_owned(),
    }
}

/// A cursor over stored bytes that reports truncation as an error.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], LineageError> {
        let end = self.at.checked_add(len).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(bad(&format!("truncated at byte `{}`", self.bytes.len())));
        };
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], LineageError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "Photosynthesis is the process by which green plants use sunlight, water and \
        carbon dioxide to make glucose and oxygen.";
    const B: &str = "To change a flat tyre, first loosen the wheel nuts slightly while the car is \
        still on the ground, then raise it with the jack until the wheel is clear.";

    fn shingler() -> Shingler {
        Shingler::default()
    }

    #[test]
    fn filter_round_trips_through_bytes() {
        let s = shingler();
        let mut filter = SourceFilter::new(&s, 500, 0.01).unwrap();
        filter.insert_text(&s, A);
        filter.insert_text(&s, B);
        let bytes = filter.to_bytes();
        let back = SourceFilter::from_bytes(&bytes).unwrap();
        assert_eq!(back.settings(), filter.settings());
        assert_eq!(back.to_bytes(), bytes);
        for h in s.shingles(A).into_iter().chain(s.shingles(B)) {
            assert!(back.contains(h));
        }
        let settings = back.settings();
        assert_eq!(
            (settings.scheme.as_str(), settings.n),
            (crate::shingle::SHINGLE_SCHEME, 4)
        );
        assert_eq!((settings.expected_items, settings.num_bits % 64), (500, 0));
        assert!((settings.target_false_positive_rate - 0.01).abs() < f64::EPSILON);
    }

    #[test]
    fn damaged_filter_bytes_are_refused() {
        let s = shingler();
        let bytes = SourceFilter::from_shingles(&s, &s.shingles(A), 0.001)
            .unwrap()
            .to_bytes();
        for broken in [
            &bytes[..bytes.len() - 1],
            &bytes[..20],
            &b"PGBLOOM2"[..],
            &[][..],
        ] {
            assert!(matches!(
                SourceFilter::from_bytes(broken),
                Err(LineageError::FilterBytes { .. })
            ));
        }
    }

    #[test]
    fn bit_layout_is_pinned() {
        // The stored words depend on fastbloom's probing; a new fastbloom that probes
        // differently would make every stored filter miss. Inserting 1..=3 into a 128-bit
        // filter with 3 hashes must set exactly these bits.
        let s = Shingler::new(4).unwrap();
        let mut filter = SourceFilter {
            settings: FilterSettings {
                scheme: s.scheme().to_owned(),
                n: 4,
                expected_items: 3,
                target_false_positive_rate: 0.5,
                num_hashes: 3,
                num_bits: 128,
                items: 0,
            },
            bloom: BloomFilter::with_num_bits(128).seed(&0).hashes(3),
        };
        for h in [1_u64, 2, 3] {
            filter.insert(h.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        }
        assert_eq!(filter.bloom.as_slice(), PINNED_WORDS);
    }

    const PINNED_WORDS: &[u64] = &[0x0800_1000_4000_0040, 0x0000_2200_0204_8000];
}
