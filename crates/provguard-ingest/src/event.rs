//! What a [`Reader`](crate::Reader) yields: records, rejections, blank lines and warnings.

use arrow::array::RecordBatch;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::Locator;

/// One thing that happened while reading a file.
///
/// Every record of a file ends up as exactly one `Record` or one `Rejection` (a `File`-scope
/// rejection stands for every record the file still held), so a caller that counts events
/// loses nothing.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A record that was read.
    Record(RawRecord),
    /// A record, the rest of a file, or a whole file that could not be read.
    Rejected(Rejection),
    /// A blank or whitespace-only line: skipped and counted, not an error.
    Blank(Locator),
    /// Degraded work that continued, such as a lenient fix.
    Warning(Warning),
}

/// A record as read, before any schema is applied: its top level is always a JSON object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RawRecord {
    /// Where the record comes from.
    pub locator: Locator,
    /// The record's fields, in file order.
    pub value: Map<String, Value>,
    /// The record's bytes as read, when [`ReadOptions::keep_raw`](crate::ReadOptions) asks
    /// for them and the format has them: a JSON Lines line without its `\n` (a `\r` kept), a
    /// CSV or TSV row as written back by the `csv` crate without its line ending. `None`
    /// for JSON arrays and Arrow IPC, whose records are written back as JSON, and for Parquet,
    /// whose records keep their [`row`](Self::row) instead.
    #[serde(skip)]
    pub raw: Option<Vec<u8>>,
    /// The record's row as read, a one-row slice of its Arrow batch, when
    /// [`ReadOptions::keep_raw`](crate::ReadOptions) asks for it and the record comes from
    /// Parquet or Arrow IPC: a copy of some of the rows can then be written in that format
    /// with the file's own schema. `None` for every other format.
    #[serde(skip)]
    pub row: Option<RecordBatch>,
}

/// How much a rejection covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// One record.
    Record,
    /// The whole file, or the rest of it from the locator on.
    File,
}

/// Something that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// Where the problem is.
    pub locator: Locator,
    /// Whether one record or the (rest of the) file is lost.
    pub scope: Scope,
    /// What went wrong, lowercase, without a trailing period.
    pub message: String,
    /// A next step for the user, when there is a useful one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The record's raw bytes when they are known, for quarantine.
    #[serde(skip)]
    pub raw: Option<Vec<u8>>,
}

/// Degraded work that continued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Where it happened.
    pub locator: Locator,
    /// What was done, lowercase, without a trailing period.
    pub message: String,
}

impl Rejection {
    /// A rejection of one record.
    pub(crate) fn record(locator: Locator, message: impl Into<String>) -> Self {
        Self {
            locator,
            scope: Scope::Record,
            message: message.into(),
            hint: None,
            raw: None,
        }
    }

    /// A rejection of the whole file or of its rest.
    pub(crate) fn file(locator: Locator, message: impl Into<String>) -> Self {
        Self {
            scope: Scope::File,
            ..Self::record(locator, message)
        }
    }

    /// Adds a hint.
    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds the raw bytes.
    pub(crate) fn with_raw(mut self, raw: Vec<u8>) -> Self {
        self.raw = Some(raw);
        self
    }
}

impl Event {
    /// The locator of whatever this event is about.
    #[must_use]
    pub fn locator(&self) -> &Locator {
        match self {
            Event::Record(record) => &record.locator,
            Event::Rejected(rejection) => &rejection.locator,
            Event::Blank(locator) => locator,
            Event::Warning(warning) => &warning.locator,
        }
    }

    pub(crate) fn warning(locator: Locator, message: impl Into<String>) -> Self {
        Event::Warning(Warning {
            locator,
            message: message.into(),
        })
    }
}
