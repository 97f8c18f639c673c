//! Policy files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fs_err as fs;
use serde::{Deserialize, Serialize};

/// Errors reading a policy.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The file is not a valid policy.
    #[error("policy `{path}` is not valid: {message}")]
    Invalid {
        /// The policy file.
        path: PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },
}

/// A limit: block beyond `block`, flag beyond `flag`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Limit {
    /// A bare number: block beyond it.
    Block(f64),
    /// Thresholds by level; either may be left out.
    Levels {
        /// Flag beyond this value.
        #[serde(default)]
        flag: Option<f64>,
        /// Block beyond this value.
        #[serde(default)]
        block: Option<f64>,
    },
}

impl<'de> Deserialize<'de> for Limit {
    /// A number, or a table whose only keys are `flag` and `block`, each a number; anything
    /// else is an error naming what was found, so a misspelt level never goes unenforced.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;

        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Table(BTreeMap<String, toml::Value>),
            Other(toml::Value),
        }

        let number = |key: &str, value: &toml::Value| match value {
            toml::Value::Float(f) => Ok(*f),
            #[expect(clippy::cast_precision_loss, reason = "thresholds are small numbers")]
            toml::Value::Integer(i) => Ok(*i as f64),
            other => Err(D::Error::custom(format!(
                "`{key}` must be a number, found {}",
                other.type_str()
            ))),
        };
        match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Ok(Self::Block(n)),
            Raw::Table(table) => {
                let (mut flag, mut block) = (None, None);
                for (key, value) in &table {
                    match key.as_str() {
                        "flag" => flag = Some(number(key, value)?),
                        "block" => block = Some(number(key, value)?),
                        other => {
                            return Err(D::Error::custom(format!(
                                "unknown key `{other}` in a limit, expected `flag` or `block`"
                            )));
                        }
                    }
                }
                Ok(Self::Levels { flag, block })
            }
            Raw::Other(value) => Err(D::Error::custom(format!(
                "a limit is a number or a table `{{ flag = x, block = y }}`, found {}",
                value.type_str()
            ))),
        }
    }
}

impl Limit {
    /// The flag threshold, if any.
    #[must_use]
    pub fn flag(self) -> Option<f64> {
        match self {
            Self::Block(_) => None,
            Self::Levels { flag, .. } => flag,
        }
    }

    /// The block threshold, if any.
    #[must_use]
    pub fn block(self) -> Option<f64> {
        match self {
            Self::Block(b) => Some(b),
            Self::Levels { block, .. } => block,
        }
    }
}

/// The limits of a policy; each is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Smallest share of human-origin records (after unknown records are folded).
    pub min_human_share: Option<Limit>,
    /// Largest cross-influence share `X_k` of the home model.
    pub max_cross_influence_share: Option<Limit>,
    /// Largest synthetic depth `D_k` of the home model.
    pub max_synthetic_depth: Option<Limit>,
    /// Largest share of records of unknown origin (before folding).
    pub max_unknown_share: Option<Limit>,
    /// Largest spectral radius `r(M)` of the ecosystem's round map (1 and beyond: no stable
    /// point).
    pub max_spectral_radius: Option<Limit>,
}

/// How records of unknown origin are folded before shares are compared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownRule {
    /// Counted as the home model's own outputs: the worst case for anchoring.
    #[default]
    CountAsSynthetic,
    /// Counted as human.
    CountAsHuman,
    /// Dropped, and the other shares renormalised.
    Exclude,
}

impl UnknownRule {
    /// The spelling used in policy files.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CountAsSynthetic => "count-as-synthetic",
            Self::CountAsHuman => "count-as-human",
            Self::Exclude => "exclude",
        }
    }
}

/// A policy file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The limits.
    #[serde(default)]
    pub limits: Limits,
    /// Gate settings.
    #[serde(default)]
    pub gate: Gate,
    /// Rules on registered sources: allow and deny lists, per-source share caps.
    #[serde(default)]
    pub sources: SourceRules,
}

/// Rules on the registered sources a batch draws on (the `[sources]` table).
///
/// A source is present in a batch when any admitted record is attributed to it, alone or
/// among the candidates of an ambiguous record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRules {
    /// When not empty, the only sources a batch may draw on.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Sources a batch must not draw on.
    #[serde(default)]
    pub deny: Vec<String>,
    /// The level given when a denied source, or one outside a non-empty allow list, is
    /// present: `"block"` (default), `"flag"` or `"pass"` (not enforced).
    #[serde(default = "default_source_level")]
    pub level: crate::Level,
    /// Largest share of the batch (its weight, ambiguous records split `1/m`) per source.
    #[serde(default)]
    pub max_share: BTreeMap<String, Limit>,
}

fn default_source_level() -> crate::Level {
    crate::Level::Block
}

impl Default for SourceRules {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            deny: Vec::new(),
            level: default_source_level(),
            max_share: BTreeMap::new(),
        }
    }
}

/// Gate settings (the `[gate]` table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// How unknown records are folded before shares are compared.
    #[serde(default)]
    pub unknown: UnknownRule,
    /// Whether the home model's composition is this batch cumulated with its recorded scans,
    /// or the batch alone.
    #[serde(default)]
    pub what_if: WhatIf,
    /// The level given when curating a source of the home model's data backfires on it or
    /// hurts it through the loop: `"flag"` (default), `"block"` or `"pass"` (not enforced).
    #[serde(default = "default_backfire")]
    pub backfire: crate::Level,
}

fn default_backfire() -> crate::Level {
    crate::Level::Flag
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            unknown: UnknownRule::default(),
            what_if: WhatIf::default(),
            backfire: default_backfire(),
        }
    }
}

/// What the home model's composition is when the ledger recorded earlier scans of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WhatIf {
    /// The recorded scans and this batch together, weighted by record count.
    #[default]
    Cumulative,
    /// This batch alone.
    Batch,
}

impl WhatIf {
    /// The spelling used in policy files.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cumulative => "cumulative",
            Self::Batch => "batch",
        }
    }
}

impl Policy {
    /// Parses and validates a policy; `origin` names the file in errors.
    ///
    /// ```
    /// use provguard_gate::Policy;
    /// let p = Policy::from_toml("[limits]\nmax_unknown_share = { flag = 0.1, block = 0.3 }\n", "p.toml").unwrap();
    /// assert_eq!(p.limits.max_unknown_share.unwrap().block(), Some(0.3));
    /// ```
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, PolicyError> {
        let invalid = |message: String| PolicyError::Invalid {
            path: origin.into(),
            message,
        };
        let policy: Self = toml::from_str(text).map_err(|e| invalid(toml_message(&e)))?;
        policy.validate().map_err(invalid)?;
        Ok(policy)
    }

    /// Reads a policy file.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let text = fs::read_to_string(path)?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// The limits by name, each with whether a larger value is worse.
    #[must_use]
    pub fn limits(&self) -> [(&'static str, Option<Limit>, bool); 5] {
        let l = &self.limits;
        [
            ("min_human_share", l.min_human_share, false),
            (
                "max_cross_influence_share",
                l.max_cross_influence_share,
                true,
            ),
            ("max_synthetic_depth", l.max_synthetic_depth, true),
            ("max_unknown_share", l.max_unknown_share, true),
            ("max_spectral_radius", l.max_spectral_radius, true),
        ]
    }

    fn validate(&self) -> Result<(), String> {
        for (name, limit, larger_is_worse) in self.limits() {
            let Some(limit) = limit else { continue };
            validate_limit(
                &format!("limits.{name}"),
                limit,
                name.ends_with("_share"),
                larger_is_worse,
            )?;
        }

        // Source rules: names are not checked against a ledger here (a policy serves many
        // ledgers), only against each other.
        let s = &self.sources;
        for (list, names) in [("allow", &s.allow), ("deny", &s.deny)] {
            if let Some(empty) = names.iter().position(String::is_empty) {
                return Err(format!("`sources.{list}[{empty}]` is an empty source name"));
            }
        }
        if let Some(both) = s.allow.iter().find(|a| s.deny.contains(a)) {
            return Err(format!(
                "source `{both}` is in both `sources.allow` and `sources.deny`"
            ));
        }
        for (name, limit) in &s.max_share {
            let key = format!("sources.max_share.{}", toml_key(name));
            validate_limit(&key, *limit, true, true)?;
            if s.deny.contains(name) {
                return Err(format!("`{key}` caps a source that `sources.deny` denies"));
            }
            if !s.allow.is_empty() && !s.allow.contains(name) {
                return Err(format!(
                    "`{key}` caps a source that `sources.allow` does not allow"
                ));
            }
        }
        Ok(())
    }
}

/// Checks one limit: at least one level, values in range, and the levels in order.
fn validate_limit(
    key: &str,
    limit: Limit,
    is_share: bool,
    larger_is_worse: bool,
) -> Result<(), String> {
    let (flag, block) = (limit.flag(), limit.block());
    if flag.is_none() && block.is_none() {
        return Err(format!("`{key}` sets neither `flag` nor `block`"));
    }
    for (level, value) in [("flag", flag), ("block", block)] {
        let Some(v) = value else { continue };
        // A spectral radius is a number from 0; shares lie in [0, 1].
        if !v.is_finite() || v < 0.0 || (is_share && v > 1.0) {
            let range = if is_share {
                "a share from 0 to 1"
            } else {
                "a number from 0"
            };
            return Err(format!("`{key}.{level}` is `{v}`, expected {range}"));
        }
    }
    if let (Some(f), Some(b)) = (flag, block) {
        let ordered = if larger_is_worse { f <= b } else { f >= b };
        if !ordered {
            let word = if larger_is_worse { "above" } else { "below" };
            return Err(format!(
                "`{key}`: the block threshold `{b}` must lie {word} the flag threshold `{f}`"
            ));
        }
    }
    Ok(())
}

/// A source name as a TOML key: bare when it can be, else quoted.
pub(crate) fn toml_key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        name.to_owned()
    } else {
        format!("{name:?}")
    }
}

/// toml's message without its source excerpt, on one line.
fn toml_message(e: &toml::de::Error) -> String {
    let mut message = e.message().to_owned();
    if let Some(span) = e.span() {
        message = format!("{message} (at byte {})", span.start);
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let err = Policy::from_toml("[limits]\nmax_unknwn_share = 0.2\n", "p.toml").unwrap_err();
        assert!(err.to_string().contains("max_unknwn_share"), "{err}");
        let err = Policy::from_toml("[limits]\nmin_human_share = 1.5\n", "p.toml").unwrap_err();
        assert!(
            err.to_string().contains("limits.min_human_share.block"),
            "{err}"
        );
        let err = Policy::from_toml(
            "[limits]\nmin_human_share = { flag = 0.2, block = 0.4 }\n",
            "p.toml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("below"), "{err}");
        let err = Policy::from_toml(
            "[limits]\nmin_human_share = { flag = 0.5, blok = 0.2 }\n",
            "p.toml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("`blok`"), "{err}");
        let err =
            Policy::from_toml("[limits]\nmin_human_share = \"high\"\n", "p.toml").unwrap_err();
        assert!(err.to_string().contains("found string"), "{err}");
        let err = Policy::from_toml("[gate]\nunknown = \"ignore\"\n", "p.toml").unwrap_err();
        assert!(err.to_string().contains("ignore"), "{err}");
    }

    #[test]
    fn source_rules_are_read_and_checked_by_key() {
        let p = Policy::from_toml(
            "[sources]\nallow = [\"experts\", \"gpt3\"]\nlevel = \"flag\"\n[sources.max_share]\ngpt3 = { flag = 0.2, block = 0.4 }\n",
            "p.toml",
        )
        .unwrap();
        assert_eq!(p.sources.allow, ["experts", "gpt3"]);
        assert_eq!(p.sources.level, crate::Level::Flag);
        assert_eq!(p.sources.max_share["gpt3"].block(), Some(0.4));

        let err = |text: &str| Policy::from_toml(text, "p.toml").unwrap_err().to_string();
        let e = err("[sources]\nallow = [\"a\"]\ndeny = [\"a\"]\n");
        assert!(e.contains("both `sources.allow` and `sources.deny`"), "{e}");
        let e = err("[sources.max_share]\n\"gpt-4.1\" = 1.5\n");
        assert!(e.contains("`sources.max_share.\"gpt-4.1\".block`"), "{e}");
        let e = err("[sources]\nallow = [\"a\"]\n[sources.max_share]\nb = 0.5\n");
        assert!(e.contains("does not allow"), "{e}");
        let e = err("[sources]\nalow = [\"a\"]\n");
        assert!(e.contains("alow"), "{e}");
    }

    #[test]
    fn missing_limits_are_not_enforced() {
        let p = Policy::from_toml("", "p.toml").unwrap();
        assert!(p.limits().iter().all(|(_, l, _)| l.is_none()));
        assert_eq!(p.gate.unknown, UnknownRule::CountAsSynthetic);
    }
}
