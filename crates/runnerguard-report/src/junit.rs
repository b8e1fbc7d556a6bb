//! The JUnit XML report (`artifacts:reports:junit`): one test case per rule that ran, failed
//! when the rule finds something at or above `--fail-on`, with its findings and their
//! evidence as the failure's text (what GitLab shows for a failed case).
//!
//! With several runner topologies (releases, tenants), a rule that judges a topology has a
//! case per topology, named `RG101 jobs-in-manager-namespace [gitlab-runner/gitlab-runner]`
//! after the manager it judged; the rules that read only the RBAC policy or the chart's keys
//! keep one case.
//!
//! GitLab (../shared/knowledge/ci-report-formats.md) shows `testcase@classname` as the suite
//! and the failure's text; a case with `<failure>` failed; GitLab.com caps a report at 500,000
//! cases: here there are at most 50,000 (a case per rule beyond that). GitLab reads JUnit
//! files of less than 30 MB: a case lists at most [`SHOWN_PER_CASE`] findings in full, the
//! report at most [`SHOWN_BYTES`] of them, and says how many more there are (a 1,000-namespace
//! cluster has 6,000 RB005 findings, which took 24 MB).

use std::fmt::Write as _;
use std::io::{self, Write};

use quick_junit::{NonSuccessKind, Report as Junit, TestCase, TestCaseStatus, TestSuite};
use runnerguard_audit::{Finding, FoundUnder, RuleMeta, RuleScope, Severity, rule_scope};

use crate::{DiffReport, Report};

/// Writes `report` as JUnit XML: a case per rule in `rules` (those that ran) and, when the
/// audit checked several runner topologies, per rule and topology for the rules that judge a
/// topology (`found_under`: the topologies, indices into `report.topologies`, under which
/// each finding was found); one case that fails when some input could not be read.
///
/// A rule that reads only the RBAC policy, or only the chart's keys, has one case: its
/// findings do not depend on the topology. Above `MAX_CASES` cases, every rule has one.
pub fn junit(
    w: &mut dyn Write,
    report: &Report<'_>,
    rules: &[&RuleMeta],
    found_under: &FoundUnder,
) -> io::Result<()> {
    let mut suite = TestSuite::new("runnerguard audit");
    let mut budget = Budget::default();
    let mut inputs = TestCase::new("inputs read", status(report.unreadable, "inputs not read"));
    inputs.set_classname("runnerguard.inputs");
    suite.add_test_case(inputs);
    let topologies = report.topologies;
    let per_topology =
        |meta: &RuleMeta| topologies.len() > 1 && rule_scope(meta.id) == RuleScope::Setup;
    let cases = rules
        .iter()
        .map(|m| if per_topology(m) { topologies.len() } else { 1 })
        .sum::<usize>();
    if cases > MAX_CASES {
        rule_cases(
            &mut suite,
            report.findings,
            report.fail_on,
            rules,
            "the audit",
            &mut budget,
        );
        return write(w, suite);
    }
    for meta in rules {
        if !per_topology(meta) {
            rule_cases(
                &mut suite,
                report.findings,
                report.fail_on,
                &[meta],
                "the audit",
                &mut budget,
            );
            continue;
        }
        for (t, topology) in topologies.iter().enumerate() {
            let findings: Vec<&Finding> = report
                .findings
                .iter()
                .enumerate()
                .filter(|(i, f)| f.rule == meta.id && found_under.contains(*i, t))
                .map(|(_, f)| f)
                .collect();
            let mut case = rule_case(meta, &findings, report.fail_on, "the audit", &mut budget);
            case.name = format!(
                "{} {} [{}/{}]",
                meta.id, meta.name, topology.manager_namespace, topology.manager_service_account
            )
            .into();
            suite.add_test_case(case);
        }
    }
    write(w, suite)
}

/// The most test cases a report holds: GitLab.com takes 500,000 per report; past this many
/// (thousands of runner releases), a case per rule is what a person can read anyway.
const MAX_CASES: usize = 50_000;

/// Writes a diff as JUnit XML: a case per rule in `rules`, failed when the change adds a
/// finding of it at or above `--fail-on`; one that fails when a job identity gains a way
/// into its manager's namespace; one that fails when a side could not be read whole.
pub fn diff_junit(w: &mut dyn Write, d: &DiffReport<'_>, rules: &[&RuleMeta]) -> io::Result<()> {
    let mut suite = TestSuite::new("runnerguard diff");
    let unread: Vec<String> = [("old", d.old), ("new", d.new)]
        .iter()
        .flat_map(|(side, r)| r.unreadable.iter().map(move |u| format!("{side}: {u}")))
        .collect();
    let mut inputs = TestCase::new("inputs read", status(&unread, "inputs not read"));
    inputs.set_classname("runnerguard.inputs");
    suite.add_test_case(inputs);
    let jobs: Vec<String> = d
        .comparison
        .into_manager
        .iter()
        .map(|j| {
            let through: Vec<String> = j
                .rights
                .iter()
                .flat_map(|r| r.bindings.iter().map(crate::evidence::object))
                .collect();
            let became: Vec<String> = j.reach.iter().map(|r| r.identity.to_string()).collect();
            let mut line = format!(
                "{} gains a way into namespace `{}`",
                j.job, j.manager_namespace
            );
            if !through.is_empty() {
                let _ = write!(line, "; through {}", through.join(", "));
            }
            if !became.is_empty() {
                let _ = write!(line, "; can now become {}", became.join(", "));
            }
            line
        })
        .collect();
    let mut isolation = TestCase::new(
        "job identities stay out of the manager namespace",
        status(
            &jobs,
            "the change opens a way from a job identity into a manager namespace",
        ),
    );
    isolation.set_classname("runnerguard.isolation");
    suite.add_test_case(isolation);
    rule_cases(
        &mut suite,
        &d.comparison.new_findings,
        d.fail_on,
        rules,
        "the change",
        &mut Budget::default(),
    );
    write(w, suite)
}

fn write(w: &mut dyn Write, suite: TestSuite) -> io::Result<()> {
    let mut junit = Junit::new("runnerguard");
    junit.add_test_suite(suite);
    junit.serialize(&mut *w).map_err(io::Error::other)?;
    writeln!(w)
}

/// A case per rule in `rules`, failed when `findings` hold one of it at or above `fail_on`
/// (`what` fails: "the audit", "the change").
fn rule_cases(
    suite: &mut TestSuite,
    findings: &[Finding],
    fail_on: Severity,
    rules: &[&RuleMeta],
    what: &str,
    budget: &mut Budget,
) {
    for meta in rules {
        let findings: Vec<&Finding> = findings.iter().filter(|f| f.rule == meta.id).collect();
        suite.add_test_case(rule_case(meta, &findings, fail_on, what, budget));
    }
}

/// The most findings a case lists in full: the worst first (findings come sorted by
/// severity); a person reads no more in a merge request, and the JSON or human report
/// lists every one.
const SHOWN_PER_CASE: usize = 100;

/// The most bytes of findings text the cases of a report hold together, well under the
/// 30 MB GitLab reads of a JUnit file (the XML escaping and the cases' other text come on top).
const SHOWN_BYTES: usize = 16 << 20;

/// What is left of [`SHOWN_BYTES`] for the cases still to write.
struct Budget {
    bytes: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Self { bytes: SHOWN_BYTES }
    }
}

/// The case of rule `meta` over its `findings`: failed when one is at or above `fail_on`,
/// else passed, with what was found below it as its output.
fn rule_case(
    meta: &RuleMeta,
    findings: &[&Finding],
    fail_on: Severity,
    what: &str,
    budget: &mut Budget,
) -> TestCase {
    let failing = findings.iter().any(|f| f.severity >= fail_on);
    let status = if failing {
        let worst = findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(meta.severity);
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
        s.set_message(format!(
            "{} finding{} ({worst} at most; {what} fails at {fail_on})",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
        ))
        .set_type(worst.as_str())
        .set_description(findings_text(meta, findings, budget));
        s
    } else {
        TestCaseStatus::success()
    };
    let mut case = TestCase::new(format!("{} {}", meta.id, meta.name), status);
    case.set_classname(if meta.id.starts_with("RB") {
        "runnerguard.rbac"
    } else {
        "runnerguard.runner"
    });
    if !failing && !findings.is_empty() {
        // Below --fail-on: the case holds, and says what was found.
        case.set_system_out(findings_text(meta, findings, budget));
    }
    case
}

/// A failed case listing `lines`, or a passed one when there are none.
fn status(lines: &[String], message: &str) -> TestCaseStatus {
    if lines.is_empty() {
        return TestCaseStatus::success();
    }
    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
    s.set_message(message).set_description(lines.join("\n"));
    s
}

/// The findings as the human report words them: message, objects, evidence, fix; at most
/// [`SHOWN_PER_CASE`] of them and what is left of `budget`, then how many more there are.
fn findings_text(meta: &RuleMeta, findings: &[&Finding], budget: &mut Budget) -> String {
    let mut out = String::new();
    for (shown, f) in findings.iter().enumerate() {
        if shown == SHOWN_PER_CASE || out.len() >= budget.bytes {
            let more = findings.len() - shown;
            let _ = writeln!(
                out,
                "... and {more} more finding{} of {} not listed here (a JUnit report GitLab reads is small): `runnerguard audit -o json` or `-o human` lists every one",
                if more == 1 { "" } else { "s" },
                meta.id,
            );
            break;
        }
        let _ = writeln!(
            out,
            "[{}] {}",
            f.severity.as_str().to_uppercase(),
            f.message
        );
        for l in &f.locations {
            let _ = writeln!(out, "    at {}  {}", l.origin, l.what);
        }
        for o in &f.objects {
            let _ = writeln!(out, "    {}", crate::evidence::object(o));
        }
        for line in crate::evidence::lines(&f.evidence) {
            let _ = writeln!(
                out,
                "    · {:indent$}{}",
                "",
                line.text,
                indent = 2 * line.depth
            );
        }
        let _ = writeln!(out, "    fix: {}", f.remediation);
    }
    budget.bytes = budget.bytes.saturating_sub(out.len());
    out
}

#[cfg(test)]
mod tests {
    use runnerguard_audit::{Finding, RuleMeta, Severity};

    use super::{Budget, SHOWN_PER_CASE, findings_text};

    const META: RuleMeta = RuleMeta {
        id: "RB005",
        name: "pod-create-assumes-service-accounts",
        severity: Severity::Medium,
        summary: "an example",
        remediation: "do the right thing",
        docs: "",
    };

    fn findings(n: usize) -> Vec<Finding> {
        (0..n)
            .map(|i| Finding::new(&META, format!("finding {i}.")))
            .collect()
    }

    #[test]
    fn a_case_lists_the_first_findings_and_counts_the_rest() {
        let all = findings(SHOWN_PER_CASE + 50);
        let refs: Vec<&Finding> = all.iter().collect();
        let mut budget = Budget::default();
        let text = findings_text(&META, &refs, &mut budget);
        assert!(text.contains(&format!("finding {}.", SHOWN_PER_CASE - 1)));
        assert!(!text.contains(&format!("finding {SHOWN_PER_CASE}.")));
        assert!(
            text.ends_with(
                "... and 50 more findings of RB005 not listed here (a JUnit report GitLab reads is small): `runnerguard audit -o json` or `-o human` lists every one\n"
            ),
            "{text}"
        );
        assert_eq!(budget.bytes, super::SHOWN_BYTES - text.len());
        // Under the cap, every finding and no count.
        let few: Vec<&Finding> = all.iter().take(3).collect();
        let text = findings_text(&META, &few, &mut budget);
        assert!(
            text.contains("finding 2.") && !text.contains("more finding"),
            "{text}"
        );
    }

    #[test]
    fn the_report_stops_listing_when_its_budget_is_spent() {
        let all = findings(5);
        let refs: Vec<&Finding> = all.iter().collect();
        let mut budget = Budget { bytes: 10 };
        let text = findings_text(&META, &refs, &mut budget);
        assert!(
            text.contains("finding 0.") && !text.contains("finding 1."),
            "{text}"
        );
        assert!(text.contains("... and 4 more findings of RB005"), "{text}");
        assert_eq!(budget.bytes, 0);
        let text = findings_text(&META, &refs[..1], &mut budget);
        assert!(
            text.starts_with("... and 1 more finding of RB005 "),
            "{text}"
        );
    }
}
