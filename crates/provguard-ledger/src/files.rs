//! Writing files aside and committing them by rename.
//!
//! A commit writes every new file under its final name plus `.tmp`, flushes it, then
//! replaces the manifest the same way (the commit point), then renames the new files to their
//! final names and flushes the folders. A writer killed before the manifest's rename leaves
//! only unlisted `.tmp` files, which readers never open and the next writer deletes; a writer
//! killed after it leaves listed files still under their `.tmp` names, which readers open in
//! their place and the next writer renames ("rolls forward"). Either way a reader sees the
//! ledger before or after the commit, never half of it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use fs_err as fs;

/// The suffix of a file written aside.
pub(crate) const TMP: &str = ".tmp";

/// `path` with `.tmp` appended.
pub(crate) fn aside(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(TMP);
    PathBuf::from(name)
}

/// Writes `bytes` aside from `path` and flushes them; the caller renames the file later.
pub(crate) fn write_aside(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::File::create(aside(path))?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Renames the file written aside to `path`. A file that was renamed already is fine.
pub(crate) fn settle(path: &Path) -> std::io::Result<()> {
    match fs::rename(aside(path), path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && path.is_file() => Ok(()),
        other => other,
    }
}

/// Writes `bytes` to `path` so that a reader sees the old file or the new one, never a part.
pub(crate) fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_aside(path, bytes)?;
    fs::rename(aside(path), path)?;
    if let Some(parent) = path.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Flushes a folder, so that the renames in it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Reads a file the manifest lists: under its name, or under its `.tmp` name when the commit
/// that listed it was cut short before the rename. Returns the bytes and the path read.
pub(crate) fn read_listed(path: &Path) -> std::io::Result<(Vec<u8>, PathBuf)> {
    // The rename may happen between two attempts, so the final name is tried again last.
    let tmp = aside(path);
    let mut missing = None;
    for candidate in [path, &tmp, path] {
        match fs::read(candidate) {
            Ok(bytes) => return Ok((bytes, candidate.to_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => missing = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(missing.unwrap_or_else(|| std::io::Error::other("unreachable: no attempt was made")))
}

/// The path a listed file can be read at now, if any (see [`read_listed`]).
pub(crate) fn resolve_listed(path: &Path) -> Option<PathBuf> {
    if path.is_file() {
        return Some(path.to_owned());
    }
    let tmp = aside(path);
    if tmp.is_file() {
        return Some(tmp);
    }
    path.is_file().then(|| path.to_owned())
}
