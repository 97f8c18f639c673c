//! The crate's one error type.
//!
//! Errors here are about the file system: a path that does not exist, a folder that cannot be
//! listed, a file that cannot be opened. Everything about the data inside a file that could be
//! opened is reported as an [`Event`](crate::Event) instead, so that one bad record or one bad
//! file never stops the others. The operating system's error comes from `fs-err` and already
//! names the path, so the messages here do not repeat it.

use std::io;
use std::path::PathBuf;

/// What can go wrong before any data is read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// A path given by the user does not exist.
    #[error("input path `{}` does not exist", path.display())]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },

    /// A path exists but its metadata cannot be read (permission, broken link).
    #[error("cannot inspect an input path")]
    Inspect {
        /// The path as given or found.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },

    /// A folder cannot be listed.
    #[error("cannot list an input folder")]
    ListFolder {
        /// The folder.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },

    /// An include or exclude glob is not valid.
    #[error("`{pattern}` is not a valid glob")]
    Glob {
        /// The pattern as given.
        pattern: String,
        /// What the glob parser said.
        #[source]
        source: globset::Error,
    },

    /// A file cannot be opened for reading.
    #[error("cannot open an input file")]
    Open {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
}
