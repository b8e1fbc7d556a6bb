//! RB009 `broad-group-grant`: `system:authenticated`, `system:unauthenticated` or
//! `system:serviceaccounts` gets more than the defaults.

use runnerguard_engine::{Grant, UserInfo, covers};
use runnerguard_model::{PolicyRule, SubjectKind};

use super::{Groups, Scope, everyone_group, evidence, input_bindings, through};
use crate::rules::common::{describe_at_most, exists};
use crate::{Context, Finding, Rule, RuleMeta, Severity, declare_rule};

declare_rule! {
    /// ## What it flags
    /// An input binding whose subjects include a group that authentication gives to
    /// everyone of a kind, and that grants it more than Kubernetes' default bindings already
    /// do:
    ///
    /// - `system:authenticated`: every person and every ServiceAccount token (high);
    /// - `system:unauthenticated`: anonymous requests (high);
    /// - `system:serviceaccounts`: every ServiceAccount of every namespace (high);
    /// - `system:serviceaccounts:<namespace>`: every ServiceAccount of one namespace, so
    ///   every pod there (medium).
    ///
    /// "More than the defaults" is the escalation check's own comparison (`Covers`): each
    /// permission of the bound role that the group's default rules (`system:basic-user`,
    /// `system:discovery`, `system:public-info-viewer`, ...) do not cover. One finding per
    /// group and scope, listing the bindings and the extra permissions.
    ///
    /// ## Why it matters
    /// A grant to these groups is a grant to identities nobody reviews one by one: every
    /// pod's token (including every CI job's, whatever its own ServiceAccount holds), every
    /// user the identity provider knows, or anyone who can reach the API server. A
    /// convenient "let everything read ConfigMaps" becomes every workload's power, and
    /// `system:unauthenticated` needs no credential at all.
    ///
    /// ## How to fix
    /// Bind the role to the groups or ServiceAccounts that need it. For a workload, bind its
    /// own ServiceAccount in its namespace; for people, a group from the identity provider.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRoleBinding
    /// metadata: {name: everyone-can-view}
    /// subjects:
    /// - {kind: Group, name: system:authenticated}
    /// roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
    /// ```
    pub(crate) struct BroadGroupGrant {
        id: "RB009",
        name: "broad-group-grant",
        severity: High,
        summary: "`system:authenticated`, `system:unauthenticated` or `system:serviceaccounts` gets more than the defaults",
        remediation: "bind the role to the groups or ServiceAccounts that need it, not to everyone",
    }
}

impl Rule for BroadGroupGrant {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let mut groups: Groups<Scope> = Groups::default();
        for (id, b) in input_bindings(cx) {
            let Ok(role) = cx.policy.binding_role(id) else {
                continue;
            };
            let scope = Scope::of(b);
            for (subject_index, s) in b.subjects.iter().enumerate() {
                if SubjectKind::parse(&s.kind) != Some(SubjectKind::Group)
                    || everyone_group(&s.name).is_none()
                {
                    continue;
                }
                let defaults = default_rules(cx, &s.name, scope.namespace());
                for (rule_index, rule) in cx.policy.role(role).rules.iter().enumerate() {
                    let (_, uncovered) = covers(&defaults, std::slice::from_ref(rule));
                    let extra: Vec<PolicyRule> = uncovered
                        .into_iter()
                        .filter(exists)
                        // Non-resource requests carry no namespace: a RoleBinding never grants them.
                        .filter(|p| scope == Scope::Cluster || p.non_resource_urls.is_empty())
                        .collect();
                    let grant = Grant {
                        binding: id,
                        subject_index,
                        role,
                        rule_index,
                    };
                    for p in extra {
                        let subject = runnerguard_model::Subject::new("Group", &s.name);
                        groups.add(subject, scope.clone(), grant.clone(), Some(&p));
                    }
                }
            }
        }
        for (subject, scope, group) in groups {
            let everyone = everyone_group(&subject.name).unwrap_or_default();
            let via = through(cx, &group.grants);
            let mut f = Finding::new(
                self.meta(),
                format!(
                    "{subject} ({everyone}) gets more than the defaults {scope} through {via}: {}",
                    describe_at_most(group.perm_rules(), 6)
                ),
            )
            .remediation(format!(
                "bind the role of {via} to the groups or ServiceAccounts that need it instead of {subject}"
            ));
            if subject.name.starts_with("system:serviceaccounts:") {
                f = f.severity(Severity::Medium);
            }
            out.push(evidence(cx, f, &group.grants));
        }
    }
}

/// The rules Kubernetes' default bindings give the group `group` in `namespace` (empty:
/// cluster-wide).
fn default_rules(cx: &Context<'_>, group: &str, namespace: &str) -> Vec<PolicyRule> {
    let member = UserInfo::new("", [group]);
    cx.policy
        .rules_for(&member, namespace)
        .rules
        .iter()
        .filter(|e| cx.policy.binding(e.grant.binding).origin.is_builtin())
        .map(|e| cx.policy.rule(&e.grant).clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::BroadGroupGrant;
    use crate::Severity;
    use crate::rules::testing::{JOBS, run};

    fn binding(group: &str, role: &str) -> String {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: b}}\nsubjects: [{{kind: Group, name: \"{group}\"}}]\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}\n"
        )
    }

    #[test]
    fn rebinding_a_default_grants_nothing_new() {
        let out = run(
            &BroadGroupGrant,
            &binding("system:authenticated", "system:basic-user"),
            JOBS,
        );
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn view_for_everyone_is_flagged_and_one_namespace_is_medium() {
        let out = run(
            &BroadGroupGrant,
            &binding("system:authenticated", "view"),
            JOBS,
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].severity, Severity::High);
        let out = run(
            &BroadGroupGrant,
            &binding("system:serviceaccounts:teams", "view"),
            JOBS,
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].severity, Severity::Medium);
    }
}
