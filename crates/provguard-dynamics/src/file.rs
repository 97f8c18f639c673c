//! Reading ecosystem files (TOML, or JSON with the same structure).
//!
//! The keys and their defaults are documented in `docs/ecosystem.md`. Parsing happens in two
//! steps: the text is read into raw structs that reject unknown keys and keep missing values
//! as `None`, then defaults are filled in and the result is validated, with the file name
//! attached to every error.

use std::path::Path;

use serde::Deserialize;

use crate::{DEFAULT_CURATION_STRENGTH, DynamicsError, Ecosystem, Input, Model, Reward};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEcosystem {
    dim: Option<usize>,
    human_target: Option<Vec<f64>>,
    #[serde(default)]
    models: Vec<RawModel>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    name: String,
    human: Option<f64>,
    samples_per_round: Option<f64>,
    reward: Option<RawReward>,
    curation_strength: Option<f64>,
    #[serde(default)]
    inputs: Vec<RawInput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReward {
    g: Option<Vec<f64>>,
    eta: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    from: String,
    share: f64,
    curated: Option<f64>,
    shift: Option<Vec<f64>>,
    transfer: Option<Vec<Vec<f64>>>,
}

impl RawEcosystem {
    fn into_ecosystem(self) -> Ecosystem {
        let dim = self.dim.unwrap_or(1);
        let human_target = self.human_target.unwrap_or_else(|| vec![1.0; dim]);
        let models = self.models.into_iter().map(RawModel::into_model).collect();
        Ecosystem {
            dim,
            human_target,
            models,
        }
    }
}

impl RawModel {
    fn into_model(self) -> Model {
        let reward = self.reward.map_or_else(Reward::default, |r| Reward {
            g: r.g,
            eta: r.eta.unwrap_or(1.0),
        });
        let inputs = self
            .inputs
            .into_iter()
            .map(|i| Input {
                from: i.from,
                share: i.share,
                curated: i.curated.unwrap_or(0.0),
                shift: i.shift,
                transfer: i.transfer,
            })
            .collect();
        Model {
            name: self.name,
            human: self.human.unwrap_or(0.0),
            samples_per_round: self.samples_per_round,
            reward,
            curation_strength: self.curation_strength.unwrap_or(DEFAULT_CURATION_STRENGTH),
            inputs,
        }
    }
}

impl Ecosystem {
    /// Parses and validates an ecosystem written in TOML; `origin` names the text (usually the
    /// file name) in error messages.
    ///
    /// ```
    /// use provguard_dynamics::Ecosystem;
    ///
    /// let eco = Ecosystem::from_toml_str(
    ///     "[[models]]\nname = \"p\"\nhuman = 0.4\ninputs = [{ from = \"p\", share = 0.6 }]\n",
    ///     "eco.toml",
    /// )
    /// .unwrap();
    /// assert_eq!(eco.models[0].inputs[0].share, 0.6);
    /// ```
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, DynamicsError> {
        let raw: RawEcosystem = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |span| line_of(text, span.start));
            DynamicsError::Parse {
                origin: origin.to_owned(),
                line,
                message: e.message().trim_end().to_owned(),
            }
        })?;
        Self::checked(raw, origin)
    }

    /// Parses and validates an ecosystem written in JSON, with the same structure as the TOML
    /// form; `origin` names the text in error messages.
    ///
    /// ```
    /// use provguard_dynamics::Ecosystem;
    ///
    /// let eco = Ecosystem::from_json_str(r#"{"models": [{"name": "p", "human": 1}]}"#, "eco.json")
    ///     .unwrap();
    /// assert_eq!(eco.models[0].human, 1.0);
    /// ```
    pub fn from_json_str(text: &str, origin: &str) -> Result<Self, DynamicsError> {
        let raw: RawEcosystem = serde_json::from_str(text).map_err(|e| {
            // serde_json appends " at line L column C"; the line goes in front instead.
            let mut message = e.to_string();
            if let Some(pos) = message.rfind(" at line ") {
                message.truncate(pos);
            }
            DynamicsError::Parse {
                origin: origin.to_owned(),
                line: e.line(),
                message,
            }
        })?;
        Self::checked(raw, origin)
    }

    /// Reads an ecosystem file, choosing the format by its extension (`.toml` or `.json`).
    pub fn load(path: &Path) -> Result<Self, DynamicsError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let parse = match ext.as_deref() {
            Some("toml") => Self::from_toml_str,
            Some("json") => Self::from_json_str,
            _ => {
                return Err(DynamicsError::UnknownFormat {
                    path: path.to_owned(),
                });
            }
        };
        let text = std::fs::read_to_string(path).map_err(|source| DynamicsError::Io {
            path: path.to_owned(),
            source,
        })?;
        parse(&text, &path.display().to_string())
    }

    fn checked(raw: RawEcosystem, origin: &str) -> Result<Self, DynamicsError> {
        let eco = raw.into_ecosystem();
        eco.validate().map_err(|e| e.with_origin(origin))?;
        Ok(eco)
    }
}

/// 1-based line number of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    let before = text.get(..at.min(text.len())).unwrap_or(text);
    before.matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_of_counts_newlines_before_offset() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
