//! Text for people: the topology used, then findings grouped by severity, each with its
//! evidence (`file:line` of every object and setting, the RBAC path) and a one-line fix.
//!
//! Every string that comes from the inputs (names, file names, messages quoting them) is
//! written through [`Escaped`], so that a name cannot move the cursor, erase the line that
//! reports it or break it in two (issue #9, T1).

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use runnerguard_audit::{Finding, Severity};
use runnerguard_model::terminal;

use crate::Report;

/// `text` made safe for a terminal: see [`Escaped`]. Borrowed when nothing needed escaping,
/// which is the case for ordinary text.
pub fn escape(text: &str) -> Cow<'_, str> {
    if terminal::needs_escaping(text) {
        Cow::Owned(Escaped(text).to_string())
    } else {
        Cow::Borrowed(text)
    }
}

/// Displays a value with the characters a terminal would act on escaped, so that text from
/// the inputs cannot rewrite what is shown around it.
///
/// Convention: `\n`, `\r` and `\t` for newline, carriage return and tab, `\u{HEX}` (lowercase
/// hex, as Rust writes it) for every other control character (C0, DEL, C1), bidirectional
/// formatting character and line or paragraph separator: ESC is `\u{1b}`, U+202E is
/// `\u{202e}`. Everything else, non-ASCII letters included, is written as it is. A backslash
/// is not doubled, so that ordinary text stays unchanged and escaping twice changes nothing;
/// the escaped form is for reading, and JSON output carries the exact text.
///
/// Width and alignment flags of the formatter are not applied.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<T>(pub T);

impl<T: fmt::Display> fmt::Display for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::write(&mut Escaper(f), format_args!("{}", self.0))
    }
}

/// Writes through to a formatter, escaping as [`Escaped`] says.
struct Escaper<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl fmt::Write for Escaper<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        terminal::write_escaped(self.0, s)
    }
}

/// ANSI colours, or none.
pub(crate) struct Paint {
    pub(crate) on: bool,
}

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const RED: Style = AnsiColor::Red.on_default();
pub(crate) const BOLD_RED: Style = RED.bold();

impl Paint {
    pub(crate) fn wrap(&self, style: Style, text: &str) -> String {
        if self.on {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }

    pub(crate) fn severity(&self, s: Severity) -> String {
        let style = match s {
            Severity::Critical => BOLD_RED,
            Severity::High => RED,
            Severity::Medium => AnsiColor::Yellow.on_default(),
            Severity::Low => AnsiColor::Cyan.on_default(),
            Severity::Info => DIM,
        };
        self.wrap(style, &s.as_str().to_uppercase())
    }

    pub(crate) fn dim(&self, text: &str) -> String {
        self.wrap(DIM, text)
    }

    pub(crate) fn bold(&self, text: &str) -> String {
        self.wrap(BOLD, text)
    }
}

/// Writes the report for a terminal (`color`) or a log.
pub fn human(w: &mut dyn Write, report: &Report<'_>, color: bool) -> io::Result<()> {
    let p = Paint { on: color };
    if !report.inputs.is_empty() {
        writeln!(w, "{}", p.bold("Inputs"))?;
        for note in report.inputs {
            writeln!(w, "  {}", p.dim(&escape(note)))?;
        }
    }
    if !report.complete() {
        writeln!(
            w,
            "{}",
            p.wrap(BOLD_RED, "Not read: the audit is incomplete")
        )?;
        for problem in report.unreadable {
            writeln!(w, "  {}", Escaped(problem))?;
        }
    }
    for t in report.topologies {
        writeln!(w, "{}", p.bold("Topology"))?;
        writeln!(
            w,
            "  manager: ServiceAccount {}/{}",
            Escaped(&t.manager_namespace),
            Escaped(&t.manager_service_account)
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
                Escaped(&j.namespace),
                Escaped(&j.service_account)
            )?;
        }
        for e in &t.evidence {
            let line = format!("{}: {}", Escaped(&e.fact), Escaped(&e.source));
            writeln!(w, "  {}", p.dim(&line))?;
        }
    }
    writeln!(
        w,
        "  {}",
        p.dim(&format!(
            "checked against GitLab Runner {} and chart {}",
            Escaped(&report.runner_version),
            Escaped(&report.chart_version)
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
            finding(w, &p, f, "")?;
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

/// One finding: its rule and message after `mark` (`+ `, `- ` in a diff), where it is, its
/// evidence and its fix.
fn finding(w: &mut dyn Write, p: &Paint, f: &Finding, mark: &str) -> io::Result<()> {
    writeln!(
        w,
        "  {mark}{} {}  {}",
        p.bold(f.rule),
        p.dim(f.name),
        Escaped(&f.message)
    )?;
    for l in &f.locations {
        writeln!(
            w,
            "      at {}:{}:{}  {}",
            Escaped(&l.origin.file),
            l.origin.line,
            l.origin.column,
            Escaped(&l.what)
        )?;
    }
    for o in &f.objects {
        let name = if o.namespace.is_empty() {
            Escaped(&o.name).to_string()
        } else {
            format!("{}/{}", Escaped(&o.namespace), Escaped(&o.name))
        };
        writeln!(
            w,
            "      {} {}  {}",
            Escaped(&o.kind),
            name,
            p.dim(&Escaped(&o.origin).to_string())
        )?;
    }
    for line in crate::evidence::lines(&f.evidence) {
        writeln!(
            w,
            "      {} {:indent$}{}",
            p.dim("·"),
            "",
            Escaped(&line.text),
            indent = 2 * line.depth
        )?;
    }
    writeln!(w, "      fix: {}", Escaped(&f.remediation))?;
    Ok(())
}
