//! The Parquet segments: their schemas, and encoding and decoding them.
//!
//! A fingerprint segment holds the entries one registration added, one row per (fingerprint,
//! source, field); a scan segment holds one recorded scan. Both are written with zstd and
//! carry their Arrow schema, so any Parquet reader (and `provguard query`) can read them.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use arrow::array::{
    Array, ArrayRef, BooleanArray, FixedSizeBinaryArray, Float64Array, RecordBatch, StringArray,
    UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use provguard_lineage::Fingerprint;

use crate::store::{RecordedScan, SourceEntry};

/// Rows per Parquet row group.
const ROW_GROUP: usize = 1 << 20;

static FINGERPRINTS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("fingerprint", DataType::FixedSizeBinary(32), false),
        Field::new("source", DataType::Utf8, false),
        Field::new("origin", DataType::Utf8, false),
        Field::new("curated", DataType::Boolean, false),
        Field::new("field", DataType::Utf8, false),
        Field::new("registration", DataType::UInt64, false),
    ]))
});

static SCANS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("scan", DataType::UInt64, false),
        Field::new("home", DataType::Utf8, false),
        Field::new("content", DataType::Utf8, false),
        Field::new("records", DataType::UInt64, false),
        Field::new("human", DataType::Float64, false),
        Field::new("unknown", DataType::Float64, false),
        Field::new("synthetic", DataType::Float64, false),
        Field::new("models", DataType::Utf8, false),
        Field::new("curated", DataType::Utf8, false),
        Field::new("verdict", DataType::Utf8, true),
        Field::new("at", DataType::UInt64, false),
    ]))
});

/// The schema of a fingerprint segment (the `fingerprints` table).
#[must_use]
pub fn fingerprint_schema() -> SchemaRef {
    FINGERPRINTS.clone()
}

/// The schema of a scan segment (the `scans` table). `models` and `curated` are JSON objects
/// of shares by source name; `synthetic` is the sum of `models`.
#[must_use]
pub fn scan_schema() -> SchemaRef {
    SCANS.clone()
}

fn write(schema: &SchemaRef, columns: Vec<ArrayRef>) -> Result<Vec<u8>, String> {
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .build();
    let mut bytes = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut bytes, schema.clone(), Some(properties))
        .map_err(|e| e.to_string())?;
    writer.write(&batch).map_err(|e| e.to_string())?;
    writer.close().map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// Encodes the entries of one registration as a fingerprint segment.
pub(crate) fn encode_fingerprints(
    source: &SourceEntry,
    registration: u64,
    entries: &[(Fingerprint, &str)],
) -> Result<Vec<u8>, String> {
    let n = entries.len();
    let fingerprints =
        FixedSizeBinaryArray::try_from_iter(entries.iter().map(|(f, _)| f.0.as_slice()))
            .map_err(|e| e.to_string())?;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(fingerprints),
        Arc::new(StringArray::from(vec![source.name.as_str(); n])),
        Arc::new(StringArray::from(vec![source.origin.as_str(); n])),
        Arc::new(BooleanArray::from(vec![source.curated; n])),
        Arc::new(StringArray::from_iter_values(
            entries.iter().map(|(_, f)| *f),
        )),
        Arc::new(UInt64Array::from(vec![registration; n])),
    ];
    write(&FINGERPRINTS, columns)
}

/// Decodes the (fingerprint, field) pairs of a fingerprint segment, calling `each` per row.
pub(crate) fn decode_fingerprints(
    bytes: Vec<u8>,
    mut each: impl FnMut(Fingerprint, &str),
) -> Result<u64, String> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .map_err(|e| e.to_string())?;
    check_schema(builder.schema(), &FINGERPRINTS)?;
    // The source, origin and curation flag are the registration's, known from the manifest.
    let mask = ProjectionMask::roots(builder.parquet_schema(), [0, 4]);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(64 * 1024)
        .build()
        .map_err(|e| e.to_string())?;
    let mut rows = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        let (Some(fingerprints), Some(fields)) = (
            batch
                .column_by_name("fingerprint")
                .and_then(|c| c.as_any().downcast_ref::<FixedSizeBinaryArray>()),
            batch
                .column_by_name("field")
                .and_then(|c| c.as_any().downcast_ref::<StringArray>()),
        ) else {
            return Err("its columns do not have the segment's types".to_owned());
        };
        for i in 0..batch.num_rows() {
            let mut fingerprint = [0u8; 32];
            fingerprint.copy_from_slice(fingerprints.value(i));
            each(Fingerprint(fingerprint), fields.value(i));
        }
        rows += batch.num_rows() as u64;
    }
    Ok(rows)
}

fn check_schema(found: &SchemaRef, expected: &SchemaRef) -> Result<(), String> {
    let names = |s: &SchemaRef| {
        s.fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect::<Vec<_>>()
    };
    if names(found) == names(expected) {
        Ok(())
    } else {
        Err("its columns are not the segment's columns".to_owned())
    }
}

/// Encodes one recorded scan as a scan segment.
pub(crate) fn encode_scan(number: u64, scan: &RecordedScan) -> Result<Vec<u8>, String> {
    let json = |m: &BTreeMap<String, f64>| serde_json::to_string(m).map_err(|e| e.to_string());
    let columns: Vec<ArrayRef> = vec![
        Arc::new(UInt64Array::from(vec![number])),
        Arc::new(StringArray::from(vec![scan.home.as_str()])),
        Arc::new(StringArray::from(vec![scan.content.as_str()])),
        Arc::new(UInt64Array::from(vec![scan.records])),
        Arc::new(Float64Array::from(vec![scan.human])),
        Arc::new(Float64Array::from(vec![scan.unknown])),
        Arc::new(Float64Array::from(vec![scan.models.values().sum::<f64>()])),
        Arc::new(StringArray::from(vec![json(&scan.models)?])),
        Arc::new(StringArray::from(vec![json(&scan.curated)?])),
        Arc::new(StringArray::from(vec![scan.verdict.as_deref()])),
        Arc::new(UInt64Array::from(vec![scan.at])),
    ];
    write(&SCANS, columns)
}

/// Decodes the recorded scans of a scan segment.
pub(crate) fn decode_scans(bytes: Vec<u8>) -> Result<Vec<RecordedScan>, String> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .map_err(|e| e.to_string())?;
    check_schema(builder.schema(), &SCANS)?;
    let mut scans = Vec::new();
    for batch in builder.build().map_err(|e| e.to_string())? {
        let batch = batch.map_err(|e| e.to_string())?;
        let column = |i: usize| batch.column(i).as_any();
        let wrong = || "its columns do not have the segment's types".to_owned();
        let text = |i: usize| column(i).downcast_ref::<StringArray>().ok_or_else(wrong);
        let int = |i: usize| column(i).downcast_ref::<UInt64Array>().ok_or_else(wrong);
        let float = |i: usize| column(i).downcast_ref::<Float64Array>().ok_or_else(wrong);
        let (home, content, records) = (text(1)?, text(2)?, int(3)?);
        let (human, unknown, models, curated) = (float(4)?, float(5)?, text(7)?, text(8)?);
        let (verdict, at) = (text(9)?, int(10)?);
        let map = |s: &str| -> Result<BTreeMap<String, f64>, String> {
            serde_json::from_str(s).map_err(|e| format!("a share map is not valid: {e}"))
        };
        for i in 0..batch.num_rows() {
            scans.push(RecordedScan {
                home: home.value(i).to_owned(),
                content: content.value(i).to_owned(),
                records: records.value(i),
                human: human.value(i),
                unknown: unknown.value(i),
                models: map(models.value(i))?,
                curated: map(curated.value(i))?,
                verdict: (!verdict.is_null(i)).then(|| verdict.value(i).to_owned()),
                at: at.value(i),
            });
        }
    }
    Ok(scans)
}
