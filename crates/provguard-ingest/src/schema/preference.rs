//! Preference pairs: the chosen side is the record's response, curated by people.

use serde_json::{Map, Value};

use super::{
    PREFERENCE_LAYOUTS, Role, Sample, SchemaError, SchemaKind, SchemaOptions, Turn, field,
    optional_string, sample_of, turns_of, type_error,
};

pub(super) fn preference(
    record: &Map<String, Value>,
    opts: &SchemaOptions,
) -> Result<Sample, SchemaError> {
    let (chosen_key, prompt_key, rejected_key) = PREFERENCE_LAYOUTS
        .into_iter()
        .find(|(chosen, ..)| record.contains_key(*chosen))
        .unwrap_or(PREFERENCE_LAYOUTS[0]);
    let chosen = field(record, chosen_key)?;
    let mut turns = match record.get(prompt_key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(p)) => vec![Turn {
            role: Role::User,
            text: p.clone(),
        }],
        Some(list @ Value::Array(_)) => turns_of(prompt_key, list, opts)?,
        Some(other) => {
            return Err(type_error(prompt_key, "a string or a list of turns", other));
        }
    };
    // An Alpaca-style `input` belongs to the prompt.
    if prompt_key == "instruction"
        && let Some(input) = optional_string(record, "input")?
        && !input.is_empty()
        && let Some(last) = turns.last_mut()
    {
        last.text = format!("{}\n\n{input}", last.text);
    }
    turns.extend(side(chosen_key, chosen, opts)?);
    if let Some(rejected) = record.get(rejected_key)
        && !rejected.is_null()
    {
        side(rejected_key, rejected, opts)?;
    }

    let mut sample = sample_of(SchemaKind::Preference, turns);
    let label = match chosen_key {
        "chosen_response" => "chosen_response",
        "response_j" => "response_j",
        _ => "chosen",
    };
    // The final assistant turn is the chosen answer; earlier ones are context shared with the
    // rejected side. An empty final turn leaves the record without a response.
    sample.responses = sample
        .turns
        .iter()
        .rev()
        .find(|t| t.role == Role::Assistant)
        .filter(|t| !t.text.trim().is_empty())
        .map(|t| (label, t.text.clone()))
        .into_iter()
        .collect();
    sample.curated = true;
    Ok(sample)
}

/// One side of a preference pair: a string (an HH-RLHF transcript is split into its turns,
/// any other string is one assistant turn), a list of turns, or one `{role, content}` turn.
fn side(name: &str, value: &Value, opts: &SchemaOptions) -> Result<Vec<Turn>, SchemaError> {
    match value {
        Value::String(text) => Ok(transcript(text).unwrap_or_else(|| {
            vec![Turn {
                role: Role::Assistant,
                text: text.clone(),
            }]
        })),
        Value::Array(_) => turns_of(name, value, opts),
        Value::Object(_) => {
            turns_of(name, &Value::Array(vec![value.clone()]), opts).map_err(|mut e| {
                e.field = e.field.replacen(&format!("{name}[0]"), name, 1);
                e
            })
        }
        other => Err(type_error(
            name,
            "a string, a list of turns or a turn",
            other,
        )),
    }
}

/// Splits an HH-RLHF transcript (`"\n\nHuman: ...\n\nAssistant: ..."`) into turns; `None`
/// when the text is not one.
fn transcript(text: &str) -> Option<Vec<Turn>> {
    const MARKERS: [(&str, Role); 2] = [
        ("\n\nHuman:", Role::User),
        ("\n\nAssistant:", Role::Assistant),
    ];
    if !text.starts_with("\n\nHuman:") || !text.contains("\n\nAssistant:") {
        return None;
    }
    let mut turns = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (role, body) = MARKERS
            .iter()
            .find_map(|(marker, role)| rest.strip_prefix(marker).map(|b| (*role, b)))?;
        let end = MARKERS
            .iter()
            .filter_map(|(m, _)| body.find(m))
            .min()
            .unwrap_or(body.len());
        turns.push(Turn {
            role,
            text: body[..end].trim().to_owned(),
        });
        rest = &body[end..];
    }
    Some(turns)
}
