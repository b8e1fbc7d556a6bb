//! RG114 `job-namespace-secrets-readable`: subjects other than the manager can read Secrets or exec
//! into pods in a job namespace: every pipeline's CI variables are exposed to them.

use runnerguard_engine::{Action, BindingId, Grant, SubjectGrant};
use runnerguard_model::{BindingKind, Subject};

use crate::{Context, Finding, Rule, RuleMeta, declare_rule, qualified};

declare_rule! {
    /// ## What it flags
    /// In each job namespace, every subject other than the runner manager's ServiceAccount
    /// that may `get`, `list` or `watch` Secrets or `create` `pods/exec` there, as the
    /// authorizer's subject locator (`who-can`) finds them: subjects of RoleBindings in the
    /// job namespace and of ClusterRoleBindings, with the role rule that allows it. One finding
    /// per subject and binding.
    ///
    /// `system:masters` and the subjects of Kubernetes' own default bindings (controllers,
    /// system components) are not reported: every cluster has them.
    ///
    /// ## Why it matters
    /// A job namespace holds every running job's pod and the registry-credentials Secret the
    /// runner creates for each job; the job pods' environment holds that pipeline's CI
    /// variables, deploy keys and tokens. Whoever can read Secrets or exec into pods there
    /// sees every pipeline's secrets, of every project using the runner, as the jobs run. A
    /// `developers` group bound to `edit` in the job namespace, "so they can debug jobs",
    /// gives each developer the CI variables of projects they cannot see in GitLab.
    ///
    /// ## How to fix
    /// Keep job namespaces for jobs: remove RoleBindings that give people or other workloads
    /// `edit`, `admin` or Secret/exec rights there, and ClusterRoleBindings that grant them
    /// cluster-wide. Developers who need to debug get `view` (which excludes Secrets) or
    /// GitLab's web terminal, and workloads live in namespaces of their own.
    ///
    /// ## Example
    /// ```yaml
    /// kind: RoleBinding
    /// metadata: {name: developers-edit, namespace: teams}   # a job namespace
    /// subjects:
    /// - kind: Group
    ///   name: developers
    /// roleRef: {kind: ClusterRole, name: edit}             # Secrets and exec: flagged
    /// ```
    pub(crate) struct JobNamespaceSecretsReadable {
        id: "RG114",
        name: "job-namespace-secrets-readable",
        severity: Medium,
        summary: "subjects other than the manager can read Secrets or exec into pods in a job namespace: every pipeline's CI variables are exposed to them",
        remediation: "remove bindings that give others Secret or exec rights in job namespaces; use `view` for people who debug jobs",
    }
}

/// The requests that expose CI variables, as (verb, resource, subresource).
const REQUESTS: [(&str, &str, &str); 4] = [
    ("get", "secrets", ""),
    ("list", "secrets", ""),
    ("watch", "secrets", ""),
    ("create", "pods", "exec"),
];

/// What one subject of one binding may do in a job namespace.
struct Exposure {
    binding: BindingId,
    subject: Subject,
    /// The requests allowed, as `verb resource[/subresource]`.
    allowed: Vec<String>,
    /// The first allowing grant of each distinct rule.
    grants: Vec<Grant>,
}

impl Rule for JobNamespaceSecretsReadable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let manager = cx.manager();
        // Who-can per job namespace: what the ClusterRoleBindings allow does not depend on
        // the namespace, so it is asked once per request, and each namespace's RoleBindings
        // after it, in the subject locator's order (25,000 job namespaces, issue #13).
        let everywhere: Vec<Vec<SubjectGrant>> = REQUESTS
            .iter()
            .map(|(verb, resource, subresource)| {
                let action = Action::resource(verb, "", "", resource, subresource, "");
                cx.policy.allowed_subjects(&action).0
            })
            .collect();
        for ns in cx.topology.job_namespaces() {
            let mut exposures: Vec<Exposure> = Vec::new();
            for ((verb, resource, subresource), everywhere) in REQUESTS.into_iter().zip(&everywhere)
            {
                let action = Action::resource(verb, ns, "", resource, subresource, "");
                let what = if subresource.is_empty() {
                    format!("{verb} {resource}")
                } else {
                    format!("{verb} {resource}/{subresource}")
                };
                let (here, _) = cx.policy.allowed_subjects_by_role_bindings(&action);
                for s in everywhere.iter().chain(&here) {
                    // `system:masters` needs no binding and is in every cluster.
                    let Some(grant) = s.grant.clone() else {
                        continue;
                    };
                    let b = cx.policy.binding(grant.binding);
                    if b.origin.is_builtin() {
                        continue;
                    }
                    let binding_ns = match b.kind {
                        BindingKind::RoleBinding => b.namespace.as_str(),
                        BindingKind::ClusterRoleBinding => "",
                    };
                    let mut subject = s.subject.clone();
                    if let Some(user) = subject.service_account_user(binding_ns) {
                        if user == manager.name {
                            continue;
                        }
                        if subject.namespace.is_empty() {
                            binding_ns.clone_into(&mut subject.namespace);
                        }
                    }
                    match exposures
                        .iter_mut()
                        .find(|e| e.binding == grant.binding && e.subject == subject)
                    {
                        Some(e) => {
                            if !e.allowed.contains(&what) {
                                e.allowed.push(what.clone());
                            }
                            if !e.grants.iter().any(|g| g.rule_index == grant.rule_index) {
                                e.grants.push(grant);
                            }
                        }
                        None => exposures.push(Exposure {
                            binding: grant.binding,
                            subject,
                            allowed: vec![what.clone()],
                            grants: vec![grant],
                        }),
                    }
                }
            }
            for e in exposures {
                let b = cx.policy.binding(e.binding);
                let through = format!("{} {}", b.kind, qualified(&b.namespace, &b.name));
                let mut f = Finding::new(
                    self.meta(),
                    format!(
                        "{} may {} in job namespace `{ns}` through {through}: every pipeline's CI variables are exposed to it",
                        e.subject,
                        summary(&e.allowed)
                    ),
                )
                .remediation(format!(
                    "remove {} from {through}, or bind a role without Secret and exec rights (e.g. `view`)",
                    e.subject
                ));
                // One binding: a reporter names it and its role once, above the rules.
                for g in &e.grants {
                    f = f.grant(cx, g);
                }
                out.push(f);
            }
        }
    }
}

/// `get, list, watch Secrets and exec into pods (create pods/exec)`.
fn summary(allowed: &[String]) -> String {
    let secrets: Vec<&str> = allowed
        .iter()
        .filter_map(|a| a.strip_suffix(" secrets"))
        .collect();
    let mut parts = Vec::new();
    if !secrets.is_empty() {
        parts.push(format!("{} Secrets", secrets.join(", ")));
    }
    if allowed.iter().any(|a| a == "create pods/exec") {
        parts.push("exec into pods (create pods/exec)".to_owned());
    }
    parts.join(" and ")
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn summary_reads_as_a_sentence() {
        let all: Vec<String> = ["get secrets", "list secrets", "create pods/exec"]
            .map(str::to_owned)
            .to_vec();
        assert_eq!(
            summary(&all),
            "get, list Secrets and exec into pods (create pods/exec)"
        );
        assert_eq!(summary(&all[2..]), "exec into pods (create pods/exec)");
    }
}
