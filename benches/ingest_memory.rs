//! Peak resident memory of reading JSON Lines against the input's size.
//!
//! Writes JSON Lines files of 10 MB and 100 MB (and the sizes in megabytes listed in
//! `PROVGUARD_BENCH_SIZES_MB`, comma-separated, for example `1000,4000`) to a temporary
//! folder, plain and gzip-compressed, and reads each through `provguard_ingest::open` in a
//! child process of its own, so that each peak (`VmHWM` of `/proc/self/status`) is that
//! file's alone. Prints the peak against the input size; a flat peak means memory is bounded
//! by the record and buffer sizes, not by the file.
//!
//! ```sh
//! cargo bench -p provguard-ingest --bench ingest_memory
//! PROVGUARD_BENCH_SIZES_MB=1000 cargo bench -p provguard-ingest --bench ingest_memory
//! ```
#![expect(clippy::print_stdout, reason = "a benchmark prints its results")]

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use provguard_ingest::{Event, ReadOptions, open};

/// Set in a child process to the file it reads.
const CHILD: &str = "PROVGUARD_BENCH_CHILD";

fn main() {
    if let Ok(path) = std::env::var(CHILD) {
        child(Path::new(&path));
        return;
    }

    let mut sizes = vec![10_u64, 100];
    if let Ok(extra) = std::env::var("PROVGUARD_BENCH_SIZES_MB") {
        sizes.extend(
            extra
                .split(',')
                .filter_map(|s| s.trim().parse::<u64>().ok()),
        );
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    println!("peak resident memory (VmHWM) reading JSON Lines through `open()`");
    println!(
        "{:>10} {:>8} {:>12} {:>10} {:>9} {:>9}",
        "input MB", "form", "records", "peak MiB", "peak/in", "seconds"
    );
    for mb in sizes {
        let plain = dir.path().join(format!("data-{mb}mb.jsonl"));
        let records = generate(&plain, mb * 1_000_000);
        let gzip = dir.path().join(format!("data-{mb}mb.jsonl.gz"));
        compress(&plain, &gzip);
        for (form, path) in [("plain", &plain), ("gzip", &gzip)] {
            let (read, peak_kib, seconds) = measure(path);
            assert_eq!(read, records, "every record is read");
            let peak_mib = peak_kib as f64 / 1024.0;
            let ratio = peak_kib as f64 * 1024.0 / (mb as f64 * 1_000_000.0);
            println!("{mb:>10} {form:>8} {read:>12} {peak_mib:>10.1} {ratio:>9.3} {seconds:>9.2}");
        }
        fs_err::remove_file(&plain).ok();
        fs_err::remove_file(&gzip).ok();
    }
}

/// Writes Alpaca-style records until the file holds `bytes` bytes; returns how many.
fn generate(path: &Path, bytes: u64) -> u64 {
    let mut out = BufWriter::new(fs_err::File::create(path).expect("create the input"));
    let mut written = 0;
    let mut records = 0;
    let words = [
        "river", "model", "answer", "people", "data", "curation", "loop", "signal",
    ];
    while written < bytes {
        let body: Vec<&str> = (0..60)
            .map(|k| words[(records + k * 7) as usize % 8])
            .collect();
        let line = serde_json::json!({
            "id": records,
            "instruction": format!("Explain point {records} in one paragraph."),
            "input": "",
            "output": body.join(" "),
        })
        .to_string();
        writeln!(out, "{line}").expect("write the input");
        written += line.len() as u64 + 1;
        records += 1;
    }
    out.flush().expect("flush the input");
    records
}

fn compress(from: &Path, to: &Path) {
    let mut input = fs_err::File::open(from).expect("open the input");
    let output = fs_err::File::create(to).expect("create the gzip file");
    let mut encoder = flate2::write::GzEncoder::new(output, flate2::Compression::fast());
    std::io::copy(&mut input, &mut encoder).expect("compress");
    encoder.finish().expect("finish the gzip file");
}

/// Reads `path` in a child process; returns the records read, the peak in KiB and seconds.
fn measure(path: &PathBuf) -> (u64, u64, f64) {
    let started = Instant::now();
    let out = Command::new(std::env::current_exe().expect("the bench binary"))
        .env(CHILD, path)
        .output()
        .expect("run the child");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8 output");
    let mut fields = text
        .split_whitespace()
        .map(|f| f.parse::<u64>().expect("a number"));
    let records = fields.next().expect("records");
    let peak = fields.next().expect("peak");
    (records, peak, started.elapsed().as_secs_f64())
}

/// Reads every record of `path` and prints the record count and the peak resident memory.
fn child(path: &Path) {
    let mut records = 0_u64;
    for event in open(path, &ReadOptions::default()).expect("open the input") {
        match event {
            Event::Record(_) => records += 1,
            Event::Rejected(r) => panic!("rejected: {r:?}"),
            Event::Blank(_) | Event::Warning(_) => {}
        }
    }
    println!("{records} {}", peak_kib());
}

/// `VmHWM` of `/proc/self/status`, in KiB.
fn peak_kib() -> u64 {
    let status = fs_err::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("a VmHWM line")
}
