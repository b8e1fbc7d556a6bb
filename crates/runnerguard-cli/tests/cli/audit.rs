use super::run;

#[test]
fn seed_audit_human() {
    let r = run(&["audit", "-f", "examples/seed/"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    insta::assert_snapshot!(r.snapshot());
}

/// Issue #3: the seed's faults, each with evidence.
#[test]
fn seed_audit_json() {
    let r = run(&["audit", "-f", "examples/seed/", "-o", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["topology"]["managerNamespace"], "gitlab-runner");
    assert_eq!(v["summary"]["failed"], true);
    let findings = v["findings"].as_array().unwrap();
    for id in [
        "RG101", "RG102", "RG103", "RG106", "RG107", "RG108", "RG109", "RG111", "RG112",
    ] {
        let f = findings.iter().find(|f| f["rule"] == id);
        let f = f.unwrap_or_else(|| panic!("{id} missing from {}", r.stdout));
        let has_evidence = !f["objects"].as_array().unwrap().is_empty()
            || !f["locations"].as_array().unwrap().is_empty()
            || !f["path"].as_array().unwrap().is_empty();
        assert!(has_evidence, "{id} has no evidence: {f}");
    }
    let rg102: Vec<&serde_json::Value> = findings.iter().filter(|f| f["rule"] == "RG102").collect();
    let text = serde_json::to_string(&rg102).unwrap();
    assert!(
        text.contains("pods/exec") && text.contains("pods/attach"),
        "{text}"
    );
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn corrected_chart_output_keeps_the_manager_quiet() {
    let r = run(&[
        "audit",
        "-f",
        "fixtures/chart-0.86.0/rendered-corrected-chart-rbac.yaml",
        "-o",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["topology"]["jobs"][0]["namespace"], "teams");
    let findings = v["findings"].as_array().unwrap();
    for f in findings {
        let id = f["rule"].as_str().unwrap();
        let severe = f["severity"] == "high" || f["severity"] == "critical";
        assert!(
            !(["RG101", "RG102", "RG103"].contains(&id) && severe),
            "manager finding on the corrected chart output: {f}"
        );
    }
    assert!(
        findings.iter().any(|f| f["rule"] == "RG112"),
        "{}",
        r.stdout
    );
}

#[test]
fn select_and_ignore() {
    let r = run(&[
        "audit",
        "-f",
        "examples/seed/",
        "--select",
        "RG107",
        "-o",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] == "RG107")
    );
    assert!(!v["findings"].as_array().unwrap().is_empty());
    let r = run(&[
        "audit",
        "-f",
        "examples/seed/",
        "--ignore",
        "RG1",
        "--ignore",
        "RB",
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("no findings"), "{}", r.stdout);
    let r = run(&["audit", "-f", "examples/seed/", "--select", "RG999"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown rule `RG999`"), "{}", r.stderr);
}

#[test]
fn fail_on_sets_the_exit_code() {
    // Only RG109 (low) is selected: failing on high passes, failing on low fails.
    let base = [
        "audit",
        "-f",
        "examples/seed/02-final-values.yaml",
        "--select",
        "RG109",
    ];
    assert_eq!(run(&base).code, 0);
    assert_eq!(run(&[&base[..], &["--fail-on", "low"]].concat()).code, 1);
}

#[test]
fn audit_errors() {
    let r = run(&["audit"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("nothing to audit"), "{}", r.stderr);
    let r = run(&[
        "audit",
        "-f",
        "examples/seed/",
        "--runner-version",
        "eighteen",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("invalid runner version `eighteen`"),
        "{}",
        r.stderr
    );
    let r = run(&["audit", "-f", "examples/seed/", "--runner-version", "16.0"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no executor permission table"),
        "{}",
        r.stderr
    );
}

/// Secret data and tokens never reach a report.
#[test]
fn secret_values_never_appear() {
    for format in ["human", "json"] {
        let r = run(&[
            "audit",
            "-f",
            "fixtures/chart-0.86.0/rendered-seed-values.yaml",
            "-f",
            "examples/seed/",
            "-o",
            format,
        ]);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        for secret in ["X19SRVBMQUNFX01FX18=", "__REPLACE_ME__"] {
            assert!(
                !r.stdout.contains(secret) && !r.stderr.contains(secret),
                "{format}: {secret} leaked"
            );
        }
    }
}

/// `--values` reads a file as chart values even when its keys are not the usual ones.
#[test]
fn values_flag_forces_values() {
    // None of the keys by which a values file is recognised (gitlabUrl, runners, rbac, …):
    // only a misspelt one, which RG107 reports once the file is read as values.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("values.yaml");
    std::fs::write(
        &file,
        "serviceAccountName: gitlab-runner\nrunner:\n  tags: docker\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let audit = |flag: &str| {
        let r = run(&["audit", flag, file, "--select", "RG107", "-o", "json"]);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        v["findings"].as_array().unwrap().len()
    };
    assert!(
        audit("--values") > 0,
        "--values: the file is read as values"
    );
    assert_eq!(audit("-f"), 0, "-f: the file is not recognised as values");
}

#[test]
fn rules_list_and_explain() {
    let r = run(&["rules"]);
    assert_eq!(r.code, 0);
    for id in [
        "RG101", "RG102", "RG103", "RG104", "RG105", "RG106", "RG107", "RG108", "RG109", "RG110",
        "RG111", "RG112", "RG113", "RG114", "RG115",
    ] {
        assert!(r.stdout.contains(id), "{id}");
    }
    let r = run(&["rules", "explain", "RG102"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.starts_with("# RG102 executor-permission-missing"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("## How to fix"));
    let by_name = run(&["rules", "explain", "executor-permission-missing"]);
    assert_eq!(by_name.stdout, r.stdout);
    let r = run(&["rules", "explain", "RG000"]);
    assert_eq!(r.code, 2);
}

/// A `Snapshot` mark is text anyone can put in a file: it must not switch the embedded
/// default roles off, or a binding to `cluster-admin` refers to no role and seems to grant
/// nothing (it gave one low RB008 finding and exit 0).
#[test]
fn a_snapshot_mark_in_a_crafted_file_hides_no_binding() {
    const BINDING: &str = "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ci-admin}
subjects: [{kind: Group, name: 'system:serviceaccounts', apiGroup: rbac.authorization.k8s.io}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
";
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("snapshot.yaml");
    std::fs::write(
        &file,
        format!(
            "apiVersion: runnerguard.dev/v1\nkind: Snapshot\nmetadata: {{name: 'cluster:prod'}}\n---\n{BINDING}"
        ),
    )
    .unwrap();
    let r = run(&["audit", "-o", "json", "-f", file.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(rules.contains(&"RB001"), "{rules:?}");
    assert!(!rules.contains(&"RB008"), "{rules:?}");
    assert!(
        r.stdout.contains("a snapshot of cluster:prod"),
        "{}",
        r.stdout
    );
    // --no-default-roles still leaves them out, as asked.
    let r = run(&[
        "audit",
        "-o",
        "json",
        "--no-default-roles",
        "-f",
        file.to_str().unwrap(),
    ]);
    assert!(r.stdout.contains("RB008"), "{}", r.stdout);
}

/// With a setup per release, a values file's RG113 finding names its own release's manager
/// and is reported once: under every setup it named that setup's manager (three findings on
/// fixtures/real-world, two of them naming ServiceAccounts of other releases), and the
/// rendered Role it covers was reported again on its own.
#[test]
fn a_values_finding_names_its_own_releases_manager_once() {
    let r = run(&["audit", "-o", "json", "-f", "fixtures/real-world"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let rg113: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "RG113")
        .collect();
    let of_values: Vec<&str> = rg113
        .iter()
        .filter(|f| {
            f["locations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["file"] == "fixtures/real-world/wildcard-values.yaml")
        })
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert_eq!(of_values.len(), 1, "{of_values:#?}");
    assert!(
        of_values[0].contains("manager ServiceAccount `gitlab-runner`, in `ci`"),
        "{}",
        of_values[0]
    );
    // The Role rendered from those values is that finding's evidence, not a finding of its
    // own; the other release's rendered Role is one.
    let rendered: Vec<&str> = rg113
        .iter()
        .filter_map(|f| f["message"].as_str())
        .filter(|m| m.starts_with("the gitlab-runner chart"))
        .collect();
    assert_eq!(rendered.len(), 1, "{rendered:#?}");
    assert!(rendered[0].contains("Role ci-runners/"), "{}", rendered[0]);
}

/// Several releases, each judged as itself: a values file against its own release's chart
/// (RG107 judged flux-helmrelease.yaml, a 0.86.0 release, against 0.84.1 too), and RB005 over the
/// ServiceAccounts every release's jobs use (it said `ci-job` and `default` under one
/// release, `default` under another, as two findings).
#[test]
fn each_release_is_judged_by_its_own_chart_and_all_releases_jobs() {
    let r = run(&["audit", "-o", "json", "-f", "fixtures/real-world"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let messages = |rule: &str, needle: &str| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == rule)
            .filter_map(|f| f["message"].as_str())
            .filter(|m| m.contains(needle))
            .map(str::to_owned)
            .collect()
    };
    let rg107 = messages("RG107", "`runners.kubernetes` is not read");
    assert_eq!(
        rg107,
        ["`runners.kubernetes` is not read by the gitlab-runner chart 0.86.0: it does nothing"],
    );
    let rb005 = messages("RB005", "in namespace `ci-jobs`");
    assert_eq!(rb005.len(), 1, "{rb005:#?}");
    assert!(
        rb005[0].contains("(`ci-job` and `default`)"),
        "{}",
        rb005[0]
    );
}

/// Two releases of two charts rendered into one directory: each is a topology, and the
/// summary names both charts, as it names both runners.
#[test]
fn releases_of_two_charts_are_two_topologies_named_in_the_summary() {
    let r = run(&[
        "audit",
        "-o",
        "json",
        "-f",
        "crates/runnerguard-audit/tests/fixtures/RG113/rendered",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["chartVersion"], "0.83.3, 0.86.0");
    assert_eq!(v["runnerVersion"], "18.6, 18.9");
    let managers: Vec<&str> = v["topologies"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["managerServiceAccount"].as_str())
        .collect();
    assert_eq!(managers, ["ci-gitlab-runner", "gitlab-runner"]);
}

/// Two groups bound by one RoleBinding are two subjects, each a finding of its own: the old
/// merge kept one of them (the longer message) because both rest on the same grant.
#[test]
fn two_subjects_of_one_binding_are_two_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("rbac.yaml");
    std::fs::write(
        &file,
        "apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: editors, namespace: apps}
subjects:
- {kind: Group, name: team-a, apiGroup: rbac.authorization.k8s.io}
- {kind: Group, name: team-bb, apiGroup: rbac.authorization.k8s.io}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
",
    )
    .unwrap();
    let r = run(&["audit", "-o", "json", "-f", file.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    for rule in ["RB005", "RB006"] {
        let mut subjects: Vec<&str> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == rule)
            .filter_map(|f| f["message"].as_str())
            .filter_map(|m| ["team-a ", "team-bb "].into_iter().find(|s| m.contains(s)))
            .collect();
        subjects.sort_unstable();
        assert_eq!(subjects, ["team-a ", "team-bb "], "{rule}: {}", r.stdout);
    }
}
