//! `provguard simulate`, and the ecosystem a scan is judged in: files and recorded scans.

use serde_json::{Value, json};

use crate::support::{
    data, gpt4_and_experts, num, permissive_policy, provguard, read_jsonl, scan_json, write_jsonl,
};

fn repo(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn reference() -> Value {
    let path = crate::support::shared().join("reference/gaussian_mechanism.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn close(found: f64, expected: f64) -> bool {
    (found - expected).abs() <= 1e-9 * expected.abs().max(1e-3)
}

fn influence(analysis: &Value, on: &str) -> f64 {
    let entry = analysis["influence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["model"] == "p" && i["from"] == "q" && i["on"] == on)
        .unwrap();
    num(&entry["total"])
}

fn reward(analysis: &Value, model: &str) -> f64 {
    let m = analysis["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == model)
        .unwrap();
    num(&m["reward"])
}

#[test]
fn simulate_reproduces_the_papers_mechanism_from_an_ecosystem_file() {
    // The example file is the mechanism at t = 0.5 (its transfer is A(0.5)) and lambda = 0.8.
    let file = repo("examples/ecosystems/paper_mechanism.toml");
    let out = provguard(std::path::Path::new("unused"))
        .args(["simulate", "--format", "json", "--ecosystem"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let analysis: Value = serde_json::from_slice(&out.stdout).unwrap();
    let point = reference()["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["t"] == json!(0.5) && p["lambda"] == json!(0.8))
        .unwrap()
        .clone();
    assert!(close(reward(&analysis, "p"), num(&point["J_p"])));
    assert!(close(reward(&analysis, "q"), num(&point["J_q"])));
    assert!(close(influence(&analysis, "p"), num(&point["dJp_dlambda"])));
    assert!(close(influence(&analysis, "q"), num(&point["dJq_dlambda"])));
    let self_effect = analysis["influence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["model"] == "p" && i["on"] == "p")
        .unwrap()["effect"]
        .clone();
    assert_eq!(self_effect, json!("backfires"));
    assert_eq!(analysis["regime"], json!("unanchored"));
}

#[test]
fn a_sweep_of_the_coupling_scale_follows_the_reference_curve() {
    // transfer_scale multiplies A(0.5), so the scale s gives the coupling t = 0.5 s.
    let file = repo("examples/ecosystems/paper_mechanism.toml");
    let out = provguard(std::path::Path::new("unused"))
        .args([
            "simulate",
            "--format",
            "json",
            "--sweep",
            "models.q.inputs.p.transfer_scale=0.1:2:39",
            "--ecosystem",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    let points = body["points"].as_array().unwrap();
    assert_eq!(points.len(), 39);
    let mut compared = 0;
    for reference in reference()["points"].as_array().unwrap() {
        if reference["lambda"] != json!(0.8) {
            continue;
        }
        let t = num(&reference["t"]);
        let Some(point) = points
            .iter()
            .find(|p| (num(&p["value"]) * 0.5 - t).abs() < 1e-12)
        else {
            continue;
        };
        assert!(
            close(reward(&point["analysis"], "p"), num(&reference["J_p"])),
            "t = {t}"
        );
        assert!(
            close(
                influence(&point["analysis"], "p"),
                num(&reference["dJp_dlambda"])
            ),
            "t = {t}"
        );
        compared += 1;
    }
    assert!(
        compared >= 2,
        "the sweep must meet reference points, met {compared}"
    );
}

/// A ledger with gpt4 and the experts, a batch of unknown text for gpt4's own training and a
/// batch of gpt4 answers and expert answers for `mine`.
fn ecosystem_setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, ledger) = gpt4_and_experts();
    let experts = data("human/self_instruct_user_oriented.jsonl");

    let mixtral = read_jsonl(&data("models/Mixtral-8x7B-Instruct-v0.1.jsonl"));
    let unknown: Vec<Value> = mixtral[..20]
        .iter()
        .map(|r| json!({"text": r["output"]}))
        .collect();
    write_jsonl(&dir.path().join("gpt4-train.jsonl"), &unknown);

    let gpt4 = read_jsonl(&data("models/gpt4.jsonl"));
    let people = read_jsonl(&experts);
    let mut mine: Vec<Value> = gpt4[..30]
        .iter()
        .map(|r| json!({"text": r["output"]}))
        .collect();
    mine.extend(
        people[..30]
            .iter()
            .map(|r| json!({"text": r["instances"][0]["output"]})),
    );
    write_jsonl(&dir.path().join("mine.jsonl"), &mine);
    (dir, ledger)
}

fn scan_as(ledger: &std::path::Path, file: &std::path::Path, home: &str, extra: &[&str]) -> Value {
    let policy = permissive_policy(file.parent().unwrap());
    let out = provguard(ledger)
        .arg("scan")
        .arg(file)
        .args([
            "--home",
            home,
            "--format",
            "json",
            "--policy",
            policy.to_str().unwrap(),
        ])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_recorded_scan_of_a_feeding_model_is_seen_by_the_next_scan() {
    let (dir, ledger) = ecosystem_setup();
    let mine = dir.path().join("mine.jsonl");

    // Before gpt4's training data is known, gpt4 is taken as human-trained.
    let before = scan_as(&ledger, &mine, "mine", &[]);
    assert_eq!(before["dynamics"]["anchored"], json!(true));
    assert!(
        before["dynamics"]["assumptions"]
            .to_string()
            .contains("gpt4")
    );

    // gpt4's own training batch is all unknown text: recorded, it makes gpt4 unanchored.
    let gpt4_train = dir.path().join("gpt4-train.jsonl");
    scan_as(&ledger, &gpt4_train, "gpt4", &["--record"]);
    let manifest = std::fs::read(ledger.join("manifest.json")).unwrap();
    scan_as(&ledger, &gpt4_train, "gpt4", &["--record"]);
    assert_eq!(
        std::fs::read(ledger.join("manifest.json")).unwrap(),
        manifest,
        "recorded twice"
    );

    let after = scan_as(&ledger, &mine, "mine", &[]);
    assert_eq!(after["dynamics"]["anchored"], json!(false));
    assert_eq!(after["dynamics"]["cross_influence_share"], json!(null));
    // gpt4 trains on nothing but itself: its round map has spectral radius 1.
    assert_eq!(after["dynamics"]["regime"], json!("divergent"));
    let gpt4 = after["dynamics"]["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "gpt4")
        .unwrap()
        .clone();
    assert_eq!(gpt4["anchored"], json!(false));
}

#[test]
fn an_ecosystem_file_describes_the_models_the_scan_does_not_measure() {
    let (dir, ledger) = ecosystem_setup();
    let mine = dir.path().join("mine.jsonl");
    let file = dir.path().join("eco.toml");
    std::fs::write(
        &file,
        "[[models]]\nname = \"gpt4\"\nhuman = 0.5\n[[models.inputs]]\nfrom = \"gpt4\"\nshare = 0.5\n",
    )
    .unwrap();
    let report = scan_as(
        &ledger,
        &mine,
        "mine",
        &["--ecosystem", file.to_str().unwrap()],
    );
    let d = &report["dynamics"];
    // mine: h = 0.5 (experts), w_gpt4 = 0.5; gpt4: h = 0.5, w_self = 0.5, so N_mine,gpt4 =
    // 0.5 / (1 - 0.5) = 1 and the human data reaching mine through gpt4 is 1 * 0.5.
    let h = num(&d["human_share"]);
    let w = d["model_shares"]["gpt4"].as_f64().unwrap();
    let through_gpt4 = w / (1.0 - 0.5) * 0.5;
    assert!((num(&d["cross_influence_share"]) - through_gpt4).abs() < 1e-9);
    assert!(
        (h + through_gpt4 - 1.0).abs() < 1e-9,
        "the shares of human origin add up to one"
    );
    assert!(
        !d["assumptions"]
            .to_string()
            .contains("`gpt4`: training mix unknown")
    );

    // An invalid file is an error naming the model and the field.
    std::fs::write(&file, "[[models]]\nname = \"gpt4\"\nhuman = 1.5\n").unwrap();
    let out = provguard(&ledger)
        .arg("scan")
        .arg(&mine)
        .args(["--home", "mine", "--ecosystem", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("gpt4") && stderr.contains("human"),
        "{stderr}"
    );
}

#[test]
fn a_batch_is_judged_by_the_change_it_causes_against_recorded_scans() {
    let (dir, ledger) = ecosystem_setup();
    let experts = read_jsonl(&data("human/self_instruct_user_oriented.jsonl"));
    let human_batch = dir.path().join("human.jsonl");
    let records: Vec<Value> = experts[100..140]
        .iter()
        .map(|r| json!({"text": r["instances"][0]["output"]}))
        .collect();
    write_jsonl(&human_batch, &records);
    let recorded = scan_as(&ledger, &human_batch, "mine", &["--record"]);
    let w_recorded = recorded["measured"]["models"]["gpt4"]
        .as_f64()
        .unwrap_or(0.0);

    let mine = dir.path().join("mine.jsonl");
    let (_, batch_only, _) = scan_json(&ledger, &[&mine], &["--policy", &write_policy(dir.path())]);
    let w_batch = num(&batch_only["measured"]["models"]["gpt4"]);
    assert!(
        batch_only["dynamics"]["what_if"].is_null()
            || batch_only["dynamics"]["what_if"].is_object()
    );
    // No unknown records and gpt4 taken as human-trained: X = w_gpt4 (N_kk = 1).
    assert!((num(&batch_only["dynamics"]["cross_influence_share"]) - w_batch).abs() < 1e-9);

    let report = scan_as(&ledger, &mine, "mine", &[]);
    let what_if = &report["dynamics"]["what_if"];
    assert!((num(&what_if["before"]["cross_influence_share"]) - w_recorded).abs() < 1e-9);
    // Cumulative: the recorded 40 records and this batch's 60, weighted by count.
    let cumulative = (40.0 * w_recorded + 60.0 * w_batch) / 100.0;
    let after = num(&what_if["after"]["cross_influence_share"]);
    assert!((after - cumulative).abs() < 1e-9, "{after} != {cumulative}");
    let change = num(&what_if["change"]["cross_influence_share"]);
    assert!((change - (cumulative - w_recorded)).abs() < 1e-9);
    assert!(
        change > 0.2,
        "a batch half of gpt4 answers raises X: {change}"
    );
}

fn write_policy(dir: &std::path::Path) -> String {
    let path = dir.join("batch.toml");
    std::fs::write(&path, "[gate]\nwhat_if = \"batch\"\n").unwrap();
    path.display().to_string()
}
