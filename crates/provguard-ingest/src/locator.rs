//! Where a record, a rejection or a warning comes from.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::{Serialize, Serializer};

/// The place of a record in its file.
///
/// Lines and columns are 1-based and counted on the decompressed stream, blank lines included;
/// a column counts characters, not bytes. `offset` is the 0-based byte offset in the
/// decompressed stream. Parquet rows are located by row group and row (both 0-based, the row
/// counted within its group); elements of a JSON array by their 0-based `index`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Locator {
    /// The file, as the user named it or as discovery found it.
    #[serde(serialize_with = "serialize_path")]
    pub file: Arc<Path>,
    /// 1-based line in the decompressed stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// 1-based column, in characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
    /// 0-based byte offset in the decompressed stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// 0-based Parquet row group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_group: Option<u64>,
    /// 0-based row within the Parquet row group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    /// 0-based element index in a JSON array.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
}

fn serialize_path<S: Serializer>(path: &Arc<Path>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&path.display())
}

impl Locator {
    /// A locator naming only the file, for what concerns the whole file.
    ///
    /// ```
    /// use provguard_ingest::Locator;
    /// use std::path::Path;
    /// let loc = Locator::file(Path::new("data/x.jsonl"));
    /// assert_eq!(loc.to_string(), "data/x.jsonl");
    /// ```
    pub fn file(file: impl Into<Arc<Path>>) -> Self {
        Self {
            file: file.into(),
            line: None,
            column: None,
            offset: None,
            row_group: None,
            row: None,
            index: None,
        }
    }

    /// A locator for a line (and optionally a column) of a text file.
    ///
    /// ```
    /// use provguard_ingest::Locator;
    /// use std::path::Path;
    /// let loc = Locator::line(Path::new("data/x.jsonl"), 42, Some(7), Some(1234));
    /// assert_eq!(loc.to_string(), "data/x.jsonl:42:7");
    /// ```
    pub fn line(
        file: impl Into<Arc<Path>>,
        line: u64,
        column: Option<u64>,
        offset: Option<u64>,
    ) -> Self {
        Self {
            line: Some(line),
            column,
            offset,
            ..Self::file(file)
        }
    }

    /// A locator for a Parquet row.
    ///
    /// ```
    /// use provguard_ingest::Locator;
    /// use std::path::Path;
    /// let loc = Locator::row(Path::new("data/x.parquet"), 0, 3);
    /// assert_eq!(loc.to_string(), "data/x.parquet: row group 0, row 3");
    /// ```
    pub fn row(file: impl Into<Arc<Path>>, row_group: u64, row: u64) -> Self {
        Self {
            row_group: Some(row_group),
            row: Some(row),
            ..Self::file(file)
        }
    }

    /// A locator for an element of a JSON array.
    ///
    /// ```
    /// use provguard_ingest::Locator;
    /// use std::path::Path;
    /// let loc = Locator::element(Path::new("data/x.json"), 3);
    /// assert_eq!(loc.to_string(), "data/x.json: [3]");
    /// ```
    pub fn element(file: impl Into<Arc<Path>>, index: u64) -> Self {
        Self {
            index: Some(index),
            ..Self::file(file)
        }
    }
}

impl fmt::Display for Locator {
    /// `file:line[:column]` for text, `file: row group G, row R` for Parquet, `file: [i]` for
    /// JSON array elements (their line and column, when known, are in the fields but not
    /// shown), and just `file` for the whole file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.row_group.is_some() || self.row.is_some() {
            if let Some(group) = self.row_group {
                write!(f, ": row group {group}")?;
            }
            if let Some(row) = self.row {
                let sep = if self.row_group.is_some() { "," } else { ":" };
                write!(f, "{sep} row {row}")?;
            }
            return Ok(());
        }
        if let Some(index) = self.index {
            return write!(f, ": [{index}]");
        }
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_forms() {
        assert_eq!(
            Locator::line(Path::new("d/x.jsonl"), 42, None, None).to_string(),
            "d/x.jsonl:42"
        );
        assert_eq!(
            Locator::line(Path::new("d/x.jsonl"), 42, Some(7), None).to_string(),
            "d/x.jsonl:42:7"
        );
        assert_eq!(
            Locator::row(Path::new("d/x.parquet"), 0, 3).to_string(),
            "d/x.parquet: row group 0, row 3"
        );
        let mut element = Locator::element(Path::new("d/x.json"), 3);
        element.line = Some(9);
        assert_eq!(element.to_string(), "d/x.json: [3]");
        assert_eq!(Locator::file(Path::new("d/x.json")).to_string(), "d/x.json");
    }

    #[test]
    fn serialize_skips_absent_fields() {
        let loc = Locator::line(Path::new("d/x.jsonl"), 42, Some(7), Some(1234));
        let json = serde_json::to_string(&loc).unwrap();
        assert_eq!(
            json,
            r#"{"file":"d/x.jsonl","line":42,"column":7,"offset":1234}"#
        );
        let json = serde_json::to_string(&Locator::row(Path::new("p.parquet"), 1, 2)).unwrap();
        assert_eq!(json, r#"{"file":"p.parquet","row_group":1,"row":2}"#);
    }
}
