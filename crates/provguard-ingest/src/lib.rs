//! The reading stage of provguard: from the paths a user gives to a stream of records, each
//! with the place it comes from.
//!
//! Nothing read may be lost. Every record of every file ends up as an [`Event::Record`] or an
//! [`Event::Rejected`] naming the file and the line (or row group and row, or array index);
//! blank lines are reported as [`Event::Blank`], and lenient fixes as [`Event::Warning`]. Only
//! a file that cannot be opened at all is an [`IngestError`]: whatever is wrong inside a file
//! becomes an event, so one bad file never stops the others.
//!
//! The stages, one module each:
//!
//! - [`discover`] expands folders into data files (with [`PathFilter`] globs) and
//!   [`split_of`] names a file's dataset split;
//! - `source` opens a file or standard input (`-`, located as `<stdin>`), recognises gzip,
//!   zstd, bzip2, xz and lz4 by their magic bytes, decompresses every part of a multi-part
//!   file, and rejects a decompression bomb past [`ReadOptions::max_decompression_ratio`];
//! - `jsonl` frames JSON Lines itself (`\n` only, one `\r` dropped, byte order marks, UTF-8
//!   errors with line, column and byte offset);
//! - `json_array` streams the elements of a JSON array one at a time;
//! - `parquet_rows` reads Parquet row group by row group, `ipc_rows` Arrow IPC files and
//!   streams batch by batch, and `arrow_json` turns Arrow values into JSON;
//! - `csv_rows` reads CSV and TSV with the `csv` crate, every value a string.
//!
//! The format of a file comes from [`ReadOptions::format`], else from its name once any
//! compression suffix is removed (`.jsonl`/`.ndjson`: JSON Lines, `.parquet`: Parquet,
//! `.csv`, `.tsv`, `.arrow`/`.feather`/`.arrows`/`.ipc`: Arrow IPC, `.json`: a JSON array when
//! the first non-blank byte is `[`, else JSON Lines), else from its content (`PAR1`,
//! `ARROW1` or an Arrow stream message, `[`, anything else JSON Lines).
#![deny(missing_docs)]

mod arrow_json;
mod csv_rows;
mod discover;
mod error;
mod event;
mod format;
mod ipc_rows;
mod json_array;
mod jsonl;
mod locator;
mod parquet_rows;
pub mod schema;
mod source;
mod spill;
#[cfg(test)]
mod test_util;
mod text;

use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

pub use discover::{Discovery, discover, discover_filtered, split_of};
pub use error::IngestError;
pub use event::{Event, RawRecord, Rejection, Scope, Warning};
pub use format::{InputFormat, PathFilter, ReadOptions};
pub use locator::Locator;
pub use source::{Compression, STDIN_NAME, STDIN_PATH};

use format::NamedFormat;

/// A streaming reader of one file's events.
///
/// Records are read one at a time (a Parquet batch at a time); the file is never held in memory
/// as a whole, except a compressed Parquet file, which must be decompressed to be read.
pub struct Reader {
    file: Arc<Path>,
    format: InputFormat,
    compression: Compression,
    preamble: Arc<OnceLock<Vec<u8>>>,
    events: Box<dyn Iterator<Item = Event> + Send>,
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("file", &self.file)
            .field("format", &self.format)
            .field("compression", &self.compression)
            .finish_non_exhaustive()
    }
}

impl Reader {
    /// The file being read.
    #[must_use]
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The format the file is read as.
    #[must_use]
    pub fn format(&self) -> InputFormat {
        self.format
    }

    /// The compression found in the file.
    #[must_use]
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The bytes that come before the records and that a copy of some of the records in the
    /// same format needs: the header line of a CSV or TSV file (without its line ending), once
    /// it has been read. `None` for other formats.
    #[must_use]
    pub fn preamble(&self) -> Option<&[u8]> {
        self.preamble.get().map(Vec::as_slice)
    }
}

impl Iterator for Reader {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        self.events.next()
    }
}

/// Opens one file and returns a streaming iterator of its events.
///
/// Fails only when the file cannot be opened at all (missing, permission); everything about the
/// data inside is an [`Event`].
///
/// ```
/// use provguard_ingest::{Event, ReadOptions, open};
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("x.jsonl");
/// # fs_err::write(&path, "{\"id\":1}\n\n[2]\n").unwrap();
/// let events: Vec<Event> = open(&path, &ReadOptions::default()).unwrap().collect();
/// assert!(matches!(&events[0], Event::Record(r) if r.locator.line == Some(1)));
/// assert!(matches!(&events[1], Event::Blank(_)));
/// assert!(matches!(&events[2], Event::Rejected(r) if r.message.contains("found an array")));
/// ```
pub fn open(path: &Path, opts: &ReadOptions) -> Result<Reader, IngestError> {
    let stdin = path == Path::new(STDIN_PATH);
    let file: Arc<Path> = if stdin {
        Arc::from(Path::new(STDIN_NAME))
    } else {
        Arc::from(path)
    };
    let (named_format, named_compression) = format::classify_name(path);
    let source = source::open(path, named_compression, opts)?;
    let compression = source.compression;

    // The name decides, except that `.json` and unknown names look at the content.
    let sniff = source.sniff;
    let array_start = sniff.first_non_blank == Some(b'[');
    let by_content = if sniff.parquet_magic {
        InputFormat::Parquet
    } else if sniff.arrow_file_magic || sniff.arrow_stream_start {
        InputFormat::ArrowIpc
    } else if array_start {
        InputFormat::JsonArray
    } else {
        InputFormat::JsonLines
    };
    let format = opts.format.unwrap_or(match named_format {
        NamedFormat::Json if array_start => InputFormat::JsonArray,
        NamedFormat::JsonLines | NamedFormat::Json => InputFormat::JsonLines,
        NamedFormat::Parquet => InputFormat::Parquet,
        NamedFormat::Csv => InputFormat::Csv,
        NamedFormat::Tsv => InputFormat::Tsv,
        NamedFormat::ArrowIpc => InputFormat::ArrowIpc,
        NamedFormat::Unknown => by_content,
    });
    tracing::debug!(
        file = %file.display(),
        format = format.name(),
        compression = compression.name(),
        "reading file"
    );

    let mut first = Vec::new();
    if let Some(note) = &source.name_mismatch {
        first.push(Event::warning(Locator::file(file.clone()), note.clone()));
    }
    let preamble = Arc::new(OnceLock::new());
    // Known only once the stream was read to its end: bytes ignored after the last part.
    let trailing = {
        let trailing = source.trailing.clone();
        let file = file.clone();
        std::iter::once_with(move || {
            trailing
                .get()
                .map(|message| Event::warning(Locator::file(file), message.clone()))
        })
        .flatten()
    };
    let binary = matches!(format, InputFormat::Parquet | InputFormat::ArrowIpc);
    let events: Box<dyn Iterator<Item = Event> + Send> = if sniff.empty && !binary {
        let warning = Event::warning(Locator::file(file.clone()), "the file is empty");
        Box::new(std::iter::once(warning))
    } else {
        let stream = source.stream;
        match format {
            InputFormat::JsonLines => Box::new(jsonl::JsonLines::new(
                stream,
                file.clone(),
                compression,
                opts,
            )),
            InputFormat::JsonArray => Box::new(json_array::JsonArray::new(
                stream,
                file.clone(),
                compression,
                opts,
            )),
            InputFormat::Parquet => {
                parquet_rows::read(stream, file.clone(), compression, opts.keep_raw)
            }
            InputFormat::Csv | InputFormat::Tsv => Box::new(csv_rows::CsvRows::new(
                stream,
                file.clone(),
                compression,
                format == InputFormat::Tsv,
                opts,
                preamble.clone(),
            )),
            InputFormat::ArrowIpc => {
                ipc_rows::read(stream, file.clone(), compression, sniff, opts.keep_raw)
            }
        }
    };
    Ok(Reader {
        file,
        format,
        compression,
        preamble,
        events: Box::new(first.into_iter().chain(events).chain(trailing)),
    })
}
