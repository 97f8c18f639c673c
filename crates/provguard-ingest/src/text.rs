//! Helpers shared by the JSON readers: UTF-8 checks and error positions in file terms.

use serde_json::Value;

/// The UTF-8 byte order mark.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// JSON's four white-space bytes.
pub(crate) fn is_json_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Whether `b` starts a UTF-8 character (is not a continuation byte).
fn starts_char(b: u8) -> bool {
    b & 0xC0 != 0x80
}

/// The number of characters in `bytes`, counting every byte that is not a UTF-8 continuation
/// byte (so it is defined for invalid UTF-8 too).
pub(crate) fn char_count(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|b| starts_char(**b)).count() as u64
}

/// A UTF-8 error in file terms: where the bad byte is, and what is wrong with it.
pub(crate) struct Utf8Problem {
    /// Byte index of the first bad byte in the checked slice.
    pub index: usize,
    /// Whether the slice simply ends inside a character (a cut-off record).
    pub cut_off: bool,
    /// Lowercase description naming the bad bytes.
    pub message: String,
}

/// Checks `bytes` for UTF-8, returning the first problem.
pub(crate) fn check_utf8(bytes: &[u8]) -> Result<&str, Utf8Problem> {
    std::str::from_utf8(bytes).map_err(|err| {
        let index = err.valid_up_to();
        let bad_len = err.error_len().unwrap_or(bytes.len() - index);
        let shown: Vec<String> = bytes[index..index + bad_len]
            .iter()
            .map(|b| format!("0x{b:02X}"))
            .collect();
        let message = if err.error_len().is_none() {
            format!(
                "invalid UTF-8: the data ends inside a character (`{}`)",
                shown.join(" ")
            )
        } else {
            format!(
                "invalid UTF-8: byte sequence `{}` is not valid",
                shown.join(" ")
            )
        };
        Utf8Problem {
            index,
            cut_off: err.error_len().is_none(),
            message,
        }
    })
}

/// A `serde_json` error position translated to a byte index in the parsed slice, plus the
/// message without `serde_json`'s own "at line L column C" suffix.
pub(crate) struct JsonProblem {
    /// Byte index in the parsed slice of the byte the error points at.
    pub index: usize,
    /// Whether the error is an unexpected end of input.
    pub eof: bool,
    /// Lowercase description.
    pub message: String,
}

/// Translates a `serde_json` error on `bytes` into a position and message.
pub(crate) fn json_problem(bytes: &[u8], err: &serde_json::Error) -> JsonProblem {
    // serde_json's column counts bytes from the start of its line, and points just past the
    // byte it stopped at (column 0: it stopped at the newline ending the line before); its
    // line is 1-based.
    let line = err.line().max(1);
    let mut line_start = 0;
    for _ in 1..line {
        match bytes[line_start..].iter().position(|b| *b == b'\n') {
            Some(at) => line_start += at + 1,
            None => break,
        }
    }
    let index = (line_start + err.column())
        .saturating_sub(1)
        .min(bytes.len());
    let text = err.to_string();
    let bare = match text.rfind(" at line ") {
        Some(at) => &text[..at],
        None => text.as_str(),
    };
    let message = if bare.contains("recursion limit exceeded") {
        "nesting deeper than 128 levels (serde_json's recursion limit exceeded)".to_owned()
    } else {
        format!("invalid JSON: {bare}")
    };
    JsonProblem {
        index,
        eof: err.is_eof(),
        message,
    }
}

/// 1-based line and column (in characters) of byte `index` within `bytes`, where `bytes`
/// starts at `line`:`column` of the file.
pub(crate) fn position_in(bytes: &[u8], index: usize, line: u64, column: u64) -> (u64, u64) {
    let before = &bytes[..index.min(bytes.len())];
    match before.iter().rposition(|b| *b == b'\n') {
        Some(nl) => {
            #[expect(
                clippy::naive_bytecount,
                reason = "one record's newlines, not worth a dependency"
            )]
            let lines = before.iter().filter(|b| **b == b'\n').count() as u64;
            (line + lines, char_count(&before[nl + 1..]) + 1)
        }
        None => (line, column + char_count(before)),
    }
}

/// "an array", "a number", ... for "expected a JSON object, found ...".
pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_problem_points_at_first_bad_byte() {
        let bytes = b"ab\xC3\xA9c\xE9d";
        let problem = check_utf8(bytes).err().unwrap();
        assert_eq!(problem.index, 5);
        assert!(!problem.cut_off);
        assert!(problem.message.contains("0xE9"), "{}", problem.message);
        let problem = check_utf8(b"ab\xE4\xB8").err().unwrap();
        assert!(problem.cut_off);
        assert_eq!(problem.index, 2);
    }

    #[test]
    fn json_problem_column_maps_to_characters() {
        // The error is at `x`, the 9th character but the 10th byte.
        let text = "{\"é\": 1 x}";
        let err = serde_json::from_str::<Value>(text).unwrap_err();
        let problem = json_problem(text.as_bytes(), &err);
        assert_eq!(&text.as_bytes()[problem.index..=problem.index], b"x");
        assert_eq!(position_in(text.as_bytes(), problem.index, 4, 1), (4, 9));
    }

    #[test]
    fn position_spans_lines() {
        let bytes = b"{\n  \"a\": tru\n}";
        let err = serde_json::from_slice::<Value>(bytes).unwrap_err();
        let problem = json_problem(bytes, &err);
        // serde_json stops after `tru` on the second line.
        let (line, column) = position_in(bytes, problem.index, 10, 5);
        assert_eq!((line, column), (11, 11));
    }

    #[test]
    fn recursion_limit_is_named() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let err = serde_json::from_str::<Value>(&deep).unwrap_err();
        assert!(json_problem(deep.as_bytes(), &err).message.contains("128"));
    }
}
