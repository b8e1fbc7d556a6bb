//! RB001 `cluster-admin-binding`: `cluster-admin` (or an equivalent `*`/`*`/`*` role) is bound to a
//! non-system subject.

use std::collections::HashMap;

use runnerguard_engine::{Grant, covers};
use runnerguard_model::{RoleKind, Subject, SubjectKind, split_service_account_user};

use super::{
    Groups, Scope, everyone_group, evidence, input_bindings, resolved_subject, star_rule, through,
};
use crate::{Context, Finding, Rule, RuleMeta, Severity, declare_rule};

declare_rule! {
    /// ## What it flags
    /// A RoleBinding or ClusterRoleBinding from the inputs that binds `cluster-admin`, or any
    /// role equivalent to it (one whose rules cover every verb on every resource of every API
    /// group, `*`/`*`/`*`), to a subject that is not part of the cluster itself. System
    /// subjects are users and groups named `system:...` and ServiceAccounts of `kube-system`;
    /// the groups that stand for everyone (`system:authenticated`, `system:unauthenticated`,
    /// `system:serviceaccounts[:<namespace>]`) are not system subjects and are flagged. One
    /// finding per subject and scope, listing the bindings.
    ///
    /// A ClusterRoleBinding is critical: full control of the cluster. A RoleBinding grants the
    /// same rules inside its namespace only: every Secret, workload, ServiceAccount and RBAC
    /// object there, so it is reported as high.
    ///
    /// Kubernetes' own default bindings (`cluster-admin` to `system:masters`) are not reported.
    ///
    /// ## Why it matters
    /// `*` on `*` is every permission that exists and every one added later by a CRD or an
    /// upgrade: reading every Secret, running pods as any ServiceAccount on any node, changing
    /// RBAC, admission webhooks and the nodes themselves. Whoever holds the subject's
    /// credentials, a person's kubeconfig or a pod's ServiceAccount token, owns the cluster.
    /// A CI identity bound to `cluster-admin` "to make deployments work" hands the cluster to
    /// every pipeline that runs with it.
    ///
    /// ## How to fix
    /// Bind a role that lists what the subject needs, in the namespaces where it needs it:
    /// `edit` or a purpose-built Role in a RoleBinding for deploy identities, `view` for people
    /// who look. Keep cluster administration for a few people, through a group, ideally with
    /// just-in-time access rather than a standing binding.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRoleBinding
    /// metadata: {name: ci-deployer-admin}
    /// subjects:
    /// - {kind: ServiceAccount, name: deployer, namespace: teams}
    /// roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
    /// ```
    pub(crate) struct ClusterAdminBinding {
        id: "RB001",
        name: "cluster-admin-binding",
        severity: Critical,
        summary: "`cluster-admin` (or an equivalent `*`/`*`/`*` role) is bound to a non-system subject",
        remediation: "bind a role that lists only what the subject needs, in the namespaces where it needs it",
    }
}

impl Rule for ClusterAdminBinding {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let star = [star_rule()];
        let mut groups: Groups<Scope> = Groups::default();
        // Per role, asked once: 10k namespaces bind the same few roles 100,000 times.
        let mut full_rules = HashMap::new();
        for (id, binding) in input_bindings(cx) {
            let Ok(role_id) = cx.policy.binding_role(id) else {
                continue;
            };
            let role = cx.policy.role(role_id);
            let full_rule = *full_rules.entry(role_id).or_insert_with(|| {
                // The rule that makes the role all-powerful; `cluster-admin` itself by name
                // too, so that a cluster which redefines it is still reported.
                let full = role
                    .rules
                    .iter()
                    .position(|r| covers(std::slice::from_ref(r), &star).0);
                let named = is_cluster_admin(role);
                full.or_else(|| (named && !role.rules.is_empty()).then_some(0))
            });
            let Some(rule_index) = full_rule else {
                continue;
            };
            let scope = Scope::of(binding);
            for (subject_index, s) in binding.subjects.iter().enumerate() {
                let Some(subject) = resolved_subject(s, binding) else {
                    continue;
                };
                if is_system(&subject) {
                    continue;
                }
                let grant = Grant {
                    binding: id,
                    subject_index,
                    role: role_id,
                    rule_index,
                };
                groups.add(subject, scope.clone(), grant, None);
            }
        }
        for (subject, scope, group) in groups {
            let reach = match &scope {
                Scope::Cluster => "full control of the cluster".to_owned(),
                Scope::Namespace(ns) => format!(
                    "full control of namespace `{ns}`: every Secret, workload, ServiceAccount and Role there"
                ),
            };
            let who = if subject.kind == "Group" {
                everyone_group(&subject.name)
                    .map(|w| format!(" ({w})"))
                    .unwrap_or_default()
            } else {
                String::new()
            };
            let via = through(cx, &group.grants);
            let message = format!(
                "{subject}{who} holds every permission {scope} (`*` on `*`, as `cluster-admin`) through {via}: {reach}"
            );
            let mut f = Finding::new(self.meta(), message).remediation(format!(
                "remove {subject} from {via}, and bind a role that lists only what it needs"
            ));
            if scope != Scope::Cluster {
                f = f.severity(Severity::High);
            }
            out.push(evidence(cx, f, &group.grants));
        }
    }
}

/// Whether a role is the ClusterRole `cluster-admin`.
fn is_cluster_admin(role: &runnerguard_model::Role) -> bool {
    role.kind == RoleKind::ClusterRole && role.name == "cluster-admin"
}

/// Whether a subject is part of the cluster itself: `system:` users and groups (but not the
/// groups that stand for everyone, nor the anonymous user) and ServiceAccounts of
/// `kube-system`.
fn is_system(subject: &Subject) -> bool {
    match SubjectKind::parse(&subject.kind) {
        Some(SubjectKind::ServiceAccount) => subject.namespace == "kube-system",
        Some(SubjectKind::User) => {
            if let Some((ns, _)) = split_service_account_user(&subject.name) {
                return ns == "kube-system";
            }
            subject.name.starts_with("system:") && subject.name != "system:anonymous"
        }
        Some(SubjectKind::Group) => {
            subject.name.starts_with("system:") && everyone_group(&subject.name).is_none()
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{JOBS, run};

    fn binding(kind: &str, ns: &str, subject: &str, role: &str) -> String {
        let ns = if ns.is_empty() {
            String::new()
        } else {
            format!(", namespace: {ns}")
        };
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata: {{name: b{ns}}}\nsubjects: [{subject}]\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}\n"
        )
    }

    #[test]
    fn cluster_admin_to_a_person_is_critical_and_system_subjects_are_not_reported() {
        let yaml = binding(
            "ClusterRoleBinding",
            "",
            "{kind: User, name: alice}",
            "cluster-admin",
        );
        let out = run(&ClusterAdminBinding, &yaml, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].severity, Severity::Critical);
        assert!(
            out[0].message.starts_with("User alice holds"),
            "{}",
            out[0].message
        );

        for subject in [
            "{kind: User, name: system:kube-controller-manager}",
            "{kind: ServiceAccount, name: x, namespace: kube-system}",
            "{kind: ServiceAccount, name: nobody}",
        ] {
            let yaml = binding("ClusterRoleBinding", "", subject, "cluster-admin");
            assert!(
                run(&ClusterAdminBinding, &yaml, JOBS).is_empty(),
                "{subject}"
            );
        }
    }

    #[test]
    fn everyone_groups_are_not_system_subjects() {
        let yaml = binding(
            "ClusterRoleBinding",
            "",
            "{kind: Group, name: system:authenticated}",
            "cluster-admin",
        );
        let out = run(&ClusterAdminBinding, &yaml, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0].message.contains("every authenticated user"),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn rolebinding_is_high_and_names_the_namespace() {
        let yaml = binding(
            "RoleBinding",
            "teams",
            "{kind: ServiceAccount, name: deployer}",
            "cluster-admin",
        );
        let out = run(&ClusterAdminBinding, &yaml, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].severity, Severity::High);
        assert!(
            out[0].message.starts_with(
                "ServiceAccount teams/deployer holds every permission in namespace `teams`"
            ),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn default_bindings_are_never_reported() {
        assert!(run(&ClusterAdminBinding, "", JOBS).is_empty());
    }
}
