//! Text normalisation before fingerprinting.
//!
//! Two spellings of the same text must share a fingerprint, and two different texts must
//! not. The normalisation is versioned: a fingerprint made under one version is never
//! compared with one made under another (the ledger records the version it was built with,
//! and the version is part of the fingerprint's key, so mixed versions cannot collide).
//!
//! Version 1 (`NORMALISATION`), in order:
//!
//! 1. Unicode NFKC (compatibility composition: full-width letters, ligatures and composed
//!    accents become their plain forms);
//! 2. Unicode default case folding (`É` and `é`, `STRASSE` and `straße` compare equal);
//! 3. removal of invisible format characters: U+200B zero-width space, U+2060 word joiner,
//!    U+FEFF byte-order mark and U+00AD soft hyphen (U+200C and U+200D are kept: they change
//!    how scripts and emoji render);
//! 4. every run of Unicode white space (including no-break space, CR, LF, U+0085, U+2028 and
//!    U+2029) becomes one ASCII space;
//! 5. leading and trailing space is trimmed.
//!
//! If these steps turn a non-empty text into the empty string (a text of only white space or
//! zero-width characters), the raw text is used instead and the result says so:
//! normalisation never makes two different non-empty texts equal to "".

use std::borrow::Cow;

use caseless::Caseless as _;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// The identifier of the normalisation implemented here; stored with every fingerprint.
pub const NORMALISATION: &str = "provguard-norm/1";

/// blake3 key-derivation context of fingerprints made under [`NORMALISATION`]: a new
/// normalisation version gets a new context, so its fingerprints get new keys.
pub const FINGERPRINT_CONTEXT: &str = "provguard 2026-12-03 text fingerprint provguard-norm/1";

/// A normalised text and how it was obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalised<'a> {
    /// The normalised text.
    pub text: Cow<'a, str>,
    /// True when normalisation would have emptied a non-empty text and the raw text was kept.
    pub fell_back_to_raw: bool,
}

/// Normalises `raw` by version 1 of the rules in the module documentation.
///
/// ```
/// use provguard_lineage::normalize::normalise;
/// assert_eq!(normalise("  The CAFÉ\u{a0}opens\r\n").text, "the café opens");
/// ```
#[must_use]
pub fn normalise(raw: &str) -> Normalised<'_> {
    let text = if raw.is_ascii() {
        normalise_ascii(raw)
    } else {
        normalise_unicode(raw)
    };
    if text.is_empty() && !raw.is_empty() {
        return Normalised {
            text: Cow::Borrowed(raw),
            fell_back_to_raw: true,
        };
    }
    Normalised {
        text,
        fell_back_to_raw: false,
    }
}

/// Format characters removed by step 3.
fn is_removed(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}')
}

/// Whether [`normalise`] keeps `raw` as it is because normalising would empty it: a non-empty
/// text of nothing but white space and removed format characters. Cheaper than normalising.
#[must_use]
pub fn falls_back(raw: &str) -> bool {
    !raw.is_empty() && raw.chars().all(|c| c.is_whitespace() || is_removed(c))
}

/// The fast path: for ASCII, NFKC and the removed characters are no-ops and case folding is
/// ASCII lowercasing, so only case and white space change. Returns the input unchanged (no
/// allocation) when it is already normal.
fn normalise_ascii(raw: &str) -> Cow<'_, str> {
    if is_normal_ascii(raw.as_bytes()) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    push_ascii(&mut out, raw.as_bytes(), &mut false);
    Cow::Owned(out)
}

/// Appends ASCII `bytes` to `out` lowercased, every run of white space made one space, none
/// at the start of `out`; a run at the end is left pending in `pending_space`.
fn push_ascii(out: &mut String, bytes: &[u8], pending_space: &mut bool) {
    for &b in bytes {
        if is_ascii_space(b) {
            *pending_space = !out.is_empty();
            continue;
        }
        if *pending_space {
            out.push(' ');
            *pending_space = false;
        }
        out.push(char::from(b.to_ascii_lowercase()));
    }
}

/// True when ASCII text is lowercase with only single spaces between words.
fn is_normal_ascii(bytes: &[u8]) -> bool {
    let mut previous_was_space = true;
    for &b in bytes {
        if b.is_ascii_uppercase() {
            return false;
        }
        if is_ascii_space(b) {
            if b != b' ' || previous_was_space {
                return false;
            }
            previous_was_space = true;
        } else {
            previous_was_space = false;
        }
    }
    !previous_was_space || bytes.is_empty()
}

/// ASCII bytes that `char::is_whitespace` accepts: tab, LF, VT, FF, CR and space (a test
/// checks the two agree on every byte, which keeps the two paths identical on ASCII input).
fn is_ascii_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ')
}

/// The general path, one character at a time: NFKC (skipped when the quick check says the
/// text is already in NFKC), then each character case folded, removed or made a space.
/// Default case folding maps each character on its own, so folding character by character
/// is folding the string.
fn normalise_unicode(raw: &str) -> Cow<'_, str> {
    let composed: Cow<'_, str> = if is_nfkc_quick(raw.chars()) == IsNormalized::Yes {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(raw.nfkc().collect())
    };
    let mut out = String::with_capacity(composed.len());
    let mut pending_space = false;
    let mut rest = composed.as_ref();
    while !rest.is_empty() {
        // Runs of ASCII take the byte path.
        let ascii = rest.bytes().take_while(u8::is_ascii).count();
        if ascii > 0 {
            push_ascii(&mut out, &rest.as_bytes()[..ascii], &mut pending_space);
            rest = &rest[ascii..];
            continue;
        }
        let mut chars = rest.chars();
        let c = chars.next().expect("the rest is not empty");
        rest = chars.as_str();
        if is_removed(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.extend(std::iter::once(c).default_case_fold());
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_and_unicode_paths_agree_on_ascii_input() {
        let samples = [
            "",
            " ",
            "Hello",
            "hello world",
            "  Hello \t\r\n World  ",
            "a\u{b}b\u{c}c",
            "ALL CAPS. 123!",
            "tab\tand space",
            "x\x1cy",
        ];
        for s in samples {
            assert_eq!(normalise_ascii(s), normalise_unicode(s), "input {s:?}");
        }
    }

    /// Version 1 as the module documentation states it, step by step over whole strings.
    fn by_the_rules(raw: &str) -> String {
        let composed: String = raw.nfkc().collect();
        let folded = caseless::default_case_fold_str(&composed);
        let kept: String = folded.chars().filter(|c| !is_removed(*c)).collect();
        kept.split(char::is_whitespace)
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn both_paths_follow_the_rules_on_random_text() {
        // Characters that each step changes: composed and decomposed accents, full-width
        // and ligature forms, cases that fold to several characters, removed characters and
        // every kind of white space, among plain letters.
        let alphabet: Vec<char> =
            "aZ \t\n\r\u{b}\u{c}éE\u{301}ﬁＡｂ\u{3000}\u{a0}\u{85}\u{2028}\u{2029}\
             ßẞΣσς\u{130}İ\u{200B}\u{2060}\u{FEFF}\u{AD}\u{200C}\u{200D}한東ﾀ①½"
                .chars()
                .collect();
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 12) as usize;
            let text: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let expected = by_the_rules(&text);
            assert_eq!(normalise_unicode(&text), expected, "{text:?}");
            if text.is_ascii() {
                assert_eq!(normalise_ascii(&text), expected, "{text:?}");
            }
        }
    }

    #[test]
    fn ascii_white_space_is_what_char_calls_white_space() {
        for b in 0..=127u8 {
            assert_eq!(is_ascii_space(b), char::from(b).is_whitespace(), "{b:#04x}");
        }
    }

    #[test]
    fn already_normal_ascii_is_borrowed() {
        assert!(matches!(
            normalise_ascii("already normal text"),
            Cow::Borrowed(_)
        ));
        assert!(matches!(normalise_ascii("Not normal"), Cow::Owned(_)));
        assert!(matches!(normalise_ascii("two  spaces"), Cow::Owned(_)));
        assert!(matches!(normalise_ascii("tab\there"), Cow::Owned(_)));
        assert!(matches!(normalise_ascii("trailing "), Cow::Owned(_)));
    }

    #[test]
    fn zero_width_only_text_falls_back_to_raw() {
        let n = normalise("\u{200B}\u{2060}");
        assert!(n.fell_back_to_raw);
        assert_eq!(n.text, "\u{200B}\u{2060}");
        assert!(normalise("   ").fell_back_to_raw);
        assert_eq!(normalise("   ").text, "   ");
    }

    #[test]
    fn falls_back_agrees_with_normalise() {
        for s in [
            "",
            " ",
            "\u{200B}",
            "\u{3000}\u{FEFF}",
            "a",
            " a ",
            "\u{AD}x",
            "\u{200D}",
        ] {
            assert_eq!(falls_back(s), normalise(s).fell_back_to_raw, "{s:?}");
        }
    }

    #[test]
    fn separators_become_spaces_and_joiners_stay() {
        assert_eq!(normalise("a\u{2028}b\u{2029}c\u{85}d").text, "a b c d");
        assert_eq!(normalise("x\u{200D}y").text, "x\u{200D}y");
        assert_eq!(normalise("STRASSE").text, normalise("straße").text);
    }
}
