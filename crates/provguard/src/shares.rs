//! From measured compositions to the ecosystem around the home model.
//!
//! The shares of a model `k` are fractions of its admitted records:
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
//!
//! The ecosystem a batch is judged in has three kinds of models: the home model (this batch,
//! cumulated with the home model's recorded scans, or alone), the models whose scans the
//! ledger recorded (their cumulated compositions), and the models an ecosystem file
//! describes. Scanned models take identity transfers; a model the file also describes keeps
//! its reward and curation strength from the file.

use std::collections::BTreeMap;

use provguard_dynamics::{
    Analysis, AnalyzeOptions, Ecosystem, Effect, Influence, Input, Model, analyze,
};
use provguard_gate::{Measurements, Policy, UnknownRule, Verdict, WhatIf, decide};
use provguard_ledger::{Ledger, RecordedScan, SourceEntry};
use provguard_lineage::{Composition, Origin};
use serde::Serialize;
use tracing::{debug, info_span};

use crate::Error;
use crate::report::{DynamicsReport, WhatIfReport};

/// A model's composition before folding: the part of a recorded scan the dynamics use.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Measured {
    /// Admitted records `n`.
    pub records: u64,
    /// `h`.
    pub human: f64,
    /// `u`.
    pub unknown: f64,
    /// `w_j` by synthetic source.
    pub models: BTreeMap<String, f64>,
    /// `c_j` by synthetic source.
    pub curated: BTreeMap<String, f64>,
}

impl Measured {
    /// The shares of a scan's composition.
    pub(crate) fn of(composition: &Composition, sources: &[SourceEntry]) -> Self {
        let n = composition.records as f64;
        let mut measured = Self {
            records: composition.records,
            ..Self::default()
        };
        if composition.records == 0 {
            return measured;
        }
        measured.human = composition.human_weight() / n;
        measured.unknown = composition.unknown as f64 / n;
        for (id, tally) in &composition.by_source {
            let source = &sources[*id as usize];
            if source.origin == Origin::Synthetic && tally.weight > 0.0 {
                measured
                    .models
                    .insert(source.name.clone(), tally.weight / n);
                measured
                    .curated
                    .insert(source.name.clone(), tally.curated_weight / tally.weight);
            }
        }
        measured
    }

    fn of_recorded(scan: &RecordedScan) -> Self {
        Self {
            records: scan.records,
            human: scan.human,
            unknown: scan.unknown,
            models: scan.models.clone(),
            curated: scan.curated.clone(),
        }
    }

    /// Several compositions of one model as one, weighted by record count:
    /// `h = sum_i n_i h_i / sum_i n_i`, `c_j = sum_i n_i w_ij c_ij / sum_i n_i w_ij`.
    fn cumulate<'a>(parts: impl IntoIterator<Item = &'a Self>) -> Self {
        let mut total = Self::default();
        let mut curated_weight: BTreeMap<String, f64> = BTreeMap::new();
        for part in parts {
            let n = part.records as f64;
            total.records += part.records;
            total.human += n * part.human;
            total.unknown += n * part.unknown;
            for (name, w) in &part.models {
                *total.models.entry(name.clone()).or_default() += n * w;
                let c = part.curated.get(name).copied().unwrap_or(0.0);
                *curated_weight.entry(name.clone()).or_default() += n * w * c;
            }
        }
        let n = total.records as f64;
        if n > 0.0 {
            total.human /= n;
            total.unknown /= n;
            for (name, w) in &mut total.models {
                let weight = *w;
                total.curated.insert(
                    name.clone(),
                    if weight > 0.0 {
                        curated_weight[name] / weight
                    } else {
                        0.0
                    },
                );
                *w /= n;
            }
        }
        total
    }

    /// Folds unknown records and returns `(h, w)`; `None` when no record is left to measure.
    pub(crate) fn fold(
        &self,
        name: &str,
        rule: UnknownRule,
    ) -> Option<(f64, BTreeMap<String, f64>)> {
        if self.records == 0 {
            return None;
        }
        let mut human = self.human;
        let mut models = self.models.clone();
        match rule {
            UnknownRule::CountAsSynthetic => {
                if self.unknown > 0.0 {
                    *models.entry(name.to_owned()).or_default() += self.unknown;
                }
            }
            UnknownRule::CountAsHuman => human += self.unknown,
            UnknownRule::Exclude => {
                let known = 1.0 - self.unknown;
                if known <= 0.0 {
                    return None;
                }
                human /= known;
                for w in models.values_mut() {
                    *w /= known;
                }
            }
        }
        Some((human, models))
    }

    /// This composition as model `name` of an ecosystem, on top of `base` (the file's
    /// description of the model, for its reward and curation strength).
    fn to_model(&self, name: &str, rule: UnknownRule, base: Option<&Model>) -> Option<Model> {
        let (human, models) = self.fold(name, rule)?;
        let mut model = base.cloned().unwrap_or_else(|| Model::new(name));
        model.human = human;
        model.samples_per_round = Some(self.records as f64);
        model.inputs = models
            .iter()
            .map(|(from, share)| {
                let mut input = Input::new(from.clone(), *share);
                input.curated = self.curated.get(from).copied().unwrap_or(0.0);
                input
            })
            .collect();
        // Folding leaves shares that add up to one up to rounding; never let them pass one.
        let total = model.human + model.synthetic_share();
        if total > 1.0 {
            model.human /= total;
            for input in &mut model.inputs {
                input.share /= total;
            }
        }
        Some(model)
    }
}

/// A composition measured, the ecosystem around the home model modelled, and the verdict.
#[derive(Debug, Clone)]
pub struct Judgement {
    /// The composition's shares, before unknown records are folded.
    pub measured: Measured,
    /// The home model's ecosystem quantities.
    pub dynamics: DynamicsReport,
    /// The policy's verdict with its reasons.
    pub verdict: Verdict,
}

/// What the gate is told besides the composition.
#[derive(Debug, Clone, Copy)]
pub struct GateInput<'a> {
    /// The model the records will train.
    pub home: &'a str,
    /// The policy that decides.
    pub policy: &'a Policy,
    /// The models the scan does not measure, from an ecosystem file.
    pub ecosystem: Option<&'a Ecosystem>,
    /// Records that could not be read.
    pub rejected: u64,
    /// Strict (CI) mode: any rejected record blocks.
    pub strict: bool,
}

/// Measures `composition` (of records attributed against `ledger`), models the ecosystem
/// around the home model and applies the policy: the model and decide stages, shared by
/// [`crate::Scan`], [`crate::batch::Tally`] and the distributed scan of `provguard-cluster`.
pub fn judge(
    composition: &Composition,
    ledger: &Ledger,
    gate: GateInput<'_>,
) -> Result<Judgement, Error> {
    let model_span = info_span!("model").entered();
    let sources = ledger.sources();
    let measured = Measured::of(composition, sources);
    let context = Context {
        home: gate.home,
        rule: gate.policy.gate.unknown,
        what_if: gate.policy.gate.what_if,
        file: gate.ecosystem,
        recorded: ledger.scans(),
    };
    let dynamics = model_ecosystem(&measured, context)?;
    drop(model_span);

    let _span = info_span!("decide").entered();
    let c = composition;
    let measurements = Measurements {
        human_share: dynamics.human_share,
        cross_influence_share: dynamics.cross_influence_share,
        synthetic_depth: dynamics.synthetic_depth,
        unknown_share: c.share(c.unknown as f64),
        spectral_radius: dynamics.spectral_radius,
        backfires: backfires(&dynamics.influence, gate.home),
        admitted: Some(c.records),
        rejected: gate.rejected,
        strict: gate.strict,
        sources: c
            .by_source
            .iter()
            .filter_map(|(id, t)| Some((sources[*id as usize].name.clone(), c.share(t.weight)?)))
            .collect(),
    };
    let verdict = decide(gate.policy, &measurements);
    debug!(
        verdict = verdict.level.as_str(),
        reasons = verdict.reasons.len(),
        "decided"
    );
    Ok(Judgement {
        measured,
        dynamics,
        verdict,
    })
}

/// One sentence for each curation share of the home model's data whose effect on the home
/// model, through the loop, is to lower its reward although curation means to raise it.
fn backfires(influence: &[Influence], home: &str) -> Vec<String> {
    let fmt = |v: Option<f64>| v.map_or_else(|| "undefined".to_owned(), |v| format!("{v:.4}"));
    influence
        .iter()
        .filter(|i| i.model == home && i.on == home)
        .filter_map(|i| {
            let what = match i.effect? {
                Effect::Backfires => "backfires on",
                Effect::Hurts => "hurts",
                _ => return None,
            };
            Some(format!(
                "curating the data `{home}` takes from `{}` {what} `{home}` through the loop: \
                 dJ/dc is {} (alone it would be {})",
                i.from,
                fmt(i.total),
                fmt(i.isolated)
            ))
        })
        .collect()
}

/// What the dynamics stage needs to know besides the batch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    pub home: &'a str,
    pub rule: UnknownRule,
    pub what_if: WhatIf,
    pub file: Option<&'a Ecosystem>,
    pub recorded: &'a [RecordedScan],
}

/// Models the ecosystem with the batch (and, when the ledger recorded earlier scans of the
/// home model, without it) and reports the home model's quantities and their change.
pub(crate) fn model_ecosystem(batch: &Measured, cx: Context<'_>) -> Result<DynamicsReport, Error> {
    let mut report = DynamicsReport {
        unknown_rule: cx.rule.as_str(),
        ..DynamicsReport::default()
    };
    let recorded_home: Vec<Measured> = cx
        .recorded
        .iter()
        .filter(|s| s.home == cx.home)
        .map(Measured::of_recorded)
        .collect();

    let home_after = match cx.what_if {
        WhatIf::Cumulative => Measured::cumulate(recorded_home.iter().chain([batch])),
        WhatIf::Batch => batch.clone(),
    };
    let Some((human, models)) = home_after.fold(cx.home, cx.rule) else {
        report
            .assumptions
            .push("no record to measure: every quantity is undefined".to_owned());
        return Ok(report);
    };
    report.human_share = Some(human);
    report.self_share = Some(models.get(cx.home).copied().unwrap_or(0.0));
    report.model_shares = models
        .into_iter()
        .filter(|(name, _)| name != cx.home)
        .collect();

    let (after, ecosystem) = analyze_around(&home_after, cx)?;
    report.ecosystem = Some(ecosystem);
    let home = home_analysis(&after, cx.home)?;
    report.regime = Some(regime_name(&after));
    report.anchored = Some(home.anchored);
    report.cross_influence_share = home.cross_influence_share;
    report.synthetic_depth = home.synthetic_depth;
    report.diversity_retention = home.diversity_retention;
    report.spectral_radius = Some(after.spectral_radius);
    report.lineage_spectral_radius = Some(after.lineage_spectral_radius);
    report.models.clone_from(&after.models);
    report.influence.clone_from(&after.influence);

    if cx.rule == UnknownRule::CountAsSynthetic && batch.unknown > 0.0 {
        report.assumptions.push(
            "records of unknown origin count as the home model's own outputs (count-as-synthetic)"
                .to_owned(),
        );
    }
    if !recorded_home.is_empty() {
        report.assumptions.push(format!(
            "the home model's composition cumulates {} recorded scans with this batch ({})",
            recorded_home.len(),
            cx.what_if.as_str()
        ));
        let before_home = Measured::cumulate(recorded_home.iter());
        let (before, _) = analyze_around(&before_home, cx)?;
        let before_home_analysis = home_analysis(&before, cx.home)?;
        report.what_if = Some(WhatIfReport::between(
            before_home_analysis,
            home,
            &before,
            &after,
        ));
    }
    report.assumptions.extend(after.assumptions);
    Ok(report)
}

/// The ecosystem with `home` as the home model's composition, analysed, and the ecosystem.
fn analyze_around(home: &Measured, cx: Context<'_>) -> Result<(Analysis, Ecosystem), Error> {
    let mut ecosystem = cx.file.cloned().unwrap_or_else(|| Ecosystem::new(1));
    let mut scanned: BTreeMap<&str, Vec<Measured>> = BTreeMap::new();
    for scan in cx.recorded.iter().filter(|s| s.home != cx.home) {
        scanned
            .entry(&scan.home)
            .or_default()
            .push(Measured::of_recorded(scan));
    }

    let mut place = |name: &str, measured: &Measured| {
        let at = ecosystem.models.iter().position(|m| m.name == name);
        let model = measured.to_model(name, cx.rule, at.map(|i| &ecosystem.models[i]));
        match (at, model) {
            (Some(i), Some(m)) => ecosystem.models[i] = m,
            (None, Some(m)) => ecosystem.models.push(m),
            (_, None) => {}
        }
    };
    for (name, scans) in &scanned {
        place(name, &Measured::cumulate(scans.iter()));
    }
    place(cx.home, home);
    if ecosystem.model(cx.home).is_none() {
        ecosystem.models.push(Model::new(cx.home));
    }
    let analysis = analyze(
        &ecosystem,
        &AnalyzeOptions {
            watched: vec![cx.home.to_owned()],
        },
    )?;
    Ok((analysis, ecosystem))
}

fn home_analysis<'a>(
    analysis: &'a Analysis,
    home: &str,
) -> Result<&'a provguard_dynamics::ModelAnalysis, Error> {
    analysis
        .models
        .iter()
        .find(|m| m.name == home)
        .ok_or_else(|| Error::Bug(format!("the analysis lost the home model `{home}`")))
}

pub(crate) fn regime_name(analysis: &Analysis) -> String {
    serde_json::to_value(analysis.regime)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
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

    fn measured(lineages: &[Lineage]) -> Measured {
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
        Measured::of(&c, &sources())
    }

    fn cx(recorded: &[RecordedScan]) -> Context<'_> {
        Context {
            home: "home",
            rule: UnknownRule::CountAsSynthetic,
            what_if: WhatIf::Cumulative,
            file: None,
            recorded,
        }
    }

    #[test]
    fn unknown_is_folded_as_the_rule_says() {
        let m = measured(&[
            Lineage::Source(0),
            Lineage::Source(1),
            Lineage::Unknown,
            Lineage::Unknown,
        ]);
        let (h, w) = m.fold("home", UnknownRule::CountAsSynthetic).unwrap();
        assert_eq!((h, w["gpt"], w["home"]), (0.25, 0.25, 0.5));
        let (h, w) = m.fold("home", UnknownRule::CountAsHuman).unwrap();
        assert_eq!((h, w.get("home")), (0.75, None));
        let (h, w) = m.fold("home", UnknownRule::Exclude).unwrap();
        assert_eq!((h, w["gpt"]), (0.5, 0.5));
    }

    #[test]
    fn home_quantities_follow_the_absorbing_chain() {
        // h = 0.5, w_gpt = 0.3, w_self = 0.2: N_kk = 1 / 0.8, so X = 1 - 0.5 / 0.8 and
        // D = N_kk (1 + 0.3) - 1.
        let batch = Measured {
            records: 1000,
            human: 0.5,
            unknown: 0.2,
            models: BTreeMap::from([("gpt".to_owned(), 0.3)]),
            curated: BTreeMap::new(),
        };
        let r = model_ecosystem(&batch, cx(&[])).unwrap();
        assert!((r.cross_influence_share.unwrap() - 0.375).abs() < 1e-12);
        assert!((r.synthetic_depth.unwrap() - 0.625).abs() < 1e-12);
        assert_eq!(r.anchored, Some(true));
        assert!(r.what_if.is_none());
    }

    #[test]
    fn cumulating_weights_by_record_count() {
        let a = Measured {
            records: 100,
            human: 1.0,
            unknown: 0.0,
            models: BTreeMap::new(),
            curated: BTreeMap::new(),
        };
        let b = Measured {
            records: 300,
            human: 0.0,
            unknown: 0.0,
            models: BTreeMap::from([("gpt".to_owned(), 1.0)]),
            curated: BTreeMap::from([("gpt".to_owned(), 0.5)]),
        };
        let c = Measured::cumulate([&a, &b]);
        assert_eq!(
            (c.records, c.human, c.models["gpt"], c.curated["gpt"]),
            (400, 0.25, 0.75, 0.5)
        );
    }

    #[test]
    fn a_recorded_scan_of_a_feeding_model_changes_the_home_model_and_what_if_shows_the_batch() {
        // gpt was recorded as trained only on its own outputs: not anchored, so a home model
        // that draws on it loses the anchoring gpt would otherwise be assumed to give.
        let gpt = RecordedScan {
            home: "gpt".to_owned(),
            content: "a".to_owned(),
            records: 10,
            human: 0.0,
            unknown: 1.0,
            models: BTreeMap::new(),
            curated: BTreeMap::new(),
            verdict: None,
            at: 0,
        };
        let earlier_home = RecordedScan {
            home: "home".to_owned(),
            content: "b".to_owned(),
            records: 100,
            human: 1.0,
            unknown: 0.0,
            models: BTreeMap::new(),
            curated: BTreeMap::new(),
            verdict: None,
            at: 0,
        };
        let batch = Measured {
            records: 100,
            human: 0.0,
            unknown: 0.0,
            models: BTreeMap::from([("gpt".to_owned(), 1.0)]),
            curated: BTreeMap::new(),
        };
        let recorded = [gpt, earlier_home];
        let r = model_ecosystem(&batch, cx(&recorded)).unwrap();
        // After: h = 0.5, w_gpt = 0.5, gpt unanchored but the home model reaches people itself.
        assert!((r.human_share.unwrap() - 0.5).abs() < 1e-12);
        let what_if = r.what_if.unwrap();
        assert_eq!(what_if.before.cross_influence_share, Some(0.0));
        assert!(
            what_if.after.cross_influence_share.is_none(),
            "gpt cannot reach people"
        );
    }
}
