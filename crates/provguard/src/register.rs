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
    /// Records that could not be read or had no text where the fields say.
    pub problems: Vec<Problem>,
}

/// Reads `paths` and records their texts under `source` in `ledger`, in one commit.
///
/// `fields` are field paths; empty means each record's response side. `filter` sizes the
/// Bloom filter of the registration's shingles.
///
/// TODO(#5): the texts are held until the commit (the ledger shingles only those that are
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
        if field.is_empty() || field.split('.').any(str::is_empty) {
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
                        Ok(found) if found.is_empty() => summary.problems.push(Problem::at(
                            &record.locator,
                            "",
                            "no text to register in this record",
                        )),
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

    let files = paths.iter().map(|p| p.display().to_string()).collect();
    summary.registration = ledger.register(source, files, texts, filter)?;
    summary.new_entries = summary.registration.as_ref().map_or(0, |r| r.new_entries);
    Ok(summary)
}

/// The strings at each field path, labelled with the path.
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
