//! Field paths: the strings at `instances[].output` and the like.

use serde_json::{Map, Value};

use super::{SchemaError, type_error};

/// Selects the strings at a field path: names separated by `.`, a name followed by `[]` for
/// every element of a list or `[N]` for one (`instances[].output`, `messages[0].content`).
/// A path that leads nowhere gives no strings; a value there that is not a string is an
/// error.
///
/// ```
/// use provguard_ingest::schema::select;
/// let record = serde_json::json!({"instances": [{"output": "a"}, {"output": "b"}]});
/// let texts = select(record.as_object().unwrap(), "instances[].output").unwrap();
/// assert_eq!(texts, vec!["a", "b"]);
/// ```
pub fn select(record: &Map<String, Value>, path: &str) -> Result<Vec<String>, SchemaError> {
    let mut current: Vec<(String, &Value)> = Vec::new();
    let mut first = true;
    for segment in path.split('.') {
        let (name, index) = match segment.find('[') {
            Some(at) if segment.ends_with(']') => {
                (&segment[..at], Some(&segment[at + 1..segment.len() - 1]))
            }
            _ => (segment, None),
        };
        let mut next = Vec::new();
        if first {
            if let Some(v) = record.get(name) {
                next.push((name.to_owned(), v));
            }
            first = false;
        } else {
            for (at, value) in &current {
                if let Some(v) = value.get(name) {
                    next.push((format!("{at}.{name}"), v));
                }
            }
        }
        if let Some(index) = index {
            let mut expanded = Vec::new();
            for (at, value) in next {
                expanded.extend(elements(&at, value, index)?);
            }
            next = expanded;
        }
        current = next;
    }
    current
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(at, v)| match v {
            Value::String(s) => Ok(s.clone()),
            other => Err(type_error(&at, "a string", other)),
        })
        .collect()
}

fn elements<'v>(
    at: &str,
    value: &'v Value,
    index: &str,
) -> Result<Vec<(String, &'v Value)>, SchemaError> {
    let Value::Array(items) = value else {
        return Err(type_error(at, "a list", value));
    };
    if index.is_empty() {
        return Ok(items
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{at}[{i}]"), v))
            .collect());
    }
    let i = index.parse::<usize>().map_err(|_| SchemaError {
        field: at.to_owned(),
        message: format!("`[{index}]` is not an index"),
        hint: Some("write `[]` for every element or `[N]` for one".to_owned()),
    })?;
    Ok(items
        .get(i)
        .map(|v| (format!("{at}[{i}]"), v))
        .into_iter()
        .collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn select_walks_lists_and_reports_types() {
        let v = json!({"a": [{"b": "x"}, {"b": null}, {"c": 1}], "n": 3});
        let m = v.as_object().unwrap();
        assert_eq!(select(m, "a[].b").unwrap(), vec!["x"]);
        assert_eq!(select(m, "a[0].b").unwrap(), vec!["x"]);
        assert!(select(m, "missing.path").unwrap().is_empty());
        assert_eq!(select(m, "n").unwrap_err().field, "n");
        assert_eq!(select(m, "n[]").unwrap_err().field, "n");
    }
}
