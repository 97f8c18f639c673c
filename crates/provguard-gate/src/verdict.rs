//! Applying a policy to a scan's measurements.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Policy;

/// What the gate decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Nothing is wrong.
    Pass,
    /// Someone should look; the data may go on.
    Flag,
    /// The data must not go on.
    Block,
}

impl Level {
    /// The lowercase name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Flag => "flag",
            Self::Block => "block",
        }
    }
}

/// The quantities a policy can limit; `None` is undefined.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measurements {
    /// Share of human-origin records after unknown records are folded.
    pub human_share: Option<f64>,
    /// Cross-influence share `X_k` of the home model.
    pub cross_influence_share: Option<f64>,
    /// Synthetic depth `D_k` of the home model.
    pub synthetic_depth: Option<f64>,
    /// Share of records of unknown origin, before folding.
    pub unknown_share: Option<f64>,
    /// Spectral radius `r(M)` of the ecosystem's round map.
    pub spectral_radius: Option<f64>,
    /// Curation of the home model's data that backfires on it or hurts it through the loop:
    /// one sentence each.
    pub backfires: Vec<String>,
    /// Records admitted; `Some(0)` means there is nothing to judge.
    pub admitted: Option<u64>,
    /// Records rejected while reading.
    pub rejected: u64,
    /// Strict mode: any rejected record blocks.
    pub strict: bool,
    /// The share of the batch of every registered source present in it (its weight over
    /// admitted records, ambiguous records split `1/m`), by name.
    pub sources: BTreeMap<String, f64>,
}

/// Why the verdict is not `pass`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// The limit (`max_unknown_share`), or `strict` for rejected records.
    pub limit: String,
    /// The level this reason calls for.
    pub level: Level,
    /// The measured value; `None` when it is undefined.
    pub measured: Option<f64>,
    /// The threshold that was crossed.
    pub threshold: f64,
    /// One sentence a person can act on.
    pub message: String,
}

/// The gate's decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The most severe level among the reasons, or `pass`.
    pub level: Level,
    /// Every limit crossed, most severe first.
    pub reasons: Vec<Reason>,
}

/// Applies `policy` to `m`.
///
/// ```
/// use provguard_gate::{decide, Level, Measurements, Policy};
/// let policy = Policy::from_toml("[limits]\nmin_human_share = { flag = 0.5, block = 0.2 }", "p").unwrap();
/// let m = Measurements { human_share: Some(0.3), ..Measurements::default() };
/// assert_eq!(decide(&policy, &m).level, Level::Flag);
/// ```
#[must_use]
pub fn decide(policy: &Policy, m: &Measurements) -> Verdict {
    let mut reasons = Vec::new();

    if m.admitted == Some(0) {
        reasons.push(Reason {
            limit: "records".to_owned(),
            level: Level::Block,
            measured: Some(0.0),
            threshold: 0.0,
            message: "no record was admitted: there is nothing to judge (check the paths, \
                      the include and exclude globs, and the errors)"
                .to_owned(),
        });
    }

    if m.rejected > 0 {
        let (level, mode) = match policy.gate.rejected {
            Some(Level::Block) => (Level::Block, "the policy blocks them"),
            Some(Level::Flag) => (Level::Flag, "the policy lets the rest pass"),
            Some(Level::Pass) => (Level::Pass, ""),
            None if m.strict => (Level::Block, "strict mode blocks them"),
            None => (Level::Flag, "lenient mode lets the rest pass"),
        };
        if level > Level::Pass {
            reasons.push(Reason {
                limit: "strict".to_owned(),
                level,
                measured: Some(m.rejected as f64),
                threshold: 0.0,
                message: format!("{} records could not be read; {mode}", m.rejected),
            });
        }
    }

    for (name, limit, larger_is_worse) in policy.limits() {
        let Some(limit) = limit else { continue };
        let measured = match name {
            "min_human_share" => m.human_share,
            "max_cross_influence_share" => m.cross_influence_share,
            "max_synthetic_depth" => m.synthetic_depth,
            "max_spectral_radius" => m.spectral_radius,
            _ => m.unknown_share,
        };
        let quantity = name
            .trim_start_matches("min_")
            .trim_start_matches("max_")
            .replace('_', " ")
            .replace("cross influence", "cross-influence");
        for (level, threshold) in [(Level::Block, limit.block()), (Level::Flag, limit.flag())] {
            let Some(threshold) = threshold else { continue };
            let message = match measured {
                None => format!(
                    "{quantity} is undefined (the home model is not anchored to human data), \
                     so the {} limit `{threshold}` is violated",
                    level.as_str()
                ),
                Some(v) if larger_is_worse && v > threshold => format!(
                    "{quantity} {} is above the {} limit {}",
                    round(v),
                    level.as_str(),
                    threshold
                ),
                Some(v) if !larger_is_worse && v < threshold => format!(
                    "{quantity} {} is below the {} limit {}",
                    round(v),
                    level.as_str(),
                    threshold
                ),
                Some(_) => continue,
            };
            reasons.push(Reason {
                limit: name.to_owned(),
                level,
                measured,
                threshold,
                message,
            });
            break;
        }
    }

    sources(policy, m, &mut reasons);

    if policy.gate.backfire > Level::Pass {
        for message in &m.backfires {
            reasons.push(Reason {
                limit: "backfire".to_owned(),
                level: policy.gate.backfire,
                measured: None,
                threshold: 0.0,
                message: message.clone(),
            });
        }
    }

    reasons.sort_by_key(|r| std::cmp::Reverse(r.level));
    let level = reasons.first().map_or(Level::Pass, |r| r.level);
    Verdict { level, reasons }
}

/// Reasons from the `[sources]` rules: a denied source present, a source outside a non-empty
/// allow list present, a source's share beyond its cap.
fn sources(policy: &Policy, m: &Measurements, reasons: &mut Vec<Reason>) {
    let rules = &policy.sources;
    let present = m.sources.iter().filter(|(_, share)| **share > 0.0);
    if rules.level > Level::Pass {
        for (name, &share) in present {
            let (limit, why) = if rules.deny.contains(name) {
                ("sources.deny", "is denied by the policy")
            } else if !rules.allow.is_empty() && !rules.allow.contains(name) {
                ("sources.allow", "is not in the policy's allow list")
            } else {
                continue;
            };
            reasons.push(Reason {
                limit: limit.to_owned(),
                level: rules.level,
                measured: Some(share),
                threshold: 0.0,
                message: format!(
                    "source `{name}` makes up {}% of the batch and {why}",
                    round(share * 100.0)
                ),
            });
        }
    }
    for (name, limit) in &rules.max_share {
        let share = m.sources.get(name).copied().unwrap_or(0.0);
        for (level, threshold) in [(Level::Block, limit.block()), (Level::Flag, limit.flag())] {
            let Some(threshold) = threshold else { continue };
            if share <= threshold {
                continue;
            }
            reasons.push(Reason {
                limit: format!("sources.max_share.{}", crate::policy::toml_key(name)),
                level,
                measured: Some(share),
                threshold,
                message: format!(
                    "source `{name}` share {} is above the {} limit {threshold}",
                    round(share),
                    level.as_str()
                ),
            });
            break;
        }
    }
}

fn round(v: f64) -> String {
    format!("{v:.4}")
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(text: &str) -> Policy {
        Policy::from_toml(text, "p.toml").unwrap()
    }

    #[test]
    fn each_level_is_reached_at_its_threshold() {
        let p = policy("[limits]\nmax_unknown_share = { flag = 0.1, block = 0.3 }\n");
        let at = |u| {
            decide(
                &p,
                &Measurements {
                    unknown_share: Some(u),
                    ..Default::default()
                },
            )
        };
        assert_eq!(at(0.1).level, Level::Pass);
        assert_eq!(at(0.2).level, Level::Flag);
        assert_eq!(at(0.31).level, Level::Block);
        let reason = &at(0.31).reasons[0];
        assert_eq!(
            (reason.limit.as_str(), reason.threshold),
            ("max_unknown_share", 0.3)
        );
        assert!(reason.message.contains("0.31"), "{}", reason.message);
    }

    #[test]
    fn undefined_quantity_violates_its_limit() {
        let p = policy("[limits]\nmax_cross_influence_share = { flag = 0.5 }\n");
        let v = decide(&p, &Measurements::default());
        assert_eq!(v.level, Level::Flag);
        assert_eq!(v.reasons[0].measured, None);
    }

    #[test]
    fn backfiring_curation_gives_the_configured_level() {
        let m = Measurements {
            backfires: vec!["curating `q` backfires".to_owned()],
            ..Default::default()
        };
        assert_eq!(decide(&policy(""), &m).level, Level::Flag);
        assert_eq!(
            decide(&policy("[gate]\nbackfire = \"block\"\n"), &m).level,
            Level::Block
        );
        assert_eq!(
            decide(&policy("[gate]\nbackfire = \"pass\"\n"), &m).level,
            Level::Pass
        );
    }

    #[test]
    fn source_rules_deny_allow_and_cap() {
        let m = Measurements {
            sources: BTreeMap::from([
                ("experts".to_owned(), 0.5),
                ("gpt3".to_owned(), 0.3),
                ("leaked".to_owned(), 0.2),
            ]),
            ..Default::default()
        };
        let v = decide(&policy("[sources]\ndeny = [\"leaked\"]\n"), &m);
        assert_eq!(v.level, Level::Block);
        assert_eq!(v.reasons[0].limit, "sources.deny");
        assert_eq!(v.reasons[0].measured, Some(0.2));
        assert!(
            v.reasons[0].message.contains("`leaked`"),
            "{}",
            v.reasons[0].message
        );

        let v = decide(
            &policy("[sources]\nallow = [\"experts\", \"gpt3\"]\nlevel = \"flag\"\n"),
            &m,
        );
        assert_eq!((v.level, v.reasons.len()), (Level::Flag, 1));
        assert_eq!(v.reasons[0].limit, "sources.allow");

        let p = policy("[sources.max_share]\ngpt3 = { flag = 0.25, block = 0.5 }\nexperts = 0.6\n");
        let v = decide(&p, &m);
        assert_eq!(v.level, Level::Flag);
        assert_eq!(v.reasons.len(), 1);
        assert_eq!(
            (v.reasons[0].limit.as_str(), v.reasons[0].threshold),
            ("sources.max_share.gpt3", 0.25)
        );
        // A source absent from the batch never crosses a cap nor a list.
        let v = decide(&policy("[sources]\ndeny = [\"other\"]\n"), &m);
        assert_eq!(v.level, Level::Pass);
    }

    #[test]
    fn an_empty_batch_is_blocked_for_being_empty() {
        let m = Measurements {
            admitted: Some(0),
            ..Default::default()
        };
        let v = decide(&policy(""), &m);
        assert_eq!(
            (v.level, v.reasons[0].limit.as_str()),
            (Level::Block, "records")
        );
        let m = Measurements {
            admitted: Some(3),
            ..Default::default()
        };
        assert_eq!(decide(&policy(""), &m).level, Level::Pass);
    }

    #[test]
    fn rejected_records_block_only_in_strict_mode() {
        let p = policy("");
        let m = Measurements {
            rejected: 2,
            strict: true,
            ..Default::default()
        };
        assert_eq!(decide(&p, &m).level, Level::Block);
        let m = Measurements {
            rejected: 2,
            strict: false,
            ..Default::default()
        };
        assert_eq!(decide(&p, &m).level, Level::Flag);
        assert_eq!(decide(&p, &Measurements::default()).level, Level::Pass);
    }

    #[test]
    fn the_policy_can_set_the_level_of_rejected_records_whatever_the_mode() {
        for (text, strict, level) in [
            ("[gate]\nrejected = \"block\"\n", false, Level::Block),
            ("[gate]\nrejected = \"flag\"\n", true, Level::Flag),
            ("[gate]\nrejected = \"pass\"\n", true, Level::Pass),
        ] {
            let m = Measurements {
                rejected: 1,
                strict,
                ..Default::default()
            };
            assert_eq!(decide(&policy(text), &m).level, level, "{text}");
        }
    }
}
