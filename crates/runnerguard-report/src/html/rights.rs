//! A change's rights and reach in the diff page ([`super::diff`]): a scope's permissions as
//! the rows of `kubectl auth can-i --list`, the most sensitive first, and the identities a
//! subject can newly become, each with its path worded as `runnerguard paths` words it.
//!
//! Bounded: [`MAX_ROWS`] rows per scope (the first [`SHOWN_ROWS`] shown, the rest folded),
//! [`MAX_PATHS`] paths, then [`MAX_NAMED`] more named; each cut is said on the page.

use std::fmt::{self, Write as _};

use runnerguard_audit::EscalationStep;
use runnerguard_audit::diff::Rights;
use runnerguard_engine::{Policy, Reached, kubectl};

use super::{Html, plural};
pub(super) use crate::diff::count;
use crate::evidence;

/// Rows of permissions shown per scope before the rest fold away.
const SHOWN_ROWS: usize = 10;
/// At most this many rows of permissions per scope.
const MAX_ROWS: usize = 200;
/// At most this many newly reachable identities are shown with their paths per subject.
const MAX_PATHS: usize = 20;
/// At most this many more are named.
pub(super) const MAX_NAMED: usize = 50;

/// ` and N more` when `n` is over `max`, else nothing.
pub(super) fn more(n: usize, max: usize) -> String {
    if n > max {
        format!(" and {} more", n - max)
    } else {
        String::new()
    }
}

/// ``in namespace <code>x</code>`` or `cluster-wide`.
pub(super) fn scope(r: &Rights) -> String {
    if r.namespace.is_empty() {
        "cluster-wide".to_owned()
    } else {
        format!("in namespace <code>{}</code>", Html(&r.namespace))
    }
}

/// `[a b]` (a Go slice as kubectl prints it) as `a b`.
fn unbracket(list: &str) -> &str {
    list.strip_prefix('[')
        .and_then(|l| l.strip_suffix(']'))
        .unwrap_or(list)
}

/// One scope's permissions as a table (anchored `r{anchor}` when given): the rows of
/// `kubectl auth can-i --list`, the most sensitive first and coloured, the first
/// [`SHOWN_ROWS`] shown and the rest folded, at most [`MAX_ROWS`].
pub(super) fn rights(
    out: &mut String,
    r: &Rights,
    verb: &str,
    anchor: Option<usize>,
) -> fmt::Result {
    let through: Vec<String> = r.bindings.iter().map(evidence::object).collect();
    let id = anchor.map_or_else(String::new, |a| format!(" id=\"r{a}\""));
    writeln!(
        out,
        "<div class=\"rights\"{id}>\n<p class=\"scope\">{verb} {}: <b>{}</b>, through {}</p>",
        scope(r),
        count(r),
        Html(through.join(", "))
    )?;
    let rows = crate::diff::rows(r);
    let urls = rows
        .iter()
        .any(|row| !unbracket(&row.non_resource_urls).is_empty());
    let names = rows
        .iter()
        .any(|row| !unbracket(&row.resource_names).is_empty());
    let table = |out: &mut String, rows: &[kubectl::ListRow]| -> fmt::Result {
        out.push_str("<table class=\"rights\">\n<thead><tr><th>Resources</th>");
        if urls {
            out.push_str("<th>Non-Resource URLs</th>");
        }
        if names {
            out.push_str("<th>Resource Names</th>");
        }
        out.push_str("<th>Verbs</th></tr></thead>\n<tbody>\n");
        for row in rows {
            let class = match crate::diff::sensitivity(&row.resources) {
                0 | 1 => " class=\"hi\"",
                2 => " class=\"md\"",
                _ => "",
            };
            write!(
                out,
                "<tr{class}><td><code>{}</code></td>",
                Html(&row.resources)
            )?;
            if urls {
                write!(out, "<td>{}</td>", Html(unbracket(&row.non_resource_urls)))?;
            }
            if names {
                write!(out, "<td>{}</td>", Html(unbracket(&row.resource_names)))?;
            }
            writeln!(out, "<td>{}</td></tr>", Html(unbracket(&row.verbs)))?;
        }
        out.push_str("</tbody>\n</table>\n");
        Ok(())
    };
    let kept = &rows[..rows.len().min(MAX_ROWS)];
    table(out, &kept[..kept.len().min(SHOWN_ROWS)])?;
    if kept.len() > SHOWN_ROWS {
        let rest = &kept[SHOWN_ROWS..];
        writeln!(
            out,
            "<details class=\"evidence\"><summary>{} more row{}</summary>",
            rest.len(),
            plural(rest.len())
        )?;
        table(out, rest)?;
        out.push_str("</details>\n");
    }
    if rows.len() > MAX_ROWS {
        writeln!(
            out,
            "<p class=\"note\">{} more rows are not shown here (this page shows {MAX_ROWS}); \
             <code>-o json</code> lists them all.</p>",
            rows.len() - MAX_ROWS
        )?;
    }
    out.push_str("</div>\n");
    Ok(())
}

/// Newly reachable identities with their paths (`open`, or each folded under its name), the
/// first [`MAX_PATHS`]; then the next [`MAX_NAMED`] named.
pub(super) fn reach(
    out: &mut String,
    policy: &Policy,
    reached: &[Reached],
    verb: &str,
    open: bool,
) -> fmt::Result {
    if reached.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "<p class=\"become\">{verb}:</p>\n<ul class=\"reach{}\">",
        if open { "" } else { " folded" }
    )?;
    for r in reached.iter().take(MAX_PATHS) {
        let steps = r.path.len();
        let name = format!(
            "<code>{}</code> <span class=\"n\">in {steps} step{}</span>",
            Html(&r.identity),
            plural(steps)
        );
        if open {
            write!(out, "<li>{name}")?;
        } else {
            write!(
                out,
                "<li><details class=\"evidence\"><summary>{name}</summary>"
            )?;
        }
        out.push_str("<ol class=\"steps\">");
        for step in &r.path {
            out.push_str("<li>");
            for line in evidence::escalation_lines(&EscalationStep::new(policy, step)) {
                write!(
                    out,
                    "<div class=\"ev d{}\">{}</div>",
                    line.depth.min(6),
                    Html(&line.text)
                )?;
            }
            out.push_str("</li>");
        }
        out.push_str("</ol>");
        if !open {
            out.push_str("</details>");
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n");
    if reached.len() > MAX_PATHS {
        let rest = &reached[MAX_PATHS..];
        let names: Vec<String> = rest
            .iter()
            .take(MAX_NAMED)
            .map(|r| format!("<code>{}</code>", Html(&r.identity)))
            .collect();
        writeln!(
            out,
            "<p class=\"note\">{verb} also: {}{} (<code>runnerguard paths</code> shows each path).</p>",
            names.join(", "),
            more(rest.len(), MAX_NAMED)
        )?;
    }
    Ok(())
}
