//! Raw command-line flags, as clap parses them. They are validated into a configuration in
//! `config.rs`; errors about their meaning come from there.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use provguard::lineage::near::DEFAULT_FALSE_POSITIVE_RATE;

/// Guard fine-tuning data against model collapse: tag every record's lineage against a
/// provenance ledger, model how the models feeding each other shape the home model, and pass,
/// flag or block the dataset by a policy.
///
/// Exit status: 0 pass or flag, 1 block, 2 provguard could not do its job (bad usage, a bad
/// policy, a file or ledger that cannot be opened).
#[derive(Debug, Parser)]
#[command(name = "provguard", version, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,

    /// More detail on standard error (-v decisions, -vv per batch); `RUST_LOG` overrides.
    #[arg(
        short,
        long,
        action = clap::ArgAction::Count,
        global = true,
        help_heading = "Global options"
    )]
    pub verbose: u8,

    /// Print only the verdict (or the report asked for) on standard output, and nothing on
    /// standard error but errors; no progress bar.
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "verbose",
        help_heading = "Global options"
    )]
    pub quiet: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Record the texts of files under a source in the provenance ledger.
    ///
    /// By default each record's response side is taken (output, completion, assistant turns,
    /// the chosen answer, or text). Registering the same texts twice adds nothing.
    Register(RegisterArgs),
    /// Scan a dataset and print the verdict.
    ///
    /// Reads every record of the given files and folders (recursively), tags its lineage,
    /// measures the composition, models the ecosystem and applies the policy. Problems inside
    /// the data never stop the scan: they are listed, and in strict mode (the default) any
    /// rejected record blocks.
    ///
    /// Exit status: 0 pass or flag, 1 block, 2 provguard could not do its job.
    Scan(ScanArgs),
    /// Model an ecosystem described in a file: stable point, lineage and curation influence.
    ///
    /// Prints the regime, both spectral radii, each model's stable point, reward,
    /// cross-influence share, synthetic depth and diversity retention, and the influence of
    /// every curation share on every model it reaches. `--sweep` varies one number of the file
    /// over a range and prints each quantity along it.
    Simulate(SimulateArgs),
    /// Inspect the provenance ledger: verify its chain of segments, or show what it holds.
    #[command(subcommand)]
    Ledger(crate::ledger_cmd::LedgerCommand),
    /// Run one read-only SQL query (DataFusion) over the ledger's tables `fingerprints`,
    /// `sources` and `scans`, and print the result as a table or as JSON.
    Query(crate::query_cmd::QueryArgs),
    /// Check policy files.
    #[command(subcommand)]
    Policy(crate::policy_cmd::PolicyCommand),
    /// Run a scheduler or an executor of a Ballista cluster that scans datasets too large for
    /// one machine (`provguard scan --cluster df://HOST:PORT`).
    #[command(subcommand)]
    Cluster(crate::cluster_cmd::ClusterCommand),
    /// Set up a folder: a starter policy `provguard-policy.toml` (the default policy) and an
    /// empty ledger folder `.provguard/`.
    ///
    /// Refuses to overwrite a starter policy that exists unless `--force`; a ledger that
    /// exists is left as it is.
    Init(crate::init::InitArgs),
    /// Print a shell completion script (bash, elvish, fish, powershell, zsh).
    ///
    /// For bash: `provguard completions bash > ~/.local/share/bash-completion/completions/provguard`.
    Completions(crate::generate::CompletionsArgs),
    /// Print the man page (roff), or write one page per command to a folder.
    ///
    /// `provguard man | man -l -` reads it; `provguard man scan` prints the page of `scan`.
    Man(crate::generate::ManArgs),
}

/// Flags of `provguard simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The ecosystem file (TOML or JSON; see docs/ecosystem.md).
    #[arg(long, value_name = "FILE")]
    pub ecosystem: PathBuf,

    /// Vary one number of the file: `PATH=FROM:TO:STEPS`, e.g.
    /// `models.p.inputs.q.curated=0:1:11` or `models.q.inputs.p.transfer_scale=0:1:21`.
    #[arg(long, value_name = "PATH=FROM:TO:STEPS")]
    pub sweep: Option<String>,

    /// A model whose anchoring decides the regime; repeat for several (default: all).
    #[arg(long, value_name = "MODEL")]
    pub watch: Vec<String>,

    /// What to print on standard output.
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,
}

/// Where the ledger is.
#[derive(Debug, Args)]
pub struct LedgerArgs {
    /// The provenance ledger folder.
    #[arg(
        long,
        env = "PROVGUARD_LEDGER",
        default_value = ".provguard",
        value_name = "DIR"
    )]
    pub ledger: PathBuf,
}

/// How inputs are read.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Read every file as this format instead of deciding by name and content.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormatArg>,

    /// Lenient mode: fix what can be fixed (a stray byte-order mark) with a warning, and go on
    /// past records that cannot be read: a scan flags instead of blocking, a registration
    /// commits the rest.
    #[arg(long)]
    pub lenient: bool,

    /// Map a dataset's role name to a known role: `--role-map bing=user` (roles: system,
    /// user, assistant, `tool_call`, tool).
    #[arg(long, value_name = "NAME=ROLE")]
    pub role_map: Vec<String>,

    /// Read every record as this schema instead of recognising each record's own (messages,
    /// sharegpt, preference, alpaca, prompt-completion, text).
    #[arg(long, value_name = "NAME")]
    pub schema: Option<String>,

    /// Read a dataset's field as the field a schema reads: `--map output=answer` reads
    /// `answer` as `output`; repeat for several.
    #[arg(long, value_name = "SCHEMA_FIELD=FIELD")]
    pub map: Vec<String>,

    /// Inside folders, read only files whose path below the folder matches this glob
    /// (`'*.jsonl'`, `'data/train-*'`); repeat for several. Files named here are always read.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,

    /// Inside folders, skip files whose path below the folder matches this glob
    /// (`'test/**'`); repeat for several.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// The largest record read, in bytes; larger ones are rejected.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_record_bytes: usize,

    /// The largest ratio of decompressed to compressed bytes once past 64 MiB; a file beyond
    /// it is rejected from there on as a decompression bomb.
    #[arg(long, value_name = "RATIO", default_value_t = 1000)]
    pub max_decompression_ratio: u64,
}

/// Input formats that can be forced.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum InputFormatArg {
    /// JSON Lines: one object per line.
    Jsonl,
    /// A JSON array of objects.
    Json,
    /// Apache Parquet.
    Parquet,
    /// Comma-separated values with a header line.
    Csv,
    /// Tab-separated values with a header line.
    Tsv,
    /// Arrow IPC, file or stream.
    Arrow,
}

/// Flags of `provguard register`.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The source's name; for a model's outputs, the model's name.
    #[arg(long, value_name = "NAME")]
    pub source: String,

    /// Whether the texts were written by people or generated by a model.
    #[arg(long, value_enum)]
    pub origin: OriginArg,

    /// Every text of this source was chosen by people (curated).
    #[arg(long)]
    pub curated: bool,

    /// A field path to take texts from instead of the response side (`src`,
    /// `instances[].output`); repeat for several.
    #[arg(long, value_name = "PATH")]
    pub field: Vec<String>,

    /// The false-positive rate the registration's Bloom filter of shingles is sized for, in
    /// (0, 1); recorded with the filter in the ledger.
    #[arg(long, value_name = "P", default_value_t = DEFAULT_FALSE_POSITIVE_RATE)]
    pub false_positive_rate: f64,

    /// The shingle length in tokens for near-copy lineage [default: the ledger's, else 4]; a
    /// ledger holds one length, another is refused.
    #[arg(long, value_name = "N")]
    pub shingle_length: Option<usize>,

    #[command(flatten)]
    pub ledger: LedgerArgs,

    #[command(flatten)]
    pub read: ReadArgs,

    /// Files and folders to register.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// Origins a source can have.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OriginArg {
    /// Written by people.
    Human,
    /// Generated by a model.
    Synthetic,
}

/// Flags of `provguard scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and folders to scan (folders recursively; the ledger folder is never read); `-`
    /// reads standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// The model this dataset will train.
    #[arg(long, value_name = "NAME")]
    pub home: String,

    /// The policy file; without it, the shipped `policies/default.toml` applies.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    #[command(flatten)]
    pub ledger: LedgerArgs,

    #[command(flatten)]
    pub read: ReadArgs,

    /// What to print on standard output.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ScanFormatArg,

    /// Also write the JSON report to this file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Also write the report in every format to this folder (created if missing):
    /// `report.json`, `summary.md`, `report.sarif`, `junit.xml` and `report.html`.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,

    /// An ecosystem file describing the models this scan does not measure (TOML or JSON; see
    /// docs/ecosystem.md).
    #[arg(long, value_name = "FILE")]
    pub ecosystem: Option<PathBuf>,

    /// Record this batch's composition in the ledger, unless the verdict is block, so that
    /// later scans of other models see what the home model trains on. Recording the same
    /// content twice changes nothing.
    #[arg(long)]
    pub record: bool,

    /// Write the admitted records to this folder, one file per input, in the input's format
    /// (JSON Lines byte for byte; CSV and TSV rows; JSON arrays, Parquet and Arrow IPC in their own format).
    #[arg(long, value_name = "DIR")]
    pub admit: Option<PathBuf>,

    /// Write the rejected records to this folder, one file per input, with their locators and
    /// reasons in `<file>.reasons.jsonl` beside each.
    #[arg(long, value_name = "DIR")]
    pub quarantine: Option<PathBuf>,

    /// Run the scan on the Ballista cluster whose scheduler is at `df://HOST:PORT` (see
    /// `provguard cluster`). Reads flat records only (Alpaca `output`, `completion`,
    /// `response`, a string `chosen`, `text`) from uncompressed Parquet, JSON Lines, CSV and
    /// TSV files, which every executor must read at the same paths; problems are located by
    /// file only.
    #[arg(long, value_name = "URL", conflicts_with_all = ["admit", "quarantine", "records"])]
    pub cluster: Option<String>,

    /// Write how each admitted record was matched to this JSON Lines file, as the scan goes:
    /// its locator, `match` (exact, near, spliced, none), `lineage.{origin, sources}`,
    /// `confidence` and `response_fingerprints`. A name ending in `.parquet` is written as
    /// Parquet, one row per record.
    #[arg(long, value_name = "FILE")]
    pub records: Option<PathBuf>,
}

/// Output formats of `provguard scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormatArg {
    /// A summary for people.
    Text,
    /// The machine report (described by `schemas/report.schema.json`).
    Json,
    /// A short Markdown summary for a CI job's page (`$GITHUB_STEP_SUMMARY`).
    Markdown,
    /// SARIF 2.1.0, for code-scanning annotations on the files.
    Sarif,
    /// JUnit XML, one test case per check of the policy.
    Junit,
    /// One self-contained HTML page with charts: composition, cross-influence between models,
    /// and each model's alignment against its curation ratio.
    Html,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A summary for people.
    Text,
    /// The machine report.
    Json,
}
