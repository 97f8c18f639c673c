//! Scalar SQL functions that tag texts with their lineage in the ledger, so that a dataset can
//! be measured with a query:
//!
//! ```sql
//! SELECT provguard_lineage(output) AS source, count(*) FROM 'data/*.parquet' GROUP BY source
//! ```
//!
//! - `provguard_fingerprint(text)`: the text's fingerprint (`provguard-norm/1`, the one the
//!   ledger stores), as 64 lowercase hex digits;
//! - `provguard_origin(text)`: `human`, `synthetic`, `unknown` or `ambiguous`;
//! - `provguard_lineage(text)`: the name of the source the text is attributed to; for an
//!   ambiguous text its candidates in the ledger's order, joined by `|`; `NULL` when it is
//!   unknown.
//!
//! A text is attributed as a scanned record's only response text with no prompt side: by its
//! exact fingerprint, else by its shingles (near copies). A blank text is unknown. Each function
//! returns `NULL` for a `NULL` text. The values are those of the columns `lineage_fingerprint`,
//! `lineage_origin` and `lineage_source` that `provguard::batch::Tagger` appends.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use arrow::array::{Array, AsArray, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use provguard_ledger::Ledger;
use provguard_lineage::{Fingerprint, Lineage, attribute_texts};

/// The functions' names.
pub const FUNCTIONS: [&str; 3] = [
    "provguard_fingerprint",
    "provguard_origin",
    "provguard_lineage",
];

/// Registers `provguard_fingerprint`, `provguard_origin` and `provguard_lineage` on
/// `context`, attributing texts against `ledger`.
///
/// ```
/// use std::sync::Arc;
/// use datafusion::execution::context::SessionContext;
/// use provguard_ledger::{Ledger, SourceEntry, TextEntry};
/// use provguard_lineage::{Fingerprint, Origin};
///
/// let dir = tempfile::tempdir()?;
/// let mut ledger = Ledger::open_or_new(dir.path())?;
/// let gpt = SourceEntry { name: "gpt".into(), origin: Origin::Synthetic, curated: false };
/// let text = "Plants turn light, water and carbon dioxide into sugar and oxygen.";
/// let entry = TextEntry {
///     field: "output".into(),
///     fingerprint: Fingerprint::of_text(text).0,
///     text: text.into(),
/// };
/// ledger.register(&gpt, vec![], [entry], &Default::default())?;
///
/// let context = SessionContext::new();
/// provguard_sql::register_functions(&context, Arc::new(ledger));
/// let sql = format!(
///     "SELECT provguard_lineage('{text}') AS s, provguard_origin('Hi there.') AS o"
/// );
/// let runtime = tokio::runtime::Runtime::new()?;
/// let batches = runtime.block_on(async { context.sql(&sql).await?.collect().await })?;
/// let table = provguard_sql::to_table(&batches)?;
/// assert!(table.contains("| gpt | unknown |"), "{table}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn register_functions(context: &SessionContext, ledger: Arc<Ledger>) {
    register(context, &Arc::new(LedgerCell::open(ledger)));
}

/// The functions over `ledger`, for a function registry that is not a `SessionContext` (a
/// Ballista executor's, or a `SessionState` being built).
///
/// ```
/// use std::sync::Arc;
/// let dir = tempfile::tempdir()?;
/// let ledger = provguard_ledger::Ledger::open_or_new(dir.path())?;
/// let udfs = provguard_sql::functions::udfs(Arc::new(ledger));
/// let names: Vec<&str> = udfs.iter().map(|f| f.name()).collect();
/// assert_eq!(names, provguard_sql::functions::FUNCTIONS);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn udfs(ledger: Arc<Ledger>) -> Vec<ScalarUDF> {
    functions(&Arc::new(LedgerCell::open(ledger)))
}

/// Registers the functions with the ledger in `dir`, opened when a statement first calls one
/// of them that needs it (opening loads the ledger's fingerprint index).
pub(crate) fn register_lazy(context: &SessionContext, dir: PathBuf) {
    register(context, &Arc::new(LedgerCell::lazy(dir)));
}

fn register(context: &SessionContext, ledger: &Arc<LedgerCell>) {
    for udf in functions(ledger) {
        context.register_udf(udf);
    }
}

fn functions(ledger: &Arc<LedgerCell>) -> Vec<ScalarUDF> {
    [Kind::Fingerprint, Kind::Origin, Kind::Lineage]
        .into_iter()
        .map(|kind| {
            ScalarUDF::new_from_impl(LineageFunction {
                kind,
                signature: Signature::string(1, Volatility::Immutable),
                ledger: Arc::clone(ledger),
            })
        })
        .collect()
}

/// The ledger, open or opened on first use.
#[derive(Debug)]
struct LedgerCell {
    dir: PathBuf,
    ledger: OnceLock<std::result::Result<Arc<Ledger>, String>>,
}

impl LedgerCell {
    fn open(ledger: Arc<Ledger>) -> Self {
        Self {
            dir: ledger.dir().to_owned(),
            ledger: OnceLock::from(Ok(ledger)),
        }
    }

    fn lazy(dir: PathBuf) -> Self {
        Self {
            dir,
            ledger: OnceLock::new(),
        }
    }

    fn get(&self) -> Result<&Ledger> {
        let opened = self.ledger.get_or_init(|| {
            Ledger::open(&self.dir).map(Arc::new).map_err(|e| {
                let mut message = format!("cannot open the ledger `{}`", self.dir.display());
                let mut cause: Option<&dyn std::error::Error> = Some(&e);
                while let Some(c) = cause {
                    message = format!("{message}: {c}");
                    cause = c.source();
                }
                message
            })
        });
        match opened {
            Ok(ledger) => Ok(ledger),
            Err(message) => Err(DataFusionError::Execution(message.clone())),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Fingerprint,
    Origin,
    Lineage,
}

/// One of the functions; equal to another when it is the same function over the same ledger.
#[derive(Debug)]
struct LineageFunction {
    kind: Kind,
    signature: Signature,
    ledger: Arc<LedgerCell>,
}

impl PartialEq for LineageFunction {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && Arc::ptr_eq(&self.ledger, &other.ledger)
    }
}

impl Eq for LineageFunction {}

impl Hash for LineageFunction {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.kind.hash(state);
        Arc::as_ptr(&self.ledger).hash(state);
    }
}

impl ScalarUDFImpl for LineageFunction {
    fn name(&self) -> &str {
        match self.kind {
            Kind::Fingerprint => FUNCTIONS[0],
            Kind::Origin => FUNCTIONS[1],
            Kind::Lineage => FUNCTIONS[2],
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [text] = args.args.as_slice() else {
            return Err(DataFusionError::Plan(format!(
                "`{}` takes one text",
                self.name()
            )));
        };
        let text = text.to_array(args.number_rows)?;
        let text = arrow::compute::cast(&text, &DataType::Utf8)?;
        let text = text.as_string::<i32>();

        let mut out = StringBuilder::with_capacity(text.len(), text.len() * 16);
        if self.kind == Kind::Fingerprint {
            for t in text {
                out.append_option(t.map(|t| Fingerprint::of_text(t).0.to_hex()));
            }
            return Ok(ColumnarValue::Array(Arc::new(out.finish())));
        }
        let ledger = self.ledger.get()?;
        let sources = ledger.sources();
        for t in text {
            let Some(t) = t else {
                out.append_null();
                continue;
            };
            // A blank text is no response: unknown, as the scan and the tagger count it.
            let responses: Vec<&str> = Some(t)
                .filter(|t| !t.trim().is_empty())
                .into_iter()
                .collect();
            let lineage = attribute_texts(&responses, &[], ledger, ledger.near_index())
                .attribution
                .lineage;
            match (self.kind, &lineage) {
                (Kind::Origin, Lineage::Unknown) => out.append_value("unknown"),
                (Kind::Origin, Lineage::Ambiguous(_)) => out.append_value("ambiguous"),
                (Kind::Origin, Lineage::Source(id)) => {
                    out.append_value(sources[*id as usize].origin.as_str());
                }
                (_, Lineage::Unknown) => out.append_null(),
                (_, Lineage::Source(id)) => out.append_value(&sources[*id as usize].name),
                (_, Lineage::Ambiguous(ids)) => {
                    let names: Vec<&str> = ids
                        .iter()
                        .map(|id| sources[*id as usize].name.as_str())
                        .collect();
                    out.append_value(names.join("|"));
                }
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use provguard::batch::{Columns, FINGERPRINT, ORIGIN, SOURCE, Tagger};
    use provguard_ledger::{FilterOptions, SourceEntry, TextEntry};
    use provguard_lineage::Origin;

    use super::*;
    use crate::LedgerQuery;

    /// The answers of a model of the shared corpus.
    fn outputs(model: &str) -> Vec<String> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/models")
            .join(format!("{model}.jsonl"));
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["output"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    fn register(ledger: &mut Ledger, name: &str, origin: Origin, texts: &[String]) {
        let source = SourceEntry {
            name: name.to_owned(),
            origin,
            curated: false,
        };
        let entries = texts.iter().map(|t| TextEntry {
            field: "output".to_owned(),
            fingerprint: Fingerprint::of_text(t).0,
            text: t.clone(),
        });
        ledger
            .register(&source, vec![], entries, &FilterOptions::default())
            .unwrap();
    }

    fn write_parquet(path: &Path, first_id: i64, texts: &[Option<String>]) {
        let ids = Int64Array::from_iter_values((first_id..).take(texts.len()));
        let output: StringArray = texts.iter().map(Option::as_deref).collect();
        let batch = RecordBatch::try_from_iter([
            ("id", Arc::new(ids) as ArrayRef),
            ("output", Arc::new(output) as ArrayRef),
        ])
        .unwrap();
        let mut writer =
            ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None)
                .unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }

    fn strings(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
        let column =
            arrow::compute::cast(batch.column_by_name(name).unwrap(), &DataType::Utf8).unwrap();
        column
            .as_string::<i32>()
            .iter()
            .map(|s| s.map(str::to_owned))
            .collect()
    }

    #[test]
    fn sql_counts_per_source_agree_with_the_batch_tagger_on_the_same_rows() {
        let gpt4 = outputs("gpt4");
        let claude = outputs("claude-2");
        let dir = tempfile::tempdir().unwrap();
        let ledger_dir = dir.path().join("ledger");

        // gpt4 wrote answers 0..40, `copycat` 30..50 (so 30..40 are ambiguous), and
        // `claude`'s answers 0..20 are registered as people's.
        let mut ledger = Ledger::open_or_new(&ledger_dir).unwrap();
        register(&mut ledger, "gpt4", Origin::Synthetic, &gpt4[..40]);
        register(&mut ledger, "copycat", Origin::Synthetic, &gpt4[30..50]);
        register(&mut ledger, "claude", Origin::Human, &claude[..20]);
        drop(ledger);

        // The dataset: registered, unregistered and edited answers, a blank and a null text,
        // in two files.
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let mut first: Vec<Option<String>> = gpt4[..60].iter().cloned().map(Some).collect();
        first.extend(gpt4[..10].iter().map(|t| Some(format!("Sure! {t}"))));
        let mut second: Vec<Option<String>> = claude[..25].iter().cloned().map(Some).collect();
        second.extend([Some("   ".to_owned()), None]);
        write_parquet(&data.join("part-0.parquet"), 0, &first);
        write_parquet(&data.join("part-1.parquet"), 1000, &second);

        // SQL: the functions over the files, by path.
        let query = LedgerQuery::open(&ledger_dir)
            .unwrap()
            .with_files()
            .with_functions();
        let files = format!("{}/*.parquet", data.display());
        let grouped = |expr: &str| -> BTreeMap<Option<String>, i64> {
            let sql = format!("SELECT {expr} AS g, count(*) AS n FROM '{files}' GROUP BY g");
            let mut counts = BTreeMap::new();
            for batch in query.run(&sql).unwrap() {
                let n = batch.column_by_name("n").unwrap();
                let n = n.as_any().downcast_ref::<Int64Array>().unwrap();
                for (g, n) in strings(&batch, "g").into_iter().zip(n.values()) {
                    counts.insert(g, *n);
                }
            }
            counts
        };
        let sql_sources = grouped("provguard_lineage(output)");
        let sql_origins = grouped("coalesce(provguard_origin(output), 'unknown')");
        let mut sql_fingerprints = BTreeMap::new();
        let sql = format!("SELECT id, provguard_fingerprint(output) AS f FROM '{files}'");
        for batch in query.run(&sql).unwrap() {
            let ids = batch.column_by_name("id").unwrap();
            let ids = ids.as_any().downcast_ref::<Int64Array>().unwrap();
            for (id, f) in ids.values().iter().zip(strings(&batch, "f")) {
                sql_fingerprints.insert(*id, f);
            }
        }

        // The facade: the same files read back and tagged batch by batch.
        let ledger = Arc::new(Ledger::open(&ledger_dir).unwrap());
        let tagger = Tagger::new(ledger, Columns::text("output"));
        let (mut sources, mut origins) = (BTreeMap::new(), BTreeMap::new());
        let mut fingerprints = BTreeMap::new();
        for file in ["part-0.parquet", "part-1.parquet"] {
            let reader = ParquetRecordBatchReaderBuilder::try_new(
                std::fs::File::open(data.join(file)).unwrap(),
            )
            .unwrap()
            .build()
            .unwrap();
            for batch in reader {
                let tagged = tagger.tag(&batch.unwrap()).unwrap();
                for s in strings(&tagged, SOURCE) {
                    *sources.entry(s).or_insert(0) += 1;
                }
                for o in strings(&tagged, ORIGIN) {
                    *origins.entry(o).or_insert(0) += 1;
                }
                let ids = tagged.column_by_name("id").unwrap();
                let ids = ids.as_any().downcast_ref::<Int64Array>().unwrap();
                for (id, f) in ids.values().iter().zip(strings(&tagged, FINGERPRINT)) {
                    fingerprints.insert(*id, f);
                }
            }
        }

        assert_eq!(sql_sources, sources);
        assert_eq!(sql_origins, origins);
        assert_eq!(sql_fingerprints, fingerprints);
        // Every kind of lineage the ledger allows occurs, so the comparison covers them.
        for key in [
            None,
            Some("gpt4"),
            Some("copycat"),
            Some("gpt4|copycat"),
            Some("claude"),
        ] {
            assert!(
                sources.contains_key(&key.map(str::to_owned)),
                "{key:?} in {sources:?}"
            );
        }
        let total: i64 = sources.values().sum();
        assert_eq!(total as usize, first.len() + second.len());
    }

    #[test]
    fn a_ledger_that_cannot_be_opened_fails_the_statement_that_needs_it_only() {
        let dir = tempfile::tempdir().unwrap();
        let context = SessionContext::new();
        register_lazy(&context, dir.path().join("missing"));
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let run = |sql: &str| runtime.block_on(async { context.sql(sql).await?.collect().await });
        assert!(run("SELECT provguard_fingerprint('a') AS f").is_ok());
        let e = run("SELECT provguard_origin(column1) FROM (VALUES ('a'))").unwrap_err();
        assert!(e.to_string().contains("cannot open the ledger"), "{e}");
    }
}
