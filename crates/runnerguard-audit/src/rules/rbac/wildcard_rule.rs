//! RB002 `wildcard-rule`: a rule uses `*` in verbs, resources or apiGroups.

use std::collections::BTreeMap;

use runnerguard_engine::{BindingId, RoleId};
use runnerguard_model::BindingKind;

use crate::rules::common::and_list;
use crate::{Context, Evidence, Finding, Rule, RuleMeta, declare_rule, qualified};

declare_rule! {
    /// ## What it flags
    /// A Role or ClusterRole from the inputs with a rule that lists `*` in `verbs`,
    /// `resources` or `apiGroups`. One finding per role, listing each such rule and where the
    /// `*` is, and the bindings that use the role.
    ///
    /// An aggregated ClusterRole (one with an `aggregationRule`) is not judged itself: its
    /// rules are copies of the roles it selects, which are judged where they are written.
    /// Kubernetes' default roles (`cluster-admin`, the controllers' roles) are not reported.
    ///
    /// ## Why it matters
    /// `*` grants more than whoever wrote it looked at, and keeps growing: `verbs: ["*"]`
    /// includes `escalate`, `bind`, `impersonate` and `deletecollection`; `resources: ["*"]`
    /// includes `secrets`, `pods/exec`, `serviceaccounts/token` and every subresource;
    /// `apiGroups: ["*"]` includes every CRD installed later. A role written "to make the
    /// deploy job work" with `*` is usually a role that can read every Secret and run pods as
    /// every ServiceAccount of its namespace.
    ///
    /// ## How to fix
    /// List the verbs, API groups and resources the subject uses. `kubectl auth can-i --list
    /// --as SUBJECT` and the API server's audit log show what a workload really calls; the
    /// default `edit` and `view` roles are reviewed starting points.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Role
    /// metadata: {name: deployer, namespace: teams}
    /// rules:
    /// - apiGroups: ["apps"]
    ///   resources: ["*"]          # flagged: every apps resource and subresource
    ///   verbs: ["*"]              # flagged: every verb
    /// ```
    pub(crate) struct WildcardRule {
        id: "RB002",
        name: "wildcard-rule",
        severity: Medium,
        summary: "a rule uses `*` in verbs, resources or apiGroups",
        remediation: "list the verbs, API groups and resources the subject uses instead of `*`",
    }
}

impl Rule for WildcardRule {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        // The bindings that use each role, to show what the wildcard reaches.
        let mut users: BTreeMap<RoleId, Vec<BindingId>> = BTreeMap::new();
        for (id, _) in cx.policy.bindings_with_ids() {
            if let Ok(role) = cx.policy.binding_role(id) {
                users.entry(role).or_default().push(id);
            }
        }
        for (id, role) in cx.policy.roles_with_ids() {
            // Aggregated rules are copies: the roles they come from are judged instead.
            if role.origin.is_builtin() || role.aggregation.is_some() {
                continue;
            }
            let mut rules = Vec::new();
            let mut steps = Vec::new();
            for (i, rule) in role.rules.iter().enumerate() {
                let star = |v: &[String]| v.iter().any(|s| s == "*");
                let fields: Vec<String> = [
                    ("verbs", star(&rule.verbs)),
                    ("resources", star(&rule.resources)),
                    ("apiGroups", star(&rule.api_groups)),
                ]
                .into_iter()
                .filter(|(_, s)| *s)
                .map(|(f, _)| f.to_owned())
                .collect();
                if fields.is_empty() {
                    continue;
                }
                let fields = and_list(&fields);
                rules.push(format!("rule {i} (`*` in {fields})"));
                steps.push(Evidence::rule(
                    i,
                    rule.clone(),
                    Some(format!("`*` in {fields}")),
                ));
            }
            if rules.is_empty() {
                continue;
            }
            let name = qualified(&role.namespace, &role.name);
            let bound: Vec<String> = users
                .get(&id)
                .into_iter()
                .flatten()
                .map(|&b| {
                    let b = cx.policy.binding(b);
                    format!("{} {}", b.kind, qualified(&b.namespace, &b.name))
                })
                .collect();
            let bound_text = match bound.len() {
                0 => "; no binding read uses it".to_owned(),
                _ => format!("; bound by {}", and_list(&bound)),
            };
            let mut f = Finding::new(
                self.meta(),
                format!(
                    "{} {name} grants wildcards: {}{bound_text}",
                    role.kind,
                    and_list(&rules)
                ),
            )
            .remediation(format!(
                "list the verbs, API groups and resources in {} {name} instead of `*`",
                role.kind
            ))
            .object(role.object_ref())
            .evidence(Evidence::object(role.object_ref()));
            for step in steps {
                f = f.evidence(step);
            }
            for &b in users.get(&id).into_iter().flatten() {
                let b = cx.policy.binding(b);
                let scope = match b.kind {
                    BindingKind::ClusterRoleBinding => "cluster-wide".to_owned(),
                    BindingKind::RoleBinding => format!("in namespace `{}`", b.namespace),
                };
                f = f
                    .evidence(Evidence::related_object(
                        format!("bound {scope} by"),
                        b.object_ref(),
                    ))
                    .object(b.object_ref());
            }
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WildcardRule;
    use crate::rules::testing::{JOBS, run};

    #[test]
    fn aggregated_roles_are_judged_on_their_sources() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: widgets-all, labels: {rbac.example.com/aggregate-to-ops: "true"}}
rules:
- {apiGroups: ["example.com"], resources: ["widgets"], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ops}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {rbac.example.com/aggregate-to-ops: "true"}
"#;
        let out = run(&WildcardRule, yaml, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0].message.starts_with(
                "ClusterRole widgets-all grants wildcards: rule 0 (`*` in verbs); no binding"
            ),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn default_roles_are_not_reported() {
        assert!(run(&WildcardRule, "", JOBS).is_empty());
    }
}
