//! Opening a file (or standard input): compression by magic bytes, decompression of every
//! part of a multi-part file (gzip members, zstd frames, bzip2 and xz streams, lz4 frames), a
//! guard against decompression bombs, and a look at the first decompressed bytes to tell
//! formats apart.

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::bufread::MultiGzDecoder;
use serde::Serialize;

use crate::format::NamedCompression;
use crate::{IngestError, ReadOptions};

/// Buffer size for reading files and decompressed streams.
const BUFFER: usize = 64 * 1024;

/// How far into the decompressed stream the format sniffer looks for a first non-blank byte.
const SNIFF_LIMIT: usize = 1024 * 1024;

/// The path that stands for standard input.
pub const STDIN_PATH: &str = "-";

/// The name standard input has in locators.
pub const STDIN_NAME: &str = "<stdin>";

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
    /// bzip2, every stream of a multi-stream file (as `pbzip2` writes).
    Bzip2,
    /// xz, every stream of a multi-stream file (as `pixz` or `cat a.xz b.xz` give).
    Xz,
    /// lz4 frame format, every frame.
    Lz4,
}

impl Compression {
    /// The name used in messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
            Compression::Lz4 => "lz4",
        }
    }

    /// The message for a read error of the (decompressed) stream.
    pub(crate) fn stream_error(self, err: &io::Error) -> String {
        if let Some(bomb) = err.get_ref().and_then(|e| e.downcast_ref::<Bomb>()) {
            return bomb.to_string();
        }
        match (self, err.kind()) {
            (Compression::None, _) => format!("read error: {err}"),
            (_, io::ErrorKind::UnexpectedEof) => format!("truncated {} stream", self.name()),
            _ => format!("corrupt {} stream: {err}", self.name()),
        }
    }
}

/// A decompression that went past the ratio limit.
#[derive(Debug, thiserror::Error)]
#[error(
    "decompression bomb: {decompressed} bytes came out of {compressed} compressed bytes, a \
     ratio above the limit of {limit}:1 (`max_decompression_ratio`)"
)]
pub(crate) struct Bomb {
    decompressed: u64,
    compressed: u64,
    limit: u64,
}

/// Where a file's bytes come from.
pub(crate) enum RawInput {
    File(fs_err::File),
    Stdin(io::Stdin),
}

impl Read for RawInput {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            RawInput::File(f) => f.read(buf),
            RawInput::Stdin(s) => s.read(buf),
        }
    }
}

/// Counts the bytes read through it.
pub(crate) struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The compressed input, buffered.
type Raw = BufReader<Counted<RawInput>>;

/// A decoder's output, checked against the decompression ratio limit.
pub(crate) struct Guarded {
    decoder: Box<dyn Read + Send>,
    compressed: Arc<AtomicU64>,
    decompressed: u64,
    limit: u64,
    floor: u64,
}

impl Read for Guarded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.decoder.read(buf)?;
        self.decompressed += n as u64;
        if self.decompressed > self.floor {
            let compressed = self.compressed.load(Ordering::Relaxed).max(1);
            if self.decompressed > self.limit.saturating_mul(compressed) {
                return Err(io::Error::other(Bomb {
                    decompressed: self.decompressed,
                    compressed,
                    limit: self.limit,
                }));
            }
        }
        Ok(n)
    }
}

/// Every frame of an lz4 file: `lz4_flex`'s decoder reads the next frame on the next call, but
/// reports the end of each frame as the end of the data, and a skippable frame as an error
/// that leaves its payload unread.
struct Lz4Frames(lz4_flex::frame::FrameDecoder<Raw>);

impl Read for Lz4Frames {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = match self.0.read(buf) {
                Ok(n) => n,
                Err(err) => {
                    let skip = match err.get_ref().and_then(|e| e.downcast_ref()) {
                        Some(lz4_flex::frame::Error::SkippableFrame(len)) => u64::from(*len),
                        _ => return Err(err),
                    };
                    let raw = self.0.get_mut();
                    if io::copy(&mut raw.take(skip), &mut io::sink())? < skip {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                    continue;
                }
            };
            // Each new call reads at least the next frame's magic, so this loop moves on.
            if n > 0 || buf.is_empty() || self.0.get_mut().fill_buf()?.is_empty() {
                return Ok(n);
            }
        }
    }
}

/// The decompressed byte stream of a file.
pub(crate) enum Stream {
    Plain(Raw),
    Decoded(BufReader<Guarded>),
}

impl Stream {
    fn inner(&mut self) -> &mut dyn BufRead {
        match self {
            Stream::Plain(r) => r,
            Stream::Decoded(r) => r,
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
    /// Set when the name claims a compression the content does not have.
    pub name_mismatch: Option<String>,
}

/// What the first decompressed bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent facts about the same few bytes"
)]
pub(crate) struct Sniff {
    /// The stream is empty.
    pub empty: bool,
    /// The stream starts with the Parquet magic `PAR1`.
    pub parquet_magic: bool,
    /// The stream starts with the Arrow IPC file magic `ARROW1`.
    pub arrow_file_magic: bool,
    /// The stream starts with an Arrow IPC stream message (the continuation marker
    /// `0xFFFFFFFF`).
    pub arrow_stream_start: bool,
    /// The first byte that is not JSON white space, after a UTF-8 byte order mark.
    pub first_non_blank: Option<u8>,
}

/// Opens a file, or standard input for [`STDIN_PATH`], and starts decompressing it.
pub(crate) fn open(
    path: &Path,
    named: NamedCompression,
    opts: &ReadOptions,
) -> Result<Source, IngestError> {
    let open_error = |source| IngestError::Open {
        path: path.to_path_buf(),
        source,
    };
    let input = if path == Path::new(STDIN_PATH) {
        RawInput::Stdin(io::stdin())
    } else {
        RawInput::File(fs_err::File::open(path).map_err(open_error)?)
    };
    let count = Arc::new(AtomicU64::new(0));
    let counted = Counted {
        inner: input,
        count: count.clone(),
    };
    let mut raw = BufReader::with_capacity(BUFFER, counted);

    // A read error this early is as good as a file that cannot be opened.
    let magic = fill_at_least(&mut raw, 6).map_err(open_error)?;
    let compression = detect(&magic);
    let name_mismatch = match (named, compression) {
        (NamedCompression::None, _)
        | (NamedCompression::Gzip, Compression::Gzip)
        | (NamedCompression::Zstd, Compression::Zstd)
        | (NamedCompression::Bzip2, Compression::Bzip2)
        | (NamedCompression::Xz, Compression::Xz)
        | (NamedCompression::Lz4, Compression::Lz4) => None,
        (claimed, found) => Some(format!(
            "the file name says `{}` but the content is {}: read as {}",
            claimed.name(),
            found.name(),
            found.name(),
        )),
    };

    let decoder: Box<dyn Read + Send> = match compression {
        Compression::None => {
            let (stream, sniff) = Peeked::sniff(Stream::Plain(raw));
            return Ok(Source {
                compression,
                sniff,
                stream,
                name_mismatch,
            });
        }
        Compression::Gzip => Box::new(MultiGzDecoder::new(raw)),
        Compression::Zstd => {
            Box::new(zstd::stream::read::Decoder::with_buffer(raw).map_err(open_error)?)
        }
        Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(raw)),
        Compression::Xz => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(raw)),
        Compression::Lz4 => Box::new(Lz4Frames(lz4_flex::frame::FrameDecoder::new(raw))),
    };
    let guarded = Guarded {
        decoder,
        compressed: count,
        decompressed: 0,
        limit: opts.max_decompression_ratio.max(1),
        floor: opts.ratio_floor_bytes,
    };
    let stream = Stream::Decoded(BufReader::with_capacity(BUFFER, guarded));
    let (stream, sniff) = Peeked::sniff(stream);
    Ok(Source {
        compression,
        sniff,
        stream,
        name_mismatch,
    })
}

fn detect(magic: &[u8]) -> Compression {
    match magic {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        // A zstd frame, or a skippable frame (magic 0x184D2A50 to 0x184D2A5F, little endian).
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
        [b, 0x2a, 0x4d, 0x18, ..] if b & 0xf0 == 0x50 => Compression::Zstd,
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Compression::Xz,
        [b'B', b'Z', b'h', b'1'..=b'9', ..] => Compression::Bzip2,
        [0x04, 0x22, 0x4d, 0x18, ..] => Compression::Lz4,
        _ => Compression::None,
    }
}

/// Fills the buffer of `reader` until it holds `want` bytes or the input ends, and returns a
/// copy of what it holds.
fn fill_at_least(reader: &mut Raw, want: usize) -> io::Result<Vec<u8>> {
    loop {
        let before = reader.buffer().len();
        if before >= want {
            return Ok(reader.buffer().to_vec());
        }
        // `BufReader` only refills an empty buffer, so read the few bytes by hand when the
        // first read came back short (pipes, special files).
        if before == 0 {
            let got = match reader.fill_buf() {
                Ok(chunk) => chunk.len(),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            };
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
            if first_non_blank.is_some() && prefix.len() >= 8 {
                break;
            }
        }
        let sniff = Sniff {
            empty: prefix.is_empty() && error.is_none(),
            parquet_magic: prefix.starts_with(b"PAR1"),
            arrow_file_magic: prefix.starts_with(b"ARROW1"),
            arrow_stream_start: prefix.starts_with(&[0xFF, 0xFF, 0xFF, 0xFF]),
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
        let is_file = matches!(
            &self.inner,
            Stream::Plain(reader) if matches!(reader.get_ref().inner, RawInput::File(_))
        );
        if !is_file {
            return Err(Box::new(self));
        }
        match self.inner {
            Stream::Plain(reader) => match reader.into_inner().inner {
                RawInput::File(file) => Ok(file.into_file()),
                RawInput::Stdin(_) => unreachable!("checked above"),
            },
            Stream::Decoded(_) => unreachable!("checked above"),
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

    fn bzip2(data: &[u8]) -> Vec<u8> {
        let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn xz(data: &[u8]) -> Vec<u8> {
        let mut encoder = liblzma::write::XzEncoder::new(Vec::new(), 1);
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn lz4(data: &[u8]) -> Vec<u8> {
        let mut encoder = lz4_flex::frame::FrameEncoder::new(Vec::new());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    /// `LINES` cut into three parts (in the middle of line 2 and at the start of line 4), each
    /// compressed on its own and concatenated: the multi-part form of every compression.
    fn in_parts(compress: Encode) -> Vec<u8> {
        [&LINES[..12], &LINES[12..27], &LINES[27..]]
            .iter()
            .flat_map(|part| compress(part))
            .collect()
    }

    /// An encoder used by the tests.
    type Encode = fn(&[u8]) -> Vec<u8>;

    const CODECS: [(&str, Compression, Encode); 5] = [
        ("gz", Compression::Gzip, gzip),
        ("zst", Compression::Zstd, zstd),
        ("bz2", Compression::Bzip2, bzip2),
        ("xz", Compression::Xz, xz),
        ("lz4", Compression::Lz4, lz4),
    ];

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
    fn every_part_of_every_compression_is_read() {
        for (extension, compression, compress) in CODECS {
            let data = in_parts(compress);
            let dir = tempfile::tempdir().unwrap();
            // Named without the compression suffix: the magic bytes decide.
            let path = crate::test_util::write(&dir, "x.jsonl", &data);
            let reader = crate::open(&path, &ReadOptions::default()).unwrap();
            assert_eq!(reader.compression(), compression, "{extension}");
            let events: Vec<Event> = reader.collect();
            assert_eq!(ids(&events), [1, 2, 3, 4], "{extension}: {events:?}");
            assert_eq!(records(&events)[3].locator.offset, Some(27), "{extension}");
            assert!(rejections(&events).is_empty(), "{extension}");
        }
    }

    #[test]
    fn a_cut_off_last_part_keeps_the_records_before_it() {
        for (extension, _, compress) in CODECS {
            let mut data = compress(&LINES[..18]);
            let second = compress(&LINES[18..]);
            data.extend_from_slice(&second[..second.len() / 2]);
            let name = format!("x.jsonl.{extension}");
            let events = read_bytes(&name, &data, &ReadOptions::default());
            assert_eq!(ids(&events)[..2], [1, 2], "{extension}: {events:?}");
            let rejected = rejections(&events);
            assert_eq!(rejected.len(), 1, "{extension}: {events:?}");
            assert_eq!(rejected[0].scope, Scope::File);
            let message = &rejected[0].message;
            assert!(
                message.contains(&format!("{} stream", compression_name(extension))),
                "{extension}: {message}"
            );
        }
    }

    fn compression_name(extension: &str) -> &'static str {
        CODECS
            .iter()
            .find(|(e, _, _)| *e == extension)
            .map(|(_, c, _)| c.name())
            .unwrap()
    }

    #[test]
    fn lz4_skippable_frames_are_skipped() {
        // lz4 and zstd share the skippable frame magic; an empty lz4 frame first makes the
        // file lz4.
        let data = [lz4(b""), skippable(3, b"metadata"), in_parts(lz4)].concat();
        let events = read_bytes("x.jsonl.lz4", &data, &ReadOptions::default());
        assert_eq!(ids(&events), [1, 2, 3, 4], "{events:?}");
    }

    #[test]
    fn a_decompression_bomb_is_a_named_rejection_for_every_compression() {
        // 4 MiB of one repeated record compresses far beyond 1000:1 with every codec.
        let line = b"{\"text\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}\n";
        let big = line.repeat((4 << 20) / line.len());
        let opts = ReadOptions {
            max_decompression_ratio: 100,
            ratio_floor_bytes: 1 << 20,
            ..ReadOptions::default()
        };
        for (extension, _, compress) in CODECS {
            let data = compress(&big);
            let name = format!("x.jsonl.{extension}");
            let events = read_bytes(&name, &data, &opts);
            let rejected = rejections(&events);
            assert_eq!(rejected.len(), 1, "{extension}");
            assert_eq!(rejected[0].scope, Scope::File);
            let message = &rejected[0].message;
            assert!(
                message.starts_with("decompression bomb"),
                "{extension}: {message}"
            );
            assert!(message.contains("100:1"), "{message}");
            // It stopped soon after the floor, not at the end of the data.
            let read = records(&events).len() * line.len();
            assert!((900 << 10..2 << 20).contains(&read), "{extension}: {read}");

            // The same data under the default limits is read to the end.
            let events = read_bytes(&name, &data, &ReadOptions::default());
            assert!(rejections(&events).is_empty(), "{extension}");
        }
    }

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
        let message = &rejections(&events)[0].message;
        assert!(message.contains(" xz stream at byte 0"), "{message}");
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
