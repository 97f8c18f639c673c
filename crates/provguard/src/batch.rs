//! Lineage for Arrow record batches: tag the rows of a pipeline's batches, add them up, and
//! ask the policy for a verdict, without files.
//!
//! A [`Tagger`] reads each row's response text from the column [`Columns`] names (and, when
//! given, the prompt columns, whose shingles are no evidence, as with the scan's prompt side),
//! attributes it against the ledger by exact fingerprint, then by shingles, and returns the
//! batch with five columns appended:
//!
//! | column | type | value |
//! |---|---|---|
//! | `lineage_origin` | `Utf8` | `human`, `synthetic`, `unknown` or `ambiguous` |
//! | `lineage_source` | `Utf8`, nullable | the source's name; for an ambiguous row its candidates in the ledger's order, joined by `\|`; null when unknown |
//! | `lineage_match` | `Utf8` | `exact`, `near`, `spliced` or `none` |
//! | `lineage_confidence` | `Float64` | 1 for an exact match, the containment for a near one, 0 for none |
//! | `lineage_fingerprint` | `Utf8`, nullable | the response text's fingerprint (`provguard-norm/1`), lowercase hex; null when the text is null |
//!
//! A row whose response text is null or blank has no response side: it is `unknown`, as a
//! scanned record without a response is. A [`Tally`] adds tagged rows up, as a scan adds up
//! its admitted records, and [`Tally::verdict`] models the ecosystem and applies a policy
//! exactly as [`crate::Scan`] does. With the `stream` feature, [`TaggedStream`] tags the
//! batches of an async `Stream` as they pass and keeps the tally.
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray};
//! use provguard::batch::{Columns, Tagger};
//! use provguard::gate::{Level, Policy};
//! use provguard::ledger::{Ledger, SourceEntry, TextEntry};
//! use provguard::lineage::{Fingerprint, Origin};
//!
//! // A ledger where `gpt` wrote one text.
//! let dir = tempfile::tempdir()?;
//! let mut ledger = Ledger::open_or_new(dir.path())?;
//! let gpt = SourceEntry { name: "gpt".into(), origin: Origin::Synthetic, curated: false };
//! let text = "Plants turn light, water and carbon dioxide into sugar and oxygen.";
//! let entry = TextEntry {
//!     field: "output".into(),
//!     fingerprint: Fingerprint::of_text(text).0,
//!     text: text.into(),
//! };
//! ledger.register(&gpt, vec![], [entry], &Default::default())?;
//!
//! // Tag a batch, add it up, decide.
//! let tagger = Tagger::new(ledger, Columns::text("output"));
//! let column = StringArray::from(vec![text, "A sentence nobody registered."]);
//! let batch = RecordBatch::try_from_iter([("output", Arc::new(column) as ArrayRef)])?;
//! let tagged = tagger.tag(&batch)?;
//! let origin = tagged.column_by_name("lineage_origin").unwrap().as_string::<i32>();
//! assert_eq!((origin.value(0), origin.value(1)), ("synthetic", "unknown"));
//!
//! let mut tally = tagger.tally();
//! tally.add(&tagged)?;
//! let policy = Policy::from_toml("[limits]\nmax_unknown_share = 0.25\n", "inline")?;
//! let judgement = tally.verdict("my-model", &policy)?;
//! assert_eq!((judgement.measured.unknown, judgement.measured.models["gpt"]), (0.5, 0.5));
//! assert_eq!(judgement.verdict.level, Level::Block);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::sync::Arc;

pub use arrow;
use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Float64Builder, RecordBatch, StringArray, StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use provguard_dynamics::Ecosystem;
use provguard_gate::Policy;
use provguard_ledger::{Ledger, SourceEntry};
use provguard_lineage::{
    Attribution, Composition, Fingerprint, Lineage, MatchKind, RecordMatch, SourceId,
    attribute_texts,
};

use crate::Error;
use crate::report::MatchCounts;
pub use crate::shares::Judgement;
use crate::shares::{self, GateInput};

/// The appended column of the row's origin.
pub const ORIGIN: &str = "lineage_origin";
/// The appended column of the row's source (or candidates).
pub const SOURCE: &str = "lineage_source";
/// The appended column of the row's match kind.
pub const MATCH: &str = "lineage_match";
/// The appended column of the row's match confidence.
pub const CONFIDENCE: &str = "lineage_confidence";
/// The appended column of the row's response fingerprint, in hex.
pub const FINGERPRINT: &str = "lineage_fingerprint";

/// What separates the candidates of an ambiguous row in [`SOURCE`].
pub const CANDIDATE_SEPARATOR: char = '|';

/// Why a batch could not be tagged or tallied.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// A column the tagger reads is not in the batch.
    #[error("the batch has no column `{0}`")]
    MissingColumn(String),
    /// A column the tagger reads does not hold text.
    #[error("column `{column}` holds `{found}`, not text")]
    NotText {
        /// The column.
        column: String,
        /// Its type.
        found: DataType,
    },
    /// The batch already has a lineage column: it was tagged before.
    #[error("the batch already has a column `{0}`; it was tagged before")]
    AlreadyTagged(String),
    /// A batch given to [`Tally::add`] lacks a lineage column or holds a value the tagger
    /// never writes.
    #[error("the batch was not tagged by provguard: {0}")]
    NotTagged(String),
    /// The tagged batch could not be built.
    #[error("cannot build the tagged batch")]
    Arrow(#[source] ArrowError),
}

/// The columns a [`Tagger`] reads: the response text, whose lineage is the row's, and the
/// prompt columns, whose shingles are no evidence.
///
/// ```
/// use provguard::batch::Columns;
/// let alpaca = Columns::text("output").with_prompt("instruction").with_prompt("input");
/// assert_eq!(alpaca.response(), "output");
/// assert_eq!(alpaca.prompt(), ["instruction", "input"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    response: String,
    prompt: Vec<String>,
}

impl Columns {
    /// Reads the response text from `column`, with no prompt.
    ///
    /// ```
    /// let columns = provguard::batch::Columns::text("completion");
    /// assert!(columns.prompt().is_empty());
    /// ```
    #[must_use]
    pub fn text(column: impl Into<String>) -> Self {
        Self {
            response: column.into(),
            prompt: Vec::new(),
        }
    }

    /// Adds a prompt column. The non-empty values of a row's prompt columns are joined by a
    /// blank line, in the order given, as the Alpaca schema joins `instruction` and `input`.
    ///
    /// ```
    /// let columns = provguard::batch::Columns::text("response").with_prompt("prompt");
    /// assert_eq!(columns.prompt(), ["prompt"]);
    /// ```
    #[must_use]
    pub fn with_prompt(mut self, column: impl Into<String>) -> Self {
        self.prompt.push(column.into());
        self
    }

    /// The response column.
    ///
    /// ```
    /// assert_eq!(provguard::batch::Columns::text("output").response(), "output");
    /// ```
    #[must_use]
    pub fn response(&self) -> &str {
        &self.response
    }

    /// The prompt columns, in order.
    ///
    /// ```
    /// let columns = provguard::batch::Columns::text("a").with_prompt("b").with_prompt("c");
    /// assert_eq!(columns.prompt(), ["b", "c"]);
    /// ```
    #[must_use]
    pub fn prompt(&self) -> &[String] {
        &self.prompt
    }
}

/// Tags record batches with their rows' lineage against one open ledger. Cloning is cheap:
/// the ledger is shared.
///
/// ```
/// use provguard::batch::{Columns, Tagger};
/// let dir = tempfile::tempdir()?;
/// let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
/// let tagger = Tagger::new(ledger, Columns::text("text"));
/// assert_eq!(tagger.columns().response(), "text");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Tagger {
    ledger: Arc<Ledger>,
    columns: Columns,
}

impl Tagger {
    /// A tagger that reads `columns` and looks texts up in `ledger` (a `Ledger` or an
    /// `Arc<Ledger>`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use provguard::batch::{Columns, Tagger};
    /// let dir = tempfile::tempdir()?;
    /// let ledger = Arc::new(provguard::ledger::Ledger::open_or_new(dir.path())?);
    /// let tagger = Tagger::new(Arc::clone(&ledger), Columns::text("text"));
    /// assert!(tagger.ledger().sources().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn new(ledger: impl Into<Arc<Ledger>>, columns: Columns) -> Self {
        Self {
            ledger: ledger.into(),
            columns,
        }
    }

    /// The ledger texts are looked up in.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
    /// let tagger = provguard::batch::Tagger::new(ledger, provguard::batch::Columns::text("t"));
    /// assert_eq!(tagger.ledger().fingerprints(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The columns read.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
    /// let tagger = provguard::batch::Tagger::new(ledger, provguard::batch::Columns::text("t"));
    /// assert_eq!(tagger.columns().response(), "t");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// An empty [`Tally`] over this tagger's ledger.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
    /// let tagger = provguard::batch::Tagger::new(ledger, provguard::batch::Columns::text("t"));
    /// assert_eq!(tagger.tally().records(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn tally(&self) -> Tally {
        Tally::new(Arc::clone(&self.ledger))
    }

    /// The schema of the tagged batches of `input`: its fields, then the lineage columns
    /// (for a writer that must be created before the first batch).
    ///
    /// ```
    /// use arrow::datatypes::{DataType, Field, Schema};
    /// # let dir = tempfile::tempdir()?;
    /// # let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
    /// let tagger = provguard::batch::Tagger::new(ledger, provguard::batch::Columns::text("t"));
    /// let schema = tagger.output_schema(&Schema::new(vec![Field::new("t", DataType::Utf8, true)]));
    /// assert_eq!(schema.fields().len(), 6);
    /// assert_eq!(schema.field(1).name(), provguard::batch::ORIGIN);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn output_schema(&self, input: &Schema) -> SchemaRef {
        let mut fields: Vec<Arc<Field>> = input.fields().iter().cloned().collect();
        fields.extend(lineage_fields().into_iter().map(Arc::new));
        Arc::new(Schema::new_with_metadata(fields, input.metadata().clone()))
    }

    /// The batch with the lineage columns appended, one value per row.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray};
    /// # let dir = tempfile::tempdir()?;
    /// # let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
    /// let tagger = provguard::batch::Tagger::new(ledger, provguard::batch::Columns::text("t"));
    /// let column = StringArray::from(vec![Some("Never registered."), None]);
    /// let batch = RecordBatch::try_from_iter([("t", Arc::new(column) as ArrayRef)])?;
    /// let tagged = tagger.tag(&batch)?;
    /// let kind = tagged.column_by_name("lineage_match").unwrap().as_string::<i32>();
    /// assert_eq!((kind.value(0), kind.value(1)), ("none", "none"));
    /// assert!(tagged.column_by_name("lineage_fingerprint").unwrap().is_null(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tag(&self, batch: &RecordBatch) -> Result<RecordBatch, Error> {
        self.tag_rows(batch, |_| {})
    }

    /// [`Tagger::tag`], adding the rows to `tally` as well (as [`Tally::add`] of the tagged
    /// batch would, without reading the columns back).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow::array::{ArrayRef, RecordBatch, StringArray};
    /// # let dir = tempfile::tempdir()?;
    /// # let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
    /// let tagger = provguard::batch::Tagger::new(ledger, provguard::batch::Columns::text("t"));
    /// let column = StringArray::from(vec!["one", "two"]);
    /// let batch = RecordBatch::try_from_iter([("t", Arc::new(column) as ArrayRef)])?;
    /// let mut tally = tagger.tally();
    /// tagger.tag_counted(&batch, &mut tally)?;
    /// assert_eq!((tally.records(), tally.composition().unknown), (2, 2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tag_counted(
        &self,
        batch: &RecordBatch,
        tally: &mut Tally,
    ) -> Result<RecordBatch, Error> {
        let mut rows = Vec::with_capacity(batch.num_rows());
        let tagged = self.tag_rows(batch, |matched| {
            rows.push((
                matched.attribution.clone(),
                matched.kind,
                matched.confidence,
            ));
        })?;
        for (attribution, kind, confidence) in &rows {
            tally.count(attribution, *kind, *confidence);
        }
        Ok(tagged)
    }

    /// Tags every row, handing each row's match to `each`.
    fn tag_rows(
        &self,
        batch: &RecordBatch,
        mut each: impl FnMut(&RecordMatch),
    ) -> Result<RecordBatch, Error> {
        for name in [ORIGIN, SOURCE, MATCH, CONFIDENCE, FINGERPRINT] {
            if batch.column_by_name(name).is_some() {
                return Err(BatchError::AlreadyTagged(name.to_owned()).into());
            }
        }
        let response = text_column(batch, &self.columns.response)?;
        let prompts = self
            .columns
            .prompt
            .iter()
            .map(|name| text_column(batch, name))
            .collect::<Result<Vec<_>, _>>()?;

        let rows = batch.num_rows();
        let mut origin = StringBuilder::with_capacity(rows, rows * 8);
        let mut source = StringBuilder::with_capacity(rows, rows * 8);
        let mut kind = StringBuilder::with_capacity(rows, rows * 5);
        let mut confidence = Float64Builder::with_capacity(rows);
        let mut fingerprint = StringBuilder::with_capacity(rows, rows * 64);
        let sources = self.ledger.sources();
        let mut context = String::new();
        for row in 0..rows {
            let text = response.is_valid(row).then(|| response.value(row));

            // The prompt side as the Alpaca schema builds it: non-empty parts, a blank line
            // between them.
            context.clear();
            for prompt in &prompts {
                if prompt.is_valid(row) && !prompt.value(row).is_empty() {
                    if !context.is_empty() {
                        context.push_str("\n\n");
                    }
                    context.push_str(prompt.value(row));
                }
            }
            let matched = self.attribute(text, &context);

            let (o, s) = describe(&matched.attribution.lineage, sources);
            origin.append_value(o);
            source.append_option(s);
            kind.append_value(matched.kind.as_str());
            confidence.append_value(matched.confidence);
            fingerprint.append_option(text.map(|t| Fingerprint::of_text(t).0.to_hex()));
            each(&matched);
        }

        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        columns.push(Arc::new(origin.finish()));
        columns.push(Arc::new(source.finish()));
        columns.push(Arc::new(kind.finish()));
        columns.push(Arc::new(confidence.finish()));
        columns.push(Arc::new(fingerprint.finish()));
        RecordBatch::try_new(self.output_schema(&batch.schema()), columns)
            .map_err(|e| BatchError::Arrow(e).into())
    }

    /// One row's match, by the scan's rule: a blank response is no response side.
    fn attribute(&self, text: Option<&str>, context: &str) -> RecordMatch {
        let responses: Vec<&str> = text.filter(|t| !t.trim().is_empty()).into_iter().collect();
        let context: Vec<&str> = if context.is_empty() {
            Vec::new()
        } else {
            vec![context]
        };
        attribute_texts(
            &responses,
            &context,
            &*self.ledger,
            self.ledger.near_index(),
        )
    }
}

/// The lineage columns a tagger appends.
fn lineage_fields() -> [Field; 5] {
    [
        Field::new(ORIGIN, DataType::Utf8, false),
        Field::new(SOURCE, DataType::Utf8, true),
        Field::new(MATCH, DataType::Utf8, false),
        Field::new(CONFIDENCE, DataType::Float64, false),
        Field::new(FINGERPRINT, DataType::Utf8, true),
    ]
}

/// A column of text of any Arrow string encoding, as `Utf8`.
fn text_column(batch: &RecordBatch, name: &str) -> Result<StringArray, BatchError> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| BatchError::MissingColumn(name.to_owned()))?;
    let text =
        |t: &DataType| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    let is_text = match column.data_type() {
        DataType::Dictionary(_, values) => text(values),
        other => text(other),
    };
    if !is_text {
        return Err(BatchError::NotText {
            column: name.to_owned(),
            found: column.data_type().clone(),
        });
    }
    let utf8 = arrow::compute::cast(column, &DataType::Utf8).map_err(BatchError::Arrow)?;
    Ok(utf8.as_string::<i32>().clone())
}

/// The origin and source columns' values of a lineage.
fn describe(lineage: &Lineage, sources: &[SourceEntry]) -> (&'static str, Option<String>) {
    match lineage {
        Lineage::Unknown => ("unknown", None),
        Lineage::Source(id) => {
            let s = &sources[*id as usize];
            (s.origin.as_str(), Some(s.name.clone()))
        }
        Lineage::Ambiguous(ids) => {
            let names: Vec<&str> = ids
                .iter()
                .map(|id| sources[*id as usize].name.as_str())
                .collect();
            (
                "ambiguous",
                Some(names.join(&CANDIDATE_SEPARATOR.to_string())),
            )
        }
    }
}

/// Tagged rows added up: the composition a scan of the same records would measure, and its
/// match kinds. Each row counts as one admitted record.
///
/// ```
/// use std::sync::Arc;
/// use arrow::array::{ArrayRef, RecordBatch, StringArray};
/// # let dir = tempfile::tempdir()?;
/// # let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
/// let tagger = provguard::batch::Tagger::new(ledger, provguard::batch::Columns::text("t"));
/// let column = StringArray::from(vec!["one", "two", "three"]);
/// let batch = RecordBatch::try_from_iter([("t", Arc::new(column) as ArrayRef)])?;
/// let mut tally = tagger.tally();
/// tally.add(&tagger.tag(&batch)?)?;
/// assert_eq!(tally.by_match().none, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Tally {
    ledger: Arc<Ledger>,
    ids: HashMap<String, SourceId>,
    composition: Composition,
    by_match: MatchCounts,
    near_confidence: f64,
}

impl Tally {
    /// An empty tally over `ledger`'s sources.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
    /// let tally = provguard::batch::Tally::new(ledger);
    /// assert_eq!(tally.records(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn new(ledger: impl Into<Arc<Ledger>>) -> Self {
        let ledger = ledger.into();
        let ids = ledger
            .sources()
            .iter()
            .enumerate()
            .map(|(id, s)| (s.name.clone(), id as SourceId))
            .collect();
        Self {
            composition: Composition::new(ledger.source_kinds()),
            ledger,
            ids,
            by_match: MatchCounts::default(),
            near_confidence: 0.0,
        }
    }

    /// Adds the rows of a batch a [`Tagger`] over the same ledger tagged (whole, or the rows
    /// a pipeline kept), reading its lineage columns.
    ///
    /// A source name that holds [`CANDIDATE_SEPARATOR`] cannot be told apart from two
    /// candidates in an ambiguous row's [`SOURCE`]; such a row is an error here, and
    /// [`Tagger::tag_counted`] counts it right.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow::array::{ArrayRef, RecordBatch, StringArray};
    /// # let dir = tempfile::tempdir()?;
    /// # let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
    /// let tagger = provguard::batch::Tagger::new(ledger, provguard::batch::Columns::text("t"));
    /// let column = StringArray::from(vec!["one"]);
    /// let batch = RecordBatch::try_from_iter([("t", Arc::new(column) as ArrayRef)])?;
    /// let mut tally = tagger.tally();
    /// assert!(tally.add(&batch).is_err(), "not tagged");
    /// tally.add(&tagger.tag(&batch)?)?;
    /// assert_eq!(tally.records(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add(&mut self, tagged: &RecordBatch) -> Result<(), Error> {
        let origin = tagged_strings(tagged, ORIGIN)?;
        let source = tagged_strings(tagged, SOURCE)?;
        let kind = tagged_strings(tagged, MATCH)?;
        let confidence = tagged
            .column_by_name(CONFIDENCE)
            .and_then(|c| c.as_any().downcast_ref::<Float64Array>())
            .ok_or_else(|| BatchError::NotTagged(format!("no `Float64` column `{CONFIDENCE}`")))?;

        // Read every row first, so that a bad row adds nothing.
        let mut rows = Vec::with_capacity(tagged.num_rows());
        for row in 0..tagged.num_rows() {
            let name = |i: usize| {
                self.ids.get(source.value(i)).copied().ok_or_else(|| {
                    BatchError::NotTagged(format!(
                        "`{SOURCE}` names `{}`, which the ledger does not hold",
                        source.value(i)
                    ))
                })
            };
            let lineage = match origin.value(row) {
                "unknown" => Lineage::Unknown,
                "ambiguous" => {
                    let mut ids = source
                        .value(row)
                        .split(CANDIDATE_SEPARATOR)
                        .map(|n| {
                            self.ids.get(n).copied().ok_or_else(|| {
                                BatchError::NotTagged(format!(
                                    "`{SOURCE}` names a candidate `{n}`, which the ledger does not hold"
                                ))
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    ids.sort_unstable();
                    ids.dedup();
                    Lineage::Ambiguous(ids)
                }
                _ => Lineage::Source(name(row)?),
            };
            let kind = match kind.value(row) {
                "exact" => MatchKind::Exact,
                "near" => MatchKind::Near,
                "spliced" => MatchKind::Spliced,
                "none" => MatchKind::None,
                other => {
                    return Err(BatchError::NotTagged(format!(
                        "`{MATCH}` holds `{other}`, not a match kind"
                    ))
                    .into());
                }
            };
            let matched = usize::from(lineage != Lineage::Unknown);
            let attribution = Attribution {
                lineage,
                matched_texts: matched,
                total_texts: 1,
            };
            rows.push((attribution, kind, confidence.value(row)));
        }
        for (attribution, kind, confidence) in &rows {
            self.count(attribution, *kind, *confidence);
        }
        Ok(())
    }

    /// Counts one row.
    fn count(&mut self, attribution: &Attribution, kind: MatchKind, confidence: f64) {
        self.composition.add(attribution, false);
        self.by_match.add(kind);
        if matches!(kind, MatchKind::Near | MatchKind::Spliced) {
            self.near_confidence += confidence;
        }
    }

    /// Rows added.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
    /// assert_eq!(provguard::batch::Tally::new(ledger).records(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn records(&self) -> u64 {
        self.composition.records
    }

    /// The rows by origin and by source (source ids index the ledger's
    /// [`sources`](Ledger::sources)).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
    /// let tally = provguard::batch::Tally::new(ledger);
    /// assert!(tally.composition().by_source.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn composition(&self) -> &Composition {
        &self.composition
    }

    /// The rows by match kind.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
    /// let tally = provguard::batch::Tally::new(ledger);
    /// assert_eq!(tally.by_match().exact, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn by_match(&self) -> &MatchCounts {
        &self.by_match
    }

    /// The mean confidence of the rows matched near or spliced; `None` when there are none.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
    /// assert_eq!(provguard::batch::Tally::new(ledger).near_mean_confidence(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn near_mean_confidence(&self) -> Option<f64> {
        let near = self.by_match.near + self.by_match.spliced;
        (near > 0).then(|| self.near_confidence / near as f64)
    }

    /// The rows as the batch of home model `home`: measured, modelled in the ecosystem the
    /// ledger's recorded scans describe, and judged by `policy`, as [`crate::Scan`] judges the
    /// records it admits. Every row counts as admitted; none is rejected.
    ///
    /// ```
    /// use provguard::gate::{Level, Policy};
    /// # let dir = tempfile::tempdir()?;
    /// # let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
    /// let tally = provguard::batch::Tally::new(ledger);
    /// let judgement = tally.verdict("my-model", &Policy::default())?;
    /// assert_eq!(judgement.measured.records, 0);
    /// assert_eq!(judgement.dynamics.human_share, None);
    /// # let _ = judgement.verdict.level == Level::Pass;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verdict(&self, home: &str, policy: &Policy) -> Result<Judgement, Error> {
        self.verdict_in(home, policy, None)
    }

    /// [`Tally::verdict`], with the models the tally does not measure described by
    /// `ecosystem` (as `provguard scan --ecosystem` reads it).
    ///
    /// ```
    /// use provguard::dynamics::Ecosystem;
    /// use provguard::gate::Policy;
    /// # let dir = tempfile::tempdir()?;
    /// # let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
    /// let tally = provguard::batch::Tally::new(ledger);
    /// let ecosystem = Ecosystem::new(1);
    /// let judgement = tally.verdict_in("my-model", &Policy::default(), Some(&ecosystem))?;
    /// assert_eq!(judgement.measured.records, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verdict_in(
        &self,
        home: &str,
        policy: &Policy,
        ecosystem: Option<&Ecosystem>,
    ) -> Result<Judgement, Error> {
        let gate = GateInput {
            home,
            policy,
            ecosystem,
            rejected: 0,
            strict: true,
        };
        shares::judge(&self.composition, &self.ledger, gate)
    }
}

/// A lineage column of strings that a tagger writes.
fn tagged_strings<'b>(batch: &'b RecordBatch, name: &str) -> Result<&'b StringArray, BatchError> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        .ok_or_else(|| BatchError::NotTagged(format!("no `Utf8` column `{name}`")))
}

#[cfg(feature = "stream")]
mod stream;
#[cfg(feature = "stream")]
pub use stream::{StreamError, TaggedStream};

#[cfg(test)]
mod tests;
