//! The `provguard` command.
//!
//! Exit status: 0 pass or flag, 1 block, 2 when provguard cannot do its job.

mod cli;
mod cluster_cmd;
mod config;
mod generate;
mod init;
mod ledger_cmd;
mod output;
mod policy_cmd;
mod progress;
mod query_cmd;
mod register;
mod scan;
mod simulate;

use std::process::ExitCode;

use clap::Parser as _;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command};

/// Exit status when the verdict is pass or flag.
const EXIT_PASS: u8 = 0;
/// Exit status when the verdict is block.
const EXIT_BLOCK: u8 = 1;
/// Exit status when provguard cannot do its job.
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_ERROR
            } else {
                EXIT_PASS
            };
            // Help and version go to standard output, usage errors to standard error.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_tracing(cli.verbose, cli.quiet);
    output::set_quiet(cli.quiet);

    let result = match &cli.command {
        Command::Register(args) => register::run(args),
        Command::Scan(args) => scan::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Ledger(command) => ledger_cmd::run(command),
        Command::Query(args) => query_cmd::run(args),
        Command::Cluster(command) => cluster_cmd::run(command),
        Command::Policy(command) => Ok(policy_cmd::run(command)),
        Command::Init(args) => init::run(args),
        Command::Completions(args) => Ok(generate::completions(args)),
        Command::Man(args) => generate::man(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            output::error(&e);
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Logs on standard error: warnings by default, none but errors with `-q`, decisions with
/// `-v`, every batch with `-vv`; `RUST_LOG` overrides.
fn init_tracing(verbose: u8, quiet: bool) {
    let default = match verbose {
        _ if quiet => "error",
        0 => "warn",
        1 => "provguard=debug,provguard_cli=debug,warn",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // Colour in logs only on a terminal, and never against NO_COLOR or CLICOLOR=0.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("CLICOLOR").is_none_or(|v| v != "0");
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
