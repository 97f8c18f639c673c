//! Finding the files to read under the paths a user gives.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::IngestError;
use crate::format::is_data_name;

/// The files found under the given paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Files to read, in the order given, folders expanded in sorted order.
    pub files: Vec<PathBuf>,
    /// Files found in folders whose names do not say they hold data; listed so that the report
    /// can show what was not read.
    pub ignored: Vec<PathBuf>,
}

/// Files to read under the given paths.
///
/// A file given by name is read whatever its name. A folder is walked recursively, entries in
/// byte order of their names; entries whose name starts with `.` are skipped, and so is every
/// path in `skip` (compared after canonicalisation, so the ledger folder is never read back).
/// Inside folders only files named `.jsonl`, `.ndjson`, `.json` or `.parquet`, each optionally
/// followed by `.gz`, `.gzip`, `.zst` or `.zstd`, are read; other files go to
/// [`Discovery::ignored`]. A file reached twice (given twice, or by a link) is read once. A
/// path that does not exist is an error.
pub fn discover(paths: &[PathBuf], skip: &[PathBuf]) -> Result<Discovery, IngestError> {
    let skip: HashSet<PathBuf> = skip
        .iter()
        .map(|p| fs_err::canonicalize(p).unwrap_or_else(|_| p.clone()))
        .collect();
    let mut walk = Walk {
        skip,
        seen: HashSet::new(),
        found: Discovery::default(),
    };
    for path in paths {
        let meta = match fs_err::metadata(path) {
            Ok(meta) => meta,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(IngestError::NotFound { path: path.clone() });
            }
            Err(source) => {
                return Err(IngestError::Inspect {
                    path: path.clone(),
                    source,
                });
            }
        };
        if walk.skipped(path) {
            continue;
        }
        if meta.is_dir() {
            walk.folder(path)?;
        } else {
            walk.file(path, true);
        }
    }
    Ok(walk.found)
}

struct Walk {
    skip: HashSet<PathBuf>,
    /// Canonical paths of files and folders already taken, against duplicates and link loops.
    seen: HashSet<PathBuf>,
    found: Discovery,
}

impl Walk {
    fn skipped(&self, path: &Path) -> bool {
        fs_err::canonicalize(path).is_ok_and(|canonical| self.skip.contains(&canonical))
    }

    /// Marks `path` as seen; false if it was seen before.
    fn first_visit(&mut self, path: &Path) -> bool {
        let key = fs_err::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.seen.insert(key)
    }

    fn file(&mut self, path: &Path, given: bool) {
        if !given && !is_data_name(path) {
            self.found.ignored.push(path.to_path_buf());
        } else if self.first_visit(path) {
            self.found.files.push(path.to_path_buf());
        }
    }

    fn folder(&mut self, dir: &Path) -> Result<(), IngestError> {
        if !self.first_visit(dir) {
            return Ok(());
        }
        let list_error = |source| IngestError::ListFolder {
            path: dir.to_path_buf(),
            source,
        };
        let mut entries = Vec::new();
        for entry in fs_err::read_dir(dir).map_err(list_error)? {
            let entry = entry.map_err(list_error)?;
            entries.push(entry.path());
        }
        entries.sort_by(|a, b| a.file_name().cmp(&b.file_name()));

        for path in entries {
            let hidden = path
                .file_name()
                .is_some_and(|name| name.as_encoded_bytes().starts_with(b"."));
            if hidden || self.skipped(&path) {
                continue;
            }
            // Follow links; an entry whose target cannot be inspected (a broken link) is
            // listed as ignored rather than failing the whole walk.
            match fs_err::metadata(&path) {
                Ok(meta) if meta.is_dir() => self.folder(&path)?,
                Ok(_) => self.file(&path, false),
                Err(_) => self.found.ignored.push(path),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(path, b"{}\n").unwrap();
    }

    #[test]
    fn walks_sorted_skipping_hidden_and_skip_paths() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for name in [
            "b.jsonl",
            "a.json.gz",
            "sub/c.parquet",
            "sub/d.ndjson.zst",
            ".hidden.jsonl",
            ".git/e.jsonl",
            "ledger/f.jsonl",
            "notes.txt",
            "sub/README.md",
            "z.JSONL",
        ] {
            touch(&root.join(name));
        }
        // The skip path is given in another spelling to check canonical comparison.
        let skip = root.join("sub/../ledger");
        let found = discover(&[root.to_path_buf()], &[skip]).unwrap();
        let names: Vec<_> = found
            .files
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "a.json.gz",
                "b.jsonl",
                "sub/c.parquet",
                "sub/d.ndjson.zst",
                "z.JSONL"
            ]
        );
        let ignored: Vec<_> = found
            .ignored
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(ignored, ["notes.txt", "sub/README.md"]);
    }

    #[test]
    fn explicit_files_are_read_whatever_their_name_and_only_once() {
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join(".odd.txt");
        touch(&odd);
        let data = dir.path().join("x.jsonl");
        touch(&data);
        let found = discover(&[odd.clone(), data.clone(), dir.path().to_path_buf()], &[]).unwrap();
        assert_eq!(found.files, [odd, data]);
    }

    #[test]
    fn missing_path_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = discover(std::slice::from_ref(&missing), &[]).unwrap_err();
        assert!(matches!(err, IngestError::NotFound { path } if path == missing));
    }
}
