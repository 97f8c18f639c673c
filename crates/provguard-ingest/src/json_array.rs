//! JSON arrays, streamed element by element.
//!
//! A small scanner finds where each element of the top-level array starts and ends (tracking
//! strings, escapes and brackets), and only that element's bytes are handed to `serde_json`.
//! A syntax error inside a well-bracketed element rejects that element only; a broken
//! structure (an unclosed array, a mismatched bracket, a missing comma) rejects the rest of
//! the file, after every element read before it.

use std::collections::VecDeque;
use std::io::{self, BufRead};
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::event::{Event, RawRecord, Rejection};
use crate::source::Compression;
use crate::text::{self, BOM};
use crate::{Locator, ReadOptions};

/// A position in the decompressed stream.
#[derive(Debug, Clone, Copy)]
struct Pos {
    line: u64,
    column: u64,
    offset: u64,
}

impl Pos {
    fn advance(&mut self, b: u8) {
        self.offset += 1;
        if b == b'\n' {
            self.line += 1;
            self.column = 1;
        } else if b & 0xC0 != 0x80 {
            self.column += 1;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the opening `[`.
    Start,
    /// Inside the array, before element `index`; `first` until an element was read.
    Before {
        index: u64,
        first: bool,
    },
    /// After element `index`, expecting `,` or `]`.
    After {
        index: u64,
    },
    /// After the closing `]`.
    End,
    Done,
}

/// How the scan of one element ended.
enum Scanned {
    /// The element is complete.
    Complete,
    /// The stream ended inside the element.
    Eof,
    /// A closing bracket that does not match; the structure is broken.
    Mismatch(u8, Pos),
    /// The stream failed.
    Failed(io::Error),
}

/// Streams the elements of a JSON array.
pub(crate) struct JsonArray<R> {
    src: R,
    file: Arc<Path>,
    compression: Compression,
    max: usize,
    pos: Pos,
    state: State,
    pending: VecDeque<Event>,
    buf: Vec<u8>,
}

impl<R: BufRead> JsonArray<R> {
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
            max: opts.max_record_bytes,
            pos: Pos {
                line: 1,
                column: 1,
                offset: 0,
            },
            state: State::Start,
            pending: VecDeque::new(),
            buf: Vec::new(),
        }
    }

    fn locator(&self, pos: Pos, index: Option<u64>) -> Locator {
        Locator {
            index,
            ..Locator::line(
                self.file.clone(),
                pos.line,
                Some(pos.column),
                Some(pos.offset),
            )
        }
    }

    /// Rejects the rest of the file and stops.
    fn fail(&mut self, pos: Pos, index: Option<u64>, message: &str) {
        self.state = State::Done;
        let message = format!("{message} (line {}, column {})", pos.line, pos.column);
        let rejection = Rejection::file(self.locator(pos, index), message);
        self.pending.push_back(Event::Rejected(rejection));
    }

    fn fail_read(&mut self, index: Option<u64>, error: &io::Error) {
        let message = format!(
            "{} at byte {} of the decompressed data: the rest of the file is lost",
            self.compression.stream_error(error),
            self.pos.offset
        );
        self.fail(self.pos, index, &message);
    }

    /// Skips JSON white space and returns the next byte without consuming it.
    fn peek_non_space(&mut self) -> io::Result<Option<u8>> {
        loop {
            let chunk = match self.src.fill_buf() {
                Ok(chunk) => chunk,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            };
            if chunk.is_empty() {
                return Ok(None);
            }
            let mut used = 0;
            let mut found = None;
            for &b in chunk {
                if text::is_json_space(b) {
                    self.pos.advance(b);
                    used += 1;
                } else {
                    found = Some(b);
                    break;
                }
            }
            self.src.consume(used);
            if found.is_some() {
                return Ok(found);
            }
        }
    }

    fn bump(&mut self, b: u8) {
        self.src.consume(1);
        self.pos.advance(b);
    }

    /// Reads one element into `self.buf` (up to `self.max` bytes); returns how the scan ended
    /// and whether the element was too large to keep.
    fn scan_element(&mut self) -> (Scanned, bool) {
        self.buf.clear();
        let mut stack: Vec<u8> = Vec::new();
        let mut in_string = false;
        let mut escape = false;
        let mut too_large = false;
        loop {
            let chunk = match self.src.fill_buf() {
                Ok(chunk) => chunk,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return (Scanned::Failed(err), too_large),
            };
            if chunk.is_empty() {
                return (Scanned::Eof, too_large);
            }
            let mut used = 0;
            let mut outcome = None;
            for &b in chunk {
                // Decide whether `b` belongs to the element, and whether it ends it.
                let mut ends = false;
                if in_string {
                    if escape {
                        escape = false;
                    } else if b == b'\\' {
                        escape = true;
                    } else if b == b'"' {
                        in_string = false;
                        ends = stack.is_empty();
                    }
                } else {
                    match b {
                        b'"' => in_string = true,
                        b'{' => stack.push(b'}'),
                        b'[' => stack.push(b']'),
                        b'}' | b']' => match stack.last() {
                            None => {
                                outcome = Some(Scanned::Complete);
                                break;
                            }
                            Some(&close) if close == b => {
                                stack.pop();
                                ends = stack.is_empty();
                            }
                            Some(_) => {
                                outcome = Some(Scanned::Mismatch(b, self.pos));
                                break;
                            }
                        },
                        b',' if stack.is_empty() => {
                            outcome = Some(Scanned::Complete);
                            break;
                        }
                        _ if stack.is_empty() && text::is_json_space(b) => {
                            outcome = Some(Scanned::Complete);
                            break;
                        }
                        _ => {}
                    }
                }
                if !too_large {
                    if self.buf.len() < self.max {
                        self.buf.push(b);
                    } else {
                        too_large = true;
                        self.buf = Vec::new();
                    }
                }
                self.pos.advance(b);
                used += 1;
                if ends {
                    outcome = Some(Scanned::Complete);
                    break;
                }
            }
            self.src.consume(used);
            if let Some(outcome) = outcome {
                return (outcome, too_large);
            }
        }
    }

    /// Turns the element in `self.buf` into an event.
    fn element(&mut self, index: u64, start: Pos) {
        let bytes = std::mem::take(&mut self.buf);
        let event = match text::check_utf8(&bytes) {
            Err(problem) => {
                let (line, column) =
                    text::position_in(&bytes, problem.index, start.line, start.column);
                let offset = start.offset + problem.index as u64;
                let message = format!(
                    "{} (line {line}, column {column}, byte offset {offset})",
                    problem.message
                );
                let locator = Locator {
                    index: Some(index),
                    ..Locator::line(self.file.clone(), line, Some(column), Some(offset))
                };
                Event::Rejected(Rejection::record(locator, message).with_raw(bytes.clone()))
            }
            Ok(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(value)) => Event::Record(RawRecord {
                    locator: self.locator(start, Some(index)),
                    value,
                    raw: None,
                    row: None,
                }),
                Ok(other) => {
                    let message = format!(
                        "expected a JSON object, found {} (line {}, column {})",
                        text::kind_of(&other),
                        start.line,
                        start.column
                    );
                    let rejection = Rejection::record(self.locator(start, Some(index)), message);
                    Event::Rejected(rejection.with_raw(bytes.clone()))
                }
                Err(err) => {
                    let problem = text::json_problem(&bytes, &err);
                    let (line, column) =
                        text::position_in(&bytes, problem.index, start.line, start.column);
                    let locator = Locator {
                        index: Some(index),
                        ..Locator::line(
                            self.file.clone(),
                            line,
                            Some(column),
                            Some(start.offset + problem.index as u64),
                        )
                    };
                    let message = format!("{} (line {line}, column {column})", problem.message);
                    Event::Rejected(Rejection::record(locator, message).with_raw(bytes.clone()))
                }
            },
        };
        self.pending.push_back(event);
        self.buf = bytes;
    }

    /// Advances the state machine by one step.
    fn step(&mut self) {
        let next = match self.peek_non_space() {
            Ok(next) => next,
            Err(err) => {
                let index = match self.state {
                    State::Before { index, .. } | State::After { index } => Some(index),
                    _ => None,
                };
                self.fail_read(index, &err);
                return;
            }
        };
        match (self.state, next) {
            (State::Done, _) | (State::End, None) => self.state = State::Done,
            (State::Start, Some(b)) if b == BOM[0] && self.pos.offset == 0 => {
                self.skip_bom();
            }
            (State::Start, Some(b'[')) => {
                self.bump(b'[');
                self.state = State::Before {
                    index: 0,
                    first: true,
                };
            }
            (State::Start, found) => {
                let found = describe(found);
                self.fail(
                    self.pos,
                    None,
                    &format!("expected `[` to start a JSON array, {found}"),
                );
                if let Some(Event::Rejected(rejection)) = self.pending.back_mut() {
                    rejection.hint = Some(
                        "if the file holds one object per line, read it as JSON Lines \
                         (`--input-format jsonl`)"
                            .to_owned(),
                    );
                }
            }
            (State::Before { first: true, .. }, Some(b']')) => {
                self.bump(b']');
                let warning = Event::warning(
                    self.locator(self.pos, None),
                    "the file holds an empty JSON array",
                );
                self.pending.push_back(warning);
                self.state = State::End;
            }
            (State::Before { index, .. }, Some(b']')) => {
                self.bump(b']');
                let warning = Event::warning(
                    self.locator(self.pos, Some(index)),
                    "trailing comma before `]` in the JSON array",
                );
                self.pending.push_back(warning);
                self.state = State::End;
            }
            (State::Before { index, .. }, Some(_)) => self.read_element(index),
            (State::Before { index, .. } | State::After { index }, None) => {
                self.fail(
                    self.pos,
                    Some(index),
                    "unexpected end of file: the JSON array is not closed",
                );
            }
            (State::After { index }, Some(b',')) => {
                self.bump(b',');
                self.state = State::Before {
                    index: index + 1,
                    first: false,
                };
            }
            (State::After { .. }, Some(b']')) => {
                self.bump(b']');
                self.state = State::End;
            }
            (State::After { index }, found) => {
                let message = format!(
                    "invalid JSON: expected `,` or `]` after element [{index}], {}: the rest of \
                     the file is not read",
                    describe(found)
                );
                self.fail(self.pos, Some(index + 1), &message);
            }
            (State::End, Some(_)) => {
                self.fail(
                    self.pos,
                    None,
                    "unexpected content after the end of the JSON array",
                );
            }
        }
    }

    /// Reads element `index` and queues its event.
    fn read_element(&mut self, index: u64) {
        let start = self.pos;
        match self.scan_element() {
            (Scanned::Complete, false) => {
                self.element(index, start);
                self.state = State::After { index };
            }
            (Scanned::Complete, true) => {
                let message = format!(
                    "record is larger than the limit of {} bytes (`max_record_bytes`)",
                    self.max
                );
                let rejection = Rejection::record(self.locator(start, Some(index)), message)
                    .with_hint("raise the record size limit if records this large are expected");
                self.pending.push_back(Event::Rejected(rejection));
                self.state = State::After { index };
            }
            (Scanned::Eof, _) => {
                let message = format!(
                    "unexpected end of file inside a record (element [{index}] starts at \
                     line {}, column {})",
                    start.line, start.column
                );
                self.fail(self.pos, Some(index), &message);
            }
            (Scanned::Mismatch(b, at), _) => {
                let message = format!(
                    "invalid JSON: mismatched `{}` in element [{index}]: the rest of the \
                     file is not read",
                    char::from(b)
                );
                self.fail(at, Some(index), &message);
            }
            (Scanned::Failed(err), _) => self.fail_read(Some(index), &err),
        }
    }

    /// Skips a UTF-8 byte order mark at byte 0, or fails if the bytes are not one.
    fn skip_bom(&mut self) {
        let is_bom = matches!(self.src.fill_buf(), Ok(chunk) if chunk.starts_with(BOM));
        if is_bom {
            self.src.consume(BOM.len());
            self.pos.offset += BOM.len() as u64;
        } else {
            let found = describe(Some(BOM[0]));
            self.fail(
                self.pos,
                None,
                &format!("expected `[` to start a JSON array, {found}"),
            );
        }
    }
}

fn describe(found: Option<u8>) -> String {
    match found {
        None => "found the end of the file".to_owned(),
        Some(b) if b.is_ascii_graphic() => format!("found `{}`", char::from(b)),
        Some(b) => format!("found byte `0x{b:02X}`"),
    }
}

impl<R: BufRead> Iterator for JsonArray<R> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            if self.state == State::Done {
                return None;
            }
            self.step();
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::test_util::{read_bytes, records, rejections};
    use crate::{Event, ReadOptions, Scope};

    fn read(bytes: &[u8]) -> Vec<Event> {
        read_bytes("x.json", bytes, &ReadOptions::default())
    }

    fn indices(events: &[Event]) -> Vec<u64> {
        records(events)
            .iter()
            .map(|r| r.locator.index.unwrap())
            .collect()
    }

    #[test]
    fn elements_stream_with_index_line_and_column() {
        let input =
            "[ {\"id\":1},\n  {\"id\":\"2\", \"s\":\"]},\\\"[\"} ,{\"a\":[1,{\"b\":\"é\"}]}\n]\n";
        let events = read(input.as_bytes());
        assert_eq!(indices(&events), [0, 1, 2]);
        assert_eq!(events.len(), 3);
        let found = records(&events);
        assert_eq!(
            (found[0].locator.line, found[0].locator.column),
            (Some(1), Some(3))
        );
        assert_eq!(
            (found[1].locator.line, found[1].locator.column),
            (Some(2), Some(3))
        );
        assert_eq!(found[1].locator.offset, Some(14));
        assert_eq!(found[0].value["id"], json!(1));
        assert_eq!(found[1].value["id"], json!("2"));
        assert_eq!(found[1].value["s"], "]},\"[");
        assert_eq!(found[2].value["a"], json!([1, {"b": "é"}]));
    }

    #[test]
    fn bad_elements_are_rejected_one_by_one() {
        let input = b"[{\"a\":1}, 42, {\"a\": tru}, \"s\", {\"t\":\"\xFF\"}, [1], {\"a\":2}]";
        let events = read(input);
        assert_eq!(indices(&events), [0, 6]);
        let rejected = rejections(&events);
        let at: Vec<_> = rejected.iter().map(|r| r.locator.index.unwrap()).collect();
        assert_eq!(at, [1, 2, 3, 4, 5]);
        assert!(rejected.iter().all(|r| r.scope == Scope::Record));
        assert!(
            rejected[0]
                .message
                .starts_with("expected a JSON object, found a number")
        );
        assert!(
            rejected[1].message.starts_with("invalid JSON"),
            "{}",
            rejected[1].message
        );
        assert!(rejected[3].message.contains("UTF-8"));
        assert_eq!(rejected[3].locator.column, Some(38));
    }

    #[test]
    fn broken_structure_rejects_the_rest_after_earlier_records() {
        let events = read(b"[{\"a\":1},\n {\"b\":2} {\"c\":3}]");
        assert_eq!(indices(&events), [0, 1]);
        let rejected = rejections(&events);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].scope, Scope::File);
        assert_eq!(
            (rejected[0].locator.line, rejected[0].locator.column),
            (Some(2), Some(10))
        );
        assert!(
            rejected[0].message.contains("line 2, column 10"),
            "{}",
            rejected[0].message
        );

        let events = read(b"[{\"a\":1},{\"b\":[2}]");
        assert_eq!(indices(&events), [0]);
        assert!(rejections(&events)[0].message.contains("mismatched"));

        let events = read(b"[{\"a\":1},{\"b\":");
        assert_eq!(indices(&events), [0]);
        let message = &rejections(&events)[0].message;
        assert!(
            message.starts_with("unexpected end of file inside a record"),
            "{message}"
        );

        let events = read(b"[{\"a\":1}");
        assert!(rejections(&events)[0].message.contains("not closed"));

        let events = read(b"[{\"a\":1}] x");
        assert_eq!(indices(&events), [0]);
        assert!(rejections(&events)[0].message.contains("after the end"));
    }

    #[test]
    fn empty_arrays_trailing_commas_and_size_limits() {
        let events = read(b"\xEF\xBB\xBF [ ]");
        assert!(matches!(&events[..], [Event::Warning(w)] if w.message.contains("empty")));

        let events = read(b"[{\"a\":1},]");
        assert_eq!(indices(&events), [0]);
        assert!(matches!(&events[1], Event::Warning(w) if w.message.contains("trailing comma")));

        let opts = ReadOptions {
            max_record_bytes: 16,
            ..ReadOptions::default()
        };
        let big = format!("[{{\"t\":\"{}\"}},{{\"a\":1}}]", "x".repeat(64));
        let events = read_bytes("x.json", big.as_bytes(), &opts);
        assert_eq!(indices(&events), [1]);
        assert!(rejections(&events)[0].message.contains("16 bytes"));
    }

    #[test]
    fn a_file_that_is_not_an_array_is_one_error() {
        let opts = ReadOptions {
            format: Some(crate::InputFormat::JsonArray),
            ..ReadOptions::default()
        };
        let events = read_bytes("x.jsonl", b"{\"a\":1}\n{\"a\":2}\n", &opts);
        let rejected = rejections(&events);
        assert_eq!(events.len(), 1);
        assert_eq!(rejected[0].scope, Scope::File);
        assert!(rejected[0].hint.as_deref().unwrap().contains("JSON Lines"));
    }
}
