//! Every generated setup, audited by the project's own audit (runnerguard-audit over
//! runnerguard-load), must be clean: no finding at all from the runner rules RG101–RG115,
//! which define a correct setup (issue #5), and none at high or above from any rule.
//!
//! The RBAC rules (`RB0xx`) report, at medium, RB005 for every subject that may create
//! workloads: the deploy identity and developers with `deploy` access wherever they deploy,
//! and the manager in a job namespace that also holds the deployer ServiceAccount (the
//! executor may create pods there as any ServiceAccount, and the admission policy lets pods
//! run as the deployer). That is what deploying from CI means; nothing else is allowed.
//!
//! A multi-tenant setup is audited once per tenant, as INSTALL.md tells users to: (a) the
//! files of the manager namespace and of that tenant, with no topology flags (the audit reads
//! the manager namespace and ServiceAccount from the tenant's Helm values, the job namespace
//! and ServiceAccount from its `runners.config`), and (b) every file of the setup at once,
//! with the tenant's topology given as flags (`--runner-namespace`, `--runner-service-account`,
//! `--job-namespace`, `--job-service-account`), which also shows that no other tenant's
//! objects reach this tenant's namespaces.

use std::path::Path;

use runnerguard_audit::{Finding, Selection, Setup, Severity, Topology, TopologyOptions};
use runnerguard_engine::Policy;
use runnerguard_generate::{Config, default_config, write_dir};
use runnerguard_load::{Input, load_inputs};

use crate::{files, three_tenants};

fn audit(paths: &[&Path], options: &TopologyOptions, config: &Config) -> (Topology, Vec<Finding>) {
    let inputs: Vec<Input> = paths.iter().map(|p| Input::Path(p.to_path_buf())).collect();
    let mut loaded = load_inputs(&inputs).unwrap();
    loaded.add_default_policy().unwrap();
    let policy = Policy::new(loaded.inventory);
    let v = config.runner_version();
    let version = format!("{}.{}", v.major, v.minor).parse().unwrap();
    let setup = Setup::new(&policy, options, version).unwrap();
    let findings = runnerguard_audit::run(&setup.context(&policy), &Selection::default());
    (setup.topology, findings)
}

fn describe(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("{} {} {}", f.severity, f.rule, f.message))
        .collect::<Vec<_>>()
        .join("\n")
}

/// No runner-rule finding; nothing at high or above; at medium only RB005.
fn check(findings: &[Finding], what: &str) {
    let bad: Vec<Finding> = findings
        .iter()
        .filter(|f| {
            f.rule.starts_with("RG")
                || f.severity >= Severity::High
                || (f.severity >= Severity::Medium && f.rule != "RB005")
        })
        .cloned()
        .collect();
    assert!(bad.is_empty(), "{what}: {}", describe(&bad));
}

/// Findings per severity, most severe first, e.g. `medium 2, info 1`.
fn counts(findings: &[Finding]) -> String {
    let mut out = Vec::new();
    for s in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ] {
        let n = findings.iter().filter(|f| f.severity == s).count();
        out.push(format!("{s} {n}"));
    }
    out.join(", ")
}

/// Audits every tenant of `config` both ways; returns the findings of all audits.
fn audit_setup(config: &Config) -> Vec<Finding> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("setup");
    write_dir(&out, &files(config), false).unwrap();
    let manager = out.join("manager");
    let mut all = Vec::new();
    for t in config.tenants() {
        // (a) The tenant's files and the manager namespace's, no flags.
        let tenant_dir = out.join(t.name());
        let (topology, findings) = audit(
            &[&manager, &tenant_dir],
            &TopologyOptions::default(),
            config,
        );
        assert_eq!(topology.manager_namespace, config.manager_namespace());
        assert_eq!(
            topology.manager_service_account,
            t.manager_service_account()
        );
        assert_eq!(topology.job_namespaces(), [t.job_namespace()]);
        assert_eq!(topology.jobs[0].service_account, t.job_service_account());
        assert_eq!(topology.jobs[0].automount_token, Some(false));
        check(&findings, &format!("tenant {} (its files)", t.name()));
        all.extend(findings);

        // (b) Everything, with the tenant's topology as flags.
        let options = TopologyOptions {
            runner_namespace: Some(config.manager_namespace().to_owned()),
            runner_service_account: Some(t.manager_service_account().to_owned()),
            job_namespaces: vec![t.job_namespace().to_owned()],
            job_service_account: Some(t.job_service_account().to_owned()),
            release_namespace: None,
        };
        let (_, findings) = audit(&[&out], &options, config);
        check(&findings, &format!("tenant {} (whole setup)", t.name()));
        all.extend(findings);
    }
    all
}

#[test]
fn the_default_setup_passes_the_audit() {
    let findings = audit_setup(&default_config());
    eprintln!(
        "default setup, all audits: {}\n{}",
        counts(&findings),
        describe(&findings)
    );
    assert!(!findings.iter().any(|f| f.rule.starts_with("RG")));
}

#[test]
fn a_three_tenant_setup_passes_the_audit() {
    let findings = audit_setup(&three_tenants());
    eprintln!(
        "three tenants, all audits: {}\n{}",
        counts(&findings),
        describe(&findings)
    );
    assert!(!findings.iter().any(|f| f.rule.starts_with("RG")));
}

/// `runnerguard generate | runnerguard audit -f -`: the one-stream output of the default
/// configuration audits clean too.
#[test]
fn the_default_stream_passes_the_audit() {
    let config = default_config();
    let stream = runnerguard_generate::to_stream(&files(&config));
    let mut loaded = runnerguard_load::load_str("-", &stream).unwrap();
    loaded.add_default_policy().unwrap();
    let policy = Policy::new(loaded.inventory);
    let setup = Setup::new(
        &policy,
        &TopologyOptions::default(),
        "18.9".parse().unwrap(),
    )
    .unwrap();
    assert_eq!(setup.topology.job_namespaces(), ["teams"]);
    let findings = runnerguard_audit::run(&setup.context(&policy), &Selection::default());
    check(&findings, "the default stream");
}

/// The audit is not trivially clean: the same setup with one hardening step undone fails.
#[test]
fn the_audit_sees_a_weakened_setup() {
    let config = default_config();
    let mut generated = files(&config);
    for f in &mut generated {
        if f.path == "teams/values.yaml" {
            f.contents = f
                .contents
                .replace("automount_service_account_token = false", "")
                .replace(
                    "service_account_overwrite_allowed = \"\"",
                    "service_account_overwrite_allowed = \".*\"",
                );
        }
        if f.path == "manager/network-policy.yaml" {
            f.contents = "# removed\n".to_owned();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("setup");
    write_dir(&out, &generated, false).unwrap();
    let (_, findings) = audit(
        &[&out.join("manager"), &out.join("teams")],
        &TopologyOptions::default(),
        &config,
    );
    let rules: Vec<&str> = findings.iter().map(|f| f.rule).collect();
    assert!(rules.contains(&"RG110"), "{}", describe(&findings));
    assert!(rules.contains(&"RG112"), "{}", describe(&findings));
}
