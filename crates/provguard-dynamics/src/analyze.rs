//! The analysis: stability, stable point, rewards, lineage and curation influences.

use nalgebra::{DMatrix, DVector};
use serde::Serialize;

use crate::linalg::{Shifted, spectral_radius};
use crate::lineage::{Lineage, affected_by, finite};
use crate::spectrum::round_map_radius;
use crate::system::System;
use crate::{DynamicsError, Ecosystem};

/// Relative tolerance `tau` used to label influences.
pub const INFLUENCE_TOLERANCE: f64 = 1e-12;

/// Smallest scale for `tau`, so that a total of exactly 0 with all-zero factors is `none`.
const SCALE_FLOOR: f64 = 1e-300;

/// What the analysis is asked to watch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnalyzeOptions {
    /// Models whose anchoring decides the regime (the home model and any the policy names);
    /// empty means all models.
    pub watched: Vec<String>,
}

/// The regime the ecosystem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Regime {
    /// `r(M) < 1` and every watched model is anchored.
    Stable,
    /// `r(M) < 1` but a watched model's data does not trace back to people with certainty.
    Unanchored,
    /// `r(M) >= 1`: the round map has no attracting stable point.
    Divergent,
}

/// How a curation share acts on a model's reward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Self-influence: total > isolated > 0 (the loop adds to what curation does alone).
    Amplified,
    /// Self-influence: isolated >= total > 0 (the loop takes some of it away).
    Dampened,
    /// Self-influence: isolated > 0 > total (the loop reverses it).
    Backfires,
    /// Total < 0 and, on the curating model itself, isolated <= 0.
    Hurts,
    /// Total > 0 on another model, or on the curating model itself when isolated <= 0.
    Helps,
    /// |total| <= tau.
    None,
}

/// Result of [`analyze`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// The regime.
    pub regime: Regime,
    /// `r(M)`, the spectral radius of the round map.
    pub spectral_radius: f64,
    /// `1 - r(M)`, the stability margin (negative when divergent).
    pub margin: f64,
    /// `r(W)`, the spectral radius of the lineage mixing matrix.
    pub lineage_spectral_radius: f64,
    /// Per model: the declared models in file order, then models only named as sources.
    pub models: Vec<ModelAnalysis>,
    /// One entry per input `c_kj` of each model and per model its change affects.
    pub influence: Vec<Influence>,
    /// Every assumption the numbers rest on, in words.
    pub assumptions: Vec<String>,
}

/// Per-model results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelAnalysis {
    /// Model name.
    pub name: String,
    /// Whether the model was declared (false: only named as a source, assumed human-trained).
    pub declared: bool,
    /// Whether every training record of the model traces back to people.
    pub anchored: bool,
    /// `theta*_k`, when `r(M) < 1`.
    pub stable_point: Option<Vec<f64>>,
    /// `J_k(theta*_k)`, when `r(M) < 1`.
    pub reward: Option<f64>,
    /// `X_k`, when anchored.
    pub cross_influence_share: Option<f64>,
    /// `D_k`, when anchored.
    pub synthetic_depth: Option<f64>,
    /// `v*_k / v_H`, when anchored.
    pub diversity_retention: Option<f64>,
    /// `N_km * h_m` for every `m` with a nonzero share, when anchored: through which models the
    /// model's human origin entered the ecosystem (the shares sum to 1 when the model's human and
    /// synthetic shares, and those of its sources, sum to 1).
    pub human_origin: Option<Vec<OriginShare>>,
}

/// One term of a model's human origin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OriginShare {
    /// The model `m` through which human data entered.
    pub via: String,
    /// `N_km * h_m`.
    pub share: f64,
}

/// Influence of one curation share `c_kj` on one model's reward.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Influence {
    /// The curating model `k`.
    pub model: String,
    /// The source `j` whose outputs `k` curates.
    pub from: String,
    /// The model `m` whose reward is affected.
    pub on: String,
    /// `dJ_m / dc_kj` through the loop, when `r(M) < 1`.
    pub total: Option<f64>,
    /// `dJ_k / dc_kj` with the feedback removed (only when `on == model`).
    pub isolated: Option<f64>,
    /// The label.
    pub effect: Option<Effect>,
}

/// Analyses an ecosystem: stability, stable point, rewards, lineage and curation influences.
///
/// Undefined quantities are `None`. When `r(M) >= 1` the regime is divergent and the stable
/// point, rewards and influence values are `None`; the lineage quantities are still reported.
///
/// ```
/// use provguard_dynamics::{AnalyzeOptions, Ecosystem, Regime, analyze};
///
/// let eco = Ecosystem::from_toml_str(
///     "[[models]]\nname = \"p\"\nhuman = 0.5\ninputs = [{ from = \"p\", share = 0.5 }]\n",
///     "eco.toml",
/// )
/// .unwrap();
/// let analysis = analyze(&eco, &AnalyzeOptions::default()).unwrap();
/// assert_eq!(analysis.regime, Regime::Stable);
/// assert_eq!(analysis.models[0].stable_point, Some(vec![1.0]));
/// ```
pub fn analyze(eco: &Ecosystem, opts: &AnalyzeOptions) -> Result<Analysis, DynamicsError> {
    eco.validate()?;
    let sys = System::build(eco);
    let k_total = sys.len();
    let d = sys.dim;

    // Resolve the watched models before doing any work.
    let watched: Vec<usize> = if opts.watched.is_empty() {
        (0..k_total).collect()
    } else {
        opts.watched
            .iter()
            .map(|name| {
                sys.index(name)
                    .ok_or_else(|| DynamicsError::UnknownModel { name: name.clone() })
            })
            .collect::<Result<_, _>>()?
    };

    // Stability of the round map and of the lineage: one eigenvalue computation each (the
    // round map's reduced to its components, see `spectrum`), none anywhere else.
    let (m, b) = sys.round_map();
    let w = sys.mixing();
    let r_m = round_map_radius(&sys, &m)?;
    let r_w = spectral_radius(&w, "W")?;
    let lineage = Lineage::compute(&sys);

    // Theta* = S b, S = (I - M)^{-1}, only when r(M) < 1; S stays factored as LU.
    let s = (r_m < 1.0).then(|| Shifted::factor(&m));
    let theta = s.as_ref().and_then(|s| s.apply(&b));
    let s = s.filter(|_| theta.is_some());
    let block = |t: &DVector<f64>, k: usize| t.rows(k * d, d).into_owned();

    let models = (0..k_total)
        .map(|k| {
            let theta_k = theta.as_ref().map(|t| block(t, k));
            ModelAnalysis {
                name: sys.names[k].clone(),
                declared: k < sys.declared,
                anchored: lineage.anchored[k],
                stable_point: theta_k.as_ref().map(|t| t.iter().copied().collect()),
                reward: theta_k.as_ref().and_then(|t| finite(sys.reward(k, t))),
                cross_influence_share: lineage.cross_influence[k],
                synthetic_depth: lineage.depth[k],
                diversity_retention: lineage.diversity[k],
                human_origin: lineage.human_origin[k].as_ref().map(|origin| {
                    origin
                        .iter()
                        .enumerate()
                        .filter(|&(_, &share)| share > 0.0)
                        .map(|(m, &share)| OriginShare {
                            via: sys.names[m].clone(),
                            share,
                        })
                        .collect()
                }),
            }
        })
        .collect();

    let influence = influences(&sys, &w, s.as_ref().zip(theta.as_ref()));

    let regime = if theta.is_none() {
        Regime::Divergent
    } else if watched.iter().any(|&k| !lineage.anchored[k]) {
        Regime::Unanchored
    } else {
        Regime::Stable
    };

    Ok(Analysis {
        regime,
        spectral_radius: r_m,
        margin: 1.0 - r_m,
        lineage_spectral_radius: r_w,
        models,
        influence,
        assumptions: sys.assumptions.clone(),
    })
}

// By implicit differentiation of the stable point, with a*_kj = a_kj(theta*_j):
//
//   dTheta*/dc_kj = S[:, k] * (w_kj * a*_kj)                     (block column k of S)
//   dJ_m/dc_kj    = grad J_m(theta*_m) . (S_mk * w_kj * a*_kj)
//   I_kj          = grad J_k(theta*_k) . (w_kj * a*_kj)          (isolated: S = I)
//
// with grad J_m(theta) = g_m - eta_m * theta.
/// One [`Influence`] per input and affected model; values only when a stable point exists.
fn influences(
    sys: &System,
    w: &DMatrix<f64>,
    solved: Option<(&Shifted, &DVector<f64>)>,
) -> Vec<Influence> {
    let d = sys.dim;
    let mut out = Vec::new();

    // The direct push w_kj a*_kj of every input, and the change of the stable point per unit
    // of c_kj, S[:, k] (w_kj a*_kj): all of them in one solve with the LU factors of I - M, one
    // right-hand side per input (the push placed in block k), instead of forming S.
    let inputs = sys.sources.iter().map(Vec::len).sum();
    let pushes: Option<(Vec<DVector<f64>>, DMatrix<f64>)> = solved.map(|(s, theta)| {
        let mut pushes = Vec::with_capacity(inputs);
        let mut rhs = DMatrix::zeros(theta.len(), inputs);
        for (k, sources) in sys.sources.iter().enumerate() {
            for src in sources {
                let theta_j = theta.rows(src.from * d, d).into_owned();
                let push = sys.shift_at(k, src, &theta_j) * src.w;
                rhs.view_mut((k * d, pushes.len()), (d, 1)).copy_from(&push);
                pushes.push(push);
            }
        }
        (pushes, s.apply_columns(&rhs))
    });
    let mut input = 0;

    for (k, sources) in sys.sources.iter().enumerate() {
        let affected = affected_by(w, k);
        let order = std::iter::once(k).chain((0..sys.len()).filter(|&m| m != k && affected[m]));

        for src in sources {
            let derivative = solved
                .zip(pushes.as_ref())
                .map(|((_, theta), (pushes, changes))| {
                    (theta, &pushes[input], changes.column(input).into_owned())
                });
            input += 1;

            for m in order.clone() {
                let values = derivative.as_ref().map(|(theta, push, change)| {
                    let theta_m = theta.rows(m * d, d).into_owned();
                    let grad = sys.reward_gradient(m, &theta_m);
                    let (total, terms) = dot_with_scale(&grad, &change.rows(m * d, d).into_owned());
                    // The factors too: when theta* sits at the reward optimum the gradient and
                    // the push vanish, and so do the terms, which then only measure rounding.
                    let involved = [
                        &grad,
                        push,
                        &theta_m,
                        &theta.rows(src.from * d, d).into_owned(),
                    ]
                    .iter()
                    .fold(terms, |scale, v| scale.max(v.amax()));
                    let isolated = (m == k).then(|| dot_with_scale(&grad, push));
                    ((total, involved), isolated)
                });
                let (total, isolated, effect) = match values {
                    Some((total, isolated)) => {
                        let effect = label(total, isolated);
                        let isolated = isolated.and_then(|(x, _)| finite(x));
                        let total = finite(total.0);
                        (total, isolated, effect.filter(|_| total.is_some()))
                    }
                    None => (None, None, None),
                };
                out.push(Influence {
                    model: sys.names[k].clone(),
                    from: sys.names[src.from].clone(),
                    on: sys.names[m].clone(),
                    total,
                    isolated,
                    effect,
                });
            }
        }
    }
    out
}

/// The dot product and the magnitude of its terms, `sum_i |x_i y_i|` (the scale for `tau`).
fn dot_with_scale(x: &DVector<f64>, y: &DVector<f64>) -> (f64, f64) {
    let scale = x.iter().zip(y.iter()).map(|(a, b)| (a * b).abs()).sum();
    (x.dot(y), scale)
}

// tau = 1e-12 * max(1e-300, largest magnitude involved: the entries of grad J_m(theta*_m), of
//                  the push w_kj a*_kj and of the stable points theta*_m, theta*_j, and the terms
//                  of the dot products)
// self (isolated given):
//   none       |total| <= tau
//   amplified  total > isolated > 0
//   dampened   isolated >= total > 0
//   backfires  isolated > 0 > total
//   hurts      isolated <= 0, total < 0
//   helps      isolated <= 0, total > 0
// cross: helps total > 0, hurts total < 0, none otherwise
/// Labels an influence from its (value, scale) pairs.
fn label(total: (f64, f64), isolated: Option<(f64, f64)>) -> Option<Effect> {
    let (t, t_scale) = total;
    let i_scale = isolated.map_or(0.0, |(_, s)| s);
    let tau = INFLUENCE_TOLERANCE * t_scale.max(i_scale).max(t.abs()).max(SCALE_FLOOR);
    if !t.is_finite() || !tau.is_finite() {
        return None;
    }
    if t.abs() <= tau {
        return Some(Effect::None);
    }
    let effect = match isolated {
        None if t > 0.0 => Effect::Helps,
        None => Effect::Hurts,
        Some((i, _)) => {
            let tau = tau.max(INFLUENCE_TOLERANCE * i.abs());
            match (i > tau, t > 0.0) {
                (true, true) if t > i + tau => Effect::Amplified,
                (true, true) => Effect::Dampened,
                (true, false) => Effect::Backfires,
                (false, true) => Effect::Helps,
                (false, false) => Effect::Hurts,
            }
        }
    };
    Some(effect)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_contract() {
        let l = |t: f64, i: Option<f64>| label((t, t.abs()), i.map(|i| (i, i.abs())));
        assert_eq!(l(2.0, Some(1.0)), Some(Effect::Amplified));
        assert_eq!(l(1.0, Some(2.0)), Some(Effect::Dampened));
        assert_eq!(l(1.0, Some(1.0)), Some(Effect::Dampened));
        assert_eq!(l(-1.0, Some(2.0)), Some(Effect::Backfires));
        assert_eq!(l(-1.0, Some(-2.0)), Some(Effect::Hurts));
        assert_eq!(l(-1.0, Some(0.0)), Some(Effect::Hurts));
        assert_eq!(l(1.0, Some(-1.0)), Some(Effect::Helps));
        assert_eq!(l(0.0, Some(1.0)), Some(Effect::None));
        assert_eq!(l(1.0, None), Some(Effect::Helps));
        assert_eq!(l(-1.0, None), Some(Effect::Hurts));
        assert_eq!(l(0.0, None), Some(Effect::None));
        // A total that cancels down to rounding noise of its terms is no effect.
        assert_eq!(label((1e-17, 1.0), None), Some(Effect::None));
    }

    #[test]
    fn vanishing_factors_give_no_effect() {
        // Broke: a total of 9.39e-33 whose terms were ~1e-33 too (theta* at the reward optimum)
        // was labelled `amplified`; the stable point (~1) now sets the scale.
        assert_eq!(
            label((9.39e-33, 1.0), Some((4.7e-33, 1.0))),
            Some(Effect::None)
        );
        assert_eq!(label((0.0, 0.0), Some((0.0, 0.0))), Some(Effect::None));
    }

    #[test]
    fn equal_total_and_isolated_up_to_rounding_is_dampened() {
        assert_eq!(
            label((1.0 + 1e-15, 1.0), Some((1.0, 1.0))),
            Some(Effect::Dampened)
        );
    }

    #[test]
    fn unknown_watched_model_is_an_error() {
        let mut eco = Ecosystem::new(1);
        eco.models.push(crate::Model::new("p"));
        let opts = AnalyzeOptions {
            watched: vec!["nope".into()],
        };
        assert!(matches!(
            analyze(&eco, &opts),
            Err(DynamicsError::UnknownModel { .. })
        ));
    }
}
