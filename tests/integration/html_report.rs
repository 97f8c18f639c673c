//! The HTML report in a real headless browser (Debian's chromium): it renders with no console
//! message, its three charts are in the rendered page, and a screenshot of it is taken.
//!
//! `.ci/run` installs chromium where it is missing. The test fails, never skips, without it:
//! set `PROVGUARD_CHROMIUM` to the browser's path if it is not `chromium` on `PATH`.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use crate::support::{data, gpt4_and_experts, provguard, write_jsonl};

fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("PROVGUARD_CHROMIUM") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "no chromium on PATH: the HTML report is tested in a real browser \
         (apt-get install chromium, or set PROVGUARD_CHROMIUM)"
    );
}

/// Runs headless chromium on `page` with `args`; returns (stdout, stderr).
fn browse(page: &Path, args: &[&str], profile: &Path) -> (String, String) {
    let out = Process::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_html_report_renders_its_charts_in_a_real_browser() {
    let (dir, ledger) = gpt4_and_experts();
    // A contaminated batch (gpt4 answers and a record with markup in it), judged in the
    // ecosystem of the paper's mechanism, so that the graph and the curves have models.
    let gpt4 = crate::support::read_jsonl(&data("models/gpt4.jsonl"));
    let mut records: Vec<serde_json::Value> = gpt4.iter().take(60).cloned().collect();
    records.push(serde_json::json!({"instruction": "Say <b>hi</b> & wave", "output": "Hello \"there\" <script>alert(1)</script>"}));
    let batch = dir.path().join("batch.jsonl");
    write_jsonl(&batch, &records);

    let out = provguard(&ledger)
        .args([
            "scan",
            "--home",
            "home-model",
            "--format",
            "html",
            "--ecosystem",
        ])
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../examples/ecosystems/paper_mechanism.toml"),
        )
        .arg(&batch)
        .output()
        .unwrap();
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "no HTML on stdout: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Self-contained: nothing to fetch, no script, the record's markup escaped.
    for forbidden in ["<script", "src=", "href=\"http", "@import"] {
        assert!(!html.contains(forbidden), "the page holds `{forbidden}`");
    }
    // The graph's arrow into the home model says who trains on whom.
    assert!(
        html.contains("home-model trains on gpt4"),
        "no edge gpt4 -> home-model"
    );
    assert!(!html.contains("gpt4 trains on home-model"));
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let profile = dir.path().join("chromium-profile");

    // The rendered DOM holds the three charts.
    let (dom, stderr) = browse(&page, &["--dump-dom"], &profile);
    for id in [
        "composition-origin",
        "composition-source",
        "influence-graph",
        "curation-curves",
    ] {
        assert!(
            dom.contains(&format!("id=\"{id}\"")),
            "chart `{id}` not rendered"
        );
    }
    assert!(dom.contains("<polyline"), "no curve drawn");
    // No console message at all (an error, a failed load or a warning would be one).
    let console: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught") || l.contains("Failed to load"))
        .collect();
    assert!(console.is_empty(), "console messages: {console:#?}");

    // A screenshot of the page, as a person would see it.
    let shot = dir.path().join("report.png");
    let (_, stderr) = browse(
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1000,1800",
        ],
        &profile,
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot ({e}): {stderr}"));
    assert_eq!(&png[1..4], b"PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1000, 1800));
    // A blank page compresses to a few kilobytes; charts and text do not.
    assert!(
        png.len() > 30_000,
        "the screenshot looks empty ({} bytes)",
        png.len()
    );
    if let Some(keep) = std::env::var_os("PROVGUARD_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}
