//! `provguard ledger verify` and `provguard ledger stats`.

use std::fmt::Write as _;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use provguard::ledger::{Ledger, Stats, Verification};

use crate::cli::LedgerArgs;
use crate::output::stdout_line;

/// Subcommands of `provguard ledger`.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Check the whole chain: every link follows the one before, every listed segment and
    /// filter has the size and blake3 hash its link says, and no unlisted file was added.
    ///
    /// A modified, removed, reordered or added file is named. Exit status: 0 the ledger is
    /// whole, 1 something is wrong, 2 the ledger cannot be read.
    Verify(VerifyArgs),
    /// Show the sources, origins, counts, filter settings, index memory and size on disk.
    Stats(StatsArgs),
}

/// Flags of `provguard ledger verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub ledger: LedgerArgs,

    /// What to print on standard output.
    #[arg(long, value_enum, default_value = "text")]
    pub format: TextOrJson,
}

/// Flags of `provguard ledger stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub ledger: LedgerArgs,

    /// What to print on standard output.
    #[arg(long, value_enum, default_value = "text")]
    pub format: TextOrJson,
}

/// Output formats of the ledger commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextOrJson {
    /// For people.
    Text,
    /// For machines.
    Json,
}

/// Exit status when the ledger is damaged.
const EXIT_DAMAGED: u8 = 1;

pub fn run(command: &LedgerCommand) -> anyhow::Result<u8> {
    match command {
        LedgerCommand::Verify(args) => verify(args),
        LedgerCommand::Stats(args) => stats(args),
    }
}

fn verify(args: &VerifyArgs) -> anyhow::Result<u8> {
    let dir = &args.ledger.ledger;
    let verification = provguard::ledger::verify(dir)
        .with_context(|| format!("cannot verify the ledger `{}`", dir.display()))?;
    match args.format {
        TextOrJson::Json => {
            let mut value = serde_json::to_value(&verification)?;
            value["ok"] = verification.ok().into();
            stdout_line(&serde_json::to_string_pretty(&value)?);
        }
        TextOrJson::Text => stdout_line(&verification_text(dir, &verification)),
    }
    Ok(if verification.ok() {
        crate::EXIT_PASS
    } else {
        EXIT_DAMAGED
    })
}

fn verification_text(dir: &std::path::Path, v: &Verification) -> String {
    let mut t = String::new();
    for problem in &v.problems {
        let kind = serde_json::to_value(&problem.kind)
            .ok()
            .and_then(|k| k.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(t, "{kind}: `{}`: {}", problem.file, problem.message);
    }
    for note in &v.notes {
        let _ = writeln!(t, "note: {note}");
    }
    let _ = write!(
        t,
        "ledger `{}`: {} links, {} files checked, head `{}`\n{}",
        dir.display(),
        v.links,
        v.files_checked,
        &v.head[..16.min(v.head.len())],
        if v.ok() {
            "ok: the chain is whole".to_owned()
        } else {
            format!("damaged: {} problems found", v.problems.len())
        }
    );
    t
}

fn stats(args: &StatsArgs) -> anyhow::Result<u8> {
    let dir = &args.ledger.ledger;
    let ledger =
        Ledger::open(dir).with_context(|| format!("cannot open the ledger `{}`", dir.display()))?;
    let stats = ledger.stats()?;
    match args.format {
        TextOrJson::Json => stdout_line(&serde_json::to_string_pretty(&stats)?),
        TextOrJson::Text => stdout_line(&stats_text(&stats)),
    }
    Ok(crate::EXIT_PASS)
}

fn stats_text(s: &Stats) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "ledger `{}` ({}, normalisation `{}`)\n",
        s.ledger.display(),
        s.format,
        s.normalisation
    );
    let width = s
        .sources
        .iter()
        .map(|x| x.name.len())
        .max()
        .unwrap_or(0)
        .max(6);
    let _ = writeln!(
        t,
        "{:width$}  {:9}  {:7}  {:>13}  {:>10}  {:>10}",
        "source", "origin", "curated", "registrations", "texts", "entries"
    );
    for x in &s.sources {
        let _ = writeln!(
            t,
            "{:width$}  {:9}  {:7}  {:>13}  {:>10}  {:>10}",
            x.name,
            x.origin,
            if x.curated { "yes" } else { "no" },
            x.registrations,
            x.texts,
            x.entries
        );
    }
    let _ = writeln!(t);
    for (origin, o) in &s.origins {
        let _ = writeln!(t, "{origin}: {} sources, {} entries", o.sources, o.entries);
    }
    let _ = writeln!(
        t,
        "registrations: {}\nentries: {}\ndistinct fingerprints: {}\nrecorded scans: {}",
        s.registrations, s.entries, s.fingerprints, s.scans
    );
    match s.filters.first() {
        None => {
            let _ = writeln!(t, "filters: none");
        }
        Some(first) => {
            let bits: u64 = s.filters.iter().map(|f| f.settings.num_bits).sum();
            let items: u64 = s.filters.iter().map(|f| f.settings.items).sum();
            let _ = writeln!(
                t,
                "filters: {} of `{}/{}` shingles, sized for a false-positive rate of {}, {} \
                 shingles in {} bits",
                s.filters.len(),
                first.settings.scheme,
                first.settings.n,
                first.settings.target_false_positive_rate,
                items,
                bits
            );
        }
    }
    let per_million = if s.fingerprints == 0 {
        0.0
    } else {
        s.index_bytes as f64 / s.fingerprints as f64
    };
    let _ = write!(
        t,
        "index memory: {} bytes ({per_million:.1} bytes per fingerprint)\nsize on disk: {} \
         bytes in {} chained files",
        s.index_bytes, s.size_on_disk, s.links
    );
    t
}
