//! Validated configuration: the second step of argument parsing.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use provguard::gate::Policy;
use provguard::ingest::schema::{Role, SchemaKind, SchemaOptions};
use provguard::ingest::{InputFormat, PathFilter, ReadOptions};

use crate::cli::{InputFormatArg, ReadArgs};

/// The policy used when no `--policy` is given: `policies/default.toml`, built in.
pub const DEFAULT_POLICY: &str = include_str!("../../../policies/default.toml");

/// Reading options from flags.
pub fn read_options(args: &ReadArgs) -> anyhow::Result<(ReadOptions, SchemaOptions)> {
    let read = ReadOptions {
        format: args.input_format.map(|f| match f {
            InputFormatArg::Jsonl => InputFormat::JsonLines,
            InputFormatArg::Json => InputFormat::JsonArray,
            InputFormatArg::Parquet => InputFormat::Parquet,
            InputFormatArg::Csv => InputFormat::Csv,
            InputFormatArg::Tsv => InputFormat::Tsv,
            InputFormatArg::Arrow => InputFormat::ArrowIpc,
        }),
        lenient: args.lenient,
        max_record_bytes: args.max_record_bytes,
        max_decompression_ratio: args.max_decompression_ratio,
        filter: PathFilter::new(&args.include, &args.exclude).context("cannot use the globs")?,
        ..ReadOptions::default()
    };
    let schema = match &args.schema {
        None => None,
        Some(name) => Some(SchemaKind::from_name(name).with_context(|| {
            format!(
                "`--schema {name}` is not a schema (messages, sharegpt, preference, alpaca, \
                 prompt-completion, text)"
            )
        })?),
    };
    let mut field_map = Vec::new();
    for pair in &args.map {
        match pair.split_once('=') {
            Some((schema_field, field)) if !schema_field.is_empty() && !field.is_empty() => {
                field_map.push((schema_field.to_owned(), field.to_owned()));
            }
            _ => bail!("`--map {pair}` is not of the form SCHEMA_FIELD=FIELD"),
        }
    }
    let mut role_map = HashMap::new();
    for pair in &args.role_map {
        let Some((name, role)) = pair.split_once('=') else {
            bail!("`--role-map {pair}` is not of the form NAME=ROLE");
        };
        let Some(role) = Role::from_name(role) else {
            bail!(
                "`--role-map {pair}`: `{role}` is not a role (system, user, assistant, \
                 tool_call, tool)"
            );
        };
        role_map.insert(name.to_owned(), role);
    }
    Ok((
        read,
        SchemaOptions {
            role_map,
            schema,
            field_map,
        },
    ))
}

/// The policy named by `--policy`, or the default one.
pub fn policy(path: Option<&PathBuf>) -> anyhow::Result<(Policy, String)> {
    if let Some(path) = path {
        let policy = Policy::load(path).context("cannot use the policy")?;
        return Ok((policy, path.display().to_string()));
    }
    let policy = Policy::from_toml(DEFAULT_POLICY, "policies/default.toml (built in)")
        .context("the built-in default policy is not valid; please report this bug")?;
    Ok((policy, "default".to_owned()))
}
