//! Writing records aside: the admitted ones to `--admit DIR`, the rejected ones to
//! `--quarantine DIR` with their locators and reasons.
//!
//! Each input file gets one output file in each folder, named after the input's path (its
//! plain components, so `data/train.jsonl.gz` becomes `DIR/data/train.jsonl`, decompressed),
//! and the records are written in the input's own format:
//!
//! - JSON Lines: each line byte for byte as it was read (a `\r` kept), one per line;
//! - CSV and TSV: the header line, then each row as the `csv` crate writes it back (the same
//!   fields; quoting may differ from the input's);
//! - JSON arrays: a JSON array, one element per line: each record as compact JSON, each
//!   rejected element that is valid JSON (a number, a list) as the bytes read;
//! - Parquet: the rows as read (one-row slices of the reader's Arrow batches), written by
//!   `ArrowWriter` with the input's Arrow schema, zstd-compressed;
//! - Arrow IPC: the rows as read, written by arrow's IPC `FileWriter` with the input's Arrow
//!   schema (the IPC file format, also for an input in the stream format).
//!
//! Beside each quarantine file, `<file>.reasons.jsonl` holds one line per rejection, in
//! order: the locator, the field, the message, the hint, the scope, and `quarantined_line`,
//! which record of the quarantine file holds it, from 1 (its line for JSON Lines, its row
//! after the header for CSV and TSV, its element or row for JSON arrays, Parquet and Arrow
//! IPC; `null` when the reader could not keep its bytes, as for the lost rest of a truncated
//! file or a JSON array element that is not valid JSON). A file rejected as a whole before any record of it was read (a JSON array saved as `.jsonl`, a damaged Parquet
//! footer) is copied into the quarantine folder as it is, under its own name.
//!
//! So for every input, the admitted file and the quarantine file together hold every record
//! that was read, each once; `accounting.quarantined` counts the records written to
//! quarantine (a whole file copied counts as one).

use std::collections::HashSet;
use std::io::{BufWriter, Write};
use std::path::{Component, Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::ipc::writer::FileWriter;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use provguard_ingest::{Event, InputFormat, STDIN_PATH, Scope};
use serde_json::Value;

use crate::report::Problem;

/// Where admitted and rejected records are written; `None` writes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outputs {
    /// Folder for the admitted records.
    pub admit: Option<PathBuf>,
    /// Folder for the rejected records and their reasons.
    pub quarantine: Option<PathBuf>,
    /// JSON Lines file for how each admitted record was matched ([`crate::records`]).
    pub records: Option<PathBuf>,
}

impl Outputs {
    /// Whether anything is written, so that readers must keep each record's bytes.
    #[must_use]
    pub fn active(&self) -> bool {
        self.admit.is_some() || self.quarantine.is_some()
    }
}

/// Admitted or quarantined records could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write records to `{}`", path.display())]
pub struct QuarantineError {
    /// The file or folder being written.
    pub path: PathBuf,
    /// What the operating system said.
    #[source]
    pub source: std::io::Error,
}

fn failed(path: &Path) -> impl FnOnce(std::io::Error) -> QuarantineError + '_ {
    move |source| QuarantineError {
        path: path.to_path_buf(),
        source,
    }
}

/// How an output file holds its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// One record per line.
    Lines,
    /// The elements of one JSON array, one per line.
    JsonArray,
    /// Parquet rows.
    Parquet,
    /// Arrow IPC rows (the file format).
    ArrowIpc,
}

impl Layout {
    fn of(format: InputFormat) -> Self {
        match format {
            InputFormat::JsonArray => Layout::JsonArray,
            InputFormat::Parquet => Layout::Parquet,
            InputFormat::ArrowIpc => Layout::ArrowIpc,
            _ => Layout::Lines,
        }
    }
}

/// One output file, created on the first write.
struct Output {
    path: PathBuf,
    layout: Layout,
    out: Option<BufWriter<fs_err::File>>,
    /// The Parquet writer, created with the schema of the first row.
    parquet: Option<ArrowWriter<BufWriter<fs_err::File>>>,
    /// The Arrow IPC writer, created with the schema of the first row.
    ipc: Option<FileWriter<BufWriter<fs_err::File>>>,
    /// Lines (elements, rows) of records written.
    lines: u64,
}

impl Output {
    fn new(path: PathBuf, layout: Layout) -> Self {
        Self {
            path,
            layout,
            out: None,
            parquet: None,
            ipc: None,
            lines: 0,
        }
    }

    fn create(&self) -> Result<fs_err::File, QuarantineError> {
        if let Some(parent) = self.path.parent() {
            fs_err::create_dir_all(parent).map_err(failed(parent))?;
        }
        fs_err::File::create(&self.path).map_err(failed(&self.path))
    }

    fn writer(&mut self) -> Result<&mut BufWriter<fs_err::File>, QuarantineError> {
        if self.out.is_none() {
            let file = self.create()?;
            self.out = Some(BufWriter::new(file));
        }
        Ok(self.out.as_mut().expect("created above"))
    }

    /// Writes one line (a `\n` is added), with `preamble` first in a new file; in a JSON array
    /// file, one element.
    fn line(&mut self, bytes: &[u8], preamble: Option<&[u8]>) -> Result<u64, QuarantineError> {
        let fresh = self.out.is_none();
        let array = self.layout == Layout::JsonArray;
        let path = self.path.clone();
        let out = self.writer()?;
        if fresh && let Some(preamble) = preamble {
            out.write_all(preamble).map_err(failed(&path))?;
            out.write_all(b"\n").map_err(failed(&path))?;
        }

        // A JSON array opens before its first element; the others follow a comma.
        if array {
            out.write_all(if fresh { b"[\n" } else { b",\n" })
                .map_err(failed(&path))?;
            out.write_all(bytes).map_err(failed(&path))?;
        } else {
            out.write_all(bytes).map_err(failed(&path))?;
            out.write_all(b"\n").map_err(failed(&path))?;
        }
        self.lines += 1;
        Ok(self.lines)
    }

    /// Writes one row (a one-row batch) as Parquet or Arrow IPC, by the layout, creating the
    /// file with the row's schema.
    fn row(&mut self, row: &RecordBatch) -> Result<u64, QuarantineError> {
        let path = self.path.clone();
        let arrow_failed =
            |err: &dyn std::fmt::Display| failed(&path)(std::io::Error::other(err.to_string()));
        if self.layout == Layout::ArrowIpc {
            if self.ipc.is_none() {
                let file = BufWriter::new(self.create()?);
                let writer =
                    FileWriter::try_new(file, &row.schema()).map_err(|e| arrow_failed(&e))?;
                self.ipc = Some(writer);
            }
            let writer = self.ipc.as_mut().expect("created above");
            writer.write(row).map_err(|e| arrow_failed(&e))?;
        } else {
            if self.parquet.is_none() {
                let file = BufWriter::new(self.create()?);
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::default()))
                    .build();
                let writer = ArrowWriter::try_new(file, row.schema(), Some(props))
                    .map_err(|e| arrow_failed(&e))?;
                self.parquet = Some(writer);
            }
            let writer = self.parquet.as_mut().expect("created above");
            writer.write(row).map_err(|e| arrow_failed(&e))?;
        }
        self.lines += 1;
        Ok(self.lines)
    }

    fn finish(&mut self) -> Result<(), QuarantineError> {
        if let Some(mut out) = self.out.take() {
            if self.layout == Layout::JsonArray {
                out.write_all(b"\n]\n").map_err(failed(&self.path))?;
            }
            out.flush().map_err(failed(&self.path))?;
        }
        if let Some(writer) = self.parquet.take() {
            let mut out = writer
                .into_inner()
                .map_err(|err| failed(&self.path)(std::io::Error::other(err)))?;
            out.flush().map_err(failed(&self.path))?;
        }
        if let Some(mut writer) = self.ipc.take() {
            writer
                .finish()
                .map_err(|err| failed(&self.path)(std::io::Error::other(err)))?;
            let mut out = writer
                .into_inner()
                .map_err(|err| failed(&self.path)(std::io::Error::other(err)))?;
            out.flush().map_err(failed(&self.path))?;
        }
        Ok(())
    }
}

/// The outputs of the file being read.
struct Current {
    input: PathBuf,
    format: InputFormat,
    /// Records of this file written anywhere, or rejected, so far.
    seen: u64,
    admit: Option<Output>,
    quarantine: Option<Output>,
    reasons: Option<Output>,
}

/// Writes the records of a scan aside, file by file.
pub(crate) struct Sink<'o> {
    outputs: &'o Outputs,
    current: Option<Current>,
    used: HashSet<PathBuf>,
    quarantined: u64,
}

impl<'o> Sink<'o> {
    pub(crate) fn new(outputs: &'o Outputs) -> Self {
        Self {
            outputs,
            current: None,
            used: HashSet::new(),
            quarantined: 0,
        }
    }

    /// Starts the outputs of the next input file.
    pub(crate) fn start(
        &mut self,
        input: &Path,
        format: InputFormat,
    ) -> Result<(), QuarantineError> {
        self.close()?;
        if !self.outputs.active() {
            return Ok(());
        }
        let mut name = output_name(input, format);
        if !self.used.insert(name.clone()) {
            // Two inputs that map to the same name (`a/x.jsonl` and `a/x.jsonl.gz`).
            let mut k = 2;
            loop {
                let candidate = PathBuf::from(format!("{}.{k}", name.display()));
                if self.used.insert(candidate.clone()) {
                    name = candidate;
                    break;
                }
                k += 1;
            }
        }
        let reasons = PathBuf::from(format!("{}.reasons.jsonl", name.display()));
        let layout = Layout::of(format);
        self.current = Some(Current {
            input: input.to_path_buf(),
            format,
            seen: 0,
            admit: self
                .outputs
                .admit
                .as_ref()
                .map(|d| Output::new(d.join(&name), layout)),
            quarantine: self
                .outputs
                .quarantine
                .as_ref()
                .map(|d| Output::new(d.join(&name), layout)),
            reasons: self
                .outputs
                .quarantine
                .as_ref()
                .map(|d| Output::new(d.join(&reasons), Layout::Lines)),
        });
        Ok(())
    }

    /// Writes what an event says: an admitted record to the admit folder, a rejected one
    /// (`problem` is set when the schema rejected a record that was read) to quarantine.
    pub(crate) fn event(
        &mut self,
        event: &Event,
        problem: Option<&Problem>,
        preamble: Option<&[u8]>,
    ) -> Result<(), QuarantineError> {
        let Some(current) = self.current.as_mut() else {
            return Ok(());
        };
        match (event, problem) {
            (Event::Record(record), None) => {
                current.seen += 1;
                if let Some(admit) = current.admit.as_mut() {
                    write_record(admit, current.format, record, preamble)?;
                }
            }
            (Event::Record(record), Some(problem)) => {
                current.seen += 1;
                if let Some(quarantine) = current.quarantine.as_mut() {
                    let line = write_record(quarantine, current.format, record, preamble)?;
                    if line.is_some() {
                        self.quarantined += 1;
                    }
                    reason(current.reasons.as_mut(), problem, line)?;
                }
            }
            (Event::Rejected(rejection), _) => {
                let Some(quarantine_dir) = self.outputs.quarantine.as_ref() else {
                    return Ok(());
                };
                let problem = Problem::from_rejection(rejection);
                let whole_file = rejection.scope == Scope::File
                    && current.seen == 0
                    && current.input != Path::new(STDIN_PATH);
                current.seen += 1;
                let line = match (&rejection.raw, current.quarantine.as_mut()) {
                    (Some(raw), Some(quarantine))
                        if matches!(
                            current.format,
                            InputFormat::JsonLines | InputFormat::Csv | InputFormat::Tsv
                        ) || (current.format == InputFormat::JsonArray
                            && serde_json::from_slice::<serde::de::IgnoredAny>(raw).is_ok()) =>
                    {
                        let line = quarantine.line(raw, preamble)?;
                        self.quarantined += 1;
                        Some(line)
                    }
                    _ if whole_file => {
                        copy_whole(&current.input, quarantine_dir)?;
                        self.quarantined += 1;
                        None
                    }
                    _ => None,
                };
                reason(current.reasons.as_mut(), &problem, line)?;
            }
            (Event::Blank(_) | Event::Warning(_), _) => {}
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), QuarantineError> {
        if let Some(mut current) = self.current.take() {
            for output in [
                &mut current.admit,
                &mut current.quarantine,
                &mut current.reasons,
            ]
            .into_iter()
            .flatten()
            {
                output.finish()?;
            }
        }
        Ok(())
    }

    /// Flushes everything; returns the number of records written to quarantine.
    pub(crate) fn finish(mut self) -> Result<u64, QuarantineError> {
        self.close()?;
        Ok(self.quarantined)
    }
}

/// Writes a record that was read: its row in Parquet or Arrow IPC (when the reader kept it),
/// else a line or array element. Returns where it was written.
fn write_record(
    output: &mut Output,
    format: InputFormat,
    record: &provguard_ingest::RawRecord,
    preamble: Option<&[u8]>,
) -> Result<Option<u64>, QuarantineError> {
    if matches!(output.layout, Layout::Parquet | Layout::ArrowIpc) {
        return match &record.row {
            Some(row) => output.row(row).map(Some),
            None => Ok(None),
        };
    }
    let bytes = bytes_of(format, record.raw.as_deref(), &record.value);
    output.line(&bytes, preamble).map(Some)
}

/// The bytes to write for a record: its raw bytes in a format that keeps them, else compact
/// JSON.
fn bytes_of(
    format: InputFormat,
    raw: Option<&[u8]>,
    value: &serde_json::Map<String, Value>,
) -> Vec<u8> {
    match raw {
        Some(raw)
            if matches!(
                format,
                InputFormat::JsonLines | InputFormat::Csv | InputFormat::Tsv
            ) =>
        {
            raw.to_vec()
        }
        _ => serde_json::to_vec(value).unwrap_or_default(),
    }
}

/// Writes one line of reasons.
fn reason(
    reasons: Option<&mut Output>,
    problem: &Problem,
    line: Option<u64>,
) -> Result<(), QuarantineError> {
    let Some(reasons) = reasons else {
        return Ok(());
    };
    let mut value = serde_json::to_value(problem).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert(
            "quarantined_line".to_owned(),
            line.map_or(Value::Null, Value::from),
        );
    }
    reasons.line(value.to_string().as_bytes(), None)?;
    Ok(())
}

/// Copies an input file into the quarantine folder under its own (mirrored) name.
fn copy_whole(input: &Path, dir: &Path) -> Result<(), QuarantineError> {
    let target = dir.join(mirrored(input));
    if let Some(parent) = target.parent() {
        fs_err::create_dir_all(parent).map_err(failed(parent))?;
    }
    fs_err::copy(input, &target).map_err(failed(&target))?;
    Ok(())
}

/// The plain components of a path (no root, no `.` or `..`), so that any input maps to a
/// path inside the output folder.
fn mirrored(input: &Path) -> PathBuf {
    let mirrored: PathBuf = input
        .components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name),
            _ => None,
        })
        .collect();
    if mirrored.as_os_str().is_empty() {
        PathBuf::from("input")
    } else {
        mirrored
    }
}

/// The output name of an input: mirrored, without a compression suffix.
fn output_name(input: &Path, format: InputFormat) -> PathBuf {
    if input == Path::new(STDIN_PATH) {
        return PathBuf::from(match format {
            InputFormat::Csv => "stdin.csv",
            InputFormat::Tsv => "stdin.tsv",
            InputFormat::JsonArray => "stdin.json",
            InputFormat::Parquet => "stdin.parquet",
            InputFormat::ArrowIpc => "stdin.arrow",
            _ => "stdin.jsonl",
        });
    }
    let mut name = mirrored(input).to_string_lossy().into_owned();
    let lower = name.to_ascii_lowercase();
    for suffix in [
        ".gz", ".gzip", ".zst", ".zstd", ".bz2", ".bzip2", ".xz", ".lz4",
    ] {
        if lower.ends_with(suffix) {
            name.truncate(name.len() - suffix.len());
            break;
        }
    }
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_names_mirror_the_input_inside_the_folder() {
        let cases = [
            (
                "data/train.jsonl.gz",
                InputFormat::JsonLines,
                "data/train.jsonl",
            ),
            ("/abs/x/t.parquet", InputFormat::Parquet, "abs/x/t.parquet"),
            ("t.arrow", InputFormat::ArrowIpc, "t.arrow"),
            ("../up/a.csv.XZ", InputFormat::Csv, "up/a.csv"),
            ("./a.json.gz", InputFormat::JsonArray, "a.json"),
            ("-", InputFormat::JsonLines, "stdin.jsonl"),
        ];
        for (input, format, want) in cases {
            assert_eq!(
                output_name(Path::new(input), format),
                Path::new(want),
                "{input}"
            );
        }
    }
}
