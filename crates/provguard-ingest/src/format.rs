//! Input formats, read options, and what a file's name says about its content.

use std::path::Path;

use serde::Serialize;

/// How the records of a file are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InputFormat {
    /// One JSON object per line (`.jsonl`, `.ndjson`, and `.json` files not starting with `[`).
    JsonLines,
    /// One JSON array of objects (`.json` files starting with `[`).
    JsonArray,
    /// Apache Parquet, read row group by row group.
    Parquet,
}

impl InputFormat {
    /// A short lowercase name for messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::JsonLines => "JSON Lines",
            InputFormat::JsonArray => "JSON array",
            InputFormat::Parquet => "Parquet",
        }
    }
}

/// How to read files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// The format of every file; `None` decides per file from its name and content.
    pub format: Option<InputFormat>,
    /// Fix what can be fixed without guessing (a byte order mark at the start of a line) and
    /// warn, instead of rejecting the record.
    pub lenient: bool,
    /// The largest record, in bytes, that is read; larger ones are rejected without being held
    /// in memory.
    pub max_record_bytes: usize,
}

impl Default for ReadOptions {
    /// Format decided per file, strict, records up to 64 MiB.
    fn default() -> Self {
        Self {
            format: None,
            lenient: false,
            max_record_bytes: 64 * 1024 * 1024,
        }
    }
}

/// What a file name's extension says about its format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NamedFormat {
    /// `.jsonl` or `.ndjson`.
    JsonLines,
    /// `.json`: JSON Lines or a JSON array, decided by the content.
    Json,
    /// `.parquet`.
    Parquet,
    /// Anything else: decided by the content.
    Unknown,
}

/// The compression a file name claims, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NamedCompression {
    None,
    Gzip,
    Zstd,
}

/// Splits a file name into its claimed format and compression, case-insensitively:
/// `x.jsonl.gz` is JSON Lines in gzip.
pub(crate) fn classify_name(path: &Path) -> (NamedFormat, NamedCompression) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let (stem, compression) = if let Some(stem) = strip_any(&name, &[".gz", ".gzip"]) {
        (stem, NamedCompression::Gzip)
    } else if let Some(stem) = strip_any(&name, &[".zst", ".zstd"]) {
        (stem, NamedCompression::Zstd)
    } else {
        (name.as_str(), NamedCompression::None)
    };
    let format = if strip_any(stem, &[".jsonl", ".ndjson"]).is_some() {
        NamedFormat::JsonLines
    } else if strip_any(stem, &[".json"]).is_some() {
        NamedFormat::Json
    } else if strip_any(stem, &[".parquet"]).is_some() {
        NamedFormat::Parquet
    } else {
        NamedFormat::Unknown
    };
    (format, compression)
}

fn strip_any<'a>(name: &'a str, suffixes: &[&str]) -> Option<&'a str> {
    suffixes.iter().find_map(|s| name.strip_suffix(s))
}

/// Whether a file found inside a folder is read: its name must say it holds data.
pub(crate) fn is_data_name(path: &Path) -> bool {
    classify_name(path).0 != NamedFormat::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_classified_after_stripping_compression() {
        let cases = [
            ("a.jsonl", NamedFormat::JsonLines, NamedCompression::None),
            (
                "a.NDJSON.GZ",
                NamedFormat::JsonLines,
                NamedCompression::Gzip,
            ),
            ("a.json.zst", NamedFormat::Json, NamedCompression::Zstd),
            (
                "a.parquet.zstd",
                NamedFormat::Parquet,
                NamedCompression::Zstd,
            ),
            ("a.json.gzip", NamedFormat::Json, NamedCompression::Gzip),
            ("a.txt", NamedFormat::Unknown, NamedCompression::None),
            ("a.gz", NamedFormat::Unknown, NamedCompression::Gzip),
            ("jsonl", NamedFormat::Unknown, NamedCompression::None),
        ];
        for (name, format, compression) in cases {
            assert_eq!(
                classify_name(Path::new(name)),
                (format, compression),
                "{name}"
            );
        }
        assert!(is_data_name(Path::new("x/train.jsonl.gz")));
        assert!(!is_data_name(Path::new("x/README.md")));
    }
}
