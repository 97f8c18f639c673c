//! CSV and TSV, read with the `csv` crate: a header line naming the columns, then one record
//! per row.
//!
//! Every value is a string, whatever it looks like: nothing is inferred from the first rows,
//! and a schema that wants a string gets one. Quoting follows RFC 4180 for both (a field that
//! starts with `"` is quoted, `""` inside it is one `"`), so a quoted field may span lines.
//! A row is located by the line it starts on and its byte offset in the decompressed stream.
//! A row with more or fewer fields than the header, or a field that is not UTF-8, is rejected
//! with its line and the column it concerns. The header is required: a header that is not
//! UTF-8, or that names a column twice, rejects the file.
//!
//! A row longer than `max_record_bytes` is rejected. The `csv` crate holds a whole row before
//! it hands it over, so the stream is given to it through a byte budget ([`Budget`]): past
//! `max_record_bytes` plus the `csv` reader's buffer from the start of the row, reading fails,
//! and the rest of the file is rejected naming the line the row starts on. An unclosed quote
//! therefore costs at most that much memory, not the rest of the file.
//!
//! Empty lines (before the header, between rows, at the end) are skipped by the `csv` crate,
//! which locates the next row where it started looking for it, before them. So the bytes
//! handed to the `csv` reader are watched for empty lines ([`Budget`] notes where each
//! starts), and those right where the reader started looking are counted as blank lines, like
//! those of JSON Lines, and the row is located after them. An empty line inside a quoted
//! field is part of its value. A line of spaces is a row of one field.

use std::collections::{HashSet, VecDeque};
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use csv::{ByteRecord, ErrorKind};
use serde_json::{Map, Value};

use crate::event::{Event, RawRecord, Rejection};
use crate::source::Compression;
use crate::text;
use crate::{Locator, ReadOptions};

/// The `csv` reader's buffer: how far it may read ahead of the row it is parsing.
const CSV_BUFFER: usize = 64 * 1024;

/// A byte budget for the row being read: hands the `csv` reader no more than `limit` bytes
/// past the start of the row (`start`, moved on by [`CsvRows`] after each row), then fails
/// with [`RowTooLarge`].
struct Budget<R> {
    inner: R,
    /// Bytes handed to the `csv` reader so far.
    delivered: u64,
    /// Byte offset where the row being read starts.
    start: Arc<AtomicU64>,
    limit: u64,
    /// The offset and length (`\n` or `\r\n`) of every empty line delivered and not yet
    /// claimed by [`CsvRows::skip_blanks`].
    empty_lines: VecDeque<(u64, u64)>,
    /// Where the line being delivered starts, and its first byte once delivered.
    line_start: u64,
    line_first: u8,
    /// The offsets of the `\n` delivered and not yet passed by [`Budget::line_at`], and how
    /// many were passed: lines are counted here, from the bytes, whatever the line endings.
    newlines: VecDeque<(u64, bool)>,
    newlines_passed: u64,
    /// The last byte delivered (a `\n` after a `\r` ends a `\r\n`).
    last_byte: u8,
    /// The last answer of [`Budget::locate`]: asked again for the same offset, it gives the
    /// same answer.
    located: Option<(u64, (u64, u64))>,
    /// RFC 4180 quoting as the `csv` crate reads it, followed byte by byte, so that a quoted
    /// field still open at the end of the input is found (the `csv` crate ends it there
    /// without a word); and the offset where the open quoted field started.
    quote: Quote,
    quote_opened: u64,
    delimiter: u8,
    /// The input has ended.
    eof: bool,
}

/// Where a byte falls in CSV quoting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    FieldStart,
    Unquoted,
    Quoted,
    /// A `"` inside a quoted field: the field's end, or the first of `""`.
    ClosingOrEscaped,
}

impl<R> Budget<R> {
    /// Notes the empty lines, the line ends and the quoting among `bytes`, the next bytes
    /// delivered.
    fn watch(&mut self, bytes: &[u8]) {
        for (i, &byte) in bytes.iter().enumerate() {
            let at = self.delivered + i as u64;
            if at == self.line_start {
                self.line_first = byte;
            }
            if byte == b'\n' {
                self.newlines.push_back((at, self.last_byte == b'\r'));
                let len = at + 1 - self.line_start;
                if len == 1 || (len == 2 && self.line_first == b'\r') {
                    self.empty_lines.push_back((self.line_start, len));
                }
                self.line_start = at + 1;
            }
            let ends_field = byte == self.delimiter || byte == b'\n' || byte == b'\r';
            self.quote = match (self.quote, byte) {
                (Quote::Quoted, b'"') => Quote::ClosingOrEscaped,
                // Inside a quoted field, and `""` there is one `"`: still quoted.
                (Quote::Quoted, _) | (Quote::ClosingOrEscaped, b'"') => Quote::Quoted,
                (Quote::FieldStart, b'"') => {
                    self.quote_opened = at;
                    Quote::Quoted
                }
                _ if ends_field => Quote::FieldStart,
                _ => Quote::Unquoted,
            };
            self.last_byte = byte;
        }
    }

    /// The line and offset where something the `csv` crate places at `offset` starts: with
    /// `\r\n` endings it ends a row at the `\r`, so what follows is placed on the `\n`,
    /// which belongs to the line before. Offsets asked for must not decrease.
    fn locate(&mut self, offset: u64) -> (u64, u64) {
        if let Some((at, found)) = self.located
            && at == offset
        {
            return found;
        }
        let mut found = (self.line_at(offset), offset);
        if self.newlines.front() == Some(&(offset, true)) {
            found = (self.line_at(offset + 1), offset + 1);
        }
        self.located = Some((offset, found));
        found
    }

    /// The 1-based line of the byte at `offset`; offsets asked for must not decrease.
    fn line_at(&mut self, offset: u64) -> u64 {
        while self.newlines.front().is_some_and(|&(at, _)| at < offset) {
            self.newlines.pop_front();
            self.newlines_passed += 1;
        }
        self.newlines_passed + 1
    }
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let used = self
            .delivered
            .saturating_sub(self.start.load(Ordering::Relaxed));
        let left = self.limit.saturating_sub(used);
        if left == 0 {
            return Err(io::Error::other(RowTooLarge));
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.eof |= n == 0 && want > 0;
        self.watch(&buf[..n]);
        self.delivered += n as u64;
        Ok(n)
    }
}

/// The row being read passed its byte budget.
#[derive(Debug, thiserror::Error)]
#[error("the row is longer than the record size limit")]
struct RowTooLarge;

/// Streams the rows of a CSV or TSV file.
pub(crate) struct CsvRows<R: Read> {
    reader: csv::Reader<Budget<R>>,
    /// Where the next row starts, shared with the [`Budget`].
    start: Arc<AtomicU64>,
    /// The line the next row starts on.
    next_line: u64,
    /// The line and byte offset where the row just read starts, after any empty lines.
    row_start: (u64, u64),
    file: Arc<Path>,
    compression: Compression,
    delimiter: u8,
    keep_raw: bool,
    max: usize,
    /// Column names, once the header was read.
    columns: Option<Vec<String>>,
    record: ByteRecord,
    preamble: Arc<OnceLock<Vec<u8>>>,
    pending: VecDeque<Event>,
    done: bool,
}

impl<R: Read> CsvRows<R> {
    pub(crate) fn new(
        src: R,
        file: Arc<Path>,
        compression: Compression,
        tabs: bool,
        opts: &ReadOptions,
        preamble: Arc<OnceLock<Vec<u8>>>,
    ) -> Self {
        let delimiter = if tabs { b'\t' } else { b',' };
        let start = Arc::new(AtomicU64::new(0));
        let budget = Budget {
            inner: src,
            delivered: 0,
            start: start.clone(),
            limit: (opts.max_record_bytes as u64).saturating_add(CSV_BUFFER as u64),
            empty_lines: VecDeque::new(),
            line_start: 0,
            line_first: 0,
            newlines: VecDeque::new(),
            newlines_passed: 0,
            last_byte: 0,
            located: None,
            quote: Quote::FieldStart,
            quote_opened: 0,
            delimiter,
            eof: false,
        };
        // The header is read as a row of its own, so that its faults are located like a row's.
        let reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(CSV_BUFFER)
            .from_reader(budget);
        Self {
            reader,
            start,
            next_line: 1,
            row_start: (1, 0),
            file,
            compression,
            delimiter,
            keep_raw: opts.keep_raw,
            max: opts.max_record_bytes,
            columns: None,
            record: ByteRecord::new(),
            preamble,
            pending: VecDeque::new(),
            done: false,
        }
    }

    fn locator(&self) -> Locator {
        let (line, offset) = self.row_start;
        Locator::line(self.file.clone(), line, None, Some(offset))
    }

    /// From where the `csv` reader started looking for a row (`line`, byte `offset`), moves
    /// past the empty lines there, queueing each as blank; returns where the row starts.
    fn skip_blanks(&mut self, mut line: u64, mut offset: u64) -> (u64, u64) {
        let budget = self.reader.get_mut();
        while let Some(&(at, len)) = budget.empty_lines.front() {
            if at > offset {
                break;
            }
            budget.empty_lines.pop_front();
            // Empty lines before `offset` were inside a quoted field of an earlier row.
            if at == offset {
                let locator = Locator::line(self.file.clone(), line, None, Some(offset));
                self.pending.push_back(Event::Blank(locator));
                offset += len;
                line += 1;
            }
        }
        (line, offset)
    }

    /// The row as CSV (or TSV), without a line ending.
    fn encode(&self, record: &ByteRecord) -> Vec<u8> {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(self.delimiter)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        // Writing to memory cannot fail.
        let _ = writer.write_byte_record(record);
        let mut bytes = writer.into_inner().unwrap_or_default();
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
        }
        bytes
    }

    fn reject_file(&mut self, locator: Locator, message: String, hint: Option<&str>) {
        self.done = true;
        let mut rejection = Rejection::file(locator, message);
        if let Some(hint) = hint {
            rejection = rejection.with_hint(hint);
        }
        self.pending.push_back(Event::Rejected(rejection));
    }

    /// True (and the rest of the file rejected) when the row just read, ending at `end`, ends
    /// with the input inside a quoted field: the `csv` crate gives such a row back with the
    /// rest of the file as its last field.
    fn unclosed_quote(&mut self, end: u64) -> bool {
        let budget = self.reader.get_mut();
        if !(budget.eof && budget.quote == Quote::Quoted && end >= budget.delivered) {
            return false;
        }
        let opened = budget.quote_opened;
        let quote_line = budget.line_at(opened);
        let (line, offset) = self.row_start;
        let message = format!(
            "the quoted field that opens on line {quote_line} is never closed: the rest of the \
             file is one unterminated field, and records from line {line} on are lost"
        );
        let locator = Locator::line(self.file.clone(), line, None, Some(offset));
        let hint = "close the quote (a `\"` inside a quoted field is written `\"\"`)";
        self.reject_file(locator, message, Some(hint));
        true
    }

    /// Rejects the rest of the file after a read error of the `csv` reader.
    fn read_failed(&mut self, err: &csv::Error) {
        if is_too_large(err) {
            let line = self.next_line;
            let start = self.start.load(Ordering::Relaxed);
            let message = format!(
                "the row that starts on line {line} is longer than the limit of {} bytes \
                 (`max_record_bytes`) and does not end: records from line {line} on are lost",
                self.max
            );
            let locator = Locator::line(self.file.clone(), line, None, Some(start));
            let hint = "close the quoted field that opens in this row, or raise the record \
                        size limit if rows this large are expected";
            self.reject_file(locator, message, Some(hint));
            return;
        }
        let (line, position) = self
            .reader
            .get_mut()
            .locate(err.position().map_or(0, csv::Position::byte));
        let message = match err.kind() {
            ErrorKind::Io(io) => format!(
                "{} at byte {position} of the decompressed data: records from line \
                     {line} on are lost",
                self.compression.stream_error(io),
            ),
            _ => format!("cannot read the row: {err}"),
        };
        let locator = Locator::line(self.file.clone(), line, None, Some(position));
        self.reject_file(locator, message, None);
    }

    /// Reads the next row and queues what it gives.
    fn step(&mut self) {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(true) => {
                // Lines are counted from the bytes (the `csv` crate's own count is off with
                // `\r\n` endings); the row starts after any empty lines.
                let offset = self
                    .record
                    .position()
                    .map_or_else(|| self.start.load(Ordering::Relaxed), csv::Position::byte);
                let (line, offset) = self.reader.get_mut().locate(offset);
                self.row_start = self.skip_blanks(line, offset);
                // The budget of the next row starts where this one ends.
                let next = self.reader.position().byte();
                self.start.store(next, Ordering::Relaxed);
                self.next_line = self.reader.get_mut().locate(next).0;
                if self.unclosed_quote(next) {
                    return;
                }
            }
            Ok(false) => {
                self.done = true;
                let start = self.start.load(Ordering::Relaxed);
                let (line, offset) = self.reader.get_mut().locate(start);
                self.skip_blanks(line, offset);
                if self.columns.is_none() {
                    let warning = Event::warning(
                        Locator::file(self.file.clone()),
                        "the file has no header line and no rows",
                    );
                    self.pending.push_back(warning);
                }
                return;
            }
            Err(err) => {
                self.read_failed(&err);
                return;
            }
        }
        let locator = self.locator();

        let Some(columns) = &self.columns else {
            self.header(locator);
            return;
        };

        // The row must fit the header, field for field.
        if self.record.len() != columns.len() {
            let message = format!(
                "the row has {} fields, the header has {} (`{}`)",
                self.record.len(),
                columns.len(),
                columns.join("`, `")
            );
            let raw = self.encode(&self.record);
            let rejection = Rejection::record(locator, message)
                .with_hint("quote fields that hold the delimiter, or fix the row")
                .with_raw(raw);
            self.pending.push_back(Event::Rejected(rejection));
            return;
        }
        if self.record.as_slice().len() > self.max {
            let message = format!(
                "row is longer than the limit of {} bytes (`max_record_bytes`)",
                self.max
            );
            let rejection = Rejection::record(locator, message)
                .with_hint("raise the record size limit if records this large are expected");
            self.pending.push_back(Event::Rejected(rejection));
            return;
        }

        let mut value = Map::with_capacity(columns.len());
        for (column, field) in columns.iter().zip(self.record.iter()) {
            match text::check_utf8(field) {
                Ok(text) => {
                    value.insert(column.clone(), Value::String(text.to_owned()));
                }
                Err(problem) => {
                    let message = format!("column `{column}`: {}", problem.message);
                    let raw = self.encode(&self.record);
                    let rejection = Rejection::record(locator, message).with_raw(raw);
                    self.pending.push_back(Event::Rejected(rejection));
                    return;
                }
            }
        }
        let raw = self.keep_raw.then(|| self.encode(&self.record));
        self.pending.push_back(Event::Record(RawRecord {
            locator,
            value,
            raw,
            row: None,
        }));
    }

    /// Takes the first row as the header.
    fn header(&mut self, locator: Locator) {
        let mut columns = Vec::with_capacity(self.record.len());
        let mut seen = HashSet::new();
        for (i, field) in self.record.iter().enumerate() {
            let name = match text::check_utf8(field) {
                Ok(name) => name.to_owned(),
                Err(problem) => {
                    let message = format!("header, column {}: {}", i + 1, problem.message);
                    self.reject_file(locator, message, Some("convert the file to UTF-8"));
                    return;
                }
            };
            if !seen.insert(name.clone()) {
                let message = format!("the header names column `{name}` twice");
                self.reject_file(locator, message, Some("give every column its own name"));
                return;
            }
            columns.push(name);
        }
        let encoded = self.encode(&self.record);
        let _ = self.preamble.set(encoded);
        self.columns = Some(columns);
    }
}

/// Whether reading failed because a row passed its byte budget.
fn is_too_large(err: &csv::Error) -> bool {
    let ErrorKind::Io(io) = err.kind() else {
        return false;
    };
    io.get_ref()
        .is_some_and(<dyn std::error::Error + Send + Sync>::is::<RowTooLarge>)
}

impl<R: Read> Iterator for CsvRows<R> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            if self.done {
                return None;
            }
            self.step();
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::Event;
    use crate::test_util::{lines, read_bytes, records, rejections};
    use crate::{InputFormat, ReadOptions, Scope};

    #[test]
    fn rows_become_string_records_located_by_line() {
        let input = "id,instruction,output\n1,\"Say \"\"hi\"\"\",\"Hi,\nthere\"\n2,x,42\n";
        let events = read_bytes("x.csv", input.as_bytes(), &ReadOptions::default());
        assert_eq!(lines(&events), [2, 4]);
        let found = records(&events);
        assert_eq!(
            serde_json::Value::Object(found[0].value.clone()),
            json!({"id": "1", "instruction": "Say \"hi\"", "output": "Hi,\nthere"})
        );
        // Numbers stay strings: nothing is inferred.
        assert_eq!(found[1].value["output"], "42");
        assert_eq!(
            found[1].locator.offset,
            Some(input.find("2,x").unwrap() as u64)
        );
    }

    fn blank_lines(events: &[Event]) -> Vec<u64> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Blank(locator) => locator.line,
                _ => None,
            })
            .collect()
    }

    #[test]
    fn empty_lines_are_counted_as_blank_wherever_they_are() {
        // Before the header, between rows (LF and CRLF), inside a quoted field (not blank:
        // part of the value), and at the end.
        let input = "\nid,text\n1,a\n\n\r\n2,\"b\n\nc\"\n\n3,d\n\n\n";
        let events = read_bytes("x.csv", input.as_bytes(), &ReadOptions::default());
        assert_eq!(lines(&events), [3, 6, 10], "{events:?}");
        assert_eq!(blank_lines(&events), [1, 4, 5, 9, 11, 12]);
        assert_eq!(records(&events)[1].value["text"], "b\n\nc");

        // Without a final line ending, and with no blank line at all.
        let events = read_bytes("x.tsv", b"a\tb\n1\t2", &ReadOptions::default());
        assert_eq!(lines(&events), [2]);
        assert!(blank_lines(&events).is_empty(), "{events:?}");
    }

    #[test]
    fn crlf_files_are_located_by_their_real_lines() {
        // Header, blank, row, blank, a row of one field, a row with a quoted CRLF, a row.
        let input = "instruction,output\r\n\r\nq1,a1\r\n\r\nonlyone\r\nq3,\"a\r\nb\"\r\nq4,a4\r\n";
        let events = read_bytes("x.csv", input.as_bytes(), &ReadOptions::default());
        assert_eq!(lines(&events), [3, 6, 8], "{events:?}");
        assert_eq!(blank_lines(&events), [2, 4]);
        let rejected = rejections(&events);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].locator.line, Some(5));
        assert_eq!(records(&events)[1].value["output"], "a\r\nb");
    }

    #[test]
    fn a_quote_never_closed_rejects_the_rest_of_the_file_from_its_row() {
        let input = "instruction,output\n\"a\",\"b\"\n\"c\",\"unterminated\nmore\nstuff\n";
        let events = read_bytes("x.csv", input.as_bytes(), &ReadOptions::default());
        assert_eq!(records(&events).len(), 1, "{events:?}");
        let rejected = rejections(&events);
        assert_eq!(rejected.len(), 1, "{events:?}");
        assert_eq!(rejected[0].locator.line, Some(3));
        assert_eq!(rejected[0].scope, Scope::File);
        assert!(
            rejected[0].message.contains("never closed"),
            "{}",
            rejected[0].message
        );

        // Closed quotes, escaped quotes and a quote inside an unquoted field are fine, with or
        // without a final line ending.
        for input in [
            "a,b\n\"x \"\"y\"\"\",\"z\"",
            "a,b\n\"x\",5 \"inch\"\n",
            "a,b\nx,\"\"\n",
        ] {
            let events = read_bytes("x.csv", input.as_bytes(), &ReadOptions::default());
            assert!(rejections(&events).is_empty(), "{input:?}: {events:?}");
            assert_eq!(records(&events).len(), 1, "{input:?}");
        }
    }

    #[test]
    fn tsv_uses_tabs_and_a_bom_does_not_reach_the_first_column() {
        let input = "\u{feff}prompt\tcompletion\nQ\tA, with a comma\n";
        let events = read_bytes("x.tsv", input.as_bytes(), &ReadOptions::default());
        let found = records(&events);
        assert_eq!(found.len(), 1, "{events:?}");
        assert_eq!(found[0].value.keys().next().unwrap(), "prompt");
        assert_eq!(found[0].value["completion"], "A, with a comma");
    }

    #[test]
    fn field_faults_name_the_line_and_the_column() {
        let input = b"instruction,output\na,b\nc\nd,\xFFe\nf,g,h\ni,j\n";
        let events = read_bytes("x.csv", input, &ReadOptions::default());
        assert_eq!(lines(&events), [2, 6]);
        let rejected = rejections(&events);
        let found: Vec<_> = rejected
            .iter()
            .map(|r| (r.locator.line.unwrap(), r.message.as_str()))
            .collect();
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].0, 3);
        assert!(
            found[0].1.contains("1 fields, the header has 2"),
            "{}",
            found[0].1
        );
        assert_eq!(found[1].0, 4);
        assert!(
            found[1].1.starts_with("column `output`: invalid UTF-8"),
            "{}",
            found[1].1
        );
        assert!(found[2].1.contains("3 fields"), "{}", found[2].1);
        assert!(
            rejected
                .iter()
                .all(|r| r.scope == Scope::Record && r.raw.is_some())
        );
    }

    #[test]
    fn an_unclosed_quote_stops_at_the_record_size_limit() {
        // An unclosed quote on line 3 would make the rest of the file one row.
        let mut input = b"instruction,output\nq1,a1\nq2,\"never closed\n".to_vec();
        for k in 0..20_000 {
            input.extend_from_slice(format!("q{k},a{k}\n").as_bytes());
        }
        let opts = ReadOptions {
            max_record_bytes: 1024,
            ..ReadOptions::default()
        };
        let events = read_bytes("x.csv", &input, &opts);
        assert_eq!(lines(&events), [2]);
        let rejected = rejections(&events);
        assert_eq!(rejected.len(), 1, "{events:?}");
        assert_eq!(rejected[0].scope, Scope::File);
        assert_eq!(rejected[0].locator.line, Some(3));
        assert!(
            rejected[0]
                .message
                .contains("longer than the limit of 1024 bytes (`max_record_bytes`)"),
            "{}",
            rejected[0].message
        );

        // A row within the budget but past the limit is rejected on its own.
        let long = format!("a,b\nx,\"{}\"\ny,z\n", "w".repeat(2000));
        let events = read_bytes("x.csv", long.as_bytes(), &opts);
        assert_eq!(lines(&events), [3]);
        assert_eq!(rejections(&events)[0].scope, Scope::Record);
    }

    #[test]
    fn a_header_naming_a_column_twice_rejects_the_file() {
        let events = read_bytes("x.csv", b"a,b,a\n1,2,3\n", &ReadOptions::default());
        assert!(records(&events).is_empty());
        let rejected = rejections(&events);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].scope, Scope::File);
        assert!(rejected[0].message.contains("`a` twice"));
    }

    #[test]
    fn raw_rows_and_the_header_round_trip_through_the_csv_crate() {
        let input = "a,b\n\"x, y\",\"line\nbreak\"\nplain,\"\"\n";
        let opts = ReadOptions {
            keep_raw: true,
            format: Some(InputFormat::Csv),
            ..ReadOptions::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let path = crate::test_util::write(&dir, "x.data", input.as_bytes());
        let mut reader = crate::open(&path, &opts).unwrap();
        let events: Vec<_> = reader.by_ref().collect();
        let mut rebuilt = reader.preamble().unwrap().to_vec();
        rebuilt.push(b'\n');
        for r in records(&events) {
            rebuilt.extend_from_slice(r.raw.as_deref().unwrap());
            rebuilt.push(b'\n');
        }
        let again = read_bytes("y.csv", &rebuilt, &ReadOptions::default());
        let values = |events: &[Event]| -> Vec<_> {
            records(events).iter().map(|r| r.value.clone()).collect()
        };
        assert_eq!(values(&again), values(&events));
        assert_eq!(values(&events).len(), 2);
    }
}
