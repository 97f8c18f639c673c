//! Formats that need random access (Parquet, the Arrow IPC file format) arriving as a stream:
//! compressed, or on standard input. The stream is copied to an anonymous temporary file (in
//! `TMPDIR`, removed by the system when closed), so that memory stays that of one batch
//! whatever the file's size; the decompression ratio limit applies while copying.

use std::io::{self, Read, Seek as _, Write as _};

use crate::source::Compression;

/// Why a stream could not be spilled.
pub(crate) enum SpillError {
    /// The stream failed after `at` bytes of decompressed data.
    Read { at: u64, error: io::Error },
    /// The temporary file could not be made or written.
    Temp(io::Error),
}

impl SpillError {
    /// The message for the file, `what` naming its format ("the Parquet file").
    pub(crate) fn message(&self, compression: Compression, what: &str) -> String {
        match self {
            SpillError::Read { at, error } => format!(
                "{} at byte {at} of the decompressed data: {what} cannot be read",
                compression.stream_error(error)
            ),
            SpillError::Temp(error) => format!(
                "{what} needs random access and cannot be held in a temporary file ({error}); \
                 set TMPDIR to a folder with room for it, or decompress it first"
            ),
        }
    }
}

/// Copies `stream` to a new anonymous temporary file and returns it, positioned at its start.
pub(crate) fn spill(stream: &mut impl Read) -> Result<std::fs::File, SpillError> {
    let mut file = tempfile::tempfile().map_err(SpillError::Temp)?;
    let mut buf = vec![0; 256 * 1024];
    let mut at = 0u64;
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(SpillError::Read { at, error }),
        };
        file.write_all(&buf[..n]).map_err(SpillError::Temp)?;
        at += n as u64;
    }
    file.rewind().map_err(SpillError::Temp)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spilled_stream_reads_back_whole_and_a_failing_one_names_its_offset() {
        let data: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
        let mut file = spill(&mut &data[..]).map_err(|_| "spill").unwrap();
        let mut back = Vec::new();
        file.read_to_end(&mut back).unwrap();
        assert_eq!(back, data);

        // A stream that fails after 300,000 bytes.
        let failing = (&data[..300_000]).chain(FailingReader);
        let Err(err) = spill(&mut { failing }) else {
            panic!("a failing stream spilled");
        };
        let message = err.message(Compression::Gzip, "the Parquet file");
        assert!(message.contains("at byte 300000"), "{message}");
        assert!(
            message.contains("the Parquet file cannot be read"),
            "{message}"
        );
    }

    struct FailingReader;

    impl Read for FailingReader {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "corrupt deflate stream",
            ))
        }
    }
}
