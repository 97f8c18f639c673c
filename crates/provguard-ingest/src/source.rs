//! Opening a file: compression by magic bytes, decompression of every gzip member and every
//! zstd frame, and a look at the first decompressed bytes to tell formats apart.

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;
use serde::Serialize;

use crate::IngestError;
use crate::format::NamedCompression;

/// Buffer size for reading files and decompressed streams.
const BUFFER: usize = 64 * 1024;

/// How far into the decompressed stream the format sniffer looks for a first non-blank byte.
const SNIFF_LIMIT: usize = 1024 * 1024;

/// The compression of a file, decided by its magic bytes rather than its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip, every member of a multi-member file.
    Gzip,
    /// zstd, every frame; skippable frames are skipped.
    Zstd,
}

impl Compression {
    /// The name used in messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// The message for a read error of the (decompressed) stream.
    pub(crate) fn stream_error(self, err: &io::Error) -> String {
        match (self, err.kind()) {
            (Compression::None, _) => format!("read error: {err}"),
            (_, io::ErrorKind::UnexpectedEof) => format!("truncated {} stream", self.name()),
            _ => format!("corrupt {} stream: {err}", self.name()),
        }
    }
}

/// The decompressed byte stream of a file.
pub(crate) enum Stream {
    Plain(BufReader<fs_err::File>),
    Gzip(BufReader<MultiGzDecoder<BufReader<fs_err::File>>>),
    Zstd(BufReader<zstd::stream::read::Decoder<'static, BufReader<fs_err::File>>>),
}

impl Stream {
    fn inner(&mut self) -> &mut dyn BufRead {
        match self {
            Stream::Plain(r) => r,
            Stream::Gzip(r) => r,
            Stream::Zstd(r) => r,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner().read(buf)
    }
}

impl BufRead for Stream {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner().fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.inner().consume(amount);
    }
}

/// An opened file: its compression, what the first decompressed bytes look like, and the
/// stream positioned at byte 0 of the decompressed data.
pub(crate) struct Source {
    pub compression: Compression,
    pub sniff: Sniff,
    pub stream: Peeked<Stream>,
    /// A compression this crate does not read (`xz`, `bzip2`, `lz4`), recognised by its magic.
    pub unsupported: Option<&'static str>,
    /// Set when the name claims a compression the content does not have.
    pub name_mismatch: Option<String>,
}

/// What the first decompressed bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sniff {
    /// The stream is empty.
    pub empty: bool,
    /// The stream starts with the Parquet magic `PAR1`.
    pub parquet_magic: bool,
    /// The first byte that is not JSON white space, after a UTF-8 byte order mark.
    pub first_non_blank: Option<u8>,
}

/// Opens a file and starts decompressing it.
pub(crate) fn open(path: &Path, named: NamedCompression) -> Result<Source, IngestError> {
    let file = fs_err::File::open(path).map_err(|source| IngestError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut raw = BufReader::with_capacity(BUFFER, file);

    // A read error this early is as good as a file that cannot be opened.
    let magic = fill_at_least(&mut raw, 6).map_err(|source| IngestError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let detected = detect(&magic);
    let (compression, unsupported) = match detected {
        Detected::Gzip => (Compression::Gzip, None),
        Detected::Zstd => (Compression::Zstd, None),
        Detected::Unsupported(name) => (Compression::None, Some(name)),
        Detected::Plain => (Compression::None, None),
    };
    let name_mismatch = match (named, compression) {
        (NamedCompression::Gzip, Compression::Gzip)
        | (NamedCompression::Zstd, Compression::Zstd)
        | (NamedCompression::None, _) => None,
        (claimed, found) => Some(format!(
            "the file name says `{}` but the content is {}: read as {}",
            if claimed == NamedCompression::Gzip {
                "gzip"
            } else {
                "zstd"
            },
            found.name(),
            found.name(),
        )),
    };

    let stream = match compression {
        Compression::Gzip => {
            Stream::Gzip(BufReader::with_capacity(BUFFER, MultiGzDecoder::new(raw)))
        }
        Compression::Zstd => {
            let decoder = zstd::stream::read::Decoder::with_buffer(raw).map_err(|source| {
                IngestError::Open {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
            Stream::Zstd(BufReader::with_capacity(BUFFER, decoder))
        }
        Compression::None => Stream::Plain(raw),
    };
    let (stream, sniff) = Peeked::sniff(stream);
    Ok(Source {
        compression,
        sniff,
        stream,
        unsupported,
        name_mismatch,
    })
}

enum Detected {
    Plain,
    Gzip,
    Zstd,
    Unsupported(&'static str),
}

fn detect(magic: &[u8]) -> Detected {
    match magic {
        [0x1f, 0x8b, ..] => Detected::Gzip,
        // A zstd frame, or a skippable frame (magic 0x184D2A50 to 0x184D2A5F, little endian).
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Detected::Zstd,
        [b, 0x2a, 0x4d, 0x18, ..] if b & 0xf0 == 0x50 => Detected::Zstd,
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Detected::Unsupported("xz"),
        [b'B', b'Z', b'h', ..] => Detected::Unsupported("bzip2"),
        [0x04, 0x22, 0x4d, 0x18, ..] => Detected::Unsupported("lz4"),
        _ => Detected::Plain,
    }
}

/// Fills the buffer of `reader` until it holds `want` bytes or the file ends, and returns a
/// copy of what it holds.
fn fill_at_least(reader: &mut BufReader<fs_err::File>, want: usize) -> io::Result<Vec<u8>> {
    loop {
        let before = reader.buffer().len();
        if before >= want {
            return Ok(reader.buffer().to_vec());
        }
        // `BufReader` only refills an empty buffer, so read the few bytes by hand when the
        // first read came back short (pipes, special files).
        if before == 0 {
            let got = reader.fill_buf()?.len();
            if got == 0 {
                return Ok(Vec::new());
            }
            continue;
        }
        return Ok(reader.buffer().to_vec());
    }
}

/// A reader that first serves bytes it has already looked at, then a read error it met while
/// looking (so that the error shows up at the right place in the stream), then the rest.
pub(crate) struct Peeked<R> {
    prefix: Vec<u8>,
    pos: usize,
    error: Option<io::Error>,
    inner: R,
}

impl<R: BufRead> Peeked<R> {
    /// Reads until the first non-blank byte (or `SNIFF_LIMIT`) and reports what it saw.
    fn sniff(mut inner: R) -> (Self, Sniff) {
        let mut prefix = Vec::new();
        let mut error = None;
        let mut first_non_blank = None;
        while prefix.len() < SNIFF_LIMIT {
            let chunk = match inner.fill_buf() {
                Ok(chunk) => chunk,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    error = Some(err);
                    break;
                }
            };
            if chunk.is_empty() {
                break;
            }
            let taken = chunk.len();
            prefix.extend_from_slice(chunk);
            inner.consume(taken);
            let body = prefix.strip_prefix(crate::text::BOM).unwrap_or(&prefix);
            first_non_blank = body
                .iter()
                .copied()
                .find(|b| !crate::text::is_json_space(*b));
            if first_non_blank.is_some() && prefix.len() >= 4 {
                break;
            }
        }
        let sniff = Sniff {
            empty: prefix.is_empty() && error.is_none(),
            parquet_magic: prefix.starts_with(b"PAR1"),
            first_non_blank,
        };
        let peeked = Self {
            prefix,
            pos: 0,
            error,
            inner,
        };
        (peeked, sniff)
    }
}

impl Peeked<Stream> {
    /// The file itself when the stream is an uncompressed file (for random access), else the
    /// stream unchanged. What was peeked does not matter to a random-access reader.
    pub(crate) fn into_plain_file(self) -> Result<std::fs::File, Box<Self>> {
        let Self {
            prefix,
            pos,
            error,
            inner,
        } = self;
        match inner {
            Stream::Plain(reader) => Ok(reader.into_inner().into_file()),
            inner => Err(Box::new(Self {
                prefix,
                pos,
                error,
                inner,
            })),
        }
    }
}

impl<R: BufRead> Read for Peeked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Peeked<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos < self.prefix.len() {
            return Ok(&self.prefix[self.pos..]);
        }
        if let Some(err) = self.error.take() {
            return Err(err);
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if self.pos < self.prefix.len() {
            self.pos = (self.pos + amount).min(self.prefix.len());
            if self.pos == self.prefix.len() {
                self.prefix = Vec::new();
                self.pos = 0;
            }
        } else {
            self.inner.consume(amount);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use crate::test_util::{lines, read_bytes, records, rejections};
    use crate::{Compression, Event, ReadOptions, Scope};

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn zstd(data: &[u8]) -> Vec<u8> {
        zstd::stream::encode_all(data, 3).unwrap()
    }

    /// A zstd skippable frame (magic 0x184D2A5X) holding `payload`.
    fn skippable(nibble: u8, payload: &[u8]) -> Vec<u8> {
        let mut frame = vec![0x50 | nibble, 0x2A, 0x4D, 0x18];
        frame.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_le_bytes());
        frame.extend_from_slice(payload);
        frame
    }

    fn ids(events: &[Event]) -> Vec<i64> {
        records(events)
            .iter()
            .map(|r| r.value["id"].as_i64().unwrap())
            .collect()
    }

    const LINES: &[u8] = b"{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n{\"id\":4}\n";

    #[test]
    fn every_gzip_member_is_read_even_when_a_line_spans_members() {
        // Members split in the middle of line 2 and at the start of line 4.
        let mut data = gzip(&LINES[..12]);
        data.extend(gzip(&LINES[12..27]));
        data.extend(gzip(&LINES[27..]));
        let events = read_bytes("x.jsonl.gz", &data, &ReadOptions::default());
        assert_eq!(ids(&events), [1, 2, 3, 4]);
        assert_eq!(lines(&events), [1, 2, 3, 4]);
        assert_eq!(records(&events)[3].locator.offset, Some(27));
    }

    #[test]
    fn truncated_gzip_keeps_records_before_the_damage() {
        let mut data = gzip(&LINES[..18]);
        let second = gzip(&LINES[18..]);
        data.extend_from_slice(&second[..second.len() - 12]);
        let events = read_bytes("x.jsonl.gz", &data, &ReadOptions::default());
        assert_eq!(ids(&events)[..2], [1, 2]);
        let rejected = rejections(&events);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].scope, Scope::File);
        assert!(
            rejected[0].message.starts_with("truncated gzip stream"),
            "{}",
            rejected[0].message
        );
        let line = rejected[0].locator.line.unwrap();
        assert!(line >= 3, "{line}");
        assert!(rejected[0].locator.offset.unwrap() >= 18);
    }

    #[test]
    fn corrupt_gzip_is_named() {
        let mut data = gzip(LINES);
        let end = data.len() - 6;
        data[end] ^= 0xFF; // the stored length no longer matches
        let events = read_bytes("x.jsonl.gz", &data, &ReadOptions::default());
        let rejected = rejections(&events);
        assert_eq!(rejected.len(), 1);
        assert!(
            rejected[0].message.starts_with("corrupt gzip stream"),
            "{}",
            rejected[0].message
        );
        // Trailing garbage after the last member is damage too, after every record.
        let mut data = gzip(LINES);
        data.extend_from_slice(b"garbage");
        let events = read_bytes("x.jsonl.gz", &data, &ReadOptions::default());
        assert_eq!(ids(&events), [1, 2, 3, 4]);
        assert_eq!(rejections(&events).len(), 1);
    }

    #[test]
    fn every_zstd_frame_is_read_and_skippable_frames_skipped() {
        let mut data = skippable(0, b"metadata");
        data.extend(zstd(&LINES[..12]));
        data.extend(skippable(0xF, b""));
        data.extend(zstd(&LINES[12..]));
        // The name says gzip, the magic says zstd: the magic wins, with a warning.
        let events = read_bytes("x.jsonl.gz", &data, &ReadOptions::default());
        assert_eq!(ids(&events), [1, 2, 3, 4]);
        let warnings = events
            .iter()
            .filter(|e| matches!(e, Event::Warning(_)))
            .count();
        assert_eq!(warnings, 1);

        let dir = tempfile::tempdir().unwrap();
        let path = crate::test_util::write(&dir, "data.bin", &data);
        let reader = crate::open(&path, &ReadOptions::default()).unwrap();
        assert_eq!(reader.compression(), Compression::Zstd);
        assert_eq!(reader.count(), 4);
    }

    #[test]
    fn truncated_zstd_keeps_records_before_the_damage() {
        let mut data = zstd(&LINES[..18]);
        let second = zstd(&LINES[18..]);
        data.extend_from_slice(&second[..second.len() - 4]);
        let events = read_bytes("x.jsonl.zst", &data, &ReadOptions::default());
        assert_eq!(ids(&events)[..2], [1, 2]);
        let rejected = rejections(&events);
        assert_eq!(rejected.len(), 1);
        assert!(
            rejected[0].message.starts_with("truncated zstd stream"),
            "{}",
            rejected[0].message
        );
    }

    #[test]
    fn compression_comes_from_magic_not_name() {
        let events = read_bytes("x.jsonl", &gzip(LINES), &ReadOptions::default());
        assert_eq!(ids(&events), [1, 2, 3, 4]);
        let events = read_bytes("x.jsonl.gz", LINES, &ReadOptions::default());
        assert_eq!(ids(&events), [1, 2, 3, 4]);
        assert!(matches!(&events[0], Event::Warning(w) if w.message.contains("`gzip`")));
        let events = read_bytes("x.jsonl.xz", b"\xFD7zXZ\x00rest", &ReadOptions::default());
        assert!(rejections(&events)[0].message.contains("`xz`"));
        let events = read_bytes("x.jsonl", b"", &ReadOptions::default());
        assert!(matches!(&events[..], [Event::Warning(w)] if w.message.contains("empty")));
    }

    #[test]
    fn json_is_an_array_or_lines_by_content_after_decompression() {
        let events = read_bytes(
            "x.json.gz",
            &gzip(b"\xEF\xBB\xBF\n [{\"id\":1}]"),
            &ReadOptions::default(),
        );
        assert_eq!(records(&events)[0].locator.index, Some(0));
        let events = read_bytes("x.json.zst", &zstd(LINES), &ReadOptions::default());
        assert_eq!(lines(&events), [1, 2, 3, 4]);
        let events = read_bytes(
            "x.data",
            b"[{\"id\":1},{\"id\":2}]",
            &ReadOptions::default(),
        );
        assert_eq!(ids(&events), [1, 2]);
    }
}
