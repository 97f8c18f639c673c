//! The main job: read a dataset, tag each record's lineage, measure, model and decide.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::time::{SystemTime, UNIX_EPOCH};

use provguard_dynamics::Ecosystem;
use provguard_gate::{Level, Policy};
use provguard_ingest::schema::{self, Role, SchemaOptions};
use provguard_ingest::{Event, ReadOptions, Scope};
use provguard_ledger::{Ledger, RecordedScan, SourceEntry};
use provguard_lineage::{
    Attribution, Composition, Fingerprint, Lineage, MatchKind, NORMALISATION, Origin,
    attribute_texts, normalize::falls_back,
};
use rayon::prelude::*;
use tracing::info_span;

use crate::Error;
use crate::quarantine::{Outputs, Sink};
use crate::records::RecordWriter;
use crate::report::{
    Accounting, Baseline, CompositionReport, DeclaredReport, FileComposition, Inputs,
    MAX_LISTED_PROBLEMS, MatchCounts, Problem, Report, SCHEMA_VERSION,
};
use crate::shares;

/// Claims that a record declares to mean "written by people".
pub const HUMAN_CLAIMS: [&str; 5] = ["human", "people", "person", "annotator", "crowd"];

/// How many declaration conflicts a report lists.
const MAX_LISTED_CONFLICTS: usize = 100;

/// A configured scan.
///
/// ```no_run
/// use provguard::{Scan, gate::Policy, ledger::Ledger};
/// let ledger = Ledger::open(".provguard".as_ref())?;
/// let scan = Scan::new("my-model", Policy::default());
/// let report = scan.run(&ledger, &["data/".into()])?;
/// println!("{:?}", report.verdict);
/// # Ok::<(), provguard::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Scan {
    /// The model the dataset is meant to train.
    pub home: String,
    /// The policy that decides.
    pub policy: Policy,
    /// How files are read; `lenient` off is the strict (CI) mode.
    pub read: ReadOptions,
    /// How records' schemas are read.
    pub schema: SchemaOptions,
    /// The models the scan does not measure, from an ecosystem file.
    pub ecosystem: Option<Ecosystem>,
    /// How many threads tag records: one reads and parses while this many tag, and the
    /// counts are kept in file order, so the report is the same for any number. `Some(1)`
    /// does everything on the calling thread; `None`, every core this process may use.
    pub threads: Option<usize>,
}

impl Scan {
    /// A strict scan for `home` under `policy`.
    #[must_use]
    pub fn new(home: impl Into<String>, policy: Policy) -> Self {
        Self {
            home: home.into(),
            policy,
            read: ReadOptions::default(),
            schema: SchemaOptions::default(),
            ecosystem: None,
            threads: None,
        }
    }

    /// Records the report's composition in the ledger for later scans of other models to
    /// see, unless the verdict is `block`. Recording the same content for the same home model
    /// again changes nothing; returns whether anything was recorded.
    pub fn record(&self, ledger: &mut Ledger, report: &Report) -> Result<bool, Error> {
        if report.verdict == Level::Block || report.records == 0 {
            return Ok(false);
        }
        let m = &report.measured;
        let scan = RecordedScan {
            home: self.home.clone(),
            content: report.content_id.clone(),
            records: m.records,
            human: m.human,
            unknown: m.unknown,
            models: m.models.clone(),
            curated: m.curated.clone(),
            verdict: Some(report.verdict.as_str().to_owned()),
            at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        Ok(ledger.record_scan(scan)?)
    }

    /// Scans every file under `paths` against `ledger` and returns the report with its
    /// verdict. Fails only when the tool cannot do its job (an input missing, the dynamics
    /// impossible); problems inside the data are in the report.
    pub fn run(&self, ledger: &Ledger, paths: &[PathBuf]) -> Result<Report, Error> {
        self.run_with(ledger, paths, &Outputs::default())
    }

    /// [`Scan::run`], writing admitted and rejected records aside as `outputs` says (see
    /// [`crate::quarantine`]) and how each admitted record was matched (see
    /// [`crate::records`]); `accounting.quarantined` counts the records quarantined.
    pub fn run_with(
        &self,
        ledger: &Ledger,
        paths: &[PathBuf],
        outputs: &Outputs,
    ) -> Result<Report, Error> {
        self.run_observed(ledger, paths, outputs, &())
    }

    /// [`Scan::run_with`], telling `progress` how the reading advances (for a progress bar).
    pub fn run_observed(
        &self,
        ledger: &Ledger,
        paths: &[PathBuf],
        outputs: &Outputs,
        progress: &dyn Progress,
    ) -> Result<Report, Error> {
        let skip = [ledger.dir().to_owned()];
        let discovery = provguard_ingest::discover_filtered(paths, &skip, &self.read.filter)?;
        // Sizes on disk (compressed, if so); standard input counts 0.
        let sizes: Vec<u64> = discovery
            .files
            .iter()
            .map(|f| fs_err::metadata(f).map_or(0, |m| m.len()))
            .collect();
        progress.started(discovery.files.len(), sizes.iter().sum());
        let mut tally = Tally::new(ledger);
        tally.writer = outputs
            .records
            .as_deref()
            .map(RecordWriter::create)
            .transpose()?;
        let sink = Sink::new(outputs);
        let read = ReadOptions {
            keep_raw: self.read.keep_raw || outputs.active(),
            ..self.read.clone()
        };

        let threads = self.threads.unwrap_or_else(default_threads).max(1);
        let mut consumer = Consumer {
            scan: self,
            tally,
            sink,
            progress,
            sizes: &sizes,
            files: &discovery.files,
            preamble: None,
            next_report: PROGRESS_EVERY,
            pool: None,
        };
        consumer.drive(&read, threads)?;
        let Consumer {
            mut tally, sink, ..
        } = consumer;
        tally.accounting.quarantined = sink.finish()?;
        if let Some(writer) = tally.writer.take() {
            writer.finish()?;
        }

        let sources = ledger.sources();
        let gate = shares::GateInput {
            home: &self.home,
            policy: &self.policy,
            ecosystem: self.ecosystem.as_ref(),
            rejected: tally.accounting.rejected,
            strict: !self.read.lenient,
        };
        let shares::Judgement {
            measured,
            dynamics,
            verdict,
        } = shares::judge(&tally.composition, ledger, gate)?;

        let composition = tally.composition_report(sources);
        let content_id = tally.content_id();
        let baseline = Baseline::last(ledger.scans(), &self.home, &measured, &content_id);
        let errors_not_listed = tally.problems.len().saturating_sub(MAX_LISTED_PROBLEMS) as u64;
        tally.problems.truncate(MAX_LISTED_PROBLEMS);
        Ok(Report {
            schema_version: SCHEMA_VERSION,
            tool: format!("provguard {}", env!("CARGO_PKG_VERSION")),
            home: self.home.clone(),
            normalisation: NORMALISATION.to_owned(),
            records: tally.composition.records,
            accounting: tally.accounting,
            inputs: Inputs::new(paths, &discovery),
            composition,
            measured,
            content_id,
            dynamics,
            baseline,
            policy: self.policy.clone(),
            verdict: verdict.level,
            reasons: verdict.reasons,
            errors: tally.problems,
            errors_not_listed,
            warnings: tally.warnings,
        })
    }
}

/// What tagging found for one event: the part of a record's work that needs no running
/// counts, done in parallel ([`tag`]) before the counts take it in order ([`Tally::apply`]).
enum Tagged {
    /// Not a record that was read: nothing to compute.
    Other,
    /// The schema rejected the record.
    Rejected(Problem),
    /// The record's sample and how its texts matched.
    Admitted(Box<TaggedRecord>),
}

/// One record read by its schema and attributed: what a scan counts for it.
#[derive(Debug, Clone)]
pub struct TaggedRecord {
    /// The record as its schema reads it.
    pub sample: schema::Sample,
    /// How its response side matched the ledger.
    pub matched: provguard_lineage::RecordMatch,
    /// The fingerprint of all the record's turns, for the content id.
    pub content: Fingerprint,
    /// A response was fingerprinted raw: normalising would have emptied it.
    pub raw_fingerprint: bool,
}

/// Reads a record by its schema and attributes its texts as a scan does: exact fingerprints
/// first, then shingles for the texts they left unmatched; the prompt side's shingles are no
/// evidence. Needs no running counts, so records can be tagged on any thread or machine.
///
/// ```no_run
/// use provguard::ingest::schema::SchemaOptions;
/// use provguard::ledger::Ledger;
/// let ledger = Ledger::open(".provguard".as_ref())?;
/// let record = serde_json::json!({"instruction": "Say hi.", "output": "Hi!"});
/// let tagged = provguard::scan::tag_record(
///     record.as_object().unwrap(),
///     &SchemaOptions::default(),
///     &ledger,
/// );
/// println!("{:?}", tagged.map(|t| t.matched.kind));
/// # Ok::<(), provguard::Error>(())
/// ```
pub fn tag_record(
    record: &serde_json::Map<String, serde_json::Value>,
    opts: &SchemaOptions,
    ledger: &Ledger,
) -> Result<TaggedRecord, schema::SchemaError> {
    let sample = schema::extract(record, opts)?;
    let responses: Vec<&str> = sample.responses.iter().map(|(_, t)| t.as_str()).collect();
    let context: Vec<&str> = sample
        .turns
        .iter()
        .filter(|t| matches!(t.role, Role::System | Role::User | Role::Tool))
        .map(|t| t.text.as_str())
        .collect();
    let matched = attribute_texts(&responses, &context, ledger, ledger.near_index());
    let content = Fingerprint::of_parts(
        sample
            .turns
            .iter()
            .map(|t| (t.role.as_str(), t.text.as_str())),
    );
    let raw_fingerprint = responses.iter().any(|t| falls_back(t));
    Ok(TaggedRecord {
        sample,
        matched,
        content,
        raw_fingerprint,
    })
}

/// [`tag_record`] of an event, if it is a record.
fn tag(event: &Event, opts: &SchemaOptions, ledger: &Ledger) -> Tagged {
    let Event::Record(record) = event else {
        return Tagged::Other;
    };
    match tag_record(&record.value, opts, ledger) {
        Ok(tagged) => Tagged::Admitted(Box::new(tagged)),
        Err(e) => Tagged::Rejected(Problem::from_schema(&record.locator, &e)),
    }
}

/// How many events are read, tagged and counted together.
const CHUNK: usize = 512;

/// One step of the reading, in order: a file begins, some of its events, a file ends.
enum Step {
    File {
        index: usize,
        format: provguard_ingest::InputFormat,
    },
    Events {
        events: Vec<Event>,
        /// The file's preamble (a CSV header), once read; see [`provguard_ingest::Reader`].
        preamble: Option<Arc<[u8]>>,
    },
    FileDone {
        index: usize,
    },
}

/// Reads `files` in order, handing each step to `step`; stops early when `step` returns
/// false. Fails when a file cannot be opened.
fn read_steps(
    files: &[PathBuf],
    read: &ReadOptions,
    mut step: impl FnMut(Step) -> bool,
) -> Result<(), Error> {
    for (index, file) in files.iter().enumerate() {
        let _span = info_span!("read", file = %file.display()).entered();
        let mut reader = provguard_ingest::open(file, read)?;
        if !step(Step::File {
            index,
            format: reader.format(),
        }) {
            return Ok(());
        }
        let mut preamble: Option<Arc<[u8]>> = None;
        loop {
            let events: Vec<Event> = reader.by_ref().take(CHUNK).collect();
            if events.is_empty() {
                break;
            }
            if preamble.is_none() {
                preamble = reader.preamble().map(Arc::from);
            }
            let preamble = preamble.clone();
            if !step(Step::Events { events, preamble }) {
                return Ok(());
            }
        }
        if !step(Step::FileDone { index }) {
            return Ok(());
        }
    }
    Ok(())
}

/// Takes the steps of the reading in order: tags each chunk's records (on the pool, if
/// any), then counts them and writes them aside.
struct Consumer<'a, 'l, 'o> {
    scan: &'a Scan,
    tally: Tally<'l>,
    sink: Sink<'o>,
    progress: &'a dyn Progress,
    sizes: &'a [u64],
    files: &'a [PathBuf],
    /// The current file's preamble, once read.
    preamble: Option<Arc<[u8]>>,
    next_report: u64,
    pool: Option<rayon::ThreadPool>,
}

impl Consumer<'_, '_, '_> {
    /// Reads the files and takes every step: on this thread when `threads` is 1, else with a
    /// reading thread and a pool of `threads` taggers.
    fn drive(&mut self, read: &ReadOptions, threads: usize) -> Result<(), Error> {
        let files = self.files;
        if threads == 1 {
            // Everything on this thread.
            let mut failed = None;
            read_steps(files, read, |step| match self.step(step) {
                Ok(()) => true,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
        } else {
            // One thread reads and parses while a pool of `threads` tags; this thread counts
            // in order. The channel holds a few chunks, so memory stays flat.
            self.pool = Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("provguard-tag-{i}"))
                    .build()
                    .map_err(|e| Error::Threads(e.to_string()))?,
            );
            let (sender, receiver) = std::sync::mpsc::sync_channel::<Step>(4);
            std::thread::scope(|scope| -> Result<(), Error> {
                let reading = std::thread::Builder::new()
                    .name("provguard-read".to_owned())
                    .spawn_scoped(scope, move || {
                        read_steps(files, read, |step| sender.send(step).is_ok())
                    })
                    .map_err(|e| Error::Threads(e.to_string()))?;
                let mut failed = None;
                for step in &receiver {
                    if let Err(e) = self.step(step) {
                        failed = Some(e);
                        break;
                    }
                }
                // Ends the reading thread's sends, if it is still reading.
                drop(receiver);
                let reading = reading
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                failed.map_or(reading, Err)
            })?;
        }
        Ok(())
    }

    fn step(&mut self, step: Step) -> Result<(), Error> {
        match step {
            Step::File { index, format } => {
                self.preamble = None;
                self.progress
                    .file_started(index, &self.files[index], self.sizes[index]);
                self.sink.start(&self.files[index], format)?;
            }
            Step::Events { events, preamble } => {
                self.preamble = preamble;
                let (opts, ledger) = (&self.scan.schema, self.tally.ledger);
                let tagged: Vec<Tagged> = match &self.pool {
                    Some(pool) => {
                        pool.install(|| events.par_iter().map(|e| tag(e, opts, ledger)).collect())
                    }
                    None => events.iter().map(|e| tag(e, opts, ledger)).collect(),
                };
                for (event, tagged) in events.iter().zip(tagged) {
                    let rejected = self.tally.apply(event, tagged)?;
                    self.sink
                        .event(event, rejected.as_ref(), self.preamble.as_deref())?;
                    let read = self.tally.accounting.records_read;
                    if read >= self.next_report {
                        self.next_report = read + PROGRESS_EVERY;
                        self.progress.records(read);
                    }
                }
            }
            Step::FileDone { index } => {
                self.progress.file_done(
                    index,
                    self.sizes[index],
                    self.tally.accounting.records_read,
                );
            }
        }
        Ok(())
    }
}

/// The number of threads a scan uses when it is not told: every core this process may run on.
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// How many records are read between two [`Progress::records`] calls.
pub const PROGRESS_EVERY: u64 = 1024;

/// Hears how a scan's reading advances, for a progress bar. Every method does nothing by
/// default; `()` is the observer that hears nothing. The calls come from the scanning thread,
/// per file and every [`PROGRESS_EVERY`] records, never per record.
pub trait Progress {
    /// The scan will read `files` files of `bytes` bytes on disk in all.
    fn started(&self, files: usize, bytes: u64) {
        let _ = (files, bytes);
    }

    /// File `index` (from 0), of `bytes` bytes on disk, is about to be read.
    fn file_started(&self, index: usize, path: &Path, bytes: u64) {
        let _ = (index, path, bytes);
    }

    /// `records` records (rejected ones included) have been read so far, in all files.
    fn records(&self, records: u64) {
        let _ = records;
    }

    /// File `index`, of `bytes` bytes on disk, has been read; `records` have been read so far.
    fn file_done(&self, index: usize, bytes: u64, records: u64) {
        let _ = (index, bytes, records);
    }
}

impl Progress for () {}

/// An order-independent digest of a multiset of record fingerprints, built in constant
/// memory: the fingerprints are added as four 64-bit limbs modulo 2^64 each, with the count.
/// The same records in any order or file layout give the same id.
#[derive(Debug, Default)]
struct ContentSum {
    count: u64,
    limbs: [u64; 4],
}

impl ContentSum {
    fn add(&mut self, fingerprint: &Fingerprint) {
        self.count += 1;
        for (limb, chunk) in self.limbs.iter_mut().zip(fingerprint.0.chunks_exact(8)) {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(chunk);
            *limb = limb.wrapping_add(u64::from_le_bytes(bytes));
        }
    }

    /// blake3 over the count and the sums.
    fn id(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&self.count.to_le_bytes());
        for limb in self.limbs {
            hasher.update(&limb.to_le_bytes());
        }
        hasher.finalize().to_hex().to_string()
    }
}

/// Running counts of a scan.
struct Tally<'l> {
    ledger: &'l Ledger,
    composition: Composition,
    accounting: Accounting,
    by_schema: BTreeMap<&'static str, u64>,
    flags: BTreeMap<String, u64>,
    partial: u64,
    declared: DeclaredReport,
    problems: Vec<Problem>,
    warnings: Vec<Problem>,
    /// The admitted records' fingerprints added up, for the content id (see
    /// [`ContentSum`]): kept in constant memory, whatever the batch size.
    content: ContentSum,
    by_match: MatchCounts,
    /// Sum of the confidences of the records matched near or spliced.
    near_confidence: f64,
    /// Where each admitted record's match is written, if anywhere.
    writer: Option<RecordWriter>,
    /// The admitted records of each file, by origin and source.
    by_file: BTreeMap<String, FileComposition>,
}

impl<'l> Tally<'l> {
    fn new(ledger: &'l Ledger) -> Self {
        Self {
            ledger,
            composition: Composition::new(ledger.source_kinds()),
            accounting: Accounting::default(),
            by_schema: BTreeMap::new(),
            flags: BTreeMap::new(),
            partial: 0,
            declared: DeclaredReport::default(),
            problems: Vec::new(),
            warnings: Vec::new(),
            content: ContentSum::default(),
            by_match: MatchCounts::default(),
            near_confidence: 0.0,
            writer: None,
            by_file: BTreeMap::new(),
        }
    }

    fn content_id(&self) -> String {
        self.content.id()
    }

    /// Counts one event with what [`tag`] found for it; returns the problem when the schema
    /// rejected a record that was read. Fails only when the records file cannot be written.
    fn apply(&mut self, event: &Event, tagged: Tagged) -> Result<Option<Problem>, Error> {
        match (event, tagged) {
            (Event::Record(_), Tagged::Rejected(problem)) => {
                self.accounting.records_read += 1;
                self.accounting.rejected += 1;
                self.problems.push(problem.clone());
                return Ok(Some(problem));
            }
            (Event::Record(record), Tagged::Admitted(admitted)) => {
                let TaggedRecord {
                    sample,
                    matched,
                    content,
                    raw_fingerprint,
                } = *admitted;
                self.accounting.records_read += 1;
                self.accounting.admitted += 1;
                self.count_match(matched.kind, matched.confidence);
                if let Some(writer) = &mut self.writer {
                    let responses: Vec<&str> =
                        sample.responses.iter().map(|(_, t)| t.as_str()).collect();
                    writer.write(&record.locator, &matched, &responses, self.ledger.sources())?;
                }
                let attribution = matched.attribution;
                self.content.add(&content);
                self.composition.add(&attribution, sample.curated);
                self.count_file(&record.locator, &attribution);

                *self.by_schema.entry(sample.schema.as_str()).or_default() += 1;
                if raw_fingerprint {
                    // Fingerprinted raw: normalising would have emptied the text.
                    *self.flags.entry("raw_fingerprint".to_owned()).or_default() += 1;
                }
                for flag in &sample.flags {
                    let name = serde_json::to_value(flag)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    *self.flags.entry(name).or_default() += 1;
                }
                self.partial += u64::from(attribution.is_partial());
                if let Some(claim) = &sample.declared {
                    self.check_claim(claim, &attribution, &record.locator);
                }
            }
            (Event::Record(_), Tagged::Other) => {
                unreachable!("every record is tagged admitted or rejected")
            }
            (Event::Rejected(rejection), _) => {
                // A file-scope rejection stands for what the rest of the file held: one
                // rejected unit, since how many records that was cannot be known.
                self.accounting.records_read += 1;
                self.accounting.rejected += 1;
                self.problems.push(Problem::from_rejection(rejection));
            }
            (Event::Blank(_), _) => self.accounting.blank_lines += 1,
            (Event::Warning(w), _) => {
                let mut p = Problem::at(&w.locator, "", &w.message);
                p.scope = Scope::Record;
                self.warnings.push(p);
            }
        }
        Ok(None)
    }

    /// Counts an admitted record in its file's composition.
    fn count_file(&mut self, locator: &provguard_ingest::Locator, attribution: &Attribution) {
        let sources = self.ledger.sources();
        let ids: &[_] = match &attribution.lineage {
            Lineage::Unknown => &[],
            Lineage::Source(id) => std::slice::from_ref(id),
            Lineage::Ambiguous(ids) => ids,
        };
        let origin = match &attribution.lineage {
            Lineage::Unknown => "unknown",
            Lineage::Ambiguous(_) => "ambiguous",
            Lineage::Source(id) => sources[*id as usize].origin.as_str(),
        };
        let file = locator.file.display().to_string();
        self.by_file.entry(file).or_default().add(
            origin,
            ids.iter().map(|id| sources[*id as usize].name.as_str()),
            locator.line,
        );
    }

    fn count_match(&mut self, kind: MatchKind, confidence: f64) {
        self.by_match.add(kind);
        if matches!(kind, MatchKind::Near | MatchKind::Spliced) {
            self.near_confidence += confidence;
        }
    }

    /// Compares what a record says about itself with what the hashes say.
    fn check_claim(
        &mut self,
        claim: &str,
        attribution: &Attribution,
        locator: &provguard_ingest::Locator,
    ) {
        self.declared.records += 1;
        let sources = self.ledger.sources();
        let claim_lower = claim.to_lowercase();
        let says_human = HUMAN_CLAIMS.contains(&claim_lower.as_str());
        let fits = |s: &SourceEntry| {
            s.name.eq_ignore_ascii_case(claim) || (says_human && s.origin == Origin::Human)
        };
        let candidates: Vec<&SourceEntry> = match &attribution.lineage {
            Lineage::Unknown => {
                self.declared.unverified += 1;
                return;
            }
            Lineage::Source(id) => vec![&sources[*id as usize]],
            Lineage::Ambiguous(ids) => ids.iter().map(|id| &sources[*id as usize]).collect(),
        };
        if candidates.iter().any(|s| fits(s)) {
            self.declared.agree += 1;
            return;
        }
        self.declared.conflict += 1;
        if self.declared.conflicts.len() < MAX_LISTED_CONFLICTS {
            let names: Vec<String> = candidates
                .iter()
                .map(|s| format!("`{}` ({})", s.name, s.origin.as_str()))
                .collect();
            let message = format!(
                "the record declares `{claim}`, but its text was registered by {}; it is counted \
                 by the evidence",
                names.join(", ")
            );
            self.declared
                .conflicts
                .push(Problem::at(locator, "", &message));
        }
    }

    fn composition_report(&mut self, sources: &[SourceEntry]) -> CompositionReport {
        CompositionReport {
            by_schema: std::mem::take(&mut self.by_schema),
            flags: std::mem::take(&mut self.flags),
            partial_matches: self.partial,
            declared: std::mem::take(&mut self.declared),
            near_mean_confidence: {
                let near = self.by_match.near + self.by_match.spliced;
                (near > 0).then(|| self.near_confidence / near as f64)
            },
            by_match: std::mem::take(&mut self.by_match),
            by_file: std::mem::take(&mut self.by_file),
            ..CompositionReport::of(&self.composition, sources)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::fmt::Write as _;

    use super::*;

    /// Writes down every call.
    #[derive(Default)]
    struct Calls(RefCell<Vec<String>>);

    impl Progress for Calls {
        fn started(&self, files: usize, bytes: u64) {
            self.0.borrow_mut().push(format!("started {files} {bytes}"));
        }
        fn file_started(&self, index: usize, _: &Path, bytes: u64) {
            self.0.borrow_mut().push(format!("file {index} {bytes}"));
        }
        fn records(&self, records: u64) {
            self.0.borrow_mut().push(format!("records {records}"));
        }
        fn file_done(&self, index: usize, bytes: u64, records: u64) {
            self.0
                .borrow_mut()
                .push(format!("done {index} {bytes} {records}"));
        }
    }

    #[test]
    fn the_report_is_the_same_on_one_thread_and_on_many() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open_or_new(&dir.path().join("ledger")).unwrap();
        let texts: Vec<String> = (0..300)
            .map(|i| format!("Answer number {i} explains a point in several plain words."))
            .collect();
        let registered = dir.path().join("registered.jsonl");
        let mut lines = String::new();
        for t in &texts {
            let _ = writeln!(lines, "{}", serde_json::json!({ "text": t }));
        }
        std::fs::write(&registered, lines).unwrap();
        let source = SourceEntry {
            name: "model-a".to_owned(),
            origin: Origin::Synthetic,
            curated: false,
        };
        crate::register(
            &mut ledger,
            &source,
            &[registered],
            &[],
            &ReadOptions::default(),
            &SchemaOptions::default(),
            &provguard_ledger::FilterOptions::default(),
        )
        .unwrap();

        // Two files of more than one chunk each: exact copies, edited copies, unknown texts,
        // blank lines and records that are rejected, in an order the counts must keep.
        let mut paths = Vec::new();
        for f in 0..2 {
            let mut body = String::new();
            for i in 0..1300 {
                let t = &texts[(i * 7 + f) % texts.len()];
                let line = match i % 6 {
                    0 => serde_json::json!({ "text": t }).to_string(),
                    1 => serde_json::json!({ "text": format!("Sure! {t} Hope this helps.") })
                        .to_string(),
                    2 => serde_json::json!({ "text": format!("Unrelated note {i} in file {f}.") })
                        .to_string(),
                    3 => String::new(),
                    4 => "{not json".to_owned(),
                    _ => serde_json::json!({ "text": 42 }).to_string(),
                };
                body.push_str(&line);
                body.push('\n');
            }
            let path = dir.path().join(format!("part-{f}.jsonl"));
            std::fs::write(&path, body).unwrap();
            paths.push(path);
        }

        let report = |threads| {
            let mut scan = Scan::new("m", Policy::default());
            scan.read.lenient = true;
            scan.threads = Some(threads);
            let report = scan.run(&ledger, &paths).unwrap();
            serde_json::to_value(report).unwrap()
        };
        let one = report(1);
        assert_eq!(one["accounting"]["records_read"], 2 * 1300 - 2 * 217);
        assert!(one["composition"]["by_match"]["near"].as_u64().unwrap() > 0);
        for threads in [2, 3] {
            assert_eq!(report(threads), one, "{threads} threads");
        }
    }

    #[test]
    fn progress_is_told_per_file_and_every_so_many_records() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open_or_new(&dir.path().join("ledger")).unwrap();
        let (mut a, mut b) = (String::new(), String::new());
        for i in 0..2500 {
            let _ = writeln!(a, "{{\"text\": \"record {i}\"}}");
        }
        b.push_str("{\"text\": \"one\"}\n");
        std::fs::write(dir.path().join("a.jsonl"), &a).unwrap();
        std::fs::write(dir.path().join("b.jsonl"), &b).unwrap();

        let calls = Calls::default();
        let scan = Scan::new("m", Policy::default());
        let report = scan
            .run_observed(
                &ledger,
                &[dir.path().join("a.jsonl"), dir.path().join("b.jsonl")],
                &Outputs::default(),
                &calls,
            )
            .unwrap();
        assert_eq!(report.accounting.records_read, 2501);
        let (la, lb) = (a.len(), b.len());
        assert_eq!(
            calls.0.into_inner(),
            [
                format!("started 2 {}", la + lb),
                format!("file 0 {la}"),
                "records 1024".to_owned(),
                "records 2048".to_owned(),
                format!("done 0 {la} 2500"),
                format!("file 1 {lb}"),
                format!("done 1 {lb} 2501"),
            ]
        );
    }
}
