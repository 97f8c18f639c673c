//! Embedding the gate in an ingestion job: register the example sources in a temporary
//! ledger, scan the example dataset, and act on the verdict — with the library, no command.
//!
//! Run it with `cargo run -p provguard --example embed_gate` from the repository root.
#![expect(
    clippy::print_stdout,
    reason = "an example reports to the person running it"
)]

use std::path::{Path, PathBuf};

use provguard::gate::{Level, Policy};
use provguard::ingest::ReadOptions;
use provguard::ingest::schema::SchemaOptions;
use provguard::ledger::{FilterOptions, Ledger, SourceEntry};
use provguard::lineage::Origin;
use provguard::{Scan, register};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data");
    let dir = std::env::temp_dir().join(format!("provguard-embed-{}", std::process::id()));
    let mut ledger = Ledger::open_or_new(&dir)?;

    // What each source wrote: two models' answers and the experts' answers.
    let sources = [
        ("text-davinci-003", Origin::Synthetic, "response"),
        ("davinci-self-instruct", Origin::Synthetic, "response"),
        ("self-instruct-experts", Origin::Human, "instances[].output"),
    ];
    for (name, origin, field) in sources {
        let source = SourceEntry {
            name: name.to_owned(),
            origin,
            curated: false,
        };
        let file = data.join("sources").join(format!("{name}.jsonl"));
        let summary = register(
            &mut ledger,
            &source,
            &[file],
            &[field.to_owned()],
            &ReadOptions::default(),
            &SchemaOptions::default(),
            &FilterOptions::default(),
        )?;
        println!("registered `{name}`: {} new entries", summary.new_entries);
    }

    // The gate, under the shipped default policy.
    let policy_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/default.toml");
    let scan = Scan::new("my-assistant", Policy::load(&policy_file)?);
    let train: PathBuf = data.join("train");
    let report = scan.run(&ledger, &[train])?;

    println!(
        "{} records: {} human, {} synthetic, {} unknown, {} ambiguous",
        report.records,
        report.composition.by_origin["human"].records,
        report.composition.by_origin["synthetic"].records,
        report.composition.by_origin["unknown"].records,
        report.composition.by_origin["ambiguous"].records,
    );
    for reason in &report.reasons {
        println!("{}: {}", reason.level.as_str(), reason.message);
    }
    match report.verdict {
        Level::Block => println!("verdict: block — this batch is kept out of training"),
        Level::Flag => println!("verdict: flag — the batch goes on, and someone should look"),
        Level::Pass => println!("verdict: pass"),
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
