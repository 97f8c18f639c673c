//! The edits the accuracy experiment applies to registered texts.

use super::{Corpus, Edit, PREFIXES, Rng, SUFFIXES};

/// Splits a text into sentences (each keeps its end mark and following space); a line break
/// also ends one.
#[must_use]
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next_is_space = chars.peek().is_some_and(|(_, n)| n.is_whitespace());
        if c == '\n' || (matches!(c, '.' | '!' | '?') && next_is_space) {
            let mut end = i + c.len_utf8();
            while let Some(&(j, n)) = chars.peek() {
                if !n.is_whitespace() {
                    break;
                }
                end = j + n.len_utf8();
                chars.next();
            }
            out.push(&text[start..end]);
            start = end;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

fn respaced(text: &str, rng: &mut Rng) -> String {
    let mut out = String::from("\n ");
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push_str(rng.pick::<&str>(&[" ", "  ", "\n", "\t", " \r\n", "\n\n"]));
        }
        out.push_str(word);
    }
    out.push_str("  \r\n");
    out
}

fn unicode_variant(text: &str, rng: &mut Rng) -> String {
    let mut out = String::from("\u{feff}");
    let mut previous_alphabetic = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' if rng.chance(0.2) => out.push(*rng.pick(&['\u{a0}', '\u{2009}', '\u{3000}'])),
            'f' if chars.peek() == Some(&'i') && rng.chance(0.5) => {
                chars.next();
                out.push('\u{fb01}');
            }
            'é' => out.push_str("e\u{301}"),
            'a'..='z' | 'A'..='Z' if rng.chance(0.05) => {
                // Full-width forms: U+FF21 is 'A', U+FF41 is 'a'.
                let base = if c.is_ascii_lowercase() {
                    0xFF41
                } else {
                    0xFF21
                };
                let offset = u32::from(c.to_ascii_lowercase()) - u32::from('a');
                out.push(char::from_u32(base + offset).expect("full-width letters exist"));
            }
            _ => out.push(c),
        }
        if c.is_alphabetic() && previous_alphabetic && rng.chance(0.03) {
            out.push(*rng.pick(&['\u{200b}', '\u{ad}', '\u{2060}']));
        }
        previous_alphabetic = c.is_alphabetic();
    }
    out
}

fn recased(text: &str, rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => text.to_uppercase(),
        1 => text.to_lowercase(),
        _ => text
            .split(' ')
            .map(|w| {
                let mut cs = w.chars();
                cs.next().map_or_else(String::new, |f| {
                    f.to_uppercase().chain(cs).collect::<String>()
                })
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Applies `edit` to `text`; `None` when the text does not allow it (a single sentence).
pub(super) fn edited(edit: Edit, text: &str, corpus: &Corpus, rng: &mut Rng) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let out = match edit {
        Edit::Whitespace => respaced(text, rng),
        Edit::Unicode => unicode_variant(text, rng),
        Edit::Case => recased(text, rng),
        Edit::TruncateHalf => words[..words.len().div_ceil(2)].join(" "),
        Edit::SentenceDropped | Edit::SentenceReplaced => {
            let parts = sentences(text);
            let with_words: Vec<usize> = (0..parts.len())
                .filter(|&i| parts[i].split_whitespace().next().is_some())
                .collect();
            if with_words.len() < 2 {
                return None;
            }
            let chosen = *rng.pick(&with_words);
            let mut out = String::new();
            for (i, part) in parts.iter().enumerate() {
                if i != chosen {
                    out.push_str(part);
                } else if edit == Edit::SentenceReplaced {
                    out.push_str(rng.pick::<String>(&corpus.sentences));
                    out.push(' ');
                }
            }
            out
        }
        Edit::PrefixSuffix => match rng.below(3) {
            0 => format!("{}{text}", rng.pick(&PREFIXES)),
            1 => format!("{text}{}", rng.pick(&SUFFIXES)),
            _ => format!("{}{text}{}", rng.pick(&PREFIXES), rng.pick(&SUFFIXES)),
        },
        Edit::Words10 => {
            let count = (words.len() as f64 * 0.1).round().max(1.0) as usize;
            let mut replaced: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
            let mut positions: Vec<usize> = (0..words.len()).collect();
            for k in 0..count.min(words.len()) {
                // A partial Fisher-Yates shuffle picks `count` distinct positions.
                let j = k + rng.below(words.len() - k);
                positions.swap(k, j);
                replaced[positions[k]].clone_from(rng.pick(&corpus.vocabulary));
            }
            replaced.join(" ")
        }
        Edit::Splice => unreachable!("splices are drawn from two texts"),
    };
    Some(out)
}
