//! `provguard scan`.

use anyhow::Context as _;
use provguard::Scan;
use provguard::dynamics::Ecosystem;
use provguard::gate::Level;
use provguard::ledger::Ledger;
use provguard::quarantine::Outputs;

use crate::cli::{FormatArg, ScanArgs};
use crate::{EXIT_BLOCK, EXIT_PASS, config, output};

pub fn run(args: &ScanArgs) -> anyhow::Result<u8> {
    let (read, schema) = config::read_options(&args.read)?;
    let (policy, policy_name) = config::policy(args.policy.as_ref())?;
    let ecosystem = match &args.ecosystem {
        Some(path) => Some(Ecosystem::load(path).context("cannot use the ecosystem file")?),
        None => None,
    };
    let mut ledger = Ledger::open(&args.ledger.ledger)
        .with_context(|| format!("cannot open the ledger `{}`", args.ledger.ledger.display()))?;

    let scan = Scan {
        home: args.home.clone(),
        policy,
        read,
        schema,
        ecosystem,
    };
    let outputs = Outputs {
        admit: args.admit.clone(),
        quarantine: args.quarantine.clone(),
        records: args.records.clone(),
    };
    let report = scan.run_with(&ledger, &args.paths, &outputs)?;
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
    match args.format {
        FormatArg::Json => output::stdout_line(&json),
        FormatArg::Text => output::scan_summary(&report, &policy_name, recorded),
    }
    Ok(if report.verdict == Level::Block {
        EXIT_BLOCK
    } else {
        EXIT_PASS
    })
}
