//! The scan report as SARIF 2.1.0, for code-scanning views that annotate files (GitHub code
//! scanning, GitLab, editors).
//!
//! One run; its tool's rules are the checks of the policy ([`super::checks`]). Each record that
//! could not be read is a result at its file and line. Each limit or source rule crossed is a
//! result at every file that contributes to it: for the human share and the loop, the files
//! with synthetic records, at the first line of a synthetic source's records; for a source
//! rule, the files with the source's records, at the first of them. A reason no file is
//! behind (nothing admitted, backfiring curation) is one result at the first input file.
//! Block gives level `error`, flag `warning`.

use std::fmt::Write as _;
use std::path::{Component, Path};

use provguard_gate::{Level, Reason};
use serde_json::{Value, json};

use super::{Check, contributions, number, report_checks};
use crate::Report;

/// The SARIF version written.
pub const SARIF_VERSION: &str = "2.1.0";
/// The JSON schema of SARIF 2.1.0.
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// The base id relative file locations are given against: the folder named by
/// `originalUriBaseIds`.
const BASE_ID: &str = "SRCROOT";

/// The SARIF log of `report`, with file locations relative to `base` (the folder the scan ran
/// in) where they lie below it, else as absolute `file://` URIs.
///
/// ```
/// # fn log(report: &provguard::Report) {
/// let sarif = provguard::formats::sarif::log(report, std::path::Path::new("."));
/// assert_eq!(sarif["version"], "2.1.0");
/// # }
/// ```
#[must_use]
pub fn log(report: &Report, base: &Path) -> Value {
    let checks = report_checks(report);
    let rules: Vec<Value> = checks.iter().map(rule).collect();

    let mut results = Vec::new();
    for reason in &report.reasons {
        let id = super::check_id(&reason.limit);
        let index = checks.iter().position(|c| c.id == id);
        if id == "input.rejected" {
            for p in &report.errors {
                let mut message = p.message.clone();
                if !p.field.is_empty() && !message.contains(&p.field) {
                    message = format!("{}: {message}", p.field);
                }
                if let Some(hint) = &p.hint {
                    message = format!("{message} (hint: {hint})");
                }
                results.push(result(
                    &id,
                    index,
                    reason.level,
                    &format!("{}: {message}", p.locator),
                    Some(location(
                        &p.locator.file.display().to_string(),
                        p.locator.line,
                        base,
                    )),
                    reason,
                ));
            }
            continue;
        }

        let files = contributions(report, reason);
        if files.is_empty() {
            let first = report.inputs.files.first();
            let at = first.map(|file| location(file, None, base));
            results.push(result(
                &id,
                index,
                reason.level,
                &reason.message,
                at,
                reason,
            ));
        }
        for f in files {
            let at = match f.line {
                Some(line) => format!(", {} at line {line}", f.first),
                None => String::new(),
            };
            let message = format!("{}; this file holds {}{at}", reason.message, f.what);
            let at = location(&f.file, f.line, base);
            results.push(result(&id, index, reason.level, &message, Some(at), reason));
        }
    }

    let version = report
        .tool
        .strip_prefix("provguard ")
        .unwrap_or(env!("CARGO_PKG_VERSION"));
    json!({
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {
                "driver": {
                    "name": "provguard",
                    "version": version,
                    "rules": rules,
                }
            },
            "originalUriBaseIds": {
                BASE_ID: { "uri": directory_uri(base) }
            },
            "results": results,
            "properties": {
                "home": report.home,
                "verdict": report.verdict,
                "schema_version": report.schema_version,
                "content_id": report.content_id,
            }
        }]
    })
}

fn rule(check: &Check) -> Value {
    let mut rule = json!({
        "id": check.id,
        "name": check.id,
        "shortDescription": { "text": check.title },
        "fullDescription": { "text": check.description },
        "defaultConfiguration": {
            "level": if check.block.is_some() || check.flag.is_none() { "error" } else { "warning" }
        },
    });
    let mut thresholds = serde_json::Map::new();
    if let Some(flag) = check.flag {
        thresholds.insert("flag".to_owned(), json!(flag));
    }
    if let Some(block) = check.block {
        thresholds.insert("block".to_owned(), json!(block));
    }
    if !thresholds.is_empty() {
        rule["properties"] = Value::Object(thresholds);
    }
    rule
}

fn result(
    id: &str,
    index: Option<usize>,
    level: Level,
    message: &str,
    at: Option<Value>,
    reason: &Reason,
) -> Value {
    let mut result = json!({
        "ruleId": id,
        "level": match level {
            Level::Block => "error",
            Level::Flag => "warning",
            Level::Pass => "note",
        },
        "message": { "text": message },
        "properties": {
            "measured": reason.measured,
            "threshold": reason.threshold,
            "summary": format!(
                "{} {}: measured {}, threshold {}",
                level.as_str(),
                reason.limit,
                number(reason.measured),
                number(Some(reason.threshold))
            ),
        },
    });
    if let Some(index) = index {
        result["ruleIndex"] = json!(index);
    }
    if let Some(at) = at {
        result["locations"] = json!([at]);
    }
    result
}

/// A physical location: the file, and the line when there is one.
fn location(file: &str, line: Option<u64>, base: &Path) -> Value {
    let mut artifact = json!({ "uri": file_uri(file, base) });
    if !Path::new(file).is_absolute() || Path::new(file).starts_with(base) {
        artifact["uriBaseId"] = json!(BASE_ID);
    }
    let mut physical = json!({ "artifactLocation": artifact });
    if let Some(line) = line {
        physical["region"] = json!({ "startLine": line });
    }
    json!({ "physicalLocation": physical })
}

/// A file as a URI reference: relative to `base` (with `/` separators, `./` dropped) when it
/// is relative or lies below `base`, else an absolute `file://` URI.
fn file_uri(file: &str, base: &Path) -> String {
    let path = Path::new(file);
    let relative = if path.is_absolute() {
        path.strip_prefix(base).ok()
    } else {
        Some(path)
    };
    match relative {
        Some(rel) => {
            let parts: Vec<String> = rel
                .components()
                .filter(|c| !matches!(c, Component::CurDir))
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            encode(&parts.join("/"))
        }
        None => format!("file://{}", encode(&absolute_path(path))),
    }
}

/// The folder `base` as a `file://` URI ending with `/`.
fn directory_uri(base: &Path) -> String {
    let mut path = absolute_path(base);
    if !path.ends_with('/') {
        path.push('/');
    }
    format!("file://{}", encode(&path))
}

/// An absolute path with `/` separators, starting with `/` (a Windows drive letter gets one
/// in front).
fn absolute_path(path: &Path) -> String {
    let mut s = path.to_string_lossy().replace('\\', "/");
    if !s.starts_with('/') {
        s.insert(0, '/');
    }
    s
}

/// Percent-encodes what may not stand in a URI path: everything but unreserved characters,
/// `/`, and the sub-delimiters and `:` and `@` that a path segment allows.
fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'/'
                    | b'!'
                    | b'$'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
            );
        if keep {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_below_the_base_are_relative_and_others_absolute() {
        let base = Path::new("/work/repo");
        assert_eq!(file_uri("data/a b.jsonl", base), "data/a%20b.jsonl");
        assert_eq!(file_uri("./data/x.jsonl", base), "data/x.jsonl");
        assert_eq!(file_uri("/work/repo/data/x.jsonl", base), "data/x.jsonl");
        assert_eq!(
            file_uri("/elsewhere/x#1.jsonl", base),
            "file:///elsewhere/x%231.jsonl"
        );
        assert_eq!(file_uri("<stdin>", base), "%3Cstdin%3E");
        assert_eq!(file_uri("données.jsonl", base), "donn%C3%A9es.jsonl");
        assert_eq!(directory_uri(base), "file:///work/repo/");
    }
}
