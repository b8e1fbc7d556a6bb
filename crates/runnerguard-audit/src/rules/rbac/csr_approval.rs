//! RB011 `csr-approval`: approve + sign of `CertificateSigningRequests`: client certificates
//! for any user or group.

use std::collections::BTreeSet;

use runnerguard_engine::{Action, Decision, Grant};
use runnerguard_model::Subject;

use super::{evidence, identity, input_bindings, resolved_subject, through};
use crate::rules::common::and_list;
use crate::{Context, Finding, Rule, RuleMeta, Severity, declare_rule};

declare_rule! {
    /// ## What it flags
    /// Each subject of an input binding that holds both halves of approving a
    /// certificate signing request (CSR): `update` on `certificatesigningrequests/approval`, and
    /// `approve` on `signers` (`certificates.k8s.io`) for one of Kubernetes' built-in
    /// signers, by its name or its domain wildcard (`kubernetes.io/*`), as the API server
    /// checks it. The halves are asked of the authorizer with the subject's own identity
    /// (a ServiceAccount's groups, `system:authenticated`), so they may come from different
    /// bindings; at least one must come from an input binding. One finding per subject,
    /// saying which signers and whether it can also `create` CSRs.
    ///
    /// Critical when the signer is `kubernetes.io/kube-apiserver-client`; high for
    /// `kube-apiserver-client-kubelet` and `kubelet-serving` only. Other signers belong to
    /// their own controllers and are not judged.
    ///
    /// ## Why it matters
    /// `kubernetes.io/kube-apiserver-client` signs client certificates for whatever user and
    /// groups the request asks for. Whoever can approve such a request, and create one (or
    /// get someone to), logs in with a certificate for `system:masters`: full control of the
    /// cluster, which RBAC never checks, valid until it expires, and not revocable short of
    /// rotating the cluster CA. The kubelet signers give node identities and serving
    /// certificates, enough to read a node's pods' Secrets or intercept kubelet traffic.
    ///
    /// ## How to fix
    /// Leave CSR approval to the controller-manager's own approvers and to cluster
    /// administrators. Controllers that approve their own signers' requests get `approve`
    /// with `resourceNames` naming those signers only, never `kubernetes.io/*` or the
    /// `kube-apiserver-client` signer.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRole
    /// metadata: {name: csr-approver}
    /// rules:
    /// - apiGroups: ["certificates.k8s.io"]
    ///   resources: ["certificatesigningrequests/approval"]
    ///   verbs: ["update"]
    /// - apiGroups: ["certificates.k8s.io"]
    ///   resources: ["signers"]
    ///   verbs: ["approve"]           # every signer, kube-apiserver-client included
    /// ```
    pub(crate) struct CsrApproval {
        id: "RB011",
        name: "csr-approval",
        severity: Critical,
        summary: "approve + sign of CertificateSigningRequests: client certificates for any user or group",
        remediation: "leave CSR approval to cluster administrators; restrict `approve` on `signers` to a controller's own signer names",
    }
}

const CERTIFICATES: &str = "certificates.k8s.io";

/// The built-in signers, most dangerous first.
const SIGNERS: [&str; 3] = [
    "kubernetes.io/kube-apiserver-client",
    "kubernetes.io/kube-apiserver-client-kubelet",
    "kubernetes.io/kubelet-serving",
];

impl Rule for CsrApproval {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let subjects: BTreeSet<Subject> = input_bindings(cx)
            .flat_map(|(_, b)| b.subjects.iter().filter_map(|s| resolved_subject(s, b)))
            .collect();
        let input = |g: &Grant| !cx.policy.binding(g.binding).origin.is_builtin();
        for subject in subjects {
            let Some(user) = identity(&subject) else {
                continue;
            };
            let approval = cx.policy.authorize(
                &user,
                &Action::resource(
                    "update",
                    "",
                    CERTIFICATES,
                    "certificatesigningrequests",
                    "approval",
                    "",
                ),
            );
            // Without approval nothing else matters: asked first, it spares the other four
            // questions for nearly every subject (issue #13).
            let Some(approval_grant) = pick(&approval, input) else {
                continue;
            };
            // The API server checks the signer's name, then its domain wildcard.
            let wildcard = cx.policy.authorize(&user, &approve("kubernetes.io/*"));
            let mut signers: Vec<&str> = Vec::new();
            let mut signer_grants: Vec<Grant> = Vec::new();
            for signer in SIGNERS {
                let d = cx.policy.authorize(&user, &approve(signer));
                let d = if d.allowed { d } else { wildcard.clone() };
                if let Some(g) = pick(&d, input) {
                    signers.push(signer);
                    signer_grants.push(g);
                }
            }
            if signers.is_empty() {
                continue;
            }
            if !input(&approval_grant) && !signer_grants.iter().any(input) {
                continue;
            }
            let mut grants = vec![approval_grant];
            for g in signer_grants {
                if !grants.contains(&g) {
                    grants.push(g);
                }
            }
            let client = signers.contains(&SIGNERS[0]);
            let gives = if client {
                "it can have client certificates issued for any user and group, `system:masters` included: full control of the cluster"
            } else {
                "it can have node client or kubelet serving certificates issued: a node's identity, or the kubelet's traffic"
            };
            let create = cx.policy.authorize(
                &user,
                &Action::resource(
                    "create",
                    "",
                    CERTIFICATES,
                    "certificatesigningrequests",
                    "",
                    "",
                ),
            );
            let creates = if create.allowed {
                "; it may also create the requests itself"
            } else {
                "; it cannot create requests itself, but approves anyone's"
            };
            let quoted: Vec<String> = signers.iter().map(|s| format!("`{s}`")).collect();
            let via = through(cx, &grants);
            let mut f = Finding::new(
                self.meta(),
                format!(
                    "{subject} may approve CertificateSigningRequests for {} through {via}: {gives}{creates}",
                    and_list(&quoted)
                ),
            )
            .remediation(format!(
                "remove {subject} from {via}, or restrict `approve` on `signers` with `resourceNames` to signers other than the kubernetes.io ones"
            ));
            if !client {
                f = f.severity(Severity::High);
            }
            out.push(evidence(cx, f, &grants));
        }
    }
}

/// `approve` on the signer `name`.
fn approve(name: &str) -> Action {
    Action::resource("approve", "", CERTIFICATES, "signers", "", name)
}

/// The first allowing grant from an input binding, else the first allowing grant; `None` when
/// the decision is a denial.
fn pick(d: &Decision, input: impl Fn(&Grant) -> bool) -> Option<Grant> {
    d.grants
        .iter()
        .find(|g| input(g))
        .or_else(|| d.grants.first())
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::CsrApproval;
    use crate::Severity;
    use crate::rules::testing::{JOBS, run};

    fn role(name: &str, rule: &str) -> String {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {name}}}\nrules: [{rule}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: {name}}}\nsubjects: [{{kind: ServiceAccount, name: approver, namespace: pki}}]\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {name}}}\n---\n"
        )
    }

    const APPROVAL: &str = r#"{apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/approval"], verbs: ["update"]}"#;

    #[test]
    fn both_halves_may_come_from_different_bindings() {
        let yaml = format!(
            "{}{}",
            role("approval", APPROVAL),
            role(
                "signer",
                r#"{apiGroups: ["certificates.k8s.io"], resources: ["signers"], resourceNames: ["kubernetes.io/*"], verbs: ["approve"]}"#
            )
        );
        let out = run(&CsrApproval, &yaml, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].severity, Severity::Critical);
        assert!(
            out[0].message.contains("ClusterRoleBinding approval (ClusterRole approval) and ClusterRoleBinding signer (ClusterRole signer)"),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn one_half_is_not_enough_and_other_signers_are_high() {
        let out = run(&CsrApproval, &role("approval", APPROVAL), JOBS);
        assert!(out.is_empty(), "{out:?}");
        let yaml = format!(
            "{}{}",
            role("approval", APPROVAL),
            role(
                "signer",
                r#"{apiGroups: ["certificates.k8s.io"], resources: ["signers"], resourceNames: ["kubernetes.io/kubelet-serving"], verbs: ["approve"]}"#
            )
        );
        let out = run(&CsrApproval, &yaml, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].severity, Severity::High);
    }
}
