//! Printing a query's result as a table for people or as JSON.

use arrow::array::RecordBatch;

use crate::SqlError;

/// The batches as a text table with a header row.
pub fn to_table(batches: &[RecordBatch]) -> Result<String, SqlError> {
    arrow::util::pretty::pretty_format_batches(batches)
        .map(|table| table.to_string())
        .map_err(SqlError::Output)
}

/// The batches as a JSON array of objects, one per row, keyed by column name; nulls are
/// written as `null`.
pub fn to_json(batches: &[RecordBatch]) -> Result<String, SqlError> {
    let mut bytes = Vec::new();
    let mut writer = arrow::json::WriterBuilder::new()
        .with_explicit_nulls(true)
        .build::<_, arrow::json::writer::JsonArray>(&mut bytes);
    let batches: Vec<&RecordBatch> = batches.iter().collect();
    writer.write_batches(&batches).map_err(SqlError::Output)?;
    writer.finish().map_err(SqlError::Output)?;
    drop(writer);
    let text = String::from_utf8(bytes)
        .map_err(|e| SqlError::Output(arrow::error::ArrowError::JsonError(e.to_string())))?;
    // An empty result is written as nothing; make it an empty array.
    Ok(if text.is_empty() {
        "[]".to_owned()
    } else {
        text
    })
}
