//! `provguard cluster scheduler` and `provguard cluster executor`: the processes of a Ballista
//! cluster that scans datasets with `provguard scan --cluster df://HOST:PORT`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use provguard_cluster::server::{self, ExecutorOptions, SchedulerOptions};

use crate::cli::LedgerArgs;
use crate::output;

/// The cluster's processes.
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Run a Ballista scheduler with the provguard functions, until stopped.
    ///
    /// Clients (`provguard scan --cluster df://HOST:PORT`) and executors connect to it. It
    /// plans each scan, so it opens the ledger too (read-only).
    Scheduler(SchedulerArgs),
    /// Run a Ballista executor with the provguard functions, until stopped.
    ///
    /// It registers with the scheduler, reads the dataset's files and tags their records
    /// against its copy of the ledger (opened read-only; copy the ledger folder to every
    /// executor, or mount it read-only). The files must be readable at the same absolute
    /// paths as on the client.
    Executor(ExecutorArgs),
}

/// Flags of `provguard cluster scheduler`.
#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// The address to listen on (for clients and executors).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50050")]
    pub bind: SocketAddr,

    /// The host name executors reach this scheduler by, when not the bound address.
    #[arg(long, value_name = "HOST")]
    pub external_host: Option<String>,

    #[command(flatten)]
    pub ledger: LedgerArgs,
}

/// Flags of `provguard cluster executor`.
#[derive(Debug, Args)]
pub struct ExecutorArgs {
    /// The scheduler to register with.
    #[arg(long, value_name = "HOST:PORT")]
    pub scheduler: String,

    /// The address of the executor's Arrow Flight service, which serves its results to
    /// clients and other executors.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50051")]
    pub bind: SocketAddr,

    /// The port of the executor's gRPC service, which receives tasks [default: the bound
    /// port + 1].
    #[arg(long, value_name = "PORT")]
    pub grpc_port: Option<u16>,

    /// The host name the scheduler and clients reach this executor by, when not the bound
    /// address (required when binding `0.0.0.0`).
    #[arg(long, value_name = "HOST")]
    pub external_host: Option<String>,

    /// Tasks run at once; 0 for one per core.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub vcores: usize,

    /// Where intermediate (shuffle) files are written [default: a temporary folder].
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,

    #[command(flatten)]
    pub ledger: LedgerArgs,
}

pub fn run(command: &ClusterCommand) -> anyhow::Result<u8> {
    match command {
        ClusterCommand::Scheduler(args) => scheduler(args),
        ClusterCommand::Executor(args) => executor(args),
    }
}

fn scheduler(args: &SchedulerArgs) -> anyhow::Result<u8> {
    let options = SchedulerOptions {
        bind: args.bind,
        external_host: args.external_host.clone(),
        ledger: args.ledger.ledger.clone(),
    };
    server::run_scheduler(&options, |address| {
        if !output::is_quiet() {
            eprintln!("provguard scheduler listening on {address}");
        }
    })
    .context("the scheduler stopped")?;
    Ok(crate::EXIT_PASS)
}

fn executor(args: &ExecutorArgs) -> anyhow::Result<u8> {
    let Some((host, port)) = args.scheduler.rsplit_once(':') else {
        bail!(
            "`--scheduler {}` is not of the form HOST:PORT",
            args.scheduler
        );
    };
    let port: u16 = port
        .parse()
        .with_context(|| format!("`--scheduler {}`: `{port}` is not a port", args.scheduler))?;
    let grpc_port =
        match args.grpc_port {
            Some(port) => port,
            None => args.bind.port().checked_add(1).with_context(|| {
                format!("`--bind {}` leaves no port for `--grpc-port`", args.bind)
            })?,
        };
    if args.bind.ip().is_unspecified() && args.external_host.is_none() {
        bail!(
            "`--bind {}` listens on every address; say which one the scheduler and clients \
             reach this executor by with `--external-host`",
            args.bind
        );
    }
    let options = ExecutorOptions {
        scheduler_host: host.trim_matches(['[', ']']).to_owned(),
        scheduler_port: port,
        bind: args.bind,
        grpc_port,
        external_host: args.external_host.clone(),
        vcores: args.vcores,
        work_dir: args.work_dir.clone(),
        ledger: args.ledger.ledger.clone(),
    };
    let scheduler = args.scheduler.clone();
    let bind = args.bind;
    server::run_executor(&options, move || {
        if !output::is_quiet() {
            eprintln!(
                "provguard executor on {bind} ready: registered with the scheduler {scheduler}"
            );
        }
    })
    .context("the executor stopped")?;
    Ok(crate::EXIT_PASS)
}
