//! Registering a source's texts in the ledger.
//!
//! By default each record's response side is registered (the texts a model would be trained
//! to produce: `output`, `completion`, assistant turns, the chosen answer, or `text`), for
//! human and synthetic sources alike. Field paths pick other fields instead (`src`,
//! `instances[].output`). Empty texts are skipped and counted: an empty answer identifies
//! nobody. Besides their fingerprints, the ledger keeps a Bloom filter of the new texts'
//! shingles, sized by [`FilterOptions`], for near-copy lineage.

use std::path::PathBuf;

use provguard_ingest::schema::{self, SchemaOptions};
use provguard_ingest::{Event, ReadOptions, Rejection, Scope};
use provguard_ledger::{FilterOptions, Ledger, Registration, SourceEntry, TextEntry};
use provguard_lineage::Fingerprint;
use serde::Serialize;

use crate::Error;
use crate::report::Problem;

/// What a registration read and recorded.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RegisterSummary {
    /// Files read.
    pub files: Vec<PathBuf>,
    /// Records read.
    pub records: u64,
    /// Texts taken from them.
    pub texts: u64,
    /// Empty texts skipped.
    pub empty_texts: u64,
    /// Texts normalisation could not change without emptying them, kept raw.
    pub raw_fallbacks: u64,
    /// Entries new to the ledger (0 when the same texts were registered before).
    pub new_entries: u64,
    /// The registration committed, if anything was new.
    pub registration: Option<Registration>,
    /// Records that could not be read, or do not fit their schema or the field paths.
    pub problems: Vec<Problem>,
    /// Records read with no text to register (an empty answer, a path that leads nowhere in
    /// them).
    pub records_without_text: u64,
    /// Strict mode refused to commit because some records could not be read.
    pub refused: bool,
}

/// Reads `paths` and records their texts under `source` in `ledger`, in one commit.
///
/// `fields` are field paths; empty means each record's response side. `filter` sizes the
/// Bloom filter of the registration's shingles.
///
/// TODO(#7): the texts are held until the commit (the ledger shingles only those that are
/// new, which it knows under its lock); a registration larger than memory needs them
/// shingled as they are read.
pub fn register(
    ledger: &mut Ledger,
    source: &SourceEntry,
    paths: &[PathBuf],
    fields: &[String],
    read: &ReadOptions,
    schema: &SchemaOptions,
    filter: &FilterOptions,
) -> Result<RegisterSummary, Error> {
    for field in fields {
        if !is_field_path(field) {
            return Err(Error::FieldPath(field.clone()));
        }
    }
    let skip = [ledger.dir().to_owned()];
    let discovery = provguard_ingest::discover_filtered(paths, &skip, &read.filter)?;
    let mut summary = RegisterSummary {
        files: discovery.files.clone(),
        ..Default::default()
    };
    let mut texts: Vec<TextEntry> = Vec::new();

    for file in &discovery.files {
        for event in provguard_ingest::open(file, read)? {
            match event {
                Event::Record(record) => {
                    summary.records += 1;
                    let found = if fields.is_empty() {
                        schema::extract(&record.value, schema).map(|s| {
                            s.responses
                                .into_iter()
                                .map(|(f, t)| (f.to_owned(), t))
                                .collect()
                        })
                    } else {
                        select_fields(&record.value, fields)
                    };
                    match found {
                        Ok(found) if found.is_empty() => summary.records_without_text += 1,
                        Ok(found) => {
                            for (field, text) in found {
                                summary.texts += 1;
                                if text.trim().is_empty() {
                                    summary.empty_texts += 1;
                                    continue;
                                }
                                let (fingerprint, fell_back) = Fingerprint::of_text(&text);
                                summary.raw_fallbacks += u64::from(fell_back);
                                texts.push(TextEntry {
                                    field,
                                    fingerprint,
                                    text,
                                });
                            }
                        }
                        Err(e) => summary
                            .problems
                            .push(Problem::from_schema(&record.locator, &e)),
                    }
                }
                Event::Rejected(rejection) => {
                    if rejection.scope == Scope::Record {
                        summary.records += 1;
                    }
                    summary.problems.push(Problem::from_rejection(&rejection));
                }
                Event::Blank(_) | Event::Warning(_) => {}
            }
        }
    }

    if !fields.is_empty() && summary.texts == 0 && summary.records > 0 {
        return Err(Error::NoText {
            fields: fields.join("`, `"),
            records: summary.records,
        });
    }
    // Strict mode registers a source whole or not at all: evidence with holes would let the
    // missing texts pass as unknown.
    if !read.lenient && !summary.problems.is_empty() {
        summary.refused = true;
        return Ok(summary);
    }
    let files = paths.iter().map(|p| p.display().to_string()).collect();
    summary.registration = ledger.register(source, files, texts, filter)?;
    summary.new_entries = summary.registration.as_ref().map_or(0, |r| r.new_entries);
    Ok(summary)
}

/// The strings at each field path, labelled with the path.
/// Names separated by `.`, each optionally followed by `[]` or `[N]`.
fn is_field_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('.').all(|segment| {
            let (name, index) = match segment.find('[') {
                Some(at) => (&segment[..at], Some(&segment[at..])),
                None => (segment, None),
            };
            let index_ok = index.is_none_or(|i| {
                i.len() >= 2
                    && i.ends_with(']')
                    && i[1..i.len() - 1].bytes().all(|b| b.is_ascii_digit())
            });
            !name.is_empty() && !name.contains(']') && index_ok
        })
}

fn select_fields(
    record: &serde_json::Map<String, serde_json::Value>,
    fields: &[String],
) -> Result<Vec<(String, String)>, schema::SchemaError> {
    let mut out = Vec::new();
    for field in fields {
        out.extend(
            schema::select(record, field)?
                .into_iter()
                .map(|t| (field.clone(), t)),
        );
    }
    Ok(out)
}

impl Problem {
    /// A problem from a reader's rejection.
    #[must_use]
    pub fn from_rejection(r: &Rejection) -> Self {
        let mut p = Self::at(&r.locator, "", &r.message);
        p.hint.clone_from(&r.hint);
        p.scope = r.scope;
        p
    }
}

#[cfg(test)]
mod tests {
    use super::is_field_path;

    #[test]
    fn field_paths_are_checked_before_reading() {
        for ok in ["src", "instances[].output", "messages[0].content", "a.b.c"] {
            assert!(is_field_path(ok), "{ok}");
        }
        for bad in ["", "a..b", "instances[", "a[x]", "[]", "a]", "a[1"] {
            assert!(!is_field_path(bad), "{bad}");
        }
    }
}
