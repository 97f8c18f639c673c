//! The error type of this crate.

use std::fmt::Write as _;
use std::path::PathBuf;

/// Everything that can go wrong while reading, checking or analysing an ecosystem.
#[derive(Debug, thiserror::Error)]
pub enum DynamicsError {
    /// The ecosystem file could not be read.
    #[error("cannot read `{}`", path.display())]
    Io {
        /// The file that could not be read.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The ecosystem file's extension is neither `.toml` nor `.json`.
    #[error("{}: unknown ecosystem file extension, expected `.toml` or `.json`", path.display())]
    UnknownFormat {
        /// The offending file.
        path: PathBuf,
    },

    /// The ecosystem file is not valid TOML or JSON, or does not have the expected structure.
    #[error("{origin}:{line}: {message}")]
    Parse {
        /// The file name (or other origin) the text came from.
        origin: String,
        /// 1-based line of the problem (0 when unknown).
        line: usize,
        /// What the parser reported.
        message: String,
    },

    /// A value in the ecosystem breaks the contract (range, dimension, uniqueness).
    #[error("{}", invalid_message(origin.as_deref(), model.as_deref(), input.as_deref(), field, reason))]
    Invalid {
        /// The file the ecosystem was loaded from, when known.
        origin: Option<String>,
        /// The model whose value is wrong, when the value belongs to a model.
        model: Option<String>,
        /// The `from` of the input whose value is wrong, when the value belongs to an input.
        input: Option<String>,
        /// The key of the offending value, as written in the ecosystem file.
        field: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A model was named (in the analysis options) that the ecosystem does not contain.
    #[error("unknown model `{name}`")]
    UnknownModel {
        /// The name that was not found.
        name: String,
    },

    /// A sweep parameter path does not address a number of the ecosystem.
    #[error("sweep parameter `{param}`: {reason}")]
    Parameter {
        /// The path as given.
        param: String,
        /// Why it cannot be used.
        reason: String,
    },

    /// One value of a sweep makes the ecosystem invalid (or its analysis fail).
    #[error("sweep parameter `{param}` at the value `{value}`")]
    SweepPoint {
        /// The path as given.
        param: String,
        /// The value that failed.
        value: f64,
        /// Why the ecosystem with that value cannot be analysed.
        #[source]
        source: Box<DynamicsError>,
    },

    /// The eigenvalue iteration did not converge.
    #[error("eigenvalues of the `{size}`x`{size}` matrix `{matrix}` did not converge")]
    Eigenvalues {
        /// Which matrix (`M` or `W`).
        matrix: &'static str,
        /// Its order.
        size: usize,
    },

    /// An internal invariant was broken.
    #[error("internal error: {0}; this is a bug, please report it")]
    Bug(String),
}

impl DynamicsError {
    /// Attaches the file name to a validation error that does not carry one yet.
    #[must_use]
    pub fn with_origin(mut self, name: &str) -> Self {
        if let Self::Invalid { origin, .. } = &mut self
            && origin.is_none()
        {
            *origin = Some(name.to_owned());
        }
        self
    }

    pub(crate) fn invalid(
        model: Option<&str>,
        input: Option<&str>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            origin: None,
            model: model.map(str::to_owned),
            input: input.map(str::to_owned),
            field: field.into(),
            reason: reason.into(),
        }
    }
}

fn invalid_message(
    origin: Option<&str>,
    model: Option<&str>,
    input: Option<&str>,
    field: &str,
    reason: &str,
) -> String {
    let mut out = String::new();
    if let Some(origin) = origin {
        let _ = write!(out, "{origin}: ");
    }
    if let Some(model) = model {
        let _ = write!(out, "model `{model}`: ");
    }
    if let Some(input) = input {
        let _ = write!(out, "input from `{input}`: ");
    }
    let _ = write!(out, "`{field}` {reason}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_message_names_file_model_input_and_field() {
        let err =
            DynamicsError::invalid(Some("p"), Some("q"), "share", "must be in [0, 1], got `2`")
                .with_origin("eco.toml");
        assert_eq!(
            err.to_string(),
            "eco.toml: model `p`: input from `q`: `share` must be in [0, 1], got `2`"
        );
    }
}
