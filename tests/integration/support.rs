//! Running the real binary against temporary ledgers and datasets.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

/// The shared folder beside the repository.
pub fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// A file of `../shared/data`.
pub fn data(path: &str) -> PathBuf {
    shared().join("data").join(path)
}

/// A file of `../shared/cases/ingest`.
pub fn case(name: &str) -> PathBuf {
    shared().join("cases/ingest").join(name)
}

/// The provguard binary with a ledger in `dir`.
pub fn provguard(ledger: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_provguard"));
    cmd.env("PROVGUARD_LEDGER", ledger)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    cmd
}

/// Runs `provguard register` and checks it succeeded.
pub fn register(ledger: &Path, source: &str, origin: &str, fields: &[&str], path: &Path) {
    let mut cmd = provguard(ledger);
    cmd.args(["register", "--source", source, "--origin", origin]);
    for f in fields {
        cmd.args(["--field", f]);
    }
    cmd.arg(path).assert().success();
}

/// Runs `provguard scan --format json` with extra arguments; returns the exit code and report.
pub fn scan_json(ledger: &Path, paths: &[&Path], extra: &[&str]) -> (i32, Value, String) {
    let mut cmd = provguard(ledger);
    cmd.arg("scan")
        .args(paths)
        .args(["--home", "home-model", "--format", "json"])
        .args(extra);
    let out: Output = cmd.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}); stdout: {stdout}; stderr: {stderr}"));
    (out.status.code().unwrap(), report, stderr)
}

/// Writes JSON Lines.
pub fn write_jsonl(path: &Path, records: &[Value]) {
    let mut f = std::fs::File::create(path).unwrap();
    for r in records {
        writeln!(f, "{r}").unwrap();
    }
}

/// Reads JSON Lines.
pub fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A policy file that enforces nothing.
pub fn permissive_policy(dir: &Path) -> PathBuf {
    let path = dir.join("permissive.toml");
    std::fs::write(&path, "[gate]\nunknown = \"count-as-synthetic\"\n").unwrap();
    path
}

/// The test's own, simpler text key: white space collapsed and lowercase. On the shared data
/// it groups texts exactly as provguard's normalisation does (the data's README: no two
/// outputs differ only in white space), so it is an independent check of the lineage.
pub fn key(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Which sources registered each text key.
#[derive(Default)]
pub struct Truth(pub BTreeMap<String, BTreeSet<String>>);

impl Truth {
    pub fn add(&mut self, source: &str, texts: impl IntoIterator<Item = String>) {
        for t in texts {
            if !t.trim().is_empty() {
                self.0.entry(key(&t)).or_default().insert(source.to_owned());
            }
        }
    }

    pub fn candidates(&self, text: &str) -> BTreeSet<String> {
        self.0.get(&key(text)).cloned().unwrap_or_default()
    }
}

/// A number of the report.
pub fn num(v: &Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("expected a number, found {v}"))
}

/// A temporary folder with a ledger in `ledger/` holding gpt4's answers (synthetic) and the
/// experts' answers of the self-instruct tasks (human).
pub fn gpt4_and_experts() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    register(
        &ledger,
        "gpt4",
        "synthetic",
        &[],
        &data("models/gpt4.jsonl"),
    );
    let experts = data("human/self_instruct_user_oriented.jsonl");
    register(
        &ledger,
        "experts",
        "human",
        &["instances[].output"],
        &experts,
    );
    (dir, ledger)
}
