//! Parameter sweeps: re-analysing an ecosystem while one number of it varies.
//!
//! # Parameter paths
//!
//! A path addresses one number of the ecosystem file, with the keys of the file separated by
//! dots; models are addressed by `name` and inputs by their `from`:
//!
//! | path | number |
//! |---|---|
//! | `human_target.<i>` | component `i` (0-based) of `mu_H` |
//! | `models.<p>.human` | `h_p` |
//! | `models.<p>.samples_per_round` | `n_p` |
//! | `models.<p>.curation_strength` | `s_p` |
//! | `models.<p>.reward.eta` | `eta_p` |
//! | `models.<p>.reward.g.<i>` | component `i` of `g_p` (1) |
//! | `models.<p>.inputs.<q>.share` | `w_pq` |
//! | `models.<p>.inputs.<q>.curated` | `c_pq` |
//! | `models.<p>.inputs.<q>.shift.<i>` | component `i` of a constant shift `a_pq` (2) |
//! | `models.<p>.inputs.<q>.transfer.<r>.<c>` | entry (`r`, `c`) of `T_pq` (3) |
//! | `models.<p>.inputs.<q>.transfer_scale` | a factor multiplying `T_pq` (4) |
//!
//! (1) starting from `mu_H` when `g` is not set; (2) the file must set a constant `shift`, as
//! the default shift depends on the state; (3) starting from the identity when `transfer` is not
//! set; (4) the coupling scale `t` of the paper's two-model mechanism.
//!
//! A name that contains dots is matched whole against the declared names, or can be written in
//! double quotes: `models."gpt-4.1".human`.

use crate::{Analysis, AnalyzeOptions, DynamicsError, Ecosystem, analyze};

/// The number a parameter path addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Mu(usize),
    Human(usize),
    Samples(usize),
    Strength(usize),
    Eta(usize),
    G(usize, usize),
    Share(usize, usize),
    Curated(usize, usize),
    Shift(usize, usize, usize),
    Transfer(usize, usize, usize, usize),
    TransferScale(usize, usize),
}

/// Analyses the ecosystem once per value, with the number addressed by `param` set to it.
///
/// See the [module documentation](mod@crate::sweep) for the path syntax. Each value is applied
/// to a fresh copy of `eco` (a `transfer_scale` multiplies the transfer matrix as given in `eco`)
/// and validated; the first value that makes the ecosystem invalid stops the sweep with an error
/// naming it.
///
/// ```
/// use provguard_dynamics::{AnalyzeOptions, Ecosystem, sweep};
///
/// let eco = Ecosystem::from_toml_str(
///     "[[models]]\nname = \"p\"\nhuman = 0.5\ninputs = [{ from = \"p\", share = 0.5 }]\n",
///     "eco.toml",
/// )
/// .unwrap();
/// let points = sweep(&eco, "models.p.human", &[0.1, 0.5], &AnalyzeOptions::default()).unwrap();
/// assert_eq!(points.len(), 2);
/// ```
pub fn sweep(
    eco: &Ecosystem,
    param: &str,
    values: &[f64],
    opts: &AnalyzeOptions,
) -> Result<Vec<(f64, Analysis)>, DynamicsError> {
    let target = parse(eco, param)?;
    values
        .iter()
        .map(|&value| {
            let mut varied = eco.clone();
            apply(&mut varied, target, value);
            let analysis = analyze(&varied, opts).map_err(|source| DynamicsError::SweepPoint {
                param: param.to_owned(),
                value,
                source: Box::new(source),
            })?;
            Ok((value, analysis))
        })
        .collect()
}

impl Ecosystem {
    /// Sets the number addressed by a parameter path (see [`mod@crate::sweep`] for the syntax).
    ///
    /// The result is not validated; [`crate::analyze`] does that.
    ///
    /// ```
    /// use provguard_dynamics::{Ecosystem, Model};
    ///
    /// let mut eco = Ecosystem::new(1);
    /// eco.models.push(Model::new("p"));
    /// eco.set("models.p.reward.eta", 0.25).unwrap();
    /// assert_eq!(eco.models[0].reward.eta, 0.25);
    /// ```
    pub fn set(&mut self, param: &str, value: f64) -> Result<(), DynamicsError> {
        let target = parse(self, param)?;
        apply(self, target, value);
        Ok(())
    }
}

fn apply(eco: &mut Ecosystem, target: Target, value: f64) {
    let d = eco.dim;
    let mu = eco.human_target.clone();
    match target {
        Target::Mu(i) => eco.human_target[i] = value,
        Target::Human(k) => eco.models[k].human = value,
        Target::Samples(k) => eco.models[k].samples_per_round = Some(value),
        Target::Strength(k) => eco.models[k].curation_strength = value,
        Target::Eta(k) => eco.models[k].reward.eta = value,
        Target::G(k, i) => eco.models[k].reward.g.get_or_insert(mu)[i] = value,
        Target::Share(k, q) => eco.models[k].inputs[q].share = value,
        Target::Curated(k, q) => eco.models[k].inputs[q].curated = value,
        Target::Shift(k, q, i) => {
            if let Some(shift) = &mut eco.models[k].inputs[q].shift {
                shift[i] = value;
            }
        }
        Target::Transfer(k, q, r, c) => {
            eco.models[k].inputs[q]
                .transfer
                .get_or_insert_with(|| identity(d))[r][c] = value;
        }
        Target::TransferScale(k, q) => {
            let transfer = eco.models[k].inputs[q]
                .transfer
                .get_or_insert_with(|| identity(d));
            transfer.iter_mut().flatten().for_each(|x| *x *= value);
        }
    }
}

fn identity(d: usize) -> Vec<Vec<f64>> {
    (0..d)
        .map(|r| (0..d).map(|c| if r == c { 1.0 } else { 0.0 }).collect())
        .collect()
}

fn parse(eco: &Ecosystem, param: &str) -> Result<Target, DynamicsError> {
    let err = |reason: String| DynamicsError::Parameter {
        param: param.to_owned(),
        reason,
    };
    let d = eco.dim;
    let index = |text: &str, what: &str| -> Result<usize, DynamicsError> {
        match text.parse::<usize>() {
            Ok(i) if i < d => Ok(i),
            _ => Err(err(format!(
                "{what} must be an index below `dim` = `{d}`, got `{text}`"
            ))),
        }
    };

    if let Some(rest) = param.strip_prefix("human_target.") {
        return Ok(Target::Mu(index(rest, "the component")?));
    }
    let Some(rest) = param.strip_prefix("models.") else {
        return Err(err("must start with `models.` or `human_target.`".into()));
    };

    // The model, then what follows it.
    let names: Vec<&str> = eco.models.iter().map(|m| m.name.as_str()).collect();
    let (name, rest) = split_name(rest, &names)
        .ok_or_else(|| err("does not name a declared model after `models.`".into()))?;
    let k = names
        .iter()
        .position(|&n| n == name)
        .ok_or_else(|| err(format!("model `{name}` is not declared in the ecosystem")))?;
    let model = &eco.models[k];

    let parts: Vec<&str> = rest.split('.').collect();
    match parts.as_slice() {
        ["human"] => return Ok(Target::Human(k)),
        ["samples_per_round"] => return Ok(Target::Samples(k)),
        ["curation_strength"] => return Ok(Target::Strength(k)),
        ["reward", "eta"] => return Ok(Target::Eta(k)),
        ["reward", "g", i] => return Ok(Target::G(k, index(i, "the component")?)),
        ["inputs", ..] => {}
        _ => return Err(err(format!("`{rest}` is not a number of model `{name}`"))),
    }

    // An input, then its field.
    let rest = &rest["inputs.".len().min(rest.len())..];
    let froms: Vec<&str> = model.inputs.iter().map(|i| i.from.as_str()).collect();
    let (from, rest) = split_name(rest, &froms).ok_or_else(|| {
        err(format!(
            "does not name an input of model `{name}` after `inputs.`"
        ))
    })?;
    let q = froms
        .iter()
        .position(|&f| f == from)
        .ok_or_else(|| err(format!("model `{name}` has no input from `{from}`")))?;
    let parts: Vec<&str> = rest.split('.').collect();
    match parts.as_slice() {
        ["share"] => Ok(Target::Share(k, q)),
        ["curated"] => Ok(Target::Curated(k, q)),
        ["transfer_scale"] => Ok(Target::TransferScale(k, q)),
        ["shift", i] => {
            if model.inputs[q].shift.is_none() {
                return Err(err(format!(
                    "the input of `{name}` from `{from}` has the default shift, which depends on \
                     the state; give a constant `shift` in the ecosystem to sweep its components"
                )));
            }
            Ok(Target::Shift(k, q, index(i, "the component")?))
        }
        ["transfer", r, c] => Ok(Target::Transfer(
            k,
            q,
            index(r, "the row")?,
            index(c, "the column")?,
        )),
        _ => Err(err(format!(
            "`{rest}` is not a number of the input of `{name}` from `{from}`"
        ))),
    }
}

/// Splits `"<name>.<rest>"` where the name is double-quoted or one of `names` (longest first)
/// or, failing that, the text up to the first dot.
fn split_name<'a>(text: &'a str, names: &[&str]) -> Option<(&'a str, &'a str)> {
    if let Some(quoted) = text.strip_prefix('"') {
        let end = quoted.find('"')?;
        return Some((&quoted[..end], quoted[end + 1..].strip_prefix('.')?));
    }
    let known = names
        .iter()
        .filter(|name| {
            text.strip_prefix(**name)
                .is_some_and(|rest| rest.starts_with('.'))
        })
        .max_by_key(|name| name.len());
    match known {
        Some(name) => Some((&text[..name.len()], &text[name.len() + 1..])),
        None => text.split_once('.'),
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

    fn eco() -> Ecosystem {
        let mut eco = Ecosystem::new(2);
        let mut p = Model::new("p");
        p.inputs.push(Input::new("gpt-4.1", 0.5));
        eco.models.push(p);
        let mut q = Model::new("gpt-4.1");
        let mut from_p = Input::new("p", 1.0);
        from_p.transfer = Some(vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
        q.inputs.push(from_p);
        eco.models.push(q);
        eco
    }

    #[test]
    fn every_documented_path_sets_its_number() {
        let mut e = eco();
        for (path, value) in [
            ("human_target.1", 0.5),
            ("models.p.human", 0.25),
            ("models.p.samples_per_round", 100.0),
            ("models.p.curation_strength", 0.75),
            ("models.p.reward.eta", 0.18),
            ("models.p.reward.g.0", -1.0),
            ("models.p.inputs.gpt-4.1.share", 0.4),
            ("models.p.inputs.\"gpt-4.1\".curated", 0.3),
            ("models.gpt-4.1.inputs.p.transfer.0.1", 5.0),
        ] {
            e.set(path, value).unwrap();
        }
        assert_eq!(e.human_target, [1.0, 0.5]);
        let p = &e.models[0];
        assert_eq!(
            (p.human, p.samples_per_round, p.curation_strength),
            (0.25, Some(100.0), 0.75)
        );
        assert_eq!(p.reward.eta, 0.18);
        assert_eq!(p.reward.g, Some(vec![-1.0, 0.5]));
        assert_eq!((p.inputs[0].share, p.inputs[0].curated), (0.4, 0.3));
        assert_eq!(
            e.models[1].inputs[0].transfer.as_ref().unwrap()[0],
            [1.0, 5.0]
        );

        e.set("models.gpt-4.1.inputs.p.transfer_scale", 0.5)
            .unwrap();
        assert_eq!(
            e.models[1].inputs[0].transfer.as_ref().unwrap()[1],
            [1.5, 2.0]
        );
    }

    #[test]
    fn bad_paths_are_rejected_with_the_reason() {
        let e = eco();
        for (path, needle) in [
            ("dim", "must start with"),
            ("models.zz.human", "not declared"),
            ("models.p.bogus", "is not a number of model `p`"),
            ("models.p.inputs.q.share", "no input from `q`"),
            ("models.p.inputs.gpt-4.1.shift.0", "default shift"),
            ("models.p.reward.g.2", "below `dim`"),
        ] {
            let msg = parse(&e, path).unwrap_err().to_string();
            assert!(msg.contains(needle), "{path}: {msg}");
        }
    }
}
