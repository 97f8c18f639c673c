//! `provguard_record(row, schema, ledger)`: one record of a flat dataset, read and tagged as
//! the local scan reads and tags it.
//!
//! The local scan turns each record into a JSON object and tags it with
//! `provguard::scan::tag_record`. This function does the same to each row of a
//! `named_struct` of the row's columns, on whichever executor runs the row's partition, and
//! returns what the scan adds up for the record (a struct; see [`fields`]). The counting
//! mirrors `Tally::apply` in `provguard/src/scan.rs`; the test
//! `tests/integration/cluster_cli.rs` holds the two to the same report.
//!
//! `schema` is the `--schema` name or `''`; `ledger` is the client's [`ledger_id`], checked
//! against the executor's ledger so that a stale copy fails the query instead of tagging by
//! other evidence.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Float64Builder, StringBuilder, StructArray,
    UInt64Builder,
};
use arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use provguard::ingest::schema::{SchemaKind, SchemaOptions};
use provguard::ledger::{Ledger, SourceEntry};
use provguard::lineage::{Lineage, Origin, SourceId};
use provguard::scan::{HUMAN_CLAIMS, TaggedRecord, tag_record};
use serde_json::{Map, Number, Value};

/// The function's name.
pub const NAME: &str = "provguard_record";

/// The struct's fields, in order. `admitted` is false for a record the schema rejects; then
/// only the `problem_*` fields are set. For an admitted record: `schema`, `origin` (`human`,
/// `synthetic`, `unknown`, `ambiguous`), `sources` (names joined by `|`, in the ledger's
/// order; null when unknown), `match` (`exact`, `near`, `spliced`, `none`), `confidence`,
/// `curated` (the chosen side of a preference pair), `partial`, `flags` (joined by `,`),
/// `declared` (`agree`, `conflict`, `unverified`, null when the record declares nothing),
/// `claim` (the declaration, when it conflicts), and `content0`..`content7`: the record's
/// content fingerprint as eight 32-bit halves (low, high) of its four 64-bit limbs, so that
/// summing them over any number of records below 2^32 cannot overflow.
#[must_use]
pub fn fields() -> Fields {
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    let mut fields = vec![
        Field::new("admitted", DataType::Boolean, false),
        text("problem_field"),
        text("problem_message"),
        text("problem_hint"),
        text("schema"),
        text("origin"),
        text("sources"),
        text("match"),
        Field::new("confidence", DataType::Float64, true),
        Field::new("curated", DataType::Boolean, true),
        Field::new("partial", DataType::Boolean, true),
        text("flags"),
        text("declared"),
        text("claim"),
    ];
    for i in 0..8 {
        fields.push(Field::new(format!("content{i}"), DataType::UInt64, true));
    }
    Fields::from(fields)
}

/// What separates candidates in `sources` (a character source names cannot hold).
pub const SEPARATOR: char = '|';

/// An id of the evidence a ledger holds: blake3 over its sources and the hashes of its
/// fingerprint segments and filters (recorded scans left out: only the client judges by
/// them). Two copies of a ledger have the same id.
#[must_use]
pub fn ledger_id(ledger: &Ledger) -> String {
    let mut hasher = blake3::Hasher::new();
    for s in ledger.sources() {
        hasher.update(s.name.as_bytes());
        hasher.update(&[0, u8::from(s.origin == Origin::Human), u8::from(s.curated)]);
    }
    for entry in ledger.chain() {
        if entry.kind != provguard::ledger::manifest::FileKind::Scans {
            hasher.update(entry.blake3.as_bytes());
        }
    }
    hasher.finalize().to_hex().to_string()
}

/// The function over `ledger`.
#[must_use]
pub fn udf(ledger: Arc<Ledger>) -> ScalarUDF {
    let id = ledger_id(&ledger);
    ScalarUDF::new_from_impl(RecordFunction {
        signature: Signature::any(3, Volatility::Immutable),
        ledger,
        id,
    })
}

#[derive(Debug)]
struct RecordFunction {
    signature: Signature,
    ledger: Arc<Ledger>,
    id: String,
}

impl PartialEq for RecordFunction {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.ledger, &other.ledger)
    }
}

impl Eq for RecordFunction {}

impl Hash for RecordFunction {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.ledger).hash(state);
    }
}

impl ScalarUDFImpl for RecordFunction {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(fields()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [row, schema, ledger] = args.args.as_slice() else {
            return Err(DataFusionError::Plan(format!(
                "`{NAME}` takes a row, a schema name and a ledger id"
            )));
        };
        let literal = |v: &ColumnarValue| match v {
            ColumnarValue::Scalar(
                ScalarValue::Utf8(Some(s))
                | ScalarValue::LargeUtf8(Some(s))
                | ScalarValue::Utf8View(Some(s)),
            ) => Ok(s.clone()),
            _ => Err(DataFusionError::Plan(format!(
                "`{NAME}` takes its schema name and ledger id as text literals"
            ))),
        };
        let ledger = literal(ledger)?;
        if ledger != self.id {
            return Err(DataFusionError::Execution(format!(
                "this executor's ledger `{}` holds other evidence than the client's (id `{}`, \
                 the client's `{ledger}`); copy the client's ledger to the executor and restart it: \
                 an executor reads its ledger once, when it starts",
                self.ledger.dir().display(),
                self.id
            )));
        }
        let schema = literal(schema)?;
        let opts =
            SchemaOptions {
                schema: match schema.as_str() {
                    "" => None,
                    name => Some(SchemaKind::from_name(name).ok_or_else(|| {
                        DataFusionError::Plan(format!("`{name}` is not a schema"))
                    })?),
                },
                ..SchemaOptions::default()
            };
        let rows = row.to_array(args.number_rows)?;
        let rows = rows.as_struct_opt().ok_or_else(|| {
            DataFusionError::Plan(format!("`{NAME}` takes a struct of the record's fields"))
        })?;

        let mut out = Builders::new(rows.len());
        for i in 0..rows.len() {
            let record = row_object(rows, i);
            out.push(&self.tag(&record, &opts));
        }
        tracing::trace!(rows = rows.len(), "tagged a batch of records");
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// What one record adds to the scan's counts.
#[derive(Debug, Default)]
struct Tagged {
    admitted: bool,
    problem: Option<(String, String, Option<String>)>,
    schema: &'static str,
    origin: &'static str,
    sources: Option<String>,
    kind: &'static str,
    confidence: f64,
    curated: bool,
    partial: bool,
    flags: Vec<String>,
    declared: Option<&'static str>,
    claim: Option<String>,
    content: [u64; 4],
}

impl RecordFunction {
    /// Reads and tags one record as the local scan does, and says what it adds to the counts.
    fn tag(&self, record: &Map<String, Value>, opts: &SchemaOptions) -> Tagged {
        let ledger = &*self.ledger;
        let sources = ledger.sources();
        let TaggedRecord {
            sample,
            matched,
            content,
            raw_fingerprint,
        } = match tag_record(record, opts, ledger) {
            Ok(tagged) => tagged,
            Err(e) => {
                return Tagged {
                    problem: Some((e.field, e.message, e.hint)),
                    ..Tagged::default()
                };
            }
        };
        let mut limbs = [0u64; 4];
        for (limb, chunk) in limbs.iter_mut().zip(content.0.chunks_exact(8)) {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(chunk);
            *limb = u64::from_le_bytes(bytes);
        }

        let attribution = matched.attribution;
        let ids: &[SourceId] = match &attribution.lineage {
            Lineage::Unknown => &[],
            Lineage::Source(id) => std::slice::from_ref(id),
            Lineage::Ambiguous(ids) => ids,
        };
        let candidates: Vec<&SourceEntry> = ids.iter().map(|id| &sources[*id as usize]).collect();
        let origin = match &attribution.lineage {
            Lineage::Unknown => "unknown",
            Lineage::Ambiguous(_) => "ambiguous",
            Lineage::Source(id) => sources[*id as usize].origin.as_str(),
        };
        let names: Vec<&str> = candidates.iter().map(|s| s.name.as_str()).collect();

        let mut flags: Vec<String> = Vec::new();
        if raw_fingerprint {
            // Fingerprinted raw: normalising would have emptied the text.
            flags.push("raw_fingerprint".to_owned());
        }
        for flag in &sample.flags {
            let name = serde_json::to_value(flag)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            flags.push(name);
        }

        // What the record says about itself, against the evidence.
        let (declared, claim) = match &sample.declared {
            None => (None, None),
            Some(_) if candidates.is_empty() => (Some("unverified"), None),
            Some(claim) => {
                let says_human = HUMAN_CLAIMS.contains(&claim.to_lowercase().as_str());
                let fits = |s: &&SourceEntry| {
                    s.name.eq_ignore_ascii_case(claim) || (says_human && s.origin == Origin::Human)
                };
                if candidates.iter().any(fits) {
                    (Some("agree"), None)
                } else {
                    (Some("conflict"), Some(claim.clone()))
                }
            }
        };

        Tagged {
            admitted: true,
            problem: None,
            schema: sample.schema.as_str(),
            origin,
            sources: (!names.is_empty()).then(|| names.join(&SEPARATOR.to_string())),
            kind: matched.kind.as_str(),
            confidence: matched.confidence,
            curated: sample.curated,
            partial: attribution.is_partial(),
            flags,
            declared,
            claim,
            content: limbs,
        }
    }
}

/// The builders of the returned struct's columns.
struct Builders {
    admitted: BooleanBuilder,
    text: [StringBuilder; 10],
    confidence: Float64Builder,
    curated: BooleanBuilder,
    partial: BooleanBuilder,
    content: [UInt64Builder; 8],
}

impl Builders {
    fn new(rows: usize) -> Self {
        Self {
            admitted: BooleanBuilder::with_capacity(rows),
            text: std::array::from_fn(|_| StringBuilder::with_capacity(rows, rows * 8)),
            confidence: Float64Builder::with_capacity(rows),
            curated: BooleanBuilder::with_capacity(rows),
            partial: BooleanBuilder::with_capacity(rows),
            content: std::array::from_fn(|_| UInt64Builder::with_capacity(rows)),
        }
    }

    fn push(&mut self, t: &Tagged) {
        self.admitted.append_value(t.admitted);
        let (field, message, hint) = match &t.problem {
            Some((f, m, h)) => (Some(f.as_str()), Some(m.as_str()), h.as_deref()),
            None => (None, None, None),
        };
        let admitted = |v: &'static str| t.admitted.then_some(v);
        let flags = t.admitted.then(|| t.flags.join(","));
        let values: [Option<&str>; 10] = [
            field,
            message,
            hint,
            admitted(t.schema),
            admitted(t.origin),
            t.sources.as_deref(),
            admitted(t.kind),
            flags.as_deref(),
            t.declared,
            t.claim.as_deref(),
        ];
        for (builder, value) in self.text.iter_mut().zip(values) {
            builder.append_option(value);
        }
        self.confidence
            .append_option(t.admitted.then_some(t.confidence));
        self.curated.append_option(t.admitted.then_some(t.curated));
        self.partial.append_option(t.admitted.then_some(t.partial));
        for (i, builder) in self.content.iter_mut().enumerate() {
            let limb = t.content[i / 2];
            let half = if i % 2 == 0 {
                limb & 0xffff_ffff
            } else {
                limb >> 32
            };
            builder.append_option(t.admitted.then_some(half));
        }
    }

    fn finish(mut self) -> StructArray {
        let [
            field,
            message,
            hint,
            schema,
            origin,
            sources,
            kind,
            flags,
            declared,
            claim,
        ] = self
            .text
            .each_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef);
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.admitted.finish()),
            field,
            message,
            hint,
            schema,
            origin,
            sources,
            kind,
            Arc::new(self.confidence.finish()),
            Arc::new(self.curated.finish()),
            Arc::new(self.partial.finish()),
            flags,
            declared,
            claim,
        ];
        columns.extend(
            self.content
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        StructArray::new(fields(), columns, None)
    }
}

/// Row `i` of a struct of columns as the JSON object the local scan would read: nulls as
/// JSON null (which every schema reads as absent), text as strings, numbers and booleans as
/// themselves, structs as objects, anything else as arrow displays it.
fn row_object(rows: &StructArray, i: usize) -> Map<String, Value> {
    let mut object = Map::new();
    for (field, column) in rows.fields().iter().zip(rows.columns()) {
        object.insert(field.name().clone(), value(column, i));
    }
    object
}

fn value(column: &ArrayRef, i: usize) -> Value {
    use arrow::datatypes::{Float64Type, Int64Type, UInt64Type};
    if column.is_null(i) {
        return Value::Null;
    }
    match column.data_type() {
        DataType::Utf8 => Value::String(column.as_string::<i32>().value(i).to_owned()),
        DataType::LargeUtf8 => Value::String(column.as_string::<i64>().value(i).to_owned()),
        DataType::Utf8View => Value::String(column.as_string_view().value(i).to_owned()),
        DataType::Boolean => Value::Bool(column.as_boolean().value(i)),
        DataType::Struct(_) => Value::Object(row_object(column.as_struct(), i)),
        t if t.is_signed_integer() => arrow::compute::cast(&column.slice(i, 1), &DataType::Int64)
            .ok()
            .map_or(Value::Null, |c| {
                Value::from(c.as_primitive::<Int64Type>().value(0))
            }),
        t if t.is_unsigned_integer() => {
            arrow::compute::cast(&column.slice(i, 1), &DataType::UInt64)
                .ok()
                .map_or(Value::Null, |c| {
                    Value::from(c.as_primitive::<UInt64Type>().value(0))
                })
        }
        t if t.is_floating() => arrow::compute::cast(&column.slice(i, 1), &DataType::Float64)
            .ok()
            .and_then(|c| Number::from_f64(c.as_primitive::<Float64Type>().value(0)))
            .map_or(Value::Null, Value::Number),
        DataType::Dictionary(_, _) => arrow::compute::cast(&column.slice(i, 1), &DataType::Utf8)
            .ok()
            .map_or(Value::Null, |c| value(&c, 0)),
        _ => arrow::util::display::ArrayFormatter::try_new(
            column,
            &arrow::util::display::FormatOptions::default(),
        )
        .map_or(Value::Null, |f| Value::String(f.value(i).to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_struct_has_one_column_per_field() {
        let out = Builders::new(0).finish();
        assert_eq!(out.num_columns(), fields().len());
    }
}
