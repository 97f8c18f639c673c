//! Opening the ledger and committing registrations and scans to it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use fs_err as fs;
use provguard_lineage::near::DEFAULT_FALSE_POSITIVE_RATE;
use provguard_lineage::shingle::DEFAULT_SHINGLE_LEN;
use provguard_lineage::{
    Evidence, FilterSettings, Fingerprint, NearConfig, NearIndex, Origin, SHINGLE_SCHEME, Shingler,
    SourceFilter, SourceId, SourceKind,
};
use serde::{Deserialize, Serialize};

use crate::LedgerError;
use crate::files::{self, TMP};
use crate::index::{FingerprintIndex, key};
use crate::manifest::{ChainEntry, FileKind, MANIFEST, Manifest};
use crate::segment;

pub(crate) const SEGMENTS: &str = "segments";
pub(crate) const FILTERS: &str = "filters";
const LOCK: &str = "lock";

/// A registered source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceEntry {
    /// The source's name; for a synthetic source, the model's name.
    pub name: String,
    /// Human or synthetic.
    pub origin: Origin,
    /// Every text of this source was chosen by people.
    pub curated: bool,
}

/// One registration: a set of files recorded under a source.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Registration {
    /// Sequence number, from 1.
    pub id: u64,
    /// The source registered.
    pub source: String,
    /// The files read, as given.
    pub files: Vec<String>,
    /// Texts read.
    pub texts: u64,
    /// Entries that were new to the ledger.
    pub new_entries: u64,
    /// Seconds since the Unix epoch.
    pub at: u64,
}

/// The admitted composition of a scan, recorded for the next scan of another model to see.
///
/// Shares are fractions of `records` before unknown records are folded, so a later scan can
/// fold them under its own policy: `human + sum(models) + unknown = 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedScan {
    /// The model the scanned data trains.
    pub home: String,
    /// An order-independent digest of the admitted records' fingerprints: the same content
    /// gives the same id whatever its order or file layout.
    pub content: String,
    /// Admitted records.
    pub records: u64,
    /// Human share `h`.
    pub human: f64,
    /// Unknown share `u`.
    pub unknown: f64,
    /// Share `w` of each synthetic source, by name.
    pub models: BTreeMap<String, f64>,
    /// Curated share `c` of each synthetic source, by name.
    pub curated: BTreeMap<String, f64>,
    /// The scan's verdict (`pass` or `flag`; blocked scans are not recorded).
    #[serde(default)]
    pub verdict: Option<String>,
    /// Seconds since the Unix epoch.
    pub at: u64,
}

/// One text to register: the field it was read from, its fingerprint and the text itself,
/// whose shingles go into the registration's Bloom filter.
#[derive(Debug, Clone)]
pub struct TextEntry {
    /// The field path or response field the text was read from.
    pub field: String,
    /// The text's fingerprint ([`Fingerprint::of_text`]).
    pub fingerprint: Fingerprint,
    /// The text as read.
    pub text: String,
}

/// How a registration builds its Bloom filter of shingles.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterOptions {
    /// The false-positive rate the filter is sized for, in `(0, 1)`.
    pub false_positive_rate: f64,
    /// The shingle length in tokens; `None` takes the ledger's (that of its filters), else
    /// [`DEFAULT_SHINGLE_LEN`]. One ledger holds filters of one length only.
    pub shingle_len: Option<usize>,
}

impl Default for FilterOptions {
    fn default() -> Self {
        Self {
            false_positive_rate: DEFAULT_FALSE_POSITIVE_RATE,
            shingle_len: None,
        }
    }
}

/// A Bloom filter of the shingles one registration added, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterEntry {
    /// The filter's file, relative to the ledger folder (`filters/000001.bloom`).
    pub file: String,
    /// The source whose texts it holds.
    pub source: String,
    /// blake3 of the file.
    pub blake3: String,
    /// How the shingles were made and how the filter was sized.
    pub settings: FilterSettings,
}

/// An open ledger: its manifest, and an index of its fingerprints for lookups.
#[derive(Debug)]
pub struct Ledger {
    dir: PathBuf,
    manifest: Manifest,
    index: FingerprintIndex,
    /// Field names by id, as met while loading; ids live only in memory.
    fields: Vec<String>,
    field_ids: HashMap<String, u32>,
    entries: u64,
    near: NearIndex,
    scans: Vec<RecordedScan>,
}

impl Ledger {
    /// Opens the ledger in `dir`; an error if there is none.
    ///
    /// Every listed file is checked against its size and blake3 hash while it is loaded.
    pub fn open(dir: &Path) -> Result<Self, LedgerError> {
        let manifest = Manifest::read(dir)?;
        let mut ledger = Self::empty(dir, Manifest::empty());
        ledger.near = NearIndex::new(first_shingler(dir, &manifest)?, NearConfig::default());
        ledger.manifest = manifest;
        ledger.apply(0)?;
        Ok(ledger)
    }

    /// Opens the ledger in `dir`, or an empty one that the first commit will create.
    ///
    /// A folder that holds segments or filters but no manifest is a damaged ledger, refused:
    /// starting a new one there would write over its files.
    pub fn open_or_new(dir: &Path) -> Result<Self, LedgerError> {
        if dir.join(MANIFEST).is_file() {
            return Self::open(dir);
        }
        for folder in [SEGMENTS, FILTERS] {
            let holds_files =
                fs::read_dir(dir.join(folder)).is_ok_and(|mut items| items.next().is_some());
            if holds_files {
                return Err(LedgerError::Broken {
                    path: dir.to_owned(),
                    what: format!(
                        "it has a `{folder}` folder with files but no `{MANIFEST}` (removed or \
                         lost); restore the manifest, or move the folder away to start anew"
                    ),
                });
            }
        }
        Ok(Self::empty(dir, Manifest::empty()))
    }

    fn empty(dir: &Path, manifest: Manifest) -> Self {
        Self {
            dir: dir.to_owned(),
            manifest,
            index: FingerprintIndex::default(),
            fields: Vec::new(),
            field_ids: HashMap::new(),
            entries: 0,
            near: NearIndex::new(Shingler::default(), NearConfig::default()),
            scans: Vec::new(),
        }
    }

    /// Loads the files of chain entries `from..` into the index, the filters and the scans.
    fn apply(&mut self, from: usize) -> Result<(), LedgerError> {
        let chain: Vec<ChainEntry> = self.manifest.chain[from..].to_vec();
        let mut triples: Vec<(u128, SourceId, u32)> = Vec::new();
        for entry in &chain {
            let (bytes, path) = read_checked(&self.dir, entry)?;
            let damaged = |what: String| match entry.kind {
                FileKind::Filter => LedgerError::Filter {
                    path: path.clone(),
                    what,
                },
                _ => LedgerError::Segment {
                    path: path.clone(),
                    what,
                },
            };
            match entry.kind {
                FileKind::Fingerprints => {
                    let source = self.listed_source(entry).map_err(damaged)?;
                    triples.reserve(entry.rows as usize);
                    let mut last: Option<(String, u32)> = None;
                    let rows = segment::decode_fingerprints(bytes, |fingerprint, field| {
                        let field = match &last {
                            Some((name, id)) if name == field => *id,
                            _ => {
                                let id = self.field_id(field);
                                last = Some((field.to_owned(), id));
                                id
                            }
                        };
                        triples.push((key(&fingerprint), source, field));
                    })
                    .map_err(damaged)?;
                    if rows != entry.rows {
                        return Err(damaged(format!(
                            "it holds {rows} rows, the manifest says {}",
                            entry.rows
                        )));
                    }
                    self.entries += rows;
                }
                FileKind::Scans => {
                    let scans = segment::decode_scans(bytes).map_err(damaged)?;
                    self.scans.extend(scans);
                }
                FileKind::Filter => {
                    let source = self.listed_source(entry).map_err(damaged)?;
                    let filter = self.decode_filter(entry, &bytes).map_err(damaged)?;
                    self.near
                        .add(source, filter)
                        .map_err(|e| LedgerError::Shingles {
                            path: path.clone(),
                            source: e,
                        })?;
                }
            }
        }
        if self.index.is_empty() {
            self.index = FingerprintIndex::build(triples);
        } else if !triples.is_empty() {
            self.index.extend(triples);
        }
        Ok(())
    }

    /// The id of the source a chain entry names.
    fn listed_source(&self, entry: &ChainEntry) -> Result<SourceId, String> {
        let name = entry.source.as_deref().unwrap_or("");
        self.manifest
            .sources
            .iter()
            .position(|s| s.name == name)
            .map(|i| i as SourceId)
            .ok_or_else(|| format!("its source `{name}` is not registered"))
    }

    fn decode_filter(&self, entry: &ChainEntry, bytes: &[u8]) -> Result<SourceFilter, String> {
        let filter = SourceFilter::from_bytes(bytes).map_err(|e| e.to_string())?;
        let listed = self.manifest.filters.iter().find(|f| f.file == entry.file);
        if listed.is_none_or(|f| &f.settings != filter.settings()) {
            return Err("its settings differ from the manifest's".to_owned());
        }
        Ok(filter)
    }

    /// The near-copy index: the Bloom filters of every registration, by source.
    #[must_use]
    pub fn near_index(&self) -> &NearIndex {
        &self.near
    }

    /// The Bloom filters of the ledger, oldest first, with their settings.
    #[must_use]
    pub fn filters(&self) -> &[FilterEntry] {
        &self.manifest.filters
    }

    /// The ledger's folder.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The registered sources, indexed by [`SourceId`].
    #[must_use]
    pub fn sources(&self) -> &[SourceEntry] {
        &self.manifest.sources
    }

    /// The kinds of the registered sources, indexed by [`SourceId`], for a composition.
    #[must_use]
    pub fn source_kinds(&self) -> Vec<SourceKind> {
        self.sources()
            .iter()
            .map(|s| SourceKind {
                origin: s.origin,
                curated: s.curated,
            })
            .collect()
    }

    /// The registrations, oldest first.
    #[must_use]
    pub fn registrations(&self) -> &[Registration] {
        &self.manifest.registrations
    }

    /// The manifest's chain of files, oldest first.
    #[must_use]
    pub fn chain(&self) -> &[ChainEntry] {
        &self.manifest.chain
    }

    pub(crate) fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Number of (fingerprint, source, field) entries.
    #[must_use]
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Number of distinct fingerprints.
    #[must_use]
    pub fn fingerprints(&self) -> usize {
        self.index.len()
    }

    /// Bytes of memory the fingerprint index holds.
    #[must_use]
    pub fn index_bytes(&self) -> usize {
        self.index.heap_bytes()
    }

    /// Records `texts` under `source` and commits them as one registration: a Parquet segment
    /// of their entries (`segments/fingerprints-NNNNNN.parquet`) and a Bloom filter of the
    /// shingles of the texts that were new (`filters/NNNNNN.bloom`, sized for their distinct
    /// count at `options`'s false-positive rate). Entries the ledger already holds are not
    /// written again; when nothing is new, nothing is committed and `None` is returned.
    ///
    /// The commit is atomic and serialised with other writers by the ledger's lock; what
    /// other processes committed before the lock was taken is kept.
    pub fn register(
        &mut self,
        source: &SourceEntry,
        files: Vec<String>,
        texts: impl IntoIterator<Item = TextEntry>,
        options: &FilterOptions,
    ) -> Result<Option<Registration>, LedgerError> {
        fs::create_dir_all(self.dir.join(SEGMENTS))?;
        fs::create_dir_all(self.dir.join(FILTERS))?;
        let _lock = self.lock_and_reload()?;
        let shingler = self.shingler_for(options)?;

        // Keep the new entries, and the distinct shingles of the texts that made them.
        let (source_id, is_new_source) = self.source_id(source)?;
        let mut fresh: Vec<(Fingerprint, u32)> = Vec::new();
        let mut seen: HashSet<(u128, u32)> = HashSet::new();
        let mut shingles: HashSet<u64> = HashSet::new();
        let mut count = 0u64;
        for text in texts {
            count += 1;
            let field = self.field_id(&text.field);
            let k = key(&text.fingerprint);
            if !self.index.contains(k, source_id, field) && seen.insert((k, field)) {
                fresh.push((text.fingerprint, field));
                shingles.extend(shingler.shingles(&text.text));
            }
        }
        if fresh.is_empty() {
            return Ok(None);
        }

        // Write the filter and the segment aside.
        let id = self.manifest.registrations.last().map_or(1, |r| r.id + 1);
        let mut manifest = self.manifest.clone();
        if is_new_source {
            manifest.sources.push(source.clone());
        }
        let segment_file = format!("{SEGMENTS}/fingerprints-{id:06}.parquet");
        let rows: Vec<(Fingerprint, &str)> = fresh
            .iter()
            .map(|(f, field)| (*f, self.fields[*field as usize].as_str()))
            .collect();
        let bytes = segment::encode_fingerprints(source, id, &rows)
            .map_err(|e| LedgerError::Bug(format!("cannot encode a segment: {e}")))?;
        files::write_aside(&self.dir.join(&segment_file), &bytes)?;
        manifest.link(
            FileKind::Fingerprints,
            segment_file.clone(),
            &bytes,
            fresh.len() as u64,
            Some(source.name.clone()),
        );
        let mut written = vec![segment_file];
        let filter = if shingles.is_empty() {
            None
        } else {
            let shingles: Vec<u64> = shingles.into_iter().collect();
            let filter =
                SourceFilter::from_shingles(&shingler, &shingles, options.false_positive_rate)
                    .map_err(LedgerError::Near)?;
            let file = format!("{FILTERS}/{id:06}.bloom");
            let bytes = filter.to_bytes();
            files::write_aside(&self.dir.join(&file), &bytes)?;
            manifest.filters.push(FilterEntry {
                file: file.clone(),
                source: source.name.clone(),
                blake3: blake3::hash(&bytes).to_hex().to_string(),
                settings: filter.settings().clone(),
            });
            manifest.link(
                FileKind::Filter,
                file.clone(),
                &bytes,
                shingles.len() as u64,
                Some(source.name.clone()),
            );
            written.push(file);
            Some(filter)
        };
        let registration = Registration {
            id,
            source: source.name.clone(),
            files,
            texts: count,
            new_entries: fresh.len() as u64,
            at: now(),
        };
        manifest.registrations.push(registration.clone());

        // Commit, then give the new files their names.
        self.commit(manifest, &written)?;

        // Bring the open ledger up to date.
        self.entries += fresh.len() as u64;
        self.index.extend(
            fresh
                .iter()
                .map(|(f, field)| (key(f), source_id, *field))
                .collect(),
        );
        if let Some(filter) = filter {
            if self.manifest.filters.len() == 1 && self.near.shingler().n() != shingler.n() {
                // The first filter of the ledger sets the index's shingles.
                self.near = NearIndex::new(shingler, self.near.config().clone());
            }
            self.near.add(source_id, filter).map_err(|e| {
                LedgerError::Bug(format!("a new filter does not fit the index: {e}"))
            })?;
        }
        Ok(Some(registration))
    }

    /// Writes `manifest` (the commit point), renames the files written aside for it and
    /// flushes the folders.
    fn commit(&mut self, mut manifest: Manifest, written: &[String]) -> Result<(), LedgerError> {
        manifest.write(&self.dir)?;
        self.manifest = manifest;
        for file in written {
            files::settle(&self.dir.join(file))?;
        }
        files::sync_dir(&self.dir.join(SEGMENTS))?;
        if self.dir.join(FILTERS).is_dir() {
            files::sync_dir(&self.dir.join(FILTERS))?;
        }
        Ok(())
    }

    /// The shingler a registration under `options` uses: the length asked for, else the
    /// ledger's, else the default; an error when the ledger's filters use another length.
    fn shingler_for(&self, options: &FilterOptions) -> Result<Shingler, LedgerError> {
        let ledger_len = self
            .manifest
            .filters
            .first()
            .map(|_| self.near.shingler().n());
        let n = options
            .shingle_len
            .or(ledger_len)
            .unwrap_or(DEFAULT_SHINGLE_LEN);
        if let Some(found) = ledger_len.filter(|&found| found != n) {
            return Err(LedgerError::ShingleLength {
                path: self.dir.clone(),
                found: format!("{SHINGLE_SCHEME}/{found}"),
                requested: format!("{SHINGLE_SCHEME}/{n}"),
            });
        }
        Shingler::new(n).map_err(LedgerError::Near)
    }

    /// The recorded scans, oldest first.
    #[must_use]
    pub fn scans(&self) -> &[RecordedScan] {
        &self.scans
    }

    /// Records a scan's composition as a segment of its own
    /// (`segments/scans-NNNNNN.parquet`); false, and nothing written, when a scan of the same
    /// home model with the same content was recorded before.
    pub fn record_scan(&mut self, scan: RecordedScan) -> Result<bool, LedgerError> {
        fs::create_dir_all(self.dir.join(SEGMENTS))?;
        let _lock = self.lock_and_reload()?;
        let known = self
            .scans
            .iter()
            .any(|s| s.home == scan.home && s.content == scan.content);
        if known {
            return Ok(false);
        }
        let number = self.scans.len() as u64 + 1;
        let file = format!("{SEGMENTS}/scans-{number:06}.parquet");
        let bytes = segment::encode_scan(number, &scan)
            .map_err(|e| LedgerError::Bug(format!("cannot encode a scan segment: {e}")))?;
        files::write_aside(&self.dir.join(&file), &bytes)?;
        let mut manifest = self.manifest.clone();
        manifest.link(FileKind::Scans, file.clone(), &bytes, 1, None);
        self.commit(manifest, &[file])?;
        self.scans.push(scan);
        Ok(true)
    }

    /// Takes the writers' lock, finishes or clears what a killed writer left, and brings the
    /// open ledger up to what other processes committed meanwhile. The lock is held until
    /// the returned file is dropped.
    fn lock_and_reload(&mut self) -> Result<fs::File, LedgerError> {
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(LOCK))?;
        lock.file().lock()?;
        if !self.dir.join(MANIFEST).is_file() {
            clear_unlisted(&self.dir, &Manifest::empty())?;
            return Ok(lock);
        }
        let current = Manifest::read(&self.dir)?;
        clear_unlisted(&self.dir, &current)?;
        if current.head == self.manifest.head {
            return Ok(lock);
        }

        // When the chain grew from the one loaded, load only the new files.
        let loaded = self.manifest.chain.len();
        let extends = current.chain.len() > loaded
            && current.chain[..loaded] == self.manifest.chain[..]
            && current.normalisation == self.manifest.normalisation;
        if extends && (loaded > 0 || self.index.is_empty()) {
            if self.manifest.filters.is_empty() {
                let shingler = first_shingler(&self.dir, &current)?;
                self.near = NearIndex::new(shingler, NearConfig::default());
            }
            self.manifest = current;
            self.apply(loaded)?;
        } else {
            *self = Self::open(&self.dir)?;
        }
        Ok(lock)
    }

    /// The id of `source`, and whether it is new to the ledger (then the commit adds it).
    fn source_id(&self, source: &SourceEntry) -> Result<(SourceId, bool), LedgerError> {
        let sources = &self.manifest.sources;
        if let Some(i) = sources.iter().position(|s| s.name == source.name) {
            let known = &sources[i];
            if known.origin != source.origin || known.curated != source.curated {
                return Err(LedgerError::SourceConflict {
                    name: source.name.clone(),
                    registered: describe(known),
                    requested: describe(source),
                });
            }
            return Ok((i as SourceId, false));
        }
        Ok((sources.len() as SourceId, true))
    }

    fn field_id(&mut self, field: &str) -> u32 {
        if let Some(&id) = self.field_ids.get(field) {
            return id;
        }
        let id = self.fields.len() as u32;
        self.fields.push(field.to_owned());
        self.field_ids.insert(field.to_owned(), id);
        id
    }
}

impl Evidence for Ledger {
    fn sources_of(&self, fingerprint: &Fingerprint) -> &[SourceId] {
        self.index.sources_of(fingerprint)
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn describe(source: &SourceEntry) -> String {
    let curated = if source.curated { ", curated" } else { "" };
    format!("`{}`{curated}", source.origin.as_str())
}

/// Reads a listed file and checks its size and hash against its chain entry.
pub(crate) fn read_checked(
    dir: &Path,
    entry: &ChainEntry,
) -> Result<(Vec<u8>, PathBuf), LedgerError> {
    let (bytes, path) = files::read_listed(&dir.join(&entry.file))?;
    let what = if bytes.len() as u64 != entry.size {
        Some(format!(
            "it holds {} bytes, the manifest says {}",
            bytes.len(),
            entry.size
        ))
    } else if blake3::hash(&bytes).to_hex().as_str() != entry.blake3 {
        Some("its blake3 hash differs from the manifest's".to_owned())
    } else {
        None
    };
    match (what, entry.kind) {
        (None, _) => Ok((bytes, path)),
        (Some(what), FileKind::Filter) => Err(LedgerError::Filter { path, what }),
        (Some(what), _) => Err(LedgerError::Segment { path, what }),
    }
}

/// The shingler of the ledger's first filter: every other filter must use the same, or
/// lookups would compare hashes of different shingles.
fn first_shingler(dir: &Path, manifest: &Manifest) -> Result<Shingler, LedgerError> {
    let Some(first) = manifest.filters.first() else {
        return Ok(Shingler::default());
    };
    let settings = &first.settings;
    if settings.scheme != SHINGLE_SCHEME {
        return Err(LedgerError::Version {
            path: dir.to_owned(),
            found: settings.scheme.clone(),
            expected: SHINGLE_SCHEME.to_owned(),
        });
    }
    Shingler::new(settings.n as usize).map_err(LedgerError::Near)
}

/// Under the writers' lock: renames listed files a killed writer left under their `.tmp`
/// names, and deletes `.tmp` files no manifest lists (a killed writer's unfinished commit).
fn clear_unlisted(dir: &Path, manifest: &Manifest) -> Result<(), LedgerError> {
    for entry in &manifest.chain {
        let path = dir.join(&entry.file);
        if !path.is_file() && files::aside(&path).is_file() {
            tracing::debug!(file = %entry.file, "finishing the commit of a killed writer");
            files::settle(&path)?;
        }
    }
    for folder in [SEGMENTS, FILTERS] {
        let Ok(listing) = fs::read_dir(dir.join(folder)) else {
            continue;
        };
        for item in listing {
            let path = item?.path();
            if path.to_string_lossy().ends_with(TMP) {
                tracing::debug!(file = %path.display(), "deleting an unfinished commit's file");
                fs::remove_file(&path)?;
            }
        }
    }
    let manifest_tmp = files::aside(&dir.join(MANIFEST));
    if manifest_tmp.is_file() {
        fs::remove_file(&manifest_tmp)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str, origin: Origin) -> SourceEntry {
        SourceEntry {
            name: name.to_owned(),
            origin,
            curated: false,
        }
    }

    fn fp(s: &str) -> Fingerprint {
        Fingerprint::of_text(s).0
    }

    fn text(field: &str, text: &str) -> TextEntry {
        TextEntry {
            field: field.to_owned(),
            fingerprint: fp(text),
            text: text.to_owned(),
        }
    }

    #[test]
    fn registering_twice_adds_nothing_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open_or_new(dir.path()).unwrap();
        let texts = || vec![text("output", "a"), text("output", "b")];
        let gpt = source("gpt", Origin::Synthetic);

        let first = ledger
            .register(&gpt, vec!["x".into()], texts(), &FilterOptions::default())
            .unwrap()
            .unwrap();
        assert_eq!((first.texts, first.new_entries), (2, 2));
        assert!(
            ledger
                .register(&gpt, vec!["x".into()], texts(), &FilterOptions::default())
                .unwrap()
                .is_none()
        );

        let reopened = Ledger::open(dir.path()).unwrap();
        assert_eq!(reopened.entries(), 2);
        assert_eq!(reopened.registrations().len(), 1);
        assert_eq!(reopened.sources_of(&fp("A")), &[0]);
    }

    #[test]
    fn same_text_under_two_sources_names_both() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open_or_new(dir.path()).unwrap();
        let one = || vec![text("output", "Canberra.")];
        ledger
            .register(
                &source("b", Origin::Synthetic),
                vec![],
                one(),
                &FilterOptions::default(),
            )
            .unwrap();
        ledger
            .register(
                &source("a", Origin::Human),
                vec![],
                one(),
                &FilterOptions::default(),
            )
            .unwrap();
        let reopened = Ledger::open(dir.path()).unwrap();
        assert_eq!(reopened.sources_of(&fp("canberra.")), &[0, 1]);
    }

    #[test]
    fn origin_conflict_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open_or_new(dir.path()).unwrap();
        ledger
            .register(
                &source("x", Origin::Human),
                vec![],
                [text("t", "1")],
                &FilterOptions::default(),
            )
            .unwrap();
        let err = ledger
            .register(
                &source("x", Origin::Synthetic),
                vec![],
                [text("t", "2")],
                &FilterOptions::default(),
            )
            .unwrap_err();
        assert!(matches!(err, LedgerError::SourceConflict { .. }), "{err}");
    }

    #[test]
    fn a_modified_segment_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open_or_new(dir.path()).unwrap();
        ledger
            .register(
                &source("x", Origin::Human),
                vec![],
                [text("t", "1")],
                &FilterOptions::default(),
            )
            .unwrap();
        let segment = dir.path().join("segments/fingerprints-000001.parquet");
        let mut bytes = std::fs::read(&segment).unwrap();
        bytes[100] ^= 1;
        std::fs::write(&segment, bytes).unwrap();
        let err = Ledger::open(dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("fingerprints-000001.parquet"),
            "{err}"
        );
    }

    const ANSWER: &str = "Photosynthesis is the process by which green plants use sunlight, water \
        and carbon dioxide to make glucose and oxygen. It takes place mainly in the leaves, \
        inside the chloroplasts, where chlorophyll absorbs the light.";

    #[test]
    fn filters_round_trip_through_the_manifest_and_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open_or_new(dir.path()).unwrap();
        let options = FilterOptions {
            false_positive_rate: 0.01,
            shingle_len: None,
        };
        let gpt = source("gpt", Origin::Synthetic);
        ledger
            .register(&gpt, vec![], [text("output", ANSWER)], &options)
            .unwrap();
        assert_eq!(ledger.filters().len(), 1);

        let reopened = Ledger::open(dir.path()).unwrap();
        let entry = &reopened.filters()[0];
        assert_eq!(
            (entry.file.as_str(), entry.source.as_str()),
            ("filters/000001.bloom", "gpt")
        );
        let settings = &entry.settings;
        assert_eq!((settings.scheme.as_str(), settings.n), (SHINGLE_SCHEME, 4));
        assert_eq!(settings.expected_items, settings.items);
        assert!((settings.target_false_positive_rate - 0.01).abs() < f64::EPSILON);
        assert_eq!(reopened.filters(), ledger.filters());

        // The reopened index finds an edited copy.
        let half: Vec<&str> = ANSWER.split(' ').take(20).collect();
        let found = reopened
            .near_index()
            .lookup(&format!("Sure! {}", half.join(" ")));
        assert_eq!(found.lineage, provguard_lineage::Lineage::Source(0));

        // The same text again adds neither a segment nor a filter.
        let mut ledger = reopened;
        let again = ledger
            .register(&gpt, vec![], [text("output", ANSWER)], &options)
            .unwrap();
        assert!(again.is_none());
        assert_eq!(Ledger::open(dir.path()).unwrap().filters().len(), 1);
        assert!(!dir.path().join("filters/000002.bloom").exists());
    }

    #[test]
    fn a_damaged_filter_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open_or_new(dir.path()).unwrap();
        ledger
            .register(
                &source("x", Origin::Human),
                vec![],
                [text("t", ANSWER)],
                &FilterOptions::default(),
            )
            .unwrap();
        let filter = dir.path().join("filters/000001.bloom");
        let mut bytes = std::fs::read(&filter).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&filter, bytes).unwrap();
        let err = Ledger::open(dir.path()).unwrap_err();
        assert!(matches!(err, LedgerError::Filter { .. }), "{err}");
        assert!(err.to_string().contains("000001.bloom"), "{err}");
    }

    #[test]
    fn another_shingle_length_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open_or_new(dir.path()).unwrap();
        let five = FilterOptions {
            shingle_len: Some(5),
            ..FilterOptions::default()
        };
        let x = source("x", Origin::Human);
        ledger
            .register(&x, vec![], [text("t", ANSWER)], &five)
            .unwrap();
        let reopened = Ledger::open(dir.path()).unwrap();
        assert_eq!(reopened.near_index().shingler().n(), 5);

        // A registration without a length takes the ledger's; another length is refused.
        let mut ledger = reopened;
        ledger
            .register(
                &x,
                vec![],
                [text("t", "Another text of a few words.")],
                &FilterOptions::default(),
            )
            .unwrap();
        let four = FilterOptions {
            shingle_len: Some(4),
            ..FilterOptions::default()
        };
        let err = ledger
            .register(&x, vec![], [text("t", "A third text.")], &four)
            .unwrap_err();
        assert!(matches!(err, LedgerError::ShingleLength { .. }), "{err}");
        assert!(
            err.to_string().contains(&format!("{SHINGLE_SCHEME}/5")),
            "{err}"
        );
    }
}
