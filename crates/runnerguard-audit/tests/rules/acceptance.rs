//! Issue #3's acceptance: the seed setup, the first answer alone, and the chart's real output.

use crate::audit;

fn ids(findings: &[runnerguard_audit::Finding]) -> Vec<&'static str> {
    let mut v: Vec<&str> = findings.iter().map(|f| f.rule).collect();
    v.dedup();
    v
}

#[test]
fn seed_rg107_names_runners_kubernetes_with_its_line() {
    let (_, findings) = audit(&["examples/seed/"]);
    let f = findings
        .iter()
        .find(|f| f.rule == "RG107" && f.message.contains("`runners.kubernetes`"))
        .unwrap_or_else(|| panic!("{:?}", ids(&findings)));
    let at = &f.locations[0].origin;
    assert!(
        at.file.ends_with("examples/seed/02-final-values.yaml"),
        "{at}"
    );
    assert_eq!(at.line, 7);
}

#[test]
fn seed_jobs_run_in_the_manager_namespace() {
    let (topology, findings) = audit(&["examples/seed/"]);
    assert_eq!(topology.manager_namespace, "gitlab-runner");
    assert!(
        topology.jobs.iter().any(|j| j.namespace == "gitlab-runner"),
        "{topology:?}"
    );
    assert!(
        findings.iter().any(|f| f.rule == "RG101"),
        "{:?}",
        ids(&findings)
    );
}

#[test]
fn rendered_seed_values_give_the_same_topology_fault() {
    let (topology, findings) = audit(&["fixtures/chart-0.86.0/rendered-seed-values.yaml"]);
    assert_eq!(topology.manager_namespace, "gitlab-runner");
    assert_eq!(topology.job_namespaces(), ["gitlab-runner"]);
    assert!(
        findings.iter().any(|f| f.rule == "RG101"),
        "{:?}",
        ids(&findings)
    );
}

/// Issue #4: a job ServiceAccount that may create pods in `teams`, where another
/// ServiceAccount may read Secrets in `gitlab-runner`: RG104 with the path.
#[test]
fn rg104_follows_escalation_paths() {
    let options = runnerguard_audit::TopologyOptions {
        runner_namespace: Some("gitlab-runner".into()),
        job_namespaces: vec!["teams".into()],
        job_service_account: Some("ci-job".into()),
        ..Default::default()
    };
    let (_, findings) = crate::audit_with(&["fixtures/escalation/two-step.yaml"], &options);
    let f = findings
        .iter()
        .find(|f| f.rule == "RG104" && f.message.contains("teams/deployer"))
        .unwrap_or_else(|| panic!("{:?}", ids(&findings)));
    let path = crate::path(f).join("\n");
    assert!(path.contains("may create pods"), "{path}");
    assert!(
        path.contains("RoleBinding gitlab-runner/deployer-reads-runner-secrets"),
        "{path}"
    );
}

/// The first answer's RBAC alone: jobs in `gitlab-runner`, where the manager may read the
/// runner's Secrets.
#[test]
fn first_answer_alone_puts_jobs_next_to_the_runner_secrets() {
    let (topology, findings) = audit(&["examples/seed/01-first-answer-rbac.yaml"]);
    assert!(
        topology.job_namespaces().contains(&"gitlab-runner"),
        "{topology:?}"
    );
    let f = findings.iter().find(|f| f.rule == "RG101").unwrap();
    assert!(
        crate::path(f)
            .iter()
            .any(|p| p.contains("may get Secrets in `gitlab-runner`")),
        "{:?}",
        f.evidence
    );
}

/// RG105 and RG106 on effective rights: deploy rights alone are fine, but through the pods of
/// a Deployment the job becomes a ServiceAccount that holds rights.
#[test]
fn token_and_service_account_rules_follow_escalation() {
    let options = runnerguard_audit::TopologyOptions {
        runner_namespace: Some("gitlab-runner".into()),
        job_namespaces: vec!["teams".into()],
        job_service_account: Some("ci-job".into()),
        ..Default::default()
    };
    let (_, findings) = crate::audit_with(&["fixtures/escalation/deploy-reach.yaml"], &options);
    for id in ["RG105", "RG106"] {
        let f = findings
            .iter()
            .find(|f| f.rule == id && f.message.contains("ServiceAccount teams/operator"))
            .unwrap_or_else(|| panic!("{id}: {:?}", ids(&findings)));
        assert!(
            crate::path(f)
                .iter()
                .any(|p| p.contains("workload controllers")),
            "{id}: {:?}",
            f.evidence
        );
    }
}

/// The chart renders `runners.config` with `tpl`: its default namespace line means the
/// release namespace when `runners.jobNamespace` is not set.
#[test]
fn templated_namespace_line_is_the_release_namespace() {
    let (topology, findings) =
        audit(&["crates/runnerguard-audit/tests/fixtures/topology/templated/"]);
    assert_eq!(topology.job_namespaces(), ["gitlab-runner"]);
    assert!(
        findings.iter().any(|f| f.rule == "RG101"),
        "{:?}",
        ids(&findings)
    );
}
