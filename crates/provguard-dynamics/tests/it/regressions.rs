//! Regression tests, each named after what broke and the input that broke it.

use std::path::PathBuf;

use provguard_dynamics::{AnalyzeOptions, Ecosystem, Effect, Input, Model, Regime, analyze, sweep};

use crate::util::influence;

fn paper_mechanism() -> Ecosystem {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/ecosystems/paper_mechanism.toml");
    Ecosystem::load(&path).unwrap()
}

#[test]
fn identity_transfers_at_dim_24_have_a_spectral_radius() {
    // Broke: dim = 24, p takes half of its data from q through the default identity transfer,
    // q is human-trained and has no inputs; nalgebra's Schur iteration did not converge on the
    // 48 x 48 M made of scaled identity blocks.
    let mut eco = Ecosystem::new(24);
    let mut p = Model::new("p");
    p.human = 0.5;
    p.inputs.push(Input::new("q", 0.5));
    let mut q = Model::new("q");
    q.human = 0.5;
    eco.models = vec![p, q];
    let analysis = analyze(&eco, &AnalyzeOptions::default()).unwrap();
    assert!(
        analysis.spectral_radius < 1e-6,
        "{}",
        analysis.spectral_radius
    );
    assert_eq!(analysis.models[1].stable_point, Some(vec![0.5; 24]));
}

#[test]
fn scan_built_ecosystem_of_five_models_at_dim_24_has_a_spectral_radius() {
    // Broke: the 120 x 120 M of five models at dim = 24 with identity transfers, as
    // `provguard scan --ecosystem` builds it. Each model keeps half human data, a quarter of
    // its own outputs and a quarter of the next model's, so M = (I + C) / 4 (x) I_24 with C a
    // cyclic shift: r(M) = 1/2, and every model settles at mu_H.
    let mut eco = Ecosystem::new(24);
    for k in 0..5 {
        let mut model = Model::new(format!("m{k}"));
        model.human = 0.5;
        model.inputs.push(Input::new(format!("m{k}"), 0.25));
        model
            .inputs
            .push(Input::new(format!("m{}", (k + 1) % 5), 0.25));
        eco.models.push(model);
    }
    let analysis = analyze(&eco, &AnalyzeOptions::default()).unwrap();
    assert!(
        (analysis.spectral_radius - 0.5).abs() < 1e-12,
        "{}",
        analysis.spectral_radius
    );
    assert!((analysis.lineage_spectral_radius - 0.5).abs() < 1e-12);
    assert_eq!(analysis.regime, Regime::Stable);
    for model in &analysis.models {
        let theta = model.stable_point.as_ref().unwrap();
        assert!(
            theta.iter().all(|x| (x - 1.0).abs() < 1e-12),
            "{}",
            model.name
        );
    }
}

#[test]
fn paper_mechanism_with_a_home_model_has_the_mechanism_spectral_radius() {
    // Broke: the two-model mechanism plus a home model taking half of q's outputs (72 x 72 M).
    // The home model adds a zero eigenvalue and nothing else.
    let alone = analyze(&paper_mechanism(), &AnalyzeOptions::default()).unwrap();
    let mut eco = paper_mechanism();
    let mut home = Model::new("home");
    home.human = 0.5;
    home.inputs.push(Input::new("q", 0.5));
    eco.models.push(home);
    let analysis = analyze(&eco, &AnalyzeOptions::default()).unwrap();
    assert!((analysis.spectral_radius - alone.spectral_radius).abs() < 1e-12);
    assert_eq!(
        analysis.models[0].stable_point,
        alone.models[0].stable_point
    );
}

#[test]
fn human_plus_shares_over_one_is_rejected() {
    // Broke: `human = 0.6` with one input at `share = 0.6` was accepted, stable point 1.2.
    let mut eco = Ecosystem::new(1);
    let mut p = Model::new("p");
    p.human = 0.6;
    p.inputs.push(Input::new("q", 0.6));
    eco.models.push(p);
    let msg = analyze(&eco, &AnalyzeOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("model `p`") && msg.contains("`human`") && msg.contains("`inputs[].share`"),
        "{msg}"
    );
    assert!(msg.contains("`1.2`"), "{msg}");

    // Within the tolerance it is accepted.
    eco.models[0].inputs[0].share = 0.4 + 0.5e-9;
    analyze(&eco, &AnalyzeOptions::default()).unwrap();
}

#[test]
fn sweep_stops_at_the_first_invalid_value_and_names_it() {
    // Broke: `models.p.human=0:1:3` on the paper mechanism, where p's share from q is 1,
    // analysed h_p = 0.5 and 1 as if p had 150% and 200% of its data.
    let eco = paper_mechanism();
    let err = sweep(
        &eco,
        "models.p.human",
        &[0.0, 0.5, 1.0],
        &AnalyzeOptions::default(),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("`models.p.human`") && msg.contains("`0.5`"),
        "{msg}"
    );
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert!(
        cause.contains("model `p`") && cause.contains("`human`"),
        "{cause}"
    );
}

#[test]
fn curation_at_the_reward_optimum_has_no_influence() {
    // Broke: h = 0.5 with a self input at share 0.5 and the default shift settles at mu_H, the
    // reward optimum, so the shift and the gradient vanish; a total of 9.39e-33 made of
    // vanishing terms was labelled `amplified`.
    for mu in [1.0, 0.3, -0.7, 1e-3, 2.5, 0.1, 1.0 / 3.0, 7.0] {
        for curated in [0.0, 0.3, 0.9] {
            let mut eco = Ecosystem::new(1);
            eco.human_target = vec![mu];
            let mut p = Model::new("p");
            p.human = 0.5;
            let mut input = Input::new("p", 0.5);
            input.curated = curated;
            p.inputs.push(input);
            eco.models.push(p);
            let analysis = analyze(&eco, &AnalyzeOptions::default()).unwrap();
            let theta = analysis.models[0].stable_point.as_ref().unwrap()[0];
            assert!((theta - mu).abs() <= 1e-15 * mu.abs(), "mu = {mu}: {theta}");
            let effect = influence(&analysis, "p", "p", "p");
            let total = effect.total.unwrap();
            assert!(
                total.abs() < 1e-24 * mu.abs().max(1.0),
                "mu = {mu}: {total:e}"
            );
            assert_eq!(
                effect.effect,
                Some(Effect::None),
                "mu = {mu}, c = {curated}"
            );
        }
    }
}
