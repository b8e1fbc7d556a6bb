//! Text for people: the topology used, then findings grouped by severity, each with its
//! evidence (`file:line` of every object and setting, the RBAC path) and a one-line fix.

use std::io::{self, Write};

use runnerguard_audit::Severity;

use crate::Report;

/// ANSI colours, or none.
struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn severity(&self, s: Severity) -> String {
        let code = match s {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.wrap(code, &s.as_str().to_uppercase())
    }

    fn dim(&self, text: &str) -> String {
        self.wrap("2", text)
    }

    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }
}

/// Writes the report for a terminal (`color`) or a log.
pub fn human(w: &mut dyn Write, report: &Report<'_>, color: bool) -> io::Result<()> {
    let p = Paint { on: color };
    if !report.inputs.is_empty() {
        writeln!(w, "{}", p.bold("Inputs"))?;
        for note in report.inputs {
            writeln!(w, "  {}", p.dim(note))?;
        }
    }
    if !report.complete() {
        writeln!(w, "{}", p.wrap("1;31", "Not read: the audit is incomplete"))?;
        for problem in report.unreadable {
            writeln!(w, "  {problem}")?;
        }
    }
    for t in report.topologies {
        writeln!(w, "{}", p.bold("Topology"))?;
        writeln!(
            w,
            "  manager: ServiceAccount {}/{}",
            t.manager_namespace, t.manager_service_account
        )?;
        for j in &t.jobs {
            let automount = match j.automount_token {
                Some(true) => ", token mounted",
                Some(false) => ", token not mounted",
                None => "",
            };
            writeln!(
                w,
                "  jobs:    namespace {}, ServiceAccount {}{automount}",
                j.namespace, j.service_account
            )?;
        }
        for e in &t.evidence {
            writeln!(w, "  {}", p.dim(&format!("{}: {}", e.fact, e.source)))?;
        }
    }
    writeln!(
        w,
        "  {}",
        p.dim(&format!(
            "checked against GitLab Runner {} and chart {}",
            report.runner_version, report.chart_version
        ))
    )?;

    for severity in Severity::ALL.iter().rev() {
        let group: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.severity == *severity)
            .collect();
        if group.is_empty() {
            continue;
        }
        writeln!(w)?;
        writeln!(w, "{} ({})", p.severity(*severity), group.len())?;
        for f in group {
            writeln!(w, "  {} {}  {}", p.bold(f.rule), p.dim(f.name), f.message)?;
            for l in &f.locations {
                writeln!(
                    w,
                    "      at {}:{}:{}  {}",
                    l.origin.file, l.origin.line, l.origin.column, l.what
                )?;
            }
            for o in &f.objects {
                let name = if o.namespace.is_empty() {
                    o.name.clone()
                } else {
                    format!("{}/{}", o.namespace, o.name)
                };
                writeln!(
                    w,
                    "      {} {}  {}",
                    o.kind,
                    name,
                    p.dim(&o.origin.to_string())
                )?;
            }
            for step in &f.path {
                writeln!(w, "      {} {step}", p.dim("·"))?;
            }
            writeln!(w, "      fix: {}", f.remediation)?;
        }
    }

    writeln!(w)?;
    let counts: Vec<String> = report
        .counts()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    if !report.complete() {
        let n = report.unreadable.len();
        writeln!(
            w,
            "{} finding{}; fails: {n} input problem{} kept part of the inputs from being read (see \"Not read\")",
            report.findings.len(),
            if report.findings.len() == 1 { "" } else { "s" },
            if n == 1 { "" } else { "s" },
        )?;
    } else if report.findings.is_empty() {
        writeln!(w, "no findings")?;
    } else {
        let verdict = if report.failed() {
            format!("fails: at least one finding at or above {}", report.fail_on)
        } else {
            format!("passes: nothing at or above {}", report.fail_on)
        };
        writeln!(
            w,
            "{} finding{} ({}); {verdict}",
            report.findings.len(),
            if report.findings.len() == 1 { "" } else { "s" },
            counts.join(", ")
        )?;
    }
    Ok(())
}
