//! The accuracy targets of near-copy lineage, pinned on a sample of the benchmark's experiment
//! (`tests/support/accuracy.rs`; the full run is `benches/lineage_accuracy.rs`). A change to
//! the shingles, the filters or the attribution rules that loses accuracy fails here.
//!
//! The targets apply to texts of at least 20 tokens (`TARGET_MIN_TOKENS`). Every figure is
//! over the seeded sample, so it is the same on every run.

use std::sync::LazyLock;

use provguard_lineage::{NearConfig, Shingler};

#[path = "support/accuracy.rs"]
#[expect(dead_code, reason = "the benchmark uses parts the test does not")]
mod accuracy;

use accuracy::{Bucket, Corpus, Edit, Registry, Results, UNREGISTERED, data_dir, draw, table};

/// Another seed than the benchmark's, so the test does not only repeat its figures.
const SEED: u64 = 5;

/// Edited texts per kind.
const PER_KIND: usize = 300;

/// The sample, registered and looked up once for all the tests.
static RESULTS: LazyLock<Results> = LazyLock::new(|| {
    let corpus = Corpus::load(&data_dir()).targets_only();
    let items = draw(&corpus, SEED, PER_KIND);
    let registry = Registry::build(&corpus, &Shingler::default(), NearConfig::default());
    accuracy::evaluate(&corpus, &items, &registry)
});

#[test]
fn variants_are_all_found_exactly_and_never_misattributed() {
    let r = &*RESULTS;
    for edit in Edit::ALL.into_iter().filter(|e| e.is_variant()) {
        for bucket in [Bucket::Short, Bucket::Medium, Bucket::Long] {
            let Some(t) = r.edits.get(&(edit, bucket)) else {
                continue;
            };
            assert_eq!(
                (t.correct, t.precise, t.near),
                (t.total, t.attributed, 0),
                "{} {}\n{}",
                edit.label(),
                bucket.label(),
                table(r)
            );
        }
    }
}

#[test]
fn truncation_to_half_is_found() {
    let t = RESULTS.target(Edit::TruncateHalf);
    assert!(t.recall() >= 0.98, "{}", table(&RESULTS));
}

#[test]
fn ten_percent_of_words_replaced_is_found() {
    let t = RESULTS.target(Edit::Words10);
    assert!(t.recall() >= 0.95, "{}", table(&RESULTS));
}

#[test]
fn other_edits_and_splices_are_found() {
    // Measured on the benchmark: 95% to 99.9% (sentence replaced is the lowest: in a text of
    // two sentences it replaces half).
    for (edit, recall) in [
        (Edit::SentenceDropped, 0.97),
        (Edit::SentenceReplaced, 0.92),
        (Edit::PrefixSuffix, 0.94),
        (Edit::Splice, 0.97),
    ] {
        let t = RESULTS.target(edit);
        assert!(
            t.recall() >= recall,
            "{}\n{}",
            edit.label(),
            table(&RESULTS)
        );
    }
}

#[test]
fn attributions_of_edited_texts_are_right() {
    for edit in Edit::ALL {
        let t = RESULTS.target(edit);
        assert!(
            t.precision() >= 0.97,
            "{}\n{}",
            edit.label(),
            table(&RESULTS)
        );
    }
}

#[test]
fn human_texts_are_not_taken_for_a_model() {
    let t = RESULTS.held_out_target("human");
    assert!(t.total > 1_000, "{}", table(&RESULTS));
    assert!(
        t.to_model as f64 <= 0.001 * t.total as f64,
        "{}",
        table(&RESULTS)
    );
}

#[test]
fn unregistered_models_are_rarely_taken_for_a_registered_one() {
    // No target in the issue; measured 0.9% (Mixtral) and 1.6% (text-davinci-003) on the
    // benchmark: short factual answers that every model words alike.
    for (model, limit) in UNREGISTERED.iter().zip([0.02, 0.03]) {
        let t = RESULTS.held_out_target(model);
        assert!(
            t.to_model as f64 <= limit * t.total as f64,
            "{model}\n{}",
            table(&RESULTS)
        );
    }
}
