//! Input formats, read options, and what a file's name says about its content.

use std::path::Path;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Serialize;

use crate::IngestError;

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
    /// Comma-separated values with a header line (`.csv`); every value is a string.
    Csv,
    /// Tab-separated values with a header line (`.tsv`); every value is a string.
    Tsv,
    /// Arrow IPC, the file format (`ARROW1` magic) or the stream format (`.arrow`,
    /// `.feather`, `.arrows`, `.ipc`).
    ArrowIpc,
}

impl InputFormat {
    /// A short lowercase name for messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::JsonLines => "JSON Lines",
            InputFormat::JsonArray => "JSON array",
            InputFormat::Parquet => "Parquet",
            InputFormat::Csv => "CSV",
            InputFormat::Tsv => "TSV",
            InputFormat::ArrowIpc => "Arrow IPC",
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
    /// The largest record, in bytes, that is read; larger JSON Lines and JSON array records
    /// are rejected without being held in memory.
    pub max_record_bytes: usize,
    /// The largest ratio of decompressed to compressed bytes a file may reach once
    /// [`ReadOptions::ratio_floor_bytes`] have been decompressed; past it the rest of the file
    /// is rejected as a decompression bomb.
    pub max_decompression_ratio: u64,
    /// Decompressed bytes below which the ratio is not checked: small files compress well.
    pub ratio_floor_bytes: u64,
    /// Keep each record's bytes as read ([`RawRecord::raw`](crate::RawRecord::raw)), and a
    /// Parquet record's row ([`RawRecord::row`](crate::RawRecord::row)), for writing admitted
    /// and quarantined records back out.
    pub keep_raw: bool,
    /// Which files inside folders are read.
    pub filter: PathFilter,
}

impl Default for ReadOptions {
    /// Format decided per file, strict, records up to 64 MiB, a decompression ratio up to
    /// 1000:1 once past 64 MiB, raw bytes not kept, every data file of a folder read.
    fn default() -> Self {
        Self {
            format: None,
            lenient: false,
            max_record_bytes: 64 * 1024 * 1024,
            max_decompression_ratio: 1000,
            ratio_floor_bytes: 64 * 1024 * 1024,
            keep_raw: false,
            filter: PathFilter::default(),
        }
    }
}

/// Include and exclude globs for the files found inside folders.
///
/// A pattern is matched against the path of a file relative to the folder it was found
/// under, with `/` between names; `*` and `?` match `/` too, so `*.jsonl` matches files at
/// any depth (`globset` syntax: `**`, `{a,b}` and `[ab]` work as usual). A file is read when
/// no include pattern is given or one matches, and no exclude pattern matches. An include
/// pattern that matches a file whose name does not say it holds data reads it anyway.
/// Files named on the command line are always read.
///
/// ```
/// use provguard_ingest::PathFilter;
/// let filter = PathFilter::new(&["*.jsonl".into()], &["test/**".into()]).unwrap();
/// assert!(filter.admits("train/a.jsonl".as_ref()));
/// assert!(!filter.admits("test/a.jsonl".as_ref()));
/// assert!(!filter.admits("a.parquet".as_ref()));
/// ```
#[derive(Debug, Clone, Default)]
pub struct PathFilter {
    include: Vec<String>,
    exclude: Vec<String>,
    compiled: Option<(GlobSet, GlobSet)>,
}

impl PathFilter {
    /// Compiles the patterns; an invalid one is an error naming it.
    pub fn new(include: &[String], exclude: &[String]) -> Result<Self, IngestError> {
        if include.is_empty() && exclude.is_empty() {
            return Ok(Self::default());
        }
        let set = |patterns: &[String]| {
            let mut builder = GlobSetBuilder::new();
            for pattern in patterns {
                let glob = Glob::new(pattern).map_err(|source| IngestError::Glob {
                    pattern: pattern.clone(),
                    source,
                })?;
                builder.add(glob);
            }
            builder.build().map_err(|source| IngestError::Glob {
                pattern: patterns.join(" "),
                source,
            })
        };
        Ok(Self {
            include: include.to_vec(),
            exclude: exclude.to_vec(),
            compiled: Some((set(include)?, set(exclude)?)),
        })
    }

    /// Whether a file at `relative` (to the folder it was found under) is read.
    #[must_use]
    pub fn admits(&self, relative: &Path) -> bool {
        let Some((include, exclude)) = &self.compiled else {
            return true;
        };
        (self.include.is_empty() || include.is_match(relative)) && !exclude.is_match(relative)
    }

    /// Whether include patterns were given (they then decide, not the file name).
    #[must_use]
    pub fn has_include(&self) -> bool {
        !self.include.is_empty()
    }
}

impl PartialEq for PathFilter {
    fn eq(&self, other: &Self) -> bool {
        self.include == other.include && self.exclude == other.exclude
    }
}

impl Eq for PathFilter {}

/// What a file name's extension says about its format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NamedFormat {
    /// `.jsonl` or `.ndjson`.
    JsonLines,
    /// `.json`: JSON Lines or a JSON array, decided by the content.
    Json,
    /// `.parquet`.
    Parquet,
    /// `.csv`.
    Csv,
    /// `.tsv`.
    Tsv,
    /// `.arrow`, `.feather`, `.arrows`, `.ipc`.
    ArrowIpc,
    /// Anything else: decided by the content.
    Unknown,
}

/// The compression a file name claims, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NamedCompression {
    None,
    Gzip,
    Zstd,
    Bzip2,
    Xz,
    Lz4,
}

impl NamedCompression {
    pub(crate) fn name(self) -> &'static str {
        match self {
            NamedCompression::None => "uncompressed",
            NamedCompression::Gzip => "gzip",
            NamedCompression::Zstd => "zstd",
            NamedCompression::Bzip2 => "bzip2",
            NamedCompression::Xz => "xz",
            NamedCompression::Lz4 => "lz4",
        }
    }
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
    } else if let Some(stem) = strip_any(&name, &[".bz2", ".bzip2"]) {
        (stem, NamedCompression::Bzip2)
    } else if let Some(stem) = strip_any(&name, &[".xz"]) {
        (stem, NamedCompression::Xz)
    } else if let Some(stem) = strip_any(&name, &[".lz4"]) {
        (stem, NamedCompression::Lz4)
    } else {
        (name.as_str(), NamedCompression::None)
    };
    let format = if strip_any(stem, &[".jsonl", ".ndjson"]).is_some() {
        NamedFormat::JsonLines
    } else if strip_any(stem, &[".json"]).is_some() {
        NamedFormat::Json
    } else if strip_any(stem, &[".parquet"]).is_some() {
        NamedFormat::Parquet
    } else if strip_any(stem, &[".csv"]).is_some() {
        NamedFormat::Csv
    } else if strip_any(stem, &[".tsv"]).is_some() {
        NamedFormat::Tsv
    } else if strip_any(stem, &[".arrow", ".feather", ".arrows", ".ipc"]).is_some() {
        NamedFormat::ArrowIpc
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
            ("a.csv.bz2", NamedFormat::Csv, NamedCompression::Bzip2),
            ("a.TSV.xz", NamedFormat::Tsv, NamedCompression::Xz),
            ("a.arrow.lz4", NamedFormat::ArrowIpc, NamedCompression::Lz4),
            ("a.feather", NamedFormat::ArrowIpc, NamedCompression::None),
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

    #[test]
    fn globs_match_relative_paths_at_any_depth() {
        let filter = PathFilter::new(&["*.jsonl".into()], &["test/**".into()]).unwrap();
        assert!(filter.admits(Path::new("a.jsonl")));
        assert!(filter.admits(Path::new("data/train/a.jsonl")));
        assert!(!filter.admits(Path::new("test/a.jsonl")));
        assert!(!filter.admits(Path::new("data/a.parquet")));
        let exclude_only = PathFilter::new(&[], &["**/*-test-*".into()]).unwrap();
        assert!(exclude_only.admits(Path::new("data/train-0-of-1.parquet")));
        assert!(!exclude_only.admits(Path::new("data/x-test-0.parquet")));
        let err = PathFilter::new(&["a[".into()], &[]).unwrap_err();
        assert!(err.to_string().contains("`a[`"), "{err}");
    }
}
