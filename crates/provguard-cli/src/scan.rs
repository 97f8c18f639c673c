//! `provguard scan`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use provguard::dynamics::Ecosystem;
use provguard::gate::Level;
use provguard::ledger::Ledger;
use provguard::quarantine::Outputs;
use provguard::{Report, Scan, formats};

use crate::cli::{ScanArgs, ScanFormatArg};
use crate::{EXIT_BLOCK, EXIT_PASS, config, output};

pub fn run(args: &ScanArgs) -> anyhow::Result<u8> {
    let (read, schema) = config::read_options(&args.read)?;
    let (policy, policy_name) = config::policy(args.policy.as_ref())?;
    let ecosystem = match &args.ecosystem {
        Some(path) => Some(Ecosystem::load(path).context("cannot use the ecosystem file")?),
        None => None,
    };
    let ledger = Ledger::open(&args.ledger.ledger)
        .with_context(|| format!("cannot open the ledger `{}`", args.ledger.ledger.display()))?;

    let scan = Scan {
        home: args.home.clone(),
        policy,
        read,
        schema,
        ecosystem,
        threads: None,
    };
    let (mut report, mut ledger) = if let Some(url) = &args.cluster {
        on_cluster(url, &scan, ledger, &args.paths, &args.ledger.ledger)?
    } else {
        let report = locally(&scan, &ledger, args)?;
        (report, ledger)
    };
    unregistered_rule_sources(&mut report, &ledger, &policy_name);
    let recorded = if args.record {
        let recorded = scan
            .record(&mut ledger, &report)
            .context("cannot record the scan in the ledger")?;
        Some(recorded)
    } else {
        None
    };

    let json = serde_json::to_string_pretty(&report).context("cannot encode the report")?;
    if let Some(path) = &args.report {
        fs_err::write(path, format!("{json}\n")).context("cannot write the report")?;
    }
    if let Some(dir) = &args.report_dir {
        write_report_dir(dir, &report, &json)?;
    }
    match args.format {
        ScanFormatArg::Json => output::stdout_line(&json),
        ScanFormatArg::Text => output::scan_summary(&report, &policy_name, recorded),
        ScanFormatArg::Markdown => output::stdout_line(&formats::markdown::summary(&report)),
        ScanFormatArg::Sarif => output::stdout_line(&sarif(&report)?),
        ScanFormatArg::Junit => output::stdout_line(&formats::junit::xml(&report)),
        ScanFormatArg::Html => output::stdout_line(&formats::html::render(&report)),
    }
    Ok(if report.verdict == Level::Block {
        EXIT_BLOCK
    } else {
        EXIT_PASS
    })
}

/// The scan on this machine, with a progress bar on a terminal.
fn locally(scan: &Scan, ledger: &Ledger, args: &ScanArgs) -> anyhow::Result<Report> {
    let outputs = Outputs {
        admit: args.admit.clone(),
        quarantine: args.quarantine.clone(),
        records: args.records.clone(),
    };
    // A progress bar on a terminal only, cleared before anything else is printed.
    let bar = crate::progress::Bar::on_terminal(output::is_quiet());
    let observer: &dyn provguard::scan::Progress = match &bar {
        Some(bar) => bar,
        None => &(),
    };
    let report = scan.run_observed(ledger, &args.paths, &outputs, observer);
    if let Some(bar) = &bar {
        bar.finish();
    }
    Ok(report?)
}

/// The scan on the Ballista cluster at `url`; gives the ledger back for `--record`.
fn on_cluster(
    url: &str,
    scan: &Scan,
    ledger: Ledger,
    paths: &[PathBuf],
    dir: &Path,
) -> anyhow::Result<(Report, Ledger)> {
    let ledger = Arc::new(ledger);
    let report = provguard_cluster::client::run(url, scan, &ledger, paths)?;
    // The client's sessions are gone, and with them their handles on the ledger.
    let ledger = match Arc::try_unwrap(ledger) {
        Ok(ledger) => ledger,
        Err(_) => Ledger::open(dir)
            .with_context(|| format!("cannot open the ledger `{}`", dir.display()))?,
    };
    Ok((report, ledger))
}

/// Warns (on standard error and in the report's `warnings`) of every source the policy's
/// `[sources]` rules name that the ledger does not hold: a misspelt name in a deny list or a
/// cap would otherwise silently enforce nothing.
fn unregistered_rule_sources(report: &mut Report, ledger: &Ledger, policy_name: &str) {
    let rules = &report.policy.sources;
    let named = rules
        .deny
        .iter()
        .map(|n| ("sources.deny", n))
        .chain(rules.allow.iter().map(|n| ("sources.allow", n)))
        .chain(rules.max_share.keys().map(|n| ("sources.max_share", n)));
    let mut warnings = Vec::new();
    for (key, name) in named {
        if ledger.sources().iter().any(|s| &s.name == name) {
            continue;
        }
        let message = format!(
            "the policy's `{key}` names source `{name}`, which the ledger does not hold: the \
             rule enforces nothing until a source of that name is registered (a misspelling?)"
        );
        if !output::is_quiet() {
            eprintln!("warning: {message}");
        }
        let locator = provguard::ingest::Locator::file(Path::new(policy_name));
        warnings.push(provguard::report::Problem::at(&locator, key, &message));
    }
    report.warnings.extend(warnings);
}

/// The report in every format, each file as `--format` prints it: `report.json`, `summary.md`,
/// `report.sarif`, `junit.xml` and `report.html` in `dir`, created if missing.
fn write_report_dir(dir: &Path, report: &Report, json: &str) -> anyhow::Result<()> {
    fs_err::create_dir_all(dir).context("cannot create the report folder")?;
    let files = [
        ("report.json", json.to_owned()),
        ("summary.md", formats::markdown::summary(report)),
        ("report.sarif", sarif(report)?),
        ("junit.xml", formats::junit::xml(report)),
        ("report.html", formats::html::render(report)),
    ];
    for (name, text) in files {
        fs_err::write(dir.join(name), format!("{text}\n")).context("cannot write the report")?;
    }
    Ok(())
}

/// The SARIF log, with file locations relative to the current folder.
fn sarif(report: &Report) -> anyhow::Result<String> {
    let base = std::env::current_dir().context("cannot read the current folder")?;
    let log = formats::sarif::log(report, &base);
    serde_json::to_string_pretty(&log).context("cannot encode the SARIF log")
}
