//! Small linear-algebra helpers: nalgebra for the matrices and the small lineage solves, faer
//! for eigenvalues and for the LU factors of the round map (about twice as fast as nalgebra's
//! at the order `K d` of a realistic ecosystem, 192).

use faer::linalg::solvers::{PartialPivLu, Solve};
use nalgebra::{DMatrix, DVector};

use crate::DynamicsError;

/// Largest modulus of the eigenvalues of a square matrix (0 for an empty one).
///
/// The eigenvalues come from faer's real Schur decomposition (Hessenberg reduction, then a
/// multishift QR iteration with aggressive early deflation and exceptional shifts), so complex
/// pairs (rotations) are handled, and so are the matrices nalgebra 0.35's QR iteration stalls
/// on (nalgebra issue #611): permutations, `[[0, I], [A, 0]]`, and the scaled identity blocks
/// of identity transfers, whose eigenvalues each repeat `d` times.
pub(crate) fn spectral_radius(m: &DMatrix<f64>, name: &'static str) -> Result<f64, DynamicsError> {
    // r(M) = max_i |lambda_i(M)|
    let n = m.nrows();
    let failed = DynamicsError::Eigenvalues {
        matrix: name,
        size: n,
    };
    if m.iter().any(|x| !x.is_finite()) {
        return Err(failed);
    }
    if m.iter().all(|&x| x == 0.0) {
        return Ok(0.0);
    }
    if n == 1 {
        return Ok(m[(0, 0)].abs());
    }

    let eigenvalues = faer::Mat::<f64>::from_fn(n, n, |r, c| m[(r, c)])
        .eigenvalues()
        .map_err(|_| failed)?;
    let radius = eigenvalues
        .iter()
        .map(|z| z.re.hypot(z.im))
        .fold(0.0, f64::max);
    if radius.is_finite() {
        Ok(radius)
    } else {
        Err(DynamicsError::Eigenvalues {
            matrix: name,
            size: n,
        })
    }
}

/// `(I - A)^{-1}` by LU with partial pivoting, or `None` when singular or not finite.
pub(crate) fn resolvent(a: &DMatrix<f64>) -> Option<DMatrix<f64>> {
    let n = a.nrows();
    let inverse = (DMatrix::identity(n, n) - a).lu().try_inverse()?;
    inverse.iter().all(|x| x.is_finite()).then_some(inverse)
}

// (I - A) X = Y, by LU with partial pivoting, for X = S Y with S = (I - A)^{-1}
/// The LU factors of `I - A`: products with `S = (I - A)^{-1}` without forming `S`.
pub(crate) struct Shifted {
    lu: PartialPivLu<f64>,
}

impl Shifted {
    /// Factors `I - A`.
    pub fn factor(a: &DMatrix<f64>) -> Self {
        let n = a.nrows();
        let shifted =
            faer::Mat::<f64>::from_fn(
                n,
                n,
                |r, c| {
                    if r == c { 1.0 - a[(r, c)] } else { -a[(r, c)] }
                },
            );
        Self {
            lu: shifted.partial_piv_lu(),
        }
    }

    /// `S y`, or `None` when not finite (`I - A` singular).
    pub fn apply(&self, y: &DVector<f64>) -> Option<DVector<f64>> {
        let x = self
            .lu
            .solve(faer::Mat::<f64>::from_fn(y.len(), 1, |r, _| y[r]));
        let x = DVector::from_fn(y.len(), |r, _| x[(r, 0)]);
        x.iter().all(|v| v.is_finite()).then_some(x)
    }

    /// `S Y`, column by column; columns that are not finite are left so (the caller checks).
    pub fn apply_columns(&self, y: &DMatrix<f64>) -> DMatrix<f64> {
        let x = self
            .lu
            .solve(faer::Mat::<f64>::from_fn(y.nrows(), y.ncols(), |r, c| {
                y[(r, c)]
            }));
        DMatrix::from_fn(y.nrows(), y.ncols(), |r, c| x[(r, c)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pseudo-random unit vector (`SplitMix64`), reproducible from `state`.
    fn unit_vector(n: usize, state: &mut u64) -> DVector<f64> {
        let mut next = || {
            *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = *state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1_u64 << 53) as f64 - 0.5
        };
        let v = DVector::from_fn(n, |_, _| next());
        let norm = v.norm();
        if norm > 0.0 {
            v / norm
        } else {
            DVector::from_element(n, 1.0 / (n as f64).sqrt())
        }
    }

    #[test]
    fn spectral_radius_of_a_scaled_rotation_is_its_scale() {
        let (c, s) = (0.6_f64.cos(), 0.6_f64.sin());
        let m = DMatrix::from_row_slice(2, 2, &[0.9 * c, -0.9 * s, 0.9 * s, 0.9 * c]);
        assert!((spectral_radius(&m, "M").unwrap() - 0.9).abs() < 1e-12);
    }

    #[test]
    fn spectral_radius_of_a_swap_coupling_converges() {
        // Regression: nalgebra's Schur iteration never converges on [[0, I], [A, 0]] nor on a
        // permutation; the eigenvalues are +-sqrt(eig(A)).
        let m = DMatrix::from_row_slice(2, 2, &[0.0, 1.0, 1.0, 0.0]);
        assert!((spectral_radius(&m, "W").unwrap() - 1.0).abs() < 1e-12);
        let (c, s) = (0.3_f64.cos(), 0.3_f64.sin());
        let mut m = DMatrix::zeros(4, 4);
        m[(0, 2)] = 1.0;
        m[(1, 3)] = 1.0;
        m.view_mut((2, 0), (2, 2))
            .copy_from_slice(&[0.4 * c, 0.4 * s, -0.4 * s, 0.4 * c]);
        assert!((spectral_radius(&m, "M").unwrap() - 0.4_f64.sqrt()).abs() < 1e-12);
        assert!(spectral_radius(&DMatrix::zeros(3, 3), "W").unwrap().abs() < f64::MIN_POSITIVE);
    }

    /// `SplitMix64` in [-0.5, 0.5), so that the random matrices are the same on every run.
    fn noise(state: &mut u64) -> f64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1_u64 << 53) as f64 - 0.5
    }

    #[test]
    fn spectral_radius_of_identity_block_matrices_converges() {
        // Regression: `provguard scan --ecosystem` builds M from scaled identity blocks
        // (d = 24, identity transfers), every eigenvalue repeated d times; nalgebra's Schur
        // iteration gave up on them. Here M = A (x) I_d with A = s I + a cyclic shift of weights
        // a_k, whose eigenvalues are s + (prod a_k)^(1/K) * omega for the K-th roots of unity
        // omega, so r(M) = s + (prod a_k)^(1/K).
        let mut state = 7;
        for d in [24, 12, 1] {
            for k_total in 1..=10 {
                let s = 0.5 * (noise(&mut state) + 0.5);
                let weights: Vec<f64> = (0..k_total).map(|_| noise(&mut state) + 0.7).collect();
                let mut m = DMatrix::zeros(k_total * d, k_total * d);
                for k in 0..k_total {
                    let j = (k + 1) % k_total;
                    for i in 0..d {
                        m[(k * d + i, k * d + i)] += s;
                        m[(k * d + i, j * d + i)] += weights[k];
                    }
                }
                let geometric = weights.iter().product::<f64>().powf(1.0 / k_total as f64);
                let expected = s + geometric;
                let r = spectral_radius(&m, "M").unwrap();
                assert!(
                    (r - expected).abs() < 1e-9 * expected,
                    "d = {d}, K = {k_total}: {r} vs {expected}"
                );
            }
        }

        // The tester's shape: p takes half of q's outputs, q has none; M is nilpotent.
        let mut m = DMatrix::zeros(48, 48);
        m.view_mut((0, 24), (24, 24))
            .copy_from(&(DMatrix::identity(24, 24) * 0.5));
        assert!(spectral_radius(&m, "M").unwrap() < 1e-6);
    }

    #[test]
    fn spectral_radius_of_permutations_and_swaps_is_their_scale() {
        let mut state = 11;
        for n in [2, 3, 24, 48, 120, 192, 240] {
            // A random permutation (Fisher-Yates), scaled.
            let mut order: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                let j = ((noise(&mut state) + 0.5) * (i + 1) as f64) as usize;
                order.swap(i, j.min(i));
            }
            let scale = noise(&mut state) + 1.0;
            let p = DMatrix::from_fn(n, n, |r, c| if order[r] == c { scale } else { 0.0 });
            let r = spectral_radius(&p, "M").unwrap();
            assert!((r - scale).abs() < 1e-9 * scale, "n = {n}: {r} vs {scale}");
        }
        for half in [1, 12, 24, 60, 96, 120] {
            // [[0, I], [I, 0]]: eigenvalues +-1, each `half` times.
            let n = 2 * half;
            let swap = DMatrix::from_fn(n, n, |r, c| if (r + half) % n == c { 1.0 } else { 0.0 });
            let r = spectral_radius(&swap, "W").unwrap();
            assert!((r - 1.0).abs() < 1e-9, "n = {n}: {r}");
        }
    }

    #[test]
    fn spectral_radius_of_a_random_192_matrix_matches_its_known_spectrum() {
        // M = Q B Q^T with Q orthogonal (a product of Householder reflectors) and B real
        // quasi-triangular: random strictly upper part, 2 x 2 diagonal blocks r_i R(angle_i).
        // Its eigenvalues are r_i e^(+-i angle_i), so r(M) = max r_i.
        let n = 192;
        let mut state = 192;
        let mut b = DMatrix::from_fn(n, n, |r, c| if c > r + 1 { noise(&mut state) } else { 0.0 });
        let mut expected = 0.0_f64;
        for i in 0..n / 2 {
            let r = 0.9 * (noise(&mut state) + 0.5) + 0.05;
            let angle = 6.0 * noise(&mut state);
            expected = expected.max(r);
            let (sin, cos) = angle.sin_cos();
            b.view_mut((2 * i, 2 * i), (2, 2)).copy_from_slice(&[
                r * cos,
                r * sin,
                -r * sin,
                r * cos,
            ]);
        }
        let mut m = b;
        for _ in 0..4 {
            let u = unit_vector(n, &mut state);
            let reflector = DMatrix::identity(n, n) - &u * u.transpose() * 2.0;
            m = &reflector * m * &reflector;
        }
        let r = spectral_radius(&m, "M").unwrap();
        assert!((r - expected).abs() < 1e-9, "{r} vs {expected}");
    }

    #[test]
    fn shifted_solves_match_the_resolvent() {
        let mut state = 5;
        let a = DMatrix::from_fn(7, 7, |_, _| 0.4 * noise(&mut state));
        let y = DMatrix::from_fn(7, 3, |_, _| noise(&mut state));
        let s = resolvent(&a).unwrap();
        let lu = Shifted::factor(&a);
        assert!((lu.apply_columns(&y) - &s * &y).amax() < 1e-14);
        let column = y.column(1).into_owned();
        assert!((lu.apply(&column).unwrap() - &s * &column).amax() < 1e-14);
        assert!(
            Shifted::factor(&DMatrix::identity(2, 2))
                .apply(&DVector::from_element(2, 1.0))
                .is_none()
        );
    }

    #[test]
    fn resolvent_of_singular_is_none() {
        assert!(resolvent(&DMatrix::identity(2, 2)).is_none());
        let r = resolvent(&DMatrix::from_element(1, 1, 0.5)).unwrap();
        assert!((r[(0, 0)] - 2.0).abs() < 1e-15);
    }
}
