//! Properties on seeded random ecosystems, each checked against an independent computation
//! (iterating the round map or the lineage recursions directly from the ecosystem's fields).

use provguard_dynamics::{
    Analysis, AnalyzeOptions, Ecosystem, Input, Model, Regime, Reward, analyze,
};

use crate::util::{Rng, influence};

const SEED: u64 = 0x00C0_11A9_5E00;

fn random_vector(rng: &mut Rng, d: usize, scale: f64) -> Vec<f64> {
    (0..d).map(|_| rng.range(-scale, scale)).collect()
}

/// A random ecosystem whose rows are full (`h + sum w = 1`), with a mix of default and constant
/// shifts, transfers, rewards and sample sizes; sometimes with an undeclared source.
fn random_ecosystem(rng: &mut Rng) -> Ecosystem {
    let k_total = 2 + rng.below(4);
    let d = 1 + rng.below(3);
    let mut eco = Ecosystem::new(d);
    eco.human_target = random_vector(rng, d, 2.0);
    let names: Vec<String> = (0..k_total).map(|k| format!("m{k}")).collect();

    for name in &names {
        let mut model = Model::new(name.clone());
        model.human = if rng.unit() < 0.35 {
            0.0
        } else {
            rng.range(0.05, 0.6)
        };
        model.curation_strength = rng.range(0.1, 1.0);
        model.samples_per_round = (rng.unit() < 0.5).then(|| rng.range(2.0, 1000.0));
        model.reward = Reward {
            g: (rng.unit() < 0.5).then(|| random_vector(rng, d, 1.5)),
            eta: if rng.unit() < 0.2 {
                0.0
            } else {
                rng.range(0.1, 2.0)
            },
        };

        // Sources: a random subset of the models, sometimes an undeclared one.
        let mut sources: Vec<String> = names.iter().filter(|_| rng.unit() < 0.6).cloned().collect();
        if rng.unit() < 0.2 {
            sources.push("outside".into());
        }
        if sources.is_empty() {
            model.human = 1.0;
        }
        let weights: Vec<f64> = sources.iter().map(|_| rng.range(0.1, 1.0)).collect();
        let total: f64 = weights.iter().sum();
        for (from, weight) in sources.into_iter().zip(weights) {
            let mut input = Input::new(from, (1.0 - model.human) * weight / total);
            input.curated = rng.range(0.02, 0.98);
            if rng.unit() < 0.4 {
                input.shift = Some(random_vector(rng, d, 1.0));
            }
            if rng.unit() < 0.6 {
                let spread = 1.2 / d as f64;
                input.transfer = Some((0..d).map(|_| random_vector(rng, d, spread)).collect());
            }
            model.inputs.push(input);
        }
        eco.models.push(model);
    }
    eco
}

/// All model names in analysis order (declared, then undeclared sources).
fn state_names(analysis: &Analysis) -> Vec<String> {
    analysis.models.iter().map(|m| m.name.clone()).collect()
}

/// Model `name` as the analysis treats it: declared, or human-only when undeclared.
fn model_or_assumed(eco: &Ecosystem, name: &str) -> Model {
    eco.model(name).cloned().unwrap_or_else(|| {
        let mut m = Model::new(name);
        m.human = 1.0;
        m
    })
}

fn matvec(t: Option<&Vec<Vec<f64>>>, x: &[f64]) -> Vec<f64> {
    match t {
        None => x.to_vec(),
        Some(t) => t
            .iter()
            .map(|row| row.iter().zip(x).map(|(a, b)| a * b).sum())
            .collect(),
    }
}

/// One retraining round, straight from the model definition:
/// `theta_k <- h_k mu_H + sum_j w_kj [T_kj theta_j + c_kj a_kj(theta_j)]`.
fn round(eco: &Ecosystem, names: &[String], theta: &[Vec<f64>]) -> Vec<Vec<f64>> {
    names
        .iter()
        .map(|name| {
            let model = model_or_assumed(eco, name);
            let g = model
                .reward
                .g
                .clone()
                .unwrap_or_else(|| eco.human_target.clone());
            let mut next: Vec<f64> = eco.human_target.iter().map(|x| model.human * x).collect();
            for input in &model.inputs {
                let j = names.iter().position(|n| *n == input.from).unwrap();
                let moved = matvec(input.transfer.as_ref(), &theta[j]);
                let shift: Vec<f64> = match (&input.shift, model.reward.eta > 0.0) {
                    (Some(a), _) => a.clone(),
                    (None, true) => g
                        .iter()
                        .zip(&moved)
                        .map(|(g, t)| model.curation_strength * (g / model.reward.eta - t))
                        .collect(),
                    (None, false) => g.iter().map(|g| model.curation_strength * g).collect(),
                };
                for i in 0..eco.dim {
                    next[i] += input.share * (moved[i] + input.curated * shift[i]);
                }
            }
            next
        })
        .collect()
}

fn iterate_to_fixed_point(eco: &Ecosystem, names: &[String]) -> Vec<Vec<f64>> {
    let mut theta = vec![vec![0.0; eco.dim]; names.len()];
    for _ in 0..200_000 {
        let next = round(eco, names, &theta);
        let change = next
            .iter()
            .flatten()
            .zip(theta.iter().flatten())
            .map(|(a, b)| (a - b).abs());
        let change = change.fold(0.0, f64::max);
        theta = next;
        if change < 1e-15 {
            break;
        }
    }
    theta
}

fn reward_of(eco: &Ecosystem, name: &str, theta: &[f64]) -> f64 {
    let model = model_or_assumed(eco, name);
    let g = model
        .reward
        .g
        .clone()
        .unwrap_or_else(|| eco.human_target.clone());
    let dot: f64 = g.iter().zip(theta).map(|(a, b)| a * b).sum();
    dot - 0.5 * model.reward.eta * theta.iter().map(|x| x * x).sum::<f64>()
}

#[test]
fn iterating_the_round_map_converges_to_the_stable_point() {
    let mut rng = Rng::new(SEED);
    let mut checked = 0;
    for _ in 0..300 {
        let eco = random_ecosystem(&mut rng);
        let analysis = analyze(&eco, &AnalyzeOptions::default()).unwrap();
        if analysis.spectral_radius >= 0.9 {
            continue;
        }
        checked += 1;
        let names = state_names(&analysis);
        let iterated = iterate_to_fixed_point(&eco, &names);
        for (model, expected) in analysis.models.iter().zip(&iterated) {
            let got = model.stable_point.as_ref().unwrap();
            for (x, y) in got.iter().zip(expected) {
                assert!(
                    (x - y).abs() <= 1e-10 * (1.0 + y.abs()),
                    "{}: {x} vs {y}",
                    model.name
                );
            }
            let reward = reward_of(&eco, &model.name, expected);
            assert!((model.reward.unwrap() - reward).abs() <= 1e-9 * (1.0 + reward.abs()));
        }
    }
    assert!(checked >= 100, "only {checked} stable ecosystems");
}

#[test]
fn divergent_ecosystems_iterate_away() {
    // r(M) >= 1 must be reported exactly when iterating does not settle.
    let mut rng = Rng::new(SEED ^ 1);
    let mut divergent = 0;
    for _ in 0..300 {
        let mut eco = random_ecosystem(&mut rng);
        for model in &mut eco.models {
            for input in &mut model.inputs {
                if let Some(t) = &mut input.transfer {
                    t.iter_mut().flatten().for_each(|x| *x *= 3.0);
                }
            }
        }
        let analysis = analyze(&eco, &AnalyzeOptions::default()).unwrap();
        let r = analysis.spectral_radius;
        if (0.97..1.03).contains(&r) {
            continue;
        }
        // After n rounds the distance from the start grows like r^n.
        let names = state_names(&analysis);
        let mut theta: Vec<Vec<f64>> = names
            .iter()
            .map(|_| random_vector(&mut rng, eco.dim, 1.0))
            .collect();
        let mut previous = theta.clone();
        for _ in 0..1500 {
            previous = theta;
            theta = round(&eco, &names, &previous);
        }
        let step = theta.iter().flatten().zip(previous.iter().flatten());
        let step = step.map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        let blew_up = theta.iter().flatten().any(|x| !x.is_finite());
        if r >= 1.0 {
            divergent += 1;
            assert_eq!(analysis.regime, Regime::Divergent);
            assert!(analysis.models.iter().all(|m| m.stable_point.is_none()));
            assert!(
                analysis
                    .influence
                    .iter()
                    .all(|i| i.total.is_none() && i.effect.is_none())
            );
            assert!(blew_up || step > 1e-6, "r = {r}, step {step}");
        } else {
            assert_ne!(analysis.regime, Regime::Divergent);
            assert!(!blew_up && step < 1e-9, "r = {r}, step {step}");
        }
    }
    assert!(divergent >= 20, "only {divergent} divergent ecosystems");
}

#[test]
fn analytic_influences_match_central_finite_differences() {
    let mut rng = Rng::new(SEED ^ 2);
    let h = 1e-6;
    let mut checked = 0;
    for _ in 0..120 {
        let eco = random_ecosystem(&mut rng);
        let opts = AnalyzeOptions::default();
        let analysis = analyze(&eco, &opts).unwrap();
        if analysis.spectral_radius >= 0.9 {
            continue;
        }
        let names = state_names(&analysis);
        let theta: Vec<Vec<f64>> = analysis
            .models
            .iter()
            .map(|m| m.stable_point.clone().unwrap())
            .collect();

        for (k, model) in eco.models.iter().enumerate() {
            for (q, input) in model.inputs.iter().enumerate() {
                let mut plus = eco.clone();
                plus.models[k].inputs[q].curated += h;
                let mut minus = eco.clone();
                minus.models[k].inputs[q].curated -= h;
                let a_plus = analyze(&plus, &opts).unwrap();
                let a_minus = analyze(&minus, &opts).unwrap();

                for (m, name) in names.iter().enumerate() {
                    let fd = (a_plus.models[m].reward.unwrap() - a_minus.models[m].reward.unwrap())
                        / (2.0 * h);
                    let entry = analysis
                        .influence
                        .iter()
                        .find(|i| i.model == model.name && i.from == input.from && i.on == *name);
                    match entry {
                        Some(entry) => {
                            let total = entry.total.unwrap();
                            let tol = 1e-6 * (1.0 + total.abs());
                            assert!((fd - total).abs() <= tol, "{name}: fd {fd} vs {total}");
                            checked += 1;
                        }
                        // A model left out of the influences must not be affected at all.
                        None => assert!(fd.abs() <= 1e-8, "{name} not listed but fd = {fd}"),
                    }
                }

                // Isolated: one round from the stable point with c moved, feedback removed.
                let on_self = influence(&analysis, &model.name, &input.from, &model.name);
                let step = |eco: &Ecosystem| round(eco, &names, &theta)[k].clone();
                let fd = (reward_of(&eco, &model.name, &step(&plus))
                    - reward_of(&eco, &model.name, &step(&minus)))
                    / (2.0 * h);
                let isolated = on_self.isolated.unwrap();
                assert!((fd - isolated).abs() <= 1e-6 * (1.0 + isolated.abs()));
            }
        }
    }
    assert!(checked >= 200, "only {checked} derivatives checked");
}

/// The lineage of every model in analysis order: `h`, `q` and the sources `(j, w_kj)`.
struct Flat {
    h: Vec<f64>,
    q: Vec<f64>,
    sources: Vec<Vec<(usize, f64)>>,
}

impl Flat {
    fn new(eco: &Ecosystem, names: &[String]) -> Self {
        let models: Vec<Model> = names.iter().map(|n| model_or_assumed(eco, n)).collect();
        let position = |from: &str| names.iter().position(|n| n == from).unwrap();
        Self {
            h: models.iter().map(|m| m.human).collect(),
            q: models
                .iter()
                .map(|m| m.samples_per_round.map_or(1.0, |n| (n - 1.0) / n))
                .collect(),
            sources: models
                .iter()
                .map(|m| {
                    m.inputs
                        .iter()
                        .map(|i| (position(&i.from), i.share))
                        .collect()
                })
                .collect(),
        }
    }

    /// Iterates `x_k <- scale_k * (base_k + sum_j w_kj x_j)` from 0.
    fn iterate(&self, base: &[f64], scale: &[f64]) -> Vec<f64> {
        let mut x = vec![0.0; self.h.len()];
        for _ in 0..20_000 {
            x = (0..x.len())
                .map(|k| {
                    let mixed: f64 = self.sources[k].iter().map(|&(j, w)| w * x[j]).sum();
                    scale[k] * (base[k] + mixed)
                })
                .collect();
        }
        x
    }

    /// Absorption probability into people: `p <- h + W p`.
    fn absorption(&self) -> Vec<f64> {
        self.iterate(&self.h, &vec![1.0; self.h.len()])
    }

    /// Expected generations since a person: `x <- sum_j w_kj (1 + x_j)`.
    fn depth(&self) -> Vec<f64> {
        let synthetic: Vec<f64> = self
            .sources
            .iter()
            .map(|s| s.iter().map(|&(_, w)| w).sum())
            .collect();
        self.iterate(&synthetic, &vec![1.0; self.h.len()])
    }

    /// Variance ratio: `v <- q (h + W v)`.
    fn diversity(&self) -> Vec<f64> {
        self.iterate(&self.h, &self.q)
    }
}

#[test]
fn lineage_quantities_match_the_recursions_and_vanish_when_unanchored() {
    let mut rng = Rng::new(SEED ^ 3);
    let (mut anchored_seen, mut unanchored_seen) = (0, 0);
    for _ in 0..200 {
        let eco = random_ecosystem(&mut rng);
        let analysis = analyze(&eco, &AnalyzeOptions::default()).unwrap();
        let names = state_names(&analysis);
        let flat = Flat::new(&eco, &names);
        let (absorbed, depth, diversity) = (flat.absorption(), flat.depth(), flat.diversity());

        for (k, model) in analysis.models.iter().enumerate() {
            let anchored = absorbed[k] > 1.0 - 1e-9;
            assert_eq!(
                model.anchored, anchored,
                "{}: absorbed {}",
                model.name, absorbed[k]
            );
            if !anchored {
                unanchored_seen += 1;
                assert_eq!(model.cross_influence_share, None);
                assert_eq!(model.synthetic_depth, None);
                assert_eq!(model.diversity_retention, None);
                assert_eq!(model.human_origin, None);
                continue;
            }
            anchored_seen += 1;

            // sum_m N_km h_m = 1, and X_k = 1 - N_kk h_k.
            let origin = model.human_origin.as_ref().unwrap();
            let total: f64 = origin.iter().map(|o| o.share).sum();
            assert!(
                (total - 1.0).abs() < 1e-9,
                "{}: shares sum to {total}",
                model.name
            );
            let own = origin
                .iter()
                .find(|o| o.via == model.name)
                .map_or(0.0, |o| o.share);
            let x = model.cross_influence_share.unwrap();
            assert!((x - (1.0 - own).clamp(0.0, 1.0)).abs() < 1e-12);
            assert!((0.0..=1.0).contains(&x));

            let d = model.synthetic_depth.unwrap();
            assert!(
                (d - depth[k]).abs() < 1e-7 * (1.0 + d),
                "{}: {d} vs {}",
                model.name,
                depth[k]
            );
            let v = model.diversity_retention.unwrap();
            assert!(
                (v - diversity[k]).abs() < 1e-9,
                "{}: {v} vs {}",
                model.name,
                diversity[k]
            );
        }

        // The regime follows the watched models.
        if analysis.regime != Regime::Divergent {
            let all_anchored = analysis.models.iter().all(|m| m.anchored);
            let expected = if all_anchored {
                Regime::Stable
            } else {
                Regime::Unanchored
            };
            assert_eq!(analysis.regime, expected);
            if let Some(good) = analysis.models.iter().find(|m| m.anchored) {
                let opts = AnalyzeOptions {
                    watched: vec![good.name.clone()],
                };
                assert_eq!(analyze(&eco, &opts).unwrap().regime, Regime::Stable);
            }
        }
    }
    assert!(
        anchored_seen >= 100 && unanchored_seen >= 30,
        "{anchored_seen} {unanchored_seen}"
    );
}

/// A scaled 2 x 2 rotation `r R(angle)`.
fn rotation(r: f64, angle: f64) -> Vec<Vec<f64>> {
    let (s, c) = angle.sin_cos();
    vec![vec![r * c, -r * s], vec![r * s, r * c]]
}

#[test]
fn spectral_radius_of_rotation_cycles_is_the_geometric_mean_of_their_scales() {
    // Models m0 -> m1 -> ... -> m0 each copying the next through r_i R(angle_i) with constant
    // shifts: M^K is block diagonal with blocks of modulus prod r_i, so r(M) = (prod r_i)^(1/K).
    // Such cyclic, rotation-valued matrices are where the plain QR iteration stalls.
    let mut rng = Rng::new(SEED ^ 4);
    for _ in 0..60 {
        let k_total = 2 + rng.below(5);
        let mut eco = Ecosystem::new(2);
        let mut product = 1.0;
        for k in 0..k_total {
            let r = rng.range(0.2, 1.5);
            product *= r;
            let mut model = Model::new(format!("m{k}"));
            let mut input = Input::new(format!("m{}", (k + 1) % k_total), 1.0);
            input.transfer = Some(rotation(r, rng.range(-3.0, 3.0)));
            input.shift = Some(vec![1.0, 0.0]);
            input.curated = 0.5;
            model.inputs.push(input);
            eco.models.push(model);
        }
        let analysis = analyze(&eco, &AnalyzeOptions::default()).unwrap();
        let expected = product.powf(1.0 / k_total as f64);
        assert!(
            (analysis.spectral_radius - expected).abs() < 1e-9 * expected,
            "K = {k_total}: {} vs {expected}",
            analysis.spectral_radius
        );
        assert!((analysis.lineage_spectral_radius - 1.0).abs() < 1e-9);
        assert_eq!(analysis.regime == Regime::Divergent, expected >= 1.0);
    }
}
