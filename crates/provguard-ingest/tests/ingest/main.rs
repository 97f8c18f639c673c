//! Integration tests: the shared input cases, the real data sets, and garbage input.

mod cases;
mod garbage;
mod real_data;

use std::path::{Path, PathBuf};

use provguard_ingest::{Event, RawRecord, ReadOptions, Rejection, open};

/// The folder of shared input cases.
fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/cases/ingest")
        .join(name)
}

/// Reads a file and returns all its events.
fn read(path: &Path, opts: &ReadOptions) -> Vec<Event> {
    open(path, opts).expect("file opens").collect()
}

fn records(events: &[Event]) -> Vec<&RawRecord> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Record(r) => Some(r),
            _ => None,
        })
        .collect()
}

fn rejections(events: &[Event]) -> Vec<&Rejection> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Rejected(r) => Some(r),
            _ => None,
        })
        .collect()
}
