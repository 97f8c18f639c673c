//! Opening a file (or standard input): compression by magic bytes, decompression of every
//! part of a multi-part file (gzip members, zstd frames, bzip2 and xz streams, lz4 frames), a
//! guard against decompression bombs, and a look at the first decompressed bytes to tell
//! formats apart.

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

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
    /// What one part of a multi-part file is called.
    fn part_name(self) -> &'static str {
        match self {
            Compression::None => "file",
            Compression::Gzip => "member",
            Compression::Zstd | Compression::Lz4 => "frame",
            Compression::Bzip2 | Compression::Xz => "stream",
        }
    }

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

/// The compressed input, buffered, with a look at the next few bytes on demand (a part's magic
/// number can straddle two reads) and the offset of the next byte in the file.
///
/// The bytes consumed (not those buffered ahead) are also counted in `consumed`, shared with
/// [`Guarded`]: the decompression ratio is judged on what the decoders have used.
pub(crate) struct Raw {
    inner: RawInput,
    consumed: Arc<AtomicU64>,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Bytes consumed so far: the offset in the file of the next byte.
    offset: u64,
}

impl Raw {
    fn new(inner: RawInput, consumed: Arc<AtomicU64>) -> Self {
        Self {
            inner,
            consumed,
            buf: vec![0; BUFFER].into_boxed_slice(),
            pos: 0,
            end: 0,
            offset: 0,
        }
    }

    /// Buffers at least `want` bytes (fewer only where the input ends) and returns what is
    /// buffered.
    fn fill_at_least(&mut self, want: usize) -> io::Result<&[u8]> {
        let want = want.min(self.buf.len());
        if self.end - self.pos < want && self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        while self.end - self.pos < want {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => break,
                Ok(n) => self.end += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(&self.buf[self.pos..self.end])
    }
}

impl Read for Raw {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Raw {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        }
        self.fill_at_least(1)
    }

    fn consume(&mut self, amount: usize) {
        let amount = amount.min(self.end - self.pos);
        self.pos += amount;
        self.offset += amount as u64;
        self.consumed.fetch_add(amount as u64, Ordering::Relaxed);
    }
}

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

/// One compressed part (gzip member, zstd or lz4 frame, bzip2 or xz stream) being decoded.
///
/// Each decoder is made to stop at the end of its part and hand the input back, so that what
/// follows a part is judged here, the same way for every compression, rather than by each
/// library in its own way.
enum Part {
    Gzip(flate2::bufread::GzDecoder<Raw>),
    Zstd(zstd::stream::read::Decoder<'static, Raw>),
    Bzip2(bzip2::bufread::BzDecoder<Raw>),
    Xz(liblzma::bufread::XzDecoder<Raw>),
    Lz4(lz4_flex::frame::FrameDecoder<Raw>),
}

impl Part {
    fn start(compression: Compression, raw: Raw) -> io::Result<Self> {
        Ok(match compression {
            Compression::Gzip => Part::Gzip(flate2::bufread::GzDecoder::new(raw)),
            Compression::Zstd => {
                Part::Zstd(zstd::stream::read::Decoder::with_buffer(raw)?.single_frame())
            }
            Compression::Bzip2 => Part::Bzip2(bzip2::bufread::BzDecoder::new(raw)),
            Compression::Xz => Part::Xz(liblzma::bufread::XzDecoder::new(raw)),
            Compression::Lz4 => Part::Lz4(lz4_flex::frame::FrameDecoder::new(raw)),
            Compression::None => unreachable!("an uncompressed file has no parts"),
        })
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Part::Gzip(d) => d.read(buf),
            Part::Zstd(d) => d.read(buf),
            Part::Bzip2(d) => d.read(buf),
            Part::Xz(d) => d.read(buf),
            Part::Lz4(d) => d.read(buf),
        }
    }

    fn into_raw(self) -> Raw {
        match self {
            Part::Gzip(d) => d.into_inner(),
            Part::Zstd(d) => d.finish(),
            Part::Bzip2(d) => d.into_inner(),
            Part::Xz(d) => d.into_inner(),
            Part::Lz4(d) => d.into_inner(),
        }
    }
}

/// Where [`Parts`] is in the compressed input.
enum PartsState {
    /// Between two parts (or before the first): the next bytes decide what comes.
    Between(Raw),
    /// Inside a part.
    Inside(Box<Part>),
    /// The input ended, was judged to end, or failed between parts.
    Done,
}

/// What comes after a part.
enum Next {
    /// Another part of the same compression.
    Part,
    /// A skippable frame (zstd and lz4), `len` bytes of payload after its 8-byte header.
    Skippable(u64),
    /// Four zero bytes of xz stream padding.
    Padding,
    /// The end of the input.
    End,
    /// Bytes that do not start a part: trailing garbage.
    Garbage,
}

/// Every part of a multi-part compressed file, one after the other, as one stream.
///
/// After each complete part the next bytes are looked at: the magic number of another part
/// starts it (a magic cut off by the end of the file too, which its decoder then reports as
/// truncated), zstd and lz4 skippable frames are skipped, xz stream padding (zero bytes in
/// fours) is skipped, and anything else ends the stream as trailing garbage. As `gzip -d`
/// does ("decompression OK, trailing garbage ignored"), trailing garbage loses no record and is
/// not an error: the data ends there and [`Parts`] leaves a warning in `trailing`, which the
/// reader reports for the file once its records are read.
pub(crate) struct Parts {
    compression: Compression,
    state: PartsState,
    /// Parts started so far.
    started: u64,
    trailing: Arc<OnceLock<String>>,
}

impl Parts {
    fn new(compression: Compression, raw: Raw, trailing: Arc<OnceLock<String>>) -> Self {
        Self {
            compression,
            state: PartsState::Between(raw),
            started: 0,
            trailing,
        }
    }

    /// What the next bytes of `raw` hold.
    fn next(&self, raw: &mut Raw) -> io::Result<Next> {
        let head = raw.fill_at_least(8)?;
        if head.is_empty() {
            return Ok(Next::End);
        }
        let skippable = matches!(self.compression, Compression::Zstd | Compression::Lz4)
            && head.len() >= 8
            && head[0] & 0xF0 == 0x50
            && head[1..4] == [0x2A, 0x4D, 0x18];
        if skippable {
            let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
            return Ok(Next::Skippable(u64::from(len)));
        }
        if self.compression == Compression::Xz && head.starts_with(&[0; 4]) && self.started > 0 {
            return Ok(Next::Padding);
        }
        let magic: &[u8] = match self.compression {
            Compression::Gzip => &[0x1f, 0x8b],
            Compression::Zstd => &[0x28, 0xb5, 0x2f, 0xfd],
            Compression::Bzip2 => b"BZh",
            Compression::Xz => &[0xfd, b'7', b'z', b'X', b'Z', 0x00],
            Compression::Lz4 => &[0x04, 0x22, 0x4d, 0x18],
            Compression::None => unreachable!("an uncompressed file has no parts"),
        };
        // A magic cut off by the end of the input still starts a part: a truncated one.
        let n = head.len().min(magic.len());
        let mut starts = head[..n] == magic[..n];
        if self.compression == Compression::Bzip2 && head.len() > 3 {
            starts &= (b'1'..=b'9').contains(&head[3]);
        }
        Ok(if starts { Next::Part } else { Next::Garbage })
    }

    /// Reads past the trailing bytes and leaves the warning that names them.
    fn garbage(&self, raw: &mut Raw) -> io::Result<()> {
        let at = raw.offset;
        let mut len = 0u64;
        let mut zeros = true;
        loop {
            let chunk = raw.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            zeros &= chunk.iter().all(|b| *b == 0);
            let n = chunk.len();
            len += n as u64;
            raw.consume(n);
        }
        let name = self.compression.name();
        let part = self.compression.part_name();
        let message = if zeros {
            format!(
                "trailing zero bytes ignored: {len} zero bytes follow the last {name} {part}, \
                 from byte {at} of the file"
            )
        } else {
            format!(
                "trailing garbage ignored: the {len} bytes from byte {at} of the file, after the \
                 last complete {name} {part}, do not start another {name} {part}"
            )
        };
        let _ = self.trailing.set(message);
        Ok(())
    }

    /// Moves past what follows a part; `Ok(true)` when a new part was started.
    fn advance(&mut self, mut raw: Raw) -> io::Result<bool> {
        loop {
            match self.next(&mut raw)? {
                Next::Part => {
                    self.started += 1;
                    self.state = PartsState::Inside(Box::new(Part::start(self.compression, raw)?));
                    return Ok(true);
                }
                Next::Skippable(len) => {
                    raw.consume(8);
                    if io::copy(&mut (&mut raw).take(len), &mut io::sink())? < len {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                }
                Next::Padding => raw.consume(4),
                Next::End => return Ok(false),
                Next::Garbage => {
                    self.garbage(&mut raw)?;
                    return Ok(false);
                }
            }
        }
    }
}

impl Read for Parts {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match std::mem::replace(&mut self.state, PartsState::Done) {
                PartsState::Done => return Ok(0),
                PartsState::Inside(mut part) => match part.read(buf) {
                    // The part is complete: never read a finished decoder again.
                    Ok(0) => self.state = PartsState::Between((*part).into_raw()),
                    Ok(n) => {
                        self.state = PartsState::Inside(part);
                        return Ok(n);
                    }
                    Err(err) => {
                        self.state = PartsState::Inside(part);
                        return Err(err);
                    }
                },
                // An error between parts leaves the state `Done`: readers stop at an error.
                PartsState::Between(raw) => {
                    if !self.advance(raw)? {
                        return Ok(0);
                    }
                }
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
    /// Set once the stream has been read to its end if bytes after the last complete part of
    /// a compressed file were ignored (see [`Parts`]): a warning for the file.
    pub trailing: Arc<OnceLock<String>>,
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
    let mut raw = Raw::new(input, count.clone());

    // A read error this early is as good as a file that cannot be opened.
    let magic = raw.fill_at_least(6).map_err(open_error)?.to_vec();
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

    let trailing = Arc::new(OnceLock::new());
    if compression == Compression::None {
        let (stream, sniff) = Peeked::sniff(Stream::Plain(raw));
        return Ok(Source {
            compression,
            sniff,
            stream,
            name_mismatch,
            trailing,
        });
    }
    let guarded = Guarded {
        decoder: Box::new(Parts::new(compression, raw, trailing.clone())),
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
        trailing,
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
            Stream::Plain(reader) if matches!(reader.inner, RawInput::File(_))
        );
        if !is_file {
            return Err(Box::new(self));
        }
        match self.inner {
            Stream::Plain(reader) => match reader.inner {
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
    }

    fn warnings(events: &[Event]) -> Vec<&str> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Warning(w) => Some(w.message.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn trailing_bytes_after_the_last_part_lose_no_record_and_are_named() {
        // As `gzip -d` does: the data ends after the last complete part, with a warning that
        // names where the ignored bytes start; no phantom rejected record.
        for (extension, _, compress) in CODECS {
            let data = in_parts(compress);
            let end = data.len();
            for (tail, word) in [
                (&b"garbage after the end"[..], "trailing garbage ignored"),
                (&[0u8; 7][..], "trailing zero bytes ignored"),
            ] {
                let input = [&data[..], tail].concat();
                let events = read_bytes(
                    &format!("x.jsonl.{extension}"),
                    &input,
                    &ReadOptions::default(),
                );
                assert_eq!(ids(&events), [1, 2, 3, 4], "{extension}: {events:?}");
                assert!(rejections(&events).is_empty(), "{extension}: {events:?}");
                let warned = warnings(&events);
                assert_eq!(warned.len(), 1, "{extension}: {warned:?}");
                assert!(warned[0].starts_with(word), "{extension}: {}", warned[0]);
                // xz takes zero bytes in fours as stream padding: the first four are its own.
                let at = if extension == "xz" && tail[0] == 0 {
                    end + 4
                } else {
                    end
                };
                assert!(
                    warned[0].contains(&format!("byte {at} ")),
                    "{extension}: {}",
                    warned[0]
                );
                // The warning comes after every record of the file.
                assert!(
                    matches!(events.last(), Some(Event::Warning(_))),
                    "{extension}"
                );
            }
        }
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
