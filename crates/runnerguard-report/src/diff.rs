//! `runnerguard diff`: what a change does, for a reviewer (human: verdict first, then the
//! job identities' new ways into the manager namespace, the findings added and resolved,
//! who gains and loses what, the topology) and for programs (JSON, schema version 1).

use std::io::{self, Write};

use runnerguard_audit::diff::{Comparison, Rights};
use runnerguard_audit::{Finding, Severity, Topology};
use runnerguard_engine::{Identity, Policy, Reached, kubectl};

use crate::human::{BOLD_RED, Paint};
use crate::{Escaped, Report, evidence, plural};

/// At most this many rows of permissions are shown per scope; JSON has them all.
const ROWS: usize = 8;
/// At most this many findings (new, changed, resolved) are listed; JSON has them all.
const FINDINGS: usize = 15;
/// At most this many newly reachable identities are shown with their paths per subject.
const PATHS: usize = 3;

/// Everything a diff report shows.
#[derive(Debug)]
pub struct DiffReport<'a> {
    /// How the old side is named (`old/`, `deploy/ at origin/main`).
    pub old_label: &'a str,
    /// How the new side is named.
    pub new_label: &'a str,
    /// The old side's audit.
    pub old: &'a Report<'a>,
    /// The new side's audit.
    pub new: &'a Report<'a>,
    /// The old side's objects, which the lost permissions name.
    pub old_policy: &'a Policy,
    /// The new side's objects, which the gained permissions and paths name.
    pub new_policy: &'a Policy,
    /// What changed.
    pub comparison: &'a Comparison,
    /// The severity at or above which a new finding fails the change.
    pub fail_on: Severity,
}

impl DiffReport<'_> {
    /// Whether the change fails: it adds a finding at or above `fail_on`, opens a way from a
    /// job identity into a manager namespace, or a side could not be read whole (then the
    /// comparison cannot be trusted to be complete).
    pub fn failed(&self) -> bool {
        self.comparison.fails(self.fail_on) || !self.complete()
    }

    /// Whether both sides were read whole.
    pub fn complete(&self) -> bool {
        self.old.complete() && self.new.complete()
    }

    /// What a passing change is, in words: `nothing new at or above high, no new way from a
    /// job into a manager namespace; resolves 11 findings`.
    pub fn passes_text(&self) -> String {
        let resolved = self.comparison.resolved_findings.len();
        format!(
            "nothing new at or above {}, no new way from a job into a manager namespace{}",
            self.fail_on,
            if resolved > 0 {
                format!("; resolves {resolved} finding{}", plural(resolved))
            } else {
                String::new()
            }
        )
    }

    /// Why the change fails, one reason per line; empty when it passes.
    pub fn reasons(&self) -> Vec<String> {
        let mut out = Vec::new();
        let c = self.comparison;
        if !c.into_manager.is_empty() {
            let jobs: Vec<String> = c.into_manager.iter().map(|j| j.job.to_string()).collect();
            out.push(format!(
                "a job identity gains a way into the runner manager's namespace: {}",
                jobs.join(", ")
            ));
        }
        let severe = c
            .new_findings
            .iter()
            .filter(|f| f.severity >= self.fail_on)
            .count()
            + c.worsened(self.fail_on).count();
        if severe > 0 {
            out.push(format!(
                "{severe} new finding{} at or above {}",
                plural(severe),
                self.fail_on
            ));
        }
        for (side, report) in [("old", self.old), ("new", self.new)] {
            if !report.complete() {
                out.push(format!(
                    "the {side} side could not be read whole ({} input problem{}): the comparison may miss what those inputs hold",
                    report.unreadable.len(),
                    plural(report.unreadable.len())
                ));
            }
        }
        out
    }
}

/// Writes the diff for a terminal (`color`) or a log.
pub fn diff_human(w: &mut dyn Write, d: &DiffReport<'_>, color: bool) -> io::Result<()> {
    let p = Paint { on: color };
    let c = d.comparison;
    writeln!(
        w,
        "{} {} → {}",
        p.bold("runnerguard diff"),
        Escaped(d.old_label),
        Escaped(d.new_label)
    )?;
    let reasons = d.reasons();
    if reasons.is_empty() {
        writeln!(w, "passes: {}", d.passes_text())?;
    } else {
        writeln!(w, "{}", p.wrap(BOLD_RED, "fails:"))?;
        for r in &reasons {
            writeln!(w, "  {}", Escaped(r))?;
        }
    }
    for (side, report) in [("old", d.old), ("new", d.new)] {
        if !report.complete() {
            writeln!(
                w,
                "{}",
                p.wrap(BOLD_RED, &format!("Not read ({side} side)"))
            )?;
            for problem in report.unreadable {
                writeln!(w, "  {}", Escaped(problem))?;
            }
        }
    }

    if !c.into_manager.is_empty() {
        writeln!(w)?;
        writeln!(
            w,
            "{}",
            p.wrap(BOLD_RED, "Job identities into the manager namespace")
        )?;
        for j in &c.into_manager {
            writeln!(
                w,
                "  {} → namespace `{}`",
                Escaped(&j.job),
                Escaped(&j.manager_namespace)
            )?;
            for r in &j.rights {
                rights(w, &p, r, "may now")?;
            }
            paths(w, &p, d.new_policy, &j.reach, "can now become")?;
        }
    }

    writeln!(w)?;
    writeln!(
        w,
        "{} {} new, {} changed, {} resolved",
        p.bold("Findings:"),
        c.new_findings.len(),
        c.changed_findings.len(),
        c.resolved_findings.len()
    )?;
    let lines = c
        .new_findings
        .iter()
        .map(|f| ("+", f, None))
        .chain(
            c.changed_findings
                .iter()
                .map(|(old, new)| ("~", new, Some(old))),
        )
        .chain(c.resolved_findings.iter().map(|f| ("-", f, None)));
    let total = c.new_findings.len() + c.changed_findings.len() + c.resolved_findings.len();
    for (mark, f, was) in lines.take(FINDINGS) {
        finding_line(w, &p, mark, f, was)?;
    }
    if total > FINDINGS {
        writeln!(
            w,
            "  {}",
            p.dim(&format!(
                "... and {} more (-o json has them all)",
                total - FINDINGS
            ))
        )?;
    }

    let gaining: Vec<_> = c
        .subjects
        .iter()
        .filter(|s| !s.gained.is_empty() || !s.reach_gained.is_empty())
        .collect();
    let losing: Vec<_> = c
        .subjects
        .iter()
        .filter(|s| !s.lost.is_empty() || !s.reach_lost.is_empty())
        .collect();
    // The same permissions through the same bindings (a group's, and each member's) are
    // shown once, then named.
    let mut shown: Vec<(String, &Rights)> = Vec::new();
    writeln!(w)?;
    writeln!(
        w,
        "{} {} subject{}",
        p.bold("Permissions gained:"),
        gaining.len(),
        plural(gaining.len())
    )?;
    for s in &gaining {
        writeln!(w, "  {}", p.bold(&Escaped(&s.identity).to_string()))?;
        for r in &s.gained {
            rights_once(w, &p, r, "gains", &s.identity, &mut shown)?;
        }
        paths(w, &p, d.new_policy, &s.reach_gained, "can now become")?;
    }
    writeln!(w)?;
    writeln!(
        w,
        "{} {} subject{}",
        p.bold("Permissions lost:"),
        losing.len(),
        plural(losing.len())
    )?;
    for s in &losing {
        writeln!(w, "  {}", p.bold(&Escaped(&s.identity).to_string()))?;
        for r in &s.lost {
            rights_once(w, &p, r, "loses", &s.identity, &mut shown)?;
        }
        if !s.reach_lost.is_empty() {
            let names: Vec<String> = s
                .reach_lost
                .iter()
                .map(|i| Escaped(i).to_string())
                .collect();
            writeln!(w, "    can no longer become: {}", names.join("; "))?;
        }
    }

    writeln!(w)?;
    if c.topology_changed {
        writeln!(w, "{}", p.bold("Topology: changed"))?;
        topology_lines(w, "before:", d.old.topologies)?;
        topology_lines(w, "after: ", d.new.topologies)?;
    } else {
        writeln!(w, "{}", p.bold("Topology: unchanged"))?;
        topology_lines(w, "", d.new.topologies)?;
    }
    Ok(())
}

/// One scope's permissions, compacted as `kubectl auth can-i --list` prints them.
fn rights(w: &mut dyn Write, p: &Paint, r: &Rights, verb: &str) -> io::Result<()> {
    let through: Vec<String> = r.bindings.iter().map(evidence::object).collect();
    writeln!(
        w,
        "    {verb} {} {}, through {}:",
        scope(r),
        count(r),
        Escaped(&through.join(", "))
    )?;
    let rows = rows(r);
    let mut table: Vec<Vec<String>> = vec![vec![
        "Resources".into(),
        "Non-Resource URLs".into(),
        "Resource Names".into(),
        "Verbs".into(),
    ]];
    table.extend(rows.iter().take(ROWS).map(|row| {
        vec![
            row.resources.clone(),
            row.non_resource_urls.clone(),
            row.resource_names.clone(),
            row.verbs.clone(),
        ]
    }));
    let mut text = Vec::new();
    crate::table::write(&mut text, &table)?;
    for line in String::from_utf8_lossy(&text).lines() {
        writeln!(w, "      {line}")?;
    }
    if rows.len() > ROWS {
        writeln!(
            w,
            "      {}",
            p.dim(&format!(
                "... and {} more rows (-o json has them all)",
                rows.len() - ROWS
            ))
        )?;
    }
    Ok(())
}

/// [`rights`], or, when the same permissions through the same bindings were shown for an
/// earlier subject (a group's, then each member's), one line naming it.
fn rights_once<'r>(
    w: &mut dyn Write,
    p: &Paint,
    r: &'r Rights,
    verb: &str,
    who: &Identity,
    shown: &mut Vec<(String, &'r Rights)>,
) -> io::Result<()> {
    if let Some((first, _)) = shown.iter().find(|(_, seen)| *seen == r) {
        return writeln!(
            w,
            "    {verb} {} the same {} as {}",
            scope(r),
            count(r),
            Escaped(first)
        );
    }
    shown.push((who.to_string(), r));
    rights(w, p, r, verb)
}

/// How much a resource (`kubectl auth can-i --list`'s `resource.group/subresource`) matters
/// to isolation: lower first.
pub(crate) fn sensitivity(resource: &str) -> u8 {
    let name = resource.split('.').next().unwrap_or(resource);
    match name {
        "*" | "secrets" => 0,
        "pods/exec"
        | "pods/attach"
        | "serviceaccounts/token"
        | "serviceaccounts"
        | "nodes/proxy"
        | "roles"
        | "rolebindings"
        | "clusterroles"
        | "clusterrolebindings" => 1,
        "pods" | "deployments" | "daemonsets" | "statefulsets" | "jobs" | "cronjobs" => 2,
        _ => 3,
    }
}

/// ``in namespace `x` `` or `cluster-wide`.
fn scope(r: &Rights) -> String {
    if r.namespace.is_empty() {
        "cluster-wide".to_owned()
    } else {
        format!("in namespace `{}`", Escaped(&r.namespace))
    }
}

/// The rows of `kubectl auth can-i --list` for `r`, what a reviewer must not miss first
/// (Secrets, exec, tokens, RBAC, pods).
pub(crate) fn rows(r: &Rights) -> Vec<kubectl::ListRow> {
    let mut rows = kubectl::list_rows(&r.rules);
    rows.sort_by_key(|row| sensitivity(&row.resources));
    rows
}

/// How many permissions (resource or URL and verb) `r` holds, in words.
pub(crate) fn count(r: &Rights) -> String {
    let n: usize = r.rules.iter().map(|rule| rule.verbs.len()).sum();
    format!("{n} permission{}", plural(n))
}

/// One finding on one line after `mark`: severity (and the old one, for a changed finding),
/// rule, message; then the object to change.
fn finding_line(
    w: &mut dyn Write,
    p: &Paint,
    mark: &str,
    f: &Finding,
    was: Option<&Finding>,
) -> io::Result<()> {
    let severity = match was {
        Some(old) if old.severity != f.severity => {
            format!("{} → {}", p.severity(old.severity), p.severity(f.severity))
        }
        _ => p.severity(f.severity),
    };
    writeln!(
        w,
        "  {} {severity} {} {}  {}",
        p.bold(mark),
        p.bold(f.rule),
        p.dim(f.name),
        Escaped(&f.message)
    )?;
    if let Some(o) = f.objects.first() {
        writeln!(
            w,
            "      {}",
            p.dim(&Escaped(&evidence::object(o)).to_string())
        )?;
    }
    Ok(())
}

/// Newly reachable identities, the first few with their paths.
fn paths(
    w: &mut dyn Write,
    p: &Paint,
    policy: &Policy,
    reached: &[Reached],
    verb: &str,
) -> io::Result<()> {
    for r in reached.iter().take(PATHS) {
        writeln!(w, "    {verb} {}:", Escaped(&r.identity))?;
        for (i, step) in r.path.iter().enumerate() {
            let through: Vec<String> = step
                .permissions
                .iter()
                .map(|perm| {
                    let b = policy.binding(perm.grant.binding);
                    format!("{}: {}", perm.action, evidence::object(&b.object_ref()))
                })
                .collect();
            writeln!(
                w,
                "      {}. {} → {} ({})",
                i + 1,
                step.primitive.describe(),
                Escaped(&step.to),
                Escaped(&through.join("; "))
            )?;
        }
    }
    if reached.len() > PATHS {
        let rest: Vec<String> = reached[PATHS..]
            .iter()
            .map(|r| Escaped(&r.identity).to_string())
            .collect();
        writeln!(
            w,
            "    {}",
            p.dim(&format!("{verb} also: {}", rest.join("; ")))
        )?;
    }
    Ok(())
}

fn topology_lines(w: &mut dyn Write, label: &str, topologies: &[Topology]) -> io::Result<()> {
    if topologies.is_empty() {
        return writeln!(w, "  {label}no runner found");
    }
    let label = if label.is_empty() {
        String::new()
    } else {
        format!("{label} ")
    };
    for t in topologies {
        let jobs: Vec<String> = t
            .jobs
            .iter()
            .map(|j| format!("{} as {}", j.namespace, j.service_account))
            .collect();
        writeln!(
            w,
            "  {label}manager {}/{}; jobs in {}",
            Escaped(&t.manager_namespace),
            Escaped(&t.manager_service_account),
            Escaped(&jobs.join(", "))
        )?;
    }
    Ok(())
}

/// Writes the diff as a v1 JSON document (keys sorted).
pub fn diff_json(w: &mut dyn Write, d: &DiffReport<'_>) -> io::Result<()> {
    use crate::answers::ResolvedReached;
    use crate::schema::v1;
    let c = d.comparison;
    let subject_paths: Vec<Vec<ResolvedReached<'_>>> = c
        .subjects
        .iter()
        .map(|s| resolve(d.new_policy, &s.reach_gained))
        .collect();
    let job_paths: Vec<Vec<ResolvedReached<'_>>> = c
        .into_manager
        .iter()
        .map(|j| resolve(d.new_policy, &j.reach))
        .collect();
    let doc = v1::Diff {
        version: v1::Version,
        old: side(d.old_label, d.old),
        new: side(d.new_label, d.new),
        failed: d.failed(),
        reasons: d.reasons(),
        fail_on: d.fail_on,
        complete: d.complete(),
        into_manager_namespace: c
            .into_manager
            .iter()
            .zip(&job_paths)
            .map(|(j, paths)| v1::JobReach {
                job: &j.job,
                manager_namespace: &j.manager_namespace,
                rights: j.rights.iter().map(Into::into).collect(),
                reach: paths.iter().map(ResolvedReached::view).collect(),
            })
            .collect(),
        findings: v1::DiffFindings {
            new: c.new_findings.iter().map(Into::into).collect(),
            resolved: c.resolved_findings.iter().map(Into::into).collect(),
            changed: c
                .changed_findings
                .iter()
                .map(|(old, new)| v1::ChangedFinding {
                    old: old.into(),
                    new: new.into(),
                })
                .collect(),
        },
        subjects: c
            .subjects
            .iter()
            .zip(&subject_paths)
            .map(|(s, paths)| v1::SubjectChange {
                identity: &s.identity,
                description: s.identity.to_string(),
                gained: s.gained.iter().map(Into::into).collect(),
                lost: s.lost.iter().map(Into::into).collect(),
                reach_gained: paths.iter().map(ResolvedReached::view).collect(),
                reach_lost: &s.reach_lost,
            })
            .collect(),
        topology_changed: c.topology_changed,
    };
    crate::answers::write_sorted(w, &doc, true)
}

fn resolve<'p>(
    policy: &'p Policy,
    reached: &'p [Reached],
) -> Vec<crate::answers::ResolvedReached<'p>> {
    reached
        .iter()
        .map(|r| crate::answers::ResolvedReached::new(policy, r))
        .collect()
}

fn side<'a>(label: &'a str, report: &'a Report<'a>) -> crate::schema::v1::DiffSide<'a> {
    crate::schema::v1::DiffSide {
        label,
        topologies: report.topologies.iter().map(Into::into).collect(),
        findings: report.findings.len(),
        unreadable: report.unreadable,
    }
}
