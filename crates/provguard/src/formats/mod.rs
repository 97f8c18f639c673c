//! The scan report in the formats CI systems show: a Markdown summary for a job's page
//! (`$GITHUB_STEP_SUMMARY`, a GitLab job summary), SARIF 2.1.0 for code-scanning annotations
//! on the files, and JUnit XML for test-report views. Each is made from a [`Report`] alone;
//! the JSON report is the [`Report`] itself, described by `schemas/report.schema.json`.
//!
//! The formats share one list of *checks*: every limit and source rule the policy sets, plus
//! the checks every scan makes (records that could not be read, nothing admitted). A reason
//! names its check in [`Reason::limit`]; [`check_id`] turns that into the id the formats use
//! (`limits.min_human_share`, `sources.deny`, `input.rejected`, ...).

pub mod html;
pub mod junit;
pub mod markdown;
pub mod sarif;

use provguard_gate::{Level, Policy, Reason, toml_key};

use crate::Report;

/// One check a scan makes: a policy limit, a source rule, or a check on the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The id the formats use: `limits.<name>`, `sources.deny`, `sources.allow`,
    /// `sources.max_share.<source>`, `gate.backfire`, `input.rejected` or `input.empty`.
    pub id: String,
    /// A few words naming it: `minimum human share`.
    pub title: String,
    /// What the check wants, in one sentence.
    pub description: String,
    /// The flag threshold, when the check has one.
    pub flag: Option<f64>,
    /// The block threshold, when the check has one.
    pub block: Option<f64>,
}

/// The id of the check a reason's `limit` names.
///
/// ```
/// use provguard::formats::check_id;
/// assert_eq!(check_id("min_human_share"), "limits.min_human_share");
/// assert_eq!(check_id("strict"), "input.rejected");
/// assert_eq!(check_id("sources.deny"), "sources.deny");
/// ```
#[must_use]
pub fn check_id(limit: &str) -> String {
    match limit {
        "strict" => "input.rejected".to_owned(),
        "records" => "input.empty".to_owned(),
        "backfire" => "gate.backfire".to_owned(),
        other if other.starts_with("sources.") => other.to_owned(),
        other => format!("limits.{other}"),
    }
}

/// Every check of a scan under `policy`, in a fixed order: the input checks, the limits, the
/// source rules, then backfiring curation. A limit left out of the policy, or a rule whose
/// level is `pass`, is not a check.
#[must_use]
pub fn checks(policy: &Policy) -> Vec<Check> {
    let mut checks = vec![
        Check {
            id: "input.rejected".to_owned(),
            title: "records that cannot be read".to_owned(),
            description: "every record can be read and fits its schema (strict mode blocks \
                          otherwise, lenient mode flags)"
                .to_owned(),
            flag: None,
            block: None,
        },
        Check {
            id: "input.empty".to_owned(),
            title: "nothing admitted".to_owned(),
            description: "at least one record is admitted".to_owned(),
            flag: None,
            block: None,
        },
    ];

    for (name, limit, larger_is_worse) in policy.limits() {
        let Some(limit) = limit else { continue };
        let quantity = name
            .trim_start_matches("min_")
            .trim_start_matches("max_")
            .replace('_', " ")
            .replace("cross influence", "cross-influence");
        let (side, title) = if larger_is_worse {
            ("at most", "maximum")
        } else {
            ("at least", "minimum")
        };
        let levels: Vec<String> = [("flag", limit.flag()), ("block", limit.block())]
            .into_iter()
            .filter_map(|(level, v)| Some(format!("{} ({level})", number(Some(v?)))))
            .collect();
        checks.push(Check {
            id: format!("limits.{name}"),
            title: format!("{title} {quantity}"),
            description: format!("{quantity} is defined and {side} {}", levels.join(" and ")),
            flag: limit.flag(),
            block: limit.block(),
        });
    }

    let rules = &policy.sources;
    if rules.level > Level::Pass {
        if !rules.deny.is_empty() {
            checks.push(Check {
                id: "sources.deny".to_owned(),
                title: "denied sources".to_owned(),
                description: format!("no record comes from {}", names(&rules.deny)),
                flag: None,
                block: None,
            });
        }
        if !rules.allow.is_empty() {
            checks.push(Check {
                id: "sources.allow".to_owned(),
                title: "sources outside the allow list".to_owned(),
                description: format!("records come only from {}", names(&rules.allow)),
                flag: None,
                block: None,
            });
        }
    }
    for (name, limit) in &rules.max_share {
        checks.push(Check {
            id: format!("sources.max_share.{}", toml_key(name)),
            title: format!("maximum share of source `{name}`"),
            description: format!(
                "source `{name}` makes up at most {} of the batch",
                [("flag", limit.flag()), ("block", limit.block())]
                    .into_iter()
                    .filter_map(|(level, v)| Some(format!("{} ({level})", number(Some(v?)))))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            flag: limit.flag(),
            block: limit.block(),
        });
    }

    if policy.gate.backfire > Level::Pass {
        checks.push(Check {
            id: "gate.backfire".to_owned(),
            title: "backfiring curation".to_owned(),
            description: "curating the home model's data does not lower its reward through \
                          the loop"
                .to_owned(),
            flag: None,
            block: None,
        });
    }
    checks
}

/// The checks of a report's policy, with a check added for any reason none of them names
/// (so that every reason has its check).
fn report_checks(report: &Report) -> Vec<Check> {
    let mut checks = checks(&report.policy);
    for reason in &report.reasons {
        let id = check_id(&reason.limit);
        if !checks.iter().any(|c| c.id == id) {
            checks.push(Check {
                title: reason.limit.clone(),
                id,
                description: format!("`{}` is within the policy", reason.limit),
                flag: None,
                block: None,
            });
        }
    }
    checks
}

/// The reasons that name the check `id`.
fn reasons_of<'a>(report: &'a Report, id: &'a str) -> impl Iterator<Item = &'a Reason> + 'a {
    report
        .reasons
        .iter()
        .filter(move |r| check_id(&r.limit) == id)
}

/// A file that contributes to a crossed limit, and the line of its first record that does.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Contribution {
    file: String,
    line: Option<u64>,
    /// What the file holds that counts, for the message: `12 synthetic records`.
    what: String,
    /// What `line` is the line of: `the first synthetic record`.
    first: String,
}

/// The files behind a reason: for limits on the human share and the loop, the files with
/// synthetic records (and with unknown records, when those count as synthetic), at the first
/// line of a synthetic source's records; for the unknown share, the files with unknown
/// records; for a source rule, the files with records of the source, at its first line.
/// Empty for reasons no file is behind (backfiring curation, nothing admitted).
fn contributions(report: &Report, reason: &Reason) -> Vec<Contribution> {
    let id = check_id(&reason.limit);
    let by_file = &report.composition.by_file;
    let unknown_as_synthetic =
        report.policy.gate.unknown == provguard_gate::UnknownRule::CountAsSynthetic;
    match id.as_str() {
        "limits.min_human_share"
        | "limits.max_cross_influence_share"
        | "limits.max_synthetic_depth"
        | "limits.max_spectral_radius" => by_file
            .iter()
            .filter_map(|(file, f)| {
                let unknown = if unknown_as_synthetic { f.unknown } else { 0 };
                if f.synthetic + unknown == 0 {
                    return None;
                }
                let line = f
                    .by_source
                    .iter()
                    .filter(|(name, _)| {
                        report
                            .composition
                            .by_source
                            .get(*name)
                            .is_some_and(|s| s.origin == "synthetic")
                    })
                    .filter_map(|(_, s)| s.first_line)
                    .min();
                let what = match (f.synthetic, unknown) {
                    (n, 0) => count(n, "synthetic record"),
                    (0, u) => format!("{}, counted as synthetic", count(u, "unknown record")),
                    (n, u) => format!(
                        "{} and {} counted as synthetic",
                        count(n, "synthetic record"),
                        count(u, "unknown record")
                    ),
                };
                Some(Contribution {
                    file: file.clone(),
                    line,
                    what,
                    first: "the first synthetic record".to_owned(),
                })
            })
            .collect(),
        "limits.max_unknown_share" => by_file
            .iter()
            .filter(|(_, f)| f.unknown > 0)
            .map(|(file, f)| Contribution {
                file: file.clone(),
                line: None,
                what: count(f.unknown, "unknown record"),
                first: String::new(),
            })
            .collect(),
        _ => {
            let Some(source) = source_of(report, reason, &id) else {
                return Vec::new();
            };
            by_file
                .iter()
                .filter_map(|(file, f)| {
                    let s = f.by_source.get(&source)?;
                    Some(Contribution {
                        file: file.clone(),
                        line: s.first_line,
                        what: format!("{} of `{source}`", count(s.records, "record")),
                        first: "the first".to_owned(),
                    })
                })
                .collect()
        }
    }
}

/// The source a source-rule reason is about: the capped source of a `sources.max_share`
/// reason, else the source of the composition the reason's message names in backticks (the
/// gate writes one reason per denied or not-allowed source, naming it so).
fn source_of(report: &Report, reason: &Reason, id: &str) -> Option<String> {
    if let Some(key) = id.strip_prefix("sources.max_share.") {
        return report
            .policy
            .sources
            .max_share
            .keys()
            .find(|name| toml_key(name) == key)
            .cloned();
    }
    if id != "sources.deny" && id != "sources.allow" {
        return None;
    }
    report
        .composition
        .by_source
        .keys()
        .filter(|name| reason.message.contains(&format!("`{name}`")))
        .max_by_key(|name| name.len())
        .cloned()
}

/// `a`, `a` and `b`, `a`, `b` and `c`, each in backticks.
fn names(list: &[String]) -> String {
    let quoted: Vec<String> = list.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// `n` followed by the noun, in the plural unless `n` is 1.
fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A number as the reasons write it: four decimals at most, trailing zeros dropped;
/// `undefined` for `None`.
fn number(value: Option<f64>) -> String {
    value.map_or_else(
        || "undefined".to_owned(),
        |v| {
            let s = format!("{v:.4}");
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        },
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use provguard_gate::{Measurements, decide};

    use super::*;

    #[test]
    fn every_reason_the_gate_gives_names_a_configured_check() {
        let policy = Policy::from_toml(
            "[limits]\nmin_human_share = { flag = 0.5, block = 0.2 }\nmax_unknown_share = 0.1\n\
             [sources]\ndeny = [\"leak\"]\nmax_share = { \"odd <&\\\" name\" = 0.1, gpt4 = { flag = 0.2 } }\n\
             [gate]\nbackfire = \"block\"\n",
            "p.toml",
        )
        .unwrap();
        let m = Measurements {
            human_share: Some(0.1),
            unknown_share: Some(0.3),
            backfires: vec!["curating backfires".to_owned()],
            admitted: Some(0),
            rejected: 2,
            strict: true,
            sources: BTreeMap::from([
                ("leak".to_owned(), 0.1),
                ("odd <&\" name".to_owned(), 0.5),
                ("gpt4".to_owned(), 0.3),
            ]),
            ..Measurements::default()
        };
        let verdict = decide(&policy, &m);
        let ids: Vec<String> = checks(&policy).into_iter().map(|c| c.id).collect();
        assert_eq!(verdict.reasons.len(), 8, "{:?}", verdict.reasons);
        for reason in &verdict.reasons {
            assert!(
                ids.contains(&check_id(&reason.limit)),
                "{} not among {ids:?}",
                reason.limit
            );
        }
        assert!(ids.contains(&"sources.max_share.\"odd <&\\\" name\"".to_owned()));
    }

    #[test]
    fn rules_at_level_pass_and_limits_left_out_are_not_checks() {
        let policy = Policy::from_toml(
            "[limits]\nmax_synthetic_depth = 2\n[sources]\ndeny = [\"x\"]\nlevel = \"pass\"\n\
             [gate]\nbackfire = \"pass\"\n",
            "p.toml",
        )
        .unwrap();
        let ids: Vec<String> = checks(&policy).into_iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            [
                "input.rejected",
                "input.empty",
                "limits.max_synthetic_depth"
            ]
        );
    }

    #[test]
    fn numbers_drop_trailing_zeros() {
        assert_eq!(number(Some(0.5)), "0.5");
        assert_eq!(number(Some(2.0)), "2");
        assert_eq!(number(Some(0.123_456)), "0.1235");
        assert_eq!(number(None), "undefined");
    }
}
