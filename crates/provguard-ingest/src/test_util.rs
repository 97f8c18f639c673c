//! Helpers for the unit tests.

use std::path::PathBuf;

use crate::{Event, RawRecord, ReadOptions, Rejection};

/// Writes `bytes` to a file named `name` in a fresh folder and reads it.
pub(crate) fn read_bytes(name: &str, bytes: &[u8], opts: &ReadOptions) -> Vec<Event> {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, name, bytes);
    crate::open(&path, opts).unwrap().collect()
}

pub(crate) fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    fs_err::write(&path, bytes).unwrap();
    path
}

pub(crate) fn records(events: &[Event]) -> Vec<&RawRecord> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Record(r) => Some(r),
            _ => None,
        })
        .collect()
}

pub(crate) fn rejections(events: &[Event]) -> Vec<&Rejection> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Rejected(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// The lines of the records.
pub(crate) fn lines(events: &[Event]) -> Vec<u64> {
    records(events)
        .iter()
        .map(|r| r.locator.line.unwrap())
        .collect()
}
