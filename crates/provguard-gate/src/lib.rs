//! The gate: a policy file, and the verdict it gives on a scan's measurements.
//!
//! A policy sets limits on what a scan measures. A limit is a number (block beyond it) or a
//! table `{ flag = x, block = y }`; a limit left out is not enforced. A limit on a quantity
//! that is undefined (an unanchored ecosystem has no cross-influence share) is violated: the
//! gate cannot vouch for what it cannot measure. The verdict is `pass`, `flag` or `block`,
//! and every reason names the limit, the measured value and the threshold.
#![deny(missing_docs)]

mod locate;
mod policy;
mod verdict;

pub use policy::{
    Gate, Limit, Limits, Policy, PolicyError, SourceRules, UnknownRule, WhatIf, toml_key,
};
pub use verdict::{Level, Measurements, Reason, Verdict, decide};
