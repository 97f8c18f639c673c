//! The real data sets under `/work/shared/data`: every record must come out.

use std::path::Path;

use provguard_ingest::{Compression, Event, ReadOptions, open};

fn count(path: &Path) -> (usize, usize, Compression) {
    let reader = open(path, &ReadOptions::default()).unwrap();
    let compression = reader.compression();
    let mut records = 0;
    let mut other = 0;
    for event in reader {
        match event {
            Event::Record(_) => records += 1,
            Event::Blank(_) => {}
            Event::Rejected(_) | Event::Warning(_) => other += 1,
        }
    }
    (records, other, compression)
}

#[test]
fn gpt4_jsonl_has_805_records() {
    let path = Path::new("/work/shared/data/models/gpt4.jsonl");
    assert_eq!(count(path), (805, 0, Compression::None));
}

#[test]
fn hh_rlhf_gzip_has_2312_records() {
    let path = Path::new("/work/shared/data/curation/hh_rlhf_harmless_base_test.jsonl.gz");
    assert_eq!(count(path), (2312, 0, Compression::Gzip));
}
