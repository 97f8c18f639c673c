//! What a ledger holds, in numbers: `provguard ledger stats`, and the files of its tables
//! for SQL.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fs_err as fs;
use serde::Serialize;

use crate::LedgerError;
use crate::files;
use crate::manifest::{FileKind, Manifest};
use crate::store::{FilterEntry, Ledger};

/// One registered source and what the ledger holds of it.
#[derive(Debug, Clone, Serialize)]
pub struct SourceSummary {
    /// The source's name.
    pub name: String,
    /// `human` or `synthetic`.
    pub origin: String,
    /// Every text of the source was chosen by people.
    pub curated: bool,
    /// Registrations of the source that added entries.
    pub registrations: u64,
    /// Texts those registrations read.
    pub texts: u64,
    /// (fingerprint, source, field) entries of the source.
    pub entries: u64,
}

/// Counts of one origin.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OriginSummary {
    /// Sources of this origin.
    pub sources: u64,
    /// Their entries.
    pub entries: u64,
}

/// What `provguard ledger stats` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// The ledger's folder.
    pub ledger: PathBuf,
    /// The layout's version.
    pub format: String,
    /// The normalisation its fingerprints were made under.
    pub normalisation: String,
    /// The registered sources, in registration order.
    pub sources: Vec<SourceSummary>,
    /// Sources and entries by origin.
    pub origins: BTreeMap<String, OriginSummary>,
    /// Registrations that added entries.
    pub registrations: u64,
    /// (fingerprint, source, field) entries.
    pub entries: u64,
    /// Distinct fingerprints.
    pub fingerprints: u64,
    /// Recorded scans.
    pub scans: u64,
    /// Links of the manifest's chain (segments and filters).
    pub links: u64,
    /// The Bloom filters and their settings.
    pub filters: Vec<FilterEntry>,
    /// Memory the fingerprint index holds, in bytes.
    pub index_bytes: u64,
    /// Bytes of all the files in the ledger's folder.
    pub size_on_disk: u64,
}

/// The sources of a manifest with their counts, from its registrations and chain.
fn summarise(manifest: &Manifest) -> Vec<SourceSummary> {
    manifest
        .sources
        .iter()
        .map(|s| {
            let registrations = manifest.registrations.iter().filter(|r| r.source == s.name);
            let entries = manifest
                .chain
                .iter()
                .filter(|e| e.kind == FileKind::Fingerprints)
                .filter(|e| e.source.as_deref() == Some(s.name.as_str()))
                .map(|e| e.rows)
                .sum();
            SourceSummary {
                name: s.name.clone(),
                origin: s.origin.as_str().to_owned(),
                curated: s.curated,
                registrations: registrations.clone().count() as u64,
                texts: registrations.map(|r| r.texts).sum(),
                entries,
            }
        })
        .collect()
}

impl Ledger {
    /// The ledger's numbers; reads the folder's size from disk.
    pub fn stats(&self) -> Result<Stats, LedgerError> {
        let sources = summarise(self.manifest());
        let mut origins: BTreeMap<String, OriginSummary> = BTreeMap::new();
        for s in &sources {
            let origin = origins.entry(s.origin.clone()).or_default();
            origin.sources += 1;
            origin.entries += s.entries;
        }
        Ok(Stats {
            ledger: self.dir().to_owned(),
            format: self.manifest().format.clone(),
            normalisation: self.manifest().normalisation.clone(),
            sources,
            origins,
            registrations: self.registrations().len() as u64,
            entries: self.entries(),
            fingerprints: self.fingerprints() as u64,
            scans: self.scans().len() as u64,
            links: self.chain().len() as u64,
            filters: self.filters().to_vec(),
            index_bytes: self.index_bytes() as u64,
            size_on_disk: size_of_folder(self.dir())?,
        })
    }
}

fn size_of_folder(dir: &Path) -> Result<u64, LedgerError> {
    let mut total = 0;
    for item in fs::read_dir(dir)? {
        let item = item?;
        let meta = item.metadata()?;
        total += if meta.is_dir() {
            size_of_folder(&item.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// The files behind the ledger's tables at one commit, for readers such as SQL engines.
#[derive(Debug, Clone)]
pub struct TableFiles {
    /// The fingerprint segments (the `fingerprints` table), oldest first.
    pub fingerprints: Vec<PathBuf>,
    /// The scan segments (the `scans` table), oldest first.
    pub scans: Vec<PathBuf>,
    /// The sources with their counts (the `sources` table).
    pub sources: Vec<SourceSummary>,
}

impl TableFiles {
    /// Reads the manifest of the ledger in `dir` (no lock, no index), checks every segment's
    /// size and hash against its link, and resolves their paths, under their `.tmp` names
    /// where a killed writer left them so.
    pub fn read(dir: &Path) -> Result<Self, LedgerError> {
        let manifest = Manifest::read(dir)?;
        let paths = |kind| -> Result<Vec<PathBuf>, LedgerError> {
            manifest
                .files(dir, kind)
                .map(|(entry, path)| {
                    let found =
                        files::resolve_listed(&path).ok_or_else(|| LedgerError::Segment {
                            what: "the file is missing".to_owned(),
                            path: path.clone(),
                        })?;
                    check_file(&found, entry)?;
                    Ok(found)
                })
                .collect()
        };
        Ok(Self {
            fingerprints: paths(FileKind::Fingerprints)?,
            scans: paths(FileKind::Scans)?,
            sources: summarise(&manifest),
        })
    }
}

/// Streams a listed file through blake3 and checks its size and hash against its link.
fn check_file(path: &Path, entry: &crate::manifest::ChainEntry) -> Result<(), LedgerError> {
    let mut hasher = blake3::Hasher::new();
    let file = fs::File::open(path)?;
    let size = std::io::copy(&mut std::io::BufReader::new(file), &mut hasher)?;
    let what = if size != entry.size {
        format!("it holds {size} bytes, the manifest says {}", entry.size)
    } else if hasher.finalize().to_hex().as_str() != entry.blake3 {
        "its blake3 hash differs from the manifest's".to_owned()
    } else {
        return Ok(());
    };
    Err(LedgerError::Segment {
        path: path.to_owned(),
        what,
    })
}
