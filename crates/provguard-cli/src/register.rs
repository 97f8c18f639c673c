//! `provguard register`.

use anyhow::Context as _;
use provguard::ledger::{FilterOptions, Ledger, SourceEntry};
use provguard::lineage::Origin;

use crate::cli::{OriginArg, RegisterArgs};
use crate::{EXIT_BLOCK, EXIT_PASS, config, output};

pub fn run(args: &RegisterArgs) -> anyhow::Result<u8> {
    let (read, schema) = config::read_options(&args.read)?;
    let source = SourceEntry {
        name: args.source.trim().to_owned(),
        origin: match args.origin {
            OriginArg::Human => Origin::Human,
            OriginArg::Synthetic => Origin::Synthetic,
        },
        curated: args.curated,
    };
    if source.name.is_empty() {
        anyhow::bail!("`--source` is empty: name the source (a model's name for its outputs)");
    }
    // `|` joins the candidates of an ambiguous record (SQL, batch columns); control
    // characters would break every table the name is printed in.
    if let Some(c) = source.name.chars().find(|c| *c == '|' || c.is_control()) {
        anyhow::bail!(
            "`--source {:?}` holds {c:?}: a source name cannot hold `|` (it separates the \
             candidates of an ambiguous record) or control characters",
            source.name
        );
    }

    let p = args.false_positive_rate;
    if !(p > 0.0 && p < 1.0) {
        anyhow::bail!("`--false-positive-rate {p}` is not a rate: give a number in (0, 1)");
    }
    if args.shingle_length == Some(0) {
        anyhow::bail!("`--shingle-length 0` is not a length: give at least 1");
    }

    let mut ledger = Ledger::open_or_new(&args.ledger.ledger)
        .with_context(|| format!("cannot open the ledger `{}`", args.ledger.ledger.display()))?;
    let summary = provguard::register(
        &mut ledger,
        &source,
        &args.paths,
        &args.field,
        &read,
        &schema,
        &FilterOptions {
            false_positive_rate: args.false_positive_rate,
            shingle_len: args.shingle_length,
        },
    )?;
    output::registered(&source, &summary, &args.ledger.ledger);
    Ok(if summary.refused {
        EXIT_BLOCK
    } else {
        EXIT_PASS
    })
}
