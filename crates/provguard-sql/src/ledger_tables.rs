//! The ledger's tables: `fingerprints` and `scans` over the Parquet segments the manifest
//! lists, `sources` from the manifest.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::context::SessionContext;
use provguard_ledger::segment::{fingerprint_schema, scan_schema};
use provguard_ledger::{SourceSummary, TableFiles};

use crate::SqlError;

/// Registers the tables `fingerprints`, `sources` and `scans` of the ledger in `dir` on
/// `context`. The segments are those the manifest lists now; the tables are read-only.
pub fn register_ledger(context: &SessionContext, dir: &Path) -> Result<(), SqlError> {
    let files = TableFiles::read(dir)?;
    register_segments(
        context,
        "fingerprints",
        fingerprint_schema(),
        &files.fingerprints,
    )?;
    register_segments(context, "scans", scan_schema(), &files.scans)?;
    let sources = sources_batch(&files.sources).map_err(|source| SqlError::Table {
        table: "sources",
        source,
    })?;
    let table = MemTable::try_new(sources.schema(), vec![vec![sources]]).map_err(|source| {
        SqlError::Table {
            table: "sources",
            source,
        }
    })?;
    context
        .register_table("sources", Arc::new(table))
        .map_err(|source| SqlError::Table {
            table: "sources",
            source,
        })?;
    Ok(())
}

/// Registers Parquet `files` of one schema as `table`; an empty table when there are none.
fn register_segments(
    context: &SessionContext,
    table: &'static str,
    schema: SchemaRef,
    files: &[std::path::PathBuf],
) -> Result<(), SqlError> {
    let error = |source| SqlError::Table { table, source };
    let provider: Arc<dyn datafusion::datasource::TableProvider> = if files.is_empty() {
        Arc::new(MemTable::try_new(schema, vec![vec![]]).map_err(error)?)
    } else {
        let urls = files
            .iter()
            .map(|path| {
                let path = std::path::absolute(path)
                    .map_err(|e| error(datafusion::error::DataFusionError::IoError(e)))?;
                ListingTableUrl::parse(path.to_string_lossy()).map_err(error)
            })
            .collect::<Result<Vec<_>, _>>()?;
        // No extension filter: a segment a killed writer left under its `.tmp` name is read.
        let options =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension("");
        let config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(options)
            .with_schema(schema);
        Arc::new(ListingTable::try_new(config).map_err(error)?)
    };
    context.register_table(table, provider).map_err(error)?;
    Ok(())
}

fn sources_batch(
    sources: &[SourceSummary],
) -> Result<RecordBatch, datafusion::error::DataFusionError> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("source", DataType::Utf8, false),
        Field::new("origin", DataType::Utf8, false),
        Field::new("curated", DataType::Boolean, false),
        Field::new("registrations", DataType::UInt64, false),
        Field::new("texts", DataType::UInt64, false),
        Field::new("entries", DataType::UInt64, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            sources.iter().map(|s| &s.name),
        )),
        Arc::new(StringArray::from_iter_values(
            sources.iter().map(|s| &s.origin),
        )),
        Arc::new(
            sources
                .iter()
                .map(|s| Some(s.curated))
                .collect::<BooleanArray>(),
        ),
        Arc::new(UInt64Array::from_iter_values(
            sources.iter().map(|s| s.registrations),
        )),
        Arc::new(UInt64Array::from_iter_values(
            sources.iter().map(|s| s.texts),
        )),
        Arc::new(UInt64Array::from_iter_values(
            sources.iter().map(|s| s.entries),
        )),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}
