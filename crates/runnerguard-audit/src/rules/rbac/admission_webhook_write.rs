//! RB010 `admission-webhook-write`: write access to admission webhooks or admission policies: every
//! admitted object can be seen or rewritten.

use super::{Groups, Probe, evidence, input_hits, through};
use crate::rules::common::describe;
use crate::{Context, Finding, Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it flags
    /// Each subject of an input ClusterRoleBinding that may write admission configuration in
    /// `admissionregistration.k8s.io`: `create`, `update`, `patch`, `delete` or
    /// `deletecollection` on `validatingwebhookconfigurations`,
    /// `mutatingwebhookconfigurations`, `validatingadmissionpolicies`,
    /// `validatingadmissionpolicybindings`, `mutatingadmissionpolicies` or
    /// `mutatingadmissionpolicybindings`. `resourceNames` are respected and shown. These
    /// objects are cluster-scoped, so a RoleBinding never grants it. One finding per subject,
    /// listing the bindings; Kubernetes' default bindings are not reported.
    ///
    /// ## Why it matters
    /// Admission sees every write to the cluster. A mutating webhook or policy it controls
    /// can inject a container, a ServiceAccount or a host mount into every pod, the
    /// control plane's and the runner's job pods included; a validating webhook receives
    /// every admitted object, Secrets included, at an address of its choosing. Deleting or
    /// loosening the policies that keep job pods off the manager's namespace or off
    /// privileged settings silently removes that protection.
    ///
    /// ## How to fix
    /// Leave admission configuration to cluster administrators and the few controllers that
    /// install their own webhook (cert-manager, a policy engine), each restricted with
    /// `resourceNames` to its own configuration. Manage the runner's admission policies
    /// through the same reviewed pipeline as RBAC.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRole
    /// metadata: {name: platform-deployer}
    /// rules:
    /// - apiGroups: ["admissionregistration.k8s.io"]
    ///   resources: ["mutatingwebhookconfigurations"]
    ///   verbs: ["create", "update", "patch"]      # every pod of the cluster
    /// ```
    pub(crate) struct AdmissionWebhookWrite {
        id: "RB010",
        name: "admission-webhook-write",
        severity: Critical,
        summary: "write access to admission webhooks or admission policies: every admitted object can be seen or rewritten",
        remediation: "leave admission configuration to cluster administrators; restrict controllers to their own objects with `resourceNames`",
    }
}

const ADMISSION: &str = "admissionregistration.k8s.io";

const RESOURCES: [&str; 6] = [
    "validatingwebhookconfigurations",
    "mutatingwebhookconfigurations",
    "validatingadmissionpolicies",
    "validatingadmissionpolicybindings",
    "mutatingadmissionpolicies",
    "mutatingadmissionpolicybindings",
];

/// `create` and `deletecollection` name no object; the others do.
fn probes() -> Vec<Probe> {
    RESOURCES
        .iter()
        .flat_map(|&r| {
            [
                Probe::new("create", ADMISSION, r, "").cluster(),
                Probe::new("update", ADMISSION, r, "").named().cluster(),
                Probe::new("patch", ADMISSION, r, "").named().cluster(),
                Probe::new("delete", ADMISSION, r, "").named().cluster(),
                Probe::new("deletecollection", ADMISSION, r, "").cluster(),
            ]
        })
        .collect()
}

impl Rule for AdmissionWebhookWrite {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let mut groups: Groups<()> = Groups::default();
        for hit in input_hits(cx, &probes()) {
            groups.add_hit(cx, &hit, &());
        }
        for (subject, (), group) in groups {
            let mutating = group
                .perms
                .iter()
                .any(|p| p.resources.iter().any(|r| r.starts_with("mutating")));
            let gives = if mutating {
                "it can rewrite every object the cluster admits (inject containers, ServiceAccounts or host mounts into any pod) or switch admission checks off"
            } else {
                "it can see every object the cluster admits, Secrets included, or switch admission checks off"
            };
            let via = through(cx, &group.grants);
            let f = Finding::new(
                self.meta(),
                format!(
                    "{subject} may write admission configuration through {via}: {}; {gives}",
                    describe(group.perm_rules())
                ),
            )
            .remediation(format!(
                "remove {subject} from {via}, or restrict the role to its own webhook configuration with `resourceNames`"
            ));
            out.push(evidence(cx, f, &group.grants));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AdmissionWebhookWrite;
    use crate::rules::testing::{JOBS, run};

    #[test]
    fn reading_webhooks_is_not_writing_them() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: webhook-viewer}
rules:
- {apiGroups: ["admissionregistration.k8s.io"], resources: ["*"], verbs: ["get", "list", "watch"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: webhook-viewer}
subjects: [{kind: Group, name: auditors}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: webhook-viewer}
"#;
        assert!(run(&AdmissionWebhookWrite, yaml, JOBS).is_empty());
        let yaml = yaml.replace(r#"["get", "list", "watch"]"#, r#"["patch"]"#);
        let out = run(&AdmissionWebhookWrite, &yaml, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].message.contains("(patch)"), "{}", out[0].message);
    }
}
