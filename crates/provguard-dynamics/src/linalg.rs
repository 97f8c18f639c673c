//! Small linear-algebra helpers on top of nalgebra.

use nalgebra::{DMatrix, DVector, Schur};

use crate::DynamicsError;

/// Largest modulus of the eigenvalues of a square matrix (0 for an empty one).
///
/// The eigenvalues come from the real Schur form, so complex pairs (rotations) are handled.
/// nalgebra 0.35's QR iteration has no exceptional shifts and stalls on structured matrices
/// such as `[[0, I], [A, 0]]` or a permutation (nalgebra issue #611). The structure is broken
/// first by an orthogonal similarity `Q M Q` with a Householder reflector `Q = I - 2 u u^T`
/// along a pseudo-random unit vector `u`, and a real shift `sigma` separates the moduli of
/// eigenvalues that come in `+-` pairs (which stall the double-shift iteration); neither changes
/// the eigenvalues once `sigma` is subtracted again. A few vectors and shifts are tried before
/// giving up.
pub(crate) fn spectral_radius(m: &DMatrix<f64>, name: &'static str) -> Result<f64, DynamicsError> {
    // r(M) = max_i |lambda_i(M)|,   lambda_i(M) = lambda_i(Q M Q + sigma I) - sigma
    // for an orthogonal Q = Q^T
    let n = m.nrows();
    let failed = DynamicsError::Eigenvalues {
        matrix: name,
        size: n,
    };
    if m.iter().any(|x| !x.is_finite()) {
        return Err(failed);
    }
    // All zeros (or empty): nalgebra would divide by the zero largest entry.
    if m.iter().all(|&x| x == 0.0) {
        return Ok(0.0);
    }
    if n == 1 {
        return Ok(m[(0, 0)].abs());
    }

    let max_iterations = 30 * n.max(10);
    let scale = m.amax();
    let mut state = 0x5EED_u64;
    for factor in [0.237_9, -0.312_1, 0.0, 0.541_3, -0.663_7] {
        let sigma = factor * scale;
        let u = unit_vector(n, &mut state);
        let qm = m - &u * (u.transpose() * m) * 2.0;
        let mut qmq = &qm - (&qm * &u) * u.transpose() * 2.0;
        for i in 0..n {
            qmq[(i, i)] += sigma;
        }
        let Some(schur) = Schur::try_new(qmq, f64::EPSILON, max_iterations) else {
            continue;
        };
        let eigenvalues = schur.complex_eigenvalues();
        let radius = eigenvalues
            .iter()
            .map(|z| (z - sigma).norm())
            .fold(0.0, f64::max);
        if radius.is_finite() {
            return Ok(radius);
        }
    }
    Err(failed)
}

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

/// `(I - A)^{-1}` by LU with partial pivoting, or `None` when singular or not finite.
pub(crate) fn resolvent(a: &DMatrix<f64>) -> Option<DMatrix<f64>> {
    let n = a.nrows();
    let inverse = (DMatrix::identity(n, n) - a).lu().try_inverse()?;
    inverse.iter().all(|x| x.is_finite()).then_some(inverse)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn resolvent_of_singular_is_none() {
        assert!(resolvent(&DMatrix::identity(2, 2)).is_none());
        let r = resolvent(&DMatrix::from_element(1, 1, 0.5)).unwrap();
        assert!((r[(0, 0)] - 2.0).abs() < 1e-15);
    }
}
