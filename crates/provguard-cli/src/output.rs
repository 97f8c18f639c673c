//! Everything the command prints on purpose. Tracing goes to standard error separately.
#![expect(clippy::print_stderr, reason = "the CLI's output module")]

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anstream::ColorChoice;
use anstyle::{AnsiColor, Style};
use provguard::gate::Level;

use provguard::dynamics::Analysis;
use provguard::ledger::SourceEntry;
use provguard::report::{Problem, Report};
use provguard::{Error, RegisterSummary};

/// How many problems the text summary shows; the JSON report lists more.
const SHOWN_PROBLEMS: usize = 20;

/// `-q`: only the verdict or the report on standard output, only errors on standard error.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Sets `-q` for the whole command.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `-q` was given.
pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Prints a note on standard error, unless quiet.
pub fn note(text: &str) {
    if !is_quiet() {
        eprintln!("note: {text}");
    }
}

/// The verdict in capitals, coloured when standard output takes colour: a terminal, and
/// neither `NO_COLOR` set nor `CLICOLOR=0` (`CLICOLOR_FORCE` forces it).
fn verdict_word(level: Level) -> String {
    let word = level.as_str().to_uppercase();
    if anstream::AutoStream::choice(&std::io::stdout()) == ColorChoice::Never {
        return word;
    }
    let colour = match level {
        Level::Pass => AnsiColor::Green,
        Level::Flag => AnsiColor::Yellow,
        Level::Block => AnsiColor::Red,
    };
    let style = Style::new().bold().fg_color(Some(colour.into()));
    format!("{style}{word}{style:#}")
}

/// Prints a line on standard output; a closed pipe is not an error.
///
/// A failed write (a full disk, a closed pipe) ends the process with exit status 2: a CI job
/// must not pass with a report that was never written.
pub fn stdout_line(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
        write_failed(&e);
    }
}

/// Writes bytes as they are to standard output; a failed write as in [`stdout_line`], except a
/// closed pipe (`provguard man | head`), which is the reader's choice.
pub fn stdout_bytes(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => write_failed(&e),
        _ => {}
    }
}

fn write_failed(e: &std::io::Error) -> ! {
    eprintln!("error: cannot write to standard output: {e}");
    std::process::exit(i32::from(crate::EXIT_ERROR));
}

/// Prints an error with its causes and a hint, as `error:`, `caused by:`, `hint:`.
pub fn error(e: &anyhow::Error) {
    eprintln!("error: {e}");
    for cause in e.chain().skip(1) {
        eprintln!("caused by: {cause}");
    }
    if let Some(hint) = hint(e) {
        eprintln!("hint: {hint}");
    }
}

fn hint(e: &anyhow::Error) -> Option<String> {
    use provguard::ledger::LedgerError;
    for cause in e.chain() {
        if let Some(LedgerError::Missing(dir)) = cause.downcast_ref::<LedgerError>() {
            return Some(format!(
                "register sources first: `provguard register --ledger {} --source NAME --origin \
                 human|synthetic FILE...`, or point `--ledger` (or PROVGUARD_LEDGER) at an \
                 existing ledger",
                dir.display()
            ));
        }
        if let Some(Error::FieldPath(_)) = cause.downcast_ref::<Error>() {
            return Some("write names separated by `.`, with `[]` after a list".to_owned());
        }
    }
    None
}

/// The outcome of a registration.
pub fn registered(source: &SourceEntry, s: &RegisterSummary, ledger: &Path) {
    let what = format!(
        "source `{}` ({}{})",
        source.name,
        source.origin.as_str(),
        if source.curated { ", curated" } else { "" }
    );
    let mut text = if s.refused {
        format!(
            "did not register {what}: nothing was written to `{}`",
            ledger.display()
        )
    } else {
        format!("registered {what} in `{}`", ledger.display())
    };
    let _ = write!(
        text,
        "\n  read {} from {}: {}, {}",
        count(s.records, "record"),
        count(s.files.len() as u64, "file"),
        count(s.texts, "text"),
        count(s.new_entries, "new entry")
    );
    if !s.refused && s.texts > 0 && s.new_entries == 0 {
        text.push_str(" (every text was registered before: nothing committed)");
    }
    if s.empty_texts > 0 {
        let _ = write!(text, "\n  skipped {}", count(s.empty_texts, "empty text"));
    }
    if s.records_without_text > 0 {
        let _ = write!(
            text,
            "\n  {} had no text to register",
            count(s.records_without_text, "record")
        );
    }
    if !is_quiet() {
        stdout_line(&text);
    }
    if !s.problems.is_empty() && (s.refused || !is_quiet()) {
        let level = if s.refused { "error" } else { "warning" };
        eprintln!(
            "{level}: {} could not be read:",
            count(s.problems.len() as u64, "record")
        );
        eprint!("{}", problems(&s.problems));
        if s.refused {
            eprintln!(
                "hint: strict mode registers a source whole or not at all; fix the records, or \
                 pass `--lenient` to register the rest"
            );
        }
    }
}

/// `n` followed by the noun, in the plural unless `n` is 1 (`entry` becomes `entries`).
fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else if let Some(stem) = noun.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {noun}s")
    }
}

/// The summary of a scan for people; with `-q`, the verdict and its reasons only.
pub fn scan_summary(r: &Report, policy: &str, recorded: Option<bool>) {
    if is_quiet() {
        stdout_line(verdict(r).trim_end());
        return;
    }
    let mut t = String::new();
    let a = &r.accounting;
    let _ = writeln!(t, "{} · home model `{}` · policy {policy}", r.tool, r.home);
    let _ = writeln!(
        t,
        "read {} from {}: {} admitted, {} rejected ({} skipped)",
        count(a.records_read, "record"),
        count(r.inputs.files.len() as u64, "file"),
        a.admitted,
        a.rejected,
        count(a.blank_lines, "blank line")
    );
    if !r.inputs.ignored.is_empty() {
        let _ = writeln!(
            t,
            "passed over {} files that are not data files",
            r.inputs.ignored.len()
        );
    }

    composition(&mut t, r);
    dynamics(&mut t, r);

    t.push('\n');
    t.push_str(&verdict(r));
    match recorded {
        Some(true) => t.push_str("\nrecorded this batch's composition in the ledger\n"),
        Some(false) => t.push_str(
            "\nnot recorded: the verdict is block, nothing was admitted, or the same content was \
             recorded before\n",
        ),
        None => {}
    }
    stdout_line(t.trim_end());

    if !r.errors.is_empty() {
        let total = r.errors.len() as u64 + r.errors_not_listed;
        eprintln!("\n{} in the data:", count(total, "problem"));
        eprint!("{}", problems(&r.errors));
    }
    if !r.warnings.is_empty() {
        eprintln!("\n{}:", count(r.warnings.len() as u64, "warning"));
        eprint!("{}", problems(&r.warnings));
    }
}

/// `verdict: BLOCK` and a line per reason.
fn verdict(r: &Report) -> String {
    let mut t = format!("verdict: {}\n", verdict_word(r.verdict));
    for reason in &r.reasons {
        let _ = writeln!(
            t,
            "  {:<5}  {}: {}",
            reason.level.as_str(),
            reason.limit,
            reason.message
        );
    }
    t
}

fn composition(t: &mut String, r: &Report) {
    let c = &r.composition;
    let _ = writeln!(t, "\ncomposition of {} admitted records", r.records);
    for origin in ["human", "synthetic", "unknown", "ambiguous"] {
        let o = c.by_origin[origin];
        let _ = writeln!(t, "  {origin:<10} {:>8}  {}", o.records, percent(o.share));
    }
    let m = &c.by_match;
    let _ = write!(
        t,
        "  matched: exact {}, near {}, spliced {}, none {}",
        m.exact, m.near, m.spliced, m.none
    );
    if let Some(mean) = c.near_mean_confidence {
        let _ = write!(t, " (mean near confidence {mean:.2})");
    }
    t.push('\n');
    if !c.by_source.is_empty() {
        let _ = writeln!(
            t,
            "  by source (ambiguous records count 1/m toward each candidate)"
        );
        for (name, s) in &c.by_source {
            let _ = writeln!(
                t,
                "    {name:<28} {:<9} {:>8}  {}  curated {}",
                s.origin,
                s.records,
                percent(s.share),
                percent(s.curated)
            );
        }
    }
    for set in c.ambiguous.candidates.iter().take(5) {
        let _ = writeln!(
            t,
            "  ambiguous among {}: {}",
            set.sources.join(" | "),
            set.records
        );
    }
    if c.declared.conflict > 0 {
        let _ = writeln!(
            t,
            "  {} records declare a provenance their text contradicts",
            c.declared.conflict
        );
    }
}

fn dynamics(t: &mut String, r: &Report) {
    let d = &r.dynamics;
    let _ = writeln!(t, "\ndynamics (unknown records {})", d.unknown_rule);
    let _ = writeln!(
        t,
        "  regime {} · anchored to human data {}",
        d.regime.as_deref().unwrap_or("undefined"),
        d.anchored
            .map_or("undefined", |a| if a { "yes" } else { "no" })
    );
    let _ = writeln!(
        t,
        "  human share {} · self share {} · other models {}",
        number(d.human_share),
        number(d.self_share),
        number(Some(d.model_shares.values().sum()))
    );
    let _ = writeln!(
        t,
        "  cross-influence share {} · synthetic depth {} · diversity retention {}",
        number(d.cross_influence_share),
        number(d.synthetic_depth),
        number(d.diversity_retention)
    );

    if let Some(w) = &d.what_if {
        let _ = writeln!(
            t,
            "  this batch moves cross-influence share {} -> {}, synthetic depth {} -> {}",
            number(w.before.cross_influence_share),
            number(w.after.cross_influence_share),
            number(w.before.synthetic_depth),
            number(w.after.synthetic_depth)
        );
    }
    for i in d
        .influence
        .iter()
        .filter(|i| i.model == r.home && i.on == r.home)
    {
        // Curation that changes nothing (no curated data, or the reward's optimum reached)
        // is left out; the JSON report lists every influence.
        let effect = i.effect.map(|e| label(&e)).filter(|e| e != "none");
        if let Some(effect) = effect {
            let _ = writeln!(
                t,
                "  curating `{}` data: {effect} on the home model (dJ/dc {})",
                i.from,
                number(i.total)
            );
        }
    }
    for assumption in &d.assumptions {
        let _ = writeln!(t, "  assumption: {assumption}");
    }
}

/// An ecosystem analysis for people.
pub fn analysis(a: &Analysis) {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "regime {} · r(M) {:.6} (margin {:.6}) · r(W) {:.6}",
        label(&a.regime),
        a.spectral_radius,
        a.margin,
        a.lineage_spectral_radius
    );
    let _ = writeln!(
        t,
        "\n{:<20} {:>8} {:>12} {:>10} {:>10} {:>10}",
        "model", "anchored", "reward", "cross-inf", "depth", "diversity"
    );
    for m in &a.models {
        let _ = writeln!(
            t,
            "{:<20} {:>8} {:>12} {:>10} {:>10} {:>10}",
            m.name,
            if m.anchored { "yes" } else { "no" },
            number(m.reward),
            number(m.cross_influence_share),
            number(m.synthetic_depth),
            number(m.diversity_retention)
        );
    }
    for m in &a.models {
        if let Some(point) = &m.stable_point {
            let shown: Vec<String> = point.iter().take(6).map(|v| format!("{v:.6}")).collect();
            let more = if point.len() > 6 { ", ..." } else { "" };
            let _ = writeln!(
                t,
                "stable point of `{}`: [{}{more}]",
                m.name,
                shown.join(", ")
            );
        }
    }
    if !a.influence.is_empty() {
        let _ = writeln!(
            t,
            "\ninfluence of curation share c(model, from) on each model's reward\n{:<14} {:<14} {:<14} {:>14} {:>14}  effect",
            "model", "from", "on", "dJ/dc", "isolated"
        );
        for i in &a.influence {
            let _ = writeln!(
                t,
                "{:<14} {:<14} {:<14} {:>14} {:>14}  {}",
                i.model,
                i.from,
                i.on,
                number(i.total),
                number(i.isolated),
                i.effect
                    .map_or_else(|| "undefined".to_owned(), |e| label(&e))
            );
        }
    }
    for assumption in &a.assumptions {
        let _ = writeln!(t, "assumption: {assumption}");
    }
    stdout_line(t.trim_end());
}

/// A sweep as a table: one row per value, the regime, `r(M)`, each model's reward and
/// cross-influence share, and each self-influence label.
pub fn sweep_table(param: &str, points: &[(f64, Analysis)]) {
    let mut t = String::new();
    let Some((_, first)) = points.first() else {
        return;
    };
    let _ = write!(t, "{param:>14} {:>11} {:>10}", "regime", "r(M)");
    for m in &first.models {
        let _ = write!(
            t,
            " {:>12} {:>10}",
            format!("J({})", m.name),
            format!("X({})", m.name)
        );
    }
    let selfs: Vec<_> = first.influence.iter().filter(|i| i.model == i.on).collect();
    for i in &selfs {
        let _ = write!(t, " {:>14}", format!("c({},{})", i.model, i.from));
    }
    t.push('\n');
    for (value, a) in points {
        let _ = write!(
            t,
            "{value:>14.6} {:>11} {:>10.6}",
            label(&a.regime),
            a.spectral_radius
        );
        for m in &a.models {
            let _ = write!(
                t,
                " {:>12} {:>10}",
                number(m.reward),
                number(m.cross_influence_share)
            );
        }
        for i in a.influence.iter().filter(|i| i.model == i.on) {
            let effect = i
                .effect
                .map_or_else(|| "undefined".to_owned(), |e| label(&e));
            let _ = write!(t, " {effect:>14}");
        }
        t.push('\n');
    }
    stdout_line(t.trim_end());
}

/// The serde name of a label enum.
fn label<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn problems(list: &[Problem]) -> String {
    let mut t = String::new();
    for p in list.iter().take(SHOWN_PROBLEMS) {
        let _ = writeln!(t, "  {}: {}", p.locator, p.message);
        if let Some(hint) = &p.hint {
            let _ = writeln!(t, "    hint: {hint}");
        }
    }
    if list.len() > SHOWN_PROBLEMS {
        let _ = writeln!(
            t,
            "  ... and {} more (see the JSON report)",
            list.len() - SHOWN_PROBLEMS
        );
    }
    t
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "   n/a".to_owned(), |s| format!("{:>5.1}%", s * 100.0))
}

fn number(value: Option<f64>) -> String {
    value.map_or_else(|| "undefined".to_owned(), |v| format!("{v:.4}"))
}
