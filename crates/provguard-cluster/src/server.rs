//! The scheduler and executor processes: Ballista's, with the provguard functions in the
//! sessions that plan and run the scans.
//!
//! The scheduler turns the client's logical plan into a physical one, so its sessions need the
//! functions (their names and return types); the executors run the plans, so their function
//! registry needs them to decode the plans and tag the records. Both open the ledger given by
//! path, read-only: on real machines its folder is copied (or mounted read-only) to each of
//! them, and the functions refuse to run when an executor's copy holds other evidence than the
//! client's (see [`crate::record::ledger_id`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::utils::default_session_builder;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::{SchedulerConfig, TaskDistributionPolicy};
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service_with_listener};
use ballista_scheduler::scheduler_server::SessionBuilder;
use datafusion::execution::FunctionRegistry as _;
use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::SessionConfig;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use provguard::ledger::Ledger;

use crate::ClusterError;

/// Every function a provguard session has: the `provguard-sql` ones and `provguard_record`.
#[must_use]
pub fn functions(ledger: &Arc<Ledger>) -> Vec<Arc<ScalarUDF>> {
    let mut udfs: Vec<Arc<ScalarUDF>> = provguard_sql::functions::udfs(Arc::clone(ledger))
        .into_iter()
        .map(Arc::new)
        .collect();
    udfs.push(Arc::new(crate::record::udf(Arc::clone(ledger))));
    udfs
}

fn open_ledger(dir: &Path) -> Result<Arc<Ledger>, ClusterError> {
    Ledger::open(dir)
        .map(Arc::new)
        .map_err(|source| ClusterError::Ledger {
            dir: dir.to_owned(),
            source,
        })
}

fn runtime() -> Result<tokio::runtime::Runtime, ClusterError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ClusterError::Runtime)
}

/// How to run a scheduler.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// The address the scheduler listens on (its gRPC port, which clients and executors use).
    pub bind: SocketAddr,
    /// The host name executors and clients reach it by, when not the bound address.
    pub external_host: Option<String>,
    /// The ledger folder.
    pub ledger: PathBuf,
}

/// Runs a scheduler until the process is stopped. `ready` is called once it listens, with the
/// address it listens on.
pub fn run_scheduler(
    options: &SchedulerOptions,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ClusterError> {
    let ledger = open_ledger(&options.ledger)?;
    let udfs = functions(&ledger);
    let builder: SessionBuilder = Arc::new(move |config: SessionConfig| {
        let mut state = default_session_builder(config)?;
        for udf in &udfs {
            state.register_udf(Arc::clone(udf))?;
        }
        Ok(state)
    });
    let host = options
        .external_host
        .clone()
        .unwrap_or_else(|| options.bind.ip().to_string());
    let mut config = SchedulerConfig::default()
        .with_hostname(host)
        .with_port(options.bind.port())
        // Spread a scan's partitions over the executors rather than filling one first.
        .with_task_distribution(TaskDistributionPolicy::RoundRobin)
        .with_override_session_builder(builder);
    config.bind_host = options.bind.ip().to_string();
    config.validate().map_err(ClusterError::Ballista)?;

    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(options.bind)
            .await
            .map_err(|source| ClusterError::Bind {
                address: options.bind.to_string(),
                source,
            })?;
        let address = listener.local_addr().map_err(|source| ClusterError::Bind {
            address: options.bind.to_string(),
            source,
        })?;
        let config = Arc::new(config);
        let cluster = BallistaCluster::new_from_config(&config)
            .await
            .map_err(ClusterError::Ballista)?;
        let scheduler = create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, config)
            .await
            .map_err(ClusterError::Ballista)?;
        ready(address);
        start_grpc_service_with_listener(listener, scheduler)
            .await
            .map_err(ClusterError::Ballista)
    })
}

/// How to run an executor.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler's host.
    pub scheduler_host: String,
    /// The scheduler's port.
    pub scheduler_port: u16,
    /// The address of the executor's Arrow Flight service (which serves its results).
    pub bind: SocketAddr,
    /// The port of its gRPC service (which receives tasks).
    pub grpc_port: u16,
    /// The host name the scheduler and clients reach it by, when not the bound address.
    pub external_host: Option<String>,
    /// Tasks run at once; 0 for one per core.
    pub vcores: usize,
    /// Where shuffle files are written; a temporary folder when `None`.
    pub work_dir: Option<PathBuf>,
    /// The ledger folder.
    pub ledger: PathBuf,
}

/// Runs an executor until the process is stopped. `ready` is called once the scheduler has
/// accepted it (its first heartbeat answered).
pub fn run_executor(
    options: &ExecutorOptions,
    ready: impl FnOnce() + Send + 'static,
) -> Result<(), ClusterError> {
    let ledger = open_ledger(&options.ledger)?;
    let mut registry = BallistaFunctionRegistry::default();
    for udf in functions(&ledger) {
        registry.scalar_functions.insert(udf.name().to_owned(), udf);
    }
    let external_host = options
        .external_host
        .clone()
        .or_else(|| (!options.bind.ip().is_unspecified()).then(|| options.bind.ip().to_string()));
    let config = ExecutorProcessConfig {
        bind_host: options.bind.ip().to_string(),
        external_host,
        port: options.bind.port(),
        grpc_port: options.grpc_port,
        scheduler_host: options.scheduler_host.clone(),
        scheduler_port: options.scheduler_port,
        vcores: options.vcores,
        work_dir: options.work_dir.as_ref().map(|d| d.display().to_string()),
        print_thread_info: false,
        override_function_registry: Some(Arc::new(registry)),
        ..ExecutorProcessConfig::default()
    };
    let health = config.health.clone();

    runtime()?.block_on(async move {
        // Tell the caller once the scheduler has answered a heartbeat.
        tokio::spawn(async move {
            while !health.is_ready() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            ready();
        });
        start_executor_process(Arc::new(config))
            .await
            .map_err(ClusterError::Ballista)
    })
}
