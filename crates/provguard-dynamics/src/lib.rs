//! The dynamics model behind provguard's verdicts: several models retrained round after round
//! on human data and on each other's outputs, some of it curated.
//!
//! Each model `k` has a parameter vector `theta_k` in `R^d`. One retraining round maps
//!
//! ```text
//! theta_k  <-  h_k * mu_H  +  sum_j w_kj * [ T_kj * theta_j  +  c_kj * a_kj(theta_j) ]
//! ```
//!
//! where `h_k` is the human share of model `k`'s data, `w_kj` the share of outputs of model
//! `j`, `c_kj` the curated part of it, `T_kj` how `k` responds to `j`'s outputs and `a_kj` the
//! shift curation applies. Each model is scored by the reward
//! `J_k(theta) = g_k . theta - (eta_k / 2) |theta|^2`.
//!
//! [`analyze`] answers three questions about an [`Ecosystem`]:
//!
//! 1. Is there a stable point (`r(M) < 1`), or does the loop drift ([`Regime::Divergent`])?
//! 2. Does every watched model's data trace back to people ([`Regime::Unanchored`] if not), and
//!    how much of it came through other models (cross-influence share, synthetic depth,
//!    diversity retention)?
//! 3. Does more curation still raise the rewards, or does it backfire through the loop
//!    ([`Influence`], [`Effect`])?
//!
//! [`sweep()`] re-runs the analysis while one number varies; see [`mod@sweep`] for the path
//! syntax. The file format is described in `docs/ecosystem.md`.

#![deny(missing_docs)]

mod analyze;
mod ecosystem;
mod error;
pub mod file;
mod linalg;
mod lineage;
mod spectrum;
pub mod sweep;
mod system;
#[doc(hidden)]
pub mod timing;

pub use analyze::{
    Analysis, AnalyzeOptions, Effect, INFLUENCE_TOLERANCE, Influence, ModelAnalysis, OriginShare,
    Regime, analyze,
};
pub use ecosystem::{
    DEFAULT_CURATION_STRENGTH, Ecosystem, Input, Model, Reward, SHARE_TOLERANCE, ZERO_SHARE,
};
pub use error::DynamicsError;
pub use sweep::sweep;
