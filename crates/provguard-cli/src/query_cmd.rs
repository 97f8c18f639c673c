//! `provguard query "SQL"`.

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use provguard_sql::LedgerQuery;

use crate::cli::LedgerArgs;
use crate::output::stdout_line;

/// Flags of `provguard query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// One read-only SQL statement over the tables `fingerprints`, `sources` and `scans`,
    /// e.g. `SELECT source, count(*) FROM fingerprints GROUP BY source`. Files are read by
    /// path (`FROM 'data/*.parquet'`), and `provguard_lineage(text)`, `provguard_origin(text)`
    /// and `provguard_fingerprint(text)` tag texts by the ledger:
    /// `SELECT provguard_lineage(output) AS source, count(*) FROM 'data/*.parquet' GROUP BY
    /// source`.
    #[arg(value_name = "SQL")]
    pub sql: String,

    #[command(flatten)]
    pub ledger: LedgerArgs,

    /// What to print on standard output.
    #[arg(long, value_enum, default_value = "table")]
    pub format: QueryFormat,
}

/// Output formats of `provguard query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueryFormat {
    /// A text table with a header row.
    Table,
    /// A JSON array of objects, one per row.
    Json,
}

pub fn run(args: &QueryArgs) -> anyhow::Result<u8> {
    let dir = &args.ledger.ledger;
    let query = LedgerQuery::open(dir)
        .with_context(|| format!("cannot open the ledger `{}`", dir.display()))?
        .with_files()
        .with_functions();
    let batches = query.run(&args.sql)?;
    let text = match args.format {
        QueryFormat::Table => provguard_sql::to_table(&batches)?,
        QueryFormat::Json => provguard_sql::to_json(&batches)?,
    };
    stdout_line(text.trim_end());
    Ok(crate::EXIT_PASS)
}
