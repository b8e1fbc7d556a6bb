//! `diff -o html`: what a change does, as one page for the reviewer of a merge request, built
//! from the audit page's parts (head, style, finding rows, setup tables, escalation graph).
//! In order: the verdict and its reasons; the job identities' new ways into the manager
//! namespace (their new rights there, and the identities they can now become, with paths);
//! the findings new, changed (old → new severity) and resolved; the permissions gained and
//! lost per subject, the same rights through the same bindings (a group's, then each
//! member's) shown once and then named, as the human output does; the topology before and
//! after; and the new side's escalation graph with what the change makes reachable marked.
//!
//! Bounded like the audit page: at most [`MAX_SUBJECTS`] subjects in each of "gained" and
//! "lost", the caps of [`super::rights`] on permissions and paths, and the audit page's on
//! findings, runners and the graph; each cut is said on the page (`-o json` holds
//! everything).

use std::collections::BTreeSet;
use std::fmt::{self, Write as _};
use std::io::{self, Write};

use runnerguard_audit::diff::{Comparison, Rights};
use runnerguard_audit::{Finding, Topology};
use runnerguard_engine::Identity;

use super::graph::{self, Highlight};
use super::matrix::Subjects;
use super::rights::{MAX_NAMED, count, more, reach, rights, scope};
use super::{
    Change, Html, MAX_FINDINGS, MAX_TOPOLOGIES, Verdict, finding, foot, head, plural, topology,
    unread,
};
use crate::DiffReport;

/// At most this many subjects are shown in each of "gained" and "lost".
const MAX_SUBJECTS: usize = 100;

/// Writes the diff `d` as one self-contained HTML page (see the module documentation).
pub fn diff_html(w: &mut dyn Write, d: &DiffReport<'_>) -> io::Result<()> {
    let mut page = String::new();
    write_page(&mut page, d).map_err(|_| io::Error::other("formatting failed"))?;
    w.write_all(page.as_bytes())
}

fn write_page(out: &mut String, d: &DiffReport<'_>) -> fmt::Result {
    let c = d.comparison;
    let verdict = verdict(d);
    let title = format!(
        "runnerguard diff: {} ({} new, {} changed, {} resolved)",
        verdict.word,
        c.new_findings.len(),
        c.changed_findings.len(),
        c.resolved_findings.len()
    );
    head(out, &title, DIFF_CSS)?;
    summary(out, d, &verdict)?;
    into_manager(out, d)?;
    findings(out, d)?;
    permissions(out, d)?;
    topologies(out, d)?;
    let subjects = Subjects::of(d.new.topologies);
    graph::write(out, d.new_policy, &subjects, Some(&highlight(c, &subjects)))?;
    foot(out, "comparison");
    Ok(())
}

/// The change's verdict: incomplete (a side not read whole), fails or passes.
fn verdict(d: &DiffReport<'_>) -> Verdict {
    if !d.complete() {
        return Verdict {
            word: "incomplete",
            sentence: "Fails: a side could not be read whole, so the comparison may miss what \
                       the unread inputs hold (see “Not read”)."
                .to_owned(),
            class: "fail",
        };
    }
    if d.failed() {
        return Verdict {
            word: "fails",
            sentence: "Fails:".to_owned(),
            class: "fail",
        };
    }
    Verdict {
        word: "passes",
        sentence: format!("Passes: {}.", d.passes_text()),
        class: "pass",
    }
}

fn summary(out: &mut String, d: &DiffReport<'_>, verdict: &Verdict) -> fmt::Result {
    let c = d.comparison;
    writeln!(
        out,
        "<header class=\"top {}\">\n<h1>runnerguard diff <span class=\"verdict\">{}</span></h1>\n\
         <p class=\"sides\"><code>{}</code> → <code>{}</code></p>\n<p class=\"sentence\">{}</p>",
        verdict.class,
        verdict.word,
        Html(d.old_label),
        Html(d.new_label),
        Html(&verdict.sentence)
    )?;
    let reasons = d.reasons();
    if !reasons.is_empty() {
        out.push_str("<ul class=\"reasons\">");
        for r in &reasons {
            write!(out, "<li>{}</li>", Html(r))?;
        }
        out.push_str("</ul>\n");
    }
    let gaining = c
        .subjects
        .iter()
        .filter(|s| !s.gained.is_empty() || !s.reach_gained.is_empty())
        .count();
    let losing = c
        .subjects
        .iter()
        .filter(|s| !s.lost.is_empty() || !s.reach_lost.is_empty())
        .count();
    let jobs = c.into_manager.len();
    out.push_str("<ul class=\"counts\">");
    for (n, what, class) in [
        (
            jobs,
            if jobs == 1 {
                "job identity into a manager namespace"
            } else {
                "job identities into a manager namespace"
            },
            "bad",
        ),
        (c.new_findings.len(), "new findings", "bad"),
        (c.changed_findings.len(), "changed", "warn"),
        (c.resolved_findings.len(), "resolved", "good"),
        (gaining, "subjects gain", "warn"),
        (losing, "subjects lose", "good"),
    ] {
        let zero = if n == 0 { " zero" } else { "" };
        write!(
            out,
            "<li class=\"chg {class}{zero}\"><b>{n}</b> {what}</li>"
        )?;
    }
    out.push_str("</ul>\n");
    let both = |r: &crate::Report<'_>| format!("{}/{}", r.runner_version, r.chart_version);
    let old_differs = both(d.old) != both(d.new);
    writeln!(
        out,
        "<p class=\"versions\">{} against GitLab Runner {} and chart {}{}. The change fails at \
         <b>{}</b> (<code>--fail-on</code>): a new finding at or above it, a finding grown to it, \
         or a new way from a job into a manager namespace.</p>",
        if old_differs {
            "The new side checked"
        } else {
            "Both sides checked"
        },
        Html(&d.new.runner_version),
        Html(&d.new.chart_version),
        if old_differs {
            format!(
                " (the old side against {} and {})",
                Html(&d.old.runner_version),
                Html(&d.old.chart_version)
            )
        } else {
            String::new()
        },
        d.fail_on
    )?;
    out.push_str(
        "<nav><a href=\"#into-manager\">Into the manager namespace</a> <a href=\"#findings\">Findings</a> \
         <a href=\"#permissions\">Permissions</a> <a href=\"#topology\">Topology</a> \
         <a href=\"#graph\">Escalation graph</a></nav>\n</header>\n",
    );
    for (side, id, report) in [("old", "unread-old", d.old), ("new", "unread-new", d.new)] {
        if !report.complete() {
            unread(
                out,
                id,
                &format!("Not read, {side} side: the comparison is incomplete"),
                report.unreadable,
            )?;
        }
    }
    Ok(())
}

/// The job identities' new ways into their manager's namespace.
fn into_manager(out: &mut String, d: &DiffReport<'_>) -> fmt::Result {
    let jobs = &d.comparison.into_manager;
    writeln!(
        out,
        "<section class=\"card{}\" id=\"into-manager\">\n<h2>Job identities into the manager namespace <span class=\"n\">{}</span></h2>",
        if jobs.is_empty() { "" } else { " alarm" },
        jobs.len()
    )?;
    if jobs.is_empty() {
        out.push_str(
            "<p class=\"note ok\">No job identity gains a way into its manager's namespace: no new \
             right there, no identity there it can newly become.</p>\n</section>\n",
        );
        return Ok(());
    }
    out.push_str(
        "<p class=\"note\">What the job pods' ServiceAccount of each runner may now do in its \
         manager's namespace (namespaced resources, through any binding), and the identities \
         there it can now become, each with the new side's shortest path.</p>\n",
    );
    for j in jobs {
        writeln!(
            out,
            "<div class=\"job\">\n<h3><code>{}</code> → namespace <code>{}</code></h3>",
            Html(&j.job),
            Html(&j.manager_namespace)
        )?;
        for r in &j.rights {
            rights(out, r, "May now,", None)?;
        }
        reach(out, d.new_policy, &j.reach, "Can now become", true)?;
        out.push_str("</div>\n");
    }
    out.push_str("</section>\n");
    Ok(())
}

/// The findings new, changed and resolved, at most [`MAX_FINDINGS`] in all.
fn findings(out: &mut String, d: &DiffReport<'_>) -> fmt::Result {
    let c = d.comparison;
    writeln!(
        out,
        "<section class=\"card\" id=\"findings\">\n<h2>Findings <span class=\"n\">{} new, {} changed, {} resolved</span></h2>",
        c.new_findings.len(),
        c.changed_findings.len(),
        c.resolved_findings.len()
    )?;
    let total = c.new_findings.len() + c.changed_findings.len() + c.resolved_findings.len();
    if total == 0 {
        out.push_str(
            "<p class=\"note\">The change adds, alters and resolves no finding.</p>\n</section>\n",
        );
        return Ok(());
    }
    let mut budget = MAX_FINDINGS;
    let new: Vec<(&Finding, bool, Change<'_>)> = c
        .new_findings
        .iter()
        .map(|f| (f, f.severity >= d.fail_on, Change::Added))
        .collect();
    let changed: Vec<(&Finding, bool, Change<'_>)> = c
        .changed_findings
        .iter()
        .map(|(old, new)| {
            let worse = new.severity > old.severity && new.severity >= d.fail_on;
            (new, worse, Change::Changed(old))
        })
        .collect();
    let resolved: Vec<(&Finding, bool, Change<'_>)> = c
        .resolved_findings
        .iter()
        .map(|f| (f, false, Change::Resolved))
        .collect();
    for (heading, rows, note) in [
        ("New", new, ""),
        (
            "Changed",
            changed,
            "The same rule about the same objects and settings, now at another severity or \
             saying something else: the old severity first, the old message under the new.",
        ),
        (
            "Resolved",
            resolved,
            "Findings of the old side the new side no longer has, with their places in the old \
             side's files.",
        ),
    ] {
        if rows.is_empty() {
            continue;
        }
        writeln!(
            out,
            "<h3>{heading} <span class=\"n\">{}</span></h3>",
            rows.len()
        )?;
        if !note.is_empty() {
            writeln!(out, "<p class=\"note\">{note}</p>")?;
        }
        if budget == 0 {
            continue;
        }
        out.push_str(
            "<table class=\"findings changes\">\n<thead><tr><th>Severity</th><th>Rule</th><th>Finding</th></tr></thead>\n<tbody>\n",
        );
        for (f, failing, change) in rows.iter().take(budget) {
            finding(out, f, *failing, *change)?;
        }
        out.push_str("</tbody>\n</table>\n");
        budget = budget.saturating_sub(rows.len());
    }
    if total > MAX_FINDINGS {
        writeln!(
            out,
            "<p class=\"note\">{} more findings are not shown here (this page shows {MAX_FINDINGS}); \
             <code>-o json</code> lists them all.</p>",
            total - MAX_FINDINGS
        )?;
    }
    out.push_str("</section>\n");
    Ok(())
}

/// Each subject's permissions gained and lost, and the identities it can newly become or no
/// longer can.
fn permissions(out: &mut String, d: &DiffReport<'_>) -> fmt::Result {
    let c = d.comparison;
    out.push_str(
        "<section class=\"card\" id=\"permissions\">\n<h2>Permissions gained and lost</h2>\n\
         <p class=\"note\">Per subject (every subject a binding names on either side, and the \
         runner's ServiceAccounts): its own permissions by scope (a namespace through \
         RoleBindings, cluster-wide through ClusterRoleBindings) as <code>kubectl auth can-i \
         --list</code> prints them, Secrets, exec, tokens and RBAC first (red), with the bindings \
         that give them. The same permissions through the same bindings (a group's, then each \
         member's) are shown once, then named. Then the identities it can now become, each with \
         its path.</p>\n",
    );
    // The same permissions through the same bindings: the subject first shown with them, and
    // the anchor of their table.
    let mut shown: Vec<(String, &Rights, usize)> = Vec::new();
    for gained in [true, false] {
        let list: Vec<_> = c
            .subjects
            .iter()
            .filter(|s| {
                if gained {
                    !s.gained.is_empty() || !s.reach_gained.is_empty()
                } else {
                    !s.lost.is_empty() || !s.reach_lost.is_empty()
                }
            })
            .collect();
        writeln!(
            out,
            "<h3>{} <span class=\"n\">{} subject{}</span></h3>",
            if gained { "Gained" } else { "Lost" },
            list.len(),
            plural(list.len())
        )?;
        if list.is_empty() {
            writeln!(
                out,
                "<p class=\"note\">No subject {} a permission or a way to become another identity.</p>",
                if gained { "gains" } else { "loses" }
            )?;
            continue;
        }
        for s in list.iter().take(MAX_SUBJECTS) {
            writeln!(
                out,
                "<div class=\"subject\">\n<h4><code>{}</code></h4>",
                Html(&s.identity)
            )?;
            let (all, verb) = if gained {
                (&s.gained, "Gains")
            } else {
                (&s.lost, "Loses")
            };
            for r in all {
                if let Some((first, _, anchor)) = shown.iter().find(|(_, seen, _)| *seen == r) {
                    writeln!(
                        out,
                        "<p class=\"same\">{verb} {} the same {} as <a href=\"#r{anchor}\">{}</a>.</p>",
                        scope(r),
                        count(r),
                        Html(first)
                    )?;
                    continue;
                }
                let anchor = shown.len();
                shown.push((s.identity.to_string(), r, anchor));
                rights(out, r, &format!("{verb},"), Some(anchor))?;
            }
            if gained {
                reach(out, d.new_policy, &s.reach_gained, "Can now become", false)?;
            } else if !s.reach_lost.is_empty() {
                let names: Vec<String> = s
                    .reach_lost
                    .iter()
                    .take(MAX_NAMED)
                    .map(|i| format!("<code>{}</code>", Html(i)))
                    .collect();
                writeln!(
                    out,
                    "<p class=\"become\">Can no longer become: {}{}.</p>",
                    names.join(", "),
                    more(s.reach_lost.len(), MAX_NAMED)
                )?;
            }
            out.push_str("</div>\n");
        }
        if list.len() > MAX_SUBJECTS {
            writeln!(
                out,
                "<p class=\"note\">{} more subjects are not shown here (this page shows {MAX_SUBJECTS}); \
                 <code>-o json</code> lists them all.</p>",
                list.len() - MAX_SUBJECTS
            )?;
        }
    }
    out.push_str("</section>\n");
    Ok(())
}

/// The runner topologies before and after, or once when they did not change.
fn topologies(out: &mut String, d: &DiffReport<'_>) -> fmt::Result {
    let changed = d.comparison.topology_changed;
    writeln!(
        out,
        "<section class=\"card\" id=\"topology\">\n<h2>Topology <span class=\"n\">{}</span></h2>",
        if changed { "changed" } else { "unchanged" }
    )?;
    if changed {
        out.push_str("<div class=\"before-after\">\n");
        for (heading, label, list) in [
            ("Before", d.old_label, d.old.topologies),
            ("After", d.new_label, d.new.topologies),
        ] {
            writeln!(
                out,
                "<div>\n<h3>{heading} <span class=\"n\"><code>{}</code></span></h3>",
                Html(label)
            )?;
            runners(out, list)?;
            out.push_str("</div>\n");
        }
        out.push_str("</div>\n");
    } else {
        out.push_str(
            "<p class=\"note\">The same runner managers and job ServiceAccounts on both sides.</p>\n",
        );
        runners(out, d.new.topologies)?;
    }
    out.push_str("</section>\n");
    Ok(())
}

/// Each runner's tables, at most [`MAX_TOPOLOGIES`].
fn runners(out: &mut String, list: &[Topology]) -> fmt::Result {
    if list.is_empty() {
        out.push_str("<p class=\"note\">No runner found.</p>\n");
    }
    let n = list.len();
    for (i, t) in list.iter().take(MAX_TOPOLOGIES).enumerate() {
        topology(out, t, i, n)?;
    }
    if n > MAX_TOPOLOGIES {
        writeln!(
            out,
            "<p class=\"note\">{} more runners are not shown here; <code>-o json</code> lists them all.</p>",
            n - MAX_TOPOLOGIES
        )?;
    }
    Ok(())
}

/// What the graph marks: the identities the runner's ServiceAccounts drawn as its starts
/// (`subjects`) can newly become, and the steps of their new paths into them; the job
/// identities' new reach into their manager's namespace among them.
fn highlight(c: &Comparison, subjects: &Subjects) -> Highlight {
    let starts: BTreeSet<Identity> = subjects
        .list
        .iter()
        .map(|s| Identity::ServiceAccount {
            namespace: s.namespace.clone(),
            name: s.name.clone(),
        })
        .collect();
    let mut h = Highlight::default();
    let paths = c
        .subjects
        .iter()
        .map(|s| (&s.identity, &s.reach_gained))
        .chain(c.into_manager.iter().map(|j| (&j.job, &j.reach)));
    for (start, reached) in paths.filter(|(start, _)| starts.contains(*start)) {
        let new: BTreeSet<&Identity> = reached.iter().map(|r| &r.identity).collect();
        for r in reached {
            h.add(start, r, &new);
        }
    }
    h
}

/// The diff page's style, after the audit page's ([`super::CSS`]).
const DIFF_CSS: &str = r"
.sides { margin: 2px 0 6px; color: var(--muted); }
.sides code { color: var(--fg); font-size: 13px; }
ul.reasons { margin: 2px 0 12px; padding-left: 22px; color: #8b1111; font-weight: 500; }
ul.counts li.chg { background: #e5e9ee; }
ul.counts li.chg.bad { background: #fcd9d9; color: #8b1111; }
ul.counts li.chg.warn { background: #fdebc8; color: #7a4a06; }
ul.counts li.chg.good { background: #dcfce7; color: #14532d; }
ul.counts li.chg.zero { background: #eef1f4; color: var(--muted); }
.card.alarm { border-color: var(--high); border-left: 6px solid var(--high); }
.note.ok { color: #14532d; }
h4 { font-size: 14px; margin: 0 0 6px; }
h4 code { font-size: 14px; }
.job, .subject { border-top: 1px solid var(--line); padding-top: 10px; margin-top: 12px; }
.job h3 { margin-top: 0; }
table.findings.changes td:first-child { width: 150px; white-space: nowrap; }
.to { color: var(--muted); }
tr.finding.resolved td:first-child { box-shadow: inset 3px 0 0 #2e7d32; }
tr.finding.resolved .msg { color: var(--muted); }
.was { margin: 0 0 6px; color: var(--muted); font-size: 13px; }
p.scope { margin: 8px 0 4px; }
table.rights { font-size: 12.5px; margin: 0 0 6px; }
table.rights th, table.rights td { border: 1px solid var(--line); padding: 3px 10px; text-align: left; }
table.rights thead th { background: #eef1f4; font-weight: 600; }
table.rights tr.hi td:first-child { background: #fcd9d9; color: #8b1111; }
table.rights tr.md td:first-child { background: #fdebc8; color: #7a4a06; }
.same { color: var(--muted); margin: 6px 0; }
.same a { color: #1d4ed8; }
.become { margin: 10px 0 2px; font-weight: 600; }
ul.reach { margin: 0; padding-left: 20px; }
ul.reach > li { margin: 6px 0; }
ul.reach.folded { list-style: none; padding-left: 2px; }
ul.reach details.evidence { margin: 0; }
ul.reach details.evidence summary { color: var(--fg); }
.before-after { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
.before-after h3 { margin-top: 0; }
.legend .new { background: #fde2e2; color: #8b1111; border: 1px dashed #b91c1c; }
ol.steps li.new > code { color: #8b1111; font-weight: 600; }
svg .node.new rect { stroke: #b91c1c; stroke-width: 2.6; stroke-dasharray: 6 3; }
svg .edge.new { stroke: #b91c1c; stroke-width: 2.4; }
svg #rg-arrow-new path { fill: #b91c1c; }
";
