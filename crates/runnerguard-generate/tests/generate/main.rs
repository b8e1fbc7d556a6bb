//! The generator's proof (issue #5): every generated setup passes the project's own audit,
//! every admission policy's CEL admits and rejects the right pods, every key is one the
//! runner and the chart read, configuration errors are placed, output is deterministic and
//! snapshotted, and writing a directory never clobbers foreign files.

#![allow(
    clippy::unwrap_used,
    clippy::missing_panics_doc,
    reason = "test helpers fail the test on any error"
)]

mod audit;
mod cel;
mod chart;
mod config;
mod keys;
mod namespaces;
mod snapshots;
mod write;

use runnerguard_generate::{Config, GeneratedFile, generate, parse_config};

/// A configuration with three tenants: one deploying into a namespace of its own (created,
/// `create = true`), one not deploying at all, one deploying into its job namespace and two
/// shared namespaces it does not own (`monitoring`, `ingress`: RBAC only), with developer
/// access of each kind and optional executor features. It is the shipped example, so the
/// example is held to everything these tests check.
pub const THREE_TENANTS: &str = include_str!("../../../../examples/runnerguard-three-tenants.toml");

/// [`THREE_TENANTS`], parsed.
pub fn three_tenants() -> Config {
    parse_config("runnerguard-three-tenants.toml", THREE_TENANTS).unwrap()
}

/// The generated files of `config`.
pub fn files(config: &Config) -> Vec<GeneratedFile> {
    generate(config).unwrap()
}

/// The contents of the generated file at `path`.
pub fn file<'a>(files: &'a [GeneratedFile], path: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("no file {path}"))
        .contents
}

/// The documents of a YAML file, as JSON values.
pub fn documents(text: &str) -> Vec<serde_json::Value> {
    serde_saphyr::from_multiple(text).unwrap()
}
