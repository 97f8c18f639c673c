//! SQL over the provenance ledger, with DataFusion.
//!
//! [`LedgerQuery::open`] registers the ledger's tables on a DataFusion `SessionContext`,
//! read-only, and [`LedgerQuery::run`] runs one statement and returns its record batches;
//! [`to_table`] and [`to_json`] print them. The tables (see `ledger_tables`):
//!
//! - `fingerprints`: one row per (fingerprint, source, field) entry: `fingerprint`
//!   (32 bytes), `source`, `origin`, `curated`, `field`, `registration`;
//! - `sources`: one row per registered source: `source`, `origin`, `curated`,
//!   `registrations`, `texts`, `entries`;
//! - `scans`: one row per recorded scan: `scan`, `home`, `content`, `records`, `human`,
//!   `unknown`, `synthetic`, `models` and `curated` (JSON objects of shares by source),
//!   `verdict`, `at`.
//!
//! The tables are read from the segments the manifest listed when the ledger was opened; a
//! commit made later is not seen, and no statement can change the ledger.
//!
//! Datasets are measured with the scalar functions of [`functions`] (`provguard_lineage`,
//! `provguard_origin`, `provguard_fingerprint`; [`register_functions`], or
//! [`LedgerQuery::with_functions`]), over files read by path once [`LedgerQuery::with_files`]
//! allows it: `SELECT provguard_lineage(output) AS source, count(*) FROM 'data/*.parquet'
//! GROUP BY source`.
#![deny(missing_docs)]

pub mod functions;
mod ledger_tables;
mod output;

use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use datafusion::execution::context::{SQLOptions, SessionContext};

pub use functions::register_functions;
pub use ledger_tables::register_ledger;
pub use output::{to_json, to_table};

/// Errors of SQL over the ledger.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// The ledger could not be read.
    #[error("cannot read the ledger")]
    Ledger(#[from] provguard_ledger::LedgerError),
    /// DataFusion refused or failed the statement.
    #[error("cannot run the query")]
    Query(#[source] datafusion::error::DataFusionError),
    /// A table could not be registered.
    #[error("cannot register the ledger's table `{table}`")]
    Table {
        /// The table.
        table: &'static str,
        /// Why.
        #[source]
        source: datafusion::error::DataFusionError,
    },
    /// The result could not be printed.
    #[error("cannot print the result")]
    Output(#[source] arrow::error::ArrowError),
    /// The async runtime could not start.
    #[error("cannot start the query engine")]
    Runtime(#[source] std::io::Error),
}

/// A DataFusion session over one ledger's tables, read-only.
pub struct LedgerQuery {
    context: SessionContext,
    runtime: tokio::runtime::Runtime,
    dir: PathBuf,
}

impl std::fmt::Debug for LedgerQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerQuery").finish_non_exhaustive()
    }
}

impl LedgerQuery {
    /// Registers the tables of the ledger in `dir` on a new session.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let mut ledger = provguard_ledger::Ledger::open_or_new(dir.path()).unwrap();
    /// # let source = provguard_ledger::SourceEntry {
    /// #     name: "gpt".into(), origin: provguard_lineage::Origin::Synthetic, curated: false,
    /// # };
    /// # let text = provguard_ledger::TextEntry {
    /// #     field: "output".into(),
    /// #     fingerprint: provguard_lineage::Fingerprint::of_text("Hello.").0,
    /// #     text: "Hello.".into(),
    /// # };
    /// # ledger.register(&source, vec![], [text], &Default::default()).unwrap();
    /// let query = provguard_sql::LedgerQuery::open(dir.path())?;
    /// let batches = query.run("SELECT source, count(*) AS n FROM fingerprints GROUP BY source")?;
    /// assert!(provguard_sql::to_table(&batches)?.contains("gpt"));
    /// # Ok::<(), provguard_sql::SqlError>(())
    /// ```
    pub fn open(dir: &Path) -> Result<Self, SqlError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .map_err(SqlError::Runtime)?;
        let context = SessionContext::new();
        register_ledger(&context, dir)?;
        Ok(Self {
            context,
            runtime,
            dir: dir.to_owned(),
        })
    }

    /// Lets statements read files by their path or glob, as tables: Parquet, CSV, JSON Lines
    /// (`.json`) and Arrow IPC, by their extension (`FROM 'data/*.parquet'`). Any file the
    /// process can read can then be queried; statements still cannot write.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let mut ledger = provguard_ledger::Ledger::open_or_new(&dir.path().join("ledger")).unwrap();
    /// # let source = provguard_ledger::SourceEntry {
    /// #     name: "gpt".into(), origin: provguard_lineage::Origin::Synthetic, curated: false,
    /// # };
    /// # let text = provguard_ledger::TextEntry {
    /// #     field: "output".into(),
    /// #     fingerprint: provguard_lineage::Fingerprint::of_text("Hello.").0,
    /// #     text: "Hello.".into(),
    /// # };
    /// # ledger.register(&source, vec![], [text], &Default::default()).unwrap();
    /// let csv = dir.path().join("answers.csv");
    /// std::fs::write(&csv, "answer\nyes\nno\n").unwrap();
    /// let query = provguard_sql::LedgerQuery::open(&dir.path().join("ledger"))?.with_files();
    /// let batches = query.run(&format!("SELECT count(*) AS n FROM '{}'", csv.display()))?;
    /// assert!(provguard_sql::to_table(&batches)?.contains("| 2 |"));
    /// # Ok::<(), provguard_sql::SqlError>(())
    /// ```
    #[must_use]
    pub fn with_files(self) -> Self {
        Self {
            context: self.context.enable_url_table(),
            ..self
        }
    }

    /// Registers the [`functions`] over this ledger; it is opened (its fingerprint index
    /// loaded) when a statement first calls `provguard_origin` or `provguard_lineage`.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let mut ledger = provguard_ledger::Ledger::open_or_new(dir.path()).unwrap();
    /// # let source = provguard_ledger::SourceEntry {
    /// #     name: "gpt".into(), origin: provguard_lineage::Origin::Synthetic, curated: false,
    /// # };
    /// # let text = provguard_ledger::TextEntry {
    /// #     field: "output".into(),
    /// #     fingerprint: provguard_lineage::Fingerprint::of_text("Hello.").0,
    /// #     text: "Hello.".into(),
    /// # };
    /// # ledger.register(&source, vec![], [text], &Default::default()).unwrap();
    /// let query = provguard_sql::LedgerQuery::open(dir.path())?.with_functions();
    /// let batches = query.run("SELECT provguard_origin('Never registered.') AS origin")?;
    /// assert!(provguard_sql::to_table(&batches)?.contains("unknown"));
    /// # Ok::<(), provguard_sql::SqlError>(())
    /// ```
    #[must_use]
    pub fn with_functions(self) -> Self {
        functions::register_lazy(&self.context, self.dir.clone());
        self
    }

    /// The session, for registering more tables or functions.
    #[must_use]
    pub fn context(&self) -> &SessionContext {
        &self.context
    }

    /// Runs one read-only statement (no DDL, DML or `SET`) and collects its result.
    pub fn run(&self, sql: &str) -> Result<Vec<RecordBatch>, SqlError> {
        let options = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        self.runtime.block_on(async {
            let frame = self
                .context
                .sql_with_options(sql, options)
                .await
                .map_err(SqlError::Query)?;
            frame.collect().await.map_err(SqlError::Query)
        })
    }
}
