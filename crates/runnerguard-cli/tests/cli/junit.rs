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
