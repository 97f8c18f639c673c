//! Seeded garbage through every format path: nothing may panic, every reader must end, and
//! every event must name the file it came from.

use std::io::Write;

use provguard_ingest::{Event, InputFormat, ReadOptions, open};

/// xorshift64*: a small seeded generator, so that a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }

    /// Random bytes, or random JSON-ish tokens, which reach deeper into the parsers.
    fn garbage(&mut self) -> Vec<u8> {
        const TOKENS: &[&[u8]] = &[
            b"{",
            b"}",
            b"[",
            b"]",
            b"\"",
            b":",
            b",",
            b"\\",
            b" ",
            b"\n",
            b"\r",
            b"\"a\"",
            b"1",
            b"-2.5e3",
            b"true",
            b"null",
            b"\xEF\xBB\xBF",
            b"\xFF",
            b"\xC3",
            b"\xE2\x80\xA8",
            b"PAR1",
            b"\x1F\x8B",
            b"{\"id\":1}\n",
        ];
        let len = self.below(400);
        let mut out = Vec::with_capacity(len);
        if self.below(2) == 0 {
            out.extend((0..len).map(|_| self.next().to_le_bytes()[0]));
        } else {
            for _ in 0..len / 3 {
                out.extend_from_slice(TOKENS[self.below(TOKENS.len())]);
            }
        }
        out
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn check(path: &std::path::Path, opts: &ReadOptions) {
    let reader = open(path, opts).expect("an existing file opens");
    for event in reader {
        assert_eq!(&*event.locator().file, path);
        if let Event::Rejected(rejection) = &event {
            assert!(!rejection.message.is_empty());
        }
    }
}

#[test]
fn garbage_never_panics_in_any_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let formats = [
        None,
        Some(InputFormat::JsonLines),
        Some(InputFormat::JsonArray),
        Some(InputFormat::Parquet),
    ];
    for round in 0..300 {
        let data = rng.garbage();
        let mut variants = vec![
            ("jsonl", data.clone()),
            ("json", [b"[".as_slice(), &data].concat()),
            ("parquet", [b"PAR1".as_slice(), &data, b"PAR1"].concat()),
            ("bin", data.clone()),
            ("jsonl.gz", gzip(&data)),
            ("json.zst", zstd::stream::encode_all(&data[..], 1).unwrap()),
        ];
        // Cut compressed streams short, and give damaged magic numbers.
        let cut = gzip(&data);
        variants.push(("jsonl.gz", cut[..rng.below(cut.len())].to_vec()));
        variants.push((
            "jsonl.zst",
            [b"\x28\xB5\x2F\xFD".as_slice(), &data].concat(),
        ));
        variants.push(("jsonl.gz", [b"\x1F\x8B".as_slice(), &data].concat()));
        for (k, (extension, bytes)) in variants.into_iter().enumerate() {
            let path = dir.path().join(format!("g{round}-{k}.{extension}"));
            fs_err::write(&path, &bytes).unwrap();
            let opts = ReadOptions {
                format: formats[rng.below(formats.len())],
                lenient: rng.below(2) == 0,
                max_record_bytes: 1 + rng.below(300),
                ..ReadOptions::default()
            };
            check(&path, &opts);
        }
    }
}
