//! The client: a scan whose records are read and tagged on a Ballista cluster.
//!
//! The files are found as the local scan finds them. Each one becomes a table (Parquet, JSON
//! Lines, CSV or TSV, read by the executors), its rows go through `provguard_record` (see
//! [`crate::record`]) and the results are counted by what the composition needs: records by
//! file, schema, lineage (origin and candidate set), match kind, curation, flags and
//! declaration, with the sums of their match confidences and content fingerprints. The client
//! then adds these counts up into the same [`Composition`] the local scan builds, record by
//! record, and judges it with the same code ([`provguard::shares::judge`]).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema, UInt64Type};
use ballista::prelude::{SessionConfigExt as _, SessionContextExt as _};
use datafusion::dataframe::DataFrame;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::functions::core::expr_fn::{coalesce, get_field, named_struct};
use datafusion::functions_aggregate::expr_fn::{count, sum};
use datafusion::logical_expr::{Expr, ScalarUDF};
use datafusion::prelude::{
    CsvReadOptions, JsonReadOptions, ParquetReadOptions, SessionConfig, SessionContext, col, ident,
    lit,
};
use provguard::ingest::schema::{SchemaKind, SchemaOptions};
use provguard::ingest::{Compression, InputFormat, Locator, Scope};
use provguard::ledger::{Ledger, SourceEntry};
use provguard::lineage::{Attribution, Composition, Lineage, MatchKind, NORMALISATION, SourceId};
use provguard::report::{
    Accounting, Baseline, CompositionReport, DeclaredReport, FileComposition, Inputs,
    MAX_LISTED_PROBLEMS, MatchCounts, Problem, Report, SCHEMA_VERSION,
};
use provguard::{Scan, shares};

use crate::record::{self, SEPARATOR};
use crate::{ClusterError, server};

/// How many declaration conflicts a report lists (as the local scan).
const MAX_LISTED_CONFLICTS: usize = 100;

/// The fields the flat schemas read (and the declarations), by the names the schemas use.
const READ_FIELDS: [&str; 24] = [
    "messages",
    "conversations",
    "system",
    "chosen",
    "prompt",
    "rejected",
    "chosen_response",
    "instruction",
    "rejected_response",
    "response_j",
    "question",
    "response_k",
    "output",
    "input",
    "completion",
    "response",
    "text",
    "generator",
    "model",
    "source",
    "origin",
    "provenance",
    "meta",
    "metadata",
];

/// The record-level columns of `provguard_record` the counts are grouped by.
const GROUPED: [&str; 13] = [
    "admitted",
    "problem_field",
    "problem_message",
    "problem_hint",
    "schema",
    "origin",
    "sources",
    "match",
    "curated",
    "partial",
    "flags",
    "declared",
    "claim",
];

/// The formats a cluster reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Parquet,
    JsonLines,
    Csv,
    Tsv,
}

/// Runs `scan` over the files under `paths` on the Ballista cluster whose scheduler is at
/// `url` (`df://HOST:PORT`), judging against `ledger` (which every executor must hold a copy
/// of). Only flat records are read (see the crate's documentation); anything else is an
/// error that says to scan locally.
pub fn run(
    url: &str,
    scan: &Scan,
    ledger: &Arc<Ledger>,
    paths: &[PathBuf],
) -> Result<Report, ClusterError> {
    if !url.starts_with("df://") {
        return Err(ClusterError::Url(url.to_owned()));
    }
    if !scan.schema.role_map.is_empty() {
        // Roles only matter in chat turns, which a cluster does not read.
        tracing::debug!("`--role-map` has no effect on flat records");
    }
    let skip = [ledger.dir().to_owned()];
    let discovery = provguard::ingest::discover_filtered(paths, &skip, &scan.read.filter)?;
    let mut files = Vec::with_capacity(discovery.files.len());
    // An empty text file holds no record and no columns to plan by: passed over with the
    // local scan's warning (an empty Parquet file is the engine's error, as it is locally).
    let mut warnings = Vec::new();
    for file in &discovery.files {
        let format = format_of(file, scan)?;
        if format != Format::Parquet && std::fs::metadata(file).is_ok_and(|m| m.len() == 0) {
            let mut warning = Problem::at(&Locator::file(file.as_path()), "", "the file is empty");
            warning.scope = Scope::Record;
            warnings.push(warning);
        } else {
            files.push((file.clone(), format));
        }
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ClusterError::Runtime)?;
    let batches = runtime.block_on(query(url, scan, ledger, &files))?;

    let mut counts = Counts::new(ledger);
    for batch in &batches {
        counts.add(batch)?;
    }
    let mut report = counts.report(scan, ledger, paths, &discovery)?;
    report.warnings = warnings;
    Ok(report)
}

/// The format of one file, or why a cluster cannot read it.
fn format_of(file: &Path, scan: &Scan) -> Result<Format, ClusterError> {
    let unsupported = |what: &str| ClusterError::Unsupported {
        file: file.to_owned(),
        what: what.to_owned(),
    };
    if file == Path::new("-") {
        return Err(unsupported("standard input"));
    }
    // The engine's file reader takes its path as a glob: a name with glob characters would
    // read other files, or none.
    let absolute = std::fs::canonicalize(file).map_err(|source| ClusterError::Read {
        file: file.to_owned(),
        source,
    })?;
    if absolute
        .to_string_lossy()
        .contains(['*', '?', '[', ']', '{', '}'])
    {
        return Err(unsupported(
            "a path with glob characters (`* ? [ ] { }`), which the cluster's file reader would \
             expand to other files",
        ));
    }
    let reader = provguard::ingest::open(file, &scan.read)?;
    if !matches!(reader.compression(), Compression::None) {
        return Err(unsupported("a compressed file"));
    }
    let format = reader.format();
    match format {
        InputFormat::Parquet => Ok(Format::Parquet),
        InputFormat::JsonLines => Ok(Format::JsonLines),
        InputFormat::Csv => Ok(Format::Csv),
        InputFormat::Tsv => Ok(Format::Tsv),
        _ => Err(unsupported("a JSON array or Arrow IPC file")),
    }
}

/// Plans the scan of every file and runs it on the cluster: one row per group of records
/// that count alike.
async fn query(
    url: &str,
    scan: &Scan,
    ledger: &Arc<Ledger>,
    files: &[(PathBuf, Format)],
) -> Result<Vec<RecordBatch>, ClusterError> {
    let query_error = |source| ClusterError::Query {
        url: url.to_owned(),
        source,
    };
    let state = SessionStateBuilder::new()
        .with_config(SessionConfig::new_with_ballista())
        .with_default_features()
        .build();
    let context = SessionContext::remote_with_state(url, state)
        .await
        .map_err(query_error)?;
    let mut tagger = None;
    for udf in server::functions(ledger) {
        if udf.name() == record::NAME {
            tagger = Some(Arc::clone(&udf));
        }
        context.register_udf(Arc::unwrap_or_clone(udf));
    }
    let tagger = tagger.ok_or_else(|| ClusterError::Bug("no record function".to_owned()))?;
    let ledger_id = record::ledger_id(ledger);

    let mut all: Option<DataFrame> = None;
    for (file, format) in files {
        let frame = file_frame(&context, file, *format, &scan.schema, &tagger, &ledger_id).await?;
        all = Some(match all {
            None => frame,
            Some(all) => all.union(frame).map_err(query_error)?,
        });
    }
    let Some(all) = all else {
        return Ok(Vec::new());
    };

    let mut columns = vec![col("file")];
    columns.extend(
        GROUPED
            .iter()
            .chain(&["confidence"])
            .map(|name| get_field(col("r"), *name).alias(*name)),
    );
    columns.extend((0..8).map(|i| {
        let name = format!("content{i}");
        get_field(col("r"), name.as_str()).alias(name)
    }));
    let mut aggregates = vec![
        count(lit(1)).alias("n"),
        sum(col("confidence")).alias("confidence"),
    ];
    aggregates.extend((0..8).map(|i| {
        let name = format!("content{i}");
        sum(col(name.as_str())).alias(name)
    }));
    let mut group = vec![col("file")];
    group.extend(GROUPED.iter().map(|name| col(*name)));
    all.select(columns)
        .and_then(|frame| frame.aggregate(group, aggregates))
        .map_err(query_error)?
        .collect()
        .await
        .map_err(query_error)
}

/// One file as a table of `file` (its name as discovered) and `r` (its records tagged).
async fn file_frame(
    context: &SessionContext,
    file: &Path,
    format: Format,
    options: &SchemaOptions,
    tagger: &ScalarUDF,
    ledger_id: &str,
) -> Result<DataFrame, ClusterError> {
    let unsupported = |what: String| ClusterError::Unsupported {
        file: file.to_owned(),
        what,
    };
    let read_error = |source| ClusterError::Plan {
        file: file.to_owned(),
        source,
    };
    if matches!(
        options.schema,
        Some(SchemaKind::Messages | SchemaKind::ShareGpt)
    ) {
        return Err(unsupported("chat records (`--schema`)".to_owned()));
    }
    // Executors read the file by its absolute path.
    let path = std::fs::canonicalize(file).map_err(|source| ClusterError::Read {
        file: file.to_owned(),
        source,
    })?;
    let path = path.display().to_string();
    let extension = file
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();

    let frame = match format {
        Format::Parquet => {
            let options = ParquetReadOptions::new().file_extension(&extension);
            context.read_parquet(path.as_str(), options).await
        }
        Format::JsonLines => {
            // Every line decides the columns: a field that only late records have is read.
            let options = JsonReadOptions::default()
                .file_extension(&extension)
                .schema_infer_max_records(usize::MAX);
            context.read_json(path.as_str(), options).await
        }
        Format::Csv | Format::Tsv => {
            let delimiter = if format == Format::Csv { b',' } else { b'\t' };
            let options = || {
                CsvReadOptions::new()
                    .has_header(true)
                    .delimiter(delimiter)
                    .newlines_in_values(true)
                    .file_extension(&extension)
            };
            // Every value is text, as the local scan reads it: nothing is inferred.
            let inferred = context
                .read_csv(path.as_str(), options().schema_infer_max_records(1))
                .await
                .map_err(read_error)?;
            let text: Vec<Field> = inferred
                .schema()
                .fields()
                .iter()
                .map(|f| Field::new(f.name(), DataType::Utf8, true))
                .collect();
            let text = Schema::new(text);
            context
                .read_csv(path.as_str(), options().schema(&text))
                .await
        }
    }
    .map_err(read_error)?;

    let fields = record_fields(&frame, file, format, options)?;
    let forced = options.schema.map_or("", SchemaKind::as_str);
    let tagged: Expr = tagger.call(vec![named_struct(fields), lit(forced), lit(ledger_id)]);
    let label = file.display().to_string();
    frame
        .select(vec![lit(label).alias("file"), tagged.alias("r")])
        .map_err(read_error)
}

/// The `named_struct` arguments of a file's records: each column a flat schema reads, under
/// the name the schema reads it by (as `--map` renames it); an error for what a cluster does
/// not read.
fn record_fields(
    frame: &DataFrame,
    file: &Path,
    format: Format,
    options: &SchemaOptions,
) -> Result<Vec<Expr>, ClusterError> {
    let unsupported = |what: String| ClusterError::Unsupported {
        file: file.to_owned(),
        what,
    };
    let read_error = |source| ClusterError::Plan {
        file: file.to_owned(),
        source,
    };
    // The columns under the names the schemas read, as `--map` renames them.
    let mut named: Vec<(String, String)> = frame
        .schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.name().clone()))
        .collect();
    for (schema_name, dataset_name) in &options.field_map {
        if let Some(at) = named.iter().position(|(k, _)| k == dataset_name) {
            let (_, column) = named.remove(at);
            match named.iter_mut().find(|(k, _)| k == schema_name) {
                Some(slot) => slot.1 = column,
                None => named.push((schema_name.clone(), column)),
            }
        }
    }
    named.retain(|(key, _)| READ_FIELDS.contains(&key.as_str()));
    let schema = frame.schema();
    for (key, column) in &named {
        let data_type = schema
            .field_with_unqualified_name(column)
            .map_err(read_error)?
            .data_type();
        if matches!(key.as_str(), "messages" | "conversations") {
            return Err(unsupported(format!("chat records (field `{column}`)")));
        }
        let nested = matches!(
            data_type,
            DataType::List(_)
                | DataType::LargeList(_)
                | DataType::ListView(_)
                | DataType::FixedSizeList(..)
                | DataType::Map(..)
                | DataType::Struct(_)
        );
        if nested && !matches!(key.as_str(), "meta" | "metadata") {
            return Err(unsupported(format!(
                "field `{column}` holding `{data_type}`, not text"
            )));
        }
    }
    if named.is_empty() {
        return Err(unsupported(
            "none of the fields a flat schema reads (`output`, `completion`, `response`, \
             `chosen`, `text`, ...)"
                .to_owned(),
        ));
    }

    let mut fields = Vec::with_capacity(named.len() * 2);
    for (key, column) in &named {
        fields.push(lit(key.as_str()));
        // A CSV field is text, never null: an empty one is the empty string.
        fields.push(match format {
            Format::Csv | Format::Tsv => coalesce(vec![ident(column), lit("")]),
            _ => ident(column),
        });
    }
    Ok(fields)
}

/// The counts of the groups, added up as the local scan adds up its records.
struct Counts<'l> {
    ledger: &'l Ledger,
    ids: HashMap<&'l str, SourceId>,
    composition: Composition,
    accounting: Accounting,
    by_schema: BTreeMap<&'static str, u64>,
    flags: BTreeMap<String, u64>,
    partial: u64,
    declared: DeclaredReport,
    problems: Vec<Problem>,
    problems_total: u64,
    content: (u64, [u64; 4]),
    by_match: MatchCounts,
    near_confidence: f64,
    by_file: BTreeMap<String, FileComposition>,
}

/// The columns of a result batch, by name.
struct Columns<'b>(&'b RecordBatch);

impl Columns<'_> {
    fn column(&self, name: &str, to: &DataType) -> Result<ArrayRef, ClusterError> {
        let column = self
            .0
            .column_by_name(name)
            .ok_or_else(|| ClusterError::Bug(format!("no column `{name}` in the result")))?;
        arrow::compute::cast(column, to)
            .map_err(|e| ClusterError::Bug(format!("column `{name}`: {e}")))
    }

    fn text(&self, name: &str) -> Result<Vec<Option<String>>, ClusterError> {
        let column = self.column(name, &DataType::Utf8)?;
        Ok(column
            .as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_owned))
            .collect())
    }

    fn flag(&self, name: &str) -> Result<Vec<bool>, ClusterError> {
        let column = self.column(name, &DataType::Boolean)?;
        Ok(column
            .as_boolean()
            .iter()
            .map(|v| v.unwrap_or(false))
            .collect())
    }
}

impl<'l> Counts<'l> {
    fn new(ledger: &'l Ledger) -> Self {
        let ids = ledger
            .sources()
            .iter()
            .enumerate()
            .map(|(id, s)| (s.name.as_str(), id as SourceId))
            .collect();
        Self {
            ledger,
            ids,
            composition: Composition::new(ledger.source_kinds()),
            accounting: Accounting::default(),
            by_schema: BTreeMap::new(),
            flags: BTreeMap::new(),
            partial: 0,
            declared: DeclaredReport::default(),
            problems: Vec::new(),
            problems_total: 0,
            content: (0, [0; 4]),
            by_match: MatchCounts::default(),
            near_confidence: 0.0,
            by_file: BTreeMap::new(),
        }
    }

    /// Adds the groups of one result batch.
    fn add(&mut self, batch: &RecordBatch) -> Result<(), ClusterError> {
        let c = Columns(batch);
        let file = c.text("file")?;
        let admitted = c.flag("admitted")?;
        let (field, message, hint) = (
            c.text("problem_field")?,
            c.text("problem_message")?,
            c.text("problem_hint")?,
        );
        let (schema, origin, sources, kind) = (
            c.text("schema")?,
            c.text("origin")?,
            c.text("sources")?,
            c.text("match")?,
        );
        let (curated, partial, flags) = (c.flag("curated")?, c.flag("partial")?, c.text("flags")?);
        let (declared, claim) = (c.text("declared")?, c.text("claim")?);
        let n = c.column("n", &DataType::Int64)?;
        let n = n.as_primitive::<Int64Type>();
        let confidence = c.column("confidence", &DataType::Float64)?;
        let confidence = confidence.as_primitive::<Float64Type>();
        let mut content = Vec::with_capacity(8);
        for i in 0..8 {
            content.push(c.column(&format!("content{i}"), &DataType::UInt64)?);
        }

        for row in 0..batch.num_rows() {
            let n = u64::try_from(n.value(row))
                .map_err(|_| ClusterError::Bug("a negative count".to_owned()))?;
            let file = file[row].clone().unwrap_or_default();
            self.accounting.records_read += n;
            if !admitted[row] {
                let problem = (
                    field[row].as_deref(),
                    message[row].as_deref(),
                    hint[row].as_deref(),
                );
                self.rejected(&file, n, problem);
                continue;
            }
            self.accounting.admitted += n;

            let text = |v: &Option<String>| v.clone().unwrap_or_default();
            let lineage = self.lineage(&text(&origin[row]), sources[row].as_deref())?;
            let kind = match text(&kind[row]).as_str() {
                "exact" => MatchKind::Exact,
                "near" => MatchKind::Near,
                "spliced" => MatchKind::Spliced,
                _ => MatchKind::None,
            };
            let attribution = Attribution {
                lineage,
                matched_texts: 0,
                total_texts: 0,
            };
            let names: Vec<&str> = sources[row]
                .as_deref()
                .map(|s| s.split(SEPARATOR).collect())
                .unwrap_or_default();
            let by_file = self.by_file.entry(file.clone()).or_default();
            for _ in 0..n {
                self.composition.add(&attribution, curated[row]);
                self.by_match.add(kind);
                by_file.add(&text(&origin[row]), names.iter().copied(), None);
            }
            if matches!(kind, MatchKind::Near | MatchKind::Spliced) && !confidence.is_null(row) {
                self.near_confidence += confidence.value(row);
            }

            let schema = text(&schema[row]);
            let schema = SchemaKind::from_name(&schema)
                .ok_or_else(|| ClusterError::Bug(format!("schema `{schema}`")))?;
            *self.by_schema.entry(schema.as_str()).or_default() += n;
            for flag in text(&flags[row]).split(',').filter(|f| !f.is_empty()) {
                *self.flags.entry(flag.to_owned()).or_default() += n;
            }
            if partial[row] {
                self.partial += n;
            }
            self.declare(
                &file,
                n,
                declared[row].as_deref(),
                claim[row].as_deref(),
                &names,
            );

            self.content.0 += n;
            for (i, limb) in self.content.1.iter_mut().enumerate() {
                let low = content[2 * i].as_primitive::<UInt64Type>().value(row);
                let high = content[2 * i + 1].as_primitive::<UInt64Type>().value(row);
                *limb = limb.wrapping_add(low).wrapping_add(high.wrapping_shl(32));
            }
        }
        Ok(())
    }

    fn lineage(&self, origin: &str, sources: Option<&str>) -> Result<Lineage, ClusterError> {
        let id = |name: &str| {
            self.ids
                .get(name)
                .copied()
                .ok_or_else(|| ClusterError::LedgerMismatch(name.to_owned()))
        };
        Ok(match (origin, sources) {
            ("unknown", _) | (_, None) => Lineage::Unknown,
            ("ambiguous", Some(names)) => {
                let mut ids = names
                    .split(SEPARATOR)
                    .map(id)
                    .collect::<Result<Vec<_>, _>>()?;
                ids.sort_unstable();
                ids.dedup();
                Lineage::Ambiguous(ids)
            }
            (_, Some(name)) => Lineage::Source(id(name)?),
        })
    }

    fn rejected(
        &mut self,
        file: &str,
        n: u64,
        (field, message, hint): (Option<&str>, Option<&str>, Option<&str>),
    ) {
        self.accounting.rejected += n;
        self.problems_total += n;
        let listed = (MAX_LISTED_PROBLEMS - self.problems.len()).min(n as usize);
        for _ in 0..listed {
            let mut problem = Problem::at(
                &Locator::file(Path::new(file)),
                field.unwrap_or_default(),
                message.unwrap_or_default(),
            );
            problem.hint = hint.map(str::to_owned);
            problem.scope = Scope::Record;
            self.problems.push(problem);
        }
    }

    /// Counts declarations as the local scan's `check_claim` does.
    fn declare(
        &mut self,
        file: &str,
        n: u64,
        declared: Option<&str>,
        claim: Option<&str>,
        names: &[&str],
    ) {
        let Some(declared) = declared else { return };
        self.declared.records += n;
        match declared {
            "agree" => self.declared.agree += n,
            "unverified" => self.declared.unverified += n,
            _ => {
                self.declared.conflict += n;
                let sources = self.ledger.sources();
                let described: Vec<String> = names
                    .iter()
                    .filter_map(|name| self.ids.get(name))
                    .map(|id| {
                        let s: &SourceEntry = &sources[*id as usize];
                        format!("`{}` ({})", s.name, s.origin.as_str())
                    })
                    .collect();
                let message = format!(
                    "the record declares `{}`, but its text was registered by {}; it is \
                     counted by the evidence",
                    claim.unwrap_or_default(),
                    described.join(", ")
                );
                let room = MAX_LISTED_CONFLICTS.saturating_sub(self.declared.conflicts.len());
                for _ in 0..room.min(n as usize) {
                    let locator = Locator::file(Path::new(file));
                    self.declared
                        .conflicts
                        .push(Problem::at(&locator, "", &message));
                }
            }
        }
    }

    /// The report, judged as the local scan judges.
    fn report(
        mut self,
        scan: &Scan,
        ledger: &Ledger,
        paths: &[PathBuf],
        discovery: &provguard::ingest::Discovery,
    ) -> Result<Report, ClusterError> {
        let gate = shares::GateInput {
            home: &scan.home,
            policy: &scan.policy,
            ecosystem: scan.ecosystem.as_ref(),
            rejected: self.accounting.rejected,
            strict: !scan.read.lenient,
        };
        let shares::Judgement {
            measured,
            dynamics,
            verdict,
        } = shares::judge(&self.composition, ledger, gate)?;

        let composition = self.composition_report(ledger.sources());
        let content_id = content_id(self.content.0, self.content.1);
        let baseline = Baseline::last(ledger.scans(), &scan.home, &measured, &content_id);
        let errors_not_listed = self.problems_total - self.problems.len() as u64;
        Ok(Report {
            schema_version: SCHEMA_VERSION,
            tool: format!("provguard {}", env!("CARGO_PKG_VERSION")),
            home: scan.home.clone(),
            normalisation: NORMALISATION.to_owned(),
            records: self.composition.records,
            accounting: self.accounting,
            inputs: Inputs::new(paths, discovery),
            composition,
            measured,
            content_id,
            dynamics,
            baseline,
            policy: scan.policy.clone(),
            verdict: verdict.level,
            reasons: verdict.reasons,
            errors: self.problems,
            errors_not_listed,
            warnings: Vec::new(),
        })
    }

    /// The composition as the local scan reports it.
    fn composition_report(&mut self, sources: &[SourceEntry]) -> CompositionReport {
        CompositionReport {
            by_schema: std::mem::take(&mut self.by_schema),
            flags: std::mem::take(&mut self.flags),
            partial_matches: self.partial,
            declared: std::mem::take(&mut self.declared),
            near_mean_confidence: {
                let near = self.by_match.near + self.by_match.spliced;
                (near > 0).then(|| self.near_confidence / near as f64)
            },
            by_match: std::mem::take(&mut self.by_match),
            by_file: std::mem::take(&mut self.by_file),
            ..CompositionReport::of(&self.composition, sources)
        }
    }
}

/// The content id of the local scan: blake3 over the record count and the four limb sums.
fn content_id(count: u64, limbs: [u64; 4]) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&count.to_le_bytes());
    for limb in limbs {
        hasher.update(&limb.to_le_bytes());
    }
    hasher.finalize().to_hex().to_string()
}
