//! Schema detection: what a record's fields mean.
//!
//! Each record is validated on its own, by the fields it has; nothing is inferred from the
//! first rows of a file. The schemas, in the order they are tried:
//!
//! | schema | recognised by | response side |
//! |---|---|---|
//! | chat messages | `messages`: a list of `{role, content}` | every assistant turn |
//! | `ShareGPT` | `conversations`: a list of `{from, value}` (or `role`/`content`) | every assistant turn |
//! | preference pair | `chosen` (with `rejected`, `prompt`); `chosen_response` (with `instruction`, `rejected_response`); `response_j` (with `question`, `response_k`) | the final assistant turn of the chosen side |
//! | Alpaca | `output` (with `instruction`, `input`) | `output` |
//! | prompt/completion | `completion` or `response` (with `prompt`) | `completion` / `response` |
//! | plain text | `text` | `text` |
//!
//! A record is turned into canonical turns (system, user, assistant, tool call, tool) and the
//! list of its response texts, which decide its lineage. Roles are matched without regard to
//! case: `user`, `human`, `prompter` are the user; `assistant`, `gpt`, `chatgpt`, `bard`,
//! `model` the assistant; `function_call`, `tool_call` a tool call the assistant made;
//! `tool`, `function`, `observation`, `ipython` a tool's answer. Any other role is an error
//! unless a role map names it.
//!
//! Content may be a string or a list of parts; text parts (`{"type": "text", "text": ...}` or
//! plain strings) are joined with a newline, other parts (images) are skipped and flagged.
//! An assistant turn without content that carries `tool_calls` or `function_call` is a tool
//! call, its text the calls as compact JSON; tool calls and tool answers are context, never
//! response text. A top-level `system` string (`ShareGPT` exports carry one) is a system turn
//! before the others.
//!
//! The chosen side of a preference pair may be a string, a list of turns, or one
//! `{role, content}` turn; `rejected` must have one of those forms too.
//!
//! [`SchemaOptions::schema`] forces a schema instead of recognising one, and
//! [`SchemaOptions::field_map`] renames a dataset's fields to the names a schema reads
//! (`output=answer` reads `answer` as `output`), before anything else.
//! A preference pair whose `chosen` is an HH-RLHF style transcript (`"\n\nHuman: ...
//! \n\nAssistant: ..."`) is split into its turns; earlier assistant turns of `chosen` are
//! context shared with `rejected`, so only the final one is the curated response.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

mod preference;
mod select;

use preference::preference;
pub use select::select;

/// The schemas a record can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SchemaKind {
    /// `messages` with `role`/`content`.
    Messages,
    /// `conversations` with `from`/`value`.
    ShareGpt,
    /// `prompt`, `chosen`, `rejected`.
    Preference,
    /// `instruction`, `input`, `output`.
    Alpaca,
    /// `prompt`, `completion` (or `response`).
    PromptCompletion,
    /// `text`.
    Text,
}

impl SchemaKind {
    /// Every schema, in the order they are recognised.
    pub const ALL: [SchemaKind; 6] = [
        Self::Messages,
        Self::ShareGpt,
        Self::Preference,
        Self::Alpaca,
        Self::PromptCompletion,
        Self::Text,
    ];

    /// The schema a name given by a user stands for (the names of [`SchemaKind::as_str`]).
    ///
    /// ```
    /// use provguard_ingest::schema::SchemaKind;
    /// assert_eq!(SchemaKind::from_name("alpaca"), Some(SchemaKind::Alpaca));
    /// assert_eq!(SchemaKind::from_name("csv"), None);
    /// ```
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(name))
    }

    /// The name used in reports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Messages => "messages",
            Self::ShareGpt => "sharegpt",
            Self::Preference => "preference",
            Self::Alpaca => "alpaca",
            Self::PromptCompletion => "prompt-completion",
            Self::Text => "text",
        }
    }
}

/// Canonical roles of turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Instructions to the model.
    System,
    /// The person (or the prompt).
    User,
    /// The model's answer.
    Assistant,
    /// A call the assistant made to a tool.
    ToolCall,
    /// A tool's answer.
    Tool,
}

impl Role {
    /// The canonical name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Assistant => "assistant",
            Self::ToolCall => "tool_call",
            Self::Tool => "tool",
        }
    }

    /// The role a dataset's role name stands for, if it is a known one.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        let role = match name.to_ascii_lowercase().as_str() {
            "system" => Self::System,
            "user" | "human" | "prompter" => Self::User,
            "assistant" | "gpt" | "chatgpt" | "bard" | "model" => Self::Assistant,
            "function_call" | "tool_call" => Self::ToolCall,
            "tool" | "function" | "observation" | "ipython" => Self::Tool,
            _ => return None,
        };
        Some(role)
    }
}

/// One canonical turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// Who speaks.
    pub role: Role,
    /// What was said.
    pub text: String,
}

/// Something noteworthy about a record that does not make it invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// The record has a system turn.
    SystemTurn,
    /// A turn is empty.
    EmptyTurn,
    /// Two turns in a row have the same role.
    RepeatedRole,
    /// The record has no non-empty response text, so nothing can decide its lineage.
    NoResponse,
    /// Content parts other than text (images, audio) were skipped.
    NonTextParts,
}

/// A record read by its schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The schema recognised.
    pub schema: SchemaKind,
    /// The canonical turns, in order.
    pub turns: Vec<Turn>,
    /// The response side: the texts whose lineage is the record's, with the field they come
    /// from. Empty texts are left out.
    pub responses: Vec<(&'static str, String)>,
    /// The response side was curated by people (the chosen side of a preference pair).
    pub curated: bool,
    /// Noteworthy facts about the record.
    pub flags: Vec<Flag>,
    /// Provenance the record declares about itself (`generator`, `model`, `source`, ...).
    pub declared: Option<String>,
}

/// A record that does not fit its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// The field at fault, as a path (`conversations[2].from`), empty for the whole record.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// A next step, where one helps.
    pub hint: Option<String>,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "field `{}`: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for SchemaError {}

/// How records are read.
#[derive(Debug, Clone, Default)]
pub struct SchemaOptions {
    /// Extra role names and the roles they stand for (`bing` = user).
    pub role_map: HashMap<String, Role>,
    /// The schema of every record, instead of recognising each record's own.
    pub schema: Option<SchemaKind>,
    /// Fields renamed before reading: (the name a schema reads, the dataset's name), so
    /// `("output", "answer")` reads the dataset's `answer` as `output`.
    pub field_map: Vec<(String, String)>,
}

/// Recognises the schema of one record and reads its turns and response side.
///
/// ```
/// use provguard_ingest::schema::{extract, SchemaKind, SchemaOptions};
/// let record = serde_json::json!({"instruction": "Say hi.", "output": "Hi!"});
/// let sample = extract(record.as_object().unwrap(), &SchemaOptions::default()).unwrap();
/// assert_eq!(sample.schema, SchemaKind::Alpaca);
/// assert_eq!(sample.responses, vec![("output", "Hi!".to_owned())]);
/// ```
pub fn extract(record: &Map<String, Value>, opts: &SchemaOptions) -> Result<Sample, SchemaError> {
    let mapped;
    let record = if opts.field_map.is_empty() {
        record
    } else {
        mapped = remap(record, &opts.field_map);
        &mapped
    };
    let kind = match opts.schema {
        Some(kind) => kind,
        None => recognise(record)?,
    };
    let mut sample = match kind {
        SchemaKind::Messages => chat(kind, "messages", record, opts)?,
        SchemaKind::ShareGpt => chat(kind, "conversations", record, opts)?,
        SchemaKind::Preference => preference(record, opts)?,
        SchemaKind::Alpaca => alpaca(record)?,
        SchemaKind::PromptCompletion => {
            let name = ["completion", "response"]
                .into_iter()
                .find(|f| record.contains_key(*f))
                .unwrap_or("completion");
            prompt_completion(record, name)?
        }
        SchemaKind::Text => {
            let text = required_string(record, "text")?;
            let mut s = sample_of(
                SchemaKind::Text,
                vec![Turn {
                    role: Role::Assistant,
                    text,
                }],
            );
            s.responses = response_texts(&s.turns, "text");
            s
        }
    };

    if sample.responses.is_empty() {
        sample.flags.push(Flag::NoResponse);
    }
    sample.flags.sort_unstable();
    sample.flags.dedup();
    sample.declared = declared(record);
    Ok(sample)
}

/// The fields that name the chosen side of a preference pair, with the prompt and rejected
/// fields that go with each.
const PREFERENCE_LAYOUTS: [(&str, &str, &str); 3] = [
    ("chosen", "prompt", "rejected"),
    ("chosen_response", "instruction", "rejected_response"),
    ("response_j", "question", "response_k"),
];

/// The schema a record's fields say it has.
fn recognise(record: &Map<String, Value>) -> Result<SchemaKind, SchemaError> {
    // A null field is an absent one (Parquet writes absent columns as null).
    let has = |k: &str| record.get(k).is_some_and(|v| !v.is_null());
    let kind = if has("messages") {
        SchemaKind::Messages
    } else if has("conversations") {
        SchemaKind::ShareGpt
    } else if PREFERENCE_LAYOUTS.iter().any(|(chosen, ..)| has(chosen)) {
        SchemaKind::Preference
    } else if has("output") {
        SchemaKind::Alpaca
    } else if has("completion") || has("response") {
        SchemaKind::PromptCompletion
    } else if has("text") {
        SchemaKind::Text
    } else {
        let keys: Vec<&str> = record.keys().map(String::as_str).collect();
        return Err(SchemaError {
            field: String::new(),
            message: format!(
                "no known schema: expected one of `messages`, `conversations`, `chosen`, \
                 `chosen_response`, `response_j`, `output`, `completion`, `response` or `text`, \
                 found keys {}",
                if keys.is_empty() {
                    "none".to_owned()
                } else {
                    format!("`{}`", keys.join("`, `"))
                }
            ),
            hint: Some(
                "name the schema's fields with `--map` (`--map output=answer`), or the text \
                 field with `--field`"
                    .to_owned(),
            ),
        });
    };
    Ok(kind)
}

/// The record with the dataset's field names replaced by the names a schema reads.
fn remap(record: &Map<String, Value>, map: &[(String, String)]) -> Map<String, Value> {
    let mut out = record.clone();
    for (schema_name, dataset_name) in map {
        if let Some(value) = out.remove(dataset_name) {
            out.insert(schema_name.clone(), value);
        }
    }
    out
}

/// A field a forced schema needs.
fn field<'r>(record: &'r Map<String, Value>, name: &str) -> Result<&'r Value, SchemaError> {
    record.get(name).ok_or_else(|| missing(name))
}

fn sample_of(schema: SchemaKind, turns: Vec<Turn>) -> Sample {
    let mut flags = Vec::new();
    for (i, turn) in turns.iter().enumerate() {
        if turn.role == Role::System {
            flags.push(Flag::SystemTurn);
        }
        if turn.text.trim().is_empty() {
            flags.push(Flag::EmptyTurn);
        }
        if i > 0 && turns[i - 1].role == turn.role && schema != SchemaKind::Text {
            flags.push(Flag::RepeatedRole);
        }
    }
    Sample {
        schema,
        turns,
        responses: Vec::new(),
        curated: false,
        flags,
        declared: None,
    }
}

/// The non-empty assistant texts of `turns`, labelled with `field`.
fn response_texts(turns: &[Turn], field: &'static str) -> Vec<(&'static str, String)> {
    turns
        .iter()
        .filter(|t| t.role == Role::Assistant && !t.text.trim().is_empty())
        .map(|t| (field, t.text.clone()))
        .collect()
}

fn chat(
    schema: SchemaKind,
    name: &'static str,
    record: &Map<String, Value>,
    opts: &SchemaOptions,
) -> Result<Sample, SchemaError> {
    let list = field(record, name)?;
    let mut turns = turns_of(name, list, opts)?;
    if let Some(system) = optional_string(record, "system")? {
        turns.insert(
            0,
            Turn {
                role: Role::System,
                text: system,
            },
        );
    }
    let mut sample = sample_of(schema, turns);
    let label = if schema == SchemaKind::Messages {
        "messages[].assistant"
    } else {
        "conversations[].assistant"
    };
    sample.responses = response_texts(&sample.turns, label);
    if list
        .as_array()
        .is_some_and(|l| l.iter().any(has_non_text_parts))
    {
        sample.flags.push(Flag::NonTextParts);
    }
    Ok(sample)
}

fn turns_of(field: &str, list: &Value, opts: &SchemaOptions) -> Result<Vec<Turn>, SchemaError> {
    let Value::Array(items) = list else {
        return Err(type_error(field, "a list of turns", list));
    };
    let mut turns = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let Value::Object(turn) = item else {
            return Err(type_error(&at, "an object", item));
        };
        let (role_key, role_value) = ["role", "from"]
            .into_iter()
            .find_map(|k| turn.get(k).map(|v| (k, v)))
            .ok_or_else(|| missing(&format!("{at}.role")))?;
        let role_at = format!("{at}.{role_key}");
        let Value::String(name) = role_value else {
            return Err(type_error(&role_at, "a string", role_value));
        };
        let role = opts
            .role_map
            .get(name)
            .copied()
            .or_else(|| Role::from_name(name))
            .ok_or_else(|| SchemaError {
                field: role_at.clone(),
                message: format!("unknown role `{name}`"),
                hint: Some(format!(
                    "map it to a known role with `--role-map {name}=user`"
                )),
            })?;
        let mut text = match ["content", "value", "text"]
            .into_iter()
            .find_map(|k| turn.get(k).map(|v| (k, v)))
        {
            None | Some((_, Value::Null)) => String::new(),
            Some((key, content)) => content_text(&format!("{at}.{key}"), content)?,
        };
        let mut role = role;
        // An assistant turn that only calls tools is a tool call, not an answer.
        if role == Role::Assistant && text.is_empty() {
            let calls = ["tool_calls", "function_call"]
                .into_iter()
                .find_map(|k| turn.get(k).filter(|v| !v.is_null()));
            if let Some(calls) = calls {
                role = Role::ToolCall;
                text = calls.to_string();
            }
        }
        turns.push(Turn { role, text });
    }
    Ok(turns)
}

/// The text of a turn's content: a string, or a list of parts.
fn content_text(field: &str, content: &Value) -> Result<String, SchemaError> {
    match content {
        Value::String(s) => Ok(s.clone()),
        Value::Array(parts) => {
            let mut texts = Vec::new();
            for (i, part) in parts.iter().enumerate() {
                match part {
                    Value::String(s) => texts.push(s.as_str()),
                    Value::Object(p) => match p.get("text") {
                        Some(Value::String(s)) => texts.push(s.as_str()),
                        Some(other) => {
                            return Err(type_error(
                                &format!("{field}[{i}].text"),
                                "a string",
                                other,
                            ));
                        }
                        None => {}
                    },
                    other => {
                        return Err(type_error(
                            &format!("{field}[{i}]"),
                            "a content part",
                            other,
                        ));
                    }
                }
            }
            Ok(texts.join("\n"))
        }
        other => Err(type_error(
            field,
            "a string or a list of content parts",
            other,
        )),
    }
}

fn has_non_text_parts(turn: &Value) -> bool {
    let content = turn.get("content").or_else(|| turn.get("value"));
    content.and_then(Value::as_array).is_some_and(|parts| {
        parts
            .iter()
            .any(|p| p.as_object().is_some_and(|o| !o.contains_key("text")))
    })
}

fn alpaca(record: &Map<String, Value>) -> Result<Sample, SchemaError> {
    let instruction = optional_string(record, "instruction")?.unwrap_or_default();
    let input = optional_string(record, "input")?.unwrap_or_default();
    let output = required_string(record, "output")?;
    let prompt = if input.is_empty() {
        instruction
    } else {
        format!("{instruction}\n\n{input}")
    };
    let turns = vec![
        Turn {
            role: Role::User,
            text: prompt,
        },
        Turn {
            role: Role::Assistant,
            text: output,
        },
    ];
    let mut sample = sample_of(SchemaKind::Alpaca, turns);
    sample.responses = response_texts(&sample.turns, "output");
    Ok(sample)
}

fn prompt_completion(
    record: &Map<String, Value>,
    field: &'static str,
) -> Result<Sample, SchemaError> {
    let prompt = optional_string(record, "prompt")?.unwrap_or_default();
    let completion = required_string(record, field)?;
    let turns = vec![
        Turn {
            role: Role::User,
            text: prompt,
        },
        Turn {
            role: Role::Assistant,
            text: completion,
        },
    ];
    let mut sample = sample_of(SchemaKind::PromptCompletion, turns);
    sample.responses = response_texts(&sample.turns, field);
    Ok(sample)
}

/// Keys under which records declare their own provenance.
const DECLARED_KEYS: [&str; 5] = ["generator", "model", "source", "origin", "provenance"];

fn declared(record: &Map<String, Value>) -> Option<String> {
    let nested = ["meta", "metadata"]
        .into_iter()
        .filter_map(|k| record.get(k).and_then(Value::as_object));
    std::iter::once(record).chain(nested).find_map(|map| {
        DECLARED_KEYS.iter().find_map(|k| match map.get(*k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        })
    })
}

fn required_string(record: &Map<String, Value>, field: &str) -> Result<String, SchemaError> {
    optional_string(record, field)?.ok_or_else(|| missing(field))
}

/// A string field that may be absent or null; any other type is an error. Strings are never
/// parsed as JSON.
fn optional_string(
    record: &Map<String, Value>,
    field: &str,
) -> Result<Option<String>, SchemaError> {
    match record.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(type_error(field, "a string", other)),
    }
}

fn missing(field: &str) -> SchemaError {
    SchemaError {
        field: field.to_owned(),
        message: "missing".to_owned(),
        hint: None,
    }
}

fn type_error(field: &str, expected: &str, found: &Value) -> SchemaError {
    SchemaError {
        field: field.to_owned(),
        message: format!("expected {expected}, found {}", json_type(found)),
        hint: None,
    }
}

/// The JSON type of a value, with its article, for messages.
#[must_use]
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(v: &Value) -> Result<Sample, SchemaError> {
        extract(v.as_object().unwrap(), &SchemaOptions::default())
    }

    #[test]
    fn sharegpt_spellings_give_the_same_turns() {
        let a = read(
            &json!({"conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]}),
        );
        let b = read(
            &json!({"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": [{"type": "text", "text": "A"}]}]}),
        );
        assert_eq!(a.unwrap().turns, b.unwrap().turns);
    }

    #[test]
    fn unknown_role_names_the_field_unless_mapped() {
        let v = json!({"conversations": [{"from": "bing", "value": "Q"}, {"from": "gpt", "value": "A"}]});
        let err = read(&v).unwrap_err();
        assert_eq!(err.field, "conversations[0].from");
        let opts = SchemaOptions {
            role_map: HashMap::from([("bing".to_owned(), Role::User)]),
            ..SchemaOptions::default()
        };
        assert!(extract(v.as_object().unwrap(), &opts).is_ok());
    }

    #[test]
    fn an_empty_final_chosen_turn_leaves_no_response() {
        // Regression: HH-RLHF pairs whose chosen dialogue ends in an empty assistant turn were
        // credited with the previous assistant turn, context shared with the rejected side.
        let v = json!({
            "chosen": "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: and?\n\nAssistant:",
            "rejected": "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: and?\n\nAssistant: no"
        });
        let s = read(&v).unwrap();
        assert!(s.responses.is_empty());
        assert!(s.flags.contains(&Flag::NoResponse));
    }

    #[test]
    fn a_null_field_does_not_decide_the_schema() {
        // Regression: a Parquet row with `messages` null and a `completion` was rejected.
        let v = json!({"messages": null, "prompt": "Name a vegetable.", "completion": "Leek."});
        let s = read(&v).unwrap();
        assert_eq!(s.schema, SchemaKind::PromptCompletion);
        assert_eq!(s.responses, vec![("completion", "Leek.".to_owned())]);
    }

    #[test]
    fn hh_transcript_response_is_the_final_assistant_turn() {
        let v = json!({
            "chosen": "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: and?\n\nAssistant: that is all",
            "rejected": "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: and?\n\nAssistant: go away"
        });
        let s = read(&v).unwrap();
        assert_eq!(s.schema, SchemaKind::Preference);
        assert_eq!(s.turns.len(), 4);
        assert_eq!(s.responses, vec![("chosen", "that is all".to_owned())]);
        assert!(s.curated);
    }

    #[test]
    fn field_types_are_checked_and_strings_never_parsed() {
        let err = read(&json!({"instruction": "x", "input": 42, "output": "42"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "field `input`: expected a string, found a number"
        );
        let s = read(&json!({"instruction": "x", "output": "{\"a\":1}"})).unwrap();
        assert_eq!(s.responses[0].1, "{\"a\":1}");
    }

    #[test]
    fn tool_calls_and_tool_answers_are_context_and_system_fields_are_turns() {
        let v = json!({
            "system": "Be brief.",
            "messages": [
                {"role": "user", "content": "Weather in Oslo?"},
                {"role": "assistant", "content": null,
                 "tool_calls": [{"function": {"name": "weather", "arguments": "{}"}}]},
                {"role": "tool", "content": "4C, rain"},
                {"role": "function_call", "content": "{\"name\": \"f\"}"},
                {"role": "observation", "content": "ok"},
                {"role": "assistant", "content": "4C and rain."}
            ]
        });
        let s = read(&v).unwrap();
        let roles: Vec<Role> = s.turns.iter().map(|t| t.role).collect();
        assert_eq!(
            roles,
            [
                Role::System,
                Role::User,
                Role::ToolCall,
                Role::Tool,
                Role::ToolCall,
                Role::Tool,
                Role::Assistant
            ]
        );
        assert!(s.turns[2].text.contains("weather"));
        assert_eq!(
            s.responses,
            vec![("messages[].assistant", "4C and rain.".to_owned())]
        );
        assert!(s.flags.contains(&Flag::SystemTurn));
        assert!(!s.flags.contains(&Flag::EmptyTurn));
        let err = read(&json!({"system": 3, "messages": []})).unwrap_err();
        assert_eq!(err.field, "system");
    }

    #[test]
    fn every_preference_layout_gives_the_chosen_answer() {
        let turns =
            json!([{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]);
        let layouts = [
            json!({"prompt": "Q", "chosen": "A", "rejected": "B"}),
            json!({"chosen": turns, "rejected": [{"role": "user", "content": "Q"},
                                                  {"role": "assistant", "content": "B"}]}),
            json!({"prompt": "Q", "chosen": {"role": "assistant", "content": "A"},
                   "rejected": {"role": "assistant", "content": "B"}}),
            json!({"prompt": [{"role": "user", "content": "Q"}],
                   "chosen": [{"role": "assistant", "content": "A"}], "rejected": []}),
            json!({"question": "Q", "response_j": "A", "response_k": "B"}),
            json!({"instruction": "Q", "chosen_response": "A", "rejected_response": "B"}),
        ];
        for v in &layouts {
            let s = read(v).unwrap_or_else(|e| panic!("{v}: {e}"));
            assert_eq!(s.schema, SchemaKind::Preference, "{v}");
            assert_eq!(s.responses.len(), 1, "{v}");
            assert_eq!(s.responses[0].1, "A", "{v}");
            assert!(s.curated);
            let texts: Vec<&str> = s.turns.iter().map(|t| t.text.as_str()).collect();
            assert_eq!(texts, ["Q", "A"], "{v}");
        }
        let err = read(&json!({"prompt": "Q", "chosen": "A", "rejected": 1})).unwrap_err();
        assert_eq!(err.field, "rejected");
        let err = read(&json!({"question": "Q", "response_j": {"role": "bing", "content": "A"}}))
            .unwrap_err();
        assert_eq!(err.field, "response_j.role");
    }

    #[test]
    fn a_forced_schema_and_field_map_read_other_layouts() {
        let v = json!({"query": "Q", "answer": "A", "text": "not the answer"});
        let opts = SchemaOptions {
            schema: Some(SchemaKind::Alpaca),
            field_map: vec![
                ("instruction".to_owned(), "query".to_owned()),
                ("output".to_owned(), "answer".to_owned()),
            ],
            ..SchemaOptions::default()
        };
        let s = extract(v.as_object().unwrap(), &opts).unwrap();
        assert_eq!(s.schema, SchemaKind::Alpaca);
        assert_eq!(s.responses, vec![("output", "A".to_owned())]);
        assert_eq!(s.turns[0].text, "Q");
        // Without the map, the record is read by its own fields: plain text.
        assert_eq!(read(&v).unwrap().schema, SchemaKind::Text);

        // A forced schema names the field it misses.
        let opts = SchemaOptions {
            schema: Some(SchemaKind::Messages),
            ..SchemaOptions::default()
        };
        let err = extract(v.as_object().unwrap(), &opts).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.message.as_str()),
            ("messages", "missing")
        );
    }

    #[test]
    fn declared_provenance_is_read_from_top_level_or_meta() {
        let s = read(&json!({"text": "t", "meta": {"source": "model-a"}})).unwrap();
        assert_eq!(s.declared.as_deref(), Some("model-a"));
        let s = read(&json!({"instruction": "i", "output": "o", "generator": "gpt4"})).unwrap();
        assert_eq!(s.declared.as_deref(), Some("gpt4"));
    }
}
