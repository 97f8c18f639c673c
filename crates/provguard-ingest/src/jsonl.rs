//! JSON Lines: our own line framing over the decompressed stream, then one JSON object per
//! line.
//!
//! Lines end at `\n` only; one trailing `\r` is dropped. U+2028, U+2029 and U+0085 are
//! characters like any other (JSON allows them raw inside strings), never line breaks. Lines
//! longer than `max_record_bytes` are skipped to the next `\n` without being held in memory.
//! A UTF-8 byte order mark is stripped at byte 0 of the stream only; anywhere else it is an
//! error, or in lenient mode stripped with a warning.

use std::collections::VecDeque;
use std::io::{self, BufRead};
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::event::{Event, RawRecord, Rejection};
use crate::source::Compression;
use crate::text::{self, BOM};
use crate::{Locator, ReadOptions};

/// The hint given when a file read as JSON Lines holds one JSON array.
pub(crate) const ARRAY_HINT: &str = "read it as JSON (`--input-format json`)";

/// Streams the records of a JSON Lines file.
#[expect(
    clippy::struct_excessive_bools,
    reason = "two options and two states of the framing, each read in one place"
)]
pub(crate) struct JsonLines<R> {
    src: R,
    file: Arc<Path>,
    compression: Compression,
    lenient: bool,
    keep_raw: bool,
    max: usize,
    /// Number of the last line read (1-based once a line was read).
    line: u64,
    /// Bytes of the decompressed stream consumed so far.
    offset: u64,
    /// Whether a non-blank line was seen.
    seen_content: bool,
    done: bool,
    pending: VecDeque<Event>,
    buf: Vec<u8>,
}

/// The outcome of reading one line.
enum LineRead {
    /// A line is in the buffer; `newline` says whether it ended with `\n`.
    Line { consumed: u64, newline: bool },
    /// The line was longer than the limit and was skipped.
    TooLong { consumed: u64 },
    /// The stream ended before any byte of a new line.
    Eof,
    /// The stream failed after `consumed` bytes of the line (kept in the buffer).
    Failed { consumed: u64, error: io::Error },
}

impl<R: BufRead> JsonLines<R> {
    pub(crate) fn new(
        src: R,
        file: Arc<Path>,
        compression: Compression,
        opts: &ReadOptions,
    ) -> Self {
        Self {
            src,
            file,
            compression,
            lenient: opts.lenient,
            keep_raw: opts.keep_raw,
            max: opts.max_record_bytes,
            line: 0,
            offset: 0,
            seen_content: false,
            done: false,
            pending: VecDeque::new(),
            buf: Vec::new(),
        }
    }

    /// Reads the next line into `self.buf`, up to `self.max` bytes of content.
    fn read_line(&mut self) -> LineRead {
        self.buf.clear();
        let mut consumed: u64 = 0;
        let mut too_long = false;
        loop {
            let chunk = match self.src.fill_buf() {
                Ok(chunk) => chunk,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return LineRead::Failed { consumed, error },
            };
            if chunk.is_empty() {
                return match (consumed, too_long) {
                    (0, _) => LineRead::Eof,
                    (_, true) => LineRead::TooLong { consumed },
                    (_, false) => LineRead::Line {
                        consumed,
                        newline: false,
                    },
                };
            }
            let newline_at = chunk.iter().position(|b| *b == b'\n');
            let take = newline_at.map_or(chunk.len(), |at| at + 1);
            let content = &chunk[..newline_at.unwrap_or(chunk.len())];
            if !too_long {
                if self.buf.len() + content.len() > self.max {
                    too_long = true;
                    self.buf = Vec::new();
                } else {
                    self.buf.extend_from_slice(content);
                }
            }
            consumed += take as u64;
            self.src.consume(take);
            if newline_at.is_some() {
                return if too_long {
                    LineRead::TooLong { consumed }
                } else {
                    LineRead::Line {
                        consumed,
                        newline: true,
                    }
                };
            }
        }
    }

    /// Reads one line and queues the events it gives.
    fn step(&mut self) {
        let start = self.offset;
        let line = self.line + 1;
        match self.read_line() {
            LineRead::Eof => self.done = true,
            LineRead::Failed { consumed, error } => {
                self.done = true;
                self.offset += consumed;
                let column = text::char_count(&self.buf) + 1;
                let locator = self.at(line, Some(column), self.offset);
                let message = format!(
                    "{} at byte {} of the decompressed data: records from line {line} on are lost",
                    self.compression.stream_error(&error),
                    self.offset,
                );
                let mut rejection = Rejection::file(locator, message);
                if !self.buf.is_empty() {
                    rejection = rejection.with_raw(std::mem::take(&mut self.buf));
                }
                self.pending.push_back(Event::Rejected(rejection));
            }
            LineRead::TooLong { consumed } => {
                self.line = line;
                self.offset += consumed;
                self.seen_content = true;
                let message = format!(
                    "line is longer than the limit of {} bytes (`max_record_bytes`)",
                    self.max
                );
                let rejection = Rejection::record(self.at(line, None, start), message)
                    .with_hint("raise the record size limit if records this large are expected");
                self.pending.push_back(Event::Rejected(rejection));
            }
            LineRead::Line { consumed, newline } => {
                self.line = line;
                self.offset += consumed;
                let bytes = std::mem::take(&mut self.buf);
                self.process(&bytes, line, start, newline);
                self.buf = bytes;
            }
        }
    }

    fn at(&self, line: u64, column: Option<u64>, offset: u64) -> Locator {
        Locator::line(self.file.clone(), line, column, Some(offset))
    }

    fn reject(&mut self, rejection: Rejection) {
        self.pending.push_back(Event::Rejected(rejection));
    }

    /// Turns one line (without its `\n`) into events.
    fn process(&mut self, raw: &[u8], line: u64, start: u64, newline: bool) {
        let mut body = raw.strip_suffix(b"\r").unwrap_or(raw);

        let Some((skipped, column_base)) = self.byte_order_mark(body, raw, line, start) else {
            return;
        };
        body = &body[skipped..];

        // Blank and whitespace-only lines are counted, not errors.
        if body.iter().all(|b| text::is_json_space(*b)) {
            self.pending
                .push_back(Event::Blank(self.at(line, None, start)));
            return;
        }

        // The first line with content tells a JSON array or a pretty-printed document apart
        // from JSON Lines, so such a file gives one error instead of one per line.
        if !self.seen_content {
            self.seen_content = true;
            if self.check_not_json_lines(body, line, start + skipped as u64, column_base) {
                return;
            }
        }

        let body_offset = start + skipped as u64;
        let text = match text::check_utf8(body) {
            Ok(text) => text,
            Err(problem) => {
                let message = if problem.cut_off && !newline {
                    "unexpected end of file inside a record (the last line ends inside a UTF-8 \
                     character)"
                        .to_owned()
                } else {
                    format!(
                        "{} (byte offset {})",
                        problem.message,
                        body_offset + problem.index as u64
                    )
                };
                let column = column_base + text::char_count(&body[..problem.index]);
                let locator = self.at(line, Some(column), body_offset + problem.index as u64);
                self.reject(Rejection::record(locator, message).with_raw(raw.to_vec()));
                return;
            }
        };

        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(value)) => {
                let locator = self.at(line, None, start);
                self.pending.push_back(Event::Record(RawRecord {
                    locator,
                    value,
                    raw: self.keep_raw.then(|| raw.to_vec()),
                    row: None,
                }));
            }
            Ok(other) => {
                let column = column_base + leading_space(body);
                let message = format!("expected a JSON object, found {}", text::kind_of(&other));
                let mut rejection = Rejection::record(self.at(line, Some(column), start), message)
                    .with_raw(raw.to_vec());
                if matches!(&other, Value::Array(items) if items.iter().all(Value::is_object)) {
                    rejection =
                        rejection.with_hint(format!("if the file is one JSON array, {ARRAY_HINT}"));
                }
                self.reject(rejection);
            }
            Err(err) => {
                let problem = text::json_problem(body, &err);
                let message = if problem.eof && !newline {
                    "unexpected end of file inside a record".to_owned()
                } else {
                    problem.message
                };
                let (_, column) = text::position_in(body, problem.index, line, column_base);
                let locator = self.at(line, Some(column), body_offset + problem.index as u64);
                self.reject(Rejection::record(locator, message).with_raw(raw.to_vec()));
            }
        }
    }

    /// Handles a byte order mark at the start of a line: one at byte 0 of the stream is
    /// stripped silently; one at the start of a later line is an error (lenient: stripped with
    /// a warning). Returns the bytes to skip and the column of the first byte after them, or
    /// `None` when the line was rejected.
    fn byte_order_mark(
        &mut self,
        body: &[u8],
        raw: &[u8],
        line: u64,
        start: u64,
    ) -> Option<(usize, u64)> {
        if start == 0 {
            if body.starts_with(&[0xFF, 0xFE]) || body.starts_with(&[0xFE, 0xFF]) {
                self.done = true;
                let rejection = Rejection::file(
                    self.at(line, Some(1), start),
                    "the file is UTF-16 encoded: only UTF-8 is read",
                )
                .with_hint("convert it to UTF-8 (for example `iconv -f UTF-16 -t UTF-8`)");
                self.reject(rejection);
                return None;
            }
            let skipped = if body.starts_with(BOM) { BOM.len() } else { 0 };
            return Some((skipped, 1));
        }
        if !body.starts_with(BOM) {
            return Some((0, 1));
        }
        if !self.lenient {
            let rejection = Rejection::record(
                self.at(line, Some(1), start),
                "byte order mark (U+FEFF) at the start of the line: only byte 0 of a file may \
                 carry one",
            )
            .with_hint("remove it, or read in lenient mode to strip it with a warning")
            .with_raw(raw.to_vec());
            self.reject(rejection);
            return None;
        }
        let warning = Event::warning(
            Locator::line(self.file.clone(), line, None, Some(start)),
            "stripped a byte order mark (U+FEFF) at the start of the line",
        );
        self.pending.push_back(warning);
        Some((BOM.len(), 2))
    }

    /// Rejects the whole file when its first line with content shows that it is a JSON array
    /// or a pretty-printed JSON document rather than JSON Lines. Returns whether it did.
    fn check_not_json_lines(&mut self, body: &[u8], line: u64, offset: u64, base: u64) -> bool {
        let lead = leading_space(body);
        let trimmed = body.trim_ascii();
        let column = Some(base + lead);
        let offset = offset + lead;
        let rejection = if trimmed.first() == Some(&b'[')
            && serde_json::from_slice::<serde::de::IgnoredAny>(trimmed).is_err()
        {
            Rejection::file(
                self.at(line, column, offset),
                "the file is a JSON array, not JSON Lines (one object per line)",
            )
            .with_hint(ARRAY_HINT)
        } else if trimmed == b"{" {
            Rejection::file(
                self.at(line, column, offset),
                "the file holds pretty-printed JSON spread over several lines, not JSON Lines \
                 (one object per line)",
            )
            .with_hint("rewrite it with one object per line (for example `jq -c . FILE`)")
        } else {
            return false;
        };
        self.done = true;
        self.reject(rejection);
        true
    }
}

/// The number of JSON white-space bytes at the start of `body`.
fn leading_space(body: &[u8]) -> u64 {
    body.iter().take_while(|b| text::is_json_space(**b)).count() as u64
}

impl<R: BufRead> Iterator for JsonLines<R> {
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
    use crate::test_util::{lines, read_bytes, records, rejections};
    use crate::{Event, ReadOptions, Scope};

    fn read(bytes: &[u8]) -> Vec<Event> {
        read_bytes("x.jsonl", bytes, &ReadOptions::default())
    }

    #[test]
    fn framing_counts_blank_lines_and_keeps_unicode_separators() {
        let input = "\u{feff}{\"a\":1}\r\n\n  \t\r\n{\"b\":\"x\u{2028}y\u{85}z\"}";
        let events = read(input.as_bytes());
        assert_eq!(lines(&events), [1, 4]);
        let blanks: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Blank(l) => l.line,
                _ => None,
            })
            .collect();
        assert_eq!(blanks, [2, 3]);
        let found = records(&events);
        assert_eq!(found[0].locator.offset, Some(0));
        // Offsets count the decompressed bytes, BOM and `\r` included.
        assert_eq!(found[1].locator.offset, Some(3 + 9 + 1 + 5));
        assert_eq!(found[1].value["b"], "x\u{2028}y\u{85}z");
    }

    #[test]
    fn a_bom_after_byte_zero_is_an_error_or_a_lenient_warning() {
        let input = b"{\"a\":1}\n\xEF\xBB\xBF{\"a\":2}\n\xEF\xBB\xBF{\"a\" 3}\n";
        let events = read(input);
        assert_eq!(lines(&events), [1]);
        let rejected = rejections(&events);
        assert_eq!(rejected.len(), 2);
        assert_eq!(
            rejected[0]
                .locator
                .to_string()
                .rsplit_once("x.jsonl")
                .unwrap()
                .1,
            ":2:1"
        );

        let lenient = ReadOptions {
            lenient: true,
            ..ReadOptions::default()
        };
        let events = read_bytes("x.jsonl", input, &lenient);
        assert_eq!(lines(&events), [1, 2]);
        let warnings = events
            .iter()
            .filter(|e| matches!(e, Event::Warning(_)))
            .count();
        assert_eq!(warnings, 2);
        // The stripped BOM still counts as column 1: the missing `:` is at column 6.
        let rejected = rejections(&events);
        assert_eq!(rejected[0].locator.line, Some(3));
        assert_eq!(rejected[0].locator.column, Some(7));
    }

    #[test]
    fn invalid_utf8_names_line_column_and_offset() {
        let input = b"{}\n{\"t\":\"\xC3\xA9\xC3\xA9\xFF\"}\n";
        let events = read(input);
        let rejected = rejections(&events);
        assert_eq!(rejected.len(), 1);
        let loc = &rejected[0].locator;
        // `{"t":"` is 6 characters, then two `é`: the bad byte is the 9th character.
        assert_eq!(
            (loc.line, loc.column, loc.offset),
            (Some(2), Some(9), Some(3 + 10))
        );
        assert!(
            rejected[0].message.contains("0xFF"),
            "{}",
            rejected[0].message
        );
        assert!(
            rejected[0].message.contains("13"),
            "{}",
            rejected[0].message
        );
        assert_eq!(rejected[0].raw.as_deref(), Some(&input[3..input.len() - 1]));
    }

    #[test]
    fn syntax_errors_map_to_file_columns() {
        let events = read("{}\n{\"é\": 1,, \"b\": 2}\n".as_bytes());
        let rejected = rejections(&events);
        assert_eq!(rejected[0].locator.line, Some(2));
        // The second comma is the 9th character (the 10th byte).
        assert_eq!(rejected[0].locator.column, Some(9));
        assert!(
            rejected[0].message.starts_with("invalid JSON"),
            "{}",
            rejected[0].message
        );
    }

    #[test]
    fn top_level_must_be_an_object() {
        let events = read(b"[1]\n42\n\"s\"\nnull\n{} {}\n[{\"a\":1}]\n");
        let messages: Vec<_> = rejections(&events)
            .iter()
            .map(|r| r.message.clone())
            .collect();
        assert_eq!(
            messages[..4],
            [
                "expected a JSON object, found an array",
                "expected a JSON object, found a number",
                "expected a JSON object, found a string",
                "expected a JSON object, found null",
            ]
        );
        assert!(
            messages[4].contains("trailing characters"),
            "{}",
            messages[4]
        );
        // A one-line array of objects hints at reading the file as JSON.
        let last = rejections(&events)[5];
        assert!(
            last.hint
                .as_deref()
                .unwrap()
                .contains("--input-format json")
        );
        assert_eq!(rejections(&events)[0].hint, None);
    }

    #[test]
    fn cut_off_last_record_is_end_of_file() {
        let events = read(b"{\"a\":1}\n{\"a\":");
        assert_eq!(
            rejections(&events)[0].message,
            "unexpected end of file inside a record"
        );
        let events = read(b"{\"a\":1}\n{\"a\":\n{\"b\":2}\n");
        assert_eq!(lines(&events), [1, 3]);
        let message = &rejections(&events)[0].message;
        assert!(
            message.starts_with("invalid JSON: EOF while parsing"),
            "{message}"
        );
    }

    #[test]
    fn lines_over_the_limit_are_skipped_to_the_next_newline() {
        let long = format!("{{\"t\":\"{}\"}}\n{{\"a\":1}}\n", "x".repeat(100));
        let opts = ReadOptions {
            max_record_bytes: 32,
            ..ReadOptions::default()
        };
        let events = read_bytes("x.jsonl", long.as_bytes(), &opts);
        assert_eq!(lines(&events), [2]);
        assert_eq!(records(&events)[0].locator.offset, Some(109));
        let rejected = rejections(&events);
        assert!(
            rejected[0].message.contains("32 bytes"),
            "{}",
            rejected[0].message
        );
        assert_eq!(rejected[0].locator.line, Some(1));
    }

    #[test]
    fn nesting_deeper_than_128_is_rejected_by_name() {
        let deep = format!("{{\"a\":{}{}}}\n", "[".repeat(200), "]".repeat(200));
        let shallow = format!("{{\"a\":{}{}}}\n", "[".repeat(100), "]".repeat(100));
        let events = read(format!("{deep}{shallow}").as_bytes());
        assert_eq!(lines(&events), [2]);
        assert!(rejections(&events)[0].message.contains("128"));
    }

    #[test]
    fn arrays_and_pretty_documents_are_one_file_error() {
        for input in [
            "\n  [\n  {\"a\": 1}\n]\n",
            "[{\"a\": 1},\n{\"a\": 2}]\n",
            "{\n  \"a\": 1\n}\n",
        ] {
            let events = read(input.as_bytes());
            let rejected = rejections(&events);
            assert_eq!(rejected.len(), 1, "{input:?}: {events:?}");
            assert_eq!(rejected[0].scope, Scope::File);
            assert!(records(&events).is_empty());
        }
        let events = read(b"\n  [\n");
        assert_eq!(rejections(&events)[0].locator.line, Some(2));
        assert_eq!(rejections(&events)[0].locator.column, Some(3));
    }

    #[test]
    fn utf16_is_named() {
        let events = read(b"\xFF\xFE{\x00}\x00\n\x00");
        let rejected = rejections(&events);
        assert_eq!(rejected.len(), 1);
        assert!(rejected[0].message.contains("UTF-16"));
    }
}
