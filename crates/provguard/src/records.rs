//! Per-record results: how each admitted record was matched, streamed to `--records FILE`.
//!
//! One JSON Lines line per admitted record, in scan order, written as the scan goes (through a
//! buffer, never held whole): the record's locator (`file` and `line`, or `row_group` and
//! `row`, ...), `match` (`exact`, `near`, `spliced` or `none`), `lineage.{origin, sources}`
//! (`origin` is `human`, `synthetic`, `ambiguous` or `unknown`; `sources` the candidates'
//! names), `confidence` (1 for exact matches, the containment for near ones, 0 for none) and
//! `response_fingerprints`, the hex fingerprint of each response text, in order.
//!
//! A file named `*.parquet` gets the same results as Parquet (zstd), one row per record with
//! the columns `file`, `line`, `row_group`, `row`, `index` (null where the locator has none),
//! `match`, `origin`, `sources` (list), `confidence` and `response_fingerprints` (list). Rows
//! are gathered in Arrow builders [`BATCH_ROWS`] at a time and handed to the Parquet writer,
//! which cuts a row group every [`ROW_GROUP_ROWS`] rows, so memory stays bounded however long
//! the scan.

use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Builder, ListBuilder, RecordBatch, StringBuilder, UInt64Builder,
};
use arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use fs_err as fs;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use provguard_ingest::Locator;
use provguard_ledger::SourceEntry;
use provguard_lineage::{Fingerprint, Lineage, RecordMatch};
use serde::Serialize;

use crate::Error;
use crate::quarantine::QuarantineError;

/// Rows gathered in the Arrow builders before they are handed to the Parquet writer.
pub const BATCH_ROWS: usize = 4096;

/// Rows per Parquet row group; the writer holds one row group, encoded, until it is full.
pub const ROW_GROUP_ROWS: usize = 64 * 1024;

/// Writes one line (JSON Lines) or one row (Parquet) per admitted record.
#[derive(Debug)]
pub struct RecordWriter {
    path: PathBuf,
    out: Out,
}

#[derive(Debug)]
enum Out {
    JsonLines(BufWriter<fs::File>),
    Parquet(Box<ParquetRows>),
}

/// The Parquet writer and the builders of the batch being gathered.
#[derive(Debug)]
struct ParquetRows {
    writer: ArrowWriter<fs::File>,
    schema: SchemaRef,
    rows: usize,
    file: StringBuilder,
    line: UInt64Builder,
    row_group: UInt64Builder,
    row: UInt64Builder,
    index: UInt64Builder,
    kind: StringBuilder,
    origin: StringBuilder,
    sources: ListBuilder<StringBuilder>,
    confidence: Float64Builder,
    response_fingerprints: ListBuilder<StringBuilder>,
}

/// One line of the records file.
#[derive(Debug, Serialize)]
struct RecordLine<'a> {
    #[serde(flatten)]
    locator: &'a Locator,
    #[serde(rename = "match")]
    kind: &'static str,
    lineage: LineageLine<'a>,
    confidence: f64,
    response_fingerprints: Vec<String>,
}

#[derive(Debug, Serialize)]
struct LineageLine<'a> {
    origin: &'static str,
    sources: Vec<&'a str>,
}

impl RecordWriter {
    /// Creates (or truncates) the records file: Parquet when its name ends in `.parquet`,
    /// else JSON Lines.
    pub fn create(path: &Path) -> Result<Self, Error> {
        let parquet = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
        let file = fs::File::create(path).map_err(|e| io_error(path, e))?;
        let out = if parquet {
            Out::Parquet(Box::new(
                ParquetRows::new(file).map_err(|e| parquet_error(path, e))?,
            ))
        } else {
            Out::JsonLines(BufWriter::new(file))
        };
        Ok(Self {
            path: path.to_owned(),
            out,
        })
    }

    /// Writes the line of one admitted record.
    pub fn write(
        &mut self,
        locator: &Locator,
        matched: &RecordMatch,
        responses: &[&str],
        sources: &[SourceEntry],
    ) -> Result<(), Error> {
        let name = |id: &u32| sources[*id as usize].name.as_str();
        let lineage = match &matched.attribution.lineage {
            Lineage::Unknown => LineageLine {
                origin: "unknown",
                sources: Vec::new(),
            },
            Lineage::Source(id) => LineageLine {
                origin: sources[*id as usize].origin.as_str(),
                sources: vec![name(id)],
            },
            Lineage::Ambiguous(ids) => LineageLine {
                origin: "ambiguous",
                sources: ids.iter().map(name).collect(),
            },
        };
        let line = RecordLine {
            locator,
            kind: matched.kind.as_str(),
            lineage,
            confidence: matched.confidence,
            response_fingerprints: responses
                .iter()
                .map(|t| Fingerprint::of_text(t).0.to_hex())
                .collect(),
        };
        let path = &self.path;
        match &mut self.out {
            Out::JsonLines(out) => {
                serde_json::to_writer(&mut *out, &line)
                    .map_err(|e| io_error(path, std::io::Error::other(e)))?;
                out.write_all(b"\n").map_err(|e| io_error(path, e))
            }
            Out::Parquet(rows) => rows.push(&line).map_err(|e| parquet_error(path, e)),
        }
    }

    /// Flushes the file; a Parquet file gets its last batch and its footer.
    pub fn finish(self) -> Result<(), Error> {
        let path = &self.path;
        let file = match self.out {
            Out::JsonLines(mut out) => {
                out.flush().map_err(|e| io_error(path, e))?;
                out.into_inner()
                    .map_err(|e| io_error(path, e.into_error()))?
            }
            Out::Parquet(rows) => rows.close().map_err(|e| parquet_error(path, e))?,
        };
        file.sync_all().map_err(|e| io_error(path, e))
    }
}

impl ParquetRows {
    fn new(file: fs::File) -> Result<Self, parquet::errors::ParquetError> {
        let list =
            |name: &str| Field::new_list(name, Field::new_list_field(DataType::Utf8, false), false);
        let schema = Arc::new(Schema::new(vec![
            Field::new("file", DataType::Utf8, false),
            Field::new("line", DataType::UInt64, true),
            Field::new("row_group", DataType::UInt64, true),
            Field::new("row", DataType::UInt64, true),
            Field::new("index", DataType::UInt64, true),
            Field::new("match", DataType::Utf8, false),
            Field::new("origin", DataType::Utf8, false),
            list("sources"),
            Field::new("confidence", DataType::Float64, false),
            list("response_fingerprints"),
        ]));
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        let writer = ArrowWriter::try_new(file, Arc::clone(&schema), Some(props))?;

        // The list builders take their item field from the schema, so the batches match it.
        let item = |name: &str| -> FieldRef {
            match schema.field_with_name(name).map(Field::data_type) {
                Ok(DataType::List(item)) => Arc::clone(item),
                _ => unreachable!("`{name}` is a list column of the schema above"),
            }
        };
        let list_builder = |name: &str| {
            ListBuilder::with_capacity(StringBuilder::new(), BATCH_ROWS).with_field(item(name))
        };
        let ints = || UInt64Builder::with_capacity(BATCH_ROWS);
        Ok(Self {
            sources: list_builder("sources"),
            response_fingerprints: list_builder("response_fingerprints"),
            writer,
            schema,
            rows: 0,
            file: StringBuilder::new(),
            line: ints(),
            row_group: ints(),
            row: ints(),
            index: ints(),
            kind: StringBuilder::new(),
            origin: StringBuilder::new(),
            confidence: Float64Builder::with_capacity(BATCH_ROWS),
        })
    }

    /// Appends one record's row; a full batch goes to the writer.
    fn push(&mut self, line: &RecordLine<'_>) -> Result<(), parquet::errors::ParquetError> {
        let loc = line.locator;
        self.file.append_value(loc.file.to_string_lossy());
        self.line.append_option(loc.line);
        self.row_group.append_option(loc.row_group);
        self.row.append_option(loc.row);
        self.index.append_option(loc.index);
        self.kind.append_value(line.kind);
        self.origin.append_value(line.lineage.origin);
        for source in &line.lineage.sources {
            self.sources.values().append_value(source);
        }
        self.sources.append(true);
        self.confidence.append_value(line.confidence);
        for hex in &line.response_fingerprints {
            self.response_fingerprints.values().append_value(hex);
        }
        self.response_fingerprints.append(true);

        self.rows += 1;
        if self.rows == BATCH_ROWS {
            self.flush_batch()?;
        }
        Ok(())
    }

    /// Hands the gathered rows to the writer as one record batch and empties the builders.
    fn flush_batch(&mut self) -> Result<(), parquet::errors::ParquetError> {
        if self.rows == 0 {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.file.finish()),
            Arc::new(self.line.finish()),
            Arc::new(self.row_group.finish()),
            Arc::new(self.row.finish()),
            Arc::new(self.index.finish()),
            Arc::new(self.kind.finish()),
            Arc::new(self.origin.finish()),
            Arc::new(self.sources.finish()),
            Arc::new(self.confidence.finish()),
            Arc::new(self.response_fingerprints.finish()),
        ];
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns)?;
        self.rows = 0;
        self.writer.write(&batch)
    }

    /// Writes the last batch, closes the writer (the footer) and returns the file.
    fn close(mut self) -> Result<fs::File, parquet::errors::ParquetError> {
        self.flush_batch()?;
        self.writer.into_inner()
    }
}

fn parquet_error(path: &Path, source: parquet::errors::ParquetError) -> Error {
    io_error(path, std::io::Error::other(source))
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Quarantine(QuarantineError {
        path: path.to_owned(),
        source,
    })
}
