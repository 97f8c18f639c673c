//! The spectral radius of the round map `M`, reduced exactly to smaller eigenvalue problems.
//!
//! `M` has order `K d` (192 for eight models in 24 dimensions), and a dense eigenvalue
//! computation costs about `10 (K d)^3` flops: tens of milliseconds, far more than the solve
//! for the stable point. But `M` is built from `d x d` blocks `M_kj = w_kj (1 - c_kj s_k) T_kj`
//! (or `w_kj T_kj`), one per input, and two facts about that structure shrink the problem
//! without changing the spectrum. Every eigenvalue still comes from faer's real Schur
//! routine ([`crate::linalg::spectral_radius`]); only the matrices it sees get smaller.
//!
//! **Block triangular form.** Draw an edge `k -> j` when the block `M_kj` has a nonzero entry
//! and group the models into strongly connected components. Listing the components in a
//! topological order of their condensation is a permutation `P` for which `P^T M P` is block
//! upper triangular, its diagonal blocks the submatrices `M_CC` of the components `C`. So
//!
//! ```text
//! det(x I - M) = prod_C det(x I - M_CC),     r(M) = max_C r(M_CC)
//! ```
//!
//! A model that no other model feeds back to is its own component: its eigenvalues are those
//! of its `d x d` self block, or none but 0.
//!
//! **Shared transfer.** When every input inside a component goes through one and the same
//! transfer matrix `T` (identity transfers, which `provguard scan` builds, or a file that
//! gives every input the same `T`), then `M_CC = A (x) T` with the `|C| x |C|` coefficients
//! `A_kj = sum of w_kj (1 - c_kj s_k)` (or `w_kj`). With Schur forms `A = U R U*` and
//! `T = V Q V*`, `A (x) T = (U (x) V) (R (x) Q) (U (x) V)*`, and `R (x) Q` is upper triangular
//! with diagonal `lambda_i(A) mu_j(T)`. So
//!
//! ```text
//! r(A (x) T) = r(A) r(T)
//! ```
//!
//! two eigenvalue problems of order `|C|` and `d` instead of one of order `|C| d`.
//!
//! Any other component goes to the dense routine whole.

use nalgebra::DMatrix;

use crate::DynamicsError;
use crate::linalg::spectral_radius;
use crate::system::System;

/// `r(M)` for the round map `m` of `sys`, by the exact reductions of this module.
pub(crate) fn round_map_radius(sys: &System, m: &DMatrix<f64>) -> Result<f64, DynamicsError> {
    // r(M) = max over strongly connected components C of r(M_CC),
    // r(M_CC) = r(A) r(T) when M_CC = A (x) T.
    let n = m.nrows();
    let failed = || DynamicsError::Eigenvalues {
        matrix: "M",
        size: n,
    };
    if m.iter().any(|x| !x.is_finite()) {
        return Err(failed());
    }

    let d = sys.dim;
    let mut radius = 0.0_f64;
    for component in components(m, d) {
        let r = if let Some((a, t)) = sys.shared_transfer(&component) {
            let r_a = spectral_radius(&a, "M").map_err(|_| failed())?;
            // No eigenvalue problem at all for a triangular T (the identity above all).
            let r_t = match triangular_radius(t) {
                Some(r) => r,
                None => spectral_radius(t, "M").map_err(|_| failed())?,
            };
            r_a * r_t
        } else {
            let size = component.len() * d;
            let block = DMatrix::from_fn(size, size, |r, c| {
                m[(component[r / d] * d + r % d, component[c / d] * d + c % d)]
            });
            spectral_radius(&block, "M").map_err(|_| failed())?
        };
        radius = radius.max(r);
    }
    if radius.is_finite() {
        Ok(radius)
    } else {
        Err(failed())
    }
}

// A triangular matrix has its diagonal entries as eigenvalues: r(T) = max_i |T_ii|.
/// `r(T)` read off the diagonal when `T` is upper or lower triangular (diagonal included);
/// `None` otherwise.
fn triangular_radius(t: &DMatrix<f64>) -> Option<f64> {
    let n = t.nrows();
    let upper = (0..n).all(|c| (c + 1..n).all(|r| t[(r, c)] == 0.0));
    let lower = (0..n).all(|c| (0..c).all(|r| t[(r, c)] == 0.0));
    (upper || lower).then(|| t.diagonal().amax())
}

/// The strongly connected components of the graph `k -> j` (block `M_kj` nonzero), each in
/// increasing model order; a model with no path back to itself is a component of its own.
///
/// Two models share a component when each reaches the other; the reachability is found by a
/// search from every model, `O(K^3)` on the block graph, negligible beside one `d x d` eigenvalue
/// problem for the ecosystem sizes provguard meets.
fn components(m: &DMatrix<f64>, d: usize) -> Vec<Vec<usize>> {
    let k_total = m.nrows() / d;
    let edge: Vec<Vec<bool>> = (0..k_total)
        .map(|k| {
            (0..k_total)
                .map(|j| m.view((k * d, j * d), (d, d)).iter().any(|&x| x != 0.0))
                .collect()
        })
        .collect();

    // reach[k][j]: j is reachable from k in zero or more steps.
    let reach: Vec<Vec<bool>> = (0..k_total)
        .map(|start| {
            let mut seen = vec![false; k_total];
            seen[start] = true;
            let mut stack = vec![start];
            while let Some(k) = stack.pop() {
                for j in 0..k_total {
                    if edge[k][j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
            seen
        })
        .collect();

    let mut assigned = vec![false; k_total];
    let mut out = Vec::new();
    for k in 0..k_total {
        if assigned[k] {
            continue;
        }
        let component: Vec<usize> = (k..k_total)
            .filter(|&j| reach[k][j] && reach[j][k])
            .collect();
        for &j in &component {
            assigned[j] = true;
        }
        out.push(component);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ecosystem, Input, Model};

    /// `SplitMix64` in [0, 1), so that the random ecosystems are the same on every run.
    fn unit(state: &mut u64) -> f64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1_u64 << 53) as f64
    }

    /// How the random ecosystems pick their transfer matrices.
    #[derive(Debug, Clone, Copy)]
    enum Transfers {
        /// No transfer given: identity.
        Identity,
        /// One random matrix for every input (rotations in it: complex eigenvalues).
        Shared,
        /// A random matrix per input.
        Own,
        /// Shared, except one input.
        AllButOne,
    }

    /// A random `d x d` matrix: a block diagonal of scaled rotations (complex eigenvalue pairs)
    /// in a random basis-free form, plus dense noise.
    fn random_transfer(d: usize, state: &mut u64) -> Vec<Vec<f64>> {
        let mut t = vec![vec![0.0; d]; d];
        for (r, row) in t.iter_mut().enumerate() {
            for (c, x) in row.iter_mut().enumerate() {
                *x = 0.6 * (unit(state) - 0.5) / (d as f64).sqrt();
                if r / 2 == c / 2 && r / 2 < d / 2 {
                    let angle = 3.0 * unit(state);
                    let scale = 0.5 + unit(state);
                    *x += scale
                        * match (r % 2, c % 2) {
                            (0, 0) | (1, 1) => angle.cos(),
                            (0, 1) => -angle.sin(),
                            _ => angle.sin(),
                        };
                }
            }
        }
        t
    }

    /// A random ecosystem whose lineage graph is sometimes strongly connected and sometimes
    /// layered (inputs only from later models, plus self-inputs), with spectral radii on both
    /// sides of 1 (`gain` scales the shares of synthetic data).
    fn random_ecosystem(state: &mut u64, transfers: Transfers, layered: bool) -> Ecosystem {
        let d = 1 + (unit(state) * 6.0) as usize;
        let k_total = 1 + (unit(state) * 6.0) as usize;
        let gain = 0.3 + 1.5 * unit(state);
        let shared = random_transfer(d, state);
        let mut eco = Ecosystem::new(d);
        let mut first_input = true;
        for k in 0..k_total {
            let mut model = Model::new(format!("m{k}"));
            let sources: Vec<usize> = (0..k_total)
                .filter(|&j| !layered || j >= k)
                .filter(|_| unit(state) < 0.6)
                .collect();
            let total = (gain / sources.len().max(1) as f64).min(1.0 / sources.len().max(1) as f64);
            model.human = 1.0 - total * sources.len() as f64;
            model.reward.eta = 0.5 + unit(state);
            for j in sources {
                let mut input = Input::new(format!("m{j}"), total);
                input.curated = unit(state);
                if unit(state) < 0.3 {
                    input.shift = Some(vec![1.0; d]);
                }
                input.transfer = match transfers {
                    Transfers::Identity => None,
                    Transfers::Own => Some(random_transfer(d, state)),
                    Transfers::AllButOne if first_input => Some(random_transfer(d, state)),
                    Transfers::Shared | Transfers::AllButOne => Some(shared.clone()),
                };
                first_input = false;
                model.inputs.push(input);
            }
            eco.models.push(model);
        }
        eco
    }

    #[test]
    fn reduced_and_dense_spectral_radii_agree_on_random_ecosystems() {
        let mut state = 2026;
        let (mut complex, mut near_one, mut above_one) = (0, 0, 0);
        for case in 0..1200 {
            let transfers = [
                Transfers::Identity,
                Transfers::Shared,
                Transfers::Own,
                Transfers::AllButOne,
            ][case % 4];
            let eco = random_ecosystem(&mut state, transfers, case % 3 == 0);
            eco.validate().unwrap();
            let sys = System::build(&eco);
            let (m, _) = sys.round_map();

            let fast = round_map_radius(&sys, &m).unwrap();
            let dense = spectral_radius(&m, "M").unwrap();
            // Repeated eigenvalues (identity transfers repeat each one d times) are only
            // determined to about sqrt(eps) by any routine when the matrix is not normal; the
            // reduced problems are better conditioned, so compare to what the dense one gives.
            // A nilpotent M (a lineage graph without cycles through nonzero blocks) has r = 0
            // exactly, which the dense routine only finds to about eps^(1/m) for a chain of m
            // blocks: there the definition is checked instead, M^n = 0 for n = K d.
            if fast == 0.0 {
                let power =
                    (0..m.nrows()).fold(DMatrix::identity(m.nrows(), m.nrows()), |p, _| &p * &m);
                assert!(
                    power.amax() < 1e-12,
                    "case {case}: reduced 0 but M is not nilpotent"
                );
            } else {
                assert!(
                    (fast - dense).abs() <= 1e-7 * dense.max(1e-3),
                    "case {case} ({transfers:?}): reduced {fast} vs dense {dense}"
                );
            }

            let eigenvalues = faer::Mat::<f64>::from_fn(m.nrows(), m.ncols(), |r, c| m[(r, c)])
                .eigenvalues()
                .unwrap();
            if eigenvalues.iter().any(|z| z.im.abs() > 1e-6) {
                complex += 1;
            }
            if (dense - 1.0).abs() < 0.05 {
                near_one += 1;
            }
            if dense > 1.0 {
                above_one += 1;
            }
        }
        // The generator covers what the fast path must get right.
        assert!(
            complex > 300,
            "{complex} ecosystems with complex eigenvalues"
        );
        assert!(near_one > 20, "{near_one} ecosystems with r(M) near 1");
        assert!(above_one > 40, "{above_one} ecosystems with r(M) > 1");
    }

    #[test]
    fn components_follow_the_block_graph() {
        // 0 -> 1 -> 0 is a cycle, 2 feeds on 0 and on itself, 3 is fed by no one and feeds
        // no one.
        let d = 2;
        let mut m = DMatrix::zeros(8, 8);
        m[(0, 2)] = 0.5;
        m[(3, 1)] = 0.5;
        m[(4, 0)] = 0.5;
        m[(5, 5)] = 0.5;
        assert_eq!(components(&m, d), vec![vec![0, 1], vec![2], vec![3]]);
    }

    #[test]
    fn identity_transfers_reduce_to_the_coefficients() {
        // M = A (x) I_3 with A = [[0.2, 0.6], [0.9, 0.1]]: trace 0.3, determinant -0.52, so
        // r(M) = r(A) = (0.3 + sqrt(0.3^2 + 4 * 0.52)) / 2 = (0.3 + sqrt(2.17)) / 2.
        let mut eco = Ecosystem::new(3);
        for (name, other, own, cross) in [("p", "q", 0.2, 0.6), ("q", "p", 0.1, 0.9)] {
            let mut model = Model::new(name);
            model.human = 1.0 - own - cross;
            model.inputs.push(Input::new(name, own));
            model.inputs.push(Input::new(other, cross));
            eco.models.push(model);
        }
        let sys = System::build(&eco);
        let (m, _) = sys.round_map();
        let expected = f64::midpoint(0.3, 2.17_f64.sqrt());
        assert!((round_map_radius(&sys, &m).unwrap() - expected).abs() < 1e-14);
    }
}
