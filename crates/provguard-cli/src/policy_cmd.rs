//! `provguard policy check`.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use provguard::gate::Policy;

use crate::output::{self, stdout_line};
use crate::{EXIT_ERROR, EXIT_PASS};

/// Subcommands of `provguard policy`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check policy files: every key known, every value in range, flag and block in order.
    ///
    /// Prints one line per valid file naming the limits and rules it sets; an invalid file is
    /// an error naming the file, the line and column, and the key. Exit status: 0 every file
    /// is valid, 2 any is not.
    Check(CheckArgs),
}

/// Flags of `provguard policy check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Policy files to check.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

pub fn run(command: &PolicyCommand) -> u8 {
    let PolicyCommand::Check(args) = command;
    let mut code = EXIT_PASS;
    for file in &args.files {
        match Policy::load(file) {
            Ok(policy) => stdout_line(&format!("{}: valid · {}", file.display(), summary(&policy))),
            Err(e) => {
                output::error(&anyhow::Error::new(e));
                code = EXIT_ERROR;
            }
        }
    }
    code
}

/// The limits and rules a policy sets, on one line:
/// `limits min_human_share flag 0.5 block 0.2, ... · not set: ... · gate unknown ... · sources ...`.
fn summary(p: &Policy) -> String {
    let mut set = Vec::new();
    let mut unset = Vec::new();
    for (name, limit, _) in p.limits() {
        let Some(limit) = limit else {
            unset.push(name);
            continue;
        };
        let mut text = name.to_owned();
        for (level, value) in [("flag", limit.flag()), ("block", limit.block())] {
            if let Some(v) = value {
                let _ = write!(text, " {level} {v}");
            }
        }
        set.push(text);
    }
    let mut line = if set.is_empty() {
        "no limits".to_owned()
    } else {
        format!("limits {}", set.join(", "))
    };
    if !unset.is_empty() {
        let _ = write!(line, " · not set: {}", unset.join(", "));
    }

    let g = &p.gate;
    let rejected = g
        .rejected
        .map_or("by mode (strict blocks, lenient flags)", |l| l.as_str());
    let _ = write!(
        line,
        " · gate unknown {}, what_if {}, backfire {}, rejected {rejected}",
        g.unknown.as_str(),
        g.what_if.as_str(),
        g.backfire.as_str()
    );

    let s = &p.sources;
    let names = |list: &[String]| {
        if list.is_empty() {
            "none".to_owned()
        } else {
            list.join(" ")
        }
    };
    let _ = write!(
        line,
        " · sources deny {}, allow {}, max_share {}, level {}",
        names(&s.deny),
        if s.allow.is_empty() {
            "any".to_owned()
        } else {
            s.allow.join(" ")
        },
        s.max_share.len(),
        s.level.as_str()
    );
    line
}
