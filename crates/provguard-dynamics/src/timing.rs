//! The stages of [`crate::analyze`] one at a time, for the benchmark; not part of the API.
//!
//! Each function starts from the ecosystem, as `analyze` does (validation, resolving the
//! defaults, assembling `M` and `b`), so the figures add up to what an analysis costs.

use crate::linalg::{Shifted, spectral_radius as dense_radius};
use crate::spectrum::round_map_radius;
use crate::system::System;
use crate::{DynamicsError, Ecosystem};

/// The stacked fixed point `Theta* = (I - M)^{-1} b` of the round map by one LU solve, without
/// deciding whether it attracts (`r(M) < 1`); `None` when `I - M` is singular.
pub fn stable_point(eco: &Ecosystem) -> Result<Option<Vec<f64>>, DynamicsError> {
    eco.validate()?;
    let (m, b) = System::build(eco).round_map();
    Ok(Shifted::factor(&m)
        .apply(&b)
        .map(|theta| theta.iter().copied().collect()))
}

/// `r(M)` as [`crate::analyze`] computes it: reduced to the components of the lineage graph and
/// to shared transfers before faer's eigenvalue routine.
pub fn spectral_radius(eco: &Ecosystem) -> Result<f64, DynamicsError> {
    eco.validate()?;
    let sys = System::build(eco);
    let (m, _) = sys.round_map();
    round_map_radius(&sys, &m)
}

/// `r(M)` from faer's eigenvalues of the whole `Kd x Kd` matrix, without reductions: the
/// reference the reduced computation is measured against.
pub fn dense_spectral_radius(eco: &Ecosystem) -> Result<f64, DynamicsError> {
    eco.validate()?;
    let (m, _) = System::build(eco).round_map();
    dense_radius(&m, "M")
}
