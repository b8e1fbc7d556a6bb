//! Rule tests: every rule fires on its `bad` fixture and stays quiet on its `good` one, and the
//! shared setups (the seed, the chart's real output) give the findings issue #3 requires.
//!
//! Fixtures: `tests/fixtures/<ID>/bad/` and `tests/fixtures/<ID>/good/`, each a directory of
//! manifests, values files or config.toml, read exactly as `runnerguard audit -f DIR` reads
//! them. A fixture directory may hold `topology.toml` with the audit's topology flags
//! (`runner_namespace`, `job_namespaces`, ...), for setups that need them.

#![allow(
    clippy::unwrap_used,
    clippy::missing_panics_doc,
    reason = "test helpers fail the test on any error"
)]

mod acceptance;
mod catalogue;

use std::path::{Path, PathBuf};

use runnerguard_audit::{Finding, Selection, Setup, Topology, TopologyOptions};
use runnerguard_engine::Policy;
use runnerguard_load::{Input, load_inputs};

/// The workspace root: fixtures and examples are named from there, as a user would.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// An audit of `paths` (relative to the workspace root) with `options`, for runner 18.9.
pub fn audit_with(paths: &[&str], options: &TopologyOptions) -> (Topology, Vec<Finding>) {
    let inputs: Vec<Input> = paths.iter().map(|p| Input::Path(root().join(p))).collect();
    let mut loaded = load_inputs(&inputs).unwrap();
    loaded.add_default_policy().unwrap();
    let policy = Policy::new(loaded.inventory);
    let setup = Setup::new(&policy, options, "18.9".parse().unwrap()).unwrap();
    let findings = runnerguard_audit::run(&setup.context(&policy), &Selection::default());
    (setup.topology, findings)
}

/// An audit of `paths` with no topology flags.
pub fn audit(paths: &[&str]) -> (Topology, Vec<Finding>) {
    audit_with(paths, &TopologyOptions::default())
}

/// The topology flags of a fixture directory (`topology.toml`), if it has them.
pub fn fixture_options(dir: &Path) -> TopologyOptions {
    #[derive(serde::Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct Flags {
        runner_namespace: Option<String>,
        runner_service_account: Option<String>,
        #[serde(default)]
        job_namespaces: Vec<String>,
        job_service_account: Option<String>,
        release_namespace: Option<String>,
    }
    let Ok(text) = std::fs::read_to_string(dir.join("topology.toml")) else {
        return TopologyOptions::default();
    };
    let f: Flags = toml::from_str(&text).unwrap();
    TopologyOptions {
        runner_namespace: f.runner_namespace,
        runner_service_account: f.runner_service_account,
        job_namespaces: f.job_namespaces,
        job_service_account: f.job_service_account,
        release_namespace: f.release_namespace,
    }
}

/// The findings of one rule on one fixture directory.
pub fn rule_findings(id: &str, which: &str) -> Vec<Finding> {
    let rel = format!("crates/runnerguard-audit/tests/fixtures/{id}/{which}");
    let options = fixture_options(&root().join(&rel));
    let (_, findings) = audit_with(&[&rel], &options);
    findings.into_iter().filter(|f| f.rule == id).collect()
}

/// A finding as the catalogue snapshots show it: its fields, with the evidence as the report
/// words it, one line per entry indented two spaces per level of nesting (the typed
/// `evidence` is left out: the report's JSON has it, and its test checks it).
#[derive(serde::Serialize)]
struct Shown<'a> {
    rule: &'a str,
    name: &'a str,
    severity: runnerguard_audit::Severity,
    message: &'a str,
    objects: &'a [std::sync::Arc<runnerguard_model::ObjectRef>],
    locations: &'a [runnerguard_audit::Location],
    path: Vec<String>,
    remediation: &'a str,
}

/// The evidence of `f` as the report words it, nesting shown by indentation.
pub fn path(f: &Finding) -> Vec<String> {
    runnerguard_report::evidence::lines(&f.evidence)
        .into_iter()
        .map(|l| format!("{:indent$}{}", "", l.text, indent = 2 * l.depth))
        .collect()
}

/// The JSON of findings, with file paths as given (relative to the workspace root).
pub fn findings_json(findings: &[Finding]) -> String {
    let shown: Vec<Shown<'_>> = findings
        .iter()
        .map(|f| Shown {
            rule: f.rule,
            name: f.name,
            severity: f.severity,
            message: &f.message,
            objects: &f.objects,
            locations: &f.locations,
            path: path(f),
            remediation: &f.remediation,
        })
        .collect();
    let text = serde_json::to_string_pretty(&shown).unwrap();
    text.replace(&format!("{}/", root().display()), "")
}
