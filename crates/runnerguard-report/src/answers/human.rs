//! The RBAC answers for people: `yes`/`no` with `--explain`, the `who-can` and `can-i --list`
//! tables, the `paths` listings.
//!
//! Bindings, roles, grants and escalation steps are worded by [`crate::evidence`], as the
//! audit's evidence is. Names and file names are input: they are shown escaped
//! ([`Escaped`]), so that a name holding ESC or a newline cannot rewrite the terminal
//! (issue #9, T1).

use std::collections::HashSet;
use std::io::{self, Write};

use runnerguard_audit::{EscalationStep, GrantPath};
use runnerguard_engine::{
    Action, Grant, Mismatch, Policy, Reached, ResolveError, SubjectGrant, Target, kubectl,
};
use runnerguard_model::{Binding, PolicyRule, Subject};

use super::{AllServiceAccounts, CanI, Effective, Paths, RuleList, WhoCan, WhoCanEffective};
use crate::{Escaped, escape, evidence, table};

/// `RoleBinding teams/deployer (file:line)`, escaped.
fn binding(b: &Binding) -> String {
    escape(&evidence::object(&b.object_ref())).into_owned()
}

/// `ns/name`, or `name` without a namespace, escaped.
fn qualified(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        escape(name).into_owned()
    } else {
        format!("{}/{}", Escaped(namespace), Escaped(name))
    }
}

/// `binding → role → rule N: {...}` with the aggregation source when there is one, escaped.
fn grant_path(policy: &Policy, grant: &Grant) -> String {
    escape(&evidence::grant_line(&GrantPath::new(policy, grant))).into_owned()
}

/// A subject as a person reads it, escaped; a ServiceAccount's empty namespace is resolved
/// against the binding's, as the authorizer does.
fn subject(s: &Subject, binding_namespace: &str) -> String {
    if s.kind == "ServiceAccount" {
        let ns = if s.namespace.is_empty() {
            binding_namespace
        } else {
            &s.namespace
        };
        if ns.is_empty() {
            return format!(
                "ServiceAccount {} (no namespace: matches nobody)",
                Escaped(&s.name)
            );
        }
        return format!("ServiceAccount {}/{}", Escaped(ns), Escaped(&s.name));
    }
    format!("{} {}", Escaped(&s.kind), Escaped(&s.name))
}

/// Why one rule does not allow the action, one sentence per difference, escaped (it quotes
/// the rule and the request).
fn mismatch(m: Mismatch, rule: &PolicyRule, b: &Binding, action: &Action) -> String {
    escape(&mismatch_text(m, rule, b, action)).into_owned()
}

fn mismatch_text(m: Mismatch, rule: &PolicyRule, b: &Binding, action: &Action) -> String {
    let list = |v: &[String]| {
        let items: Vec<String> = v.iter().map(|s| format!("{s:?}")).collect();
        format!("[{}]", items.join(", "))
    };
    match (m, &action.target) {
        (Mismatch::Verb, _) => format!(
            "verb: the rule allows {} but not `{}`",
            list(&rule.verbs),
            action.verb
        ),
        (Mismatch::ApiGroup, Target::Resource(r)) => format!(
            "API group: the rule covers {} but not {:?}{}",
            list(&rule.api_groups),
            r.api_group,
            if r.api_group.is_empty() {
                " (the core group)"
            } else {
                ""
            }
        ),
        (Mismatch::Resource, Target::Resource(r)) => {
            let combined = if r.subresource.is_empty() {
                r.resource.clone()
            } else {
                format!("{}/{}", r.resource, r.subresource)
            };
            if !r.subresource.is_empty() && rule.resources.contains(&r.resource) {
                format!(
                    "resource: the rule lists `{}` but not `{combined}`; a subresource must be listed itself (`{combined}`, or `*/{}` for any resource)",
                    r.resource, r.subresource
                )
            } else if rule
                .resources
                .iter()
                .any(|x| *x == format!("{}/*", r.resource))
            {
                format!(
                    "resource: `{}/*` is literal in RBAC and matches no request; list `{combined}`",
                    r.resource
                )
            } else {
                format!(
                    "resource: the rule lists {} but not `{combined}`",
                    list(&rule.resources)
                )
            }
        }
        (Mismatch::ResourceName, Target::Resource(r)) => {
            if r.name.is_empty() {
                format!(
                    "name: the rule is limited to resourceNames {}, which never match a request without a name (list, watch, create, deletecollection)",
                    list(&rule.resource_names)
                )
            } else {
                format!(
                    "name: {:?} is not among the rule's resourceNames {}",
                    r.name,
                    list(&rule.resource_names)
                )
            }
        }
        (Mismatch::NonResourceUrl, Target::NonResource { path }) => format!(
            "URL: {path:?} is not matched by {} (a trailing `*` matches by prefix; `*` elsewhere is literal)",
            list(&rule.non_resource_urls)
        ),
        (Mismatch::RequestType, Target::Resource(_)) => {
            "type: the rule is about non-resource URLs, the request about a resource".to_owned()
        }
        (Mismatch::RequestType, Target::NonResource { .. }) => {
            "type: the rule is about resources, the request about a non-resource URL".to_owned()
        }
        (Mismatch::Namespace, target) => {
            // A request on a Namespace is in a namespace only when it names one, and then in
            // that one (issue #8, point 9): say so, it is not what `-n` suggests.
            let on_namespaces = matches!(
                target,
                Target::Resource(r) if r.api_group.is_empty() && r.resource == "namespaces"
            );
            if action.namespace.is_empty() {
                let by_name = if on_namespaces {
                    " (only get, update, patch and delete of one Namespace by name are made in a namespace: that one)"
                } else {
                    ""
                };
                format!(
                    "namespace: a RoleBinding grants only inside its namespace ({:?}); this request is cluster-wide{by_name}",
                    b.namespace
                )
            } else if on_namespaces {
                format!(
                    "namespace: the RoleBinding is in namespace {:?}; a request on Namespace {ns:?} is made in {ns:?} itself",
                    b.namespace,
                    ns = action.namespace
                )
            } else {
                format!(
                    "namespace: the RoleBinding is in namespace {:?}; it grants nothing in {:?}",
                    b.namespace, action.namespace
                )
            }
        }
        (m, _) => format!("{m:?}"),
    }
}

/// A path's steps, numbered, one line per binding → role → rule under each step.
fn write_path(w: &mut dyn Write, policy: &Policy, r: &Reached) -> io::Result<()> {
    for (i, step) in r.path.iter().enumerate() {
        let lines = evidence::escalation_lines(&EscalationStep::new(policy, step));
        for (j, l) in lines.iter().enumerate() {
            let line = format!("{:indent$}{}", "", Escaped(&l.text), indent = 2 * l.depth);
            if j == 0 {
                writeln!(w, "  {}. {line}", i + 1)?;
            } else {
                writeln!(w, "     {line}")?;
            }
        }
    }
    Ok(())
}

/// One line per applicable binding whose role does not exist, worded by `line` from the
/// binding and the error.
fn missing_roles(
    policy: &Policy,
    errors: &[ResolveError],
    line: impl Fn(String, &str) -> String,
) -> Vec<String> {
    errors
        .iter()
        .map(|e| line(binding(policy.binding(e.binding)), &e.message))
        .collect()
}

fn yes_no(allowed: bool) -> &'static str {
    if allowed { "yes" } else { "no" }
}

impl CanI<'_> {
    /// `yes` or `no`, then with `explain` the identity, the request, and the grants that
    /// allow it or the closest rules and what differs in each.
    pub fn human(&self, w: &mut dyn Write, explain: bool) -> io::Result<()> {
        writeln!(w, "{}", yes_no(self.decision.allowed))?;
        if !explain {
            return Ok(());
        }
        let (policy, user, action, decision) = (self.policy, self.user, self.action, self.decision);
        writeln!(w)?;
        writeln!(w, "identity: {}", Escaped(user))?;
        writeln!(w, "request:  {}", Escaped(action))?;
        if decision.allowed {
            writeln!(w, "allowed by:")?;
            for g in &decision.grants {
                let b = policy.binding(g.binding);
                writeln!(w, "  {}", grant_path(policy, g))?;
                writeln!(
                    w,
                    "      subject {} matches; rule {}",
                    b.subjects
                        .get(g.subject_index)
                        .map(|s| subject(s, &b.namespace))
                        .unwrap_or_default(),
                    Escaped(policy.rule(g))
                )?;
            }
        } else if let Some(closest) = self.near_misses.first() {
            let n = closest.mismatches.len();
            writeln!(
                w,
                "no rule allows it; the closest ({n} difference{}):",
                if n == 1 { "" } else { "s" }
            )?;
            for m in self.near_misses {
                let b = policy.binding(m.grant.binding);
                let rule = policy.rule(&m.grant);
                writeln!(w, "  {}", grant_path(policy, &m.grant))?;
                writeln!(w, "      rule {}", Escaped(rule))?;
                for &mm in &m.mismatches {
                    writeln!(w, "      - {}", mismatch(mm, rule, b, action))?;
                }
            }
        } else {
            writeln!(
                w,
                "no binding names this user or any of its groups{}",
                if user.groups.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", Escaped(user.groups.join(", ")))
                }
            )?;
        }
        for e in &decision.errors {
            let b = policy.binding(e.binding);
            writeln!(
                w,
                "note: {} grants nothing: {}",
                binding(b),
                Escaped(&e.message)
            )?;
        }
        Ok(())
    }
}

impl Effective<'_> {
    /// `can-i --effective`: `yes` or `no`, then with `explain` the path and the grant.
    pub fn can_i_human(&self, w: &mut dyn Write, explain: bool) -> io::Result<()> {
        let d = self.decision;
        writeln!(w, "{}", yes_no(d.allowed))?;
        if !explain {
            return Ok(());
        }
        writeln!(w)?;
        writeln!(w, "identity: {}", Escaped(self.user))?;
        writeln!(w, "request:  {}", Escaped(self.action))?;
        match &d.via {
            None => writeln!(
                w,
                "neither directly nor through any identity it can become (see `runnerguard paths`)"
            )?,
            Some(via) => {
                if !via.path.is_empty() {
                    writeln!(w, "as {}:", Escaped(&via.identity))?;
                    write_path(w, self.policy, via)?;
                }
                self.write_grant(w, via, "")?;
            }
        }
        Ok(())
    }

    /// `paths --to`: `yes` with the path and the grant, or `no`.
    pub fn paths_human(&self, w: &mut dyn Write) -> io::Result<()> {
        let d = self.decision;
        let name = Escaped(&self.user.name);
        let action = Escaped(self.action);
        match &d.via {
            None => writeln!(
                w,
                "no: {name} cannot reach `{action}`, directly or through any identity it can become"
            )?,
            Some(via) => {
                writeln!(w, "yes")?;
                if via.path.is_empty() {
                    writeln!(w, "{name} may `{action}` itself")?;
                } else {
                    writeln!(
                        w,
                        "{name} reaches `{action}` as {}:",
                        Escaped(&via.identity)
                    )?;
                    write_path(w, self.policy, via)?;
                }
                self.write_grant(w, via, "  ")?;
            }
        }
        Ok(())
    }

    /// The grant that allows the request to `via`'s identity, or that the identity holds
    /// every permission in scope.
    fn write_grant(&self, w: &mut dyn Write, via: &Reached, indent: &str) -> io::Result<()> {
        match &self.decision.grant {
            Some(g) => writeln!(w, "{indent}allowed by {}", grant_path(self.policy, g)),
            None => writeln!(
                w,
                "{indent}({} holds every permission in scope)",
                Escaped(&via.identity)
            ),
        }
    }
}

impl RuleList<'_> {
    /// kubectl's table: the rules broken down, compacted and sorted ([`kubectl::list_rows`]).
    pub fn human(&self, w: &mut dyn Write, headers: bool) -> io::Result<()> {
        let mut rows = Vec::new();
        if headers {
            rows.push(kubectl::ListRow::HEADER.map(str::to_owned).to_vec());
        }
        rows.extend(
            kubectl::list_rows(self.rules.rules.iter().map(|e| self.policy.rule(&e.grant)))
                .into_iter()
                .map(|row| row.into_cells().to_vec()),
        );
        table::write(w, &rows)
    }

    /// Why the list may be incomplete, one warning per binding whose role does not exist.
    pub fn warnings(&self) -> Vec<String> {
        missing_roles(self.policy, &self.rules.errors, |binding, message| {
            format!("the list may be incomplete: {binding}: {message}")
        })
    }
}

impl WhoCan<'_> {
    /// The table: who, through which binding and role, written where; identical rows once.
    pub fn human(&self, w: &mut dyn Write, headers: bool) -> io::Result<()> {
        let mut rows: Vec<Vec<String>> = Vec::new();
        if headers {
            rows.push(
                ["SUBJECT", "BINDING", "ROLE", "SOURCE"]
                    .map(str::to_owned)
                    .to_vec(),
            );
        }
        let mut seen = HashSet::new();
        for s in self.subjects {
            let row = self.row(s);
            if seen.insert(row.clone()) {
                rows.push(row);
            }
        }
        table::write(w, &rows)
    }

    fn row(&self, s: &SubjectGrant) -> Vec<String> {
        let Some(g) = &s.grant else {
            return vec![
                subject(&s.subject, ""),
                "(none needed)".to_owned(),
                "(superuser group)".to_owned(),
                "API server".to_owned(),
            ];
        };
        let b = self.policy.binding(g.binding);
        let r = self.policy.role(g.role);
        vec![
            subject(&s.subject, &b.namespace),
            format!("{} {}", b.kind, qualified(&b.namespace, &b.name)),
            format!("{} {}", r.kind, qualified(&r.namespace, &r.name)),
            b.origin.to_string(),
        ]
    }

    /// One warning per applicable binding whose role does not exist.
    pub fn warnings(&self) -> Vec<String> {
        missing_roles(self.policy, self.errors, |binding, message| {
            format!("{binding} grants nothing: {message}")
        })
    }
}

impl WhoCanEffective<'_> {
    /// The table: who, how (directly, or as which identity through which edges), and the
    /// binding and role that allow it.
    pub fn human(&self, w: &mut dyn Write, headers: bool) -> io::Result<()> {
        let mut rows: Vec<Vec<String>> = Vec::new();
        if headers {
            rows.push(["SUBJECT", "HOW", "ALLOWED BY"].map(str::to_owned).to_vec());
        }
        for (s, via, grant) in self.subjects {
            let how = if via.path.is_empty() {
                "directly".to_owned()
            } else {
                let steps: Vec<String> = via
                    .path
                    .iter()
                    .map(|p| format!("{:?}", p.primitive))
                    .collect();
                format!("as {} ({})", Escaped(&via.identity), steps.join(" → "))
            };
            let by = grant.as_ref().map_or_else(
                || "holds everything in scope".to_owned(),
                |g| {
                    let b = self.policy.binding(g.binding);
                    let r = self.policy.role(g.role);
                    format!(
                        "{} {} → {} {}",
                        b.kind,
                        qualified(&b.namespace, &b.name),
                        r.kind,
                        qualified(&r.namespace, &r.name)
                    )
                },
            );
            rows.push(vec![subject(s, &s.namespace), how, by]);
        }
        table::write(w, &rows)
    }
}

impl Paths<'_> {
    /// How many identities the subject can become, then each with its path.
    pub fn human(&self, w: &mut dyn Write) -> io::Result<()> {
        let scope = self
            .namespace
            .map(|ns| format!(" in namespace `{}` (or cluster-wide)", Escaped(ns)))
            .unwrap_or_default();
        let name = Escaped(&self.user.name);
        let shown = self.reached;
        if shown.is_empty() {
            writeln!(w, "{name} can become no other identity{scope}")?;
        } else {
            writeln!(
                w,
                "{name} can become {} identit{}{scope}:",
                shown.len(),
                if shown.len() == 1 { "y" } else { "ies" }
            )?;
            for r in shown {
                writeln!(w)?;
                writeln!(w, "{}", Escaped(&r.identity))?;
                write_path(w, self.policy, r)?;
            }
        }
        Ok(())
    }
}

impl AllServiceAccounts<'_> {
    /// How many ServiceAccounts can become another identity, then each with the first three
    /// identities it can become.
    pub fn human(&self, w: &mut dyn Write) -> io::Result<()> {
        let results = self.accounts;
        let escalating = results.iter().filter(|(_, _, r)| !r.is_empty()).count();
        writeln!(
            w,
            "{} ServiceAccounts; {escalating} can become another identity",
            results.len()
        )?;
        for (ns, name, reached) in results.iter().filter(|(_, _, r)| !r.is_empty()) {
            let shown: Vec<String> = reached
                .iter()
                .take(3)
                .map(|r| Escaped(r).to_string())
                .collect();
            let more = reached.len().saturating_sub(3);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            writeln!(
                w,
                "ServiceAccount {}/{} → {}{more}",
                Escaped(ns),
                Escaped(name),
                shown.join("; ")
            )?;
        }
        Ok(())
    }
}
