use std::error::Error as _;
use std::path::{Path, PathBuf};

use arrow::array::{Float64Array, Int64Array, LargeStringArray, StringViewArray};
use provguard_gate::Policy;
use provguard_ingest::ReadOptions;
use provguard_ingest::schema::SchemaOptions;
use provguard_ledger::{FilterOptions, TextEntry};
use provguard_lineage::Origin;

use super::*;
use crate::Scan;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data")
}

/// A ledger with the example sources: two models' answers and the experts' answers.
fn example_ledger(dir: &Path) -> Ledger {
    let mut ledger = Ledger::open_or_new(dir).unwrap();
    for (name, origin, field) in [
        ("text-davinci-003", Origin::Synthetic, "response"),
        ("davinci-self-instruct", Origin::Synthetic, "response"),
        ("self-instruct-experts", Origin::Human, "instances[].output"),
    ] {
        let source = SourceEntry {
            name: name.to_owned(),
            origin,
            curated: false,
        };
        crate::register(
            &mut ledger,
            &source,
            &[examples().join("sources").join(format!("{name}.jsonl"))],
            &[field.to_owned()],
            &ReadOptions::default(),
            &SchemaOptions::default(),
            &FilterOptions::default(),
        )
        .unwrap();
    }
    ledger
}

/// The string fields of JSON Lines records as columns of one batch.
fn jsonl_batch(path: &Path, fields: &[&str]) -> RecordBatch {
    let text = std::fs::read_to_string(path).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let columns = fields.iter().map(|f| {
        let values: StringArray = records.iter().map(|r| r[*f].as_str()).collect();
        (*f, Arc::new(values) as ArrayRef)
    });
    RecordBatch::try_from_iter(columns).unwrap()
}

fn texts(values: &[Option<&str>]) -> RecordBatch {
    let column = StringArray::from(values.to_vec());
    RecordBatch::try_from_iter([("text", Arc::new(column) as ArrayRef)]).unwrap()
}

fn register_texts(ledger: &mut Ledger, name: &str, origin: Origin, texts: &[&str]) {
    let source = SourceEntry {
        name: name.to_owned(),
        origin,
        curated: false,
    };
    let entries = texts.iter().map(|t| TextEntry {
        field: "text".to_owned(),
        fingerprint: Fingerprint::of_text(t).0,
        text: (*t).to_owned(),
    });
    ledger
        .register(&source, vec![], entries, &FilterOptions::default())
        .unwrap();
}

const LONG_A: &str = "Photosynthesis is the process by which green plants use sunlight, water \
    and carbon dioxide to make glucose and oxygen; it takes place mainly in the leaves.";
const LONG_B: &str = "To change a flat tyre, loosen the wheel nuts while the car is still on \
    the ground, raise it with the jack, swap the wheel and tighten the nuts in a star pattern.";
const SHORT: &str = "The capital of Australia is Canberra.";

/// `model` wrote A and the short answer, `people` wrote B and the short answer.
fn small_ledger(dir: &Path) -> Ledger {
    let mut ledger = Ledger::open_or_new(dir).unwrap();
    register_texts(&mut ledger, "model", Origin::Synthetic, &[LONG_A, SHORT]);
    register_texts(&mut ledger, "people", Origin::Human, &[LONG_B, SHORT]);
    ledger
}

fn column<'b>(batch: &'b RecordBatch, name: &str) -> &'b StringArray {
    batch.column_by_name(name).unwrap().as_string::<i32>()
}

#[test]
fn tagging_the_example_dataset_judges_as_the_scan_of_the_same_records() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Arc::new(example_ledger(dir.path()));
    let file = examples().join("train/part-0.jsonl");

    // The scan reads the file as Alpaca records; the tagger reads the same fields as columns.
    let policy = Policy::default();
    let report = Scan::new("home", policy.clone())
        .run(&ledger, std::slice::from_ref(&file))
        .unwrap();
    let tagger = Tagger::new(
        Arc::clone(&ledger),
        Columns::text("output")
            .with_prompt("instruction")
            .with_prompt("input"),
    );
    let batch = jsonl_batch(&file, &["instruction", "input", "output"]);
    let mut tally = tagger.tally();
    // Two batches, to add up across batches.
    let half = batch.num_rows() / 2;
    for part in [
        batch.slice(0, half),
        batch.slice(half, batch.num_rows() - half),
    ] {
        tagger.tag_counted(&part, &mut tally).unwrap();
    }
    let judgement = tally.verdict("home", &policy).unwrap();

    assert_eq!(tally.records(), report.records);
    assert_eq!(tally.by_match(), &report.composition.by_match);
    assert_eq!(
        tally.near_mean_confidence(),
        report.composition.near_mean_confidence
    );
    assert_eq!(judgement.measured, report.measured);
    assert_eq!(judgement.verdict.level, report.verdict);
    assert_eq!(judgement.verdict.reasons, report.reasons);
    assert_eq!(
        judgement.dynamics.cross_influence_share,
        report.dynamics.cross_influence_share
    );
    // The data mixes people's and models' answers, so the comparison means something.
    let c = tally.composition();
    assert!(c.human > 0 && c.synthetic > 0 && tally.by_match().exact > 0);
}

#[test]
fn rows_are_tagged_with_origin_source_match_and_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let tagger = Tagger::new(small_ledger(dir.path()), Columns::text("text"));
    let edited = format!("Sure! {LONG_A}");
    let batch = texts(&[
        Some(LONG_A),
        Some(LONG_B),
        Some(SHORT),
        Some("never registered anywhere at all"),
        None,
        Some("   "),
        Some(&edited),
    ]);
    let tagged = tagger.tag(&batch).unwrap();
    assert_eq!(tagged.num_columns(), 6);

    let origin: Vec<&str> = column(&tagged, ORIGIN).iter().map(Option::unwrap).collect();
    assert_eq!(
        origin,
        [
            "synthetic",
            "human",
            "ambiguous",
            "unknown",
            "unknown",
            "unknown",
            "synthetic"
        ]
    );
    let source: Vec<Option<&str>> = column(&tagged, SOURCE).iter().collect();
    assert_eq!(
        source,
        [
            Some("model"),
            Some("people"),
            Some("model|people"),
            None,
            None,
            None,
            Some("model")
        ]
    );
    let kind: Vec<&str> = column(&tagged, MATCH).iter().map(Option::unwrap).collect();
    assert_eq!(
        kind,
        ["exact", "exact", "exact", "none", "none", "none", "near"]
    );
    let confidence = tagged
        .column_by_name(CONFIDENCE)
        .unwrap()
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    assert_eq!((confidence.value(0), confidence.value(3)), (1.0, 0.0));
    assert!(confidence.value(6) > 0.5 && confidence.value(6) < 1.0);
    let fingerprint = column(&tagged, FINGERPRINT);
    assert_eq!(
        fingerprint.value(0),
        Fingerprint::of_text(&LONG_A.to_uppercase()).0.to_hex()
    );
    assert!(fingerprint.is_null(4));
}

#[test]
fn reading_tagged_rows_back_counts_as_tagging_counted() {
    let dir = tempfile::tempdir().unwrap();
    let tagger = Tagger::new(small_ledger(dir.path()), Columns::text("text"));
    let edited = format!("{LONG_B} Thanks!");
    let batch = texts(&[Some(LONG_A), Some(SHORT), Some(SHORT), Some(&edited), None]);

    let mut counted = tagger.tally();
    let tagged = tagger.tag_counted(&batch, &mut counted).unwrap();
    let mut read_back = tagger.tally();
    read_back.add(&tagged).unwrap();

    let (a, b) = (counted.composition(), read_back.composition());
    assert_eq!(
        (a.records, a.human, a.synthetic, a.unknown, a.ambiguous),
        (b.records, b.human, b.synthetic, b.unknown, b.ambiguous)
    );
    assert_eq!(a.by_source, b.by_source);
    assert_eq!(a.ambiguous_sets, b.ambiguous_sets);
    assert_eq!(counted.by_match(), read_back.by_match());
    assert_eq!(
        counted.near_mean_confidence(),
        read_back.near_mean_confidence()
    );
    assert_eq!(a.ambiguous, 2);
}

#[test]
fn every_string_encoding_is_read_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let tagger = Tagger::new(small_ledger(dir.path()), Columns::text("text"));
    let values = [Some(LONG_A), None, Some(SHORT)];
    let plain = tagger.tag(&texts(&values)).unwrap();
    for array in [
        Arc::new(LargeStringArray::from(values.to_vec())) as ArrayRef,
        Arc::new(StringViewArray::from(values.to_vec())) as ArrayRef,
    ] {
        let batch = RecordBatch::try_from_iter([("text", array)]).unwrap();
        let tagged = tagger.tag(&batch).unwrap();
        for name in [ORIGIN, SOURCE, MATCH, FINGERPRINT] {
            assert_eq!(column(&tagged, name), column(&plain, name), "{name}");
        }
    }
}

#[test]
fn a_batch_the_tagger_cannot_read_is_an_error_naming_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let tagger = Tagger::new(
        small_ledger(dir.path()),
        Columns::text("text").with_prompt("prompt"),
    );
    let numbers = Arc::new(Int64Array::from(vec![1])) as ArrayRef;
    let text = Arc::new(StringArray::from(vec!["a"])) as ArrayRef;

    let missing = RecordBatch::try_from_iter([("text", Arc::clone(&text))]).unwrap();
    let e = tagger.tag(&missing).unwrap_err();
    assert!(matches!(&e, Error::Batch(BatchError::MissingColumn(c)) if c == "prompt"));

    let not_text =
        RecordBatch::try_from_iter([("text", numbers), ("prompt", Arc::clone(&text))]).unwrap();
    let e = tagger.tag(&not_text).unwrap_err();
    assert!(matches!(&e, Error::Batch(BatchError::NotText { column, .. }) if column == "text"));

    let fine = RecordBatch::try_from_iter([("text", Arc::clone(&text)), ("prompt", text)]).unwrap();
    let tagged = tagger.tag(&fine).unwrap();
    let e = tagger.tag(&tagged).unwrap_err();
    assert!(matches!(&e, Error::Batch(BatchError::AlreadyTagged(c)) if c == ORIGIN));
}

#[test]
fn a_tally_refuses_rows_whose_source_the_ledger_does_not_hold_and_adds_none_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let tagger = Tagger::new(small_ledger(dir.path()), Columns::text("text"));
    let tagged = tagger.tag(&texts(&[Some(LONG_A), Some(LONG_B)])).unwrap();
    // Rename the second row's source to one the ledger never registered.
    let renamed = StringArray::from(vec![Some("model"), Some("stranger")]);
    let index = tagged.schema().index_of(SOURCE).unwrap();
    let mut columns = tagged.columns().to_vec();
    columns[index] = Arc::new(renamed);
    let forged = RecordBatch::try_new(tagged.schema(), columns).unwrap();

    let mut tally = tagger.tally();
    let e = tally.add(&forged).unwrap_err();
    assert!(
        e.source().unwrap().to_string().contains("`stranger`"),
        "{e:?}"
    );
    assert_eq!(tally.records(), 0);
}

#[cfg(feature = "stream")]
#[test]
fn a_tagged_stream_yields_every_batch_tagged_passes_input_errors_on_and_tallies_the_rest() {
    use futures::StreamExt as _;

    let dir = tempfile::tempdir().unwrap();
    let tagger = Tagger::new(small_ledger(dir.path()), Columns::text("text"));
    let first = texts(&[Some(LONG_A), Some(SHORT)]);
    let second = texts(&[Some(LONG_B), None, Some("unregistered text")]);
    let input = futures::stream::iter([
        Ok(first.clone()),
        Err(std::io::Error::other("a lost batch")),
        Ok(second.clone()),
    ]);

    // Polled on a multi-threaded runtime, from a spawned task, as a pipeline would.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let (outcomes, tally) = runtime.block_on(async move {
        let task = tokio::spawn(async move {
            let mut stream = TaggedStream::new(input, tagger);
            let mut outcomes = Vec::new();
            while let Some(item) = stream.next().await {
                outcomes.push(item.map(|b| {
                    column(&b, ORIGIN)
                        .iter()
                        .flatten()
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                }));
            }
            (outcomes, stream.into_tally())
        });
        task.await.unwrap()
    });

    assert_eq!(outcomes.len(), 3);
    assert!(matches!(outcomes[1], Err(StreamError::Input(_))));
    assert_eq!(outcomes[0].as_ref().unwrap(), &["synthetic", "ambiguous"]);
    assert_eq!(
        outcomes[2].as_ref().unwrap(),
        &["human", "unknown", "unknown"]
    );

    // The tally is what tagging the batches that arrived adds up to.
    let direct = Tagger::new(small_ledger(dir.path()), Columns::text("text"));
    let mut expected = direct.tally();
    direct.tag_counted(&first, &mut expected).unwrap();
    direct.tag_counted(&second, &mut expected).unwrap();
    assert_eq!(tally.records(), expected.records());
    assert_eq!(
        tally.composition().by_source,
        expected.composition().by_source
    );
    let policy = Policy::default();
    assert_eq!(
        tally.verdict("home", &policy).unwrap().measured,
        expected.verdict("home", &policy).unwrap().measured
    );
}
