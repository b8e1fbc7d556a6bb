//! RG106 `job-service-account-unsafe`: job pods run as the manager's ServiceAccount, as `default`,
//! or as a ServiceAccount with rights outside the job namespaces.

use std::collections::BTreeSet;

use runnerguard_engine::{Grant, UserInfo};
use runnerguard_model::{BindingKind, PolicyRule, SettingValue};

use super::{MAX_TARGETS, grants_of, job_evidence};
use crate::rules::common::{describe_at_most, exists};
use crate::{Context, Evidence, Finding, KeyUse, Rule, RuleMeta, declare_rule, qualified};

declare_rule! {
    /// ## What it flags
    /// The ServiceAccount job pods run as, in each job namespace, when it is one of:
    ///
    /// - **the manager's ServiceAccount**: jobs run in the manager's namespace as its
    ///   ServiceAccount; or, in another namespace, as a ServiceAccount with the manager's name
    ///   that holds RBAC rights (a copy of the manager's bindings, or a binding meant for the
    ///   manager whose subject lacks `namespace:`);
    /// - **`default`**: the runner configuration sets no `service_account` (the evidence also
    ///   names Helm values keys such as `runners.kubernetes.serviceAccountName` that the chart
    ///   ignores, which is why jobs fell back to `default`);
    /// - **a ServiceAccount with rights outside the job namespaces**: a RoleBinding in another
    ///   namespace, or a ClusterRoleBinding, names it or one of its groups. Tenants cannot
    ///   declare deploy namespaces yet, so the job namespaces stand for them.
    ///
    /// Kubernetes' default bindings (discovery, self-reviews) are not counted.
    ///
    /// ## Why it matters
    /// Job pods run code that anyone who can push to a project wrote, and a job holds its
    /// ServiceAccount's identity (its token, unless automount is off, and any pod it can create
    /// runs as it). As the manager's ServiceAccount a job can start pods as any ServiceAccount
    /// of the job namespaces, exec into other jobs and read their Secrets. `default` is shared
    /// with every other pod of the namespace, so any right someone gives `default` for another
    /// workload reaches every job, unseen. Rights outside the job namespaces carry a job out of
    /// its tenant.
    ///
    /// ## How to fix
    /// Create a ServiceAccount for jobs in each job namespace, with no rights (or a Role
    /// limited to what the tenant deploys, in its deploy namespaces) and
    /// `automountServiceAccountToken: false`, and name it in the runner configuration, which
    /// for the chart is the TOML in `runners.config`:
    ///
    /// ```toml
    /// [runners.kubernetes]
    ///   service_account = "ci-job"
    ///   service_account_overwrite_allowed = ""
    ///   automount_service_account_token = false
    /// ```
    ///
    /// ## Example
    /// ```yaml
    /// runners:
    ///   kubernetes:                       # ignored by the chart
    ///     serviceAccountName: gitlab-runner
    ///   # no service_account in runners.config: jobs run as `default`, flagged
    /// ```
    pub(crate) struct JobServiceAccountUnsafe {
        id: "RG106",
        name: "job-service-account-unsafe",
        severity: High,
        summary: "job pods run as the manager's ServiceAccount, as `default`, or as a ServiceAccount with rights outside the job namespaces",
        remediation: "give jobs a ServiceAccount of their own without rights: `service_account` under [runners.kubernetes]",
    }
}

impl Rule for JobServiceAccountUnsafe {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let manager_sa = &cx.topology.manager_service_account;
        let manager_name = cx.manager_name();
        let mut seen: BTreeSet<(&str, &str)> = BTreeSet::new();
        for job in &cx.topology.jobs {
            if !seen.insert((&job.namespace, &job.service_account)) {
                continue;
            }
            let ns = &job.namespace;
            let sa = qualified(ns, &job.service_account);
            let user = UserInfo::impersonated(
                &runnerguard_model::service_account_user(ns, &job.service_account),
                &[],
            );
            let grants = grants_of(cx, &user);
            let base = |message: String| {
                let mut f = Finding::new(self.meta(), message);
                for e in job_evidence(cx, job) {
                    f = f.fact(e);
                }
                f
            };

            if *ns == cx.topology.manager_namespace && job.service_account == *manager_sa {
                let f = base(format!(
                    "job pods in `{ns}` run as the manager's ServiceAccount {manager_name}: every job holds the manager's rights"
                ))
                .fact("with them a job can start pods as any ServiceAccount of the job namespaces, exec into other jobs and read their Secrets");
                out.push(with_grants(cx, f, &grants, "the manager's rights"));
                continue;
            }

            if job.service_account == *manager_sa && !grants.is_empty() {
                let what = describe_grants(cx, &grants);
                let f = base(format!(
                    "job pods in `{ns}` run as ServiceAccount {sa}, named like the manager's ServiceAccount {manager_name}, and it holds rights: {what}"
                ))
                .remediation(format!(
                    "give jobs in `{ns}` a ServiceAccount of their own without rights (`service_account` under [runners.kubernetes]); bind executor rights only to {manager_name}"
                ));
                out.push(with_grants(cx, f, &grants, "its rights"));
            }

            if job.service_account == "default" {
                let mut f = base(format!(
                    "job pods in `{ns}` run as the namespace's `default` ServiceAccount: jobs share it with every other pod there, so any right given to `default` reaches every job"
                ))
                .remediation(format!(
                    "create a ServiceAccount without rights for jobs in `{ns}` (automountServiceAccountToken: false) and set `service_account` to it under [runners.kubernetes] in the runner configuration"
                ));
                f = ignored_service_account_keys(cx, f, ns, &manager_name);
                if !grants.is_empty() {
                    f = with_grants(cx, f, &grants, "rights `default` holds today");
                }
                out.push(f);
            }

            let outside: Vec<Grant> = grants
                .iter()
                .filter(|g| {
                    let b = cx.policy.binding(g.binding);
                    b.kind == BindingKind::ClusterRoleBinding || !cx.is_job_namespace(&b.namespace)
                })
                .filter(|g| !singles(cx, g).is_empty())
                .cloned()
                .collect();
            if !outside.is_empty() {
                let what = describe_grants(cx, &outside);
                let f = base(format!(
                    "job pods in `{ns}` run as ServiceAccount {sa}, which holds rights outside the job namespaces: {what}"
                ))
                .remediation(format!(
                    "remove {sa} (and its groups) from bindings outside the job namespaces; deploy rights belong in a Role in the tenant's deploy namespaces"
                ));
                out.push(with_grants(
                    cx,
                    f,
                    &outside,
                    "rights outside the job namespaces",
                ));
            }

            // Effective rights: what the job ServiceAccount can become (`runnerguard paths`).
            let start = runnerguard_engine::Identity::of(&user);
            for reached in cx
                .job_identities_in(ns)
                .filter(|j| !j.path.is_empty() && j.identity != start)
            {
                let rights = match reached.identity.user_info() {
                    Some(u) => {
                        let g = grants_of(cx, &u);
                        (!g.is_empty()).then_some(g)
                    }
                    // Every permission of a namespace or the cluster, a bound role, a node.
                    None => Some(Vec::new()),
                };
                let Some(rights) = rights else {
                    continue;
                };
                let mut f = base(format!(
                    "job pods in `{ns}` run as ServiceAccount {sa}, which can become {}, and so hold its rights",
                    reached.identity
                ))
                .remediation(format!(
                    "remove the rights that let {sa} become {} (see `runnerguard paths --as {}`)",
                    reached.identity,
                    runnerguard_model::service_account_user(ns, &job.service_account)
                ));
                for step in &reached.path {
                    f = f.escalation(cx, step);
                }
                out.push(with_grants(cx, f, &rights, "rights it then holds"));
            }
        }
    }
}

/// The single permissions of a grant that name something real.
fn singles(cx: &Context<'_>, g: &Grant) -> Vec<PolicyRule> {
    runnerguard_engine::breakdown_rule(cx.policy.rule(g))
        .into_iter()
        .filter(exists)
        .collect()
}

/// A compact description of what `grants` allow, for a message.
fn describe_grants(cx: &Context<'_>, grants: &[Grant]) -> String {
    let all: Vec<PolicyRule> = grants.iter().flat_map(|g| singles(cx, g)).collect();
    describe_at_most(&all, MAX_TARGETS)
}

/// Adds each grant (binding → role → rule) and its objects to `f`, under a heading.
fn with_grants(cx: &Context<'_>, mut f: Finding, grants: &[Grant], heading: &str) -> Finding {
    if grants.is_empty() {
        return f;
    }
    let mut under = Vec::new();
    for g in grants {
        under.push(cx.grant_evidence(g));
        f = f.grant_objects(cx, g);
    }
    f.evidence(Evidence::fact_under(format!("{heading}:"), under))
}

/// Helm values keys under `runners` that look like they set the job ServiceAccount but that
/// the chart ignores (`runners.kubernetes.serviceAccountName`): evidence for why jobs run as
/// `default`.
fn ignored_service_account_keys(
    cx: &Context<'_>,
    mut f: Finding,
    job_namespace: &str,
    manager_name: &str,
) -> Finding {
    let manager_sa = cx.topology.manager_service_account.as_str();
    // The candidates are found once for every setup (a scan of every values entry per job
    // namespace and setup was quadratic in tenants, issue #9 C3).
    for &entry in cx.service_account_values() {
        if cx.chart.key_use(&entry.key) != KeyUse::Ignored {
            continue;
        }
        f = f
            .location(entry.key.clone(), entry.origin.clone())
            .setting(
                entry.key.clone(),
                Some(entry.value.to_string()),
                entry.origin.clone(),
                format!(
                    "is not read by the gitlab-runner chart {} (RG107): it does not set the job ServiceAccount",
                    cx.chart.version
                ),
            );
        if entry.value == SettingValue::String(manager_sa.to_owned()) {
            f = f.fact(if job_namespace == cx.topology.manager_namespace {
                format!(
                    "had it been read, jobs would run as the manager's ServiceAccount {manager_name}, with all its rights: jobs need a ServiceAccount of their own without rights"
                )
            } else {
                format!(
                    "had it been read, jobs would run as {}, named like the manager's ServiceAccount {manager_name}: jobs need a ServiceAccount of their own without rights",
                    qualified(job_namespace, manager_sa)
                )
            });
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::JobServiceAccountUnsafe;
    use crate::rules::testing::run;

    const BINDINGS: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: executor, namespace: teams}
rules:
- {apiGroups: [""], resources: ["pods", "pods/exec"], verbs: ["create"]}
---
# Meant for the manager, but a ServiceAccount subject without namespace is teams/gitlab-runner.
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: executor, namespace: teams}
subjects: [{kind: ServiceAccount, name: gitlab-runner}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: executor}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ci-view}
subjects: [{kind: ServiceAccount, name: ci-job, namespace: teams}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
"#;

    #[test]
    fn jobs_as_default() {
        let out = run(
            &JobServiceAccountUnsafe,
            "",
            &[("teams", "default", Some(false))],
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].message.contains("`default` ServiceAccount"));
    }

    #[test]
    fn jobs_as_the_manager_service_account() {
        let out = run(
            &JobServiceAccountUnsafe,
            BINDINGS,
            &[("gitlab-runner", "gitlab-runner", None)],
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0]
                .message
                .contains("run as the manager's ServiceAccount")
        );
    }

    #[test]
    fn jobs_as_a_service_account_named_like_the_manager_with_rights() {
        let out = run(
            &JobServiceAccountUnsafe,
            BINDINGS,
            &[("teams", "gitlab-runner", None)],
        );
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(
            out[0].message.contains("named like the manager's"),
            "{}",
            out[0].message
        );
        assert!(
            out[0].message.contains("pods, pods/exec (create)"),
            "{}",
            out[0].message
        );
        // Effective rights: its `create pods` in `teams` makes it every ServiceAccount there,
        // `ci-job` among them, which holds `view` cluster-wide.
        assert!(
            out[1]
                .message
                .contains("can become ServiceAccount teams/ci-job"),
            "{}",
            out[1].message
        );
        // Without rights, a same-named ServiceAccount is just a ServiceAccount.
        let out = run(
            &JobServiceAccountUnsafe,
            "",
            &[("teams", "gitlab-runner", None)],
        );
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn jobs_as_a_service_account_with_rights_outside_the_job_namespaces() {
        let out = run(
            &JobServiceAccountUnsafe,
            BINDINGS,
            &[("teams", "ci-job", Some(false))],
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0].message.contains("outside the job namespaces"),
            "{}",
            out[0].message
        );
        assert!(
            crate::rules::testing::objects(&out[0])
                .iter()
                .any(|o| o.kind == "ClusterRoleBinding" && o.name == "ci-view"),
            "{:?}",
            out[0].evidence
        );
    }
}
