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
mod snapshots;
mod write;

use runnerguard_generate::{Config, GeneratedFile, generate, parse_config};

/// A configuration with three tenants: one deploying into a namespace of its own, one not
/// deploying at all, one deploying into its job namespace and two others, with developer
/// access of each kind and optional executor features.
pub const THREE_TENANTS: &str = r#"
[manager]
namespace = "ci-runners"
gitlab_url = "https://gitlab.example.com/"
runner_version = "18.11.0"

[[tenants]]
name = "web"
job_namespace = "web-ci"
deploy = true
deploy_namespaces = ["web-staging"]
developer_groups = ["web-developers"]
developer_deploy_access = "deploy"
pod_security = "restricted"
allowed_images = ["registry.example.com/web/**/*"]
executor_features = ["ports", "pod_disruption_budget"]

[[tenants]]
name = "data"
developer_groups = ["data-team", "data-oncall"]
developer_job_access = "none"
executor_features = ["container_logs", "pod_events", "service_account_check"]

[tenants.resources.build]
cpu_request = "1"
cpu_limit = "2"
memory_request = "1Gi"
memory_limit = "4Gi"

[tenants.quota]
pods = 20

[[tenants]]
name = "ops"
job_namespace = "ops-ci"
deploy = true
deploy_namespaces = ["ops-ci", "monitoring", "ingress"]
deployer_service_account = "ops-deployer"
developer_groups = ["ops"]
developer_deploy_access = "view"
"#;

/// [`THREE_TENANTS`], parsed.
pub fn three_tenants() -> Config {
    parse_config("three.toml", THREE_TENANTS).unwrap()
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
