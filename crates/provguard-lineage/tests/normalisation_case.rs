//! Case 15 of `../shared/cases/ingest`: one sentence spelled seven ways shares one
//! fingerprint; nine look-alikes stay distinct; raw hashes tell every spelling apart.

use std::collections::HashSet;
use std::path::Path;

use provguard_lineage::Fingerprint;

fn case_texts() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/cases/ingest/15-normalization-equal-vs-distinct.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            (
                v["id"].as_str().unwrap().to_owned(),
                v["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn spellings_share_one_fingerprint_and_look_alikes_stay_distinct() {
    let texts = case_texts();
    let (equal, distinct): (Vec<_>, Vec<_>) = texts.iter().partition(|(id, _)| id.starts_with('E'));
    assert_eq!((equal.len(), distinct.len()), (7, 9));

    let equal_prints: HashSet<Fingerprint> = equal
        .iter()
        .map(|(_, t)| Fingerprint::of_text(t).0)
        .collect();
    assert_eq!(
        equal_prints.len(),
        1,
        "the seven spellings must share one fingerprint"
    );

    let mut seen = equal_prints.clone();
    for (id, text) in &distinct {
        let (fingerprint, fell_back) = Fingerprint::of_text(text);
        assert!(!fell_back, "{id}");
        assert!(seen.insert(fingerprint), "{id} collides with another text");
    }

    let raw: HashSet<Fingerprint> = texts.iter().map(|(_, t)| Fingerprint::raw(t)).collect();
    assert_eq!(
        raw.len(),
        texts.len(),
        "raw hashes keep every spelling apart"
    );
}
