//! Writes a generated benchmark corpus: `gen_corpus [--size 1G] [--seed 42] [--data DIR]
//! --out FILE` (see `provguard_bench` for what the records are).
#![expect(
    clippy::print_stderr,
    reason = "a command-line tool reports what it wrote"
)]

use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::Context as _;
use provguard_bench::{Corpus, Generator, parse_size};

const USAGE: &str = "usage: gen_corpus [--size 1G] [--seed 42] [--data ../shared/data] --out FILE";

fn main() -> anyhow::Result<()> {
    let mut size = 1_000_000_000;
    let mut seed = 42;
    let mut data = PathBuf::from("../shared/data");
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .with_context(|| format!("`{flag}` needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--size" => size = parse_size(&value()?)?,
            "--seed" => seed = value()?.parse().context("`--seed` takes an integer")?,
            "--data" => data = PathBuf::from(value()?),
            "--out" => out = Some(PathBuf::from(value()?)),
            _ => anyhow::bail!("unknown argument `{flag}`\n{USAGE}"),
        }
    }
    let out = out.context(USAGE)?;

    let corpus = Corpus::load(&data)?;
    let mut file = BufWriter::with_capacity(1 << 20, fs_err::File::create(&out)?);
    let (bytes, records) = Generator::new(&corpus, seed).write(&mut file, size)?;
    file.into_inner()
        .map_err(std::io::IntoInnerError::into_error)?
        .sync_all()?;
    eprintln!(
        "{}: {records} records, {bytes} bytes, seed {seed}",
        out.display()
    );
    Ok(())
}
