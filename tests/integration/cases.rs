//! The input cases of `../shared/cases/ingest`, through the whole scan.

use serde_json::json;

use crate::support::{case, permissive_policy, provguard, scan_json};

/// A scan of one case file against an empty ledger.
fn scan_case(name: &str, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    crate::support::register(
        &ledger,
        "seed-tasks",
        "human",
        &["instances[].output"],
        &crate::support::data("human/alpaca_seed_tasks.jsonl"),
    );
    let policy = permissive_policy(dir.path());
    let mut args = vec!["--policy", policy.to_str().unwrap()];
    args.extend_from_slice(extra);
    scan_json(&ledger, &[&case(name)], &args)
}

#[test]
fn invalid_utf8_and_a_truncated_record_are_rejected_by_line_and_block_the_gate() {
    let (code, report, _) = scan_case("05-invalid-utf8-truncated.jsonl", &[]);
    assert_eq!(code, 1);
    assert_eq!(report["verdict"], json!("block"));
    let a = &report["accounting"];
    assert_eq!(
        (&a["admitted"], &a["rejected"], &a["records_read"]),
        (&json!(1), &json!(3), &json!(4))
    );
    let errors = report["errors"].as_array().unwrap();
    let lines: Vec<u64> = errors.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [2, 3, 4]);
    for e in &errors[..2] {
        assert!(e["column"].is_u64() && e["offset"].is_u64(), "{e}");
    }
    assert!(
        errors[2]["message"]
            .as_str()
            .unwrap()
            .contains("unexpected end of file")
    );
}

#[test]
fn lenient_mode_lists_rejected_records_without_blocking() {
    let (code, report, _) = scan_case("05-invalid-utf8-truncated.jsonl", &["--lenient"]);
    assert_eq!((code, report["verdict"].as_str().unwrap()), (0, "flag"));
    assert_eq!(report["accounting"]["rejected"], json!(3));
}

#[test]
fn a_json_array_saved_as_jsonl_is_one_file_error_with_a_hint() {
    let (code, report, _) = scan_case("07-json-array-in-jsonl.jsonl", &[]);
    assert_eq!(code, 1);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (&errors[0]["line"], &errors[0]["column"]),
        (&json!(1), &json!(1))
    );
    assert!(errors[0]["hint"].as_str().unwrap().contains("json"));

    let (code, report, _) = scan_case("07-json-array-in-jsonl.jsonl", &["--input-format", "json"]);
    assert_eq!(code, 0);
    assert_eq!(report["accounting"]["admitted"], json!(2));
}

#[test]
fn every_gzip_member_is_read() {
    let (_, report, _) = scan_case("12-gzip-multimember.jsonl.gz", &[]);
    assert_eq!(report["accounting"]["admitted"], json!(3));
}

#[test]
fn blank_lines_are_counted_not_rejected() {
    let (code, report, _) = scan_case("02-line-framing.jsonl", &[]);
    assert_eq!(code, 0);
    let a = &report["accounting"];
    assert_eq!(
        (&a["admitted"], &a["rejected"], &a["blank_lines"]),
        (&json!(4), &json!(0), &json!(3))
    );
}

#[test]
fn field_type_errors_name_the_field_and_the_type_found() {
    let (code, report, _) = scan_case("08-mixed-field-types.jsonl", &[]);
    assert_eq!(code, 1);
    let errors = report["errors"].as_array().unwrap();
    let found: Vec<(u64, &str)> = errors
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(found, [(4, "input"), (5, "output")]);
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("found a number")
    );
    assert!(
        errors[1]["message"]
            .as_str()
            .unwrap()
            .contains("found an array")
    );
    assert_eq!(report["accounting"]["admitted"], json!(5));
}

#[test]
fn an_unknown_role_is_an_error_unless_mapped() {
    let (code, report, _) = scan_case("09-sharegpt-variants.jsonl", &[]);
    assert_eq!(code, 1);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (&errors[0]["line"], &errors[0]["field"]),
        (&json!(9), &json!("conversations[0].from"))
    );
    let flags = &report["composition"]["flags"];
    assert_eq!(
        (
            &flags["system_turn"],
            &flags["empty_turn"],
            &flags["repeated_role"]
        ),
        (&json!(1), &json!(1), &json!(1))
    );

    let (code, report, _) = scan_case("09-sharegpt-variants.jsonl", &["--role-map", "bing=user"]);
    assert_eq!(code, 0);
    assert_eq!(report["accounting"]["admitted"], json!(9));
}

#[test]
fn a_byte_order_mark_inside_the_file_is_an_error_at_its_line() {
    let (code, report, _) = scan_case("01-bom-varying-keys.jsonl", &[]);
    assert_eq!(code, 1);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(
        (&errors[0]["line"], &errors[0]["column"]),
        (&json!(3), &json!(1))
    );
    let (code, report, _) = scan_case("01-bom-varying-keys.jsonl", &["--lenient"]);
    assert_eq!(code, 0);
    assert_eq!(report["accounting"]["admitted"], json!(3));
    assert_eq!(report["warnings"][0]["line"], json!(3));
}

#[test]
fn parquet_rows_are_scanned_with_row_locators() {
    let (code, report, stderr) = scan_case("11-parquet-nested-types.parquet", &[]);
    assert!(code == 0 || code == 1, "{stderr}");
    assert!(report["accounting"]["records_read"].as_u64().unwrap() > 0);
    for e in report["errors"].as_array().unwrap() {
        assert!(e["row"].is_u64(), "{e}");
    }
    // Rows without text are kept (and flagged), never rejected: a null column is an absent one.
    assert_eq!(
        report["accounting"]["rejected"],
        json!(0),
        "{}",
        report["errors"]
    );
}

#[test]
fn text_output_names_the_verdict_and_problems_go_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    crate::support::register(
        &ledger,
        "gpt4",
        "synthetic",
        &[],
        &crate::support::data("models/gpt4.jsonl"),
    );
    let out = provguard(&ledger)
        .arg("scan")
        .arg(case("05-invalid-utf8-truncated.jsonl"))
        .args(["--home", "m"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("verdict: BLOCK"), "{stdout}");
    assert!(
        stderr.contains("05-invalid-utf8-truncated.jsonl:2:"),
        "{stderr}"
    );
}
