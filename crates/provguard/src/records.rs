//! Per-record results: how each admitted record was matched, streamed to `--records FILE`.
//!
//! One JSON Lines line per admitted record, in scan order, written as the scan goes (through a
//! buffer, never held whole): the record's locator (`file` and `line`, or `row_group` and
//! `row`, ...), `match` (`exact`, `near`, `spliced` or `none`), `lineage.{origin, sources}`
//! (`origin` is `human`, `synthetic`, `ambiguous` or `unknown`; `sources` the candidates'
//! names), `confidence` (1 for exact matches, the containment for near ones, 0 for none) and
//! `response_fingerprints`, the hex fingerprint of each response text, in order.
//!
//! TODO(#5): Parquet output; a `.parquet` file name is refused rather than written as JSON.

use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use fs_err as fs;
use provguard_ingest::Locator;
use provguard_ledger::SourceEntry;
use provguard_lineage::{Fingerprint, Lineage, RecordMatch};
use serde::Serialize;

use crate::Error;
use crate::quarantine::QuarantineError;

/// Writes one line per admitted record to a JSON Lines file.
#[derive(Debug)]
pub struct RecordWriter {
    path: PathBuf,
    out: BufWriter<fs::File>,
}

/// One line of the records file.
#[derive(Debug, Serialize)]
struct RecordLine<'a> {
    #[serde(flatten)]
    locator: &'a Locator,
    #[serde(rename = "match")]
    kind: &'static str,
    lineage: LineageLine<'a>,
    confidence: f64,
    response_fingerprints: Vec<String>,
}

#[derive(Debug, Serialize)]
struct LineageLine<'a> {
    origin: &'static str,
    sources: Vec<&'a str>,
}

impl RecordWriter {
    /// Creates (or truncates) the records file; a `.parquet` name is refused.
    pub fn create(path: &Path) -> Result<Self, Error> {
        let parquet = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
        if parquet {
            return Err(Error::RecordsFormat(path.to_owned()));
        }
        let file = fs::File::create(path).map_err(|e| io_error(path, e))?;
        Ok(Self {
            path: path.to_owned(),
            out: BufWriter::new(file),
        })
    }

    /// Writes the line of one admitted record.
    pub fn write(
        &mut self,
        locator: &Locator,
        matched: &RecordMatch,
        responses: &[&str],
        sources: &[SourceEntry],
    ) -> Result<(), Error> {
        let name = |id: &u32| sources[*id as usize].name.as_str();
        let lineage = match &matched.attribution.lineage {
            Lineage::Unknown => LineageLine {
                origin: "unknown",
                sources: Vec::new(),
            },
            Lineage::Source(id) => LineageLine {
                origin: sources[*id as usize].origin.as_str(),
                sources: vec![name(id)],
            },
            Lineage::Ambiguous(ids) => LineageLine {
                origin: "ambiguous",
                sources: ids.iter().map(name).collect(),
            },
        };
        let line = RecordLine {
            locator,
            kind: matched.kind.as_str(),
            lineage,
            confidence: matched.confidence,
            response_fingerprints: responses
                .iter()
                .map(|t| Fingerprint::of_text(t).0.to_hex())
                .collect(),
        };
        let path = &self.path;
        serde_json::to_writer(&mut self.out, &line)
            .map_err(|e| io_error(path, std::io::Error::other(e)))?;
        self.out.write_all(b"\n").map_err(|e| io_error(path, e))
    }

    /// Flushes the file.
    pub fn finish(mut self) -> Result<(), Error> {
        self.out.flush().map_err(|e| io_error(&self.path, e))?;
        self.out
            .get_ref()
            .sync_all()
            .map_err(|e| io_error(&self.path, e))
    }
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Quarantine(QuarantineError {
        path: path.to_owned(),
        source,
    })
}
