//! RB008 `dangling-role-ref`: a binding refers to a role that does not exist: whoever creates that
//! role decides what the binding grants.

use runnerguard_model::BindingKind;

use super::{input_bindings, resolved_subject};
use crate::rules::common::and_list;
use crate::{Context, Evidence, Finding, Rule, RuleMeta, declare_rule, qualified};

declare_rule! {
    /// ## What it flags
    /// A RoleBinding or ClusterRoleBinding from the inputs whose `roleRef` names a role that
    /// does not exist: a ClusterRole not among the inputs and Kubernetes' default roles, a
    /// Role not in the binding's namespace, or a `Role` referenced from a ClusterRoleBinding
    /// (which can never resolve). One finding per binding, with the authorizer's own error.
    ///
    /// Offline, "does not exist" means "not in the inputs": a role installed by another chart
    /// or operator is reported until its manifests are audited too.
    ///
    /// ## Why it matters
    /// Kubernetes accepts a binding to a missing role and grants nothing, until a role of
    /// that name appears: from then on the binding's subjects hold whatever it says. Whoever
    /// may create roles there (a namespace `admin`, a chart, an operator) thereby decides
    /// what those subjects get, without touching a binding, so the escalation checks on
    /// bindings never run; a subject of the binding who can write roles grants itself
    /// anything it holds. Dangling bindings are also leftovers: a role deleted on purpose
    /// whose bindings were forgotten.
    ///
    /// ## How to fix
    /// Delete the binding if the role is gone for good; otherwise create the role with the
    /// rules intended (or fix the `roleRef` name or kind), and audit its manifests together
    /// with the binding.
    ///
    /// ## Example
    /// ```yaml
    /// kind: RoleBinding
    /// metadata: {name: ci-deploy, namespace: teams}
    /// subjects:
    /// - {kind: ServiceAccount, name: deployer}
    /// roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deploy}   # no such Role
    /// ```
    pub(crate) struct DanglingRoleRef {
        id: "RB008",
        name: "dangling-role-ref",
        severity: Low,
        summary: "a binding refers to a role that does not exist: whoever creates that role decides what the binding grants",
        remediation: "delete the binding, or create the role it refers to with the rules intended",
    }
}

impl Rule for DanglingRoleRef {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (id, b) in input_bindings(cx) {
            let Err(error) = cx.policy.binding_role(id) else {
                continue;
            };
            let name = format!("{} {}", b.kind, qualified(&b.namespace, &b.name));
            let subjects: Vec<String> = b
                .subjects
                .iter()
                .filter_map(|s| resolved_subject(s, b))
                .map(|s| s.to_string())
                .collect();
            let who = if subjects.is_empty() {
                "its subjects (none that match anyone now)".to_owned()
            } else {
                and_list(&subjects)
            };
            let creator = match (b.role_ref.kind.as_str(), b.kind) {
                ("Role", BindingKind::ClusterRoleBinding) => {
                    "a ClusterRoleBinding cannot refer to a Role: it never grants anything"
                        .to_owned()
                }
                ("Role", BindingKind::RoleBinding) => format!(
                    "whoever creates Role `{}` in namespace `{}` decides what {who} get there",
                    b.role_ref.name, b.namespace
                ),
                ("ClusterRole", BindingKind::RoleBinding) => format!(
                    "whoever creates ClusterRole `{}` decides what {who} get in namespace `{}`",
                    b.role_ref.name, b.namespace
                ),
                ("ClusterRole", BindingKind::ClusterRoleBinding) => format!(
                    "whoever creates ClusterRole `{}` decides what {who} get cluster-wide",
                    b.role_ref.name
                ),
                _ => "no role of that kind can exist: it never grants anything".to_owned(),
            };
            out.push(
                Finding::new(
                    self.meta(),
                    format!("{name} refers to a missing role ({error}): {creator}"),
                )
                .remediation(format!(
                    "delete {name}, or create the {} `{}` it refers to",
                    b.role_ref.kind, b.role_ref.name
                ))
                .object(b.object_ref())
                .evidence(Evidence::object(b.object_ref()))
                .fact(format!(
                    "roleRef: {} {}: {error}",
                    b.role_ref.kind, b.role_ref.name
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DanglingRoleRef;
    use crate::rules::testing::{JOBS, run};

    #[test]
    fn bindings_to_default_roles_resolve() {
        let yaml = r"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: view, namespace: teams}
subjects: [{kind: Group, name: devs}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deploy, namespace: teams}
subjects: [{kind: ServiceAccount, name: deployer}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deploy}
";
        let out = run(&DanglingRoleRef, yaml, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0].message.contains(
                "whoever creates Role `deploy` in namespace `teams` decides what ServiceAccount teams/deployer get there"
            ),
            "{}",
            out[0].message
        );
    }
}
