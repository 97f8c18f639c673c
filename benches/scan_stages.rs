//! Throughput of each hot stage of the scan, and of the floor the machine sets.
//!
//! `cargo bench -p provguard-bench --bench scan_stages` (release, one thread). The input is a
//! generated corpus (`provguard_bench::Generator`, seed 42) of `PROVGUARD_BENCH_MB` megabytes
//! (default 20), and the ledger registers the shared corpus's five models (synthetic) and two
//! human sets, as `benches/peers.sh` does. Every stage runs on one core, so its figures are
//! per core. Criterion prints its own statistics (MB/s); the table at the end gives each
//! stage's best of three runs in MB/s and records/s, and as a share of the floor: read the
//! file, parse each line as JSON and hash each line with blake3, which any scan must at least
//! do.
#![expect(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::hint::black_box;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use provguard::gate::Policy;
use provguard::ledger::{FilterOptions, Ledger, SourceEntry};
use provguard::lineage::{Fingerprint, Origin, Shingler, attribute_texts, normalise};
use provguard::{Scan, register};
use provguard_bench::{Corpus, Generator};
use provguard_ingest::schema::{self, SchemaOptions};
use provguard_ingest::{Event, ReadOptions};

/// The shared corpus, beside the repository.
fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// The generated input, its response texts, and a ledger of the shared corpus.
struct Fixture {
    _dir: tempfile::TempDir,
    file: PathBuf,
    bytes: u64,
    records: u64,
    texts: Vec<String>,
    ledger: Ledger,
}

fn fixture() -> Fixture {
    let mb: u64 = std::env::var("PROVGUARD_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let data = data_dir();
    let corpus = Corpus::load(&data).expect("the shared corpus in ../shared/data");
    let file = dir.path().join("input.jsonl");
    let mut out = std::io::BufWriter::new(fs_err::File::create(&file).expect("input file"));
    let (bytes, records) = Generator::new(&corpus, 42)
        .write(&mut out, mb * 1_000_000)
        .expect("generated input");
    drop(out);

    let texts = events(&file)
        .filter_map(|v| {
            let record = v.as_object()?;
            schema::extract(record, &SchemaOptions::default())
                .ok()
                .map(|s| s.responses.into_iter().map(|(_, t)| t))
        })
        .flatten()
        .collect();

    let ledger_dir = dir.path().join("ledger");
    let mut ledger = Ledger::open_or_new(&ledger_dir).expect("a new ledger");
    let sources: [(&str, Origin, &str, &[&str]); 7] = [
        ("gpt4", Origin::Synthetic, "models/gpt4.jsonl", &[]),
        ("claude-2", Origin::Synthetic, "models/claude-2.jsonl", &[]),
        (
            "llama-3-70b",
            Origin::Synthetic,
            "models/Meta-Llama-3-70B-Instruct.jsonl",
            &[],
        ),
        (
            "mixtral",
            Origin::Synthetic,
            "models/Mixtral-8x7B-Instruct-v0.1.jsonl",
            &[],
        ),
        (
            "davinci-003",
            Origin::Synthetic,
            "models/text_davinci_003.jsonl",
            &[],
        ),
        (
            "experts",
            Origin::Human,
            "human/self_instruct_user_oriented.jsonl",
            &["instances[].output"],
        ),
        (
            "coedit-src",
            Origin::Human,
            "human/coedit_paraphrase.jsonl",
            &["src"],
        ),
    ];
    for (name, origin, path, fields) in sources {
        let source = SourceEntry {
            name: name.to_owned(),
            origin,
            curated: false,
        };
        let fields: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        register(
            &mut ledger,
            &source,
            &[data.join(path)],
            &fields,
            &ReadOptions::default(),
            &SchemaOptions::default(),
            &FilterOptions::default(),
        )
        .expect("registering the shared corpus");
    }
    let ledger = Ledger::open(&ledger_dir).expect("the ledger just written");
    Fixture {
        _dir: dir,
        file,
        bytes,
        records,
        texts,
        ledger,
    }
}

/// The records of a JSON Lines file as provguard reads them.
fn events(file: &Path) -> impl Iterator<Item = serde_json::Value> {
    provguard_ingest::open(file, &ReadOptions::default())
        .expect("the generated input opens")
        .filter_map(|e| match e {
            Event::Record(r) => Some(serde_json::Value::Object(r.value)),
            _ => None,
        })
}

/// One line of the summary table.
struct Row {
    stage: &'static str,
    seconds: f64,
    bytes: u64,
    records: u64,
}

/// Best of three runs of `f`.
fn best_of_three(mut f: impl FnMut()) -> f64 {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

#[expect(
    clippy::too_many_lines,
    reason = "one call per stage, in the order of the table"
)]
fn main() {
    let fx = fixture();
    let text_bytes: u64 = fx.texts.iter().map(|t| t.len() as u64).sum();
    let n_texts = fx.texts.len() as u64;
    let normalised: Vec<String> = fx
        .texts
        .iter()
        .map(|t| normalise(t).text.into_owned())
        .collect();
    let shingler = Shingler::default();
    let shingles: Vec<Vec<u64>> = normalised
        .iter()
        .map(|t| shingler.shingles_of_normalised(t))
        .collect();
    let near = fx.ledger.near_index();
    let ascii: Vec<&String> = fx.texts.iter().filter(|t| t.is_ascii()).collect();
    let ascii_bytes: u64 = ascii.iter().map(|t| t.len() as u64).sum();

    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    let mut rows: Vec<Row> = Vec::new();

    // Each stage: a criterion benchmark (MB/s with its statistics), then a row of the table.
    let mut stage = |name: &'static str, bytes: u64, records: u64, f: &mut dyn FnMut()| {
        let mut group = criterion.benchmark_group("scan");
        group.throughput(Throughput::Bytes(bytes));
        group.bench_function(name, |b| b.iter(&mut *f));
        group.finish();
        rows.push(Row {
            stage: name,
            seconds: best_of_three(&mut *f),
            bytes,
            records,
        });
    };

    stage(
        "floor: read + JSON parse + blake3",
        fx.bytes,
        fx.records,
        &mut || {
            let reader = BufReader::with_capacity(1 << 20, fs_err::File::open(&fx.file).unwrap());
            for line in reader.split(b'\n') {
                let line = line.unwrap();
                let value: serde_json::Value = serde_json::from_slice(&line).unwrap();
                black_box((value, blake3::hash(&line)));
            }
        },
    );
    stage(
        "framing + JSON parse (ingest)",
        fx.bytes,
        fx.records,
        &mut || {
            black_box(events(&fx.file).count());
        },
    );
    stage("normalise (all texts)", text_bytes, n_texts, &mut || {
        for t in &fx.texts {
            black_box(normalise(t));
        }
    });
    stage(
        "normalise (ASCII texts, fast path)",
        ascii_bytes,
        ascii.len() as u64,
        &mut || {
            for t in &ascii {
                black_box(normalise(t));
            }
        },
    );
    stage(
        "exact fingerprint (blake3, normalised)",
        text_bytes,
        n_texts,
        &mut || {
            for t in &normalised {
                black_box(Fingerprint::of_normalised(t));
            }
        },
    );
    stage(
        "shingling (tokens + keyed blake3)",
        text_bytes,
        n_texts,
        &mut || {
            for t in &normalised {
                black_box(shingler.shingles_of_normalised(t));
            }
        },
    );
    stage("Bloom lookup (7 sources)", text_bytes, n_texts, &mut || {
        for s in &shingles {
            black_box(near.lookup_shingles(s));
        }
    });
    stage(
        "attribution (exact, then near)",
        text_bytes,
        n_texts,
        &mut || {
            for t in &fx.texts {
                black_box(attribute_texts(&[t.as_str()], &[], &fx.ledger, near));
            }
        },
    );
    let mut scan = Scan::new("bench-model", Policy::default());
    scan.threads = Some(1);
    stage(
        "whole scan (exact + near lineage)",
        fx.bytes,
        fx.records,
        &mut || {
            black_box(
                scan.run(&fx.ledger, std::slice::from_ref(&fx.file))
                    .unwrap(),
            );
        },
    );
    // Every core: one thread reads and parses while the others tag.
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let mut parallel = Scan::new("bench-model", Policy::default());
    parallel.threads = Some(cores);
    stage("whole scan, every core", fx.bytes, fx.records, &mut || {
        black_box(
            parallel
                .run(&fx.ledger, std::slice::from_ref(&fx.file))
                .unwrap(),
        );
    });

    let shingle_count: usize = shingles.iter().map(Vec::len).sum();
    let sizes = Sizes {
        text_bytes,
        n_texts,
        ascii_bytes,
        shingle_count,
    };
    print_table(&fx, &sizes, &rows);
    criterion.final_summary();
}

/// The sizes of the input the table's header states.
struct Sizes {
    text_bytes: u64,
    n_texts: u64,
    ascii_bytes: u64,
    shingle_count: usize,
}

/// The summary table: every stage in MB/s, records/s and as a share of the floor (row 0).
fn print_table(fx: &Fixture, sizes: &Sizes, rows: &[Row]) {
    let floor = rows[0].bytes as f64 / rows[0].seconds;
    println!();
    println!(
        "input: {:.1} MB, {} records, {} response texts ({:.0}% of their bytes ASCII), \
         {} shingles; one core",
        fx.bytes as f64 / 1e6,
        fx.records,
        sizes.n_texts,
        100.0 * sizes.ascii_bytes as f64 / sizes.text_bytes as f64,
        sizes.shingle_count
    );
    println!(
        "ledger: {} fingerprints, {} bytes of fingerprint index ({:.1} bytes per fingerprint)",
        fx.ledger.fingerprints(),
        fx.ledger.index_bytes(),
        fx.ledger.index_bytes() as f64 / fx.ledger.fingerprints().max(1) as f64
    );
    let (filter_bytes, shingles_held) = fx.ledger.near_index().footprint();
    println!(
        "near index: {filter_bytes} bytes of Bloom filters for {shingles_held} registered \
         shingles ({:.2} bytes per shingle)",
        filter_bytes as f64 / shingles_held.max(1) as f64
    );
    let whole = |name: &str| rows.iter().find(|r| r.stage == name).map(|r| r.seconds);
    if let (Some(one), Some(every)) = (
        whole("whole scan (exact + near lineage)"),
        whole("whole scan, every core"),
    ) {
        println!(
            "whole scan on {} cores: {:.2}x one core",
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            one / every
        );
    }
    println!();
    println!("| stage | MB/s | records/s | of floor |");
    println!("|---|---:|---:|---:|");
    for r in rows {
        let rate = r.bytes as f64 / r.seconds;
        println!(
            "| {} | {:.1} | {:.0} | {:.0}% |",
            r.stage,
            rate / 1e6,
            r.records as f64 / r.seconds,
            100.0 * rate / floor
        );
    }
}
