//! Shingles: the overlapping runs of `n` tokens of a text, hashed, that near-copy lineage
//! compares.
//!
//! An exact fingerprint changes when one word of a text does; most of a text's shingles do
//! not. A record that is a trimmed or lightly edited copy of a registered text keeps most of
//! that text's shingles, and an unrelated text shares few of them.
//!
//! Scheme `provguard-shingle/1` (`SHINGLE_SCHEME`), in order:
//!
//! 1. the text is normalised by [`crate::normalize`] (`provguard-norm/1`: NFKC, case folding,
//!    white space), so every spelling exact fingerprints treat as equal has the same shingles;
//! 2. a pre-tokenizer of the `tokenizers` crate, built here in code (no tokenizer file, nothing
//!    downloaded), splits it: on white space (removed), on punctuation (removed: quotes,
//!    apostrophes and markdown marks come and go with re-wrapping and smart-quote editors,
//!    while the words stay), and around every character of the scripts written without spaces
//!    (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar), which become one token each;
//! 3. a text with no token left but some punctuation (`",_"`, ASCII art) is tokenised into its
//!    punctuation marks instead; a text with nothing at all has no tokens and no shingles;
//! 4. the shingles are the runs of `n` consecutive tokens; a text of fewer than `n` tokens has
//!    one shingle, its whole token sequence;
//! 5. each token is hashed once with XXH3-64 (the published algorithm, seeded); a shingle's
//!    hash folds its `n` token hashes in order, `h = (rotl(h, 23) ^ t) * K` from a start
//!    value, then mixes the result with the `fmix64` finaliser of `MurmurHash3`, so the same
//!    tokens in another order or split differently hash apart. The seed and the start value
//!    are the first and second 8 bytes of blake3's key derivation of `SHINGLE_KEY_CONTEXT`,
//!    which names this scheme and the normalisation: hashes are the same on every run and
//!    machine (they are stored in the ledger's Bloom filters), and hashes of another scheme
//!    never meet these by design. Hashing each token once, rather than each shingle's bytes,
//!    keeps the cost per shingle to a few multiplications; the hash needs to spread shingles
//!    over the Bloom filters' bits, not to resist an adversary, who could read the key from
//!    this page anyway.
//!
//! The default length `DEFAULT_SHINGLE_LEN` is 4 tokens. Every edited word breaks the `n`
//! shingles that cover it, so with a share `r` of words replaced about `(1 - r)^n` of the
//! shingles survive: 66% for `r = 0.1, n = 4` against 59% for 5 and 53% for 6, which is what
//! leaves room under the containment threshold for ten percent of words replaced. Shorter
//! shingles are shared by chance: two unrelated texts share many word pairs and triples
//! ("one of the", "it is important") but few runs of four. The accuracy benchmark
//! (`benches/lineage_accuracy.rs`) measures both sides for `n` from 3 to 6.
//!
//! Characters as tokens make shingles of `n` characters for Chinese, Japanese and Thai: more
//! often shared by chance than runs of `n` words.
//! The shared corpus has almost no such text, so this fallback is tested but not measured.

use std::sync::LazyLock;

use tokenizers::pre_tokenizers::punctuation::Punctuation;
use tokenizers::pre_tokenizers::split::Split;
use tokenizers::pre_tokenizers::whitespace::WhitespaceSplit;
use tokenizers::{
    OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer, SplitDelimiterBehavior,
};
use twox_hash::XxHash3_64;

use crate::LineageError;
use crate::normalize::normalise;

/// The identifier of the tokenisation and hashing implemented here; stored with every filter.
pub const SHINGLE_SCHEME: &str = "provguard-shingle/2";

/// blake3 key-derivation context of the shingle hash key under [`SHINGLE_SCHEME`].
pub const SHINGLE_KEY_CONTEXT: &str =
    "provguard 2026-12-04 shingle hash provguard-norm/1 provguard-shingle/2";

/// The shingle length used unless another is asked for; see the module documentation.
pub const DEFAULT_SHINGLE_LEN: usize = 4;

/// Makes the hashed shingles of texts under [`SHINGLE_SCHEME`] with a fixed length `n`.
#[derive(Debug, Clone)]
pub struct Shingler {
    n: usize,
    /// The seed of the token hashes.
    seed: u64,
    /// The start value of the fold over a shingle's token hashes.
    start: u64,
}

impl Default for Shingler {
    fn default() -> Self {
        let key = blake3::derive_key(SHINGLE_KEY_CONTEXT, b"");
        let word = |i: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&key[8 * i..8 * (i + 1)]);
            u64::from_le_bytes(bytes)
        };
        Self {
            n: DEFAULT_SHINGLE_LEN,
            seed: word(0),
            start: word(1),
        }
    }
}

impl Shingler {
    /// A shingler of runs of `n` tokens.
    ///
    /// ```
    /// use provguard_lineage::shingle::Shingler;
    /// let s = Shingler::new(3)?;
    /// assert_eq!(s.shingles("one two three four").len(), 2);
    /// assert_eq!(s.shingles("One, TWO three four!"), s.shingles("one two three four"));
    /// # Ok::<(), provguard_lineage::LineageError>(())
    /// ```
    pub fn new(n: usize) -> Result<Self, LineageError> {
        if n == 0 {
            return Err(LineageError::ShingleLength { n });
        }
        Ok(Self {
            n,
            ..Self::default()
        })
    }

    /// The shingle length in tokens.
    #[must_use]
    pub fn n(&self) -> usize {
        self.n
    }

    /// The scheme identifier, [`SHINGLE_SCHEME`].
    #[must_use]
    pub fn scheme(&self) -> &'static str {
        SHINGLE_SCHEME
    }

    /// The hashed shingles of `text` in text order, after normalisation.
    #[must_use]
    pub fn shingles(&self, text: &str) -> Vec<u64> {
        self.shingles_of_normalised(&normalise(text).text)
    }

    /// The hashed shingles of a text that is already normalised, in text order.
    #[must_use]
    pub fn shingles_of_normalised(&self, normalised: &str) -> Vec<u64> {
        let hashes: Vec<u64> = tokens(normalised)
            .iter()
            .map(|t| XxHash3_64::oneshot_with_seed(self.seed, t.as_bytes()))
            .collect();
        if hashes.is_empty() {
            return Vec::new();
        }
        if hashes.len() < self.n {
            return vec![self.fold(&hashes)];
        }
        hashes.windows(self.n).map(|w| self.fold(w)).collect()
    }

    /// The hash of one shingle from its tokens' hashes (step 5).
    fn fold(&self, token_hashes: &[u64]) -> u64 {
        const K: u64 = 0x9E37_79B9_7F4A_7C15;
        let folded = token_hashes
            .iter()
            .fold(self.start, |h, &t| (h.rotate_left(23) ^ t).wrapping_mul(K));
        fmix64(folded ^ token_hashes.len() as u64)
    }
}

/// The finaliser of `MurmurHash3` (Appleby): every input bit affects every output bit.
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
}

/// The tokens of a normalised text under [`SHINGLE_SCHEME`] (steps 2 and 3 of the module
/// documentation), as slices of it.
///
/// ```
/// use provguard_lineage::shingle::tokens;
/// assert_eq!(tokens("sure! it's 3.5 km"), ["sure", "it", "s", "3", "5", "km"]);
/// assert_eq!(tokens("東京 is big"), ["東", "京", "is", "big"]);
/// assert_eq!(tokens(",_"), [",", "_"]);
/// assert!(tokens(" ").is_empty());
/// ```
///
/// # Panics
///
/// Never in practice: the `tokenizers` splits used here only fail when a split function does,
/// and these split by character classes. A panic would be a bug to report.
#[must_use]
pub fn tokens(normalised: &str) -> Vec<&str> {
    if normalised.is_ascii() {
        return ascii_tokens(normalised);
    }
    let words = split(normalised, &Words);
    if words.is_empty() {
        split(normalised, &PunctuationMarks)
    } else {
        words
    }
}

/// [`tokens`] of ASCII text without the `tokenizers` machinery, which keeps byte alignments
/// for every split: in ASCII the separators are white space and every punctuation mark
/// (Unicode `P*` and the symbols listed at `SEPARATORS` are together exactly
/// `u8::is_ascii_punctuation`), and no character belongs to a script without spaces. The
/// result is the same as the general path's, which a test checks on random ASCII.
fn ascii_tokens(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let is_space = |b: u8| char::from(b).is_whitespace();
    let mut words = Vec::new();
    let mut start = None;
    for (i, &b) in bytes.iter().enumerate() {
        let separator = is_space(b) || b.is_ascii_punctuation();
        match (separator, start) {
            (true, Some(s)) => {
                words.push(&text[s..i]);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push(&text[s..]);
    }
    if words.is_empty() {
        // Only white space and punctuation: each mark is a token.
        return bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| b.is_ascii_punctuation())
            .map(|(i, _)| &text[i..=i])
            .collect();
    }
    words
}

/// Pre-tokenizes `text` and returns the splits as slices of it.
fn split<'a>(text: &'a str, pre_tokenizer: &impl PreTokenizer) -> Vec<&'a str> {
    let mut pretokenized = PreTokenizedString::from(text);
    pre_tokenizer
        .pre_tokenize(&mut pretokenized)
        .expect("splitting by character classes cannot fail; this is a bug, please report it");
    pretokenized
        .get_splits(OffsetReferential::Original, OffsetType::Byte)
        .into_iter()
        .map(|(_, (start, end), _)| &text[start..end])
        .collect()
}

/// Runs of white space and punctuation: Unicode `P*`, and the ASCII marks Rust counts as
/// punctuation that Unicode calls symbols (`$ + < = > ^ | ~` and the backtick). One pass of
/// one regex, removed, is the same split as white space then punctuation, in a fraction of the
/// time.
static SEPARATORS: LazyLock<Split> = LazyLock::new(|| {
    Split::new(
        tokenizers::pre_tokenizers::split::SplitPattern::Regex(
            r"[\s\p{P}\$\+<=>\^`\|~]+".to_owned(),
        ),
        SplitDelimiterBehavior::Removed,
        false,
    )
    .expect("the separator pattern is a valid regex")
});

/// Words: white space and punctuation removed, characters of scripts without spaces isolated.
struct Words;

impl PreTokenizer for Words {
    fn pre_tokenize(&self, pretokenized: &mut PreTokenizedString) -> tokenizers::Result<()> {
        SEPARATORS.pre_tokenize(pretokenized)?;
        pretokenized.split(|_, s| {
            if s.get().chars().any(is_unspaced_script) {
                s.split(is_unspaced_script, SplitDelimiterBehavior::Isolated)
            } else {
                Ok(vec![s])
            }
        })
    }
}

/// The fallback for texts without words: white space removed, each punctuation mark a token.
struct PunctuationMarks;

impl PreTokenizer for PunctuationMarks {
    fn pre_tokenize(&self, pretokenized: &mut PreTokenizedString) -> tokenizers::Result<()> {
        WhitespaceSplit.pre_tokenize(pretokenized)?;
        Punctuation::new(SplitDelimiterBehavior::Isolated).pre_tokenize(pretokenized)
    }
}

/// Characters of the scripts written without spaces between words: Han (with the ideographic
/// iteration and number marks), Hiragana, Katakana, Thai, Lao, Myanmar and Khmer. Hangul is
/// written with spaces and stays in words.
fn is_unspaced_script(c: char) -> bool {
    matches!(
        u32::from(c),
        0x0E00..=0x0EFF         // Thai, Lao
            | 0x1000..=0x109F   // Myanmar
            | 0x1780..=0x17FF   // Khmer
            | 0x3005..=0x3007   // ideographic iteration mark, closing mark, number zero
            | 0x3040..=0x30FF   // Hiragana, Katakana
            | 0x31F0..=0x31FF   // Katakana phonetic extensions
            | 0x3400..=0x4DBF   // CJK extension A
            | 0x4E00..=0x9FFF   // CJK unified ideographs
            | 0xF900..=0xFAFF   // CJK compatibility ideographs
            | 0xFF66..=0xFF9F   // half-width Katakana (NFKC makes them full-width)
            | 0x2_0000..=0x3_FFFF // CJK extensions B and later, supplementary planes 2 and 3
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_japanese_and_thai_fall_back_to_characters() {
        assert_eq!(tokens("我爱北京"), ["我", "爱", "北", "京"]);
        assert_eq!(
            tokens("東京タワーは高い。"),
            ["東", "京", "タ", "ワ", "ー", "は", "高", "い"]
        );
        assert_eq!(tokens("สวัสดี"), ["ส", "ว", "ั", "ส", "ด", "ี"]);
        assert_eq!(tokens("한국어 문장"), ["한국어", "문장"]);
        assert_eq!(tokens("gpt-4是模型"), ["gpt", "4", "是", "模", "型"]);

        let s = Shingler::new(3).unwrap();
        assert_eq!(s.shingles("我爱北京天安门").len(), 5);
    }

    #[test]
    fn texts_shorter_than_n_have_one_shingle() {
        let s = Shingler::new(5).unwrap();
        let short = s.shingles("Paris is nice");
        assert_eq!(short.len(), 1);
        assert_ne!(short, s.shingles("Paris is"));
        assert_eq!(s.shingles("one two three four five").len(), 1);
        assert_eq!(s.shingles("one two three four five six").len(), 2);
    }

    #[test]
    fn texts_without_tokens_have_no_shingles() {
        let s = Shingler::default();
        assert!(s.shingles("").is_empty());
        assert!(s.shingles(" \n\t ").is_empty());
        assert_eq!(s.shingles(",_").len(), 1);
    }

    #[test]
    fn spellings_that_normalise_alike_share_shingles() {
        let s = Shingler::default();
        let plain = s.shingles("The cafe doesn't open before nine on Sundays.");
        assert_eq!(
            s.shingles("THE  CAFE\u{a0}doesn\u{2019}t open\nbefore ｎｉｎｅ on Sundays"),
            plain
        );
    }

    #[test]
    fn length_prefixes_keep_token_boundaries_apart() {
        let s = Shingler::new(2).unwrap();
        assert_ne!(s.shingles("ab c"), s.shingles("a bc"));
    }

    #[test]
    fn shingle_hashes_are_stable() {
        // Stored in the ledger's filters: a change here must come with a new scheme name.
        let s = Shingler::new(2).unwrap();
        let hashes: Vec<String> = s
            .shingles("Stable across runs")
            .iter()
            .map(|h| format!("{h:016x}"))
            .collect();
        assert_eq!(hashes, ["0775c418480c3a46", "14560776acec7760"]);
    }

    #[test]
    fn ascii_fast_path_agrees_with_the_tokenizers_path() {
        // Random ASCII from an alphabet weighted towards the separators, seeded.
        let alphabet: Vec<u8> = (0u8..128)
            .chain(b" \t\n.,!?'\"-_$+<=>^`|~()[]{}".iter().copied())
            .chain(b"   abcXYZ019".iter().copied())
            .collect();
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..5000 {
            let len = (next() % 24) as usize;
            let text: String = (0..len)
                .map(|_| char::from(alphabet[(next() % alphabet.len() as u64) as usize]))
                .collect();
            let general = {
                let words = split(&text, &Words);
                if words.is_empty() {
                    split(&text, &PunctuationMarks)
                } else {
                    words
                }
            };
            assert_eq!(ascii_tokens(&text), general, "{text:?}");
        }
    }

    #[test]
    fn zero_length_is_refused() {
        assert!(matches!(
            Shingler::new(0),
            Err(LineageError::ShingleLength { n: 0 })
        ));
    }
}
