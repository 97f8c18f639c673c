//! From the measured composition to the home model's place in the ecosystem.
//!
//! The shares of the home model `k` are fractions of admitted records:
//!
//! ```text
//! h_k  = (records of human sources + their parts of ambiguous records) / admitted
//! w_kj = (records of model j + its parts of ambiguous records) / admitted
//! u_k  = unknown records / admitted,        h_k + sum_j w_kj + u_k = 1
//! c_kj = curated weight of j / weight of j
//! ```
//!
//! and `u_k` is folded as the policy says: into `w_kk` (count-as-synthetic), into `h_k`
//! (count-as-human), or dropped with the rest renormalised (exclude).

use std::collections::BTreeMap;

use provguard_dynamics::{AnalyzeOptions, Ecosystem, Input, Model, analyze};
use provguard_gate::UnknownRule;
use provguard_ledger::SourceEntry;
use provguard_lineage::{Composition, Origin};

use crate::Error;
use crate::report::DynamicsReport;

/// The home model's folded shares.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shares {
    pub human: f64,
    /// Shares of synthetic sources by name, the home model itself included.
    pub models: BTreeMap<String, f64>,
    /// Curated share of each synthetic source.
    pub curated: BTreeMap<String, f64>,
}

/// Folds the composition into shares; `None` when no record is left to measure.
pub(crate) fn fold(
    composition: &Composition,
    sources: &[SourceEntry],
    home: &str,
    rule: UnknownRule,
) -> Option<Shares> {
    let n = composition.records as f64;
    if composition.records == 0 {
        return None;
    }
    let mut human = composition.human_weight() / n;
    let mut models = BTreeMap::new();
    let mut curated = BTreeMap::new();
    for (id, tally) in &composition.by_source {
        let source = &sources[*id as usize];
        if source.origin == Origin::Synthetic && tally.weight > 0.0 {
            models.insert(source.name.clone(), tally.weight / n);
            curated.insert(source.name.clone(), tally.curated_weight / tally.weight);
        }
    }

    let unknown = composition.unknown as f64 / n;
    match rule {
        UnknownRule::CountAsSynthetic if unknown > 0.0 => {
            *models.entry(home.to_owned()).or_default() += unknown;
            curated.entry(home.to_owned()).or_default();
        }
        UnknownRule::CountAsHuman => human += unknown,
        UnknownRule::Exclude => {
            let known = 1.0 - unknown;
            if known <= 0.0 {
                return None;
            }
            human /= known;
            models.values_mut().for_each(|w| *w /= known);
        }
        UnknownRule::CountAsSynthetic => {}
    }
    Some(Shares {
        human,
        models,
        curated,
    })
}

/// Builds the ecosystem around the home model and reads the home model's quantities.
pub(crate) fn model_home(
    shares: Option<&Shares>,
    home: &str,
    samples: u64,
    rule: UnknownRule,
) -> Result<DynamicsReport, Error> {
    let mut report = DynamicsReport {
        unknown_rule: rule.as_str(),
        ..DynamicsReport::default()
    };
    let Some(shares) = shares else {
        report
            .assumptions
            .push("no record to measure: every quantity is undefined".to_owned());
        return Ok(report);
    };
    report.human_share = Some(shares.human);
    report.self_share = Some(shares.models.get(home).copied().unwrap_or(0.0));
    report.model_shares = shares
        .models
        .iter()
        .filter(|(name, _)| *name != home)
        .map(|(n, w)| (n.clone(), *w))
        .collect();

    let mut model = Model::new(home);
    model.human = shares.human;
    model.samples_per_round = Some(samples as f64);
    for (name, share) in &shares.models {
        let mut input = Input::new(name.clone(), *share);
        input.curated = shares.curated.get(name).copied().unwrap_or(0.0);
        model.inputs.push(input);
    }
    // Folding leaves shares that add up to one up to rounding; the engine allows a little.
    clamp_total(&mut model);

    let mut ecosystem = Ecosystem::new(1);
    ecosystem.models.push(model);
    let analysis = analyze(
        &ecosystem,
        &AnalyzeOptions {
            watched: vec![home.to_owned()],
        },
    )?;
    let home_analysis = analysis
        .models
        .iter()
        .find(|m| m.name == home)
        .ok_or_else(|| Error::Bug(format!("the analysis lost the home model `{home}`")))?;

    report.regime = Some(regime_name(&analysis));
    report.anchored = Some(home_analysis.anchored);
    report.cross_influence_share = home_analysis.cross_influence_share;
    report.synthetic_depth = home_analysis.synthetic_depth;
    report.diversity_retention = home_analysis.diversity_retention;
    report.spectral_radius = Some(analysis.spectral_radius);
    report.lineage_spectral_radius = Some(analysis.lineage_spectral_radius);
    if rule == UnknownRule::CountAsSynthetic {
        report.assumptions.push(
            "records of unknown origin count as the home model's own outputs (count-as-synthetic)"
                .to_owned(),
        );
    }
    report.assumptions.extend(analysis.assumptions);
    Ok(report)
}

fn regime_name(analysis: &provguard_dynamics::Analysis) -> String {
    serde_json::to_value(analysis.regime)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{:?}", analysis.regime).to_lowercase())
}

/// Scales the shares down by the rounding excess, if any, so they never add up past one.
fn clamp_total(model: &mut Model) {
    let total = model.human + model.inputs.iter().map(|i| i.share).sum::<f64>();
    if total > 1.0 {
        model.human /= total;
        model.inputs.iter_mut().for_each(|i| i.share /= total);
    }
}

#[cfg(test)]
mod tests {
    use provguard_lineage::{Attribution, Lineage, SourceKind};

    use super::*;

    fn sources() -> Vec<SourceEntry> {
        let s = |name: &str, origin| SourceEntry {
            name: name.to_owned(),
            origin,
            curated: false,
        };
        vec![
            s("people", Origin::Human),
            s("gpt", Origin::Synthetic),
            s("home", Origin::Synthetic),
        ]
    }

    fn composition(lineages: &[Lineage]) -> Composition {
        let kinds = sources()
            .iter()
            .map(|s| SourceKind {
                origin: s.origin,
                curated: s.curated,
            })
            .collect();
        let mut c = Composition::new(kinds);
        for l in lineages {
            c.add(
                &Attribution {
                    lineage: l.clone(),
                    matched_texts: 1,
                    total_texts: 1,
                },
                false,
            );
        }
        c
    }

    #[test]
    fn unknown_is_folded_as_the_rule_says() {
        let c = composition(&[
            Lineage::Source(0),
            Lineage::Source(1),
            Lineage::Unknown,
            Lineage::Unknown,
        ]);
        let s = fold(&c, &sources(), "home", UnknownRule::CountAsSynthetic).unwrap();
        assert_eq!(
            (s.human, s.models["gpt"], s.models["home"]),
            (0.25, 0.25, 0.5)
        );
        let s = fold(&c, &sources(), "home", UnknownRule::CountAsHuman).unwrap();
        assert_eq!((s.human, s.models.get("home")), (0.75, None));
        let s = fold(&c, &sources(), "home", UnknownRule::Exclude).unwrap();
        assert_eq!((s.human, s.models["gpt"]), (0.5, 0.5));
    }

    #[test]
    fn home_quantities_follow_the_absorbing_chain() {
        // h = 0.5, w_gpt = 0.3, w_self = 0.2: N_kk = 1 / 0.8, so X = 1 - 0.5 / 0.8 and
        // D = N_kk (1 + 0.3) - 1.
        let shares = Shares {
            human: 0.5,
            models: BTreeMap::from([("gpt".to_owned(), 0.3), ("home".to_owned(), 0.2)]),
            curated: BTreeMap::new(),
        };
        let r = model_home(Some(&shares), "home", 1000, UnknownRule::CountAsSynthetic).unwrap();
        assert!((r.cross_influence_share.unwrap() - 0.375).abs() < 1e-12);
        assert!((r.synthetic_depth.unwrap() - 0.625).abs() < 1e-12);
        assert_eq!(r.anchored, Some(true));
    }

    #[test]
    fn all_synthetic_home_is_unanchored_with_undefined_quantities() {
        let shares = Shares {
            human: 0.0,
            models: BTreeMap::from([("home".to_owned(), 1.0)]),
            curated: BTreeMap::new(),
        };
        let r = model_home(Some(&shares), "home", 10, UnknownRule::CountAsSynthetic).unwrap();
        assert_eq!(r.anchored, Some(false));
        assert_eq!(r.cross_influence_share, None);
        assert_eq!(r.synthetic_depth, None);
        assert_ne!(r.regime.as_deref(), Some("stable"));
    }
}
