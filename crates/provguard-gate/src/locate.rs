//! Where a key of a policy file is written: toml gives byte offsets, people read lines and
//! columns.

use toml::de::{DeTable, DeValue};

/// The 1-based line and column (in characters) of byte `offset` of `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// A dotted key path, each part bare when it can be, else quoted: `sources.max_share."a.b"`.
pub(crate) fn dotted(path: &[String]) -> String {
    path.iter()
        .map(|p| crate::policy::toml_key(p))
        .collect::<Vec<_>>()
        .join(".")
}

/// The byte offset of the deepest key of `path` that `text` spells out: a limit written as a
/// bare number has no `block` key, so an error about its block level points at the limit.
pub(crate) fn key_offset(text: &str, path: &[String]) -> Option<usize> {
    let (doc, _) = DeTable::parse_recoverable(text);
    let mut table = doc.get_ref();
    let mut found = None;
    for part in path {
        let Some((key, value)) = table.get_key_value(part.as_str()) else {
            break;
        };
        found = Some(key.span().start);
        match value.get_ref() {
            DeValue::Table(inner) => table = inner,
            _ => break,
        }
    }
    found
}

/// The key a toml error at byte `offset` is about: the last key written before it whose value
/// holds the offset or that starts on the same line (a syntax error inside the value). Parsing
/// recovers past errors, so keys are found in a file that is not valid TOML too.
pub(crate) fn key_at(text: &str, offset: usize) -> Option<Vec<String>> {
    let (doc, _) = DeTable::parse_recoverable(text);
    let line = line_column(text, offset).0;
    let mut best: Option<(usize, Vec<String>)> = None;
    let mut path = Vec::new();
    visit(doc.get_ref(), &mut path, &mut |path, key, value| {
        let holds = offset < value.end.max(key.end);
        let same_line = line_column(text, key.start).0 == line;
        let later = best.as_ref().is_none_or(|(start, _)| key.start >= *start);
        if key.start <= offset && (holds || same_line) && later {
            best = Some((key.start, path.to_vec()));
        }
    });
    best.map(|(_, path)| path)
}

type Span = std::ops::Range<usize>;

/// Calls `f` with every key of `table` and the tables below it: its path, its span and its
/// value's span.
fn visit(table: &DeTable<'_>, path: &mut Vec<String>, f: &mut impl FnMut(&[String], Span, Span)) {
    for (key, value) in table {
        path.push(key.get_ref().to_string());
        f(path, key.span(), value.span());
        if let DeValue::Table(inner) = value.get_ref() {
            visit(inner, path, f);
        }
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters_from_one() {
        let text = "a = 1\n# é\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        let b = text.find("bé").unwrap();
        assert_eq!(line_column(text, b + 3), (3, 3));
        assert_eq!(line_column(text, text.len() + 10), (4, 1));
    }

    #[test]
    fn keys_are_found_by_path_and_by_offset() {
        let text = "[limits]\nmin_human_share = 0.4\n\n[sources.max_share]\n\"gpt-4.1\" = 2\n";
        let path = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let at = key_offset(text, &path(&["limits", "min_human_share", "block"])).unwrap();
        assert_eq!(line_column(text, at), (2, 1));
        let at = key_offset(text, &path(&["sources", "max_share", "gpt-4.1"])).unwrap();
        assert_eq!(line_column(text, at), (5, 1));
        let value = text.find("0.4").unwrap();
        assert_eq!(
            key_at(text, value),
            Some(path(&["limits", "min_human_share"]))
        );
        assert_eq!(
            dotted(&path(&["sources", "max_share", "gpt-4.1"])),
            "sources.max_share.\"gpt-4.1\""
        );
    }
}
