//! The report's formats for CI: the JSON report against `schemas/report.schema.json`, the
//! Markdown summary, SARIF, JUnit XML, and `--report-dir`.

use std::path::{Path, PathBuf};

use quick_xml::events::Event;
use serde_json::{Value, json};

use crate::support::{
    data, gpt4_and_experts, permissive_policy, provguard, read_jsonl, register, scan_json,
    write_jsonl,
};

/// A source whose name needs escaping in every format.
const LEAK: &str = "leak <&\"x";
/// The line of `data.jsonl` of the fixture holding its first gpt4 answer.
const GPT4_LINE: u64 = 7;
/// The line of `data.jsonl` that is not valid JSON.
const BROKEN_LINE: u64 = 8;
/// The line of `data.jsonl` holding the answer of the denied source [`LEAK`].
const LEAK_LINE: u64 = 11;

/// Limits that the fixture's data crosses: the human share flags, the unknown share flags, the
/// denied source blocks, gpt4's share flags; and the broken line blocks in strict mode.
const POLICY: &str = r#"
[limits]
min_human_share = { flag = 0.9, block = 0.2 }
max_unknown_share = { flag = 0.05 }

[sources]
deny = ['leak <&"x']
max_share = { gpt4 = { flag = 0.2, block = 0.5 } }
"#;

/// A folder with a ledger in `ledger/` (gpt4's answers, the experts' answers, and three
/// claude-2 answers registered as the synthetic source [`LEAK`]), `policy.toml` and
/// `data.jsonl`: six expert answers (that no model wrote too), a gpt4 answer (line 7), a broken line (8), two more gpt4
/// answers, a [`LEAK`] answer (11) and an answer of a model nobody registered (12).
fn fixture() -> tempfile::TempDir {
    let (dir, ledger) = gpt4_and_experts();
    let claude = read_jsonl(&data("models/claude-2.jsonl"));
    let leak_source = dir.path().join("leak-source.jsonl");
    write_jsonl(&leak_source, &claude[..3]);
    register(&ledger, LEAK, "synthetic", &[], &leak_source);

    let gpt4 = read_jsonl(&data("models/gpt4.jsonl"));
    let people = read_jsonl(&data("human/self_instruct_user_oriented.jsonl"));
    let mixtral = read_jsonl(&data("models/Mixtral-8x7B-Instruct-v0.1.jsonl"));
    let line = |text: &Value| json!({ "text": text }).to_string();
    let mut lines: Vec<String> = people[100..106]
        .iter()
        .map(|r| line(&r["instances"][0]["output"]))
        .collect();
    lines.push(line(&gpt4[400]["output"]));
    lines.push("{\"text\": broken".to_owned());
    lines.extend(gpt4[401..403].iter().map(|r| line(&r["output"])));
    lines.push(line(&claude[0]["output"]));
    lines.push(line(&mixtral[0]["output"]));
    assert_eq!(lines[GPT4_LINE as usize - 1], line(&gpt4[400]["output"]));
    std::fs::write(dir.path().join("data.jsonl"), lines.join("\n") + "\n").unwrap();
    std::fs::write(dir.path().join("policy.toml"), POLICY).unwrap();
    dir
}

/// Runs `provguard scan data.jsonl` in the fixture's folder with its policy; returns the exit
/// code and standard output.
fn scan_in(dir: &Path, extra: &[&str]) -> (i32, String) {
    let out = provguard(&dir.join("ledger"))
        .current_dir(dir)
        .args([
            "scan",
            "data.jsonl",
            "--home",
            "home-model",
            "--policy",
            "policy.toml",
        ])
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap(), stdout)
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// The report schema, and the same schema closed: every object that lists its properties
/// allows no others, so that a field the report gains without the schema fails the test.
fn schemas() -> (jsonschema::Validator, jsonschema::Validator) {
    fn close(schema: &mut Value) {
        match schema {
            Value::Object(map) => {
                if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                    map.insert("additionalProperties".to_owned(), json!(false));
                }
                map.values_mut().for_each(close);
            }
            Value::Array(items) => items.iter_mut().for_each(close),
            _ => {}
        }
    }
    let text = std::fs::read_to_string(repo("schemas/report.schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::meta::validate(&schema).expect("a valid JSON Schema");
    assert_eq!(
        schema["$schema"],
        json!("https://json-schema.org/draft/2020-12/schema")
    );
    let mut closed = schema.clone();
    close(&mut closed);
    (
        jsonschema::draft202012::new(&schema).unwrap(),
        jsonschema::draft202012::new(&closed).unwrap(),
    )
}

fn assert_valid(
    validators: &(jsonschema::Validator, jsonschema::Validator),
    name: &str,
    report: &Value,
) {
    for validator in [&validators.0, &validators.1] {
        let errors: Vec<String> = validator
            .iter_errors(report)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
}

#[test]
fn every_kind_of_report_validates_against_the_schema_and_broken_ones_do_not() {
    let validators = schemas();
    let dir = fixture();
    let ledger = dir.path().join("ledger");
    let fixture_data = dir.path().join("data.jsonl");
    let policy = dir.path().join("policy.toml");
    let policy = policy.to_str().unwrap();
    let mut reports = Vec::new();

    // Block, with a rejected record, a denied source and flags.
    let (code, report, _) = scan_json(&ledger, &[&fixture_data], &["--policy", policy]);
    assert_eq!((code, &report["verdict"]), (1, &json!("block")));
    assert_eq!(report["errors"][0]["line"], json!(BROKEN_LINE));
    reports.push(("block", report));

    // Flag: the same in lenient mode, with the denied source only flagged.
    let lenient = dir.path().join("lenient.toml");
    std::fs::write(
        &lenient,
        POLICY.replace("[sources]", "[sources]\nlevel = \"flag\""),
    )
    .unwrap();
    let (code, report, _) = scan_json(
        &ledger,
        &[&fixture_data],
        &["--lenient", "--policy", lenient.to_str().unwrap()],
    );
    assert_eq!((code, &report["verdict"]), (0, &json!("flag")));
    reports.push(("flag with errors", report));

    // Nothing anchored (before any scan of the home model is recorded): every quantity of the lineage undefined.
    let mixtral = read_jsonl(&data("models/Mixtral-8x7B-Instruct-v0.1.jsonl"));
    let unknown: Vec<Value> = mixtral[1..11]
        .iter()
        .map(|r| json!({"text": r["output"]}))
        .collect();
    let unknown_file = dir.path().join("unknown.jsonl");
    write_jsonl(&unknown_file, &unknown);
    let (_, report, _) = scan_json(&ledger, &[&unknown_file], &["--policy", policy]);
    assert_eq!(report["dynamics"]["cross_influence_share"], json!(null));
    reports.push(("unanchored", report));

    // Nothing admitted.
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "\n").unwrap();
    let (_, report, _) = scan_json(&ledger, &[&empty], &["--policy", policy]);
    assert_eq!(report["dynamics"]["regime"], json!(null));
    reports.push(("empty", report));

    // Pass: experts and gpt4 only, no limit; recorded, so that the next scan has a baseline.
    let people = read_jsonl(&data("human/self_instruct_user_oriented.jsonl"));
    let gpt4 = read_jsonl(&data("models/gpt4.jsonl"));
    let mut clean: Vec<Value> = people[10..30]
        .iter()
        .map(|r| json!({"text": r["instances"][0]["output"]}))
        .collect();
    clean.extend(gpt4[410..420].iter().map(|r| json!({"text": r["output"]})));
    let clean_file = dir.path().join("clean.jsonl");
    write_jsonl(&clean_file, &clean);
    let open = permissive_policy(dir.path());
    let open = open.to_str().unwrap();
    let (code, report, _) = scan_json(&ledger, &[&clean_file], &["--policy", open, "--record"]);
    assert_eq!((code, &report["verdict"]), (0, &json!("pass")));
    reports.push(("pass", report));

    // With an ecosystem file and a recorded scan of the same home model: baseline and what-if.
    let ecosystem = dir.path().join("eco.toml");
    std::fs::write(
        &ecosystem,
        "[[models]]\nname = \"gpt4\"\nhuman = 0.5\n[[models.inputs]]\nfrom = \"gpt4\"\nshare = 0.5\n",
    )
    .unwrap();
    let (_, report, _) = scan_json(
        &ledger,
        &[&fixture_data],
        &[
            "--lenient",
            "--policy",
            open,
            "--ecosystem",
            ecosystem.to_str().unwrap(),
        ],
    );
    assert!(report["baseline"].is_object(), "{}", report["baseline"]);
    assert!(report["dynamics"]["what_if"].is_object());
    assert!(report["dynamics"]["ecosystem"].is_object());
    reports.push(("ecosystem", report));

    for (name, report) in &reports {
        assert_valid(&validators, name, report);
    }

    assert_broken_reports_fail(&validators, &reports[0].1);
}

/// Reports that break the layout do not validate; an undocumented field fails only the
/// closed schema.
fn assert_broken_reports_fail(
    validators: &(jsonschema::Validator, jsonschema::Validator),
    report: &Value,
) {
    type Breaks = fn(&mut Value);
    let broken: [(&str, Breaks); 5] = [
        ("verdict maybe", |r| {
            r["verdict"] = json!("maybe");
        }),
        ("no records", |r| {
            r.as_object_mut().unwrap().remove("records");
        }),
        ("a regime nobody knows", |r| {
            r["dynamics"]["regime"] = json!("wobbly");
        }),
        ("a share as text", |r| {
            r["dynamics"]["human_share"] = json!("0.5");
        }),
        ("an error without a file", |r| {
            r["errors"][0].as_object_mut().unwrap().remove("file");
        }),
    ];
    for (what, breaks) in broken {
        let mut bad = report.clone();
        breaks(&mut bad);
        assert!(!validators.0.is_valid(&bad), "{what} validates");
    }
    let mut extra = report.clone();
    extra["accounting"]["surprise"] = json!(1);
    assert!(validators.0.is_valid(&extra));
    assert!(!validators.1.is_valid(&extra));
}

/// Filters for the paths and the version that differ between machines and releases.
fn filters() -> Vec<(String, String)> {
    vec![
        (r#"file://[^"]*"#.to_owned(), "file://[CWD]/".to_owned()),
        (
            regex_escape(env!("CARGO_PKG_VERSION")),
            "[VERSION]".to_owned(),
        ),
    ]
}

fn regex_escape(s: &str) -> String {
    s.replace('.', r"\.")
}

#[test]
fn the_formats_of_one_scan() {
    let dir = fixture();
    let mut settings = insta::Settings::clone_current();
    for (pattern, replacement) in filters() {
        settings.add_filter(&pattern, replacement);
    }
    settings.bind(|| {
        for format in ["markdown", "sarif", "junit"] {
            let (code, stdout) = scan_in(dir.path(), &["--format", format]);
            assert_eq!(code, 1, "{format}");
            insta::assert_snapshot!(format!("formats_{format}"), stdout);
        }
    });
}

#[test]
fn sarif_points_at_the_lines_of_the_records_that_cross_the_policy() {
    let dir = fixture();
    let (_, stdout) = scan_in(dir.path(), &["--format", "json"]);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        report["composition"]["ambiguous"]["records"],
        json!(0),
        "each answer of the fixture is one source's"
    );

    let (_, stdout) = scan_in(dir.path(), &["--format", "sarif"]);
    let log: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(log["version"], json!("2.1.0"));
    assert!(
        log["$schema"]
            .as_str()
            .unwrap()
            .ends_with("sarif-schema-2.1.0.json"),
        "{}",
        log["$schema"]
    );
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], json!("provguard"));
    assert_eq!(driver["version"], json!(env!("CARGO_PKG_VERSION")));
    let rules: Vec<&str> = driver["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for id in [
        "input.rejected",
        "limits.min_human_share",
        "limits.max_unknown_share",
        "sources.deny",
        "sources.max_share.gpt4",
    ] {
        assert!(rules.contains(&id), "{id} not in {rules:?}");
    }

    let results = runs[0]["results"].as_array().unwrap();
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index], r["ruleId"].as_str().unwrap());
        assert!(r["message"]["text"].is_string());
    }
    // Each rule's results, as (level, uri, start line).
    let at = |rule: &str| -> Vec<(String, String, Option<u64>)> {
        results
            .iter()
            .filter(|r| r["ruleId"] == json!(rule))
            .map(|r| {
                let location = &r["locations"][0]["physicalLocation"];
                (
                    r["level"].as_str().unwrap().to_owned(),
                    location["artifactLocation"]["uri"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                    location["region"]["startLine"].as_u64(),
                )
            })
            .collect()
    };
    let file = "data.jsonl".to_owned();
    assert_eq!(
        at("input.rejected"),
        [("error".to_owned(), file.clone(), Some(BROKEN_LINE))]
    );
    assert_eq!(
        at("sources.deny"),
        [("error".to_owned(), file.clone(), Some(LEAK_LINE))]
    );
    assert_eq!(
        at("sources.max_share.gpt4"),
        [("warning".to_owned(), file.clone(), Some(GPT4_LINE))]
    );
    assert_eq!(
        at("limits.min_human_share"),
        [("warning".to_owned(), file.clone(), Some(GPT4_LINE))]
    );
    assert_eq!(
        at("limits.max_unknown_share"),
        [("warning".to_owned(), file, None)]
    );
    let deny = results
        .iter()
        .find(|r| r["ruleId"] == json!("sources.deny"))
        .unwrap();
    assert!(deny["message"]["text"].as_str().unwrap().contains(LEAK));
}

/// A JUnit document's suite attributes and test cases, each with its failure's type, message
/// and text when it failed, as an XML parser reads them.
struct JUnit {
    suite: Vec<(String, String)>,
    cases: Vec<(String, Option<Failure>)>,
}

/// A failure's type, message and text.
type Failure = (String, String, String);

fn parse_junit(xml: &str) -> JUnit {
    let mut reader = quick_xml::Reader::from_str(xml);
    let attributes = |e: &quick_xml::events::BytesStart| -> Vec<(String, String)> {
        e.attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    a.key.as_ref().to_owned(),
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap()
                        .into_owned(),
                )
            })
            .collect()
    };
    let get = |attrs: &[(String, String)], key: &str| {
        attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut junit = JUnit {
        suite: Vec::new(),
        cases: Vec::new(),
    };
    let mut failure: Option<Failure> = None;
    loop {
        match reader.read_event().unwrap() {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "testsuite" => {
                junit.suite = attributes(&e);
            }
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "testcase" => {
                junit.cases.push((get(&attributes(&e), "name"), None));
            }
            Event::Start(e) if e.name().as_ref() == "failure" => {
                let a = attributes(&e);
                failure = Some((get(&a, "type"), get(&a, "message"), String::new()));
            }
            Event::Text(t) => {
                if let Some(f) = &mut failure {
                    f.2.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(f) = &mut failure {
                    f.2.push_str(match &*r {
                        "lt" => "<",
                        "gt" => ">",
                        "amp" => "&",
                        "quot" => "\"",
                        "apos" => "'",
                        other => panic!("unknown entity {other}"),
                    });
                }
            }
            Event::End(e) if e.name().as_ref() == "failure" => {
                junit.cases.last_mut().unwrap().1 = failure.take();
            }
            _ => {}
        }
    }
    junit
}

#[test]
fn junit_has_a_test_case_per_check_and_escapes_source_names() {
    let dir = fixture();
    let (_, xml) = scan_in(dir.path(), &["--format", "junit"]);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    // The name is escaped in the attribute, not written raw.
    assert!(xml.contains("leak &lt;&amp;&quot;x"), "{xml}");
    assert!(!xml.contains(LEAK));

    let junit = parse_junit(&xml);
    let names: Vec<&str> = junit.cases.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "input.rejected",
            "input.empty",
            "limits.min_human_share",
            "limits.max_unknown_share",
            "sources.deny",
            "sources.max_share.gpt4",
            "gate.backfire"
        ]
    );
    let failed: Vec<(&str, &str)> = junit
        .cases
        .iter()
        .filter_map(|(n, f)| Some((n.as_str(), f.as_ref()?.0.as_str())))
        .collect();
    assert_eq!(
        failed,
        [
            ("input.rejected", "block"),
            ("limits.min_human_share", "flag"),
            ("limits.max_unknown_share", "flag"),
            ("sources.deny", "block"),
            ("sources.max_share.gpt4", "flag"),
        ]
    );
    let attr = |key: &str| {
        junit
            .suite
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(attr("name").as_deref(), Some("provguard"));
    assert_eq!(attr("tests"), Some(names.len().to_string()));
    assert_eq!(attr("failures"), Some(failed.len().to_string()));

    let case = |name: &str| {
        junit
            .cases
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, f)| f.clone())
            .unwrap()
    };
    let (_, message, text) = case("sources.deny");
    assert!(message.contains(&format!("`{LEAK}`")), "{message}");
    assert!(text.contains(LEAK), "{text}");
    let (_, _, text) = case("input.rejected");
    assert!(
        text.contains(&format!("data.jsonl:{BROKEN_LINE}:")),
        "{text}"
    );

    // A cap on the source: its name is part of the test case's name, quoted as in the policy.
    std::fs::write(
        dir.path().join("policy.toml"),
        "[sources]\nmax_share = { 'leak <&\"x' = 0.01 }\n",
    )
    .unwrap();
    let (_, xml) = scan_in(dir.path(), &["--format", "junit", "--lenient"]);
    let junit = parse_junit(&xml);
    let cap = format!("sources.max_share.{LEAK:?}");
    let (name, failure) = junit.cases.iter().find(|(n, _)| *n == cap).unwrap();
    assert_eq!(name, &cap);
    assert_eq!(failure.as_ref().unwrap().0, "block");
    let (_, stdout) = scan_in(dir.path(), &["--format", "sarif", "--lenient"]);
    let log: Value = serde_json::from_str(&stdout).unwrap();
    let result = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == json!(cap))
        .unwrap();
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        json!(LEAK_LINE)
    );
}

#[test]
fn report_dir_holds_every_format_as_format_prints_it() {
    let dir = fixture();
    let (code, _) = scan_in(dir.path(), &["--report-dir", "out/reports"]);
    assert_eq!(code, 1);
    let out = dir.path().join("out/reports");
    for (format, file) in [
        ("json", "report.json"),
        ("markdown", "summary.md"),
        ("sarif", "report.sarif"),
        ("junit", "junit.xml"),
        ("html", "report.html"),
    ] {
        let written =
            std::fs::read_to_string(out.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let (_, stdout) = scan_in(dir.path(), &["--format", format]);
        assert_eq!(written, stdout, "{file} differs from --format {format}");
    }
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["verdict"], json!("block"));
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.starts_with("### provguard: BLOCK"), "{summary}");
    assert!(
        summary.contains(&format!("`data.jsonl:{BROKEN_LINE}:")),
        "{summary}"
    );
}
