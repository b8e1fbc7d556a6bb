//! RG104 `job-reaches-manager-namespace`: an identity job pods have or can become may read or
//! change objects in the runner manager's namespace.

use runnerguard_engine::{Grant, breakdown_rule};
use runnerguard_model::{BindingKind, PolicyRule, is_namespaced};

use super::{MAX_TARGETS, binding_names, how, identity_evidence};
use crate::rules::common::{describe_at_most, exists};
use runnerguard_engine::Action;

use crate::{Context, Evidence, Finding, Rule, RuleMeta, declare_rule, qualified};

declare_rule! {
    /// ## What it flags
    /// An identity that job pods have, or can become, that holds any right in the runner
    /// manager's namespace: a RoleBinding there that names it (directly or through one of
    /// its groups, such as `system:serviceaccounts:teams` or `system:serviceaccounts`), or a
    /// ClusterRoleBinding whose rules reach namespaced objects (and so that namespace too).
    ///
    /// The identities are the ones job pods have: the job pods' ServiceAccount in each job
    /// namespace (whether or not its token is mounted: the identity is the jobs', and any pod
    /// that runs as it gets its token), and the anonymous identity any pod has on the API
    /// server's network. (In code: `Context::job_identities`, the one place the escalation
    /// analysis widens to every identity they can become.) Kubernetes' default bindings
    /// (discovery, self-reviews) are not counted; rules on cluster-scoped objects only (nodes,
    /// namespaces) are left to the RBAC rules, except `nodes/proxy`, which reaches every pod
    /// on a node.
    ///
    /// ## Why it matters
    /// The manager's namespace holds the runner's authentication token Secret, its
    /// configuration, and the manager pod with its ServiceAccount token. CI jobs run code that
    /// anyone who can push to a project wrote. A job that can read a Secret there registers its
    /// own runners and receives other projects' jobs with their CI variables; one that can
    /// exec into the manager or change its ConfigMap or Deployment controls every later job.
    /// Even `list` on pods or ConfigMaps leaks the runner's setup to every job.
    ///
    /// ## How to fix
    /// Job identities need no right in the manager's namespace. Delete RoleBindings there that
    /// name a job ServiceAccount or a group it belongs to, and ClusterRoleBindings that give job
    /// ServiceAccounts (or `system:serviceaccounts`, `system:authenticated`,
    /// `system:unauthenticated`) rights on namespaced objects. Deploy rights belong in a Role
    /// in the namespaces the jobs deploy to.
    ///
    /// ## Example
    /// ```yaml
    /// kind: RoleBinding
    /// metadata: {name: ci-read, namespace: gitlab-runner}   # the manager's namespace
    /// subjects:
    /// - kind: Group
    ///   name: system:serviceaccounts:teams                  # every job ServiceAccount
    /// roleRef: {kind: ClusterRole, name: view}             # flagged
    /// ```
    pub(crate) struct JobReachesManagerNamespace {
        id: "RG104",
        name: "job-reaches-manager-namespace",
        severity: Critical,
        summary: "an identity job pods have or can become may read or change objects in the runner manager's namespace",
        remediation: "remove every binding that gives job identities rights in the manager's namespace or on namespaced objects cluster-wide",
    }
}

impl Rule for JobReachesManagerNamespace {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ns = &cx.topology.manager_namespace;
        for id in cx.job_identities() {
            // Every rule of every binding that applies in the manager's namespace: its
            // RoleBindings and every ClusterRoleBinding.
            let grants: Vec<(Grant, Vec<PolicyRule>)> = cx
                .policy
                .rules_for(&id.user, ns)
                .rules
                .into_iter()
                .filter_map(|e| {
                    let b = cx.policy.binding(e.grant.binding);
                    if b.origin.is_builtin() {
                        return None;
                    }
                    let rule = cx.policy.rule(&e.grant);
                    let reach = reaching(rule, b.kind == BindingKind::ClusterRoleBinding);
                    (!reach.is_empty()).then_some((e.grant, reach))
                })
                .collect();
            if grants.is_empty() {
                // Identities that hold everything in a scope (cluster-admin, every permission
                // of a namespace, a role bound with `bind`) have no rules to list.
                let probe = Action::resource("get", ns, "", "secrets", "", "runner-token");
                if id.identity.user_info().is_none()
                    && cx.identity_allows(&id.identity, &probe).is_some()
                {
                    out.push(
                        Finding::new(
                            self.meta(),
                            format!("a job can become {}, which reaches `{ns}`, the runner manager's namespace", id.identity),
                        )
                        .evidence(identity_evidence(cx, id, how(id))),
                    );
                }
                continue;
            }
            let what = describe_at_most(grants.iter().flat_map(|(_, p)| p), MAX_TARGETS);
            let mut f = Finding::new(
                self.meta(),
                format!(
                    "{} may act in `{ns}`, the runner manager's namespace: {what}",
                    if id.path.is_empty() {
                        who(&id.user.name)
                    } else {
                        format!("{}, which a job can become,", id.identity)
                    }
                ),
            )
            .evidence(identity_evidence(
                cx,
                id,
                format!("{}: {}", id.user.name, how(id)),
            ));
            for (g, _) in &grants {
                let b = cx.policy.binding(g.binding);
                let scope = match b.kind {
                    BindingKind::RoleBinding => format!("in `{}`", b.namespace),
                    BindingKind::ClusterRoleBinding => format!("cluster-wide (so in `{ns}` too)"),
                };
                f = f
                    .evidence(Evidence::fact_under(
                        format!(
                            "{} is granted, {scope}:",
                            b.subjects
                                .get(g.subject_index)
                                .map_or_else(String::new, ToString::to_string)
                        ),
                        vec![cx.grant_evidence(g)],
                    ))
                    .grant_objects(cx, g);
            }
            f = f.remediation(format!(
                "delete {} (or remove the job identity and its groups from the subjects): job identities need no right in `{ns}`",
                binding_names(cx, grants.iter().map(|(g, _)| g))
            ));
            out.push(f);
        }
    }
}

/// A readable name for a job identity.
fn who(user: &str) -> String {
    match runnerguard_model::split_service_account_user(user) {
        Some((ns, name)) => format!("the job pods' ServiceAccount {}", qualified(ns, name)),
        None if user == "system:anonymous" => {
            "any job pod, anonymously (system:anonymous),".to_owned()
        }
        None => format!("job identity {user}"),
    }
}

/// The single permissions of `rule` that reach objects in a namespace: resource rules, and
/// from a ClusterRoleBinding only those on namespaced (or unknown, or `*`) resources, plus
/// `nodes/proxy`. Pairs no API serves are dropped.
fn reaching(rule: &PolicyRule, cluster: bool) -> Vec<PolicyRule> {
    if rule.resources.is_empty() {
        return Vec::new();
    }
    breakdown_rule(rule)
        .into_iter()
        .filter(|p| !p.resources.is_empty() && exists(p))
        .filter(|p| {
            if !cluster {
                return true;
            }
            let group = p.api_groups.first().map_or("", String::as_str);
            let resource = p.resources.first().map_or("", String::as_str);
            resource == "nodes/proxy" || is_namespaced(group, resource) != Some(false)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_scoped_rules_do_not_reach_a_namespace_except_node_proxy() {
        let r = PolicyRule::resource(
            &[""],
            &["nodes", "namespaces", "nodes/proxy", "secrets"],
            &["get"],
        );
        let reach: Vec<String> = reaching(&r, true)
            .iter()
            .map(|p| p.resources[0].clone())
            .collect();
        assert_eq!(reach, ["nodes/proxy", "secrets"]);
        assert_eq!(reaching(&r, false).len(), 4);
        assert_eq!(
            reaching(&PolicyRule::resource(&["*"], &["*"], &["*"]), true).len(),
            1
        );
    }
}
