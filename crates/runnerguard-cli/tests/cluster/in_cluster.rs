//! examples/in-cluster/: runnerguard's own reader and CronJob, audited by runnerguard, applied
//! to the cluster, and run as its ServiceAccount: it reads everything `audit --live` needs;
//! without the Secrets grant and with `--no-secrets`, it asks for no Secret at all.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use super::harness::{Cluster, root};

const EXAMPLE: &str = "examples/in-cluster/runnerguard-cronjob.yaml";
const ACCOUNT: &str = "system:serviceaccount:runnerguard:runnerguard";

fn runnerguard(args: &[&str], kubeconfig: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_runnerguard"))
        .args(args)
        .current_dir(root())
        .env("KUBECONFIG", kubeconfig)
        .env("NO_COLOR", "1")
        .env_remove("RUNNERGUARD_HELM")
        .output()
        .unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `(rule, objects' names)` of each finding.
fn findings(report: &Value) -> BTreeSet<(String, Vec<String>)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let objects = f["objects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["name"].as_str().unwrap().to_owned())
                .collect();
            (f["rule"].as_str().unwrap().to_owned(), objects)
        })
        .collect()
}

pub(crate) fn the_in_cluster_example_reads_what_it_needs(cluster: &Cluster) {
    let nowhere = cluster.scratch().join("no-such-kubeconfig");
    // Audited by runnerguard: its own grant to list Secrets is the one finding.
    let own = json(&runnerguard(
        &["audit", "-f", EXAMPLE, "-o", "json"],
        &nowhere,
    ));
    assert_eq!(
        findings(&own),
        BTreeSet::from([(
            "RB004".to_owned(),
            vec![
                "runnerguard-reader".to_owned(),
                "runnerguard-reader".to_owned()
            ]
        )]),
        "{own}"
    );
    let text = std::fs::read_to_string(root().join(EXAMPLE)).unwrap();
    let without = text.replace(
        "configmaps, secrets, limitranges",
        "configmaps, limitranges",
    );
    assert_ne!(without, text);
    let without_file = cluster.scratch().join("runnerguard-no-secrets.yaml");
    std::fs::write(&without_file, &without).unwrap();
    let clean = json(&runnerguard(
        &["audit", "-f", without_file.to_str().unwrap(), "-o", "json"],
        &nowhere,
    ));
    assert!(findings(&clean).is_empty(), "{clean}");

    // Applied: the API server takes it (the CronJob too; no kubelet runs its pods).
    cluster.kubectl_ok(
        &[
            "apply",
            "--server-side",
            "-f",
            root().join(EXAMPLE).to_str().unwrap(),
        ],
        None,
    );
    cluster.kubectl_ok(
        &["get", "cronjob", "runnerguard-audit", "-n", "runnerguard"],
        None,
    );
    // As its pod would run, with its ServiceAccount's token: every kind is read.
    let kubeconfig = cluster.service_account_kubeconfig("runnerguard", "runnerguard");
    let live = runnerguard(&["audit", "--live", "-o", "json"], &kubeconfig);
    let report = json(&live);
    assert_eq!(report["complete"], true, "{report}");
    assert!(report["unreadable"].as_array().unwrap().is_empty());
    let codequality = runnerguard(&["audit", "--live", "-o", "codequality"], &kubeconfig);
    let issues: Value = serde_json::from_slice(&codequality.stdout).unwrap();
    assert!(issues.as_array().is_some_and(|a| !a.is_empty()));

    // Without the Secrets grant, and told so: complete, and not one request for Secrets.
    cluster.kubectl_ok(
        &[
            "apply",
            "--server-side",
            "-f",
            without_file.to_str().unwrap(),
        ],
        None,
    );
    let before = secrets_requests(cluster);
    let out = runnerguard(
        &["audit", "--live", "--no-secrets", "-o", "json"],
        &kubeconfig,
    );
    let report = json(&out);
    assert_eq!(report["complete"], true, "{report}");
    let inputs = report["inputs"].to_string();
    assert!(inputs.contains("--no-secrets"), "{inputs}");
    assert_eq!(
        secrets_requests(cluster),
        before,
        "--no-secrets asked the API server for Secrets"
    );
    cluster.kubectl_ok(
        &[
            "delete",
            "-f",
            root().join(EXAMPLE).to_str().unwrap(),
            "--wait=false",
        ],
        None,
    );
}

/// How many requests on Secrets the example's ServiceAccount has made.
fn secrets_requests(cluster: &Cluster) -> usize {
    cluster
        .audit_log()
        .iter()
        .filter(|e| {
            e["user"]["username"] == ACCOUNT
                && e["objectRef"]["resource"] == "secrets"
                && e["stage"] == "ResponseComplete"
        })
        .count()
}
