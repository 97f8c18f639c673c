//! Policy files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fs_err as fs;
use serde::{Deserialize, Serialize};

use crate::locate;

/// Errors reading a policy.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The file is not a valid policy.
    #[error("{}: {message}", location(path, *line_column))]
    Invalid {
        /// The policy file.
        path: PathBuf,
        /// Where in the file, as 1-based line and column (in characters), when known.
        line_column: Option<(usize, usize)>,
        /// The key the error is about, dotted (`limits.min_human_share`), when known.
        key: Option<String>,
        /// What is wrong, naming the key.
        message: String,
    },
}

/// `path:line:column`, or the path alone.
fn location(path: &Path, line_column: Option<(usize, usize)>) -> String {
    match line_column {
        Some((line, column)) => format!("{}:{line}:{column}", path.display()),
        None => path.display().to_string(),
    }
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
    /// The level given when records cannot be read (a malformed line, a field of the wrong
    /// type, a truncated file): `"block"`, `"flag"` or `"pass"`. Left out, strict mode (the
    /// default) blocks and lenient mode flags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<crate::Level>,
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
            rejected: None,
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
        let invalid = |key: Option<Vec<String>>, offset: Option<usize>, message: String| {
            PolicyError::Invalid {
                path: origin.into(),
                line_column: offset.map(|o| locate::line_column(text, o)),
                key: key.as_deref().map(locate::dotted),
                message,
            }
        };

        // toml's errors name the field but not the table it is in: name the whole key.
        let policy: Self = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start);
            let key = offset.and_then(|o| locate::key_at(text, o));
            let mut message = e.message().trim().replace('\n', " ");
            if let Some(key) = &key {
                let dotted = locate::dotted(key);
                if !message.contains(&format!("`{dotted}`")) {
                    message = format!("`{dotted}`: {message}");
                }
            }
            invalid(key, offset, message)
        })?;
        policy.validate().map_err(|(key, message)| {
            let offset = locate::key_offset(text, &key);
            invalid(Some(key), offset, message)
        })?;
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

    /// Checks what deserialising cannot; an error is the key's path and a message naming it.
    fn validate(&self) -> Result<(), (Vec<String>, String)> {
        let path = |parts: &[&str]| parts.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
        for (name, limit, larger_is_worse) in self.limits() {
            let Some(limit) = limit else { continue };
            validate_limit(
                path(&["limits", name]),
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
                return Err((
                    path(&["sources", list]),
                    format!("`sources.{list}[{empty}]` is an empty source name"),
                ));
            }
        }
        if let Some(both) = s.allow.iter().find(|a| s.deny.contains(a)) {
            return Err((
                path(&["sources", "deny"]),
                format!("source `{both}` is in both `sources.allow` and `sources.deny`"),
            ));
        }
        for (name, limit) in &s.max_share {
            let key = path(&["sources", "max_share", name]);
            let dotted = locate::dotted(&key);
            if s.deny.contains(name) {
                return Err((
                    key,
                    format!("`{dotted}` caps a source that `sources.deny` denies"),
                ));
            }
            if !s.allow.is_empty() && !s.allow.contains(name) {
                return Err((
                    key,
                    format!("`{dotted}` caps a source that `sources.allow` does not allow"),
                ));
            }
            validate_limit(key, *limit, true, true)?;
        }
        Ok(())
    }
}

/// Checks one limit: at least one level, values in range, and the levels in order.
fn validate_limit(
    key: Vec<String>,
    limit: Limit,
    is_share: bool,
    larger_is_worse: bool,
) -> Result<(), (Vec<String>, String)> {
    let dotted = locate::dotted(&key);
    let (flag, block) = (limit.flag(), limit.block());
    if flag.is_none() && block.is_none() {
        return Err((key, format!("`{dotted}` sets neither `flag` nor `block`")));
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
            let mut at = key;
            at.push(level.to_owned());
            return Err((at, format!("`{dotted}.{level}` is `{v}`, expected {range}")));
        }
    }
    if let (Some(f), Some(b)) = (flag, block) {
        let ordered = if larger_is_worse { f <= b } else { f >= b };
        if !ordered {
            let word = if larger_is_worse { "above" } else { "below" };
            let mut at = key;
            at.push("block".to_owned());
            return Err((
                at,
                format!(
                    "`{dotted}`: the block threshold `{b}` must lie {word} the flag threshold `{f}`"
                ),
            ));
        }
    }
    Ok(())
}

/// A source name as a TOML key: bare when it can be, else quoted (as the gate names
/// `sources.max_share.<key>` in its reasons).
#[must_use]
pub fn toml_key(name: &str) -> String {
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
    fn errors_give_the_line_and_column_of_the_key() {
        let located = |text: &str| match Policy::from_toml(text, "p.toml").unwrap_err() {
            PolicyError::Invalid {
                line_column,
                key,
                message,
                ..
            } => (line_column, key, message),
            PolicyError::Io(e) => panic!("{e}"),
        };

        // Unknown key: toml's span, named with its table.
        let (at, key, message) = located("# c\n[limits]\nmax_unknwn_share = 0.2\n");
        assert_eq!(at, Some((3, 1)));
        assert_eq!(key.as_deref(), Some("limits.max_unknwn_share"));
        assert!(message.contains("`limits.max_unknwn_share`"), "{message}");

        // Out of range and misordered: found after parsing, located by the key's path.
        let (at, key, _) = located("[limits]\n\n  min_human_share = 1.5\n");
        assert_eq!(at, Some((3, 3)));
        assert_eq!(key.as_deref(), Some("limits.min_human_share.block"));
        let (at, _, message) =
            located("[limits]\nmin_human_share = { flag = 0.2,\n  block = 0.4 }\n");
        assert_eq!(at, Some((3, 3)), "{message}");

        // A syntax error names the key whose line it is on.
        let (at, key, _) = located("[gate]\nbackfire = \"flag\"\nunknown = count\n");
        assert_eq!(at.map(|(line, _)| line), Some(3));
        assert_eq!(key.as_deref(), Some("gate.unknown"));

        let err = Policy::from_toml("[limits]\nmin_human_share = 2\n", "p.toml").unwrap_err();
        assert!(err.to_string().starts_with("p.toml:2:1: "), "{err}");
    }

    /// Whether `a`'s threshold is at least as tight as `b`'s; a missing threshold is the
    /// loosest.
    fn tighter(a: Option<f64>, b: Option<f64>, larger_is_worse: bool) -> bool {
        match (a, b) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(a), Some(b)) if larger_is_worse => a <= b,
            (Some(a), Some(b)) => a >= b,
        }
    }

    /// Whether policy `a` is at least as strict as `b` on every limit and gate rule; lists
    /// the differences that say otherwise.
    fn looser_points(a: &Policy, b: &Policy) -> Vec<String> {
        let mut looser = Vec::new();
        for ((name, la, worse), (_, lb, _)) in a.limits().into_iter().zip(b.limits()) {
            for (level, get) in [
                ("flag", Limit::flag as fn(Limit) -> _),
                ("block", Limit::block),
            ] {
                if !tighter(la.and_then(get), lb.and_then(get), worse) {
                    looser.push(format!("limits.{name}.{level}"));
                }
            }
        }
        if a.gate.backfire < b.gate.backfire {
            looser.push("gate.backfire".to_owned());
        }
        // Without the key, rejected records block in strict mode.
        let rejected = |p: &Policy| p.gate.rejected.unwrap_or(crate::Level::Block);
        if rejected(a) < rejected(b) {
            looser.push("gate.rejected".to_owned());
        }
        if a.sources.level < b.sources.level {
            looser.push("sources.level".to_owned());
        }
        looser
    }

    #[test]
    fn shipped_policies_parse_and_strict_is_tighter_than_default_and_research_looser() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
        let mut policies = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let policy = Policy::load(&path).unwrap_or_else(|e| panic!("{e}"));
                let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                policies.insert(name, policy);
            }
        }
        let names: Vec<_> = policies.keys().map(String::as_str).collect();
        assert!(
            names.starts_with(&["default", "research", "strict"]),
            "{names:?}"
        );
        let (default, strict, research) = (
            &policies["default"],
            &policies["strict"],
            &policies["research"],
        );

        assert_eq!(looser_points(strict, default), Vec::<String>::new());
        assert_eq!(looser_points(default, research), Vec::<String>::new());
        assert_eq!(strict.gate.unknown, UnknownRule::CountAsSynthetic);
        assert_eq!(strict.gate.backfire, crate::Level::Block);
        assert_eq!(strict.gate.rejected, Some(crate::Level::Block));
        // Research never blocks on a measurement.
        assert!(
            research
                .limits()
                .iter()
                .all(|(_, l, _)| l.is_none_or(|l| l.block().is_none()))
        );
        assert!(research.gate.backfire < crate::Level::Block);
        assert_eq!(research.gate.rejected, Some(crate::Level::Flag));

        // The comparison can fail: the default is not as strict as the strict policy.
        assert!(!looser_points(default, strict).is_empty());
        assert!(!looser_points(research, default).is_empty());
    }

    #[test]
    fn missing_limits_are_not_enforced() {
        let p = Policy::from_toml("", "p.toml").unwrap();
        assert!(p.limits().iter().all(|(_, l, _)| l.is_none()));
        assert_eq!(p.gate.unknown, UnknownRule::CountAsSynthetic);
    }
}
