//! Reading and committing the ledger folder.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use fs_err as fs;
use provguard_lineage::near::DEFAULT_FALSE_POSITIVE_RATE;
use provguard_lineage::shingle::DEFAULT_SHINGLE_LEN;
use provguard_lineage::{
    Evidence, FilterSettings, Fingerprint, NORMALISATION, NearConfig, NearIndex, Origin,
    SHINGLE_SCHEME, Shingler, SourceFilter, SourceId, SourceKind,
};
use serde::{Deserialize, Serialize};

use crate::LedgerError;

const FORMAT: &str = "provguard-ledger/1";
const MANIFEST: &str = "manifest.json";
const SEGMENTS: &str = "segments";
const FILTERS: &str = "filters";
const MAGIC: &[u8; 8] = b"PGSEG001";
const ENTRY_BYTES: usize = 32 + 4 + 4;

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

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SegmentEntry {
    file: String,
    entries: u64,
    blake3: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Manifest {
    format: String,
    normalisation: String,
    sources: Vec<SourceEntry>,
    fields: Vec<String>,
    registrations: Vec<Registration>,
    segments: Vec<SegmentEntry>,
    #[serde(default)]
    filters: Vec<FilterEntry>,
    #[serde(default)]
    scans: Vec<RecordedScan>,
}

impl Manifest {
    fn empty() -> Self {
        Self {
            format: FORMAT.to_owned(),
            normalisation: NORMALISATION.to_owned(),
            sources: Vec::new(),
            fields: Vec::new(),
            registrations: Vec::new(),
            segments: Vec::new(),
            filters: Vec::new(),
            scans: Vec::new(),
        }
    }
}

/// What the ledger knows about one fingerprint.
#[derive(Debug, Default, Clone)]
struct Known {
    /// Sorted, without repeats.
    sources: Vec<SourceId>,
    /// (source, field) pairs, sorted.
    entries: Vec<(SourceId, u32)>,
}

/// An open ledger, loaded into memory for lookups.
#[derive(Debug)]
pub struct Ledger {
    dir: PathBuf,
    manifest: Manifest,
    known: HashMap<Fingerprint, Known>,
    entries: u64,
    near: NearIndex,
}

impl Ledger {
    /// Opens the ledger in `dir`; an error if there is none.
    pub fn open(dir: &Path) -> Result<Self, LedgerError> {
        if !dir.join(MANIFEST).is_file() {
            return Err(LedgerError::Missing(dir.to_owned()));
        }
        Self::load(dir)
    }

    /// Opens the ledger in `dir`, or an empty one that the first commit will create.
    pub fn open_or_new(dir: &Path) -> Result<Self, LedgerError> {
        if dir.join(MANIFEST).is_file() {
            Self::load(dir)
        } else {
            Ok(Self {
                dir: dir.to_owned(),
                manifest: Manifest::empty(),
                known: HashMap::new(),
                entries: 0,
                near: NearIndex::new(Shingler::default(), NearConfig::default()),
            })
        }
    }

    fn load(dir: &Path) -> Result<Self, LedgerError> {
        let path = dir.join(MANIFEST);
        let text = fs::read_to_string(&path)?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|source| LedgerError::Manifest {
                path: path.clone(),
                source,
            })?;
        for (found, expected) in [
            (&manifest.format, FORMAT),
            (&manifest.normalisation, NORMALISATION),
        ] {
            if found != expected {
                return Err(LedgerError::Version {
                    path: dir.to_owned(),
                    found: found.clone(),
                    expected: expected.to_owned(),
                });
            }
        }

        // The index takes the shingles of the ledger's first filter; every other filter must
        // have the same, or lookups would compare hashes of different shingles.
        let shingler = match manifest.filters.first() {
            None => Shingler::default(),
            Some(first) => shingler_of(dir, &first.settings)?,
        };
        let mut ledger = Self {
            dir: dir.to_owned(),
            manifest,
            known: HashMap::new(),
            entries: 0,
            near: NearIndex::new(shingler, NearConfig::default()),
        };
        for segment in ledger.manifest.segments.clone() {
            let bytes = read_segment(&dir.join(&segment.file), &segment)?;
            for entry in bytes.chunks_exact(ENTRY_BYTES) {
                let (fingerprint, source, field) = decode_entry(entry);
                ledger.insert(fingerprint, source, field);
            }
        }
        for entry in ledger.manifest.filters.clone() {
            let path = dir.join(&entry.file);
            let filter = read_filter(&path, &entry)?;
            let Some(source) = ledger
                .manifest
                .sources
                .iter()
                .position(|s| s.name == entry.source)
            else {
                return Err(LedgerError::Filter {
                    path,
                    what: format!("its source `{}` is not registered", entry.source),
                });
            };
            ledger
                .near
                .add(source as SourceId, filter)
                .map_err(|e| LedgerError::Shingles {
                    path: path.clone(),
                    source: e,
                })?;
        }
        Ok(ledger)
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

    /// Number of (fingerprint, source, field) entries.
    #[must_use]
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Number of distinct fingerprints.
    #[must_use]
    pub fn fingerprints(&self) -> usize {
        self.known.len()
    }

    /// Records `texts` under `source` and commits them as one registration: a segment of
    /// their entries and a Bloom filter of the shingles of the texts that were new
    /// (`filters/NNNNNN.bloom`, sized for their distinct count at `options`'s false-positive
    /// rate). Entries the ledger already holds are not written again; when nothing is new,
    /// nothing is committed and `None` is returned.
    ///
    /// Writers are serialised by a lock on the folder's `lock` file; the ledger is reloaded
    /// under the lock, so a registration made meanwhile by another process is kept.
    pub fn register(
        &mut self,
        source: &SourceEntry,
        files: Vec<String>,
        texts: impl IntoIterator<Item = TextEntry>,
        options: &FilterOptions,
    ) -> Result<Option<Registration>, LedgerError> {
        fs::create_dir_all(self.dir.join(SEGMENTS))?;
        let _lock = self.lock_and_reload()?;
        let shingler = self.shingler_for(options)?;

        // Keep the new entries, and the distinct shingles of the texts that made them.
        let source_id = self.source_id(source)?;
        let mut fresh: Vec<(Fingerprint, u32)> = Vec::new();
        let mut shingles: HashSet<u64> = HashSet::new();
        let mut count = 0u64;
        for text in texts {
            count += 1;
            let field_id = self.field_id(&text.field);
            if self.insert(text.fingerprint, source_id, field_id) {
                fresh.push((text.fingerprint, field_id));
                shingles.extend(shingler.shingles(&text.text));
            }
        }
        if fresh.is_empty() {
            return Ok(None);
        }

        let id = self.manifest.registrations.last().map_or(1, |r| r.id + 1);
        let filter = if shingles.is_empty() {
            None
        } else {
            let shingles: Vec<u64> = shingles.into_iter().collect();
            let filter =
                SourceFilter::from_shingles(&shingler, &shingles, options.false_positive_rate)
                    .map_err(LedgerError::Near)?;
            let file = format!("{FILTERS}/{id:06}.bloom");
            let bytes = filter.to_bytes();
            fs::create_dir_all(self.dir.join(FILTERS))?;
            write_atomically(&self.dir.join(&file), &bytes)?;
            let entry = FilterEntry {
                file,
                source: source.name.clone(),
                blake3: blake3::hash(&bytes).to_hex().to_string(),
                settings: filter.settings().clone(),
            };
            Some((entry, filter))
        };

        let file = format!("{SEGMENTS}/{id:06}.seg");
        let mut bytes = Vec::with_capacity(MAGIC.len() + fresh.len() * ENTRY_BYTES);
        bytes.extend_from_slice(MAGIC);
        for (fingerprint, field) in &fresh {
            bytes.extend_from_slice(&fingerprint.0);
            bytes.extend_from_slice(&source_id.to_le_bytes());
            bytes.extend_from_slice(&field.to_le_bytes());
        }
        write_atomically(&self.dir.join(&file), &bytes)?;

        let registration = Registration {
            id,
            source: source.name.clone(),
            files,
            texts: count,
            new_entries: fresh.len() as u64,
            at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        self.manifest.segments.push(SegmentEntry {
            file,
            entries: fresh.len() as u64,
            blake3: blake3::hash(&bytes).to_hex().to_string(),
        });
        self.manifest.registrations.push(registration.clone());
        if let Some((entry, filter)) = filter {
            self.manifest.filters.push(entry);
            if self.near.shingler().n() != shingler.n() {
                // The first filter of the ledger sets the index's shingles.
                self.near = NearIndex::new(shingler, self.near.config().clone());
            }
            self.near.add(source_id, filter).map_err(|e| {
                LedgerError::Bug(format!("a new filter does not fit the index: {e}"))
            })?;
        }
        self.write_manifest()?;
        Ok(Some(registration))
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
        &self.manifest.scans
    }

    /// Records a scan's composition; false, and nothing written, when a scan of the same
    /// home model with the same content was recorded before.
    pub fn record_scan(&mut self, scan: RecordedScan) -> Result<bool, LedgerError> {
        fs::create_dir_all(&self.dir)?;
        let _lock = self.lock_and_reload()?;
        let known = self
            .manifest
            .scans
            .iter()
            .any(|s| s.home == scan.home && s.content == scan.content);
        if known {
            return Ok(false);
        }
        self.manifest.scans.push(scan);
        self.write_manifest()?;
        Ok(true)
    }

    /// Takes the writers' lock and reloads the ledger, so that what another process committed
    /// meanwhile is kept. The lock is held until the returned file is dropped.
    fn lock_and_reload(&mut self) -> Result<fs::File, LedgerError> {
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join("lock"))?;
        lock.file().lock()?;
        if self.dir.join(MANIFEST).is_file() {
            *self = Self::load(&self.dir)?;
        }
        Ok(lock)
    }

    fn write_manifest(&self) -> Result<(), LedgerError> {
        let manifest = serde_json::to_vec_pretty(&self.manifest)
            .map_err(|e| std::io::Error::other(format!("cannot encode the manifest: {e}")))?;
        write_atomically(&self.dir.join(MANIFEST), &manifest)?;
        sync_dir(&self.dir)?;
        Ok(())
    }

    fn source_id(&mut self, source: &SourceEntry) -> Result<SourceId, LedgerError> {
        let sources = &mut self.manifest.sources;
        if let Some(i) = sources.iter().position(|s| s.name == source.name) {
            let known = &sources[i];
            if known.origin != source.origin || known.curated != source.curated {
                return Err(LedgerError::SourceConflict {
                    name: source.name.clone(),
                    registered: describe(known),
                    requested: describe(source),
                });
            }
            return Ok(i as SourceId);
        }
        sources.push(source.clone());
        Ok((sources.len() - 1) as SourceId)
    }

    fn field_id(&mut self, field: &str) -> u32 {
        let fields = &mut self.manifest.fields;
        if let Some(i) = fields.iter().position(|f| f == field) {
            return i as u32;
        }
        fields.push(field.to_owned());
        (fields.len() - 1) as u32
    }

    /// Adds an entry to the in-memory index; false when it was there already.
    fn insert(&mut self, fingerprint: Fingerprint, source: SourceId, field: u32) -> bool {
        let known = self.known.entry(fingerprint).or_default();
        let Err(at) = known.entries.binary_search(&(source, field)) else {
            return false;
        };
        known.entries.insert(at, (source, field));
        if let Err(at) = known.sources.binary_search(&source) {
            known.sources.insert(at, source);
        }
        self.entries += 1;
        true
    }
}

impl Evidence for Ledger {
    fn sources_of(&self, fingerprint: &Fingerprint) -> &[SourceId] {
        self.known
            .get(fingerprint)
            .map_or(&[], |k| k.sources.as_slice())
    }
}

fn describe(source: &SourceEntry) -> String {
    let curated = if source.curated { ", curated" } else { "" };
    format!("`{}`{curated}", source.origin.as_str())
}

fn decode_entry(entry: &[u8]) -> (Fingerprint, SourceId, u32) {
    let mut fingerprint = [0u8; 32];
    fingerprint.copy_from_slice(&entry[..32]);
    let source = u32::from_le_bytes([entry[32], entry[33], entry[34], entry[35]]);
    let field = u32::from_le_bytes([entry[36], entry[37], entry[38], entry[39]]);
    (Fingerprint(fingerprint), source, field)
}

/// Reads a segment and checks it against its manifest entry; returns the entry bytes.
fn read_segment(path: &Path, expected: &SegmentEntry) -> Result<Vec<u8>, LedgerError> {
    let mut bytes = Vec::new();
    fs::File::open(path)?.read_to_end(&mut bytes)?;
    let damaged = |what: String| LedgerError::Segment {
        path: path.to_owned(),
        what,
    };
    if blake3::hash(&bytes).to_hex().as_str() != expected.blake3 {
        return Err(damaged(
            "its blake3 hash differs from the manifest's".to_owned(),
        ));
    }
    let Some(body) = bytes.strip_prefix(MAGIC.as_slice()) else {
        return Err(damaged(
            "it does not start with the segment magic".to_owned(),
        ));
    };
    if body.len() != expected.entries as usize * ENTRY_BYTES {
        return Err(damaged(format!(
            "it holds {} bytes of entries, the manifest says {} entries",
            body.len(),
            expected.entries
        )));
    }
    Ok(body.to_vec())
}

/// Reads a Bloom filter and checks it against its manifest entry.
fn read_filter(path: &Path, expected: &FilterEntry) -> Result<SourceFilter, LedgerError> {
    let bytes = fs::read(path)?;
    let damaged = |what: String| LedgerError::Filter {
        path: path.to_owned(),
        what,
    };
    if blake3::hash(&bytes).to_hex().as_str() != expected.blake3 {
        return Err(damaged(
            "its blake3 hash differs from the manifest's".to_owned(),
        ));
    }
    let filter = SourceFilter::from_bytes(&bytes).map_err(|e| damaged(e.to_string()))?;
    if filter.settings() != &expected.settings {
        return Err(damaged(
            "its settings differ from the manifest's".to_owned(),
        ));
    }
    Ok(filter)
}

/// The shingler that made a filter with `settings`; an error for another scheme.
fn shingler_of(dir: &Path, settings: &FilterSettings) -> Result<Shingler, LedgerError> {
    if settings.scheme != SHINGLE_SCHEME {
        return Err(LedgerError::Version {
            path: dir.to_owned(),
            found: settings.scheme.clone(),
            expected: SHINGLE_SCHEME.to_owned(),
        });
    }
    Shingler::new(settings.n as usize).map_err(LedgerError::Near)
}

/// Writes `bytes` to `path` so that a reader sees the old file or the new one, never a part.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
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
        let segment = dir.path().join("segments/000001.seg");
        let mut bytes = std::fs::read(&segment).unwrap();
        bytes[10] ^= 1;
        std::fs::write(&segment, bytes).unwrap();
        let err = Ledger::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("000001.seg"), "{err}");
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
        assert_eq!(&reopened.manifest.filters, ledger.filters());

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
        assert!(err.to_string().contains("provguard-shingle/1/5"), "{err}");
    }
}
