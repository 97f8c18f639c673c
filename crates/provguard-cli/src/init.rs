//! `provguard init`: a starter policy and an empty ledger folder.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Args;

use crate::EXIT_PASS;
use crate::config::DEFAULT_POLICY;
use crate::output::{self, stdout_line};

/// The starter policy's file name.
pub const POLICY_FILE: &str = "provguard-policy.toml";
/// The ledger folder's name, as `--ledger` defaults to.
pub const LEDGER_DIR: &str = ".provguard";

/// What `init` leaves in the ledger folder; the ledger reads only its own files.
const LEDGER_README: &str = "This folder is provguard's provenance ledger. It is empty until \
the first `provguard register`, which writes manifest.json, segments/ and filters/ here.\n";

/// Flags of `provguard init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder to set up (created if missing).
    #[arg(default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,

    /// Overwrite a starter policy that exists already.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: &InitArgs) -> anyhow::Result<u8> {
    let policy = args.dir.join(POLICY_FILE);
    let ledger = args.dir.join(LEDGER_DIR);

    // Check everything before writing anything.
    if policy.exists() && !args.force {
        bail!(
            "`{}` exists already; pass `--force` to overwrite it",
            policy.display()
        );
    }
    if ledger.exists() && !ledger.is_dir() {
        bail!(
            "`{}` exists and is not a folder: move it away to make the ledger folder there",
            ledger.display()
        );
    }
    let readme = ledger.join("README");
    if ledger.join("manifest.json").exists() {
        output::note(&format!(
            "`{}` holds a ledger already; it is left as it is",
            ledger.display()
        ));
    } else if readme.exists() && !args.force {
        bail!(
            "`{}` exists already; pass `--force` to overwrite it",
            readme.display()
        );
    }

    fs_err::create_dir_all(&args.dir).context("cannot create the folder")?;
    fs_err::write(&policy, DEFAULT_POLICY).context("cannot write the starter policy")?;
    if !ledger.join("manifest.json").exists() {
        fs_err::create_dir_all(&ledger).context("cannot create the ledger folder")?;
        fs_err::write(&readme, LEDGER_README).context("cannot write the ledger folder")?;
    }

    if output::is_quiet() {
        return Ok(EXIT_PASS);
    }
    let ledger_arg = if args.dir == std::path::Path::new(".") {
        String::new()
    } else {
        format!(" --ledger {}", shell_word(&ledger.display().to_string()))
    };
    stdout_line(&format!(
        "wrote `{}` (the default policy: edit its limits) and `{}/` (an empty ledger)\n\n\
         next steps:\n  \
         1. register the sources your data may come from:\n     \
         provguard register{ledger_arg} --source experts --origin human human_answers.jsonl\n     \
         provguard register{ledger_arg} --source gpt4 --origin synthetic gpt4_outputs.jsonl\n  \
         2. scan a dataset before training on it:\n     \
         provguard scan{ledger_arg} data/ --home my-model --policy {}\n  \
         3. check the policy after editing it: provguard policy check {}",
        policy.display(),
        ledger.display(),
        shell_word(&policy.display().to_string()),
        shell_word(&policy.display().to_string()),
    ));
    Ok(EXIT_PASS)
}

/// `word` as one shell word: as it is when it is plain, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./-=:,@+".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}
