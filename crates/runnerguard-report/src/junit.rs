//! The JUnit XML report (`artifacts:reports:junit`): one test case per rule that ran, failed
//! when the rule finds something at or above `--fail-on`, with its findings and their
//! evidence as the failure's text (what GitLab shows for a failed case).
//!
//! GitLab (../shared/knowledge/ci-report-formats.md) shows `testcase@classname` as the suite
//! and the failure's text; a case with `<failure>` failed; GitLab.com caps a report at 500,000
//! cases: here there is one per rule (27) and one for the inputs.

use std::fmt::Write as _;
use std::io::{self, Write};

use quick_junit::{NonSuccessKind, Report as Junit, TestCase, TestCaseStatus, TestSuite};
use runnerguard_audit::{Finding, RuleMeta};

use crate::Report;

/// Writes `report` as JUnit XML: a case per rule in `rules` (those that ran), and one that
/// fails when some input could not be read.
pub fn junit(w: &mut dyn Write, report: &Report<'_>, rules: &[&RuleMeta]) -> io::Result<()> {
    let mut suite = TestSuite::new("runnerguard audit");
    let mut inputs = TestCase::new("inputs read", status(report.unreadable, "inputs not read"));
    inputs.set_classname("runnerguard.inputs");
    suite.add_test_case(inputs);
    for meta in rules {
        let findings: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.rule == meta.id)
            .collect();
        let failing = findings.iter().any(|f| f.severity >= report.fail_on);
        let status = if failing {
            let worst = findings
                .iter()
                .map(|f| f.severity)
                .max()
                .unwrap_or(meta.severity);
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(format!(
                "{} finding{} ({worst} at most; the audit fails at {})",
                findings.len(),
                if findings.len() == 1 { "" } else { "s" },
                report.fail_on
            ))
            .set_type(worst.as_str())
            .set_description(findings_text(&findings));
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
            case.set_system_out(findings_text(&findings));
        }
        suite.add_test_case(case);
    }
    let mut junit = Junit::new("runnerguard");
    junit.add_test_suite(suite);
    junit.serialize(&mut *w).map_err(io::Error::other)?;
    writeln!(w)
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

/// The findings as the human report words them: message, objects, evidence, fix.
fn findings_text(findings: &[&Finding]) -> String {
    let mut out = String::new();
    for f in findings {
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
    out
}
