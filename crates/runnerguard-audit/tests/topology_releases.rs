//! Rendered manifests of several releases (`helm template` run once per release into one
//! directory) are several runner topologies: each manager Deployment with the runner
//! configuration of the ConfigMap it mounts. They were one (the first manager's), and the
//! second manager's namespace was never checked.

#![allow(clippy::unwrap_used, reason = "tests fail on any error")]

use std::path::{Path, PathBuf};

use runnerguard_audit::{Audit, Selection, Topology, TopologyOptions};
use runnerguard_engine::Policy;
use runnerguard_load::{Input, load_inputs};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/topology/two-releases")
        .join(name)
}

fn policy(paths: &[PathBuf]) -> Policy {
    let inputs: Vec<Input> = paths.iter().map(|p| Input::Path(p.clone())).collect();
    let mut loaded = load_inputs(&inputs).unwrap();
    loaded.add_default_policy().unwrap();
    Policy::new(loaded.inventory)
}

/// Manager namespace/ServiceAccount and job namespaces of each topology.
fn shape(topologies: &[Topology]) -> Vec<(String, Vec<String>)> {
    topologies
        .iter()
        .map(|t| {
            (
                format!("{}/{}", t.manager_namespace, t.manager_service_account),
                t.jobs.iter().map(|j| j.namespace.clone()).collect(),
            )
        })
        .collect()
}

#[test]
fn each_rendered_release_is_a_topology_with_its_own_configuration() {
    let policy = policy(&[fixture("a.yaml"), fixture("b.yaml")]);
    let topologies = Topology::discover_all(&policy, &TopologyOptions::default());
    assert_eq!(
        shape(&topologies),
        [
            ("team-a/runner-a".to_owned(), vec!["ci-a".to_owned()]),
            ("team-b/runner-b".to_owned(), vec!["ci-b".to_owned()]),
        ]
    );
    // One release alone is the topology it always was.
    let one = policy_single("a.yaml");
    assert_eq!(
        shape(&one),
        [("team-a/runner-a".to_owned(), vec!["ci-a".to_owned()])]
    );
    // Flags name one topology for everything.
    let flags = TopologyOptions {
        runner_namespace: Some("team-b".to_owned()),
        ..TopologyOptions::default()
    };
    assert_eq!(Topology::discover_all(&policy, &flags).len(), 1);
}

fn policy_single(name: &str) -> Vec<Topology> {
    Topology::discover_all(&policy(&[fixture(name)]), &TopologyOptions::default())
}

#[test]
fn the_second_releases_namespace_is_checked_too() {
    let policy = policy(&[fixture("a.yaml"), fixture("b.yaml")]);
    let audit = Audit::new(
        &policy,
        &TopologyOptions::default(),
        "18.9".parse().unwrap(),
    )
    .unwrap();
    let findings = audit.run(&Selection::default());
    for (manager, jobs) in [("team-a", "ci-a"), ("team-b", "ci-b")] {
        let ingress = format!("the manager's namespace `{manager}` for ingress");
        assert!(
            findings
                .iter()
                .any(|f| f.rule == "RG112" && f.message.contains(&ingress)),
            "no RG112 for {manager}"
        );
        // Each manager is checked for the executor's rights in its own job namespace.
        let missing = "cannot create pods";
        assert!(
            findings.iter().any(|f| f.rule == "RG102"
                && f.message.contains(&format!("{manager}/runner-"))
                && f.message.contains(missing)
                && f.message.contains(&format!("in `{jobs}`"))),
            "no RG102 for {manager} in {jobs}"
        );
    }
}
