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

use unicode_normalization::UnicodeNormalization;

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

    let trimmed = raw.trim_matches(|c: char| c.is_whitespace());
    let mut out = String::with_capacity(trimmed.len());
    let mut pending_space = false;
    for &b in trimmed.as_bytes() {
        if is_ascii_space(b) {
            pending_space = true;
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(char::from(b.to_ascii_lowercase()));
    }
    Cow::Owned(out)
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

/// ASCII bytes that `char::is_whitespace` accepts: tab, LF, VT, FF, CR and space. Using the
/// same predicate as the Unicode path keeps the two paths identical on ASCII input.
fn is_ascii_space(b: u8) -> bool {
    char::from(b).is_whitespace()
}

fn normalise_unicode(raw: &str) -> Cow<'_, str> {
    let composed: String = raw.nfkc().collect();
    let folded = caseless::default_case_fold_str(&composed);

    let mut out = String::with_capacity(folded.len());
    let mut pending_space = false;
    for c in folded.chars() {
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
        out.push(c);
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
