//! Parquet, read row group by row group with the parquet crate's Arrow reader.
//!
//! Each row group gets its own reader, so a row is located by its row group and its row within
//! the group, and damage in one row group loses only the rest of that group. A file that is not
//! Parquet, or whose footer is damaged, is one file-level rejection. The parquet crate can
//! panic on some damaged files; such a panic is caught and reported as a rejection too.

use std::any::Any;
use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;

use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::file::reader::ChunkReader;

use crate::Locator;
use crate::arrow_json;
use crate::event::{Event, RawRecord, Rejection};
use crate::source::{Compression, Peeked, Stream};
use crate::spill::spill;

/// Rows per batch: small enough to keep memory flat, large enough to amortise decoding.
const BATCH_ROWS: usize = 1024;

/// A Parquet input that can be opened again for each row group.
trait Input: ChunkReader + Sized + 'static {
    fn again(&self) -> std::io::Result<Self>;
}

impl Input for std::fs::File {
    fn again(&self) -> std::io::Result<Self> {
        self.try_clone()
    }
}

/// Starts reading a Parquet file. A compressed one, or one on standard input, is first
/// copied to a temporary file, since Parquet needs random access ([`crate::spill`]).
pub(crate) fn read(
    stream: Peeked<Stream>,
    file: Arc<Path>,
    compression: Compression,
    keep_rows: bool,
) -> Box<dyn Iterator<Item = Event> + Send> {
    read_with(
        stream,
        file,
        compression,
        ArrowReaderOptions::new(),
        keep_rows,
    )
}

/// [`read`] with explicit reader options (tests read with and without the embedded Arrow
/// schema). `keep_rows` keeps each record's row as a one-row slice of its batch.
pub(crate) fn read_with(
    stream: Peeked<Stream>,
    file: Arc<Path>,
    compression: Compression,
    options: ArrowReaderOptions,
    keep_rows: bool,
) -> Box<dyn Iterator<Item = Event> + Send> {
    let mut stream = match stream.into_plain_file() {
        Ok(handle) => return Box::new(Rows::start(handle, file, options, keep_rows)),
        Err(stream) => stream,
    };
    match spill(&mut stream) {
        Ok(handle) => Box::new(Rows::start(handle, file, options, keep_rows)),
        Err(err) => {
            let message = err.message(compression, "the Parquet file");
            let rejection = Rejection::file(Locator::file(file), message);
            Box::new(std::iter::once(Event::Rejected(rejection)))
        }
    }
}

/// The row group being read.
struct Group {
    index: usize,
    rows: u64,
    /// Rows of the group read so far.
    read: u64,
    reader: ParquetRecordBatchReader,
}

/// Streams the rows of a Parquet file.
struct Rows<T> {
    input: T,
    file: Arc<Path>,
    metadata: Option<ArrowReaderMetadata>,
    next_group: usize,
    group: Option<Group>,
    pending: VecDeque<Event>,
    done: bool,
    /// Keep each record's row (for writing rows back as Parquet).
    keep: bool,
}

impl<T: Input> Rows<T> {
    fn start(input: T, file: Arc<Path>, options: ArrowReaderOptions, keep_rows: bool) -> Self {
        let mut rows = Self {
            input,
            file,
            metadata: None,
            next_group: 0,
            group: None,
            pending: VecDeque::new(),
            done: false,
            keep: keep_rows,
        };
        match guarded(|| ArrowReaderMetadata::load(&rows.input, options)) {
            Ok(Ok(metadata)) => {
                if metadata.metadata().file_metadata().num_rows() == 0 {
                    let warning = Event::warning(
                        Locator::file(rows.file.clone()),
                        "the Parquet file holds no rows",
                    );
                    rows.pending.push_back(warning);
                }
                rows.metadata = Some(metadata);
            }
            Ok(Err(err)) => rows.fail_file(&err.to_string()),
            Err(panic) => rows.fail_file(&panic),
        }
        rows
    }

    fn fail_file(&mut self, detail: &str) {
        self.done = true;
        let rejection = Rejection::file(
            Locator::file(self.file.clone()),
            format!("cannot read the file as Parquet: {detail}"),
        )
        .with_hint("the file is damaged, or is not a Parquet file");
        self.pending.push_back(Event::Rejected(rejection));
    }

    /// Rejects the rest of a row group, from `row` on.
    fn fail_group(&mut self, group: usize, row: u64, rows: u64, detail: &str) {
        let lost = rows.saturating_sub(row);
        let locator = Locator {
            row_group: Some(group as u64),
            row: Some(row),
            ..Locator::file(self.file.clone())
        };
        let message = format!(
            "cannot read row group {group} from row {row} on ({lost} of {rows} rows lost): \
             {detail}"
        );
        self.pending
            .push_back(Event::Rejected(Rejection::file(locator, message)));
    }

    /// Opens the next row group, or finishes.
    fn open_group(&mut self) {
        let Some(metadata) = &self.metadata else {
            self.done = true;
            return;
        };
        let index = self.next_group;
        if index >= metadata.metadata().num_row_groups() {
            self.done = true;
            return;
        }
        self.next_group += 1;
        let rows = u64::try_from(metadata.metadata().row_group(index).num_rows()).unwrap_or(0);
        let metadata = metadata.clone();
        let input = match self.input.again() {
            Ok(input) => input,
            Err(err) => {
                self.fail_group(index, 0, rows, &err.to_string());
                return;
            }
        };
        let built = guarded(move || {
            ParquetRecordBatchReaderBuilder::new_with_metadata(input, metadata)
                .with_row_groups(vec![index])
                .with_batch_size(BATCH_ROWS)
                .build()
        });
        match built {
            Ok(Ok(reader)) => {
                self.group = Some(Group {
                    index,
                    rows,
                    read: 0,
                    reader,
                });
            }
            Ok(Err(err)) => self.fail_group(index, 0, rows, &err.to_string()),
            Err(panic) => self.fail_group(index, 0, rows, &panic),
        }
    }

    /// Reads the next batch of the current row group.
    fn read_batch(&mut self, mut group: Group) {
        let batch = guarded(|| group.reader.next());
        let batch = match batch {
            Ok(Some(Ok(batch))) => batch,
            Ok(None) => {
                if group.read < group.rows {
                    self.fail_group(
                        group.index,
                        group.read,
                        group.rows,
                        "the row group ends early",
                    );
                }
                return;
            }
            Ok(Some(Err(err))) => {
                return self.fail_group(group.index, group.read, group.rows, &err.to_string());
            }
            Err(panic) => return self.fail_group(group.index, group.read, group.rows, &panic),
        };
        let converted = match guarded(|| arrow_json::rows(&batch)) {
            Ok(converted) => converted,
            Err(panic) => return self.fail_group(group.index, group.read, group.rows, &panic),
        };
        for (k, row) in converted.into_iter().enumerate() {
            let locator =
                Locator::row(self.file.clone(), group.index as u64, group.read + k as u64);
            for message in row.warnings {
                self.pending
                    .push_back(Event::warning(locator.clone(), message));
            }
            self.pending.push_back(Event::Record(RawRecord {
                locator,
                value: row.value,
                raw: None,
                row: self.keep.then(|| batch.slice(k, 1)),
            }));
        }
        group.read += batch.num_rows() as u64;
        self.group = Some(group);
    }
}

impl<T: Input> Iterator for Rows<T> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            if self.done {
                return None;
            }
            match self.group.take() {
                Some(group) => self.read_batch(group),
                None => self.open_group(),
            }
        }
    }
}

/// Runs `f`, turning a panic inside the parquet or arrow crates into a message.
pub(crate) fn guarded<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        format!(
            "the reader failed on damaged data ({})",
            panic_text(payload.as_ref())
        )
    })
}

fn panic_text(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "panic"
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::Path;
    use std::sync::Arc;

    use arrow::array::RecordBatch;
    use parquet::arrow::ArrowWriter;
    use parquet::arrow::arrow_reader::ArrowReaderOptions;
    use parquet::basic::{BrotliLevel, Compression as Codec, GzipLevel, ZstdLevel};
    use parquet::file::properties::WriterProperties;
    use serde_json::Value;

    use crate::arrow_json::tests::sample_batch;
    use crate::format::NamedCompression;
    use crate::test_util::{read_bytes, records, rejections, write};
    use crate::{Event, ReadOptions, Scope};

    fn to_parquet(batch: &RecordBatch, props: WriterProperties) -> Vec<u8> {
        let mut out = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).unwrap();
        writer.write(batch).unwrap();
        writer.close().unwrap();
        out
    }

    fn values(events: &[Event]) -> Vec<Value> {
        records(events)
            .iter()
            .map(|r| Value::Object(r.value.clone()))
            .collect()
    }

    /// Reads a Parquet file through `read_with`, optionally ignoring its Arrow schema.
    fn read_parquet(path: &Path, skip_arrow_metadata: bool) -> Vec<Event> {
        let source =
            crate::source::open(path, NamedCompression::None, &ReadOptions::default()).unwrap();
        let options = ArrowReaderOptions::new().with_skip_arrow_metadata(skip_arrow_metadata);
        super::read_with(
            source.stream,
            Arc::from(path),
            source.compression,
            options,
            false,
        )
        .collect()
    }

    #[test]
    fn rows_are_located_by_row_group_and_row_and_match_the_arrow_values() {
        let batch = sample_batch();
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(2))
            .build();
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "x.parquet", &to_parquet(&batch, props));

        let with_schema = read_parquet(&path, false);
        let places: Vec<_> = records(&with_schema)
            .iter()
            .map(|r| (r.locator.row_group.unwrap(), r.locator.row.unwrap()))
            .collect();
        assert_eq!(places, [(0, 0), (0, 1), (1, 0)]);
        let expected: Vec<Value> = crate::arrow_json::rows(&batch)
            .into_iter()
            .map(|r| Value::Object(r.value))
            .collect();
        assert_eq!(values(&with_schema), expected);

        // Without the embedded Arrow schema (plain `Utf8` and `Binary`): the same values.
        let without_schema = read_parquet(&path, true);
        assert_eq!(values(&without_schema), expected);
        let warnings = |events: &[Event]| {
            events
                .iter()
                .filter(|e| matches!(e, Event::Warning(_)))
                .count()
        };
        assert_eq!(warnings(&with_schema), 3);
        assert_eq!(warnings(&without_schema), 3);
    }

    // Case 11 (huggingface/datasets#8010): the same rows with and without the Arrow schema,
    // and the same as their JSON Lines spelling.
    #[test]
    fn case_11_reads_the_same_without_arrow_schema_and_as_json_lines() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/cases/ingest/11-parquet-nested-types.parquet");
        let with_schema = values(&read_parquet(&path, false));
        let without_schema = values(&read_parquet(&path, true));
        assert_eq!(with_schema, without_schema);
        assert_eq!(with_schema.len(), 4);

        let mut jsonl = String::new();
        for value in &with_schema {
            jsonl.push_str(&value.to_string());
            jsonl.push('\n');
        }
        let as_lines = values(&read_bytes(
            "x.jsonl",
            jsonl.as_bytes(),
            &ReadOptions::default(),
        ));
        assert_eq!(as_lines, with_schema);
    }

    #[test]
    fn every_common_parquet_compression_is_read() {
        let batch = sample_batch();
        for codec in [
            Codec::SNAPPY,
            Codec::GZIP(GzipLevel::default()),
            Codec::LZ4_RAW,
            Codec::LZ4,
            Codec::ZSTD(ZstdLevel::default()),
            Codec::BROTLI(BrotliLevel::default()),
        ] {
            let props = WriterProperties::builder().set_compression(codec).build();
            let events = read_bytes(
                "x.parquet",
                &to_parquet(&batch, props),
                &ReadOptions::default(),
            );
            assert_eq!(records(&events).len(), 3, "{codec:?}: {events:?}");
        }
    }

    #[test]
    fn compressed_parquet_files_are_read() {
        let data = to_parquet(&sample_batch(), WriterProperties::default());
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&data).unwrap();
        let events = read_bytes(
            "x.parquet.gz",
            &encoder.finish().unwrap(),
            &ReadOptions::default(),
        );
        assert_eq!(records(&events).len(), 3);
        let events = read_bytes("x.unknown", &data, &ReadOptions::default());
        assert_eq!(records(&events).len(), 3);
    }

    #[test]
    fn damaged_parquet_is_a_rejection_not_a_panic() {
        let data = to_parquet(&sample_batch(), WriterProperties::default());
        let events = read_bytes(
            "x.parquet",
            &data[..data.len() - 20],
            &ReadOptions::default(),
        );
        assert!(matches!(&events[..], [Event::Rejected(r)] if r.scope == Scope::File));
        let events = read_bytes(
            "x.parquet",
            b"PAR1 not really PAR1",
            &ReadOptions::default(),
        );
        assert_eq!(rejections(&events).len(), 1);
        let events = read_bytes("x.parquet", b"", &ReadOptions::default());
        assert_eq!(rejections(&events).len(), 1);

        // Damage inside the data pages: whatever comes out, it ends and names the file.
        for at in (8..data.len() - 100).step_by(37) {
            let mut damaged = data.clone();
            damaged[at] ^= 0x5A;
            let events = read_bytes("x.parquet", &damaged, &ReadOptions::default());
            assert!(!events.is_empty());
        }
    }
}
