//! `provguard completions` and `provguard man`: generated from the command's own definition.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, CommandFactory as _};

use crate::EXIT_PASS;
use crate::cli::Cli;

/// Flags of `provguard completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Flags of `provguard man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print (`scan`, `ledger verify`); without it, the main page.
    #[arg(value_name = "COMMAND", conflicts_with = "out")]
    pub command: Vec<String>,

    /// Write one page per command and subcommand to this folder (`provguard.1`,
    /// `provguard-scan.1`, ...) instead of the main page to standard output.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn completions(args: &CompletionsArgs) -> u8 {
    let mut command = Cli::command();
    // Rendered to memory: clap_complete panics on a failed write.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "provguard", &mut script);
    crate::output::stdout_bytes(&script);
    EXIT_PASS
}

pub fn man(args: &ManArgs) -> anyhow::Result<u8> {
    let mut command = Cli::command().disable_help_subcommand(true);
    if let Some(dir) = &args.out {
        fs_err::create_dir_all(dir).context("cannot create the man page folder")?;
        clap_mangen::generate_to(command, dir)
            .with_context(|| format!("cannot write the man pages to `{}`", dir.display()))?;
        return Ok(EXIT_PASS);
    }

    // Built, subcommands are named as their pages are (`provguard-scan`).
    command.build();
    for name in &args.command {
        command = command
            .find_subcommand(name)
            .cloned()
            .with_context(|| format!("`{name}` is not a command of `{}`", command.get_name()))?;
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut page)
        .context("cannot render the man page")?;
    crate::output::stdout_bytes(&page);
    Ok(EXIT_PASS)
}
