//! Near-copy lineage end to end: edited model outputs found by their shingles, the Bloom
//! filters in the ledger, and the per-record results file.

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::{Array as _, AsArray as _};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Value, json};

use crate::support::{
    data, num, permissive_policy, provguard, read_jsonl, register, scan_json, write_jsonl,
};

/// Words that replace others: none of them is rare enough to be a fingerprint of its own.
const REPLACEMENTS: [&str; 12] = [
    "banana", "window", "quietly", "seven", "purple", "engine", "across", "river", "honest",
    "paper", "later", "garden",
];

/// A small seeded generator (xorshift64*), so the edits are the same on every run.
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
}

/// The first half of the words.
fn truncate_half(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    words[..words.len() / 2].join(" ")
}

/// A tenth of the words (rounded up, at distinct places) replaced.
fn replace_tenth(text: &str, rng: &mut Rng) -> String {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    let count = words.len().div_ceil(10);
    let mut replaced = 0;
    let mut done = vec![false; words.len()];
    while replaced < count {
        let at = rng.below(words.len());
        if !done[at] {
            done[at] = true;
            words[at] = REPLACEMENTS[rng.below(REPLACEMENTS.len())];
            replaced += 1;
        }
    }
    words.join(" ")
}

fn alpaca(instruction: &str, output: &str) -> Value {
    json!({"instruction": instruction, "input": "", "output": output})
}

fn register_gpt4_and_experts(ledger: &Path) {
    register(ledger, "gpt4", "synthetic", &[], &data("models/gpt4.jsonl"));
    register(
        ledger,
        "experts",
        "human",
        &["instances[].output"],
        &data("human/self_instruct_user_oriented.jsonl"),
    );
}

fn filters(ledger: &Path) -> Vec<Value> {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(ledger.join("manifest.json")).unwrap())
            .unwrap();
    manifest["filters"].as_array().unwrap().clone()
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one scenario, told in order: setup, dataset, checks"
)]
fn edited_gpt4_answers_are_found_near_and_mixtral_stays_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    register_gpt4_and_experts(&ledger);

    // One filter per registration, listed with its settings.
    let listed = filters(&ledger);
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["source"], "gpt4");
    assert_eq!(listed[0]["file"], "filters/000001.bloom");
    assert_eq!(listed[0]["settings"]["scheme"], "provguard-shingle/2");
    assert_eq!(listed[0]["settings"]["n"], 4);
    assert!((num(&listed[0]["settings"]["target_false_positive_rate"]) - 0.001).abs() < 1e-12);

    // Registering the same texts again adds no segment and no filter.
    let again = provguard(&ledger)
        .args(["register", "--source", "gpt4", "--origin", "synthetic"])
        .arg(data("models/gpt4.jsonl"))
        .output()
        .unwrap();
    assert!(again.status.success());
    let stdout = String::from_utf8(again.stdout).unwrap();
    assert!(stdout.contains("nothing committed"), "{stdout}");
    assert_eq!(filters(&ledger).len(), 2);
    assert!(!ledger.join("filters/000003.bloom").exists());

    // The dataset: gpt4 answers of at least 40 words, edited three ways, and the answers of
    // a model nobody registered.
    let gpt4: Vec<(String, String)> = read_jsonl(&data("models/gpt4.jsonl"))
        .iter()
        .map(|r| {
            let field = |k: &str| r[k].as_str().unwrap().to_owned();
            (field("instruction"), field("output"))
        })
        .filter(|(_, o)| o.split_whitespace().count() >= 40)
        .collect();
    assert!(gpt4.len() > 200, "{}", gpt4.len());
    let mut rng = Rng(0x5EED_0005);
    let set = dir.path().join("set");
    std::fs::create_dir(&set).unwrap();
    let edited = |edit: &mut dyn FnMut(&str) -> String| -> Vec<Value> {
        gpt4.iter().map(|(i, o)| alpaca(i, &edit(o))).collect()
    };
    write_jsonl(&set.join("half.jsonl"), &edited(&mut truncate_half));
    write_jsonl(
        &set.join("replaced.jsonl"),
        &edited(&mut |o| replace_tenth(o, &mut rng)),
    );
    write_jsonl(
        &set.join("prefixed.jsonl"),
        &edited(&mut |o| format!("Sure! {o}")),
    );
    let mixtral: Vec<Value> = read_jsonl(&data("models/Mixtral-8x7B-Instruct-v0.1.jsonl"))
        .iter()
        .map(|r| {
            alpaca(
                r["instruction"].as_str().unwrap(),
                r["output"].as_str().unwrap(),
            )
        })
        .collect();
    write_jsonl(&set.join("mixtral.jsonl"), &mixtral);

    let policy = permissive_policy(dir.path());
    let records = dir.path().join("records.jsonl");
    let (code, report, stderr) = scan_json(
        &ledger,
        &[&set],
        &[
            "--policy",
            policy.to_str().unwrap(),
            "--records",
            records.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{stderr}");

    // The records file has one line per admitted record, and its kinds add up to the report's.
    let lines = read_jsonl(&records);
    assert_eq!(Some(lines.len() as u64), report["records"].as_u64());
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for line in &lines {
        *kinds
            .entry(line["match"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let by_match = &report["composition"]["by_match"];
    for kind in ["exact", "near", "spliced", "none"] {
        assert_eq!(
            Some(kinds.get(kind).copied().unwrap_or(0)),
            by_match[kind].as_u64(),
            "{kind}: {by_match}"
        );
    }
    let confidence = num(&report["composition"]["near_mean_confidence"]);
    assert!(confidence > 0.5 && confidence <= 1.0, "{confidence}");

    // Recall per edit kind: synthetic, from gpt4 alone, matched near.
    let mut by_file: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for line in &lines {
        let file = Path::new(line["file"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let found = line["lineage"]["origin"] == "synthetic"
            && line["lineage"]["sources"] == json!(["gpt4"]);
        let counts = by_file.entry(file).or_default();
        counts.0 += 1;
        if file_is_gpt4(line) {
            counts.1 += usize::from(found && line["match"] == "near");
        } else {
            counts.1 += usize::from(line["lineage"]["origin"] != "unknown");
        }
        assert_eq!(line["response_fingerprints"].as_array().unwrap().len(), 1);
        let hex = line["response_fingerprints"][0].as_str().unwrap();
        assert_eq!(hex.len(), 64, "{hex}");
    }
    let rate = |file: &str| {
        let (total, hits) = by_file[file];
        hits as f64 / total as f64
    };
    assert!(rate("half.jsonl") >= 0.98, "{by_file:?}");
    assert!(rate("replaced.jsonl") >= 0.95, "{by_file:?}");
    assert!(rate("prefixed.jsonl") >= 0.98, "{by_file:?}");
    assert!(rate("mixtral.jsonl") < 0.03, "{by_file:?}");
}

fn file_is_gpt4(line: &Value) -> bool {
    !line["file"].as_str().unwrap().ends_with("mixtral.jsonl")
}

#[test]
fn a_damaged_filter_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    register(
        &ledger,
        "gpt4",
        "synthetic",
        &[],
        &data("models/gpt4.jsonl"),
    );
    let filter = ledger.join("filters/000001.bloom");
    let mut bytes = std::fs::read(&filter).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(&filter, bytes).unwrap();

    let set = dir.path().join("set.jsonl");
    write_jsonl(&set, &[alpaca("q", "An answer.")]);
    let out = provguard(&ledger)
        .arg("scan")
        .arg(&set)
        .args(["--home", "m"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("000001.bloom"), "{stderr}");
    assert!(stderr.contains("damaged"), "{stderr}");
}

#[test]
fn records_as_parquet_have_a_row_per_admitted_record_and_the_reports_match_counts() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    register(
        &ledger,
        "gpt4",
        "synthetic",
        &[],
        &data("models/gpt4.jsonl"),
    );

    // Exact copies repeated past one Arrow batch, half-truncated copies (near) and the answers
    // of a model nobody registered (none).
    let gpt4 = alpaca_records(&data("models/gpt4.jsonl"));
    let set = dir.path().join("set");
    std::fs::create_dir(&set).unwrap();
    let exact: Vec<Value> = gpt4.iter().cycle().take(4500).cloned().collect();
    write_jsonl(&set.join("exact.jsonl"), &exact);
    let half: Vec<Value> = gpt4
        .iter()
        .filter(|r| r["output"].as_str().unwrap().split_whitespace().count() >= 40)
        .map(|r| {
            alpaca(
                r["instruction"].as_str().unwrap(),
                &truncate_half(r["output"].as_str().unwrap()),
            )
        })
        .collect();
    write_jsonl(&set.join("half.jsonl"), &half);
    write_jsonl(
        &set.join("mixtral.jsonl"),
        &alpaca_records(&data("models/Mixtral-8x7B-Instruct-v0.1.jsonl")),
    );

    let policy = permissive_policy(dir.path());
    let records = dir.path().join("out.parquet");
    let (code, report, stderr) = scan_json(
        &ledger,
        &[&set],
        &[
            "--policy",
            policy.to_str().unwrap(),
            "--records",
            records.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{stderr}");

    // Read the file back: one row per admitted record, match kinds as the report counts them.
    let file = std::fs::File::open(&records).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut rows = 0u64;
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for batch in reader {
        let batch = batch.unwrap();
        rows += batch.num_rows() as u64;
        let kind = batch.column_by_name("match").unwrap().as_string::<i32>();
        for k in kind {
            *kinds.entry(k.unwrap().to_owned()).or_default() += 1;
        }
        let lines = batch.column_by_name("line").unwrap();
        assert_eq!(
            lines.null_count(),
            0,
            "every record here comes from JSON Lines"
        );
        let fingerprints = batch
            .column_by_name("response_fingerprints")
            .unwrap()
            .as_list::<i32>();
        assert_eq!(fingerprints.value(0).len(), 1);
    }
    assert!(rows > 4096, "{rows}");
    assert_eq!(Some(rows), report["records"].as_u64());
    let by_match = &report["composition"]["by_match"];
    for kind in ["exact", "near", "spliced", "none"] {
        assert_eq!(
            Some(kinds.get(kind).copied().unwrap_or(0)),
            by_match[kind].as_u64(),
            "{kind}: {by_match}"
        );
    }
    assert!(
        kinds["exact"] >= 4500 && kinds["near"] > 0 && kinds["none"] > 0,
        "{kinds:?}"
    );

    // The text summary counts the same kinds on one line.
    let out = provguard(&ledger)
        .arg("scan")
        .arg(&set)
        .args(["--home", "m", "--policy", policy.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let expected = format!(
        "  matched: exact {}, near {}, spliced {}, none {}",
        by_match["exact"], by_match["near"], by_match["spliced"], by_match["none"]
    );
    assert!(stdout.contains(&expected), "{stdout}");
    assert!(stdout.contains("mean near confidence"), "{stdout}");
}

/// The instruction and output of each record of a model's answers file, as Alpaca records.
fn alpaca_records(path: &Path) -> Vec<Value> {
    read_jsonl(path)
        .iter()
        .map(|r| {
            alpaca(
                r["instruction"].as_str().unwrap(),
                r["output"].as_str().unwrap(),
            )
        })
        .collect()
}
