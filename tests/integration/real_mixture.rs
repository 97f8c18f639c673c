//! The main job on real data: two models and a human corpus registered, a mixture scanned.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::support::{
    Truth, data, num, permissive_policy, read_jsonl, register, scan_json, write_jsonl,
};

fn outputs(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["output"].as_str().unwrap().to_owned())
        .collect()
}

fn expert_outputs(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["instances"][0]["output"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one scenario, told in order: setup, truth, checks"
)]
fn composition_of_a_real_mixture_matches_the_ground_truth() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let gpt4 = read_jsonl(&data("models/gpt4.jsonl"));
    let claude = read_jsonl(&data("models/claude-2.jsonl"));
    let mixtral = read_jsonl(&data("models/Mixtral-8x7B-Instruct-v0.1.jsonl"));
    let experts_path = data("human/self_instruct_user_oriented.jsonl");
    let experts = read_jsonl(&experts_path);

    register(
        &ledger,
        "gpt4",
        "synthetic",
        &[],
        &data("models/gpt4.jsonl"),
    );
    register(
        &ledger,
        "claude-2",
        "synthetic",
        &[],
        &data("models/claude-2.jsonl"),
    );
    register(
        &ledger,
        "experts",
        "human",
        &["instances[].output"],
        &experts_path,
    );
    let mut truth = Truth::default();
    truth.add("gpt4", outputs(&gpt4));
    truth.add("claude-2", outputs(&claude));
    truth.add("experts", expert_outputs(&experts));

    // The mixture: 300 gpt4 answers, 200 claude-2 answers, 100 answers of a model nobody
    // registered, and every expert answer; one JSON Lines file and one JSON array.
    let mut texts: Vec<String> = Vec::new();
    texts.extend(outputs(&gpt4[..300]));
    texts.extend(outputs(&claude[300..500]));
    texts.extend(outputs(&mixtral[500..600]));
    texts.extend(expert_outputs(&experts));
    let records: Vec<Value> = texts
        .iter()
        .map(|t| json!({"instruction": "q", "input": "", "output": t}))
        .collect();
    let mixture = dir.path().join("mixture");
    std::fs::create_dir(&mixture).unwrap();
    write_jsonl(&mixture.join("a.jsonl"), &records[..400]);
    std::fs::write(
        mixture.join("b.json"),
        Value::Array(records[400..].to_vec()).to_string(),
    )
    .unwrap();

    let policy = permissive_policy(dir.path());
    let matches = dir.path().join("records.jsonl");
    let (code, report, stderr) = scan_json(
        &ledger,
        &[&mixture],
        &[
            "--policy",
            policy.to_str().unwrap(),
            "--records",
            matches.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{stderr}");

    // Texts that match no registered text exactly may still be near copies of one (an
    // unregistered model's answer that quotes another's): their candidates are the near
    // match's, which must be rare and only for texts the exact truth does not know.
    let matches = read_jsonl(&matches);
    assert_eq!(matches.len(), texts.len());
    let near: BTreeMap<usize, BTreeSet<String>> = matches
        .iter()
        .enumerate()
        .filter(|(_, m)| m["match"] == "near" || m["match"] == "spliced")
        .map(|(i, m)| {
            let sources = m["lineage"]["sources"].as_array().unwrap();
            let names = sources.iter().map(|s| s.as_str().unwrap().to_owned());
            (i, names.collect())
        })
        .collect();
    assert!(near.len() <= 3, "{near:?}");

    // The expected composition, by the ambiguity rule, from the test's own lookup.
    let (mut human, mut synthetic, mut unknown, mut ambiguous) = (0u64, 0u64, 0u64, 0u64);
    let mut records_by_source: BTreeMap<String, u64> = BTreeMap::new();
    let mut weight: BTreeMap<String, f64> = BTreeMap::new();
    for (i, t) in texts.iter().enumerate() {
        let c = match near.get(&i) {
            Some(sources) => {
                assert!(truth.candidates(t).is_empty(), "{t}");
                sources.clone()
            }
            None => truth.candidates(t),
        };
        match c.len() {
            0 => unknown += 1,
            1 => {
                let s = c.first().unwrap();
                if s == "experts" {
                    human += 1;
                } else {
                    synthetic += 1;
                }
                *records_by_source.entry(s.clone()).or_default() += 1;
            }
            _ => ambiguous += 1,
        }
        for s in &c {
            *weight.entry(s.clone()).or_default() += 1.0 / c.len() as f64;
        }
    }
    assert!(
        ambiguous > 0 && unknown + near.len() as u64 >= 100,
        "the mixture must exercise every origin"
    );

    let n = texts.len() as f64;
    assert_eq!(report["records"], json!(texts.len()));
    assert_eq!(report["accounting"]["records_read"], json!(texts.len()));
    assert_eq!(report["accounting"]["rejected"], json!(0));
    let by_origin = &report["composition"]["by_origin"];
    for (origin, expected) in [
        ("human", human),
        ("synthetic", synthetic),
        ("unknown", unknown),
        ("ambiguous", ambiguous),
    ] {
        assert_eq!(by_origin[origin]["records"], json!(expected), "{origin}");
        assert!((num(&by_origin[origin]["share"]) - expected as f64 / n).abs() < 1e-12);
    }
    assert_eq!(
        report["composition"]["ambiguous"]["records"],
        json!(ambiguous)
    );
    for (source, w) in &weight {
        let entry = &report["composition"]["by_source"][source];
        let records = records_by_source.get(source).copied().unwrap_or(0);
        assert_eq!(entry["records"], json!(records), "{source}");
        assert!((num(&entry["share"]) - w / n).abs() < 1e-12, "{source}");
        assert!(num(&entry["curated"]).abs() < f64::EPSILON);
    }

    // Dynamics: the home model trains on experts (h), itself (unknown folded in: w_kk) and
    // two models taken as human-trained; then N_kk = 1 / (1 - w_kk) and X = 1 - N_kk h.
    let h = weight["experts"] / n;
    let w_self = unknown as f64 / n;
    let d = &report["dynamics"];
    assert!((num(&d["human_share"]) - h).abs() < 1e-12);
    assert!((num(&d["self_share"]) - w_self).abs() < 1e-12);
    let x = 1.0 - h / (1.0 - w_self);
    assert!((num(&d["cross_influence_share"]) - x).abs() < 1e-9);
    let depth = (1.0 - h - w_self) / (1.0 - w_self) + w_self / (1.0 - w_self);
    assert!((num(&d["synthetic_depth"]) - depth).abs() < 1e-9);
    let assumptions = d["assumptions"].as_array().unwrap();
    assert!(
        assumptions
            .iter()
            .any(|a| a.as_str().unwrap().contains("gpt4")),
        "{assumptions:?}"
    );
}

#[test]
fn a_text_several_models_wrote_is_ambiguous_and_split_between_them() {
    // "The capital of Australia is Canberra." is an answer of both gpt4 and claude-2.
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    register(
        &ledger,
        "gpt4",
        "synthetic",
        &[],
        &data("models/gpt4.jsonl"),
    );
    register(
        &ledger,
        "claude-2",
        "synthetic",
        &[],
        &data("models/claude-2.jsonl"),
    );
    let file = dir.path().join("one.jsonl");
    write_jsonl(
        &file,
        &[json!({"prompt": "Capital?", "completion": "The capital of Australia is Canberra."})],
    );

    let policy = permissive_policy(dir.path());
    let (_, report, _) = scan_json(&ledger, &[&file], &["--policy", policy.to_str().unwrap()]);
    let c = &report["composition"];
    assert_eq!(c["by_origin"]["ambiguous"]["records"], json!(1));
    assert_eq!(c["by_origin"]["synthetic"]["records"], json!(0));
    assert_eq!(
        c["ambiguous"]["candidates"][0]["sources"],
        json!(["gpt4", "claude-2"])
    );
    for source in ["gpt4", "claude-2"] {
        assert_eq!(c["by_source"][source]["records"], json!(0));
        assert!((num(&c["by_source"][source]["share"]) - 0.5).abs() < 1e-12);
    }
}

#[test]
fn declared_provenance_that_the_hashes_contradict_is_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    register(
        &ledger,
        "gpt4",
        "synthetic",
        &[],
        &data("models/gpt4.jsonl"),
    );
    let gpt4 = read_jsonl(&data("models/gpt4.jsonl"));
    let file = dir.path().join("claims.jsonl");
    let mut records = vec![
        json!({"text": gpt4[10]["output"], "meta": {"source": "human"}}),
        json!({"text": gpt4[11]["output"], "source": "gpt4"}),
    ];
    records.push(json!({"text": "nobody registered this sentence", "source": "human"}));
    write_jsonl(&file, &records);

    let policy = permissive_policy(dir.path());
    let (_, report, _) = scan_json(&ledger, &[&file], &["--policy", policy.to_str().unwrap()]);
    let declared = &report["composition"]["declared"];
    assert_eq!(
        (
            &declared["records"],
            &declared["agree"],
            &declared["conflict"],
            &declared["unverified"]
        ),
        (&json!(3), &json!(1), &json!(1), &json!(1))
    );
    assert_eq!(declared["conflicts"][0]["line"], json!(1));
    // The record that claims to be human is counted by the evidence: synthetic.
    assert_eq!(
        report["composition"]["by_origin"]["synthetic"]["records"],
        json!(2)
    );
    assert_eq!(
        report["composition"]["by_origin"]["human"]["records"],
        json!(0)
    );
}
