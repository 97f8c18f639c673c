//! The paper's Gaussian mechanism (DYNAMICS.md section 5) against the authors' own values.

use std::path::PathBuf;

use provguard_dynamics::{
    AnalyzeOptions, Ecosystem, Effect, Input, Model, Regime, Reward, analyze, sweep,
};
use serde_json::Value;

use crate::util::{assert_close, influence};

fn reference() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/gaussian_mechanism.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn vector(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn number(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

// A(t) = blockdiag(t * beta_i * R(angle_i)), R = [[cos, -sin], [sin, cos]], block i at 2i, 2i+1.
fn coupling(reference: &Value, t: f64) -> Vec<Vec<f64>> {
    let betas = vector(&reference["base_alphas"]);
    let angles = vector(&reference["angles_R_deg"]);
    let dim = 2 * betas.len();
    let mut a = vec![vec![0.0; dim]; dim];
    for (i, (beta, angle)) in betas.iter().zip(&angles).enumerate() {
        let (sin, cos) = angle.to_radians().sin_cos();
        let scale = t * beta;
        a[2 * i][2 * i] = scale * cos;
        a[2 * i][2 * i + 1] = -scale * sin;
        a[2 * i + 1][2 * i] = scale * sin;
        a[2 * i + 1][2 * i + 1] = scale * cos;
    }
    a
}

/// K = 2: p trains on q's outputs with a curated share `lambda` shifted by the constant `a`;
/// q trains on p's outputs through `A(t)`; nobody has human data.
fn mechanism(reference: &Value, t: f64, lambda: f64) -> Ecosystem {
    let dim = number(&reference["dim"]) as usize;
    assert_eq!(dim, 2 * number(&reference["n_blocks"]) as usize);
    let mut eco = Ecosystem::new(dim);

    let mut p = Model::new("p");
    p.reward = Reward {
        g: Some(vector(&reference["g_p"])),
        eta: number(&reference["eta_p"]),
    };
    let mut from_q = Input::new("q", 1.0);
    from_q.curated = lambda;
    from_q.shift = Some(vector(&reference["a"]));
    p.inputs.push(from_q);

    let mut q = Model::new("q");
    q.reward = Reward {
        g: Some(vector(&reference["g_q"])),
        eta: number(&reference["eta_q"]),
    };
    let mut from_p = Input::new("p", 1.0);
    from_p.transfer = Some(coupling(reference, t));
    q.inputs.push(from_p);

    eco.models = vec![p, q];
    eco
}

fn check_point(analysis: &provguard_dynamics::Analysis, point: &Value) {
    let label = format!("t = {}, lambda = {}", point["t"], point["lambda"]);
    let (p, q) = (&analysis.models[0], &analysis.models[1]);
    let theta = p.stable_point.as_ref().expect("stable point of p");
    let phi = q.stable_point.as_ref().expect("stable point of q");
    for (i, expected) in vector(&point["theta_star"]).into_iter().enumerate() {
        assert_close(theta[i], expected, &format!("{label}: theta*[{i}]"));
    }
    for (i, expected) in vector(&point["phi_star"]).into_iter().enumerate() {
        assert_close(phi[i], expected, &format!("{label}: phi*[{i}]"));
    }
    assert_close(
        p.reward.unwrap(),
        number(&point["J_p"]),
        &format!("{label}: J_p"),
    );
    assert_close(
        q.reward.unwrap(),
        number(&point["J_q"]),
        &format!("{label}: J_q"),
    );
    let on_p = influence(analysis, "p", "q", "p").total.unwrap();
    let on_q = influence(analysis, "p", "q", "q").total.unwrap();
    assert_close(
        on_p,
        number(&point["dJp_dlambda"]),
        &format!("{label}: dJp/dlambda"),
    );
    assert_close(
        on_q,
        number(&point["dJq_dlambda"]),
        &format!("{label}: dJq/dlambda"),
    );
}

#[test]
fn gaussian_mechanism_reproduces_the_reference_values() {
    let reference = reference();
    let points = reference["points"].as_array().unwrap();
    assert!(!points.is_empty());
    for point in points {
        let eco = mechanism(&reference, number(&point["t"]), number(&point["lambda"]));
        let analysis = analyze(&eco, &AnalyzeOptions::default()).unwrap();
        check_point(&analysis, point);

        // No human data: both models unanchored, lineage quantities undefined.
        assert_eq!(analysis.regime, Regime::Unanchored);
        assert!(analysis.spectral_radius < 1.0);
        for model in &analysis.models {
            assert!(!model.anchored);
            assert_eq!(model.cross_influence_share, None);
            assert_eq!(model.synthetic_depth, None);
            assert_eq!(model.diversity_retention, None);
        }
    }
}

#[test]
fn coupling_scale_sweep_reproduces_the_reference_values() {
    // The transfer matrix is A(1) and `transfer_scale` supplies t.
    let reference = reference();
    let points = reference["points"].as_array().unwrap();
    for point in points {
        let eco = mechanism(&reference, 1.0, number(&point["lambda"]));
        let t = number(&point["t"]);
        let param = "models.q.inputs.p.transfer_scale";
        let result = sweep(&eco, param, &[t], &AnalyzeOptions::default()).unwrap();
        check_point(&result[0].1, point);
    }
}

#[test]
fn strong_coupling_makes_curation_backfire_on_p() {
    // At t = 0.5, lambda = 0.8 curating p helps p in isolation but hurts it through the loop.
    let reference = reference();
    let eco = mechanism(&reference, 0.5, 0.8);
    let analysis = analyze(&eco, &AnalyzeOptions::default()).unwrap();
    let on_p = influence(&analysis, "p", "q", "p");
    assert!(on_p.isolated.unwrap() > 0.0);
    assert!(on_p.total.unwrap() < 0.0);
    assert_eq!(on_p.effect, Some(Effect::Backfires));
}

#[test]
fn spectral_radius_of_the_mechanism_is_the_square_root_of_that_of_a() {
    // Eigenvalues of [[0, I], [A, 0]] are the square roots of those of A, |.| = sqrt(t beta_i).
    let reference = reference();
    let beta_max = vector(&reference["base_alphas"])
        .into_iter()
        .fold(0.0, f64::max);
    for t in [0.05, 0.5, 1.0, 1.2] {
        let analysis = analyze(&mechanism(&reference, t, 0.4), &AnalyzeOptions::default()).unwrap();
        assert!((analysis.spectral_radius - (t * beta_max).sqrt()).abs() < 1e-10);
        if t * beta_max >= 1.0 {
            assert_eq!(analysis.regime, Regime::Divergent);
            assert!(
                analysis
                    .models
                    .iter()
                    .all(|m| m.stable_point.is_none() && m.reward.is_none())
            );
            assert!(
                analysis
                    .influence
                    .iter()
                    .all(|i| i.total.is_none() && i.effect.is_none())
            );
        }
    }
}
