//! A one-screen Markdown summary of a scan, for a CI job's page: GitHub's
//! `$GITHUB_STEP_SUMMARY`, GitLab's job summaries, a pull-request comment.
//!
//! A headline with the verdict, the composition by origin and the largest sources, the
//! dynamics on one line, each reason with its limit, measured value and threshold, and the
//! first problems in the data with their file and line. The JSON report has everything else.

use std::fmt::Write as _;

use provguard_gate::Level;

use super::{count, number};
use crate::Report;

/// How many sources the summary lists, largest share first.
const SHOWN_SOURCES: usize = 5;
/// How many reasons the summary lists, most severe first.
const SHOWN_REASONS: usize = 10;
/// How many problems in the data the summary lists.
const SHOWN_ERRORS: usize = 5;

/// The Markdown summary of `report`, without a trailing newline.
///
/// ```
/// # fn summary(report: &provguard::Report) {
/// let md = provguard::formats::markdown::summary(report);
/// assert!(md.starts_with("### provguard: "));
/// # }
/// ```
#[must_use]
pub fn summary(report: &Report) -> String {
    let mut t = String::new();
    headline(&mut t, report);
    composition(&mut t, report);
    dynamics(&mut t, report);
    reasons(&mut t, report);
    errors(&mut t, report);
    t.trim_end().to_owned()
}

fn headline(t: &mut String, r: &Report) {
    let a = &r.accounting;
    let why = match r.reasons.len() {
        0 => "no limit crossed".to_owned(),
        n => count(n as u64, "reason"),
    };
    let _ = writeln!(
        t,
        "### provguard: {} — home model {}, {} of {} admitted, {why}\n",
        r.verdict.as_str().to_uppercase(),
        code(&r.home),
        a.admitted,
        count(a.records_read, "record"),
    );
}

fn composition(t: &mut String, r: &Report) {
    let c = &r.composition;
    t.push_str("| origin | records | share |\n|---|---:|---:|\n");
    for origin in ["human", "synthetic", "unknown", "ambiguous"] {
        let o = c.by_origin.get(origin).copied().unwrap_or_default();
        let _ = writeln!(t, "| {origin} | {} | {} |", o.records, percent(o.share));
    }

    let mut sources: Vec<_> = c.by_source.iter().collect();
    sources.sort_by(|(a, x), (b, y)| y.weight.total_cmp(&x.weight).then(a.cmp(b)));
    if !sources.is_empty() {
        t.push_str("\n| source | origin | records | share | curated |\n|---|---|---:|---:|---:|\n");
        for (name, s) in sources.iter().take(SHOWN_SOURCES) {
            let _ = writeln!(
                t,
                "| {} | {} | {} | {} | {} |",
                cell(&code(name)),
                s.origin,
                s.records,
                percent(s.share),
                percent(s.curated)
            );
        }
        if sources.len() > SHOWN_SOURCES {
            let _ = writeln!(
                t,
                "\n{} more in the JSON report.",
                count((sources.len() - SHOWN_SOURCES) as u64, "source")
            );
        }
    }
    t.push('\n');
}

fn dynamics(t: &mut String, r: &Report) {
    let d = &r.dynamics;
    let _ = writeln!(
        t,
        "**Dynamics** (unknown records {}): regime {}, spectral radius {}, cross-influence \
         share {}, synthetic depth {}, human share {}.",
        d.unknown_rule,
        d.regime.as_deref().unwrap_or("undefined"),
        number(d.spectral_radius),
        number(d.cross_influence_share),
        number(d.synthetic_depth),
        number(d.human_share),
    );
    if let Some(w) = &d.what_if {
        let _ = writeln!(
            t,
            "This batch moves cross-influence share {} → {} ({}), synthetic depth {} → {} \
             ({}), spectral radius {} → {} ({}), regime {} → {}.",
            number(w.before.cross_influence_share),
            number(w.after.cross_influence_share),
            signed(w.change.cross_influence_share),
            number(w.before.synthetic_depth),
            number(w.after.synthetic_depth),
            signed(w.change.synthetic_depth),
            number(Some(w.spectral_radius[0])),
            number(Some(w.spectral_radius[1])),
            signed(Some(w.change.spectral_radius)),
            w.regime[0],
            w.regime[1],
        );
    }
    t.push('\n');
}

fn reasons(t: &mut String, r: &Report) {
    if r.reasons.is_empty() {
        return;
    }
    t.push_str("**Reasons**\n\n");
    for reason in r.reasons.iter().take(SHOWN_REASONS) {
        let _ = writeln!(
            t,
            "- **{}** {}: measured {}, threshold {}: {}",
            reason.level.as_str(),
            code(&reason.limit),
            number(reason.measured),
            number(Some(reason.threshold)),
            text(&reason.message)
        );
    }
    if r.reasons.len() > SHOWN_REASONS {
        let _ = writeln!(
            t,
            "- and {} more in the JSON report",
            count((r.reasons.len() - SHOWN_REASONS) as u64, "reason")
        );
    }
    t.push('\n');
}

fn errors(t: &mut String, r: &Report) {
    if r.errors.is_empty() {
        return;
    }
    let total = r.errors.len() as u64 + r.errors_not_listed;
    let blocks = r
        .reasons
        .iter()
        .any(|reason| reason.limit == "strict" && reason.level == Level::Block);
    let _ = writeln!(
        t,
        "**{} in the data**{}\n",
        count(total, "problem"),
        if blocks { " (strict mode blocks)" } else { "" }
    );
    for p in r.errors.iter().take(SHOWN_ERRORS) {
        let _ = writeln!(
            t,
            "- {}: {}",
            code(&p.locator.to_string()),
            text(&p.message)
        );
    }
    if total > SHOWN_ERRORS as u64 {
        let _ = writeln!(
            t,
            "- and {} more in the JSON report",
            total - SHOWN_ERRORS as u64
        );
    }
}

/// A share as a percentage with one decimal; `n/a` for `None`.
fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "n/a".to_owned(), |s| format!("{:.1}%", s * 100.0))
}

/// A signed change, `+0.0123`; `undefined` for `None`.
fn signed(change: Option<f64>) -> String {
    match change {
        Some(v) if v >= 0.0 => format!("+{}", number(Some(v))),
        other => number(other),
    }
}

/// `value` as a code span: fenced by one backtick more than the longest run inside it, and
/// padded with spaces when it starts or ends with a backtick (CommonMark's rules), so that
/// any name shows as written.
fn code(value: &str) -> String {
    let value = value.replace(['\n', '\r'], " ");
    let longest = value.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if value.starts_with('`') || value.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{value}{pad}{fence}")
}

/// Text inside a table cell: a `|` would end the cell, even inside a code span.
fn cell(value: &str) -> String {
    value.replace('|', "\\|")
}

/// A sentence of the report as Markdown text: the parts between backticks stay code spans
/// (the reasons put names there), everything else is escaped so that no character of a name
/// or a message starts emphasis, a link or an HTML tag. A sentence with an odd number of
/// backticks is escaped whole.
fn text(message: &str) -> String {
    let message = message.replace(['\n', '\r'], " ");
    let parts: Vec<&str> = message.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return escape(&message);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("`{part}`")
            } else {
                escape(part)
            }
        })
        .collect()
}

/// Escapes the ASCII punctuation Markdown gives a meaning, with backslashes.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '&' | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_hold_backticks_and_table_cells_hold_pipes() {
        assert_eq!(code("gpt4"), "`gpt4`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(cell(&code("a|b")), "`a\\|b`");
    }

    #[test]
    fn text_keeps_code_spans_and_escapes_the_rest() {
        assert_eq!(
            text("source `<&\"x` makes up 5% of *the* batch"),
            "source `<&\"x` makes up 5% of \\*the\\* batch"
        );
        assert_eq!(text("odd ` <b>"), "odd \\` \\<b\\>");
    }
}
