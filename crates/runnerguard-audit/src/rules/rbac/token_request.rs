//! RB006 `token-request`: `create` on `serviceaccounts/token`: tokens for ServiceAccounts on
//! demand.

use runnerguard_model::Subject;

use super::{
    Group, Probe, Scope, evidence, hits_by_scope, phrase, strongest_evidence, strongest_text,
    targets, through,
};
use crate::{Context, Finding, Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it flags
    /// Each subject of an input binding that may `create` `serviceaccounts/token` (the
    /// `TokenRequest` API), in a namespace or, through a ClusterRoleBinding, everywhere. The
    /// request names the ServiceAccount, so `resourceNames` restrict it: the finding says for
    /// which ServiceAccounts (any, or the ones named), and names the strongest of them known
    /// from the inputs. One finding per subject and scope, listing the bindings. Kubernetes'
    /// default bindings are not reported; a user binding to `edit` or `admin` is (both allow
    /// it).
    ///
    /// ## Why it matters
    /// A token request returns a fresh, valid token for the ServiceAccount: the holder acts
    /// as that ServiceAccount, with all its rights, for as long as the token lives (up to
    /// the cluster's maximum, often a year), from anywhere the API server can be reached. It
    /// needs no pod and leaves no workload behind to notice.
    ///
    /// ## How to fix
    /// Grant `create` on `serviceaccounts/token` only to what must mint tokens (an identity
    /// broker, a CI system's own ServiceAccount), with `resourceNames` listing the
    /// ServiceAccounts it may mint for, in a RoleBinding of their namespace. Workloads get
    /// tokens through projected volumes, which need no RBAC.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Role
    /// metadata: {name: token-broker, namespace: apps}
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["serviceaccounts/token"]
    ///   verbs: ["create"]      # every ServiceAccount of `apps`; add resourceNames
    /// ```
    pub(crate) struct TokenRequest {
        id: "RB006",
        name: "token-request",
        severity: High,
        summary: "`create` on `serviceaccounts/token`: tokens for ServiceAccounts on demand",
        remediation: "grant `create` on `serviceaccounts/token` only with `resourceNames`, in the ServiceAccounts' own namespace",
    }
}

const PROBES: [Probe; 1] = [Probe::new("create", "", "serviceaccounts", "token").named()];

impl Rule for TokenRequest {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        // The setup counts only through the ServiceAccounts known: when it adds none, the
        // findings are those of every such setup, reported once (issue #9 C3).
        if !cx.first_report(self.meta().id) {
            return;
        }
        out.extend(self.findings(cx));
    }
}

impl TokenRequest {
    /// Every finding: one per subject and scope, on every core, in the groups' order.
    fn findings(self, cx: &Context<'_>) -> Vec<Finding> {
        use rayon::prelude::*;
        let groups: Vec<(Subject, Scope, Group)> = hits_by_scope(cx, &PROBES).into_iter().collect();
        if groups.is_empty() {
            return Vec::new();
        }
        let accounts = cx.accounts();
        groups
            .par_iter()
            .map(|(subject, scope, group)| {
                let (any, names) = targets(group, "serviceaccounts/token").unwrap_or_default();
                // Named ServiceAccounts that are not known hold nothing through input bindings.
                let strongest =
                    accounts.strongest(scope, subject, |s| any || names.contains(&s.name));
                let whom = phrase(any, &names, "ServiceAccount", "ServiceAccounts");
                let there = match scope {
                    Scope::Cluster => "in every namespace".to_owned(),
                    Scope::Namespace(ns) => format!("in namespace `{ns}`"),
                };
                let reached = strongest.as_deref().map_or_else(
                    || "; none known holds rights through input bindings now".to_owned(),
                    |s| format!("; {}", strongest_text(s)),
                );
                let via = through(cx, &group.grants);
                let mut f = Finding::new(
                    self.meta(),
                    format!(
                        "{subject} may request tokens for {whom} {there} through {via}: it can act as them{reached}"
                    ),
                )
                .remediation(format!(
                    "remove {subject} from {via}, or restrict the rule with `resourceNames` to the ServiceAccounts it must mint tokens for"
                ));
                f = evidence(cx, f, &group.grants);
                match strongest {
                    Some(s) => strongest_evidence(cx, f, &s),
                    None => f,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::TokenRequest;
    use crate::rules::testing::{JOBS, run};

    #[test]
    fn resource_names_say_which_service_accounts() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: broker, namespace: apps}
rules:
- {apiGroups: [""], resources: ["serviceaccounts/token"], resourceNames: ["web"], verbs: ["create"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: broker, namespace: apps}
subjects: [{kind: User, name: broker}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: broker}
"#;
        let out = run(&TokenRequest, yaml, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0].message.starts_with(
                "User broker may request tokens for ServiceAccount `web` in namespace `apps`"
            ),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn subresource_wildcards_are_literal() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: sa-all}
rules:
- {apiGroups: [""], resources: ["serviceaccounts/*"], verbs: ["create"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: sa-all}
subjects: [{kind: User, name: broker}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: sa-all}
"#;
        assert!(run(&TokenRequest, yaml, JOBS).is_empty());
    }
}
