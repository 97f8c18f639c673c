//! Lookup speed and memory of the ledger's fingerprint index, per million fingerprints.
//!
//! `cargo bench -p provguard-ledger --bench lookup` (release). Sizes up to
//! `PROVGUARD_BENCH_MAX` fingerprints (default 10,000,000); the end-to-end part registers
//! and reopens a ledger of 1,000,000 entries.
#![expect(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::hint::black_box;
use std::time::Instant;

use provguard_ledger::index::{FingerprintIndex, key};
use provguard_ledger::{FilterOptions, Ledger, SourceEntry, TextEntry};
use provguard_lineage::{Evidence as _, Fingerprint, Origin};

fn fingerprint(i: u64, salt: u8) -> Fingerprint {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&[salt]);
    hasher.update(&i.to_le_bytes());
    Fingerprint(*hasher.finalize().as_bytes())
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn lookups(index: &FingerprintIndex, n: u64, probes: u64) -> (f64, f64) {
    // Hits: fingerprints in the index, in a scattered order; misses: others.
    let start = Instant::now();
    let mut found = 0usize;
    for i in 0..probes {
        let f = fingerprint(i.wrapping_mul(2_654_435_761) % n, 0);
        found += index.sources_of(black_box(&f)).len();
    }
    let hit = start.elapsed().as_nanos() as f64 / probes as f64;
    assert_eq!(found as u64, probes);
    let start = Instant::now();
    for i in 0..probes {
        let f = fingerprint(i, 1);
        found += index.sources_of(black_box(&f)).len();
    }
    let miss = start.elapsed().as_nanos() as f64 / probes as f64;
    assert_eq!(found as u64, probes);
    (hit, miss)
}

fn main() {
    let max: u64 = std::env::var("PROVGUARD_BENCH_MAX")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let probes = 1_000_000;
    // The hashing of a probe's fingerprint is part of each lookup's time; measure it alone.
    let start = Instant::now();
    for i in 0..probes {
        black_box(fingerprint(i, 2));
    }
    let hashing = start.elapsed().as_nanos() as f64 / probes as f64;
    println!("hashing a probe fingerprint alone: {hashing:.0} ns");
    println!(
        "{:>12}  {:>10}  {:>14}  {:>14}  {:>15}  {:>15}",
        "fingerprints",
        "build s",
        "hit ns/lookup",
        "miss ns/lookup",
        "index bytes",
        "bytes/million"
    );
    for n in [1_000_000u64, 3_000_000, 10_000_000, 30_000_000]
        .into_iter()
        .filter(|&n| n <= max)
    {
        let triples: Vec<_> = (0..n)
            .map(|i| (key(&fingerprint(i, 0)), (i % 5) as u32, 0))
            .collect();
        let start = Instant::now();
        let index = FingerprintIndex::build(triples);
        let build = start.elapsed().as_secs_f64();
        let (hit, miss) = lookups(&index, n, probes);
        let bytes = index.heap_bytes();
        println!(
            "{n:>12}  {build:>10.2}  {:>14.0}  {:>14.0}  {bytes:>15}  {:>15.0}",
            hit - hashing,
            miss - hashing,
            bytes as f64 / (n as f64 / 1e6)
        );
        drop(index);
    }

    // End to end: register a million texts, reopen the ledger (Parquet to index), look up.
    let dir = tempfile::tempdir().unwrap();
    let million = 1_000_000u64;
    let mut ledger = Ledger::open_or_new(dir.path()).unwrap();
    let source = SourceEntry {
        name: "synthetic".to_owned(),
        origin: Origin::Synthetic,
        curated: false,
    };
    let texts = (0..million).map(|i| TextEntry {
        field: "output".to_owned(),
        fingerprint: fingerprint(i, 0),
        text: String::new(),
    });
    let start = Instant::now();
    ledger
        .register(&source, vec![], texts, &FilterOptions::default())
        .unwrap();
    let register = start.elapsed().as_secs_f64();
    drop(ledger);
    let start = Instant::now();
    let ledger = Ledger::open(dir.path()).unwrap();
    let open = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut found = 0;
    for i in 0..probes {
        found += ledger.sources_of(&fingerprint(i, 0)).len();
    }
    let lookup = start.elapsed().as_nanos() as f64 / probes as f64 - hashing;
    assert_eq!(found as u64, probes);
    let stats = ledger.stats().unwrap();
    println!(
        "ledger of {million} entries: register {register:.2} s, open {open:.2} s, lookup \
         {lookup:.0} ns, {} bytes on disk ({:.1} bytes per entry), index {} bytes",
        stats.size_on_disk,
        stats.size_on_disk as f64 / million as f64,
        stats.index_bytes
    );
    if let Some(peak) = peak_rss_kib() {
        println!("peak resident memory of the benchmark: {} MiB", peak / 1024);
    }
}
