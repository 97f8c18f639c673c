//! The ecosystem: which models exist, what each one trains on, and how it is rewarded.
//!
//! An [`Ecosystem`] is the input of [`crate::analyze`]. It is built in code or read from an
//! ecosystem file (see [`crate::file`] and `docs/ecosystem.md`).

use serde::Serialize;

use crate::DynamicsError;

/// Values of `h` (and of mixing weights) below this are taken as zero when deciding lineage.
pub const ZERO_SHARE: f64 = 1e-12;

/// Slack allowed when checking that a model's shares do not exceed 1.
pub const SHARE_TOLERANCE: f64 = 1e-9;

/// Default curation strength `s_k`.
pub const DEFAULT_CURATION_STRENGTH: f64 = 0.5;

/// Several models retrained round after round on human data and on each other's outputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ecosystem {
    /// Dimension `d` of every model's parameter vector.
    pub dim: usize,
    /// The human target `mu_H` (length `dim`).
    pub human_target: Vec<f64>,
    /// The declared models.
    pub models: Vec<Model>,
}

/// One model of the ecosystem and its training mix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Model {
    /// Unique name, referred to by other models' inputs.
    pub name: String,
    /// Share `h_k` of the model's training records that come from people.
    pub human: f64,
    /// Records per round `n_k`; `None` when unknown (no finite-sample shrinkage).
    pub samples_per_round: Option<f64>,
    /// The model's alignment reward `J_k`.
    pub reward: Reward,
    /// Curation strength `s_k` in (0, 1].
    pub curation_strength: f64,
    /// Synthetic sources: one entry per model whose outputs this model trains on.
    pub inputs: Vec<Input>,
}

/// The quadratic reward `J_k(theta) = g_k . theta - (eta_k / 2) |theta|^2`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reward {
    /// Linear coefficient `g_k`; `None` means the human target `mu_H`.
    pub g: Option<Vec<f64>>,
    /// Curvature `eta_k >= 0`; 0 makes the reward linear.
    pub eta: f64,
}

/// Outputs of another model (or of the model itself) in a model's training data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Input {
    /// Name of the source model `j` (may be the receiving model itself).
    pub from: String,
    /// Share `w_kj` of the receiving model's records that are outputs of `from`.
    pub share: f64,
    /// Share `c_kj` of those records that people curated.
    pub curated: f64,
    /// Constant curation shift `a_kj`; `None` for the default (state-dependent) shift.
    pub shift: Option<Vec<f64>>,
    /// Transfer matrix `T_kj` (row-major, `dim` x `dim`); `None` for the identity.
    pub transfer: Option<Vec<Vec<f64>>>,
}

impl Default for Reward {
    fn default() -> Self {
        Self { g: None, eta: 1.0 }
    }
}

impl Reward {
    /// The linear coefficient `g_k`, falling back to the human target.
    #[must_use]
    pub fn g_or<'a>(&'a self, human_target: &'a [f64]) -> &'a [f64] {
        self.g.as_deref().unwrap_or(human_target)
    }
}

impl Model {
    /// A model with the file format's defaults: no human data, unknown sample size, the default
    /// reward, curation strength 0.5 and no inputs.
    ///
    /// ```
    /// use provguard_dynamics::{Input, Model};
    ///
    /// let mut p = Model::new("p");
    /// p.human = 0.5;
    /// p.inputs.push(Input::new("p", 0.5));
    /// assert_eq!(p.curation_strength, 0.5);
    /// ```
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            human: 0.0,
            samples_per_round: None,
            reward: Reward::default(),
            curation_strength: DEFAULT_CURATION_STRENGTH,
            inputs: Vec::new(),
        }
    }

    /// Sum of the model's synthetic shares `sum_j w_kj`.
    #[must_use]
    pub fn synthetic_share(&self) -> f64 {
        self.inputs.iter().map(|i| i.share).sum()
    }
}

impl Input {
    /// An uncurated input with the default shift and the identity transfer.
    ///
    /// ```
    /// use provguard_dynamics::Input;
    ///
    /// let input = Input::new("q", 0.3);
    /// assert_eq!((input.share, input.curated), (0.3, 0.0));
    /// ```
    #[must_use]
    pub fn new(from: impl Into<String>, share: f64) -> Self {
        Self {
            from: from.into(),
            share,
            curated: 0.0,
            shift: None,
            transfer: None,
        }
    }
}

impl Ecosystem {
    /// An ecosystem of dimension `dim` with the default human target (all ones) and no models.
    ///
    /// ```
    /// use provguard_dynamics::{Ecosystem, Model};
    ///
    /// let mut eco = Ecosystem::new(2);
    /// eco.models.push(Model::new("p"));
    /// assert_eq!(eco.human_target, vec![1.0, 1.0]);
    /// ```
    #[must_use]
    pub fn new(dim: usize) -> Self {
        Self {
            dim,
            human_target: vec![1.0; dim],
            models: Vec::new(),
        }
    }

    /// The declared model called `name`.
    #[must_use]
    pub fn model(&self, name: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.name == name)
    }

    /// Checks the ecosystem against the contract: dimensions of `human_target`, `g`, `shift` and
    /// `transfer` match `dim`; shares, curated shares and `human` lie in [0, 1]; a model's shares,
    /// and its shares plus `human`, sum to at most 1 (+1e-9); `curation_strength` lies in
    /// (0, 1]; `eta >= 0`; `samples_per_round >= 1`; names are unique and not empty; every number
    /// is finite.
    ///
    /// Errors name the model, the input (by its `from`) and the field.
    pub fn validate(&self) -> Result<(), DynamicsError> {
        let d = self.dim;
        if d == 0 {
            return Err(DynamicsError::invalid(
                None,
                None,
                "dim",
                "must be at least `1`",
            ));
        }
        check_vector(None, None, "human_target", &self.human_target, d)?;
        if self.models.is_empty() {
            return Err(DynamicsError::invalid(
                None,
                None,
                "models",
                "must list at least one model",
            ));
        }

        for (index, model) in self.models.iter().enumerate() {
            let name = model.name.as_str();
            if name.is_empty() {
                let field = format!("models[{index}].name");
                return Err(DynamicsError::invalid(
                    None,
                    None,
                    field,
                    "must not be empty",
                ));
            }
            if self.models[..index].iter().any(|m| m.name == name) {
                return Err(DynamicsError::invalid(
                    Some(name),
                    None,
                    "name",
                    "is declared twice",
                ));
            }
            self.validate_model(model)?;
        }
        Ok(())
    }

    fn validate_model(&self, model: &Model) -> Result<(), DynamicsError> {
        let d = self.dim;
        let name = Some(model.name.as_str());
        check_unit(name, None, "human", model.human)?;
        if let Some(n) = model.samples_per_round
            && !(n.is_finite() && n >= 1.0)
        {
            let reason = format!("must be a finite number >= 1, got `{n}`");
            return Err(DynamicsError::invalid(
                name,
                None,
                "samples_per_round",
                reason,
            ));
        }
        let s = model.curation_strength;
        if !(s.is_finite() && s > 0.0 && s <= 1.0) {
            let reason = format!("must be in (0, 1], got `{s}`");
            return Err(DynamicsError::invalid(
                name,
                None,
                "curation_strength",
                reason,
            ));
        }
        let eta = model.reward.eta;
        if !(eta.is_finite() && eta >= 0.0) {
            let reason = format!("must be a finite number >= 0, got `{eta}`");
            return Err(DynamicsError::invalid(name, None, "reward.eta", reason));
        }
        if let Some(g) = &model.reward.g {
            check_vector(name, None, "reward.g", g, d)?;
        }

        for (index, input) in model.inputs.iter().enumerate() {
            let from = input.from.as_str();
            if from.is_empty() {
                let field = format!("inputs[{index}].from");
                return Err(DynamicsError::invalid(
                    name,
                    None,
                    field,
                    "must not be empty",
                ));
            }
            if model.inputs[..index].iter().any(|i| i.from == from) {
                let reason = "appears twice: give one input per source";
                return Err(DynamicsError::invalid(name, Some(from), "from", reason));
            }
            check_unit(name, Some(from), "share", input.share)?;
            check_unit(name, Some(from), "curated", input.curated)?;
            if let Some(shift) = &input.shift {
                check_vector(name, Some(from), "shift", shift, d)?;
            }
            if let Some(transfer) = &input.transfer {
                if transfer.len() != d {
                    let reason = format!("must have `{d}` rows, got `{}`", transfer.len());
                    return Err(DynamicsError::invalid(name, Some(from), "transfer", reason));
                }
                for (row, values) in transfer.iter().enumerate() {
                    check_vector(name, Some(from), &format!("transfer[{row}]"), values, d)?;
                }
            }
        }

        let total = model.synthetic_share();
        if total > 1.0 + SHARE_TOLERANCE {
            let reason = format!("sum to `{total}`, more than 1");
            return Err(DynamicsError::invalid(name, None, "inputs[].share", reason));
        }
        // h_k + sum_j w_kj + u_k = 1, so h_k + sum_j w_kj <= 1
        let with_human = model.human + total;
        if with_human > 1.0 + SHARE_TOLERANCE {
            let reason = format!("plus `inputs[].share` sum to `{with_human}`, more than 1");
            return Err(DynamicsError::invalid(name, None, "human", reason));
        }
        Ok(())
    }
}

fn check_unit(
    model: Option<&str>,
    input: Option<&str>,
    field: &str,
    x: f64,
) -> Result<(), DynamicsError> {
    if (0.0..=1.0).contains(&x) {
        Ok(())
    } else {
        Err(DynamicsError::invalid(
            model,
            input,
            field,
            format!("must be in [0, 1], got `{x}`"),
        ))
    }
}

fn check_vector(
    model: Option<&str>,
    input: Option<&str>,
    field: &str,
    values: &[f64],
    dim: usize,
) -> Result<(), DynamicsError> {
    if values.len() != dim {
        let reason = format!("must have length `dim` = `{dim}`, got `{}`", values.len());
        return Err(DynamicsError::invalid(model, input, field, reason));
    }
    if let Some(x) = values.iter().find(|x| !x.is_finite()) {
        return Err(DynamicsError::invalid(
            model,
            input,
            field,
            format!("must be finite, got `{x}`"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_models() -> Ecosystem {
        let mut eco = Ecosystem::new(1);
        let mut p = Model::new("p");
        p.human = 0.5;
        p.inputs.push(Input::new("q", 0.5));
        eco.models.push(p);
        eco.models.push(Model::new("q"));
        eco
    }

    #[test]
    fn valid_ecosystem_passes() {
        two_models().validate().unwrap();
    }

    #[test]
    fn shares_over_one_are_rejected_within_tolerance() {
        let mut eco = two_models();
        eco.models[0].human = 0.0;
        eco.models[0]
            .inputs
            .push(Input::new("p", 1.0 - 0.5 + 0.5e-9));
        eco.validate().unwrap();
        eco.models[0].inputs[1].share = 0.6;
        let err = eco.validate().unwrap_err().to_string();
        assert!(
            err.contains("model `p`") && err.contains("`inputs[].share`"),
            "{err}"
        );
    }

    #[test]
    fn human_plus_shares_over_one_names_the_model_and_both_fields() {
        // Broke: `human = 0.6` with one input at `share = 0.6` was accepted (stable point 1.2).
        let mut eco = two_models();
        eco.models[0].human = 0.6;
        eco.models[0].inputs[0].share = 0.6;
        let err = eco.validate().unwrap_err().to_string();
        assert_eq!(
            err,
            "model `p`: `human` plus `inputs[].share` sum to `1.2`, more than 1"
        );
        eco.models[0].inputs[0].share = 0.4 + 0.5e-9;
        eco.validate().unwrap();
    }

    #[test]
    fn duplicate_names_and_bad_ranges_are_rejected() {
        let mut eco = two_models();
        eco.models[1].name = "p".into();
        assert!(
            eco.validate()
                .unwrap_err()
                .to_string()
                .contains("declared twice")
        );

        let mut eco = two_models();
        eco.models[1].curation_strength = 0.0;
        assert!(
            eco.validate()
                .unwrap_err()
                .to_string()
                .contains("`curation_strength`")
        );

        let mut eco = two_models();
        eco.models[1].reward.eta = -1.0;
        assert!(
            eco.validate()
                .unwrap_err()
                .to_string()
                .contains("`reward.eta`")
        );

        let mut eco = two_models();
        eco.models[0].inputs[0].transfer = Some(vec![vec![1.0, 0.0]]);
        let err = eco.validate().unwrap_err().to_string();
        assert!(
            err.contains("input from `q`") && err.contains("`transfer[0]`"),
            "{err}"
        );

        let mut eco = two_models();
        eco.models[0].inputs[0].from = String::new();
        assert!(
            eco.validate()
                .unwrap_err()
                .to_string()
                .contains("must not be empty")
        );

        let mut eco = two_models();
        eco.models[0].human = f64::NAN;
        assert!(eco.validate().unwrap_err().to_string().contains("`human`"));
    }
}
