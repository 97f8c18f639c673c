//! The scan report as JUnit XML, for CI test-report views (GitLab's `artifacts:reports:junit`,
//! GitHub test-report actions, Jenkins).
//!
//! One test suite `provguard` with one test case per check of the policy ([`super::checks`]):
//! each limit set, each source rule, and the checks on the input. A check that a reason names
//! fails, with the level (`block` or `flag`) as the failure's type and every reason's message,
//! measured value and threshold in its text. JUnit knows no warnings, so a flag fails its test
//! case too; the verdict is a property of the suite.

use std::fmt::Write as _;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::{number, reasons_of, report_checks};
use crate::Report;

/// How many problems in the data the failure of `input.rejected` lists.
const LISTED_ERRORS: usize = 20;

/// The JUnit XML of `report`, without a trailing newline.
///
/// # Panics
///
/// Never in practice: the XML is written into memory, which cannot fail.
///
/// ```
/// # fn xml(report: &provguard::Report) {
/// let xml = provguard::formats::junit::xml(report);
/// assert!(xml.contains("<testsuite name=\"provguard\""));
/// # }
/// ```
#[must_use]
pub fn xml(report: &Report) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    write(&mut writer, report).expect("writing XML into memory cannot fail");
    String::from_utf8(writer.into_inner()).expect("the XML is written from strings")
}

fn write(w: &mut Writer<Vec<u8>>, report: &Report) -> std::io::Result<()> {
    let checks = report_checks(report);
    let failed = checks
        .iter()
        .filter(|c| reasons_of(report, &c.id).next().is_some())
        .count();
    let tests = checks.len().to_string();
    let failures = failed.to_string();
    let counts = [
        ("name", "provguard"),
        ("tests", tests.as_str()),
        ("failures", failures.as_str()),
        ("errors", "0"),
        ("skipped", "0"),
    ];

    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("testsuites")
        .with_attributes(counts)
        .write_inner_content(|w| {
            w.create_element("testsuite")
                .with_attributes(counts)
                .write_inner_content(|w| {
                    properties(w, report)?;
                    for check in &checks {
                        testcase(w, report, &check.id)?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    Ok(())
}

fn properties(w: &mut Writer<Vec<u8>>, report: &Report) -> std::io::Result<()> {
    let schema_version = report.schema_version.to_string();
    let records = report.records.to_string();
    let properties = [
        ("home", report.home.as_str()),
        ("verdict", report.verdict.as_str()),
        ("tool", report.tool.as_str()),
        ("schema_version", schema_version.as_str()),
        ("records", records.as_str()),
        ("content_id", report.content_id.as_str()),
    ];
    w.create_element("properties").write_inner_content(|w| {
        for (name, value) in properties {
            w.create_element("property")
                .with_attributes([("name", name), ("value", xml_chars(value).as_str())])
                .write_empty()?;
        }
        Ok(())
    })?;
    Ok(())
}

fn testcase(w: &mut Writer<Vec<u8>>, report: &Report, id: &str) -> std::io::Result<()> {
    let name = xml_chars(id);
    let element = w
        .create_element("testcase")
        .with_attributes([("name", name.as_str()), ("classname", "provguard")]);
    let reasons: Vec<_> = reasons_of(report, id).collect();
    let Some(level) = reasons.iter().map(|r| r.level).max() else {
        element.write_empty()?;
        return Ok(());
    };

    let message: Vec<&str> = reasons.iter().map(|r| r.message.as_str()).collect();
    let mut details = String::new();
    for r in &reasons {
        let _ = writeln!(
            details,
            "{} {}: measured {}, threshold {}: {}",
            r.level.as_str(),
            r.limit,
            number(r.measured),
            number(Some(r.threshold)),
            r.message
        );
    }
    if id == "input.rejected" {
        for p in report.errors.iter().take(LISTED_ERRORS) {
            let _ = writeln!(details, "{}: {}", p.locator, p.message);
        }
        let more =
            report.errors.len().saturating_sub(LISTED_ERRORS) as u64 + report.errors_not_listed;
        if more > 0 {
            let _ = writeln!(details, "... and {more} more in the JSON report");
        }
    }

    let kind = level.as_str();
    let message = xml_chars(&message.join("; "));
    let details = xml_chars(&details);
    element.write_inner_content(|w| {
        w.create_element("failure")
            .with_attributes([("message", message.as_str()), ("type", kind)])
            .write_text_content(BytesText::new(&details))?;
        Ok(())
    })?;
    Ok(())
}

/// `s` with every character XML 1.0 does not allow, even escaped (control characters other
/// than tab, line feed and carriage return, U+FFFE and U+FFFF), replaced by U+FFFD.
fn xml_chars(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
            _ => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_xml_cannot_hold_are_replaced() {
        assert_eq!(xml_chars("a\u{1}b\tc\u{ffff}"), "a\u{fffd}b\tc\u{fffd}");
    }
}
