//! The ledger as a store: crash safety with killed writers, concurrent writers, tamper
//! detection by `provguard ledger verify`, and `ledger stats` and `query` on real data.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::support::{data, key, provguard, read_jsonl};

/// The number of distinct texts (by the test's own key) of `field` in a JSON Lines file;
/// texts of white space only are not registered.
fn distinct(path: &Path, field: &str) -> u64 {
    let texts: BTreeSet<String> = read_jsonl(path)
        .iter()
        .filter_map(|r| r[field].as_str())
        .map(key)
        .filter(|k| !k.is_empty())
        .collect();
    texts.len() as u64
}

/// `provguard register --field output` of one model's outputs as a synthetic source.
fn register_outputs(ledger: &Path, source: &str, file: &str) {
    provguard(ledger)
        .args(["register", "--source", source, "--origin", "synthetic"])
        .args(["--field", "output"])
        .arg(data(file))
        .assert()
        .success();
}

/// Runs `provguard query --format json` and returns the rows.
fn query(ledger: &Path, sql: &str) -> Vec<Value> {
    let out = provguard(ledger)
        .args(["query", sql, "--format", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "query failed: {sql}\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str::<Vec<Value>>(&stdout)
        .unwrap_or_else(|e| panic!("not a JSON array ({e}): {stdout}"))
}

/// Entries of `source` as the `fingerprints` table holds them.
fn entries_of(ledger: &Path, source: &str) -> u64 {
    let rows = query(
        ledger,
        &format!("SELECT count(*) AS n FROM fingerprints WHERE source = '{source}'"),
    );
    rows[0]["n"].as_u64().unwrap()
}

/// Runs `provguard ledger verify`; returns the exit code and standard output.
fn verify(ledger: &Path) -> (i32, String) {
    let out = provguard(ledger)
        .args(["ledger", "verify"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    (out.status.code().unwrap(), stdout)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_dir(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), target).unwrap();
        }
    }
}

/// A small random-number generator (xorshift), seeded from the clock; the seed is printed so
/// a failure can be replayed with `PROVGUARD_TEST_SEED`.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        let seed = std::env::var("PROVGUARD_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("seed: {seed}");
        Self(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

#[test]
fn a_writer_killed_at_random_points_leaves_a_ledger_that_verifies_and_holds_it_whole_or_not_at_all()
{
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let file = "models/gpt4.jsonl";
    let whole = distinct(&data(file), "output");
    assert!(whole > 700, "{whole}");

    // Time one registration, to spread the kills over a whole run of one.
    let start = Instant::now();
    register_outputs(&ledger, "first", file);
    let took = start.elapsed();
    assert_eq!(entries_of(&ledger, "first"), whole);

    let mut rng = Rng::new();
    let (mut kept, mut lost) = (0, 0);
    for round in 0..14 {
        let source = format!("m{round}");
        let mut child = Process::new(env!("CARGO_BIN_EXE_provguard"))
            .env("PROVGUARD_LEDGER", &ledger)
            .env_remove("RUST_LOG")
            .args(["register", "--source", &source, "--origin", "synthetic"])
            .args(["--field", "output"])
            .arg(data(file))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let delay = rng.below(took.as_micros() as u64 * 5 / 4);
        std::thread::sleep(Duration::from_micros(delay));
        let _ = child.kill();
        let status = child.wait().unwrap();

        let (code, stdout) = verify(&ledger);
        assert_eq!(code, 0, "round {round}, killed after {delay} µs:\n{stdout}");
        let entries = entries_of(&ledger, &source);
        assert!(
            entries == 0 || entries == whole,
            "round {round}, killed after {delay} µs ({status}): {entries} of {whole} entries"
        );
        if entries == 0 { lost += 1 } else { kept += 1 }
    }
    eprintln!("registrations kept: {kept}, lost: {lost}");

    // The next writer finishes or clears what the killed ones left, and nothing is lost.
    register_outputs(&ledger, "last", file);
    let (code, stdout) = verify(&ledger);
    assert_eq!(code, 0, "{stdout}");
    assert!(!stdout.contains("note:"), "{stdout}");
    assert_eq!(entries_of(&ledger, "last"), whole);
    assert_eq!(entries_of(&ledger, "first"), whole);
}

#[test]
fn two_writers_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let files = ["models/gpt4.jsonl", "models/claude-2.jsonl"];
    for round in 0..3 {
        let children: Vec<_> = files
            .iter()
            .enumerate()
            .map(|(i, file)| {
                Process::new(env!("CARGO_BIN_EXE_provguard"))
                    .env("PROVGUARD_LEDGER", &ledger)
                    .env_remove("RUST_LOG")
                    .args(["register", "--source", &format!("w{round}-{i}")])
                    .args(["--origin", "synthetic", "--field", "output"])
                    .arg(data(file))
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    assert_eq!(verify(&ledger).0, 0);
    for round in 0..3 {
        for (i, file) in files.iter().enumerate() {
            let source = format!("w{round}-{i}");
            assert_eq!(
                entries_of(&ledger, &source),
                distinct(&data(file), "output"),
                "{source}"
            );
        }
    }
    let stats = stats_json(&ledger);
    assert_eq!(stats["registrations"], 6);
    assert_eq!(stats["sources"].as_array().unwrap().len(), 6);
}

fn stats_json(ledger: &Path) -> Value {
    let out = provguard(ledger)
        .args(["ledger", "stats", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A ledger of three registrations: segments and filters 000001 to 000003.
fn three_registrations() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    register_outputs(&ledger, "gpt4", "models/gpt4.jsonl");
    register_outputs(&ledger, "claude", "models/claude-2.jsonl");
    register_outputs(&ledger, "llama", "models/Meta-Llama-3-70B-Instruct.jsonl");
    assert_eq!(verify(&ledger).0, 0);
    dir
}

#[test]
fn a_tampered_segment_is_detected_and_named() {
    let base = three_registrations();
    let original = base.path().join("ledger");
    let segment = |n: u32| format!("segments/fingerprints-{n:06}.parquet");
    let tampered = |name: &str, change: &dyn Fn(&Path)| {
        let ledger = base.path().join(name);
        copy_dir(&original, &ledger);
        change(&ledger);
        let (code, stdout) = verify(&ledger);
        assert_eq!(code, 1, "{name}: {stdout}");
        stdout
    };

    // Modified: one byte flipped in the middle of the second segment.
    let stdout = tampered("modified", &|l| {
        let path = l.join(segment(2));
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x20;
        std::fs::write(&path, bytes).unwrap();
    });
    assert!(
        stdout.contains(&format!("modified: `{}`", segment(2))),
        "{stdout}"
    );
    assert_eq!(stdout.matches("modified:").count(), 1, "{stdout}");

    // Removed.
    let stdout = tampered("removed", &|l| {
        std::fs::remove_file(l.join(segment(2))).unwrap();
    });
    assert!(
        stdout.contains(&format!("removed: `{}`", segment(2))),
        "{stdout}"
    );

    // Reordered: the first and third segments swapped.
    let stdout = tampered("reordered", &|l| {
        let (a, b) = (l.join(segment(1)), l.join(segment(3)));
        std::fs::rename(&a, l.join("swap")).unwrap();
        std::fs::rename(&b, &a).unwrap();
        std::fs::rename(l.join("swap"), &b).unwrap();
    });
    for (file, other) in [(segment(1), segment(3)), (segment(3), segment(1))] {
        assert!(
            stdout.contains(&format!(
                "reordered: `{file}`: the file holds what the manifest lists for `{other}`"
            )),
            "{stdout}"
        );
    }

    // Added: a copy of a segment under a name the chain does not list.
    let stdout = tampered("added", &|l| {
        std::fs::copy(l.join(segment(1)), l.join(segment(9))).unwrap();
    });
    assert!(
        stdout.contains(&format!("added: `{}`", segment(9))),
        "{stdout}"
    );

    // Links reordered in the manifest: the chain no longer follows.
    let stdout = tampered("relinked", &|l| {
        let path = l.join("manifest.json");
        let mut manifest: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        manifest["chain"].as_array_mut().unwrap().swap(0, 2);
        std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    });
    assert!(stdout.contains("chain: "), "{stdout}");

    // The untouched ledger still verifies.
    let (code, stdout) = verify(&original);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("ok: the chain is whole"), "{stdout}");
}

/// Runs a reading or writing command on `ledger`; returns its exit code and standard error.
fn run(ledger: &Path, args: &[&str]) -> (i32, String) {
    let out = provguard(ledger).args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A named change to a manifest.
type Edit<'a> = (&'a str, &'a dyn Fn(&mut Value));

#[test]
fn a_tampered_manifest_is_found_by_verify_and_refused_by_every_reader() {
    let base = three_registrations();
    let original = base.path().join("ledger");
    let batch = base.path().join("batch.jsonl");
    std::fs::write(&batch, "{\"output\": \"a text\"}\n").unwrap();
    let edit = |name: &str, change: &dyn Fn(&mut Value)| {
        let ledger = base.path().join(name);
        copy_dir(&original, &ledger);
        let path = ledger.join("manifest.json");
        let mut manifest: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        change(&mut manifest);
        std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
        ledger
    };

    let cases: [Edit; 5] = [
        // A model's source turned human: only the manifest's copy of its origin changes.
        ("origin", &|m| m["sources"][0]["origin"] = "human".into()),
        ("curated", &|m| m["sources"][0]["curated"] = true.into()),
        // A link (with its file left in place) cut out of the chain.
        ("cut", &|m| {
            m["chain"].as_array_mut().unwrap().remove(1);
        }),
        ("head", &|m| m["head"] = "1".repeat(64).into()),
        // A link pointed outside the ledger.
        ("outside", &|m| {
            m["chain"][0]["file"] = "../ledger/segments/fingerprints-000001.parquet".into();
        }),
    ];
    for (name, change) in cases {
        let ledger = edit(name, change);
        let (code, stdout) = verify(&ledger);
        assert_eq!(code, 1, "{name}: verify passed:\n{stdout}");
        assert!(stdout.contains("chain: "), "{name}: {stdout}");
        for args in [
            &["scan", "--home", "m"][..],
            &["ledger", "stats"][..],
            &["query", "SELECT count(*) FROM fingerprints"][..],
        ] {
            let mut args = args.to_vec();
            if args[0] == "scan" {
                args.push(batch.to_str().unwrap());
            }
            let (code, stderr) = run(&ledger, &args);
            assert_eq!(
                code,
                2,
                "{name}: `{}` used a broken ledger: {stderr}",
                args.join(" ")
            );
            assert!(stderr.contains("is damaged"), "{name}: {stderr}");
        }
        let (code, stderr) = run(
            &ledger,
            &[
                "register",
                "--source",
                "more",
                "--origin",
                "human",
                batch.to_str().unwrap(),
            ],
        );
        assert_eq!(
            code, 2,
            "{name}: register added to a broken ledger: {stderr}"
        );
    }

    // SQL reads no segment whose hash differs from its link.
    let ledger = base.path().join("forged");
    copy_dir(&original, &ledger);
    let path = ledger.join("segments/fingerprints-000002.parquet");
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(&path, bytes).unwrap();
    let (code, stderr) = run(&ledger, &["query", "SELECT count(*) FROM fingerprints"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("fingerprints-000002.parquet"), "{stderr}");

    // A ledger whose manifest is gone is refused, not started anew over its files.
    let ledger = base.path().join("headless");
    copy_dir(&original, &ledger);
    std::fs::remove_file(ledger.join("manifest.json")).unwrap();
    let before = std::fs::read(ledger.join("segments/fingerprints-000001.parquet")).unwrap();
    let (code, stderr) = run(
        &ledger,
        &[
            "register",
            "--source",
            "more",
            "--origin",
            "human",
            batch.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no `manifest.json`"), "{stderr}");
    let after = std::fs::read(ledger.join("segments/fingerprints-000001.parquet")).unwrap();
    assert_eq!(before, after);
    assert!(!ledger.join("manifest.json").exists());
}

#[test]
fn verify_stats_and_query_work_on_a_ledger_of_the_shared_data() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let models = ["gpt4", "claude-2", "text_davinci_003"];
    for m in models {
        register_outputs(&ledger, m, &format!("models/{m}.jsonl"));
    }
    let experts = data("human/self_instruct_user_oriented.jsonl");
    provguard(&ledger)
        .args(["register", "--source", "experts", "--origin", "human"])
        .args(["--field", "instances[].output"])
        .arg(&experts)
        .assert()
        .success();
    let expert_texts: BTreeSet<String> = read_jsonl(&experts)
        .iter()
        .flat_map(|r| r["instances"].as_array().cloned().unwrap_or_default())
        .filter_map(|i| i["output"].as_str().map(key))
        .collect();

    // verify
    let (code, stdout) = verify(&ledger);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("8 links, 8 files checked"), "{stdout}");

    // stats: the counts are the test's own.
    let stats = stats_json(&ledger);
    let mut total = 0;
    for (i, m) in models.iter().enumerate() {
        let expected = distinct(&data(&format!("models/{m}.jsonl")), "output");
        let source = &stats["sources"][i];
        assert_eq!(source["name"], *m);
        assert_eq!(source["origin"], "synthetic");
        assert_eq!(source["entries"], expected, "{m}");
        let texts = read_jsonl(&data(&format!("models/{m}.jsonl")))
            .iter()
            .filter(|r| r["output"].as_str().is_some_and(|t| !t.trim().is_empty()))
            .count();
        assert_eq!(source["texts"], texts, "{m}");
        total += expected;
    }
    assert_eq!(stats["sources"][3]["entries"], expert_texts.len() as u64);
    total += expert_texts.len() as u64;
    assert_eq!(stats["entries"], total);
    assert_eq!(stats["origins"]["human"]["sources"], 1);
    assert_eq!(stats["origins"]["synthetic"]["sources"], 3);
    assert_eq!(stats["filters"].as_array().unwrap().len(), 4);
    assert_eq!(stats["filters"][0]["settings"]["n"], 4);
    assert!(stats["size_on_disk"].as_u64().unwrap() > 0);
    let text = provguard(&ledger)
        .args(["ledger", "stats"])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("experts") && text.contains(&format!("entries: {total}")),
        "{text}"
    );

    // query: the same counts through SQL, joins across tables, and a table output.
    let rows = query(
        &ledger,
        "SELECT s.source, s.origin, count(*) AS n FROM fingerprints f \
         JOIN sources s ON f.source = s.source GROUP BY s.source, s.origin ORDER BY s.source",
    );
    assert_eq!(rows.len(), 4);
    for row in &rows {
        let source = row["source"].as_str().unwrap();
        let n = row["n"].as_u64().unwrap();
        let expected = if source == "experts" {
            expert_texts.len() as u64
        } else {
            distinct(&data(&format!("models/{source}.jsonl")), "output")
        };
        assert_eq!(n, expected, "{source}");
    }
    let table = provguard(&ledger)
        .args([
            "query",
            "SELECT source, origin FROM sources ORDER BY source",
        ])
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains("| source ") && table.contains("| claude-2 "),
        "{table}"
    );
    assert!(query(&ledger, "SELECT * FROM scans").is_empty());

    // A statement that would change anything is refused.
    provguard(&ledger)
        .args(["query", "CREATE TABLE x AS SELECT 1"])
        .assert()
        .code(2);
}

#[test]
fn a_recorded_scan_is_a_row_of_the_scans_table_with_its_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    register_outputs(&ledger, "gpt4", "models/gpt4.jsonl");
    let policy = crate::support::permissive_policy(dir.path());
    provguard(&ledger)
        .args(["scan", "--home", "home-model", "--record", "--policy"])
        .arg(&policy)
        .arg(data("models/gpt4.jsonl"))
        .assert()
        .success();
    let rows = query(
        &ledger,
        "SELECT home, records, synthetic, models, verdict FROM scans",
    );
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["home"], "home-model");
    assert_eq!(rows[0]["records"], 805);
    assert!(
        (rows[0]["synthetic"].as_f64().unwrap() - 1.0).abs() < 1e-9,
        "{rows:?}"
    );
    assert!(
        rows[0]["verdict"] == "pass" || rows[0]["verdict"] == "flag",
        "{rows:?}"
    );
    assert_eq!(verify(&ledger).0, 0);
}
