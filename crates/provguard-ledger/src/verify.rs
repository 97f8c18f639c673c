//! Checking the whole chain against the folder: `provguard ledger verify`.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use fs_err as fs;
use serde::Serialize;

use crate::LedgerError;
use crate::files::{self, TMP};
use crate::manifest::{Manifest, inside_ledger};
use crate::store::{FILTERS, SEGMENTS};

/// What is wrong with one file or link of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProblemKind {
    /// A listed file's size or hash differs from its chain entry.
    Modified,
    /// A listed file is not in the folder.
    Removed,
    /// A listed file holds what the chain lists for another file, or the chain's links are
    /// out of order.
    Reordered,
    /// A file in the ledger's folders that the chain does not list.
    Added,
    /// A link of the chain does not follow the one before it, names a file twice or outside
    /// the ledger's folders, or the manifest's head or seal does not match.
    Chain,
}

/// One problem [`verify`] found.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// What kind of problem.
    pub kind: ProblemKind,
    /// The file, relative to the ledger folder.
    pub file: String,
    /// What is wrong, in words.
    pub message: String,
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// The manifest's format.
    pub format: String,
    /// Links in the chain.
    pub links: usize,
    /// The hash of the chain's last link.
    pub head: String,
    /// Files checked against their links.
    pub files_checked: usize,
    /// Everything found wrong; empty when the ledger is whole.
    pub problems: Vec<Problem>,
    /// What is worth knowing but not wrong (the files of an interrupted commit).
    pub notes: Vec<String>,
}

impl Verification {
    /// True when nothing is wrong.
    #[must_use]
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the ledger in `dir`: every link of the manifest's chain follows the one before,
/// every listed file has the size and blake3 hash its link says, and the ledger's folders
/// hold no file the chain does not list. Takes no lock: a commit made meanwhile shows as
/// the files of an interrupted commit, in the notes.
///
/// Errors only when there is no ledger or its manifest cannot be read; damage is reported.
pub fn verify(dir: &Path) -> Result<Verification, LedgerError> {
    let manifest = Manifest::read_unchecked(dir)?;
    let mut problems = Vec::new();
    let mut notes = Vec::new();

    // The manifest on its own: links, head, seal, where its files lie.
    for p in manifest.problems() {
        problems.push(Problem {
            kind: ProblemKind::Chain,
            file: p.file,
            message: p.message,
        });
    }

    // The files: each as its link says.
    let by_hash: HashMap<&str, &str> = manifest
        .chain
        .iter()
        .map(|e| (e.blake3.as_str(), e.file.as_str()))
        .collect();
    let mut checked = 0;
    // A file outside the ledger's folders is never read: the chain problem names it.
    for entry in manifest
        .chain
        .iter()
        .filter(|e| inside_ledger(&e.file, e.kind))
    {
        let path = dir.join(&entry.file);
        let Some(found) = files::resolve_listed(&path) else {
            problems.push(Problem {
                kind: ProblemKind::Removed,
                file: entry.file.clone(),
                message: "the file is missing".to_owned(),
            });
            continue;
        };
        if found != path {
            notes.push(format!(
                "`{}` is still under its `{TMP}` name: its commit was interrupted after the \
                 manifest was written; the next writer renames it",
                entry.file
            ));
        }
        let bytes = fs::read(&found)?;
        checked += 1;
        let hash = blake3::hash(&bytes).to_hex().to_string();
        if hash == entry.blake3 && bytes.len() as u64 == entry.size {
            continue;
        }
        let problem = match by_hash.get(hash.as_str()) {
            Some(other) => Problem {
                kind: ProblemKind::Reordered,
                file: entry.file.clone(),
                message: format!("the file holds what the manifest lists for `{other}`"),
            },
            None => Problem {
                kind: ProblemKind::Modified,
                file: entry.file.clone(),
                message: format!(
                    "the file ({} bytes) differs from what the manifest lists ({} bytes, \
                     blake3 `{}`)",
                    bytes.len(),
                    entry.size,
                    short(&entry.blake3)
                ),
            },
        };
        problems.push(problem);
    }

    unlisted(dir, &manifest, &mut problems, &mut notes)?;

    Ok(Verification {
        format: manifest.format,
        links: manifest.chain.len(),
        head: manifest.head,
        files_checked: checked,
        problems,
        notes,
    })
}

/// The folders: nothing unlisted, besides a writer's files written aside.
fn unlisted(
    dir: &Path,
    manifest: &Manifest,
    problems: &mut Vec<Problem>,
    notes: &mut Vec<String>,
) -> Result<(), LedgerError> {
    let listed: BTreeSet<&str> = manifest.chain.iter().map(|e| e.file.as_str()).collect();
    for folder in [SEGMENTS, FILTERS] {
        let Ok(listing) = fs::read_dir(dir.join(folder)) else {
            continue;
        };
        let mut names: Vec<String> = Vec::new();
        for item in listing {
            names.push(item?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        for name in names {
            let file = format!("{folder}/{name}");
            if let Some(base) = file.strip_suffix(TMP) {
                if !listed.contains(base) {
                    notes.push(format!(
                        "`{file}` is an unfinished commit's file (a writer at work, or one that \
                         was killed); readers ignore it and the next writer deletes it"
                    ));
                }
            } else if !listed.contains(file.as_str()) {
                problems.push(Problem {
                    kind: ProblemKind::Added,
                    file,
                    message: "the file is not in the manifest's chain".to_owned(),
                });
            }
        }
    }
    Ok(())
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(16)]
}
