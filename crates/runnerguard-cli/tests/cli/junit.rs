//! `audit -o junit`: one test case per rule that ran and one for the inputs, read back with
//! quick-junit's deserializer; a case fails when its rule finds something at or above
//! `--fail-on`, with the findings as the failure's text.

use quick_junit::{Report, TestCase, TestCaseStatus};

use super::run;

fn cases(stdout: &str) -> Vec<TestCase> {
    let report = Report::deserialize_from_str(stdout).unwrap();
    assert_eq!(report.test_suites.len(), 1);
    report.test_suites[0].test_cases.clone()
}

fn failed(case: &TestCase) -> bool {
    matches!(case.status, TestCaseStatus::NonSuccess { .. })
}

#[test]
fn the_seed_audit_as_junit() {
    let r = run(&["audit", "-o", "junit", "-f", "examples/seed/"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let cases = cases(&r.stdout);
    // Every rule and the inputs.
    assert_eq!(cases.len(), 1 + 27, "{}", r.stdout);
    let case = |name: &str| {
        cases
            .iter()
            .find(|c| c.name.as_str().starts_with(name))
            .unwrap_or_else(|| panic!("no case {name}"))
    };
    assert!(!failed(case("inputs read")));
    // RB004 finds a high: failed, its text is the finding with its evidence.
    let rb004 = case("RB004 ");
    assert!(failed(rb004));
    let TestCaseStatus::NonSuccess {
        message,
        description,
        ..
    } = &rb004.status
    else {
        unreachable!()
    };
    assert_eq!(
        message.as_ref().map(quick_junit::XmlString::as_str),
        Some("1 finding (high at most; the audit fails at high)")
    );
    let text = description.as_ref().unwrap().as_str();
    assert!(text.contains("[HIGH] ServiceAccount gitlab-runner/gitlab-runner may get"));
    assert!(text.contains("fix: "));
    // RB005 finds only infos: the case holds and says what it found.
    let rb005 = case("RB005 ");
    assert!(!failed(rb005));
    assert!(
        rb005
            .system_out
            .as_ref()
            .unwrap()
            .as_str()
            .contains("[INFO]")
    );
    // RB001 finds nothing.
    assert!(!failed(case("RB001 ")));
    assert_eq!(
        case("RG101 ").classname.as_ref().unwrap().as_str(),
        "runnerguard.runner"
    );
    // With --fail-on critical, a high does not fail its case.
    let r = run(&[
        "audit",
        "-o",
        "junit",
        "--fail-on",
        "critical",
        "-f",
        "examples/seed/",
    ]);
    let lenient = self::cases(&r.stdout);
    assert!(!failed(
        lenient
            .iter()
            .find(|c| c.name.as_str().starts_with("RB004 "))
            .unwrap()
    ));
    insta::assert_snapshot!(run(&["audit", "-o", "junit", "-f", "examples/seed/"]).stdout);
}

#[test]
fn only_the_rules_that_ran_are_cases_and_an_unreadable_input_fails_one() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(&bad, "kind: Role\nmetadata: [\n").unwrap();
    let r = run(&[
        "audit",
        "-o",
        "junit",
        "--select",
        "RB",
        "-f",
        "examples/seed/",
        "-f",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let cases = cases(&r.stdout);
    assert!(
        cases
            .iter()
            .skip(1)
            .all(|c| c.name.as_str().starts_with("RB"))
    );
    assert_eq!(cases.len(), 1 + 11);
    assert!(failed(&cases[0]), "the inputs case fails: {}", r.stdout);
}

/// `-o FORMAT=FILE`, repeatable: several reports of one audit in one run, each file written
/// whole, the same bytes as the format on stdout; one stdout at most, each file once.
#[test]
fn several_reports_in_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let file = |name: &str| tmp.path().join(name).to_str().unwrap().to_owned();
    let (cq, junit, json) = (file("cq.json"), file("r.xml"), file("a.json"));
    let r = run(&[
        "audit",
        "-f",
        "examples/seed/",
        "-o",
        "human",
        "-o",
        &format!("codequality={cq}"),
        "-o",
        &format!("junit={junit}"),
        "-o",
        &format!("json={json}"),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("findings ("),
        "human on stdout: {}",
        r.stdout
    );
    for (path, format) in [(&cq, "codequality"), (&junit, "junit"), (&json, "json")] {
        let alone = run(&["audit", "-f", "examples/seed/", "-o", format]);
        assert_eq!(
            std::fs::read_to_string(path).unwrap(),
            alone.stdout,
            "{format}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644, "{format}");
        }
    }
    // Refused before any work: two on stdout, one file twice, no file after `=`.
    let two = run(&["audit", "-f", "examples/seed/", "-o", "json", "-o", "human"]);
    assert_eq!(two.code, 2);
    assert!(
        two.stderr.contains("more than one -o writes to stdout"),
        "{}",
        two.stderr
    );
    let twice = run(&[
        "audit",
        "-f",
        "examples/seed/",
        "-o",
        &format!("json={json}"),
        "-o",
        &format!("junit={json}"),
    ]);
    assert_eq!(twice.code, 2);
    assert!(twice.stderr.contains("twice"), "{}", twice.stderr);
    let empty = run(&["audit", "-f", "examples/seed/", "-o", "junit="]);
    assert_eq!(empty.code, 2);
}

/// Three tenants, each a runner release: a rule that judges a topology has a case per
/// tenant, and only the tenant whose jobs reach the managers' namespace fails RG104.
#[test]
fn a_case_per_rule_and_topology() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("setup");
    let r = run(&[
        "generate",
        "--config",
        "examples/runnerguard-three-tenants.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::write(
        out.join("web/web-edits-runners.yaml"),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: web-edits-runners\n  namespace: ci-runners\nsubjects:\n  - kind: Group\n    apiGroup: rbac.authorization.k8s.io\n    name: system:serviceaccounts:web-ci\nroleRef:\n  kind: ClusterRole\n  apiGroup: rbac.authorization.k8s.io\n  name: edit\n",
    )
    .unwrap();
    let r = run(&["audit", "-o", "junit", "-f", out.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let cases = cases(&r.stdout);
    let case = |name: &str| {
        cases
            .iter()
            .find(|c| c.name.as_str() == name)
            .unwrap_or_else(|| {
                panic!(
                    "no case {name}: {:?}",
                    cases.iter().map(|c| c.name.as_str()).collect::<Vec<_>>()
                )
            })
    };
    assert!(failed(case(
        "RG104 job-reaches-manager-namespace [ci-runners/gitlab-runner-web]"
    )));
    for tenant in ["data", "ops"] {
        let name =
            format!("RG104 job-reaches-manager-namespace [ci-runners/gitlab-runner-{tenant}]");
        assert!(!failed(case(&name)), "{name}");
    }
    // Rules that read only the RBAC policy keep one case, whatever the topologies.
    assert_eq!(
        cases
            .iter()
            .filter(|c| c.name.as_str().starts_with("RB009 "))
            .count(),
        1
    );
    assert_eq!(
        cases
            .iter()
            .filter(|c| c.name.as_str().starts_with("RG101 "))
            .count(),
        3
    );
}
