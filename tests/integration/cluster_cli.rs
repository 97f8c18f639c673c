//! The distributed scan: a Ballista scheduler and two executors on loopback, run as
//! `provguard cluster scheduler|executor`, give the report the local scan gives.

use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use parquet::arrow::ArrowWriter;
use serde_json::{Value, json};

use crate::support::{data, provguard, read_jsonl, register, write_jsonl};

/// Processes killed when the test ends, however it ends.
#[derive(Default)]
struct Processes(Vec<(Child, Arc<Mutex<String>>)>);

impl Drop for Processes {
    fn drop(&mut self) {
        for (child, _) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Processes {
    /// Starts `provguard ARGS` with its standard error collected; returns its index.
    fn start(&mut self, ledger: &Path, args: &[&str]) -> usize {
        let mut child = Command::new(env!("CARGO_BIN_EXE_provguard"))
            .args(args)
            .env("PROVGUARD_LEDGER", ledger)
            .env("NO_COLOR", "1")
            // The record function says at trace level each batch it tags, so the test can
            // see which executor did work.
            .env("RUST_LOG", "warn,provguard_cluster=trace")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        self.0.push((child, log));
        self.0.len() - 1
    }

    fn log(&self, i: usize) -> String {
        self.0[i].1.lock().unwrap().clone()
    }

    /// Polls process `i`'s standard error until it holds `text`; fails if the process ends or
    /// a minute passes first.
    fn wait_for(&mut self, i: usize, text: &str) {
        let start = Instant::now();
        while !self.log(i).contains(text) {
            if let Some(status) = self.0[i].0.try_wait().unwrap() {
                panic!("process {i} ended ({status}): {}", self.log(i));
            }
            assert!(
                start.elapsed() < Duration::from_mins(1),
                "process {i} never said `{text}`: {}",
                self.log(i)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Ports free on loopback now (held together, so that they differ).
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

fn outputs(path: &str) -> Vec<String> {
    read_jsonl(&data(path))
        .iter()
        .map(|r| r["output"].as_str().unwrap().to_owned())
        .collect()
}

fn write_parquet(path: &Path, texts: &[String]) {
    let column = |v: Vec<&str>| Arc::new(StringArray::from(v)) as ArrayRef;
    let batch = RecordBatch::try_from_iter([
        (
            "instruction",
            column(vec!["Answer the question."; texts.len()]),
        ),
        ("input", column(vec![""; texts.len()])),
        ("output", column(texts.iter().map(String::as_str).collect())),
    ])
    .unwrap();
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// Removes what differs between the two scans by nature, so that the rest can be compared:
/// - `errors`: the cluster locates a problem by its file only (no line), and its message
///   lists the columns of the file's table instead of the record's own keys;
/// - `first_line` of each file's sources: a cluster reads no line numbers.
fn comparable(mut report: Value) -> Value {
    let object = report.as_object_mut().unwrap();
    object.remove("errors");
    for file in object["composition"]["by_file"]
        .as_object_mut()
        .unwrap()
        .values_mut()
    {
        for source in file["by_source"].as_object_mut().unwrap().values_mut() {
            source.as_object_mut().unwrap().remove("first_line");
        }
    }
    report
}

/// Asserts that two reports are equal, floats to 1e-12 relative: shares that add up `1/m`
/// parts of ambiguous records are summed in another order by the cluster.
fn assert_same(a: &Value, b: &Value, at: &str) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1.0),
                "{at}: {x} != {y}"
            );
        }
        (Value::Object(x), Value::Object(y)) => {
            let keys = |o: &serde_json::Map<String, Value>| o.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(x), keys(y), "{at}: keys");
            for (k, v) in x {
                assert_same(v, &y[k], &format!("{at}/{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}: length");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                assert_same(v, w, &format!("{at}/{i}"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one scenario, told in order: ledger, dataset, cluster, the two scans, checks"
)]
fn a_scan_on_a_ballista_cluster_reports_what_the_local_scan_reports() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");

    // Sources: two models, people, and a mirror of 50 of gpt4's answers (so those are
    // ambiguous between the two).
    let gpt4 = outputs("models/gpt4.jsonl");
    let claude = outputs("models/claude-2.jsonl");
    let mixtral = outputs("models/Mixtral-8x7B-Instruct-v0.1.jsonl");
    register(
        &ledger,
        "gpt4",
        "synthetic",
        &[],
        &data("models/gpt4.jsonl"),
    );
    register(
        &ledger,
        "claude-2",
        "synthetic",
        &[],
        &data("models/claude-2.jsonl"),
    );
    let experts = data("human/self_instruct_user_oriented.jsonl");
    register(
        &ledger,
        "experts",
        "human",
        &["instances[].output"],
        &experts,
    );
    let mirror = dir.path().join("mirror.jsonl");
    let mirrored: Vec<Value> = gpt4[..50].iter().map(|t| json!({ "output": t })).collect();
    write_jsonl(&mirror, &mirrored);
    register(&ledger, "gpt4-mirror", "synthetic", &[], &mirror);

    // The dataset: Alpaca records in four Parquet files (exact, ambiguous, edited and
    // unregistered answers), a JSON Lines file of plain texts, Alpaca records and one
    // record no flat schema reads, and an empty file.
    let dataset = dir.path().join("dataset");
    std::fs::create_dir(&dataset).unwrap();
    let mut texts: Vec<String> = Vec::new();
    texts.extend(gpt4[..200].iter().cloned());
    texts.extend(gpt4[200..210].iter().map(|t| format!("Sure! {t}")));
    texts.extend(claude[300..450].iter().cloned());
    texts.extend(mixtral[500..600].iter().cloned());
    for (i, part) in texts.chunks(texts.len().div_ceil(4)).enumerate() {
        write_parquet(&dataset.join(format!("part-{i}.parquet")), part);
    }
    let mut lines: Vec<Value> = claude[600..650]
        .iter()
        .map(|t| json!({ "text": t }))
        .collect();
    lines.extend(
        read_jsonl(&experts)
            .iter()
            .map(|r| json!({"instruction": r["instruction"], "input": "", "output": r["instances"][0]["output"]})),
    );
    lines.push(json!({"instruction": "An instruction without an answer."}));
    write_jsonl(&dataset.join("extra.jsonl"), &lines);
    // An empty file: no records, locally and on the cluster alike.
    std::fs::write(dataset.join("empty.jsonl"), "").unwrap();

    // The cluster: a scheduler and two executors on loopback.
    let ports = free_ports(5);
    let scheduler = format!("127.0.0.1:{}", ports[0]);
    let mut processes = Processes::default();
    let s = processes.start(&ledger, &["cluster", "scheduler", "--bind", &scheduler]);
    processes.wait_for(s, "listening on");
    let mut executors = Vec::new();
    for i in 0..2 {
        let bind = format!("127.0.0.1:{}", ports[1 + 2 * i]);
        let grpc = ports[2 + 2 * i].to_string();
        let work = dir.path().join(format!("work-{i}"));
        std::fs::create_dir(&work).unwrap();
        let args = [
            "cluster",
            "executor",
            "--scheduler",
            &scheduler,
            "--bind",
            &bind,
            "--grpc-port",
            &grpc,
            "--work-dir",
            work.to_str().unwrap(),
        ];
        executors.push(processes.start(&ledger, &args));
    }
    for &e in &executors {
        processes.wait_for(e, "ready");
    }

    // The same scan, on the cluster and here. Lenient, so that the rejected record flags
    // instead of blocking and the verdict shows the policy's limits.
    let scan = |extra: &[&str]| {
        let out = provguard(&ledger)
            .arg("scan")
            .arg(&dataset)
            .args(["--home", "home-model", "--format", "json", "--lenient"])
            .args(extra)
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        let report: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("no JSON report ({e}); stdout: {stdout}; stderr: {stderr}"));
        (out.status.code().unwrap(), report)
    };
    let url = format!("df://{scheduler}");
    let (cluster_code, cluster) = scan(&["--cluster", &url]);
    let (local_code, local) = scan(&[]);

    assert_eq!(cluster_code, local_code);
    // The data covers what the comparison is meant to cover.
    let c = &local["composition"];
    assert_eq!(local["accounting"]["rejected"], 1);
    assert!(c["ambiguous"]["records"].as_u64().unwrap() >= 50, "{c}");
    assert!(c["by_match"]["near"].as_u64().unwrap() > 0, "{c}");
    assert!(
        c["by_origin"]["unknown"]["records"].as_u64().unwrap() > 0,
        "{c}"
    );
    assert!(c["by_schema"]["text"].as_u64().unwrap() > 0, "{c}");
    assert_eq!(
        cluster["errors"].as_array().unwrap().len(),
        local["errors"].as_array().unwrap().len()
    );
    assert_same(&comparable(cluster), &comparable(local), "");

    // Both executors tagged records.
    for &e in &executors {
        let log = processes.log(e);
        assert!(
            log.contains("tagged a batch of records"),
            "executor {e} did no work: {log}"
        );
    }
}

#[test]
fn a_cluster_scan_refuses_chat_records_and_says_to_scan_locally() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    register(
        &ledger,
        "gpt4",
        "synthetic",
        &[],
        &data("models/gpt4.jsonl"),
    );
    let chat = dir.path().join("chat.jsonl");
    write_jsonl(
        &chat,
        &[
            json!({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}),
        ],
    );
    // No cluster is needed: the files are checked before anything is sent.
    let out = provguard(&ledger)
        .arg("scan")
        .arg(&chat)
        .args(["--home", "m", "--cluster", "df://127.0.0.1:9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("chat records"), "{stderr}");
    assert!(stderr.contains("scan it locally"), "{stderr}");
}

#[test]
fn a_cluster_scan_refuses_paths_the_engine_would_read_as_globs() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    register(
        &ledger,
        "gpt4",
        "synthetic",
        &[],
        &data("models/gpt4.jsonl"),
    );
    // `a*b?.jsonl` as a glob also matches `aXbY.jsonl`, which must not be read in its stead.
    let records = [json!({"text": "One record."})];
    write_jsonl(&dir.path().join("a*b?.jsonl"), &records);
    write_jsonl(&dir.path().join("aXbY.jsonl"), &records);
    let out = provguard(&ledger)
        .arg("scan")
        .arg(dir.path().join("a*b?.jsonl"))
        .args(["--home", "m", "--cluster", "df://127.0.0.1:9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("glob characters"), "{stderr}");
    assert!(stderr.contains("scan it locally"), "{stderr}");
}
