//! Lineage: anchoring, cross-influence share, synthetic depth and diversity retention.
//!
//! These quantities depend only on the mixing matrix `W`, the human shares `h` and the sample
//! sizes `n`, not on the parameters of the models.

use nalgebra::{DMatrix, DVector};

use crate::ZERO_SHARE;
use crate::linalg::resolvent;
use crate::system::System;

/// Lineage quantities of every model; `None` where a model is not anchored.
#[derive(Debug, Clone)]
pub(crate) struct Lineage {
    /// Whether each model is anchored.
    pub anchored: Vec<bool>,
    /// `N_km * h_m` for each anchored `k`, over all `m` (0 outside the anchored set).
    pub human_origin: Vec<Option<Vec<f64>>>,
    /// Cross-influence share `X_k`.
    pub cross_influence: Vec<Option<f64>>,
    /// Synthetic depth `D_k`.
    pub depth: Vec<Option<f64>>,
    /// Diversity retention `v*_k / v_H`.
    pub diversity: Vec<Option<f64>>,
}

/// Models reachable from each start through edges `k -> j` where `edge(k, j)`, as a closure
/// over the reversed graph: returns the set of nodes that can reach any node in `targets`.
fn can_reach(k_total: usize, edge: impl Fn(usize, usize) -> bool, targets: &[bool]) -> Vec<bool> {
    let mut reach = targets.to_vec();
    let mut stack: Vec<usize> = (0..k_total).filter(|&i| reach[i]).collect();
    while let Some(j) = stack.pop() {
        for (k, reached) in reach.iter_mut().enumerate() {
            if !*reached && edge(k, j) {
                *reached = true;
                stack.push(k);
            }
        }
    }
    reach
}

// Model k is anchored when every model reachable from k (k included) through entries
// w > 0 can reach a model with h > 0 (h < 1e-12 counts as zero). Equivalently: k cannot
// reach any model that cannot reach people.
/// Which models are anchored, decided on the lineage graph.
pub(crate) fn anchored(w: &DMatrix<f64>, h: &[f64]) -> Vec<bool> {
    let k_total = h.len();
    let edge = |k: usize, j: usize| w[(k, j)] >= ZERO_SHARE;
    let human: Vec<bool> = h.iter().map(|&x| x >= ZERO_SHARE).collect();
    let reaches_people = can_reach(k_total, edge, &human);
    let lost: Vec<bool> = reaches_people.iter().map(|&r| !r).collect();
    can_reach(k_total, edge, &lost)
        .iter()
        .map(|&r| !r)
        .collect()
}

/// Which models are affected by a change in model `k`: those whose lineage reaches `k`
/// through entries `w > 0` (`k` itself included).
pub(crate) fn affected_by(w: &DMatrix<f64>, k: usize) -> Vec<bool> {
    let mut target = vec![false; w.nrows()];
    target[k] = true;
    can_reach(w.nrows(), |a, b| w[(a, b)] > 0.0, &target)
}

impl Lineage {
    // Over the anchored set A, with N = (I - W_AA)^{-1}:
    //   N_km * h_m              share of k's human origin that entered through m
    //   X_k = 1 - N_kk * h_k    cross-influence share, clamped to [0, 1]
    //   D_k = sum_m N_km - 1    synthetic depth
    //   v*  = (I - diag(q) W_AA)^{-1} diag(q) h v_H,   q_k = (n_k - 1) / n_k (1 if n_k unknown)
    //   diversity retention v*_k / v_H
    /// Computes the lineage quantities of an assembled system.
    pub fn compute(sys: &System) -> Self {
        let k_total = sys.len();
        let w = sys.mixing();
        let anchored = anchored(&w, &sys.h);
        let set: Vec<usize> = (0..k_total).filter(|&k| anchored[k]).collect();
        let mut lineage = Self {
            anchored,
            human_origin: vec![None; k_total],
            cross_influence: vec![None; k_total],
            depth: vec![None; k_total],
            diversity: vec![None; k_total],
        };
        if set.is_empty() {
            return lineage;
        }

        let size = set.len();
        let w_aa = DMatrix::from_fn(size, size, |a, b| w[(set[a], set[b])]);
        let h_a = DVector::from_fn(size, |a, _| sys.h[set[a]]);
        let q_a = DVector::from_fn(size, |a, _| sys.n[set[a]].map_or(1.0, |n| (n - 1.0) / n));

        // Every anchored model reaches a model that leaks to people, so I - W_AA is invertible;
        // only extreme rounding could make this fail, and then the quantities stay undefined.
        let Some(n) = resolvent(&w_aa) else {
            return lineage;
        };
        let qw = DMatrix::from_fn(size, size, |a, b| q_a[a] * w_aa[(a, b)]);
        let v = resolvent(&qw).map(|r| r * h_a.component_mul(&q_a));

        for (a, &k) in set.iter().enumerate() {
            let mut origin = vec![0.0; k_total];
            for (b, &m) in set.iter().enumerate() {
                origin[m] = n[(a, b)] * h_a[b];
            }
            lineage.cross_influence[k] = finite((1.0 - n[(a, a)] * h_a[a]).clamp(0.0, 1.0));
            lineage.depth[k] = finite(n.row(a).sum() - 1.0);
            lineage.diversity[k] = v.as_ref().and_then(|v| finite(v[a]));
            if origin.iter().all(|x| x.is_finite()) {
                lineage.human_origin[k] = Some(origin);
            }
        }
        lineage
    }
}

/// `Some(x)` when `x` is finite.
pub(crate) fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ecosystem, Input, Model};

    fn model(name: &str, human: f64, inputs: &[(&str, f64)]) -> Model {
        let mut m = Model::new(name);
        m.human = human;
        m.inputs = inputs
            .iter()
            .map(|&(from, w)| Input::new(from, w))
            .collect();
        m
    }

    #[test]
    fn self_loop_with_half_human_has_depth_one() {
        let mut eco = Ecosystem::new(1);
        eco.models.push(model("p", 0.5, &[("p", 0.5)]));
        eco.models[0].samples_per_round = Some(2.0);
        let lin = Lineage::compute(&System::build(&eco));
        assert_eq!(lin.anchored, [true]);
        // N = 1 / (1 - 0.5) = 2, X = 1 - 2 * 0.5 = 0, D = 1, v* = 0.5 * 0.5 / (1 - 0.25).
        assert_eq!(lin.cross_influence[0], Some(0.0));
        assert!((lin.depth[0].unwrap() - 1.0).abs() < 1e-15);
        assert!((lin.diversity[0].unwrap() - 1.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn model_feeding_on_a_closed_synthetic_loop_is_unanchored() {
        // p has people but also draws on q, and q only ever trains on r and r on q.
        let mut eco = Ecosystem::new(1);
        eco.models.push(model("p", 0.5, &[("q", 0.5)]));
        eco.models.push(model("q", 0.0, &[("r", 1.0)]));
        eco.models.push(model("r", 0.0, &[("q", 1.0)]));
        eco.models.push(model("s", 0.2, &[("p", 0.8)]));
        let lin = Lineage::compute(&System::build(&eco));
        assert_eq!(lin.anchored, [false, false, false, false]);
        assert!(lin.depth.iter().all(Option::is_none));
    }

    #[test]
    fn cross_influence_counts_people_reaching_through_others() {
        // p: 0.5 human, 0.5 from q; q: human only. N_pp = 1, N_pq = 0.5.
        let mut eco = Ecosystem::new(1);
        eco.models.push(model("p", 0.5, &[("q", 0.5)]));
        eco.models.push(model("q", 1.0, &[]));
        let lin = Lineage::compute(&System::build(&eco));
        assert!((lin.cross_influence[0].unwrap() - 0.5).abs() < 1e-15);
        assert!((lin.depth[0].unwrap() - 0.5).abs() < 1e-15);
        assert_eq!(lin.cross_influence[1], Some(0.0));
    }

    #[test]
    fn tiny_human_share_counts_as_zero() {
        let mut eco = Ecosystem::new(1);
        eco.models.push(model("p", 1e-13, &[("p", 1.0 - 1e-13)]));
        assert_eq!(Lineage::compute(&System::build(&eco)).anchored, [false]);
    }
}
