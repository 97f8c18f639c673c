//! Arrow values as JSON, so that a Parquet row reads the same as its JSON Lines spelling.
//!
//! - Every string encoding is text: `Utf8`, `LargeUtf8`, `Utf8View`, and dictionaries of them.
//! - Binary (`Binary`, `LargeBinary`, `BinaryView`, `FixedSizeBinary`) is text when it is valid
//!   UTF-8; otherwise it becomes a lowercase hex string (as arrow's own JSON writer does) and a
//!   warning names the row and the column.
//! - Lists of every kind become arrays, structs objects, and maps objects when their keys are
//!   strings without duplicates, else arrays of `{"key": .., "value": ..}` objects.
//! - Integers and booleans are JSON numbers and booleans; a `Float32` is written with its
//!   shortest decimal spelling (`0.1`, not `0.10000000149011612`); NaN and infinities, which
//!   JSON cannot hold, become null with a warning.
//! - Dates, times and timestamps become ISO 8601 strings; decimals become strings, so that no
//!   digit is lost; anything else is written as arrow formats it for display.
//! - A null is JSON null, at the top level too: a column the file declares is always present in
//!   the record, so that every row of a file has the same keys.

use std::fmt::Write as _;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::{Map, Number, Value};

/// Where a value sits in a row, for warnings; built only when a warning is written.
#[derive(Clone, Copy)]
enum Path<'p> {
    Column(&'p str),
    Field(&'p Path<'p>, &'p str),
    Index(&'p Path<'p>, usize),
}

impl Path<'_> {
    fn render(&self, out: &mut String) {
        match self {
            Path::Column(name) => out.push_str(name),
            Path::Field(parent, name) => {
                parent.render(out);
                out.push('.');
                out.push_str(name);
            }
            Path::Index(parent, index) => {
                parent.render(out);
                let _ = write!(out, "[{index}]");
            }
        }
    }

    fn to_text(self) -> String {
        let mut out = String::new();
        self.render(&mut out);
        out
    }
}

/// One row as a JSON object, with the warnings its conversion gave.
pub(crate) struct Row {
    pub value: Map<String, Value>,
    pub warnings: Vec<String>,
}

/// Converts every row of a batch.
pub(crate) fn rows(batch: &RecordBatch) -> Vec<Row> {
    let schema = batch.schema();
    (0..batch.num_rows())
        .map(|i| {
            let mut warnings = Vec::new();
            let value = schema
                .fields()
                .iter()
                .zip(batch.columns())
                .map(|(field, column)| {
                    let path = Path::Column(field.name());
                    (
                        field.name().clone(),
                        value(column.as_ref(), i, path, &mut warnings),
                    )
                })
                .collect();
            Row { value, warnings }
        })
        .collect()
}

/// The JSON value of element `i` of `array`.
fn value(array: &dyn Array, i: usize, path: Path<'_>, warnings: &mut Vec<String>) -> Value {
    if array.is_null(i) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Bool(array.as_boolean().value(i)),
        DataType::Int8 => array.as_primitive::<Int8Type>().value(i).into(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(i).into(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(i).into(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(i).into(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(i).into(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(i).into(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(i).into(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(i).into(),
        DataType::Float16 => {
            let v = array.as_primitive::<Float16Type>().value(i);
            float(&v.to_string(), f64::from(v), path, warnings)
        }
        DataType::Float32 => {
            let v = array.as_primitive::<Float32Type>().value(i);
            float(&v.to_string(), f64::from(v), path, warnings)
        }
        DataType::Float64 => {
            let v = array.as_primitive::<Float64Type>().value(i);
            float("", v, path, warnings)
        }
        DataType::Utf8 => Value::String(array.as_string::<i32>().value(i).to_owned()),
        DataType::LargeUtf8 => Value::String(array.as_string::<i64>().value(i).to_owned()),
        DataType::Utf8View => Value::String(array.as_string_view().value(i).to_owned()),
        DataType::Binary => bytes(array.as_binary::<i32>().value(i), path, warnings),
        DataType::LargeBinary => bytes(array.as_binary::<i64>().value(i), path, warnings),
        DataType::BinaryView => bytes(array.as_binary_view().value(i), path, warnings),
        DataType::FixedSizeBinary(_) => {
            bytes(array.as_fixed_size_binary().value(i), path, warnings)
        }
        DataType::List(_) => items(array.as_list::<i32>().value(i).as_ref(), path, warnings),
        DataType::LargeList(_) => items(array.as_list::<i64>().value(i).as_ref(), path, warnings),
        DataType::ListView(_) => items(
            array.as_list_view::<i32>().value(i).as_ref(),
            path,
            warnings,
        ),
        DataType::LargeListView(_) => items(
            array.as_list_view::<i64>().value(i).as_ref(),
            path,
            warnings,
        ),
        DataType::FixedSizeList(..) => {
            items(array.as_fixed_size_list().value(i).as_ref(), path, warnings)
        }
        DataType::Struct(fields) => {
            let array = array.as_struct();
            let object = fields
                .iter()
                .zip(array.columns())
                .map(|(field, column)| {
                    let path = Path::Field(&path, field.name());
                    (
                        field.name().clone(),
                        value(column.as_ref(), i, path, warnings),
                    )
                })
                .collect();
            Value::Object(object)
        }
        DataType::Map(..) => map(&array.as_map().value(i), path, warnings),
        DataType::Dictionary(..) => {
            let dictionary = array.as_any_dictionary();
            match key_at(dictionary.keys(), i) {
                Some(key) if key < dictionary.values().len() => {
                    value(dictionary.values().as_ref(), key, path, warnings)
                }
                _ => Value::Null,
            }
        }
        DataType::Union(..) => {
            let union = array.as_union();
            let child = union.child(union.type_id(i));
            value(child.as_ref(), union.value_offset(i), path, warnings)
        }
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..)
        | DataType::Date32
        | DataType::Date64
        | DataType::Time32(_)
        | DataType::Time64(_)
        | DataType::Timestamp(..)
        | DataType::Duration(_)
        | DataType::Interval(_)
        | DataType::RunEndEncoded(..) => display(array, i, path, warnings),
    }
}

/// A float as a JSON number; `shortest` is its shortest decimal spelling when it was narrower
/// than `f64` (empty for `f64` itself).
fn float(shortest: &str, v: f64, path: Path<'_>, warnings: &mut Vec<String>) -> Value {
    let wide = if shortest.is_empty() {
        v
    } else {
        shortest.parse().unwrap_or(v)
    };
    if let Some(number) = Number::from_f64(wide) {
        return Value::Number(number);
    }
    warnings.push(format!(
        "column `{}`: `{v}` cannot be written in JSON: written as null",
        path.to_text()
    ));
    Value::Null
}

/// Binary as text when it is UTF-8, else as lowercase hex with a warning.
fn bytes(bytes: &[u8], path: Path<'_>, warnings: &mut Vec<String>) -> Value {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Value::String(text.to_owned());
    }
    warnings.push(format!(
        "column `{}`: binary value is not valid UTF-8: written as a hex string",
        path.to_text()
    ));
    let mut hex = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(hex, "{b:02x}");
    }
    Value::String(hex)
}

fn items(array: &dyn Array, path: Path<'_>, warnings: &mut Vec<String>) -> Value {
    let items = (0..array.len())
        .map(|k| value(array, k, Path::Index(&path, k), warnings))
        .collect();
    Value::Array(items)
}

/// A map's entries: an object when every key is a distinct string, else `{key, value}` pairs.
fn map(entries: &arrow::array::StructArray, path: Path<'_>, warnings: &mut Vec<String>) -> Value {
    let keys = entries.column(0).as_ref();
    let values = entries.column(1).as_ref();
    let mut pairs = Vec::with_capacity(entries.len());
    for k in 0..entries.len() {
        let key = value(keys, k, Path::Index(&path, k), warnings);
        let item = value(values, k, Path::Index(&path, k), warnings);
        pairs.push((key, item));
    }
    let mut object = Map::new();
    for (key, item) in &pairs {
        match key {
            Value::String(key) if !object.contains_key(key) => {
                object.insert(key.clone(), item.clone());
            }
            _ => {
                let list = pairs
                    .into_iter()
                    .map(|(key, value)| {
                        let mut pair = Map::new();
                        pair.insert("key".to_owned(), key);
                        pair.insert("value".to_owned(), value);
                        Value::Object(pair)
                    })
                    .collect();
                return Value::Array(list);
            }
        }
    }
    Value::Object(object)
}

/// The dictionary key at `i`, whatever the key's integer type.
fn key_at(keys: &dyn Array, i: usize) -> Option<usize> {
    let key = match keys.data_type() {
        DataType::Int8 => i64::from(keys.as_primitive::<Int8Type>().value(i)),
        DataType::Int16 => i64::from(keys.as_primitive::<Int16Type>().value(i)),
        DataType::Int32 => i64::from(keys.as_primitive::<Int32Type>().value(i)),
        DataType::Int64 => keys.as_primitive::<Int64Type>().value(i),
        DataType::UInt8 => i64::from(keys.as_primitive::<UInt8Type>().value(i)),
        DataType::UInt16 => i64::from(keys.as_primitive::<UInt16Type>().value(i)),
        DataType::UInt32 => i64::from(keys.as_primitive::<UInt32Type>().value(i)),
        DataType::UInt64 => {
            return usize::try_from(keys.as_primitive::<UInt64Type>().value(i)).ok();
        }
        _ => return None,
    };
    usize::try_from(key).ok()
}

/// The value as arrow displays it (ISO 8601 for dates and times).
fn display(array: &dyn Array, i: usize, path: Path<'_>, warnings: &mut Vec<String>) -> Value {
    let options = FormatOptions::default();
    let shown = ArrayFormatter::try_new(array, &options)
        .and_then(|formatter| formatter.value(i).try_to_string());
    match shown {
        Ok(text) => Value::String(text),
        Err(err) => {
            warnings.push(format!(
                "column `{}`: value of type `{}` cannot be shown: written as null ({err})",
                path.to_text(),
                array.data_type()
            ));
            Value::Null
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use arrow::array::{
        Array, ArrayRef, BinaryArray, BinaryViewArray, DictionaryArray, FixedSizeBinaryArray,
        Float32Array, Float64Array, Int32Builder, Int64Array, LargeBinaryArray, LargeStringArray,
        ListArray, MapBuilder, RecordBatch, StringArray, StringBuilder, StringViewArray,
        StructArray, TimestampMillisecondArray,
    };
    use arrow::buffer::{NullBuffer, OffsetBuffer};
    use arrow::datatypes::{DataType, Field, Int32Type};
    use serde_json::{Value, json};

    use super::rows;

    /// A batch with one column per kind of value the converter handles, three rows.
    pub(crate) fn sample_batch() -> RecordBatch {
        let roles = StringArray::from(vec!["user", "assistant", "user"]);
        let contents = LargeStringArray::from(vec!["Hi.", "Hello.", "unused"]);
        let turn_fields = [
            Arc::new(Field::new("role", DataType::Utf8, true)),
            Arc::new(Field::new("content", DataType::LargeUtf8, true)),
        ];
        let turns = StructArray::from(vec![
            (turn_fields[0].clone(), Arc::new(roles) as ArrayRef),
            (turn_fields[1].clone(), Arc::new(contents) as ArrayRef),
        ]);
        // Row 0: two turns; row 1: an empty list; row 2: null.
        let messages = ListArray::new(
            Arc::new(Field::new_list_field(turns.data_type().clone(), true)),
            OffsetBuffer::new(vec![0, 2, 2, 2].into()),
            Arc::new(turns),
            Some(NullBuffer::from(vec![true, true, false])),
        );
        let mut tags = MapBuilder::new(None, StringBuilder::new(), Int32Builder::new());
        tags.keys().append_value("k");
        tags.values().append_value(1);
        tags.append(true).unwrap();
        tags.keys().append_value("d");
        tags.values().append_value(1);
        tags.keys().append_value("d");
        tags.values().append_value(2);
        tags.append(true).unwrap();
        tags.append(false).unwrap();
        let dictionary: DictionaryArray<Int32Type> =
            vec![Some("x"), Some("y"), None].into_iter().collect();
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("id", Arc::new(Int64Array::from(vec![1, 2, 3]))),
            (
                "large",
                Arc::new(LargeStringArray::from(vec![Some("a"), None, Some("c")])),
            ),
            ("dict", Arc::new(dictionary)),
            (
                "view",
                Arc::new(StringViewArray::from(vec![Some("v1"), Some("v2"), None])),
            ),
            (
                "bin",
                Arc::new(BinaryArray::from(vec![
                    Some(&b"text"[..]),
                    Some(b"\xff\x00"),
                    None,
                ])),
            ),
            (
                "large_bin",
                Arc::new(LargeBinaryArray::from(vec![
                    Some(&b"caf\xc3\xa9"[..]),
                    None,
                    None,
                ])),
            ),
            (
                "bin_view",
                Arc::new(BinaryViewArray::from(vec![Some(&b"bv"[..]), None, None])),
            ),
            (
                "fixed",
                Arc::new(
                    FixedSizeBinaryArray::try_from_iter([b"ab", b"cd", b"\xff\xfe"].into_iter())
                        .unwrap(),
                ),
            ),
            ("messages", Arc::new(messages)),
            ("tags", Arc::new(tags.finish())),
            (
                "f32",
                Arc::new(Float32Array::from(vec![0.1, 2.5, f32::NAN])),
            ),
            ("f64", Arc::new(Float64Array::from(vec![0.1, -1e300, 3.0]))),
            (
                "ts",
                Arc::new(TimestampMillisecondArray::from(vec![0, 1_500, 86_400_000])),
            ),
        ];
        RecordBatch::try_from_iter(columns).unwrap()
    }

    #[test]
    fn every_kind_of_value_becomes_json() {
        let rows = rows(&sample_batch());
        let values: Vec<Value> = rows
            .iter()
            .map(|r| Value::Object(r.value.clone()))
            .collect();
        assert_eq!(
            values[0],
            json!({
                "id": 1, "large": "a", "dict": "x", "view": "v1", "bin": "text",
                "large_bin": "café", "bin_view": "bv", "fixed": "ab",
                "messages": [{"role": "user", "content": "Hi."},
                             {"role": "assistant", "content": "Hello."}],
                "tags": {"k": 1}, "f32": 0.1, "f64": 0.1, "ts": "1970-01-01T00:00:00"
            })
        );
        assert_eq!(values[1]["messages"], json!([]));
        assert_eq!(values[2]["messages"], Value::Null);
        assert_eq!(values[1]["large"], Value::Null);
        assert_eq!(values[2]["dict"], Value::Null);
        assert_eq!(values[1]["bin"], "ff00");
        assert_eq!(values[2]["fixed"], "fffe");
        assert_eq!(values[1]["ts"], "1970-01-01T00:00:01.500");
        // A map with a repeated key keeps every entry.
        assert_eq!(
            values[1]["tags"],
            json!([{"key": "d", "value": 1}, {"key": "d", "value": 2}])
        );
        assert_eq!(values[2]["tags"], Value::Null);
        assert_eq!(values[2]["f32"], Value::Null);

        assert!(rows[0].warnings.is_empty());
        assert_eq!(rows[1].warnings.len(), 1);
        assert!(
            rows[1].warnings[0].contains("`bin`"),
            "{:?}",
            rows[1].warnings
        );
        assert_eq!(rows[2].warnings.len(), 2, "{:?}", rows[2].warnings);
    }
}
