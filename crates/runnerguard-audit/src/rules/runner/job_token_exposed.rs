//! RG105 `job-token-exposed`: job pods get a ServiceAccount token that grants more than the
//! tenant's deploy rights.

use std::collections::{BTreeSet, HashMap};

use runnerguard_engine::{Grant, RoleId, UserInfo, covers};
use runnerguard_model::{BindingKind, PolicyRule};

use super::{MAX_TARGETS, binding_names, grants_of, job_evidence};
use crate::rules::common::{describe, describe_at_most, exists};
use crate::{Context, Evidence, Finding, JobTarget, Rule, RuleMeta, declare_rule, qualified};

declare_rule! {
    /// ## What it flags
    /// Job pods that get their ServiceAccount's token mounted while that ServiceAccount holds
    /// rights beyond the tenant's declared deploy rights.
    ///
    /// The token is mounted unless the runner configuration sets
    /// `automount_service_account_token = false` under `[runners.kubernetes]`, or leaves it
    /// unset and the ServiceAccount object read sets `automountServiceAccountToken: false`.
    ///
    /// Tenants cannot declare deploy rights yet, so this rule takes as declared deploy rights
    /// exactly this: rules from RoleBindings *in the job namespace itself* on the workload
    /// kinds CI deploys (`deployments`, `replicasets`, `statefulsets` in `apps`; `services`,
    /// `configmaps` in the core group). Every other grant counts as beyond: any other resource
    /// in the job namespace (Secrets, pods, `pods/exec`, roles, ...), any right in another
    /// namespace, and any ClusterRoleBinding. Kubernetes' default bindings (discovery,
    /// self-reviews) are not counted.
    ///
    /// ## Why it matters
    /// Every job can read its token from
    /// `/var/run/secrets/kubernetes.io/serviceaccount/token`, and every job runs code that
    /// anyone who can push to a project wrote, including in merge requests. Whatever the token
    /// grants, every pipeline of every project on that runner holds: reading Secrets exposes
    /// other pipelines' registry credentials, `pods/exec` reaches into other jobs and their CI
    /// variables, rights elsewhere carry the job out of its namespace.
    ///
    /// ## How to fix
    /// Give job pods a ServiceAccount of their own without rights, and set
    /// `automount_service_account_token = false` under `[runners.kubernetes]` (runner 16.9+)
    /// and `automountServiceAccountToken: false` on the ServiceAccount. Jobs that deploy get a
    /// Role limited to the workload kinds they deploy, in the namespaces they deploy to; other
    /// rights belong to people or controllers, not to CI jobs.
    ///
    /// ## Example
    /// ```toml
    /// [runners.kubernetes]
    ///   namespace = "teams"
    ///   service_account = "ci-job"   # bound to a Role with `get secrets` in `teams`
    ///   # automount_service_account_token not set: the token is mounted, flagged
    /// ```
    pub(crate) struct JobTokenExposed {
        id: "RG105",
        name: "job-token-exposed",
        severity: High,
        summary: "job pods get a ServiceAccount token that grants more than the tenant's deploy rights",
        remediation: "set automount_service_account_token = false under [runners.kubernetes] and remove the job ServiceAccount's extra bindings",
    }
}

impl Rule for JobTokenExposed {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let deploy = deploy_rules();
        // What each rule grants beyond deploy rights, in a job namespace's RoleBinding or
        // elsewhere, worked out once: job ServiceAccounts share their roles (`edit`,
        // `admin`), and a configuration has thousands of job namespaces (issue #13).
        let mut beyond_deploy: HashMap<(RoleId, usize, bool), Vec<PolicyRule>> = HashMap::new();
        let mut seen: BTreeSet<(&str, &str)> = BTreeSet::new();
        for job in &cx.topology.jobs {
            if !seen.insert((&job.namespace, &job.service_account)) {
                continue;
            }
            let Some(mounted) = mounted_because(cx, job) else {
                continue;
            };
            let sa = qualified(&job.namespace, &job.service_account);
            let user = UserInfo::impersonated(
                &runnerguard_model::service_account_user(&job.namespace, &job.service_account),
                &[],
            );
            let mut beyond: Vec<(Grant, Vec<PolicyRule>)> = Vec::new();
            for g in grants_of(cx, &user) {
                let b = cx.policy.binding(g.binding);
                let rule = cx.policy.rule(&g);
                let in_job_namespace =
                    b.kind == BindingKind::RoleBinding && b.namespace == job.namespace;
                let uncovered = beyond_deploy
                    .entry((g.role, g.rule_index, in_job_namespace))
                    .or_insert_with(|| {
                        let allowed: &[PolicyRule] = if in_job_namespace { &deploy } else { &[] };
                        let (_, uncovered) = covers(allowed, std::slice::from_ref(rule));
                        uncovered.into_iter().filter(exists).collect()
                    });
                if !uncovered.is_empty() {
                    beyond.push((g, uncovered.clone()));
                }
            }
            if beyond.is_empty() {
                // Effective rights: what the mounted token lets a job become.
                let start = runnerguard_engine::Identity::of(&user);
                let reached: Vec<&crate::JobIdentity> = cx
                    .job_identities_in(&job.namespace)
                    .filter(|j| !j.path.is_empty() && j.identity != start)
                    .filter(|j| {
                        j.identity
                            .user_info()
                            .is_none_or(|u| !grants_of(cx, &u).is_empty())
                    })
                    .collect();
                let Some(first) = reached.first() else {
                    continue;
                };
                let names: Vec<String> = reached
                    .iter()
                    .take(3)
                    .map(|j| j.identity.to_string())
                    .collect();
                let mut f = Finding::new(
                    self.meta(),
                    format!(
                        "job pods in `{}` get the token of ServiceAccount {sa} mounted, and with it a job can become {}",
                        job.namespace,
                        names.join(", ")
                    ),
                )
                .fact(format!("token mounted: {mounted}"));
                for step in &first.path {
                    f = f.escalation(cx, step);
                }
                f = f.remediation(format!(
                    "set automount_service_account_token = false under [runners.kubernetes], and remove the rights that let {sa} become other identities (`runnerguard paths --as {}`)",
                    user.name
                ));
                out.push(f);
                continue;
            }
            let what = describe_at_most(beyond.iter().flat_map(|(_, p)| p), MAX_TARGETS);
            let mut f = Finding::new(
                self.meta(),
                format!(
                    "job pods in `{}` get the token of ServiceAccount {sa} mounted, and it grants more than deploy rights: {what}",
                    job.namespace
                ),
            )
            .fact(format!("token mounted: {mounted}"));
            if let Some(obj) = service_account(cx, job) {
                f = f.object(obj.object_ref());
            }
            for e in job_evidence(cx, job) {
                f = f.fact(e);
            }
            for (g, perms) in &beyond {
                f = f
                    .evidence(Evidence::grant_noted(
                        cx.grant_path(g),
                        format!("beyond deploy rights: {}", describe(perms)),
                    ))
                    .grant_objects(cx, g);
            }
            f = f.remediation(format!(
                "set automount_service_account_token = false under [runners.kubernetes] (and automountServiceAccountToken: false on ServiceAccount {sa}); remove {sa} from {}",
                binding_names(cx, beyond.iter().map(|(g, _)| g))
            ));
            out.push(f);
        }
    }
}

/// Why the job pods get their ServiceAccount token, or `None` when they do not.
fn mounted_because(cx: &Context<'_>, job: &JobTarget) -> Option<String> {
    match job.automount_token {
        Some(false) => None,
        Some(true) => Some(
            "`automount_service_account_token = true` in the runner configuration".to_owned(),
        ),
        None => match service_account(cx, job).map(|s| s.automount_token) {
            Some(Some(false)) => None,
            Some(_) => Some(format!(
                "neither the runner configuration (`automount_service_account_token`) nor ServiceAccount {} (`automountServiceAccountToken`) turns it off",
                qualified(&job.namespace, &job.service_account)
            )),
            None => Some(
                "the runner configuration does not set `automount_service_account_token = false` (the ServiceAccount was not read; Kubernetes mounts the token by default)"
                    .to_owned(),
            ),
        },
    }
}

/// The job's ServiceAccount object, when read.
fn service_account<'a>(
    cx: &Context<'a>,
    job: &JobTarget,
) -> Option<&'a runnerguard_model::ServiceAccount> {
    cx.service_account(&job.namespace, &job.service_account)
}

/// The deploy rights this rule accepts in the job namespace: the workload kinds CI deploys.
fn deploy_rules() -> Vec<PolicyRule> {
    vec![
        PolicyRule::resource(
            &["apps"],
            &["deployments", "replicasets", "statefulsets"],
            &["*"],
        ),
        PolicyRule::resource(&[""], &["services", "configmaps"], &["*"]),
    ]
}

#[cfg(test)]
mod tests {
    use super::JobTokenExposed;
    use crate::rules::testing::run;

    const SECRETS_READER: &str = r#"
apiVersion: v1
kind: ServiceAccount
metadata: {name: ci-job, namespace: teams}
automountServiceAccountToken: false
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: teams}
rules:
- {apiGroups: [""], resources: ["secrets"], verbs: ["get"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b, namespace: teams}
subjects: [{kind: ServiceAccount, name: ci-job}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
"#;

    #[test]
    fn the_service_account_can_turn_automount_off() {
        assert!(
            run(
                &JobTokenExposed,
                SECRETS_READER,
                &[("teams", "ci-job", None)]
            )
            .is_empty()
        );
        assert!(
            run(
                &JobTokenExposed,
                SECRETS_READER,
                &[("teams", "ci-job", Some(false))]
            )
            .is_empty()
        );
    }

    #[test]
    fn the_runner_setting_overrides_the_service_account() {
        let out = run(
            &JobTokenExposed,
            SECRETS_READER,
            &[("teams", "ci-job", Some(true))],
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0].message.contains("secrets (get)"),
            "{}",
            out[0].message
        );
        assert!(
            crate::rules::testing::facts(&out[0])[0]
                .contains("automount_service_account_token = true")
        );
    }

    #[test]
    fn deploy_rights_elsewhere_or_cluster_wide_are_beyond() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: deployer}
rules:
- {apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "update"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: here, namespace: teams}
subjects: [{kind: ServiceAccount, name: ci-job, namespace: teams}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: deployer}
"#;
        assert!(run(&JobTokenExposed, yaml, &[("teams", "ci-job", None)]).is_empty());
        let elsewhere = yaml.replace("namespace: teams}\nsubjects", "namespace: prod}\nsubjects");
        let out = run(&JobTokenExposed, &elsewhere, &[("teams", "ci-job", None)]);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].message.contains("deployments.apps (get, update)"));
    }
}
