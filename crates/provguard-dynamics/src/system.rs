//! The assembled linear-Gaussian system: every model (declared or assumed) with its defaults
//! resolved, and the block matrices of one retraining round.

use nalgebra::{DMatrix, DVector};

use crate::Ecosystem;

/// How curation by the receiving model moves the outputs of a source.
#[derive(Debug, Clone)]
pub(crate) enum Shift {
    /// A constant shift `a_kj` (given in the file, or `s_k g_k` for a linear reward).
    Constant(DVector<f64>),
    /// Move a fraction `s_k` of the way to the reward optimum `g_k / eta_k`.
    TowardOptimum,
}

/// One synthetic input of a model, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// Index `j` of the source model.
    pub from: usize,
    /// Share `w_kj`.
    pub w: f64,
    /// Curated share `c_kj`.
    pub c: f64,
    /// Transfer matrix `T_kj`.
    pub t: DMatrix<f64>,
    /// The curation shift.
    pub shift: Shift,
}

/// All models with every default resolved, ready for the linear algebra.
#[derive(Debug, Clone)]
pub(crate) struct System {
    /// Model names: the declared models first, then those only named as sources.
    pub names: Vec<String>,
    /// How many of `names` were declared.
    pub declared: usize,
    /// Dimension `d`.
    pub dim: usize,
    /// Human target `mu_H`.
    pub mu: DVector<f64>,
    /// Human shares `h_k`.
    pub h: Vec<f64>,
    /// Sample sizes `n_k` (`None` = unknown, no shrinkage).
    pub n: Vec<Option<f64>>,
    /// Reward coefficients `g_k`.
    pub g: Vec<DVector<f64>>,
    /// Reward curvatures `eta_k`.
    pub eta: Vec<f64>,
    /// Curation strengths `s_k`.
    pub s: Vec<f64>,
    /// Synthetic inputs of each model.
    pub sources: Vec<Vec<Source>>,
    /// Every assumption made while resolving the ecosystem, in words.
    pub assumptions: Vec<String>,
}

impl System {
    /// Resolves a validated ecosystem. Models that are only named as a source are added as
    /// trained on human data only (`h = 1`), the least alarming assumption.
    pub fn build(eco: &Ecosystem) -> Self {
        let d = eco.dim;
        let mu = DVector::from_column_slice(&eco.human_target);
        let mut names: Vec<String> = eco.models.iter().map(|m| m.name.clone()).collect();
        let declared = names.len();
        let mut assumptions = Vec::new();

        // Add the undeclared sources, in order of first mention.
        for model in &eco.models {
            for input in &model.inputs {
                if !names.contains(&input.from) {
                    assumptions.push(format!(
                        "model `{}`: training mix unknown, taken as human data only (h = 1)",
                        input.from
                    ));
                    names.push(input.from.clone());
                }
            }
        }
        let k_total = names.len();
        let index = |name: &str| names.iter().position(|n| n == name);

        let mut sys = Self {
            names: names.clone(),
            declared,
            dim: d,
            mu: mu.clone(),
            h: vec![1.0; k_total],
            n: vec![None; k_total],
            g: vec![mu.clone(); k_total],
            eta: vec![1.0; k_total],
            s: vec![crate::DEFAULT_CURATION_STRENGTH; k_total],
            sources: vec![Vec::new(); k_total],
            assumptions: Vec::new(),
        };

        for (k, model) in eco.models.iter().enumerate() {
            sys.h[k] = model.human;
            sys.n[k] = model.samples_per_round;
            sys.g[k] = DVector::from_column_slice(model.reward.g_or(&eco.human_target));
            sys.eta[k] = model.reward.eta;
            sys.s[k] = model.curation_strength;
            if model.samples_per_round.is_none() {
                assumptions.push(format!(
                    "model `{}`: sample size unknown, taken as infinite (no finite-sample shrinkage)",
                    model.name
                ));
            }
            let sources = model
                .inputs
                .iter()
                .map(|input| {
                    let t = input.transfer.as_ref().map_or_else(
                        || DMatrix::identity(d, d),
                        |rows| DMatrix::from_fn(d, d, |r, c| rows[r][c]),
                    );
                    let shift = match &input.shift {
                        Some(a) => Shift::Constant(DVector::from_column_slice(a)),
                        None if model.reward.eta > 0.0 => Shift::TowardOptimum,
                        None => Shift::Constant(&sys.g[k] * model.curation_strength),
                    };
                    Source {
                        from: index(&input.from).unwrap_or(k),
                        w: input.share,
                        c: input.curated,
                        t,
                        shift,
                    }
                })
                .collect();
            sys.sources[k] = sources;
        }
        sys.assumptions = assumptions;
        sys
    }

    /// Number of models `K` (declared and assumed).
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Index of the model called `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    // One round maps Theta to M Theta + b, with (d x d) blocks
    //
    //   M_kj = w_kj * (1 - c_kj * s_k) * T_kj       (default shift, eta_k > 0)
    //   M_kj = w_kj * T_kj                          (constant shift a_kj)
    //   b_k  = h_k * mu_H + sum_j w_kj * c_kj * (s_k * g_k / eta_k   or   a_kj)
    /// The round map's matrix `M` (`Kd` x `Kd`) and offset `b`.
    pub fn round_map(&self) -> (DMatrix<f64>, DVector<f64>) {
        let d = self.dim;
        let size = self.len() * d;
        let mut m = DMatrix::zeros(size, size);
        let mut b = DVector::zeros(size);

        for (k, sources) in self.sources.iter().enumerate() {
            let mut b_k = &self.mu * self.h[k];
            for src in sources {
                let offset = match &src.shift {
                    Shift::TowardOptimum => &self.g[k] * (self.s[k] / self.eta[k]),
                    Shift::Constant(a) => a.clone(),
                };
                let mut block = m.view_mut((k * d, src.from * d), (d, d));
                block += &src.t * self.coefficient(k, src);
                b_k += offset * (src.w * src.c);
            }
            b.rows_mut(k * d, d).copy_from(&b_k);
        }
        (m, b)
    }

    /// The scalar in front of `T_kj` in `M_kj`: `w_kj (1 - c_kj s_k)` or `w_kj`.
    fn coefficient(&self, k: usize, src: &Source) -> f64 {
        match &src.shift {
            Shift::TowardOptimum => src.w * (1.0 - src.c * self.s[k]),
            Shift::Constant(_) => src.w,
        }
    }

    // M_CC = A (x) T  with  A_ab = sum over inputs of model set[a] from set[b] of the
    // coefficient in front of T_kj, when all those inputs share one transfer T.
    /// The factors `(A, T)` of the round map restricted to the models `set` when every input
    /// among them with a nonzero coefficient goes through the same transfer matrix `T`; `None`
    /// otherwise, or when no such input exists.
    pub fn shared_transfer(&self, set: &[usize]) -> Option<(DMatrix<f64>, &DMatrix<f64>)> {
        let mut a = DMatrix::zeros(set.len(), set.len());
        let mut shared: Option<&DMatrix<f64>> = None;
        for (row, &k) in set.iter().enumerate() {
            for src in &self.sources[k] {
                let Some(col) = set.iter().position(|&j| j == src.from) else {
                    continue;
                };
                let coefficient = self.coefficient(k, src);
                if coefficient == 0.0 {
                    continue;
                }
                match shared {
                    Some(t) if *t != src.t => return None,
                    Some(_) => {}
                    None => shared = Some(&src.t),
                }
                a[(row, col)] += coefficient;
            }
        }
        shared.map(|t| (a, t))
    }

    // a_kj(theta_j) = s_k * (g_k / eta_k - T_kj * theta_j)   (default shift, eta_k > 0)
    // a_kj          = constant                               (given shift, or s_k * g_k)
    /// The shift `a_kj` applied to source `src` of model `k` when the source is at `theta_j`.
    pub fn shift_at(&self, k: usize, src: &Source, theta_j: &DVector<f64>) -> DVector<f64> {
        match &src.shift {
            Shift::Constant(a) => a.clone(),
            Shift::TowardOptimum => (&self.g[k] / self.eta[k] - &src.t * theta_j) * self.s[k],
        }
    }

    /// The lineage mixing matrix `W = (w_kj)` (`K` x `K`).
    pub fn mixing(&self) -> DMatrix<f64> {
        let mut w = DMatrix::zeros(self.len(), self.len());
        for (k, sources) in self.sources.iter().enumerate() {
            for src in sources {
                w[(k, src.from)] += src.w;
            }
        }
        w
    }

    // grad J_k(theta) = g_k - eta_k * theta
    /// Gradient of model `k`'s reward at `theta`.
    pub fn reward_gradient(&self, k: usize, theta: &DVector<f64>) -> DVector<f64> {
        &self.g[k] - theta * self.eta[k]
    }

    // J_k(theta) = g_k . theta - (eta_k / 2) * |theta|^2
    /// Model `k`'s reward at `theta`.
    pub fn reward(&self, k: usize, theta: &DVector<f64>) -> f64 {
        self.g[k].dot(theta) - 0.5 * self.eta[k] * theta.norm_squared()
    }
}

#[cfg(test)]
#[expect(
    clippy::float_cmp,
    reason = "the values compared are assigned, not computed"
)]
mod tests {
    use super::*;
    use crate::{Input, Model};

    #[test]
    fn round_map_blocks_follow_the_shift_kind() {
        let mut eco = Ecosystem::new(1);
        let mut p = Model::new("p");
        p.human = 0.2;
        p.curation_strength = 0.5;
        let mut from_q = Input::new("q", 0.8);
        from_q.curated = 0.5;
        p.inputs.push(from_q);
        eco.models.push(p);
        let mut q = Model::new("q");
        let mut from_p = Input::new("p", 1.0);
        from_p.curated = 1.0;
        from_p.shift = Some(vec![2.0]);
        q.inputs.push(from_p);
        eco.models.push(q);

        let sys = System::build(&eco);
        let (m, b) = sys.round_map();
        // M_pq = 0.8 * (1 - 0.5 * 0.5), b_p = 0.2 + 0.8 * 0.5 * 0.5 * 1 / 1.
        assert!((m[(0, 1)] - 0.6).abs() < 1e-15);
        assert!((b[0] - 0.4).abs() < 1e-15);
        // M_qp = 1, b_q = 1 * 1 * 2.
        assert!((m[(1, 0)] - 1.0).abs() < 1e-15);
        assert!((b[1] - 2.0).abs() < 1e-15);
    }

    #[test]
    fn undeclared_sources_are_assumed_human() {
        let mut eco = Ecosystem::new(1);
        let mut p = Model::new("p");
        p.inputs.push(Input::new("gpt4", 1.0));
        p.samples_per_round = Some(10.0);
        eco.models.push(p);
        let sys = System::build(&eco);
        assert_eq!(sys.names, ["p", "gpt4"]);
        assert_eq!(sys.h[1], 1.0);
        assert_eq!(sys.assumptions.len(), 1);
        assert!(sys.assumptions[0].contains("`gpt4`"));
    }
}
