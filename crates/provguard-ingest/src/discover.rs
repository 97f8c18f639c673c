//! Finding the files to read under the paths a user gives, and the dataset split a file's
//! place names.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::format::is_data_name;
use crate::source::STDIN_PATH;
use crate::{IngestError, PathFilter};

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
/// path that does not exist is an error. `-` stands for standard input and is passed through.
pub fn discover(paths: &[PathBuf], skip: &[PathBuf]) -> Result<Discovery, IngestError> {
    discover_filtered(paths, skip, &PathFilter::default())
}

/// [`discover`], with include and exclude globs for the files found inside folders (see
/// [`PathFilter`]). A file a glob leaves out is listed in [`Discovery::ignored`].
///
/// A folder laid out as on dataset hubs (`data/train-00000-of-00002.parquet`,
/// `data/train/*.jsonl`, `test.jsonl`) is read with every shard of every split, in sorted
/// order; [`split_of`] names the split of each file.
pub fn discover_filtered(
    paths: &[PathBuf],
    skip: &[PathBuf],
    filter: &PathFilter,
) -> Result<Discovery, IngestError> {
    let skip: HashSet<PathBuf> = skip
        .iter()
        .map(|p| fs_err::canonicalize(p).unwrap_or_else(|_| p.clone()))
        .collect();
    let mut walk = Walk {
        skip,
        filter,
        seen: HashSet::new(),
        found: Discovery::default(),
    };
    for path in paths {
        if path == Path::new(STDIN_PATH) {
            if walk.seen.insert(path.clone()) {
                walk.found.files.push(path.clone());
            }
            continue;
        }
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
            walk.folder(path, path)?;
        } else {
            walk.file(path);
        }
    }
    Ok(walk.found)
}

struct Walk<'f> {
    skip: HashSet<PathBuf>,
    filter: &'f PathFilter,
    /// Canonical paths of files and folders already taken, against duplicates and link loops.
    seen: HashSet<PathBuf>,
    found: Discovery,
}

impl Walk<'_> {
    fn skipped(&self, path: &Path) -> bool {
        fs_err::canonicalize(path).is_ok_and(|canonical| self.skip.contains(&canonical))
    }

    /// Marks `path` as seen; false if it was seen before.
    fn first_visit(&mut self, path: &Path) -> bool {
        let key = fs_err::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.seen.insert(key)
    }

    /// A file the user named: read whatever its name.
    fn file(&mut self, path: &Path) {
        if self.first_visit(path) {
            self.found.files.push(path.to_path_buf());
        }
    }

    /// A file found inside the folder `root` that the user gave.
    fn found_file(&mut self, path: &Path, root: &Path) {
        let relative = path.strip_prefix(root).unwrap_or(path);
        let wanted = if self.filter.has_include() {
            self.filter.admits(relative)
        } else {
            is_data_name(path) && self.filter.admits(relative)
        };
        if !wanted {
            self.found.ignored.push(path.to_path_buf());
        } else if self.first_visit(path) {
            self.found.files.push(path.to_path_buf());
        }
    }

    fn folder(&mut self, dir: &Path, root: &Path) -> Result<(), IngestError> {
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
                Ok(meta) if meta.is_dir() => self.folder(&path, root)?,
                Ok(_) => self.found_file(&path, root),
                Err(_) => self.found.ignored.push(path),
            }
        }
        Ok(())
    }
}

/// Split names that dataset hubs use for files and folders.
const SPLITS: [&str; 8] = [
    "train",
    "test",
    "validation",
    "valid",
    "dev",
    "eval",
    "evaluation",
    "unsupervised",
];

/// The dataset split a file's place names, as dataset hubs lay folders out: a shard named
/// `SPLIT-00000-of-00002.parquet` (any extension), a file named `SPLIT.jsonl` or
/// `SPLIT_xxx.jsonl`, or a file inside a folder named `SPLIT` (`data/train/0.jsonl`). The
/// name comes before the folder. `None` when nothing names a split.
///
/// ```
/// use provguard_ingest::split_of;
/// use std::path::Path;
/// assert_eq!(split_of(Path::new("data/train-00000-of-00002.parquet")), Some("train"));
/// assert_eq!(split_of(Path::new("data/validation/part-1.jsonl")), Some("validation"));
/// assert_eq!(split_of(Path::new("data/shard-1.jsonl")), None);
/// ```
#[must_use]
pub fn split_of(path: &Path) -> Option<&str> {
    let name = path.file_name()?.to_str()?;
    let stem = name.split('.').next().unwrap_or(name);
    // `train-00000-of-00002`: the split is everything before the shard numbers.
    let by_shard = stem.rsplitn(4, '-').collect::<Vec<_>>();
    if let [total, "of", index, split] = by_shard[..]
        && !split.is_empty()
        && [total, index]
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some(split);
    }
    let head = stem.split(['_', '-']).next().unwrap_or(stem);
    if let Some(split) = SPLITS.iter().find(|s| s.eq_ignore_ascii_case(head)) {
        return Some(&stem[..split.len()]);
    }
    path.parent()?
        .components()
        .rev()
        .filter_map(|c| c.as_os_str().to_str())
        .find(|folder| SPLITS.iter().any(|s| s.eq_ignore_ascii_case(folder)))
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
    fn globs_pick_files_relative_to_the_folder_given() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for name in [
            "data/train-00000-of-00002.parquet",
            "data/train-00001-of-00002.parquet",
            "data/test-00000-of-00001.parquet",
            "train.jsonl",
            "test/a.jsonl",
            "notes.txt",
        ] {
            touch(&root.join(name));
        }
        let names = |found: &Discovery| -> Vec<String> {
            found
                .files
                .iter()
                .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
                .collect()
        };
        let filter = PathFilter::new(&["*.jsonl".into()], &["test/**".into()]).unwrap();
        let found = discover_filtered(&[root.to_path_buf()], &[], &filter).unwrap();
        assert_eq!(names(&found), ["train.jsonl"]);
        assert_eq!(found.ignored.len(), 5);

        let filter = PathFilter::new(&[], &["**/test-*".into()]).unwrap();
        let found = discover_filtered(&[root.to_path_buf()], &[], &filter).unwrap();
        assert_eq!(
            names(&found),
            [
                "data/train-00000-of-00002.parquet",
                "data/train-00001-of-00002.parquet",
                "test/a.jsonl",
                "train.jsonl"
            ]
        );

        // An include glob reads a file whatever its name.
        let filter = PathFilter::new(&["*.txt".into()], &[]).unwrap();
        let found = discover_filtered(&[root.to_path_buf()], &[], &filter).unwrap();
        assert_eq!(names(&found), ["notes.txt"]);
    }

    #[test]
    fn splits_come_from_shard_names_file_names_and_folders() {
        let cases = [
            ("data/train-00000-of-00002.parquet", Some("train")),
            ("x/my_split-00003-of-00010.jsonl.gz", Some("my_split")),
            ("data/Validation.jsonl", Some("Validation")),
            ("test_sft.parquet", Some("test")),
            ("data/train/0000.jsonl", Some("train")),
            ("data/dev/part/0.jsonl", Some("dev")),
            ("data/trainer.jsonl", None),
            ("data/0-of-1.jsonl", None),
            ("-", None),
        ];
        for (path, split) in cases {
            assert_eq!(split_of(Path::new(path)), split, "{path}");
        }
    }

    #[test]
    fn standard_input_is_passed_through_once() {
        let found = discover(&["-".into(), "-".into()], &[]).unwrap();
        assert_eq!(found.files, [PathBuf::from("-")]);
    }

    #[test]
    fn missing_path_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = discover(std::slice::from_ref(&missing), &[]).unwrap_err();
        assert!(matches!(err, IngestError::NotFound { path } if path == missing));
    }
}
