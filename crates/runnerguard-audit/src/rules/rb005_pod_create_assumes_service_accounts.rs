use runnerguard_model::Subject;

use super::rb001_cluster_admin_binding::rbac::{
    Accounts, Probe, Scope, Strongest, evidence, hits_by_scope, through,
};
use super::rg103_manager_excess_permission::describe;
use super::support::and_list;
use crate::{Context, Finding, Rule, RuleMeta, Severity, declare_rule};

declare_rule! {
    /// ## What it flags
    /// Each subject of an input binding that may create pods in a namespace, or create,
    /// update or patch a workload controller there (Deployments, ReplicaSets, StatefulSets,
    /// DaemonSets, Jobs, CronJobs, replication controllers), or everywhere through a
    /// ClusterRoleBinding. One finding per subject and scope, listing the bindings and naming
    /// the strongest ServiceAccount so reached: of the ServiceAccounts known there (read from
    /// the inputs, named in a binding, the job pods', and `default`), the one holding the most
    /// rules through input bindings, one with `*` on `*` first. When none holds anything
    /// beyond Kubernetes' defaults the finding says so: the power is there for the next
    /// ServiceAccount that gets rights.
    ///
    /// The runner manager's ServiceAccount creating pods in its job namespaces is what the
    /// Kubernetes executor does; while no ServiceAccount there holds rights it is reported as
    /// info only. Kubernetes' own controllers (default bindings) are not reported.
    ///
    /// The finding is `info` while no ServiceAccount so reached holds rights (the power exists but
    /// reaches nothing yet), and ServiceAccounts that an admission policy in the inputs keeps
    /// pods off (those `runnerguard generate` writes) do not count as reached.
    ///
    /// ## Why it matters
    /// RBAC checks who creates a pod, not who the pod runs as: a pod spec may name any
    /// ServiceAccount of its namespace in `serviceAccountName` and mount any Secret there, and
    /// a controller's pod template does the same a moment later. So `create pods` in a
    /// namespace is every ServiceAccount's rights in that namespace, and `update` on a
    /// Deployment is enough to swap its template. A deploy identity that can create
    /// Deployments next to an operator's ServiceAccount with cluster-wide rights has those
    /// rights.
    ///
    /// ## How to fix
    /// Keep powerful ServiceAccounts (operators, controllers, CI deployers with wide rights)
    /// in namespaces of their own where nobody else creates pods or workloads. Give workload
    /// ServiceAccounts in shared namespaces no RBAC rights, or only what the namespace's
    /// other writers may hold anyway. Admission policies can pin which ServiceAccounts pods
    /// of a namespace may use.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Role
    /// metadata: {name: deployer, namespace: apps}
    /// rules:
    /// - apiGroups: ["apps"]
    ///   resources: ["deployments"]
    ///   verbs: ["create", "update", "patch"]   # any ServiceAccount of `apps`, e.g. an operator's
    /// ```
    pub(crate) struct PodCreateAssumesServiceAccounts {
        id: "RB005",
        name: "pod-create-assumes-service-accounts",
        severity: Medium,
        summary: "`create` on pods, or writes to a workload controller, let a subject run as every ServiceAccount of the namespace",
        remediation: "keep ServiceAccounts with rights in namespaces where nobody else creates pods or workloads",
    }
}

/// Creating a pod, or writing a controller's pod template.
const PROBES: [Probe; 22] = [
    Probe::new("create", "", "pods", ""),
    Probe::new("create", "apps", "deployments", ""),
    Probe::new("update", "apps", "deployments", "").named(),
    Probe::new("patch", "apps", "deployments", "").named(),
    Probe::new("create", "apps", "replicasets", ""),
    Probe::new("update", "apps", "replicasets", "").named(),
    Probe::new("patch", "apps", "replicasets", "").named(),
    Probe::new("create", "apps", "statefulsets", ""),
    Probe::new("update", "apps", "statefulsets", "").named(),
    Probe::new("patch", "apps", "statefulsets", "").named(),
    Probe::new("create", "apps", "daemonsets", ""),
    Probe::new("update", "apps", "daemonsets", "").named(),
    Probe::new("patch", "apps", "daemonsets", "").named(),
    Probe::new("create", "batch", "jobs", ""),
    Probe::new("update", "batch", "jobs", "").named(),
    Probe::new("patch", "batch", "jobs", "").named(),
    Probe::new("create", "batch", "cronjobs", ""),
    Probe::new("update", "batch", "cronjobs", "").named(),
    Probe::new("patch", "batch", "cronjobs", "").named(),
    Probe::new("create", "", "replicationcontrollers", ""),
    Probe::new("update", "", "replicationcontrollers", "").named(),
    Probe::new("patch", "", "replicationcontrollers", "").named(),
];

impl Rule for PodCreateAssumesServiceAccounts {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let groups = hits_by_scope(cx, &PROBES);
        let mut accounts = Accounts::new(cx);
        let manager = Subject::service_account(
            &cx.topology.manager_namespace,
            &cx.topology.manager_service_account,
        );
        let job_namespaces = cx.topology.job_namespaces();
        let escalation = runnerguard_engine::Escalation::new(cx.policy);
        for (subject, scope, group) in groups {
            accounts.rank(&scope);
            // Admission policies in the inputs (those `runnerguard generate` writes) may pin the
            // pods of a namespace, or those this subject creates, to some ServiceAccounts.
            let creator = subject_user(&subject);
            let direct = group
                .perms
                .iter()
                .any(|p| p.resources.iter().any(|r| r == "pods"));
            let strongest = accounts.strongest(&scope, &subject, |account| {
                escalation.admits(
                    &account.namespace,
                    &account.name,
                    direct.then_some(creator.as_str()),
                )
            });
            let via = through(cx, &group.grants);
            let (there, everyone) = match &scope {
                Scope::Cluster => (
                    "in every namespace".to_owned(),
                    "as any ServiceAccount of any namespace, kube-system's controllers included, mounting any Secret",
                ),
                Scope::Namespace(ns) => (
                    format!("in namespace `{ns}`"),
                    "there as any ServiceAccount of the namespace, mounting any of its Secrets",
                ),
            };
            let unpinned = accounts
                .strongest(&scope, &subject, |_| true)
                .map(|s| s.account.to_string());
            let reached = if let Some(s) = strongest {
                strongest_text(s)
            } else if let Some(account) = unpinned {
                format!(
                    "{account} holds rights there, but the admission policies read keep these pods off it, and the other ServiceAccounts known hold none"
                )
            } else {
                let known: Vec<&Subject> = accounts
                    .known(&scope)
                    .into_iter()
                    .filter(|s| **s != subject)
                    .collect();
                format!(
                    "only ServiceAccounts without extra rights are known ({})",
                    names(&known, &scope)
                )
            };
            let executor = strongest.is_none()
                && subject == manager
                && job_namespaces.contains(&scope.namespace());
            // The power exists, but reaches no ServiceAccount with rights today: worth knowing,
            // not a weakness yet.
            let harmless = strongest.is_none();
            let mut message = format!(
                "{subject} may create pods or workloads {there} through {via}: it can run pods {everyone}; {reached}"
            );
            if executor {
                message.push_str(
                    " (the Kubernetes executor needs this in its job namespaces; it matters once a ServiceAccount there holds rights)",
                );
            }
            let mut f = Finding::new(self.meta(), message)
                .remediation(match &scope {
                    Scope::Cluster => format!(
                        "bind the pod and workload rights of {subject} in the namespaces it deploys to only, not cluster-wide"
                    ),
                    Scope::Namespace(ns) => format!(
                        "keep ServiceAccounts with rights out of `{ns}`, or remove {subject} from {via}"
                    ),
                });
            if executor || harmless {
                f = f.severity(Severity::Info);
            }
            f = evidence(cx, f, &group.grants).step(format!("allowed: {}", describe(&group.perms)));
            if let Some(s) = strongest {
                f = strongest_evidence(cx, f, s);
            }
            out.push(f);
        }
    }
}

/// The user name a subject stands for (a ServiceAccount's, or a User's own name).
fn subject_user(subject: &Subject) -> String {
    match subject.kind.as_str() {
        "ServiceAccount" => {
            runnerguard_model::service_account_user(&subject.namespace, &subject.name)
        }
        _ => subject.name.clone(),
    }
}

/// `the strongest known is ServiceAccount ns/name, holding 3 rules through input bindings`.
pub(super) fn strongest_text(s: &Strongest) -> String {
    let rules = match s.grants.len() {
        1 => "1 rule".to_owned(),
        n => format!("{n} rules"),
    };
    let full = if s.full.is_some() {
        ", `*` on `*` among them"
    } else {
        ""
    };
    format!(
        "the strongest known is {}, holding {rules} through input bindings{full}",
        s.account
    )
}

/// Adds to `f` the path of the strongest ServiceAccount's most telling grant.
pub(super) fn strongest_evidence(cx: &Context<'_>, mut f: Finding, s: &Strongest) -> Finding {
    let Some(grant) = s.full.as_ref().or_else(|| s.grants.first()) else {
        return f;
    };
    f = f.step(format!("strongest reachable: {}", s.account));
    for step in cx.grant_path(grant) {
        f = f.step(format!("  {step}"));
    }
    for o in cx.grant_objects(grant) {
        f = f.object(o);
    }
    f
}

/// At most five ServiceAccounts, by name (with namespace cluster-wide), and how many more.
fn names(accounts: &[&Subject], scope: &Scope) -> String {
    let mut shown: Vec<String> = accounts
        .iter()
        .take(5)
        .map(|s| match scope {
            Scope::Cluster => format!("`{}/{}`", s.namespace, s.name),
            Scope::Namespace(_) => format!("`{}`", s.name),
        })
        .collect();
    if accounts.len() > 5 {
        shown.push(format!("{} more", accounts.len() - 5));
    }
    if shown.is_empty() {
        "none".to_owned()
    } else {
        and_list(&shown)
    }
}

#[cfg(test)]
mod tests {
    use super::PodCreateAssumesServiceAccounts;
    use crate::Severity;
    use crate::rules::rg105_job_token_exposed::testing::run;

    const JOBS: &[(&str, &str, Option<bool>)] = &[("teams", "ci-job", Some(false))];

    const DEPLOYER: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: apps}
rules:
- {apiGroups: ["apps"], resources: ["deployments"], verbs: ["update"], resourceNames: ["web"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer, namespace: apps}
subjects: [{kind: Group, name: web-team}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
"#;

    const OPERATOR: &str = r"
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: operator, namespace: apps}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: operator}
subjects: [{kind: ServiceAccount, name: operator, namespace: apps}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
";

    #[test]
    fn names_the_strongest_service_account_reached() {
        let out = run(
            &PodCreateAssumesServiceAccounts,
            &format!("{DEPLOYER}{OPERATOR}"),
            JOBS,
        );
        let f = out
            .iter()
            .find(|f| f.message.starts_with("Group web-team"))
            .unwrap_or_else(|| panic!("{out:?}"));
        assert!(
            f.message.contains(
                "the strongest known is ServiceAccount apps/operator, holding 2 rules through input bindings, `*` on `*` among them"
            ),
            "{}",
            f.message
        );
        assert_eq!(f.severity, Severity::Medium);
    }

    #[test]
    fn without_strong_service_accounts_it_reports_as_info() {
        let out = run(&PodCreateAssumesServiceAccounts, DEPLOYER, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0]
                .message
                .ends_with("only ServiceAccounts without extra rights are known (`default`)"),
            "{}",
            out[0].message
        );
        assert_eq!(out[0].severity, Severity::Info);
    }

    #[test]
    fn the_executor_in_its_job_namespace_is_info_while_nothing_is_reached() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: executor, namespace: teams}
rules:
- {apiGroups: [""], resources: ["pods"], verbs: ["create", "get", "delete"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: executor, namespace: teams}
subjects: [{kind: ServiceAccount, name: gitlab-runner, namespace: gitlab-runner}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: executor}
"#;
        let out = run(&PodCreateAssumesServiceAccounts, yaml, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].severity, Severity::Info, "{}", out[0].message);
        assert!(
            out[0].message.contains("(`ci-job` and `default`)"),
            "{}",
            out[0].message
        );
    }
}
