//! Accuracy of near-copy lineage on the real corpus in `../shared/data`.
//!
//! `cargo bench -p provguard-lineage --bench lineage_accuracy` prints, for the default shingle
//! length and threshold, precision and recall of source attribution per edit kind and length
//! bucket and the rate at which kept-back texts (human, unregistered models) are taken for a
//! registered model's; then a sweep over shingle lengths and thresholds, the figures the
//! defaults were chosen from. The experiment is described in
//! `crates/provguard-lineage/tests/support/accuracy.rs`; `tests/accuracy.rs` asserts its
//! targets on a sample.
//!
//! `PROVGUARD_ACCURACY_MISSES=1` also prints the texts that were missed or misattributed, a
//! few of each kind, with their containments; `PROVGUARD_ACCURACY_NO_SWEEP=1` skips the sweep
//! (about two minutes of the two and a half).
#![expect(clippy::print_stdout, reason = "a bench binary prints its figures")]

use std::time::Instant;

use provguard_lineage::{NearConfig, Shingler};

#[path = "../crates/provguard-lineage/tests/support/accuracy.rs"]
#[expect(dead_code, reason = "the test uses parts the benchmark does not")]
mod accuracy;

use accuracy::{Bucket, Corpus, Edit, Item, Registry, data_dir, draw, evaluate, table};

/// The seed of the drawn edits; the test uses another.
const SEED: u64 = 20_261_203;

/// Edited texts per kind.
const PER_KIND: usize = 2_000;

fn main() {
    let started = Instant::now();
    let corpus = Corpus::load(&data_dir());
    let items = draw(&corpus, SEED, PER_KIND);
    println!(
        "lineage accuracy: {} registered texts in {} sources, {} edited texts, seed {SEED}",
        corpus.registered.iter().map(Vec::len).sum::<usize>(),
        corpus.registered.len(),
        items.len()
    );

    // The defaults.
    let shingler = Shingler::default();
    let config = NearConfig::default();
    let built = Instant::now();
    let registry = Registry::build(&corpus, &shingler, config.clone());
    let registered_in = built.elapsed();
    let looked = Instant::now();
    let results = evaluate(&corpus, &items, &registry);
    println!(
        "\nn = {}, threshold = {}, margin = {}, min_part = {} shingles (register {:.1?}, look up \
         {:.1?})\n",
        shingler.n(),
        config.threshold,
        config.margin,
        config.min_part,
        registered_in,
        looked.elapsed()
    );
    print!("{}", table(&results));
    if std::env::var_os("PROVGUARD_ACCURACY_MISSES").is_some() {
        println!("\n{}", accuracy::misses(&corpus, &items, &registry, 8));
    }
    if std::env::var_os("PROVGUARD_ACCURACY_NO_SWEEP").is_some() {
        return;
    }

    // The sweep the defaults were chosen from: recall of the hard edits and the false rates,
    // over texts of at least 20 tokens only (the others do not enter the targets).
    let hard = [
        Edit::TruncateHalf,
        Edit::SentenceReplaced,
        Edit::Words10,
        Edit::Splice,
    ];
    let items: Vec<Item> = items
        .into_iter()
        .filter(|i| hard.contains(&i.edit) && Bucket::of(&i.text).is_target())
        .collect();
    let corpus = corpus.targets_only();
    println!(
        "\nsweep (texts of >= 20 tokens): recall of truncate-half, sentence-replaced, words-10%, \
         splice; kept-back texts attributed to a model"
    );
    println!(
        "{:>2} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "n", "threshold", "trunc", "sent-rep", "words10", "splice", "human", "mixtral", "davinci"
    );
    for n in 3..=6 {
        let shingler = Shingler::new(n).expect("n > 0");
        let registry = Registry::build(&corpus, &shingler, NearConfig::default());
        for threshold in [0.4, 0.45, 0.5, 0.6] {
            let config = NearConfig {
                threshold,
                ..NearConfig::default()
            };
            let registry = Registry {
                index: registry.index.clone().with_config(config),
                exact: registry.exact.clone(),
            };
            let r = evaluate(&corpus, &items, &registry);
            let false_rate = |group: &str| {
                let t = r.held_out_target(group);
                t.to_model as f64 / t.total.max(1) as f64
            };
            println!(
                "{n:>2} {threshold:>9} {:>8.2}% {:>8.2}% {:>8.2}% {:>8.2}% {:>8.3}% {:>8.3}% {:>8.3}%",
                100.0 * r.target(Edit::TruncateHalf).recall(),
                100.0 * r.target(Edit::SentenceReplaced).recall(),
                100.0 * r.target(Edit::Words10).recall(),
                100.0 * r.target(Edit::Splice).recall(),
                100.0 * false_rate("human"),
                100.0 * false_rate(accuracy::UNREGISTERED[0]),
                100.0 * false_rate(accuracy::UNREGISTERED[1]),
            );
        }
    }
    println!("\ntotal {:.1?}", started.elapsed());
}
