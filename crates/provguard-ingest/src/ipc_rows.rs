//! Arrow IPC, the file format and the stream format, read record batch by record batch with
//! arrow's own readers.
//!
//! The file format (magic `ARROW1`) needs random access to its footer: an uncompressed file is
//! read in place, a compressed one is first copied to a temporary file (as Parquet is). The
//! stream format (Hugging Face `datasets` cache files, `.arrows`) is read as it streams, so
//! its memory stays that of one batch. Rows are located by their 0-based index in the file
//! (`row`), counted across batches. Values become JSON as Parquet values do. A batch that
//! cannot be read rejects the rest of the file from its first row on.

use std::collections::VecDeque;

use std::path::Path;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::error::ArrowError;
use arrow::ipc::reader::{FileReader, StreamReader};

use crate::Locator;
use crate::arrow_json;
use crate::event::{Event, RawRecord, Rejection};
use crate::parquet_rows::guarded;
use crate::source::{Compression, Peeked, Sniff, Stream};
use crate::spill::spill;

type Batches = Box<dyn Iterator<Item = Result<RecordBatch, ArrowError>> + Send>;

/// Starts reading an Arrow IPC file or stream.
pub(crate) fn read(
    stream: Peeked<Stream>,
    file: Arc<Path>,
    compression: Compression,
    sniff: Sniff,
    keep_rows: bool,
) -> Box<dyn Iterator<Item = Event> + Send> {
    let mut rows = Rows {
        file,
        compression,
        batches: None,
        row: 0,
        pending: VecDeque::new(),
        keep: keep_rows,
    };
    let opened: Result<Result<Batches, ArrowError>, String> = if sniff.arrow_file_magic {
        match stream.into_plain_file() {
            Ok(handle) => {
                guarded(|| FileReader::try_new(handle, None).map(|r| Box::new(r) as Batches))
            }
            Err(mut stream) => match spill(&mut stream) {
                Ok(handle) => {
                    guarded(|| FileReader::try_new(handle, None).map(|r| Box::new(r) as Batches))
                }
                Err(err) => {
                    rows.fail(0, err.message(compression, "the Arrow IPC file"));
                    return Box::new(rows);
                }
            },
        }
    } else {
        guarded(|| StreamReader::try_new(stream, None).map(|r| Box::new(r) as Batches))
    };
    match opened {
        Ok(Ok(batches)) => rows.batches = Some(batches),
        Ok(Err(err)) => {
            let message = format!("cannot read the file as Arrow IPC: {}", rows.describe(&err));
            rows.fail(0, message);
            if let Some(Event::Rejected(r)) = rows.pending.back_mut() {
                r.hint = Some("the file is damaged, or is not an Arrow IPC file".to_owned());
            }
        }
        Err(panic) => rows.fail(0, format!("cannot read the file as Arrow IPC: {panic}")),
    }
    Box::new(rows)
}

/// Streams the rows of an Arrow IPC input.
struct Rows {
    file: Arc<Path>,
    compression: Compression,
    batches: Option<Batches>,
    /// Rows read so far.
    row: u64,
    pending: VecDeque<Event>,
    /// Keep each record's row as a one-row slice of its batch (for writing rows back).
    keep: bool,
}

impl Rows {
    fn at(&self, row: u64) -> Locator {
        Locator {
            row: Some(row),
            ..Locator::file(self.file.clone())
        }
    }

    /// Rejects the rest of the input from `row` on and stops.
    fn fail(&mut self, row: u64, message: String) {
        self.batches = None;
        let locator = if row == 0 {
            Locator::file(self.file.clone())
        } else {
            self.at(row)
        };
        self.pending
            .push_back(Event::Rejected(Rejection::file(locator, message)));
    }

    /// An arrow error in file terms: a read error of the decompressed stream is named as such.
    fn describe(&self, err: &ArrowError) -> String {
        match err {
            ArrowError::IoError(_, io) => self.compression.stream_error(io),
            other => other.to_string(),
        }
    }

    fn next_batch(&mut self) {
        let Some(batches) = self.batches.as_mut() else {
            return;
        };
        let batch = match guarded(|| batches.next()) {
            Ok(Some(Ok(batch))) => batch,
            Ok(None) => {
                self.batches = None;
                return;
            }
            Ok(Some(Err(err))) => {
                let message = format!(
                    "cannot read the Arrow IPC data from row {} on: {}",
                    self.row,
                    self.describe(&err)
                );
                return self.fail(self.row, message);
            }
            Err(panic) => {
                let message = format!(
                    "cannot read the Arrow IPC data from row {} on: {panic}",
                    self.row
                );
                return self.fail(self.row, message);
            }
        };
        let converted = match guarded(|| arrow_json::rows(&batch)) {
            Ok(converted) => converted,
            Err(panic) => {
                let message = format!("cannot convert rows from row {} on: {panic}", self.row);
                return self.fail(self.row, message);
            }
        };
        for (i, row) in converted.into_iter().enumerate() {
            let locator = self.at(self.row);
            self.row += 1;
            for message in row.warnings {
                self.pending
                    .push_back(Event::warning(locator.clone(), message));
            }
            self.pending.push_back(Event::Record(RawRecord {
                locator,
                value: row.value,
                raw: None,
                row: self.keep.then(|| batch.slice(i, 1)),
            }));
        }
    }
}

impl Iterator for Rows {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            self.batches.as_ref()?;
            self.next_batch();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use arrow::array::RecordBatch;
    use arrow::ipc::CompressionType;
    use arrow::ipc::writer::{FileWriter, IpcWriteOptions, StreamWriter};
    use serde_json::Value;

    use crate::arrow_json::tests::sample_batch;
    use crate::test_util::{read_bytes, records, rejections};
    use crate::{InputFormat, ReadOptions, Scope};

    fn expected(batch: &RecordBatch) -> Vec<Value> {
        crate::arrow_json::rows(batch)
            .into_iter()
            .map(|r| Value::Object(r.value))
            .collect()
    }

    fn values(events: &[crate::Event]) -> Vec<Value> {
        records(events)
            .iter()
            .map(|r| Value::Object(r.value.clone()))
            .collect()
    }

    /// The batch written twice, as an IPC file or stream, with or without buffer compression.
    fn ipc(file: bool, compression: Option<CompressionType>) -> Vec<u8> {
        let batch = sample_batch();
        let options = IpcWriteOptions::default()
            .try_with_compression(compression)
            .unwrap();
        let mut out = Vec::new();
        if file {
            let mut w =
                FileWriter::try_new_with_options(&mut out, &batch.schema(), options).unwrap();
            w.write(&batch).unwrap();
            w.write(&batch).unwrap();
            w.finish().unwrap();
        } else {
            let mut w =
                StreamWriter::try_new_with_options(&mut out, &batch.schema(), options).unwrap();
            w.write(&batch).unwrap();
            w.write(&batch).unwrap();
            w.finish().unwrap();
        }
        out
    }

    #[test]
    fn files_and_streams_give_every_row_located_across_batches() {
        let batch = sample_batch();
        let mut want = expected(&batch);
        want.extend(expected(&batch));
        for (file, name) in [(true, "x.arrow"), (false, "x.arrows"), (false, "x.unknown")] {
            for compression in [
                None,
                Some(CompressionType::LZ4_FRAME),
                Some(CompressionType::ZSTD),
            ] {
                let events = read_bytes(name, &ipc(file, compression), &ReadOptions::default());
                assert_eq!(values(&events), want, "{name} {compression:?}");
                let rows: Vec<_> = records(&events)
                    .iter()
                    .map(|r| r.locator.row.unwrap())
                    .collect();
                assert_eq!(rows, [0, 1, 2, 3, 4, 5]);
            }
        }
    }

    #[test]
    fn a_compressed_ipc_file_is_read_from_memory() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&ipc(true, None)).unwrap();
        let events = read_bytes(
            "x.arrow.gz",
            &encoder.finish().unwrap(),
            &ReadOptions::default(),
        );
        assert_eq!(records(&events).len(), 6);
    }

    #[test]
    fn a_cut_off_stream_keeps_the_rows_before_the_damage() {
        let data = ipc(false, None);
        let events = read_bytes(
            "x.arrows",
            &data[..data.len() - 200],
            &ReadOptions::default(),
        );
        assert_eq!(records(&events).len(), 3);
        let rejected = rejections(&events);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].scope, Scope::File);
        assert_eq!(rejected[0].locator.row, Some(3));
    }

    #[test]
    fn not_arrow_is_one_file_rejection() {
        let opts = ReadOptions {
            format: Some(InputFormat::ArrowIpc),
            ..ReadOptions::default()
        };
        for data in [&b"ARROW1\0\0garbage"[..], b"{\"a\":1}\n", b""] {
            let events = read_bytes("x.arrow", data, &opts);
            let rejected = rejections(&events);
            assert_eq!(rejected.len(), 1, "{events:?}");
            assert!(
                rejected[0].message.contains("Arrow IPC"),
                "{}",
                rejected[0].message
            );
        }
    }
}
