//! The ecosystem file format: defaults, both syntaxes, and error messages.

use provguard_dynamics::{AnalyzeOptions, DynamicsError, Ecosystem, analyze};

const FULL: &str = r#"
dim = 2
human_target = [1.0, 0.0]

[[models]]
name = "p"
human = 0.0
samples_per_round = 10000
reward = { g = [1.0, 0.0], eta = 0.18 }
curation_strength = 0.5

  [[models.inputs]]
  from = "q"
  share = 1.0
  curated = 0.4
  shift = [0.5, 1.0]
  transfer = [[1.0, 0.0], [0.0, 1.0]]

[[models]]
name = "q"
human = 0.3
  [[models.inputs]]
  from = "p"
  share = 0.7
"#;

#[test]
fn missing_keys_take_their_defaults() {
    let eco = Ecosystem::from_toml_str(
        "[[models]]\nname = \"p\"\n[[models.inputs]]\nfrom = \"p\"\nshare = 0.5\n",
        "eco.toml",
    )
    .unwrap();
    assert_eq!(eco.dim, 1);
    assert_eq!(eco.human_target, [1.0]);
    let p = &eco.models[0];
    assert_eq!(
        (p.human, p.samples_per_round, p.curation_strength),
        (0.0, None, 0.5)
    );
    assert_eq!((p.reward.g.as_ref(), p.reward.eta), (None, 1.0));
    let input = &p.inputs[0];
    assert_eq!(
        (input.curated, input.shift.as_ref(), input.transfer.as_ref()),
        (0.0, None, None)
    );

    // human_target defaults to all ones of the given dimension.
    let eco = Ecosystem::from_toml_str("dim = 3\n[[models]]\nname = \"p\"\n", "eco.toml").unwrap();
    assert_eq!(eco.human_target, [1.0, 1.0, 1.0]);
}

#[test]
fn every_key_is_read() {
    let eco = Ecosystem::from_toml_str(FULL, "eco.toml").unwrap();
    assert_eq!(
        (eco.dim, eco.human_target.as_slice()),
        (2, [1.0, 0.0].as_slice())
    );
    let p = &eco.models[0];
    assert_eq!(p.samples_per_round, Some(10_000.0));
    assert_eq!(
        (p.reward.g.as_deref(), p.reward.eta),
        (Some([1.0, 0.0].as_slice()), 0.18)
    );
    let input = &p.inputs[0];
    assert_eq!(
        (input.from.as_str(), input.share, input.curated),
        ("q", 1.0, 0.4)
    );
    assert_eq!(input.shift.as_deref(), Some([0.5, 1.0].as_slice()));
    assert_eq!(input.transfer, Some(vec![vec![1.0, 0.0], vec![0.0, 1.0]]));
    assert_eq!(
        (eco.models[1].human, eco.models[1].inputs[0].share),
        (0.3, 0.7)
    );
}

#[test]
fn json_with_the_same_structure_gives_the_same_ecosystem() {
    let json = r#"{
        "dim": 2, "human_target": [1.0, 0.0],
        "models": [
            {"name": "p", "human": 0, "samples_per_round": 10000,
             "reward": {"g": [1.0, 0.0], "eta": 0.18}, "curation_strength": 0.5,
             "inputs": [{"from": "q", "share": 1, "curated": 0.4, "shift": [0.5, 1.0],
                         "transfer": [[1.0, 0.0], [0.0, 1.0]]}]},
            {"name": "q", "human": 0.3, "inputs": [{"from": "p", "share": 0.7}]}
        ]
    }"#;
    let from_json = Ecosystem::from_json_str(json, "eco.json").unwrap();
    assert_eq!(
        from_json,
        Ecosystem::from_toml_str(FULL, "eco.toml").unwrap()
    );
}

#[test]
fn unknown_keys_are_named_with_file_and_line() {
    for (text, key, line) in [
        ("dimension = 2\n", "dimension", 1),
        ("[[models]]\nname = \"p\"\nhumans = 0.5\n", "humans", 3),
        (
            "[[models]]\nname = \"p\"\nreward = { eta = 1, beta = 2 }\n",
            "beta",
            3,
        ),
        (
            "[[models]]\nname = \"p\"\n[[models.inputs]]\nfrom = \"p\"\nshare = 0.1\nweight = 1\n",
            "weight",
            6,
        ),
    ] {
        let err = Ecosystem::from_toml_str(text, "eco.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with(&format!("eco.toml:{line}: ")), "{msg}");
        assert!(msg.contains(&format!("`{key}`")), "{msg}");
    }
    let err = Ecosystem::from_json_str("{\n\"models\": [{\"name\": \"p\", \"hue\": 1}]}", "e.json")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("e.json:2: ") && err.contains("`hue`"),
        "{err}"
    );
}

#[test]
fn invalid_values_name_file_model_and_field() {
    let cases = [
        (
            "curated = 0.4",
            "curated = 1.5",
            "input from `q`: `curated` must be in [0, 1]",
        ),
        (
            "share = 1.0",
            "share = 1.2",
            "input from `q`: `share` must be in [0, 1]",
        ),
        (
            "shift = [0.5, 1.0]",
            "shift = [0.5]",
            "input from `q`: `shift` must have length",
        ),
        (
            "curation_strength = 0.5",
            "curation_strength = 0",
            "`curation_strength` must be in (0, 1]",
        ),
        (
            "eta = 0.18",
            "eta = -1",
            "`reward.eta` must be a finite number >= 0",
        ),
        (
            "g = [1.0, 0.0]",
            "g = [1.0]",
            "`reward.g` must have length `dim` = `2`, got `1`",
        ),
        (
            "samples_per_round = 10000",
            "samples_per_round = 0.5",
            "`samples_per_round` must be",
        ),
    ];
    for (from, to, needle) in cases {
        let text = FULL.replacen(from, to, 1);
        let msg = Ecosystem::from_toml_str(&text, "eco.toml")
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("eco.toml: model `p`: "), "{msg}");
        assert!(msg.contains(needle), "{msg}");
    }
}

#[test]
fn shares_summing_over_one_are_rejected() {
    let text = FULL.replacen(
        "share = 0.7",
        "share = 0.7\n  [[models.inputs]]\n  from = \"q\"\n  share = 0.0",
        1,
    );
    // q now has two inputs from p and q: 0.7 + 0.0, plus q's human 0.3, is fine.
    Ecosystem::from_toml_str(&text, "eco.toml").unwrap();
    let msg = Ecosystem::from_toml_str(&text.replacen("share = 0.0", "share = 0.2", 1), "eco.toml")
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("eco.toml: model `q`: `human` plus `inputs[].share` sum to `1.2"),
        "{msg}"
    );
    let text = text.replacen("share = 0.0", "share = 0.4", 1);
    let msg = Ecosystem::from_toml_str(&text, "eco.toml")
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("eco.toml: model `q`: `inputs[].share` sum to `1.1"),
        "{msg}"
    );
}

#[test]
fn duplicate_names_and_dimension_mismatch_are_rejected() {
    let text = FULL.replacen("name = \"q\"", "name = \"p\"", 1);
    let msg = Ecosystem::from_toml_str(&text, "eco.toml")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("model `p`: `name` is declared twice"), "{msg}");
    let text = FULL.replacen("human_target = [1.0, 0.0]", "human_target = [1.0]", 1);
    let msg = Ecosystem::from_toml_str(&text, "eco.toml")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("eco.toml: `human_target` must have length"),
        "{msg}"
    );
    let text = FULL.replacen("[[1.0, 0.0], [0.0, 1.0]]", "[[1.0, 0.0], [0.0]]", 1);
    let msg = Ecosystem::from_toml_str(&text, "eco.toml")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("input from `q`: `transfer[1]` must have length"),
        "{msg}"
    );
}

#[test]
fn load_picks_the_format_by_extension_and_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let toml_path = dir.path().join("eco.toml");
    std::fs::write(&toml_path, FULL).unwrap();
    let json_path = dir.path().join("eco.JSON");
    std::fs::write(&json_path, r#"{"models": [{"name": "p", "human": 1}]}"#).unwrap();
    assert_eq!(Ecosystem::load(&toml_path).unwrap().models.len(), 2);
    assert!((Ecosystem::load(&json_path).unwrap().models[0].human - 1.0).abs() < 1e-15);

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, FULL.replacen("curated = 0.4", "curated = 2", 1)).unwrap();
    let msg = Ecosystem::load(&bad).unwrap_err().to_string();
    assert!(
        msg.starts_with(&format!("{}: model `p`", bad.display())),
        "{msg}"
    );

    let txt = dir.path().join("eco.txt");
    assert!(matches!(
        Ecosystem::load(&txt),
        Err(DynamicsError::UnknownFormat { .. })
    ));
    let missing = dir.path().join("missing.toml");
    let err = Ecosystem::load(&missing).unwrap_err();
    assert!(matches!(err, DynamicsError::Io { .. }) && err.to_string().contains("missing.toml"));
}

#[test]
fn undeclared_sources_are_assumed_human_and_listed() {
    let text = "[[models]]\nname = \"p\"\nsamples_per_round = 100\nhuman = 0.5\n\
                inputs = [{ from = \"gpt4\", share = 0.5 }]\n";
    let eco = Ecosystem::from_toml_str(text, "eco.toml").unwrap();
    let analysis = analyze(&eco, &AnalyzeOptions::default()).unwrap();
    assert_eq!(
        analysis.assumptions,
        ["model `gpt4`: training mix unknown, taken as human data only (h = 1)"]
    );
    let gpt4 = &analysis.models[1];
    assert_eq!(
        (gpt4.name.as_str(), gpt4.declared, gpt4.anchored),
        ("gpt4", false, true)
    );
    assert_eq!(gpt4.stable_point, Some(vec![1.0]));
    // p: half its human origin comes through gpt4.
    assert!((analysis.models[0].cross_influence_share.unwrap() - 0.5).abs() < 1e-15);
}

#[test]
fn analysis_serializes_with_the_documented_names() {
    let eco = Ecosystem::from_toml_str(FULL, "eco.toml").unwrap();
    let analysis = analyze(
        &eco,
        &AnalyzeOptions {
            watched: vec!["q".into()],
        },
    )
    .unwrap();
    let json = serde_json::to_value(&analysis).unwrap();
    assert!(["stable", "unanchored", "divergent"].contains(&json["regime"].as_str().unwrap()));
    // p has no human data but draws only on q, which has some: everything p learns from
    // people reaches it through q.
    assert_eq!(json["regime"], "stable");
    assert_eq!(json["models"][0]["anchored"], true);
    assert_eq!(json["models"][0]["cross_influence_share"], 1.0);
    assert!(json["models"][0]["stable_point"].is_array());
    let effects = [
        "amplified",
        "dampened",
        "backfires",
        "hurts",
        "helps",
        "none",
    ];
    for entry in json["influence"].as_array().unwrap() {
        assert!(
            effects.contains(&entry["effect"].as_str().unwrap()),
            "{entry}"
        );
    }
}
