//! An ingestion job with the batch API: read a dataset as Arrow record batches, tag every
//! row's lineage, route the rows by it, write them as Parquet with the lineage columns, and let
//! the policy judge the rows that would train the model.
//!
//! Rows of one known source (human or synthetic) go to `kept.parquet`; rows of unknown or
//! ambiguous lineage go to `review.parquet` for a person to look at. The policy judges the
//! kept rows; when it blocks them, `kept.parquet` is named `blocked.parquet` instead, so that
//! no later step trains on it by mistake.
//!
//! ```sh
//! cargo run -p provguard --example ingest_job [-- DATASET.jsonl OUT_DIR]
//! ```
//!
//! By default it registers the example sources in a temporary ledger and tags
//! `examples/data/train/part-0.jsonl` (Alpaca records: `instruction`, `input`, `output`) into
//! a temporary folder. `cargo test -p provguard --example ingest_job` runs its test.
#![expect(
    clippy::print_stdout,
    reason = "an example reports to the person running it"
)]

use std::error::Error;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{AsArray, BooleanArray};
use arrow::compute::{filter_record_batch, not};
use parquet::arrow::ArrowWriter;
use provguard::batch::{Columns, ORIGIN, Tagger};
use provguard::gate::{Level, Policy};
use provguard::ingest::ReadOptions;
use provguard::ingest::schema::SchemaOptions;
use provguard::ledger::{FilterOptions, Ledger, SourceEntry};
use provguard::lineage::Origin;

/// What the job did.
#[derive(Debug)]
struct Summary {
    /// Rows read.
    rows: usize,
    /// Rows of one known source.
    kept: usize,
    /// Rows of unknown or ambiguous lineage.
    review: usize,
    /// The policy's verdict on the kept rows.
    verdict: Level,
    /// Why, one line per reason.
    reasons: Vec<String>,
    /// `kept.parquet`, or `blocked.parquet` when the policy blocked the kept rows.
    kept_file: PathBuf,
    /// `review.parquet`.
    review_file: PathBuf,
}

fn main() -> Result<(), Box<dyn Error>> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut args = std::env::args_os().skip(1);
    let input = args.next().map_or_else(
        || repo.join("examples/data/train/part-0.jsonl"),
        PathBuf::from,
    );
    let scratch = std::env::temp_dir().join(format!("provguard-ingest-{}", std::process::id()));
    let out = args
        .next()
        .map_or_else(|| scratch.join("out"), PathBuf::from);

    let ledger = example_ledger(&scratch.join("ledger"), &repo.join("examples/data/sources"))?;
    let policy = Policy::load(&repo.join("policies/default.toml"))?;
    let summary = run(ledger, &input, &out, "my-assistant", &policy)?;

    println!(
        "{} rows: {} kept in {}, {} to review in {}",
        summary.rows,
        summary.kept,
        summary.kept_file.display(),
        summary.review,
        summary.review_file.display()
    );
    for reason in &summary.reasons {
        println!("{reason}");
    }
    println!("verdict on the kept rows: {}", summary.verdict.as_str());
    Ok(())
}

/// Registers the example sources, two models' answers and the experts' answers, in a new
/// ledger at `dir`.
fn example_ledger(dir: &Path, sources: &Path) -> Result<Ledger, Box<dyn Error>> {
    let mut ledger = Ledger::open_or_new(dir)?;
    for (name, origin, field) in [
        ("text-davinci-003", Origin::Synthetic, "response"),
        ("davinci-self-instruct", Origin::Synthetic, "response"),
        ("self-instruct-experts", Origin::Human, "instances[].output"),
    ] {
        let source = SourceEntry {
            name: name.to_owned(),
            origin,
            curated: false,
        };
        provguard::register(
            &mut ledger,
            &source,
            &[sources.join(format!("{name}.jsonl"))],
            &[field.to_owned()],
            &ReadOptions::default(),
            &SchemaOptions::default(),
            &FilterOptions::default(),
        )?;
    }
    Ok(ledger)
}

/// Tags the Alpaca records of the JSON Lines file `input` against `ledger`, routes them into
/// `out/kept.parquet` and `out/review.parquet`, and judges the kept rows as the data of model
/// `home` under `policy`.
fn run(
    ledger: Ledger,
    input: &Path,
    out: &Path,
    home: &str,
    policy: &Policy,
) -> Result<Summary, Box<dyn Error>> {
    std::fs::create_dir_all(out)?;

    // Read the file in batches of 64 rows, with the schema of its first records.
    let open = || File::open(input).map(BufReader::new);
    let (schema, _) = arrow::json::reader::infer_json_schema(open()?, Some(1000))?;
    let schema = Arc::new(schema);
    let reader = arrow::json::ReaderBuilder::new(Arc::clone(&schema))
        .with_batch_size(64)
        .build(open()?)?;

    // The response is `output`; the prompt side (`instruction`, `input`) is no evidence.
    let tagger = Tagger::new(
        ledger,
        Columns::text("output")
            .with_prompt("instruction")
            .with_prompt("input"),
    );
    let tagged_schema = tagger.output_schema(&schema);
    let partial = out.join("kept.parquet.partial");
    let review_file = out.join("review.parquet");
    let mut kept = ArrowWriter::try_new(File::create(&partial)?, Arc::clone(&tagged_schema), None)?;
    let mut review = ArrowWriter::try_new(File::create(&review_file)?, tagged_schema, None)?;

    // Tag each batch, split it by origin, and add up the rows that are kept.
    let mut tally = tagger.tally();
    let (mut rows, mut kept_rows) = (0, 0);
    for batch in reader {
        let tagged = tagger.tag(&batch?)?;
        let origin = tagged
            .column_by_name(ORIGIN)
            .ok_or("the tagger wrote no origin")?
            .as_string::<i32>();
        let known: BooleanArray = origin
            .iter()
            .map(|o| Some(matches!(o, Some("human" | "synthetic"))))
            .collect();
        let to_keep = filter_record_batch(&tagged, &known)?;
        tally.add(&to_keep)?;
        kept.write(&to_keep)?;
        review.write(&filter_record_batch(&tagged, &not(&known)?)?)?;
        rows += tagged.num_rows();
        kept_rows += to_keep.num_rows();
    }
    kept.close()?;
    review.close()?;

    // The policy judges what would train the model; blocked rows keep a name that says so.
    let judgement = tally.verdict(home, policy)?;
    let verdict = judgement.verdict.level;
    let kept_file = out.join(if verdict == Level::Block {
        "blocked.parquet"
    } else {
        "kept.parquet"
    });
    std::fs::rename(&partial, &kept_file)?;
    Ok(Summary {
        rows,
        kept: kept_rows,
        review: rows - kept_rows,
        verdict,
        reasons: judgement
            .verdict
            .reasons
            .iter()
            .map(|r| format!("{}: {}", r.level.as_str(), r.message))
            .collect(),
        kept_file,
        review_file,
    })
}

/// Every row of a Parquet file.
#[cfg(test)]
fn read_parquet(path: &Path) -> Vec<arrow::array::RecordBatch> {
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        File::open(path).unwrap(),
    )
    .unwrap()
    .build()
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, RecordBatch};
    use provguard::Scan;

    use super::*;

    #[test]
    fn the_job_routes_every_row_once_by_lineage_and_judges_the_kept_rows() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = tempfile::tempdir().unwrap();
        let input = repo.join("examples/data/train/part-0.jsonl");
        let sources = repo.join("examples/data/sources");
        let ledger = example_ledger(&dir.path().join("ledger"), &sources).unwrap();
        let policy = Policy::default();
        let out = dir.path().join("out");
        let summary = run(ledger, &input, &out, "home", &policy).unwrap();

        // Every record of the file is written once, with the lineage columns.
        let lines = std::fs::read_to_string(&input).unwrap();
        let records = lines.lines().filter(|l| !l.trim().is_empty()).count();
        assert_eq!(summary.rows, records);
        let kept = read_parquet(&summary.kept_file);
        let review = read_parquet(&summary.review_file);
        let origins = |batches: &[RecordBatch]| -> Vec<String> {
            batches
                .iter()
                .flat_map(|b| {
                    let o = b.column_by_name(ORIGIN).unwrap().as_string::<i32>();
                    (0..o.len())
                        .map(|i| o.value(i).to_owned())
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let (kept_origins, review_origins) = (origins(&kept), origins(&review));
        assert_eq!(kept_origins.len(), summary.kept);
        assert_eq!(kept_origins.len() + review_origins.len(), records);
        assert!(
            kept_origins
                .iter()
                .all(|o| o == "human" || o == "synthetic")
        );
        assert!(
            review_origins
                .iter()
                .all(|o| o == "unknown" || o == "ambiguous")
        );
        assert!(kept[0].column_by_name("instruction").is_some());
        assert!(!out.join("kept.parquet.partial").exists());

        // The scan of the same file counts as many rows of one known source.
        let scan_ledger = Ledger::open(&dir.path().join("ledger")).unwrap();
        let report = Scan::new("home", policy.clone())
            .run(&scan_ledger, std::slice::from_ref(&input))
            .unwrap();
        let by_origin = &report.composition.by_origin;
        let known = by_origin["human"].records + by_origin["synthetic"].records;
        assert_eq!(summary.kept as u64, known);
        assert!(summary.kept > 0 && summary.review > 0);

        // The verdict is the one the kept rows, read back from Parquet, are given.
        let tagger = Tagger::new(scan_ledger, Columns::text("output"));
        let mut tally = tagger.tally();
        for batch in &kept {
            tally.add(batch).unwrap();
        }
        let judgement = tally.verdict("home", &policy).unwrap();
        assert_eq!(judgement.verdict.level, summary.verdict);
        let blocked = summary.verdict == Level::Block;
        assert_eq!(
            summary.kept_file.file_name().unwrap() == "blocked.parquet",
            blocked
        );
    }
}
