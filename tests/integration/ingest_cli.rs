//! The reading stage through the real binary: admitted and quarantined records written aside
//! and adding up to the input, standard input, folder globs and hub layouts, forced schemas
//! and field maps, and the record size limit.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::ipc::reader::FileReader;
use arrow::ipc::writer::FileWriter;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Value, json};

use crate::support::{permissive_policy, provguard, scan_json};

/// A ledger with one human source registered, and a permissive policy, in `dir`.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let ledger = dir.join("ledger");
    let seed = dir.join("seed.jsonl");
    std::fs::write(&seed, "{\"text\": \"a text people wrote\"}\n").unwrap();
    crate::support::register(&ledger, "people", "human", &[], &seed);
    (ledger, permissive_policy(dir))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// The lines of a file that are not blank, as a multiset.
fn line_bag(bytes: &[u8]) -> BTreeMap<Vec<u8>, usize> {
    let mut bag = BTreeMap::new();
    for line in bytes.split(|b| *b == b'\n') {
        let body = line.strip_suffix(b"\r").unwrap_or(line);
        if !body.iter().all(u8::is_ascii_whitespace) {
            *bag.entry(line.to_vec()).or_default() += 1;
        }
    }
    bag
}

fn merged(a: &BTreeMap<Vec<u8>, usize>, b: &BTreeMap<Vec<u8>, usize>) -> BTreeMap<Vec<u8>, usize> {
    let mut out = a.clone();
    for (line, n) in b {
        *out.entry(line.clone()).or_default() += n;
    }
    out
}

fn read_or_empty(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

/// Every kind of bad line beside good ones, CRLF and blank lines included.
const MIXED: &[u8] = b"{\"instruction\": \"a\", \"output\": \"first\"}\r\n\
\n\
{\"instruction\": \"b\", \"output\": 42}\n\
{\"instruction\": \"c\", \"output\": \"third\"\n\
\xEF\xBB\xBF{\"text\": \"bom\"}\n\
{\"text\": \"caf\xE9\"}\n\
{\"text\": \"a text people wrote\"}\n\
[1, 2]\n\
{\"text\": \"a text people wrote\"}\n\
{\"text\": \"no newline at the end\"}";

#[test]
fn admitted_and_quarantined_lines_reproduce_every_input_line() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, policy) = setup(dir.path());
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::write(data.join("mixed.jsonl"), MIXED).unwrap();
    std::fs::write(data.join("sub/mixed.jsonl.gz"), gzip(MIXED)).unwrap();
    // A JSON array saved as JSON Lines: one file-level rejection, the file copied as it is.
    let array = b"[\n  {\"text\": \"x\"},\n  {\"text\": \"y\"}\n]\n";
    std::fs::write(data.join("array.jsonl"), array).unwrap();
    // A JSON array and a Parquet file, each with admitted and rejected records.
    std::fs::write(data.join("elements.json"), ARRAY).unwrap();
    write_parquet(&data.join("rows.parquet"));
    // The same rows as a gzip-compressed Arrow IPC file.
    std::fs::write(data.join("rows.arrow.gz"), gzip(&arrow_ipc())).unwrap();
    let admit = dir.path().join("admitted");
    let quarantine = dir.path().join("quarantine");

    let (code, report, stderr) = scan_json(
        &ledger,
        &[&data],
        &[
            "--policy",
            policy.to_str().unwrap(),
            "--admit",
            admit.to_str().unwrap(),
            "--quarantine",
            quarantine.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    let a = &report["accounting"];
    // Per MIXED: 4 admitted (lines 1, 7, 9, 10), 5 rejected (3, 4, 5, 6, 8); twice; plus the
    // array file; plus 2 admitted and 3 rejected elements of ARRAY, and 2 admitted and 2
    // rejected rows of the Parquet file and of the Arrow IPC file each.
    assert_eq!(a["admitted"], json!(14), "{a}");
    assert_eq!(a["rejected"], json!(18), "{a}");
    assert_eq!(a["quarantined"], json!(18), "{a}");

    let mirrored = |root: &Path, name: &str| root.join(data.strip_prefix("/").unwrap()).join(name);
    for (input, output) in [
        ("mixed.jsonl", "mixed.jsonl"),
        ("sub/mixed.jsonl.gz", "sub/mixed.jsonl"),
    ] {
        let admitted = read_or_empty(&mirrored(&admit, output));
        let quarantined = read_or_empty(&mirrored(&quarantine, output));
        assert_eq!(line_bag(&admitted).values().sum::<usize>(), 4, "{input}");
        assert_eq!(line_bag(&quarantined).values().sum::<usize>(), 5, "{input}");
        // Byte for byte: the CRLF line keeps its `\r`, the bad bytes stay bad.
        assert_eq!(
            merged(&line_bag(&admitted), &line_bag(&quarantined)),
            line_bag(MIXED),
            "{input}"
        );

        // One reason per rejection, pointing at the input line and the quarantine line.
        let reasons =
            std::fs::read_to_string(mirrored(&quarantine, &format!("{output}.reasons.jsonl")))
                .unwrap();
        let reasons: Vec<Value> = reasons
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let lines: Vec<u64> = reasons
            .iter()
            .map(|r| r["line"].as_u64().unwrap())
            .collect();
        assert_eq!(lines, [3, 4, 5, 6, 8], "{input}");
        let quarantined_lines: Vec<&[u8]> = quarantined.split(|b| *b == b'\n').collect();
        let input_lines: Vec<&[u8]> = MIXED.split(|b| *b == b'\n').collect();
        for r in &reasons {
            let at = r["quarantined_line"].as_u64().unwrap() as usize;
            let line = r["line"].as_u64().unwrap() as usize;
            assert_eq!(quarantined_lines[at - 1], input_lines[line - 1], "{r}");
            assert!(!r["message"].as_str().unwrap().is_empty());
        }
        assert_eq!(reasons[0]["field"], json!("output"));
    }

    // The array file, rejected whole before any record, is copied byte for byte.
    assert_eq!(read_or_empty(&mirrored(&quarantine, "array.jsonl")), array);
    assert!(!mirrored(&admit, "array.jsonl").exists());

    elements_and_rows_round_trip(&data, &admit, &quarantine);
}

/// The JSON array, the Parquet file and the Arrow IPC file of the round-trip test come back
/// in their own formats.
fn elements_and_rows_round_trip(data: &Path, admit: &Path, quarantine: &Path) {
    let mirrored = |root: &Path, name: &str| root.join(data.strip_prefix("/").unwrap()).join(name);

    // The JSON array comes back as two JSON arrays of the same name whose elements together
    // are the input's elements.
    let elements = |root: &Path| -> Vec<Value> {
        serde_json::from_slice(&std::fs::read(mirrored(root, "elements.json")).unwrap()).unwrap()
    };
    let (admitted, quarantined) = (elements(admit), elements(quarantine));
    assert_eq!((admitted.len(), quarantined.len()), (2, 3));
    let input: Vec<Value> = serde_json::from_slice(ARRAY).unwrap();
    assert_eq!(bag([admitted, quarantined].concat()), bag(input));
    let reasons = reasons_of(&mirrored(quarantine, "elements.json.reasons.jsonl"));
    let at: Vec<(u64, u64)> = reasons
        .iter()
        .map(|r| {
            let at = r["quarantined_line"].as_u64().unwrap();
            (r["index"].as_u64().unwrap(), at)
        })
        .collect();
    assert_eq!(at, [(1, 1), (2, 2), (4, 3)]);

    // The Parquet file, and the compressed Arrow IPC file, come back as two files of their
    // own format, decompressed, with the input's schema, whose rows together are the input's.
    let formats: [(&str, &str, SchemaOf); 2] = [
        ("rows.parquet", "rows.parquet", parquet_schema_of),
        ("rows.arrow.gz", "rows.arrow", arrow_schema_of),
    ];
    for (input, output, schema_of) in formats {
        let rows = |root: &Path| {
            let path = mirrored(root, output);
            (values_of(&path), schema_of(&path))
        };
        let ((admitted, admitted_schema), (quarantined, quarantined_schema)) =
            (rows(admit), rows(quarantine));
        assert_eq!((admitted.len(), quarantined.len()), (2, 2), "{input}");
        assert_eq!(
            admitted_schema.fields(),
            parquet_schema().fields(),
            "{input}"
        );
        assert_eq!(
            quarantined_schema.fields(),
            parquet_schema().fields(),
            "{input}"
        );
        assert_eq!(
            bag([admitted, quarantined].concat()),
            bag(values_of(&data.join(input))),
            "{input}"
        );
        let reasons = reasons_of(&mirrored(quarantine, &format!("{output}.reasons.jsonl")));
        let at: Vec<(u64, u64)> = reasons
            .iter()
            .map(|r| {
                (
                    r["row"].as_u64().unwrap(),
                    r["quarantined_line"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(at, [(1, 1), (3, 2)], "{input}");
    }
}

/// Reads the Arrow schema of a written file.
type SchemaOf = fn(&Path) -> SchemaRef;

fn parquet_schema_of(path: &Path) -> SchemaRef {
    let file = std::fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .schema()
        .clone()
}

fn arrow_schema_of(path: &Path) -> SchemaRef {
    let file = std::fs::File::open(path).unwrap();
    FileReader::try_new(file, None).unwrap().schema()
}

/// A JSON array with admitted records and rejected elements of every JSON kind.
const ARRAY: &[u8] = br#"[
  {"text": "a text people wrote", "n": 1.5},
  {"instruction": "b", "output": 42},
  [1, 2],
  {"text": "unregistered", "tags": ["x", {"y": null}]},
  7
]"#;

fn parquet_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("text", DataType::Utf8, true),
        Field::new("n", DataType::Int64, false),
    ]))
}

/// Four rows; the two whose `text` is null have no response side and are rejected.
fn rows_batch() -> RecordBatch {
    RecordBatch::try_new(
        parquet_schema(),
        vec![
            Arc::new(StringArray::from(vec![
                Some("a text people wrote"),
                None,
                Some("unregistered"),
                None,
            ])),
            Arc::new(Int64Array::from(vec![1, 2, 3, 4])),
        ],
    )
    .unwrap()
}

fn write_parquet(path: &Path) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = ArrowWriter::try_new(file, parquet_schema(), None).unwrap();
    writer.write(&rows_batch()).unwrap();
    writer.close().unwrap();
}

/// The rows of [`rows_batch`] as an Arrow IPC file, in two batches.
fn arrow_ipc() -> Vec<u8> {
    let batch = rows_batch();
    let mut writer = FileWriter::try_new(Vec::new(), &parquet_schema()).unwrap();
    writer.write(&batch.slice(0, 2)).unwrap();
    writer.write(&batch.slice(2, 2)).unwrap();
    writer.finish().unwrap();
    writer.into_inner().unwrap()
}

/// The records of a file as provguard reads them.
fn values_of(path: &Path) -> Vec<Value> {
    provguard::ingest::open(path, &provguard::ingest::ReadOptions::default())
        .unwrap()
        .filter_map(|event| match event {
            provguard::ingest::Event::Record(record) => Some(Value::Object(record.value)),
            _ => None,
        })
        .collect()
}

/// Values as a multiset.
fn bag(values: Vec<Value>) -> BTreeMap<String, usize> {
    let mut bag = BTreeMap::new();
    for value in values {
        *bag.entry(value.to_string()).or_default() += 1;
    }
    bag
}

fn reasons_of(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn csv_rows_are_admitted_and_quarantined_as_csv() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, policy) = setup(dir.path());
    let input = dir.path().join("pairs.csv");
    std::fs::write(
        &input,
        b"instruction,output\nq1,\"a, with comma\"\nq2\nq3,\"multi\nline\"\nq4,\xFF\n",
    )
    .unwrap();
    let admit = dir.path().join("a");
    let quarantine = dir.path().join("q");
    let (_, report, stderr) = scan_json(
        &ledger,
        &[&input],
        &[
            "--policy",
            policy.to_str().unwrap(),
            "--admit",
            admit.to_str().unwrap(),
            "--quarantine",
            quarantine.to_str().unwrap(),
        ],
    );
    assert_eq!(report["accounting"]["admitted"], json!(2), "{stderr}");
    assert_eq!(report["accounting"]["quarantined"], json!(2));
    let errors = report["errors"].as_array().unwrap();
    let lines: Vec<u64> = errors.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [3, 6]);
    assert!(
        errors[1]["message"]
            .as_str()
            .unwrap()
            .contains("column `output`")
    );

    // The admitted file reads back as the same two records, header first.
    let name = input.strip_prefix("/").unwrap();
    let (_, again, _) = scan_json(
        &ledger,
        &[&admit.join(name)],
        &["--policy", policy.to_str().unwrap()],
    );
    assert_eq!(again["accounting"]["admitted"], json!(2));
    assert_eq!(again["accounting"]["rejected"], json!(0));
    let quarantined = std::fs::read(quarantine.join(name)).unwrap();
    assert!(
        quarantined.starts_with(b"instruction,output\nq2\n"),
        "{quarantined:?}"
    );
}

#[test]
fn standard_input_is_read_and_located_as_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, policy) = setup(dir.path());
    let out = provguard(&ledger)
        .args(["scan", "-", "--home", "h", "--format", "json", "--policy"])
        .arg(&policy)
        .write_stdin(gzip(
            b"{\"text\": \"a text people wrote\"}\n{\"text\": 1}\n",
        ))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["accounting"]["admitted"], json!(1));
    assert_eq!(
        report["composition"]["by_origin"]["human"]["records"],
        json!(1)
    );
    let error = &report["errors"][0];
    assert_eq!(
        (&error["file"], &error["line"]),
        (&json!("<stdin>"), &json!(2))
    );

    // CSV on standard input needs its format named.
    let out = provguard(&ledger)
        .args([
            "scan",
            "-",
            "--home",
            "h",
            "--format",
            "json",
            "--input-format",
            "tsv",
        ])
        .args(["--policy", policy.to_str().unwrap()])
        .write_stdin("prompt\tcompletion\nq\ta text people wrote\n")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["composition"]["by_schema"]["prompt-completion"],
        json!(1)
    );
}

#[test]
fn globs_and_hub_layouts_choose_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, policy) = setup(dir.path());
    let hub = dir.path().join("hub");
    let record = "{\"text\": \"a text people wrote\"}\n";
    for name in [
        "data/train-00000-of-00002.jsonl",
        "data/train-00001-of-00002.jsonl",
        "data/test-00000-of-00001.jsonl",
        "extra/train/more.jsonl",
        "README.md",
    ] {
        std::fs::create_dir_all(hub.join(name).parent().unwrap()).unwrap();
        std::fs::write(hub.join(name), record).unwrap();
    }
    let files = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["--policy", policy.to_str().unwrap()];
        args.extend_from_slice(extra);
        let (_, report, stderr) = scan_json(&ledger, &[&hub], &args);
        report["inputs"]["files"]
            .as_array()
            .unwrap_or_else(|| panic!("{stderr}"))
            .iter()
            .map(|f| {
                Path::new(f.as_str().unwrap())
                    .strip_prefix(&hub)
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(files(&[]).len(), 4);

    // Each file read is listed with the split its place names; `README.md` is not read.
    let (_, report, _) = scan_json(&ledger, &[&hub], &["--policy", policy.to_str().unwrap()]);
    let splits: BTreeMap<String, Value> = report["inputs"]["splits"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(f, split)| {
            let f = Path::new(f).strip_prefix(&hub).unwrap();
            (f.display().to_string(), split.clone())
        })
        .collect();
    assert_eq!(
        splits,
        BTreeMap::from(
            [
                ("data/test-00000-of-00001.jsonl", json!("test")),
                ("data/train-00000-of-00002.jsonl", json!("train")),
                ("data/train-00001-of-00002.jsonl", json!("train")),
                ("extra/train/more.jsonl", json!("train")),
            ]
            .map(|(f, s)| (f.to_owned(), s))
        )
    );
    assert_eq!(
        files(&["--exclude", "**/test-*"]),
        [
            "data/train-00000-of-00002.jsonl",
            "data/train-00001-of-00002.jsonl",
            "extra/train/more.jsonl"
        ]
    );
    assert_eq!(
        files(&["--include", "data/*", "--exclude", "*-00001-*"]),
        [
            "data/test-00000-of-00001.jsonl",
            "data/train-00000-of-00002.jsonl"
        ]
    );

    let out = provguard(&ledger)
        .args(["scan", "--home", "h", "--include", "a["])
        .arg(&hub)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`a[`"));
}

#[test]
fn a_forced_schema_with_a_field_map_reads_other_field_names() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, policy) = setup(dir.path());
    let input = dir.path().join("qa.jsonl");
    std::fs::write(
        &input,
        "{\"query\": \"q\", \"answer\": \"a text people wrote\"}\n",
    )
    .unwrap();
    let policy = policy.to_str().unwrap();

    let (_, report, _) = scan_json(&ledger, &[&input], &["--policy", policy]);
    assert_eq!(report["accounting"]["rejected"], json!(1));

    let args = [
        "--policy",
        policy,
        "--schema",
        "alpaca",
        "--map",
        "output=answer",
    ];
    let (_, report, stderr) = scan_json(&ledger, &[&input], &args);
    assert_eq!(report["accounting"]["admitted"], json!(1), "{stderr}");
    assert_eq!(report["composition"]["by_schema"]["alpaca"], json!(1));
    assert_eq!(
        report["composition"]["by_origin"]["human"]["records"],
        json!(1)
    );

    let out = provguard(&ledger)
        .args(["scan", "--home", "h", "--schema", "nope"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`--schema nope`"));
}

#[test]
fn records_over_the_size_limit_are_rejected_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, policy) = setup(dir.path());
    let input = dir.path().join("long.jsonl");
    let long = format!(
        "{{\"text\": \"{}\"}}\n{{\"text\": \"short\"}}\n",
        "x".repeat(500)
    );
    std::fs::write(&input, long).unwrap();
    let args = [
        "--policy",
        policy.to_str().unwrap(),
        "--max-record-bytes",
        "100",
    ];
    let (_, report, _) = scan_json(&ledger, &[&input], &args);
    assert_eq!(report["accounting"]["admitted"], json!(1));
    let error = &report["errors"][0];
    assert_eq!(error["line"], json!(1));
    assert!(
        error["message"].as_str().unwrap().contains("100 bytes"),
        "{error}"
    );
}
