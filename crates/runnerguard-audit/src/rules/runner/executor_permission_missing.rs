//! RG102 `executor-permission-missing`: the manager's ServiceAccount lacks a permission the
//! Kubernetes executor needs in a job namespace: jobs will fail.

use std::collections::HashSet;

use runnerguard_engine::{Action, Grant, Mismatch, UserInfo, applies_to};
use runnerguard_model::{BindingKind, RoleKind};

use crate::executor::{Need, Permission, Scope};
use crate::{Context, Evidence, Finding, Rule, RuleMeta, Severity, declare_rule, qualified};

declare_rule! {
    /// ## What it flags
    /// A job namespace where the runner manager's ServiceAccount lacks a permission that the
    /// Kubernetes executor of the target runner version needs there (the executor permission
    /// table, knowledge/gitlab-runner.md §1). Each verb of each namespaced row is put to the
    /// authorizer as the manager would send it (exec and attach are `create` on the
    /// `pods/exec` and `pods/attach` subresources).
    ///
    /// - Rows the executor cannot work without (create, get and delete `pods`, `create` on
    ///   `pods/exec` and `pods/attach`, the per-job registry `secrets`): one finding per job
    ///   namespace, at the rule's severity, listing every missing permission.
    /// - Rows whose absence only degrades jobs (the pod informer's `list`/`watch` on `pods`,
    ///   `list` on `events` for the warning events in failed jobs' logs): a separate finding,
    ///   at severity medium.
    /// - Rows needed only for an optional feature (Services for declared ports, the
    ///   ServiceAccount existence check, `namespace_per_job`, ...) are not checked.
    ///
    /// The evidence names, for each missing permission, the rule the manager holds that comes
    /// closest (binding → role → rule, and what differs), so it is clear which Role to extend.
    ///
    /// ## Why it matters
    /// Without these rights every job fails, or fails in ways that are hard to trace back to
    /// RBAC: without `pods/exec` the runner cannot write the stage scripts into the pod, without
    /// `pods/attach` it cannot start them (the default execution strategy), without `secrets`
    /// create it cannot pass registry credentials. The usual reaction, granting broad rights
    /// until jobs pass, is how managers end up with far more than they need (RG103).
    ///
    /// ## How to fix
    /// Bind the executor Role of the runner version in every job namespace, for example (runner
    /// 18.x):
    ///
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["pods"]
    ///   verbs: ["create", "delete", "get", "list", "watch"]
    /// - apiGroups: [""]
    ///   resources: ["pods/exec", "pods/attach"]
    ///   verbs: ["create"]
    /// - apiGroups: [""]
    ///   resources: ["secrets"]
    ///   verbs: ["create", "delete", "get", "update"]
    /// - apiGroups: [""]
    ///   resources: ["events"]
    ///   verbs: ["list"]
    /// ```
    ///
    /// `runnerguard generate` writes it, with the optional rows the configuration needs.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Role                 # bound to the manager in job namespace `teams`
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["pods", "pods/log", "secrets"]
    ///   verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
    ///   # flagged: no `create` on pods/exec and pods/attach, so every job fails
    /// ```
    pub(crate) struct ExecutorPermissionMissing {
        id: "RG102",
        name: "executor-permission-missing",
        severity: High,
        summary: "the manager's ServiceAccount lacks a permission the Kubernetes executor needs in a job namespace: jobs will fail",
        remediation: "bind the executor Role of the runner version in each job namespace (pods, pods/exec, pods/attach, secrets, events)",
    }
}

impl Rule for ExecutorPermissionMissing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let manager = cx.manager();
        let manager_name = cx.manager_name();
        // The namespaces where an input RoleBinding names the manager, found in one pass
        // when first asked: asked per job namespace, a scan of every binding was quadratic
        // (3,000 job namespaces next to 130,000 bindings: 15 s; issue #13).
        let bound_in: std::cell::OnceCell<HashSet<&str>> = std::cell::OnceCell::new();
        let bound_in = || {
            bound_in.get_or_init(|| {
                cx.policy
                    .bindings()
                    .iter()
                    .filter(|b| {
                        b.kind == BindingKind::RoleBinding
                            && !b.origin.is_builtin()
                            && applies_to(&manager, &b.subjects, &b.namespace).is_some()
                    })
                    .map(|b| b.namespace.as_str())
                    .collect()
            })
        };
        for ns in cx.topology.job_namespaces() {
            for need in [Need::Required, Need::Degraded] {
                let missing = missing(cx, &manager, ns, need);
                if missing.is_empty() {
                    continue;
                }
                let list = missing
                    .iter()
                    .map(|m| format!("{} {}", m.verb, m.target))
                    .collect::<Vec<_>>()
                    .join(", ");
                let message = match need {
                    Need::Required => format!(
                        "the manager ServiceAccount {manager_name} cannot {list} in `{ns}`: jobs will fail"
                    ),
                    _ => format!(
                        "the manager ServiceAccount {manager_name} cannot {list} in `{ns}`: jobs run degraded"
                    ),
                };
                let mut f = Finding::new(self.meta(), message);
                if need != Need::Required {
                    f = f.severity(Severity::Medium);
                }
                if let Some(n) = cx.namespace(ns) {
                    f = f.object(n.object_ref());
                }
                // Why each row is needed, once per row.
                let mut rows: Vec<(&Permission, Vec<&str>)> = Vec::new();
                for m in &missing {
                    match rows
                        .iter_mut()
                        .find(|(p, _)| std::ptr::eq(*p, m.permission))
                    {
                        Some((_, verbs)) => verbs.push(m.verb),
                        None => rows.push((m.permission, vec![m.verb])),
                    }
                }
                for (p, verbs) in &rows {
                    f = f.fact(format!(
                        "{} ({}): {}",
                        target(&p.group, &p.resource),
                        verbs.join(", "),
                        p.why
                    ));
                }
                // The closest rules the manager holds, each once, with what it would cover.
                let mut closest: Vec<(&Grant, &[Mismatch], Vec<String>)> = Vec::new();
                for m in &missing {
                    let Some((grant, mismatches)) = &m.nearest else {
                        continue;
                    };
                    let what = format!("{} {}", m.verb, m.target);
                    match closest
                        .iter_mut()
                        .find(|(g, mm, _)| *g == grant && *mm == mismatches.as_slice())
                    {
                        Some((_, _, v)) => v.push(what),
                        None => closest.push((grant, mismatches, vec![what])),
                    }
                }
                if closest.is_empty() {
                    f = f.fact(if bound_in().contains(ns) {
                        format!("no rule the manager holds in `{ns}` comes close")
                    } else {
                        format!(
                            "no RoleBinding in `{ns}` names the manager ServiceAccount (or a group of it)"
                        )
                    });
                }
                for (grant, mismatches, what) in &closest {
                    f = f
                        .evidence(Evidence::fact_under(
                            format!(
                                "closest rule held for {} (differs in {}):",
                                what.join(", "),
                                describe_mismatches(mismatches),
                            ),
                            vec![cx.grant_evidence(grant)],
                        ))
                        .grant_objects(cx, grant);
                }
                // A Role to extend: a namespaced Role bound in this namespace, close to it.
                let mut roles: Vec<String> = Vec::new();
                for (grant, mismatches, _) in &closest {
                    let b = cx.policy.binding(grant.binding);
                    let role = cx.policy.role(grant.role);
                    if b.kind == BindingKind::RoleBinding
                        && b.namespace == ns
                        && role.kind == RoleKind::Role
                        && !mismatches.contains(&Mismatch::Namespace)
                    {
                        let name = format!("Role {}", qualified(&role.namespace, &role.name));
                        if !roles.contains(&name) {
                            roles.push(name);
                        }
                    }
                }
                let rules = missing_rules_yaml(&rows);
                let remediation = if roles.is_empty() {
                    format!(
                        "bind the executor Role of runner {} to {manager_name} in `{ns}` (RoleBinding), with at least {rules}",
                        cx.executor.name
                    )
                } else {
                    format!(
                        "add {rules} to {} (or bind the executor Role of runner {} in `{ns}`)",
                        roles.join(" / "),
                        cx.executor.name
                    )
                };
                out.push(f.remediation(remediation));
            }
        }
    }
}

/// One verb of one executor permission that the manager lacks in a namespace.
struct Missing<'a> {
    verb: &'a str,
    target: String,
    permission: &'a Permission,
    /// The manager's rule (from a binding the user wrote) closest to allowing it, in this
    /// namespace when there is one.
    nearest: Option<(Grant, Vec<Mismatch>)>,
}

/// The verbs of the namespaced `need` rows of the table that `manager` may not use in `ns`.
fn missing<'a>(cx: &Context<'a>, manager: &UserInfo, ns: &str, need: Need) -> Vec<Missing<'a>> {
    let mut out = Vec::new();
    for p in cx
        .executor
        .permissions
        .iter()
        .filter(|p| p.need == need && p.scope == Scope::Namespace)
    {
        let (resource, subresource) = p.resource.split_once('/').unwrap_or((&p.resource, ""));
        for verb in &p.verbs {
            let action = Action::resource(verb, ns, &p.group, resource, subresource, "");
            if cx.policy.authorize(manager, &action).allowed {
                continue;
            }
            out.push(Missing {
                verb,
                target: target(&p.group, &p.resource),
                permission: p,
                nearest: nearest(cx, manager, &action),
            });
        }
    }
    out
}

/// The closest rule the manager holds for `action`, among bindings the user wrote (the
/// defaults every identity gets say nothing about which Role to extend). Rules of
/// RoleBindings in the action's namespace come first, then those with the fewest differences.
fn nearest(
    cx: &Context<'_>,
    manager: &UserInfo,
    action: &Action,
) -> Option<(Grant, Vec<Mismatch>)> {
    // Among the user's bindings from the start: the defaults' rules, left out afterwards,
    // would hide every user rule that differs in more than the request type.
    let misses = cx
        .policy
        .near_misses_among(manager, action, usize::MAX, |b| !b.origin.is_builtin());
    misses
        .into_iter()
        .min_by_key(|m| {
            let b = cx.policy.binding(m.grant.binding);
            let here = b.kind == BindingKind::RoleBinding && b.namespace == action.namespace;
            (!here, m.mismatches.len())
        })
        .map(|m| (m.grant, m.mismatches))
}

/// `pods/exec`, `deployments.apps`.
fn target(group: &str, resource: &str) -> String {
    if group.is_empty() {
        return resource.to_owned();
    }
    match resource.split_once('/') {
        Some((base, sub)) => format!("{base}.{group}/{sub}"),
        None => format!("{resource}.{group}"),
    }
}

fn describe_mismatches(m: &[Mismatch]) -> String {
    m.iter()
        .map(|m| match m {
            Mismatch::Verb => "verb",
            Mismatch::ApiGroup => "API group",
            Mismatch::Resource => "resource",
            Mismatch::ResourceName => "resource names",
            Mismatch::NonResourceUrl => "URL",
            Mismatch::RequestType => "request type",
            Mismatch::Namespace => "namespace",
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rules that grant exactly the missing permissions, in flow YAML, one per row.
fn missing_rules_yaml(rows: &[(&Permission, Vec<&str>)]) -> String {
    rows.iter()
        .map(|(p, verbs)| {
            format!(
                "{{apiGroups: [{:?}], resources: [{:?}], verbs: [{}]}}",
                p.group,
                p.resource,
                verbs
                    .iter()
                    .map(|v| format!("{v:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{JOBS, bound_role, facts, run};

    /// `get pods` differs from every identity's `system:discovery` rule (`get` on URLs) in
    /// the request type alone, and from the manager's one rule in verb and resource: that
    /// rule is still the closest one the manager holds.
    #[test]
    fn the_closest_rule_is_sought_among_the_users_bindings_only() {
        let yaml = bound_role(
            "teams",
            "runner",
            &[r#"{apiGroups: [""], resources: ["configmaps"], verbs: ["create"]}"#],
            "{kind: ServiceAccount, name: gitlab-runner, namespace: gitlab-runner}",
        );
        let out = run(&ExecutorPermissionMissing, &yaml, JOBS);
        let required = out
            .iter()
            .find(|f| f.severity == Severity::High)
            .expect("an RG102 finding at high");
        let closest: Vec<&str> = facts(required)
            .into_iter()
            .filter(|f| f.starts_with("closest rule held"))
            .collect();
        assert!(
            closest
                .iter()
                .any(|f| f.contains("get pods") && f.contains("get secrets")),
            "{closest:#?}"
        );
        assert!(
            closest.iter().all(|f| !f.contains("request type")),
            "{closest:#?}"
        );
    }

    #[test]
    fn targets_read_like_kubectl() {
        assert_eq!(target("", "pods/exec"), "pods/exec");
        assert_eq!(target("apps", "deployments"), "deployments.apps");
        assert_eq!(
            target("apps", "deployments/scale"),
            "deployments.apps/scale"
        );
    }
}
