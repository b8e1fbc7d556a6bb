//! The HTML report (`audit -o html`): one self-contained page for people, opened from a CI
//! artifact. A summary (the verdict, counts, the setup checked, the inputs), the findings with
//! their evidence and fix, the access matrix of the runner's identities ([`matrix`]) and the
//! escalation graph as an inline SVG laid out by layout-rs ([`graph`]) (issue #11, part 2).
//!
//! Self-contained and inert: inline CSS, no script, no font, image or link to fetch, and a
//! Content-Security-Policy (`default-src 'none'`) that would block any that slipped in. Every
//! string from the inputs goes through [`Html`]: control and bidirectional characters shown as
//! the terminal formats show them ([`crate::Escaped`]), then `& < > " '` as character
//! references, so a name cannot open a tag, close an attribute or reorder the text around it.
//!
//! The evidence is worded by [`crate::evidence`], as in every other format. The page is
//! deterministic: everything in it is sorted, and it carries no time.
//!
//! `diff -o html` ([`diff_html`], in [`diff`]) is built from the same parts: the page's head,
//! style and footer, the finding rows, the setup's tables and the graph (with what a change
//! makes reachable marked).

mod diff;
mod graph;
mod matrix;
mod rights;
mod svg;
#[cfg(test)]
mod tests;

use std::fmt::{self, Write as _};
use std::io::{self, Write};

use runnerguard_audit::{Finding, Topology};
use runnerguard_engine::Policy;
use runnerguard_model::terminal;

use crate::{Report, evidence, plural};

pub use self::diff::diff_html;

/// At most this many runner topologies are described in the setup section.
const MAX_TOPOLOGIES: usize = 20;
/// At most this many findings are shown; the rest are counted (JSON output holds them all).
const MAX_FINDINGS: usize = 1000;

/// Writes `report` as one self-contained HTML page. `policy` is what was audited: the access
/// matrix and the escalation graph ask it about the topologies' identities.
pub fn html(w: &mut dyn Write, report: &Report<'_>, policy: &Policy) -> io::Result<()> {
    let mut page = String::new();
    write_page(&mut page, report, policy).map_err(|_| io::Error::other("formatting failed"))?;
    w.write_all(page.as_bytes())
}

fn write_page(out: &mut String, report: &Report<'_>, policy: &Policy) -> fmt::Result {
    let subjects = matrix::Subjects::of(report.topologies);
    let verdict = Verdict::of(report);
    let title = format!(
        "runnerguard audit: {} ({})",
        verdict.word,
        counts_text(report)
    );
    head(out, &title, "")?;
    summary(out, report, &verdict)?;
    setup(out, report)?;
    findings(out, report)?;
    matrix::write(out, policy, &subjects)?;
    graph::write(out, policy, &subjects, None)?;
    foot(out, "findings");
    Ok(())
}

/// The page up to `<body>`: its policy, `title` (already escaped) and style, [`CSS`] then
/// `more_css`.
fn head(out: &mut String, title: &str, more_css: &str) -> fmt::Result {
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
    );
    writeln!(out, "<title>{title}</title>")?;
    writeln!(out, "<style>{CSS}{more_css}</style>\n</head>\n<body>")
}

/// The footer, naming what the JSON report holds as data (`findings`), and the page's end.
fn foot(out: &mut String, what: &str) {
    out.push_str("<footer>Written by runnerguard. Self-contained: this page loads nothing; the JSON report (<code>-o json</code>) holds the same ");
    out.push_str(what);
    out.push_str(" as data.</footer>\n</body>\n</html>\n");
}

/// Input text for HTML: see the module documentation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Html<T>(pub(crate) T);

impl<T: fmt::Display> fmt::Display for Html<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.to_string();
        terminal::write_escaped(&mut HtmlEscaper(f), &text)
    }
}

/// Writes through, with the five characters HTML gives meaning as character references.
struct HtmlEscaper<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl fmt::Write for HtmlEscaper<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut start = 0;
        for (i, c) in s.char_indices() {
            let entity = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => continue,
            };
            self.0.write_str(&s[start..i])?;
            self.0.write_str(entity)?;
            start = i + 1;
        }
        self.0.write_str(&s[start..])
    }
}

/// The page's verdict: its word, its sentence and its style.
struct Verdict {
    word: &'static str,
    sentence: String,
    class: &'static str,
}

impl Verdict {
    fn of(report: &Report<'_>) -> Self {
        if !report.complete() {
            let n = report.unreadable.len();
            return Self {
                word: "incomplete",
                sentence: format!(
                    "Fails: {n} input problem{} kept part of the inputs from being read (see “Not read”).",
                    plural(n)
                ),
                class: "fail",
            };
        }
        if report.failed() {
            Self {
                word: "fails",
                sentence: format!(
                    "Fails: at least one finding at or above {}.",
                    report.fail_on
                ),
                class: "fail",
            }
        } else {
            Self {
                word: "passes",
                sentence: format!("Passes: nothing at or above {}.", report.fail_on),
                class: "pass",
            }
        }
    }
}

/// `18 findings: 1 critical, 7 high` or `no findings`.
fn counts_text(report: &Report<'_>) -> String {
    let n = report.findings.len();
    if n == 0 {
        return "no findings".to_owned();
    }
    let by: Vec<String> = report
        .counts()
        .into_iter()
        .filter(|(_, c)| *c > 0)
        .map(|(s, c)| format!("{c} {s}"))
        .collect();
    format!("{n} finding{}: {}", plural(n), by.join(", "))
}

fn summary(out: &mut String, report: &Report<'_>, verdict: &Verdict) -> fmt::Result {
    writeln!(
        out,
        "<header class=\"top {}\">\n<h1>runnerguard audit <span class=\"verdict\">{}</span></h1>\n<p class=\"sentence\">{}</p>",
        verdict.class,
        verdict.word,
        Html(&verdict.sentence)
    )?;
    out.push_str("<ul class=\"counts\">");
    for (severity, n) in report.counts() {
        let zero = if n == 0 { " zero" } else { "" };
        write!(
            out,
            "<li class=\"sev {}{zero}\"><b>{n}</b> {}</li>",
            severity.as_str(),
            severity.as_str()
        )?;
    }
    out.push_str("</ul>\n");
    writeln!(
        out,
        "<p class=\"versions\">Checked against GitLab Runner {} and chart {}. \
         The audit fails at <b>{}</b> (<code>--fail-on</code>).</p>",
        Html(&report.runner_version),
        Html(&report.chart_version),
        report.fail_on
    )?;
    out.push_str(
        "<nav><a href=\"#setup\">Setup</a> <a href=\"#findings\">Findings</a> \
         <a href=\"#matrix\">Access matrix</a> <a href=\"#graph\">Escalation graph</a></nav>\n</header>\n",
    );

    if !report.complete() {
        unread(
            out,
            "unread",
            "Not read: the audit is incomplete",
            report.unreadable,
        )?;
    }
    Ok(())
}

/// The inputs not read, as a card with `id` and `heading`.
fn unread(out: &mut String, id: &str, heading: &str, problems: &[String]) -> fmt::Result {
    writeln!(
        out,
        "<section class=\"card problems\" id=\"{id}\">\n<h2>{heading}</h2>"
    )?;
    out.push_str("<ul>");
    for problem in problems {
        write!(out, "<li><code>{}</code></li>", Html(problem))?;
    }
    out.push_str("</ul>\n</section>\n");
    Ok(())
}

fn setup(out: &mut String, report: &Report<'_>) -> fmt::Result {
    out.push_str("<section class=\"card\" id=\"setup\">\n<h2>Setup checked</h2>\n");
    if !report.runner_found() {
        out.push_str(
            "<p class=\"note\">The inputs hold no GitLab Runner: only the RBAC rules ran, and no \
             runner topology was checked.</p>\n",
        );
    }
    let n = report.topologies.len();
    for (i, t) in report.topologies.iter().take(MAX_TOPOLOGIES).enumerate() {
        topology(out, t, i, n)?;
    }
    if n > MAX_TOPOLOGIES {
        writeln!(
            out,
            "<p class=\"note\">{} more runners are not shown here; <code>-o json</code> lists them all.</p>",
            n - MAX_TOPOLOGIES
        )?;
    }
    if !report.inputs.is_empty() {
        out.push_str("<h3>Inputs</h3>\n<ul class=\"inputs\">");
        for note in report.inputs {
            write!(out, "<li>{}</li>", Html(note))?;
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
    Ok(())
}

fn topology(out: &mut String, t: &Topology, i: usize, n: usize) -> fmt::Result {
    if n > 1 {
        writeln!(out, "<h3>Runner {} of {n}</h3>", i + 1)?;
    }
    out.push_str("<table class=\"kv\">\n");
    writeln!(
        out,
        "<tr><th>Manager</th><td>ServiceAccount <code>{}/{}</code></td></tr>",
        Html(&t.manager_namespace),
        Html(&t.manager_service_account)
    )?;
    for j in &t.jobs {
        let automount = match j.automount_token {
            Some(true) => ", token mounted",
            Some(false) => ", token not mounted",
            None => "",
        };
        writeln!(
            out,
            "<tr><th>Jobs</th><td>namespace <code>{}</code>, ServiceAccount <code>{}</code>{automount}</td></tr>",
            Html(&j.namespace),
            Html(&j.service_account)
        )?;
    }
    out.push_str("</table>\n");
    if !t.evidence.is_empty() {
        out.push_str("<ul class=\"facts\">");
        for e in &t.evidence {
            write!(
                out,
                "<li>{}: <span class=\"origin\">{}</span></li>",
                Html(&e.fact),
                Html(&e.source)
            )?;
        }
        out.push_str("</ul>\n");
    }
    Ok(())
}

fn findings(out: &mut String, report: &Report<'_>) -> fmt::Result {
    writeln!(
        out,
        "<section class=\"card\" id=\"findings\">\n<h2>Findings <span class=\"n\">{}</span></h2>",
        report.findings.len()
    )?;
    if report.findings.is_empty() {
        out.push_str("<p class=\"note\">No findings.</p>\n</section>\n");
        return Ok(());
    }
    out.push_str(
        "<table class=\"findings\">\n<thead><tr><th>Severity</th><th>Rule</th><th>Finding and fix</th></tr></thead>\n<tbody>\n",
    );
    for f in report.findings.iter().take(MAX_FINDINGS) {
        finding(out, f, f.severity >= report.fail_on, Change::None)?;
    }
    out.push_str("</tbody>\n</table>\n");
    if report.findings.len() > MAX_FINDINGS {
        writeln!(
            out,
            "<p class=\"note\">{} more findings are not shown here (this page shows the {MAX_FINDINGS} most severe); <code>-o json</code> lists them all.</p>",
            report.findings.len() - MAX_FINDINGS
        )?;
    }
    out.push_str("</section>\n");
    Ok(())
}

/// What a finding row is to a change (`diff -o html`); the audit's rows are [`Change::None`].
#[derive(Clone, Copy)]
enum Change<'a> {
    /// A finding of an audit.
    None,
    /// A finding the change adds.
    Added,
    /// The new side of a finding the change alters, with its old side.
    Changed(&'a Finding),
    /// A finding the change resolves (of the old side): no fix to show.
    Resolved,
}

/// A finding as a table row; `failing` marks one that fails the run (or the change).
fn finding(out: &mut String, f: &Finding, failing: bool, change: Change<'_>) -> fmt::Result {
    let failing = if failing { " failing" } else { "" };
    let (class, was) = match change {
        Change::None => ("", None),
        Change::Added => (" added", None),
        Change::Changed(old) => (" changed", Some(old)),
        Change::Resolved => (" resolved", None),
    };
    write!(out, "<tr class=\"finding{failing}{class}\"><td>")?;
    if let Some(old) = was.filter(|old| old.severity != f.severity) {
        write!(
            out,
            "<span class=\"sev {s}\">{s}</span> <span class=\"to\">→</span> ",
            s = old.severity.as_str()
        )?;
    }
    write!(
        out,
        "<span class=\"sev {s}\">{s}</span></td>\
         <td><code class=\"rule\">{}</code><br><span class=\"rname\">{}</span></td>\n<td>",
        f.rule,
        f.name,
        s = f.severity.as_str(),
    )?;
    writeln!(out, "<p class=\"msg\">{}</p>", Html(&f.message))?;
    if let Some(old) = was.filter(|old| old.message != f.message) {
        writeln!(
            out,
            "<p class=\"was\"><b>Before:</b> {}</p>",
            Html(&old.message)
        )?;
    }
    // Where and why fold away, so that the findings can be scanned: message and fix show.
    let places = f.locations.len() + f.objects.len();
    let lines = evidence::lines(&f.evidence);
    if places + lines.len() > 0 {
        let mut parts = Vec::new();
        if places > 0 {
            parts.push(format!("where ({places})"));
        }
        if !lines.is_empty() {
            parts.push(format!(
                "evidence ({} line{})",
                lines.len(),
                plural(lines.len())
            ));
        }
        let summary = parts.join(" and ");
        let mut chars = summary.chars();
        let summary: String = chars
            .next()
            .map(|c| c.to_ascii_uppercase())
            .into_iter()
            .chain(chars)
            .collect();
        writeln!(
            out,
            "<details class=\"evidence\"><summary>{summary}</summary>"
        )?;
    }
    if places > 0 {
        out.push_str("<ul class=\"where\">");
        for l in &f.locations {
            write!(
                out,
                "<li>at <code>{}:{}:{}</code> {}</li>",
                Html(&l.origin.file),
                l.origin.line,
                l.origin.column,
                Html(&l.what)
            )?;
        }
        for o in &f.objects {
            let name = if o.namespace.is_empty() {
                Html(&o.name).to_string()
            } else {
                format!("{}/{}", Html(&o.namespace), Html(&o.name))
            };
            write!(
                out,
                "<li>{} <code>{name}</code> <span class=\"origin\">{}</span></li>",
                Html(&o.kind),
                Html(&o.origin)
            )?;
        }
        out.push_str("</ul>\n");
    }
    for line in &lines {
        writeln!(
            out,
            "<div class=\"ev d{}\">{}</div>",
            line.depth.min(6),
            Html(&line.text)
        )?;
    }
    if places + lines.len() > 0 {
        out.push_str("</details>\n");
    }
    if matches!(change, Change::Resolved) {
        return writeln!(out, "</td></tr>");
    }
    writeln!(
        out,
        "<p class=\"fix\"><b>Fix:</b> {}</p></td></tr>",
        Html(&f.remediation)
    )
}

/// The page's style: one light theme, system fonts only (nothing to load).
const CSS: &str = r#"
:root { --fg: #1f2933; --muted: #5f6b7a; --line: #dde2e8; --bg: #f4f6f8; --card: #fff;
  --critical: #7a1010; --high: #c62828; --medium: #b45309; --low: #0e7490; --info: #64748b; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1360px; padding: 20px 24px 40px; background: var(--bg);
  color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
code, .ev, .origin { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, monospace; font-size: 12.5px; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 18px; margin: 0 0 12px; }
h3 { font-size: 15px; margin: 16px 0 8px; }
.card, header.top { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 16px 20px; margin-bottom: 18px; }
header.top { border-left: 6px solid var(--info); }
header.top.fail { border-left-color: var(--high); }
header.top.pass { border-left-color: #2e7d32; }
.verdict { display: inline-block; margin-left: 8px; padding: 1px 10px; border-radius: 12px;
  font-size: 14px; vertical-align: middle; text-transform: uppercase; letter-spacing: .04em; color: #fff; }
.fail .verdict { background: var(--high); }
.pass .verdict { background: #2e7d32; }
.sentence { margin: 4px 0 10px; font-size: 15px; }
.versions { color: var(--muted); margin: 10px 0 6px; }
nav a { margin-right: 14px; color: #1d4ed8; text-decoration: none; }
nav a:hover { text-decoration: underline; }
ul.counts { list-style: none; padding: 0; margin: 0; display: flex; gap: 8px; flex-wrap: wrap; }
ul.counts li { padding: 3px 12px; border-radius: 14px; }
ul.counts li b { font-size: 15px; }
.sev { color: #fff; background: var(--info); border-radius: 10px; padding: 1px 8px; font-size: 12px;
  font-weight: 600; text-transform: uppercase; letter-spacing: .03em; white-space: nowrap; }
.sev.critical { background: var(--critical); } .sev.high { background: var(--high); }
.sev.medium { background: var(--medium); } .sev.low { background: var(--low); } .sev.info { background: var(--info); }
ul.counts li.zero { background: #e5e9ee; color: var(--muted); }
table { border-collapse: collapse; }
table.findings { width: 100%; }
table.findings th { text-align: left; background: #eef1f4; padding: 6px 10px; font-size: 13px; }
table.findings td { vertical-align: top; padding: 10px; border-top: 1px solid var(--line); }
table.findings td:first-child { width: 92px; }
table.findings td:nth-child(2) { width: 210px; }
tr.finding.failing td:first-child { box-shadow: inset 3px 0 0 var(--high); }
.rule { font-weight: 700; font-size: 13px; }
.rname { color: var(--muted); font-size: 12.5px; }
.msg { margin: 0 0 6px; font-weight: 500; }
ul.where { margin: 4px 0 6px; padding-left: 18px; color: var(--fg); }
ul.where li { margin: 1px 0; }
.origin { color: var(--muted); }
details.evidence { margin: 4px 0 6px; }
details.evidence summary { cursor: pointer; color: #1d4ed8; font-size: 13px; }
.ev { white-space: pre-wrap; word-break: break-word; color: #374151; padding: 1px 0 1px 8px;
  border-left: 2px solid var(--line); }
.ev.d1 { margin-left: 18px; } .ev.d2 { margin-left: 36px; } .ev.d3 { margin-left: 54px; }
.ev.d4 { margin-left: 72px; } .ev.d5 { margin-left: 90px; } .ev.d6 { margin-left: 108px; }
.fix { margin: 4px 0 0; padding: 4px 8px; background: #f0f7f1; border-radius: 4px; }
table.kv th { text-align: left; padding: 2px 14px 2px 0; color: var(--muted); font-weight: 600; }
table.kv td { padding: 2px 0; }
ul.facts, ul.inputs { margin: 6px 0 0; padding-left: 18px; color: var(--muted); font-size: 13px; }
.problems { border-color: var(--high); background: #fff5f5; }
.note { color: var(--muted); }
.n { color: var(--muted); font-weight: 400; }
.matrix-wrap { overflow-x: auto; margin-bottom: 12px; }
table.matrix { font-size: 12.5px; }
table.matrix th, table.matrix td { border: 1px solid var(--line); padding: 4px 6px; }
table.matrix thead th { background: #eef1f4; font-weight: 600; }
table.matrix th.ns { text-align: center; background: #e3e8ee; }
table.matrix th.check { font-weight: 400; min-width: 64px; text-align: center; line-height: 1.25; }
table.matrix th.check code { font-size: 11.5px; }
table.matrix th.who { text-align: left; white-space: nowrap; background: #fafbfc; }
table.matrix th.who .role { display: block; color: var(--muted); font-weight: 400; font-size: 11.5px; }
table.matrix td { text-align: center; }
td.no { color: #b8c0ca; }
td.yes { font-weight: 700; }
td.yes.hi { background: #fcd9d9; color: #8b1111; }
td.yes.md { background: #fdebc8; color: #7a4a06; }
td.yes.lo { background: #dbeafe; color: #1e3a8a; }
.legend span { display: inline-block; padding: 1px 8px; margin-right: 8px; border-radius: 4px; font-size: 12px; }
.legend .hi { background: #fcd9d9; color: #8b1111; } .legend .md { background: #fdebc8; color: #7a4a06; }
.legend .lo { background: #dbeafe; color: #1e3a8a; }
.graph-wrap { overflow-x: auto; background: #fbfcfd; border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
.graph-wrap svg { display: block; margin: 0 auto; }
svg .node rect { fill: #fff; stroke: #7b8794; stroke-width: 1.2; }
svg .node.start rect { fill: #e8f0fe; stroke: #1d4ed8; stroke-width: 2.2; }
svg .node.strong rect { fill: #fde2e2; stroke: #b91c1c; stroke-width: 1.8; }
svg .node.role rect { fill: #fff4dc; stroke: #b45309; }
svg .node text { font: 13px system-ui, "DejaVu Sans", sans-serif; fill: #1f2933; }
svg .node text .kind { fill: #5f6b7a; font-size: 11.5px; }
svg .node.start text .kind { fill: #1d4ed8; font-weight: 600; }
svg .edge { fill: none; stroke: #52606d; stroke-width: 1.4; }
svg .el { font: 11px system-ui, "DejaVu Sans", sans-serif; fill: #7a4a06; paint-order: stroke;
  stroke: #fbfcfd; stroke-width: 4px; stroke-linejoin: round; }
svg marker path { fill: #52606d; }
ol.steps { margin: 6px 0 0; padding-left: 22px; font-size: 13px; }
ol.steps li { margin: 4px 0; }
footer { color: var(--muted); font-size: 12.5px; margin-top: 12px; }
"#;
