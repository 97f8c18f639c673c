//! End-to-end tests of the `provguard` command: real data from `../shared/data`, the input
//! cases of `../shared/cases/ingest`, exit codes, policies and the report layout.

mod cases;
mod cli;
mod cluster_cli;
mod dynamics_cli;
mod formats_cli;
mod html_report;
mod ingest_cli;
mod ledger_cli;
mod near_cli;
mod real_mixture;
mod support;
mod terminal_cli;
