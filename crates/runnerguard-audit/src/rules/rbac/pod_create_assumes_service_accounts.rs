//! RB005 `pod-create-assumes-service-accounts`: `create` on pods, or writes to a workload
//! controller, let a subject run as every ServiceAccount of the namespace.

mod grade;

use std::collections::{BTreeSet, HashMap};

use runnerguard_model::Subject;

use self::grade::{Graded, Grader, Grades, Power, Rank, graded_evidence, graded_text};
use super::{
    Accounts, Group, Probe, Scope, evidence, hits_by_scope, strongest_evidence, strongest_text,
    through,
};
use crate::rules::common::{and_list, describe};
use crate::{Context, Finding, Rule, RuleMeta, Severity, declare_rule};

declare_rule! {
    /// ## What it flags
    /// Each subject of an input binding that may create pods in a namespace, or create,
    /// update or patch a workload controller there (Deployments, ReplicaSets, StatefulSets,
    /// DaemonSets, Jobs, CronJobs, replication controllers), or everywhere through a
    /// ClusterRoleBinding. One finding per subject and scope, listing the bindings and naming
    /// the strongest ServiceAccount so reached, with why. The ServiceAccounts considered are
    /// those read from the inputs, named in any binding (Kubernetes' default bindings
    /// included: the controllers in `kube-system` exist in every cluster even when no
    /// ServiceAccount object is read), the job pods', and `default`. Each is graded by what
    /// it reaches, its default rights counted, through the same escalation analysis as
    /// `runnerguard paths`:
    ///
    /// - **critical** when it can become cluster-admin (e.g.
    ///   `kube-system/clusterrole-aggregation-controller`, which may `escalate` ClusterRoles);
    /// - **high** when it can read Secrets or escalate further (bind or write roles,
    ///   impersonate, mint tokens, the kubelet API, admission, certificates);
    /// - **medium** when it holds other rights, through input bindings or as a controller
    ///   bound by the default bindings;
    /// - **info** when none holds anything beyond what every identity gets: the power is
    ///   there for the next ServiceAccount that gets rights.
    ///
    /// ServiceAccounts that an admission policy in the inputs keeps pods off (those
    /// `runnerguard generate` writes) do not count as reached. The runner manager's
    /// ServiceAccount creating pods in its job namespaces is what the Kubernetes executor
    /// does: it is graded the same way (info while nothing is reached), and its fix never
    /// takes that grant away. Kubernetes' own controllers (default bindings) are not reported
    /// as subjects.
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
    /// in namespaces of their own where nobody else creates pods or workloads, and let nobody
    /// but the cluster's administrators create pods in `kube-system`. Give workload
    /// ServiceAccounts in shared namespaces no RBAC rights, or only what the namespace's
    /// other writers may hold anyway. Admission policies can pin which ServiceAccounts pods
    /// of a namespace may use. For the runner manager's executor grant in a job namespace,
    /// keep the grant (every job needs it): keep privileged ServiceAccounts out of the job
    /// namespaces, or pin the job pods' ServiceAccount with an admission policy, as
    /// `runnerguard generate` does.
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

/// What the findings of one scope share.
struct PerScope<'g> {
    /// The ServiceAccounts a pod there can run as.
    candidates: BTreeSet<&'g Subject>,
    /// The graded ones, strongest first; among equals, in `candidates`' order.
    ranked: Vec<(Rank, &'g Subject)>,
}

impl Rule for PodCreateAssumesServiceAccounts {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        // In an audit the findings are the same under every setup (the ServiceAccounts known
        // and the executor's namespaces are the audit's): worked out and reported once
        // (issue #9 C3).
        if !cx.first_report(self.meta().id) {
            return;
        }
        out.extend(self.findings(cx));
    }
}

impl PodCreateAssumesServiceAccounts {
    /// Every finding.
    fn findings(self, cx: &Context<'_>) -> Vec<Finding> {
        use rayon::prelude::*;
        let groups: Vec<(Subject, Scope, Group)> = hits_by_scope(cx, &PROBES).into_iter().collect();
        if groups.is_empty() {
            // Nothing to grade: the rankings and grades are not built (a configuration of
            // 15,000 job namespaces and no RBAC kept them all through the audit).
            return Vec::new();
        }
        let accounts = cx.accounts();
        let escalation = cx.escalation();
        let grader = Grader::new(cx, escalation);
        // Per scope, not per subject: the ServiceAccounts a pod there can run as, and the
        // graded ones, strongest first (in the candidates' order among equals). Every
        // subject of a scope then takes the first it may run as: with 30,000 ServiceAccounts
        // cluster-wide, grading them once per subject was most of the audit (issue #13).
        // Every candidate of every scope is graded once, on every core, by whether input
        // bindings give it rules (the same in every scope it is a candidate of).
        let scopes: BTreeSet<&Scope> = groups.iter().map(|(_, scope, _)| scope).collect();
        let known: Vec<(&Scope, BTreeSet<&Subject>)> = scopes
            .into_par_iter()
            .map(|scope| (scope, grader.candidates(accounts, scope)))
            .collect();
        let asked: BTreeSet<&Subject> = known
            .iter()
            .flat_map(|(_, candidates)| candidates.iter().copied())
            .collect();
        let asked: Vec<&Subject> = asked.into_iter().collect();
        let grades = grader.grade_all(&asked, |c| accounts.holds_rights(c));
        let per_scope: HashMap<&Scope, PerScope> = known
            .into_iter()
            .map(|(scope, candidates)| {
                let mut ranked: Vec<(Rank, &Subject)> = candidates
                    .iter()
                    .filter_map(|&c| Some((grades.graded(c)?.rank(), c)))
                    .collect();
                // Stable: among equal ranks, the candidates' order.
                ranked.sort_by_key(|r| std::cmp::Reverse(r.0));
                (scope, PerScope { candidates, ranked })
            })
            .collect();
        // Then a finding per subject and scope, on every core, in the groups' order.
        let shared = Shared {
            cx,
            accounts,
            grades: &grades,
        };
        groups
            .par_iter()
            .map(|(subject, scope, group)| {
                self.finding(&shared, &per_scope[scope], subject, scope, group)
            })
            .collect()
    }

    /// The finding of `subject` holding `group` in `scope`.
    fn finding(
        self,
        shared: &Shared<'_, '_>,
        here: &PerScope<'_>,
        subject: &Subject,
        scope: &Scope,
        group: &Group,
    ) -> Finding {
        let Shared {
            cx,
            accounts,
            grades,
        } = *shared;
        let escalation = cx.escalation();
        // Admission policies in the inputs (those `runnerguard generate` writes) may pin the
        // pods of a namespace, or those this subject creates, to some ServiceAccounts.
        let creator = subject_user(subject);
        let direct = group
            .perms
            .iter()
            .any(|p| p.resources.iter().any(|r| r == "pods"));
        let admitted = |account: &Subject| {
            escalation.admits(
                &account.namespace,
                &account.name,
                direct.then_some(creator.as_str()),
            )
        };
        let ranked = accounts.strongest(scope, subject, admitted);
        // The strongest admitted, and the strongest the admission policies keep pods off:
        // (power, shortest path) first, then by name.
        let mut best: Option<(Rank, &Subject)> = None;
        let mut best_pinned: Option<(Rank, &Subject)> = None;
        for &(rank, candidate) in here.ranked.iter().filter(|(_, c)| *c != subject) {
            let slot = if admitted(candidate) {
                &mut best
            } else {
                &mut best_pinned
            };
            if slot.is_none() {
                *slot = Some((rank, candidate));
            }
            if best.is_some() && best_pinned.is_some() {
                break;
            }
        }
        let best: Option<&Graded> = best.and_then(|(_, s)| grades.graded(s));
        let via = through(cx, &group.grants);
        let (there, everyone) = match scope {
            Scope::Cluster => (
                "in every namespace".to_owned(),
                "as any ServiceAccount of any namespace, kube-system's controllers included, mounting any Secret",
            ),
            Scope::Namespace(ns) => (
                format!("in namespace `{ns}`"),
                "there as any ServiceAccount of the namespace, mounting any of its Secrets",
            ),
        };
        // For the medium tier the ranking of input rights words it best.
        let ranked = ranked.filter(|_| best.is_some_and(|b| b.power == Power::Rights));
        let reached = match (best, ranked.as_deref()) {
            (_, Some(s)) => strongest_text(s),
            (Some(g), None) => graded_text(g),
            (None, None) => {
                if let Some((_, pinned)) = best_pinned {
                    format!(
                        "{pinned} holds rights there, but the admission policies read keep these pods off it, and the other ServiceAccounts known hold none"
                    )
                } else {
                    let known: Vec<&Subject> = here
                        .candidates
                        .iter()
                        .copied()
                        .filter(|s| *s != subject)
                        .collect();
                    format!(
                        "only ServiceAccounts without extra rights are known ({})",
                        names(&known, scope)
                    )
                }
            }
        };
        let message = format!(
            "{subject} may create pods or workloads {there} through {via}: it can run pods {everyone}; {reached}"
        );
        // The power exists, but reaches no ServiceAccount with rights today: worth knowing,
        // not a weakness yet.
        let severity = match best.map(|g| g.power) {
            None => Severity::Info,
            Some(Power::Rights) => Severity::Medium,
            Some(Power::Secrets) => Severity::High,
            Some(Power::ClusterAdmin) => Severity::Critical,
        };
        let remediation = |executor: bool| match scope {
            Scope::Cluster => format!(
                "bind the pod and workload rights of {subject} in the namespaces it deploys to only, not cluster-wide"
            ),
            // The executor cannot lose `create pods`: every job would fail (issue #8).
            Scope::Namespace(ns) if executor => format!(
                "keep ServiceAccounts with rights{} out of job namespace `{ns}`, or pin the job pods' ServiceAccount with an admission policy (`runnerguard generate` writes one); the executor needs `create pods` there, so keep its binding",
                moved(best)
            ),
            Scope::Namespace(ns) => format!(
                "keep ServiceAccounts with rights{} out of `{ns}`, or remove {subject} from {via}",
                moved(best)
            ),
        };
        // Worded for the executor where the subject is a setup's manager and the scope
        // that setup's job namespace: the same under every setup of an audit.
        let executor = cx.is_executor(subject, scope.namespace());
        let message = if executor {
            format!(
                "{message}{}",
                if best.is_none() {
                    " (the Kubernetes executor needs this in its job namespaces; it matters once a ServiceAccount there holds rights)"
                } else {
                    " (the Kubernetes executor needs this in its job namespaces, so such ServiceAccounts must not be there)"
                }
            )
        } else {
            message
        };
        let mut f = Finding::new(self.meta(), message)
            .remediation(remediation(executor))
            .severity(severity);
        f = evidence(cx, f, &group.grants)
            .fact(format!("allowed: {}", describe(group.perm_rules())));
        match (best, ranked.as_deref()) {
            (_, Some(s)) => strongest_evidence(cx, f, s),
            (Some(g), None) => graded_evidence(cx, f, g),
            (None, None) => f,
        }
    }
}

/// What every finding of a check reads.
#[derive(Clone, Copy)]
struct Shared<'a, 'p> {
    cx: &'a Context<'p>,
    accounts: &'a Accounts<'p>,
    grades: &'a Grades<'a>,
}

/// `, such as ServiceAccount ns/name,` when one is reached.
fn moved(best: Option<&Graded>) -> String {
    best.map(|g| format!(", such as {},", g.account))
        .unwrap_or_default()
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
    use crate::rules::testing::{JOBS, run};

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

    /// The runner manager's executor grant in job namespace `teams`.
    const EXECUTOR: &str = r#"
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
                "the strongest reachable is ServiceAccount apps/operator, which can become cluster-admin"
            ),
            "{}",
            f.message
        );
        assert_eq!(f.severity, Severity::Critical);
    }

    /// Issue #8: pods in kube-system can run as the controllers the default bindings give
    /// rights, though no ServiceAccount object is read; one of them becomes cluster-admin.
    #[test]
    fn kube_system_controllers_count_with_their_default_rights() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-maker, namespace: kube-system}
rules:
- {apiGroups: [""], resources: ["pods"], verbs: ["create"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: pod-maker, namespace: kube-system}
subjects: [{kind: Group, name: ops}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-maker}
"#;
        let out = run(&PodCreateAssumesServiceAccounts, yaml, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        let f = &out[0];
        assert_eq!(f.severity, Severity::Critical, "{}", f.message);
        assert!(
            f.message.contains(
                "the strongest reachable is ServiceAccount kube-system/clusterrole-aggregation-controller (a controller that Kubernetes' default bindings give rights in every cluster), which can become cluster-admin"
            ),
            "{}",
            f.message
        );
        assert!(!f.message.contains("without extra rights"), "{}", f.message);
        assert!(
            crate::rules::testing::objects(f)
                .iter()
                .any(|o| o.kind == "ClusterRole"
                    && o.name == "system:controller:clusterrole-aggregation-controller"),
            "{:?}",
            f.evidence
        );
    }

    /// A ServiceAccount `apps/NAME` bound to a Role `NAME` with the one `rule`.
    fn account_with_role(name: &str, rule: &str) -> String {
        format!(
            "
---
apiVersion: v1
kind: ServiceAccount
metadata: {{name: {name}, namespace: apps}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: {name}, namespace: apps}}
rules:
- {rule}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: {name}, namespace: apps}}
subjects: [{{kind: ServiceAccount, name: {name}}}]
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {name}}}
"
        )
    }

    /// A ServiceAccount that reads Secrets, but reaches nothing stronger: high.
    #[test]
    fn secrets_read_is_high() {
        let yaml = format!(
            "{DEPLOYER}{}",
            account_with_role(
                "reader",
                r#"{apiGroups: [""], resources: ["secrets"], verbs: ["get"]}"#
            )
        );
        let out = run(&PodCreateAssumesServiceAccounts, &yaml, JOBS);
        let f = out
            .iter()
            .find(|f| f.message.starts_with("Group web-team"))
            .unwrap_or_else(|| panic!("{out:?}"));
        assert_eq!(f.severity, Severity::High, "{}", f.message);
        assert!(
            f.message.contains(
                "the strongest reachable is ServiceAccount apps/reader, which can read Secrets: may read Secrets"
            ),
            "{}",
            f.message
        );
    }

    /// A ServiceAccount with rights from input bindings, but neither Secrets nor an
    /// escalation: medium, worded by the ranking of input rights.
    #[test]
    fn other_rights_are_medium() {
        let yaml = format!(
            "{DEPLOYER}{}",
            account_with_role(
                "lister",
                r#"{apiGroups: [""], resources: ["configmaps"], verbs: ["list"]}"#
            )
        );
        let out = run(&PodCreateAssumesServiceAccounts, &yaml, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].severity, Severity::Medium, "{}", out[0].message);
        assert!(
            out[0].message.ends_with(
                "the strongest known is ServiceAccount apps/lister, holding 1 rule through input bindings"
            ),
            "{}",
            out[0].message
        );
    }

    /// Issue #8: the executor's grant is never fixed by taking it away (every job would
    /// fail), even when a strong ServiceAccount sits in the job namespace.
    #[test]
    fn the_executor_fix_keeps_its_binding() {
        let yaml = format!(
            "{EXECUTOR}{}",
            r"---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: deployer-admin}
subjects: [{kind: ServiceAccount, name: deployer, namespace: teams}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
"
        );
        let out = run(&PodCreateAssumesServiceAccounts, &yaml, JOBS);
        let f = out
            .iter()
            .find(|f| {
                f.message
                    .starts_with("ServiceAccount gitlab-runner/gitlab-runner")
            })
            .unwrap_or_else(|| panic!("{out:?}"));
        assert_eq!(f.severity, Severity::Critical, "{}", f.message);
        assert!(!f.remediation.contains("remove"), "{}", f.remediation);
        assert!(
            f.remediation.contains(
                "keep ServiceAccounts with rights, such as ServiceAccount teams/deployer, out of job namespace `teams`, or pin the job pods' ServiceAccount with an admission policy"
            ),
            "{}",
            f.remediation
        );
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
        let out = run(&PodCreateAssumesServiceAccounts, EXECUTOR, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].severity, Severity::Info, "{}", out[0].message);
        assert!(
            out[0].message.contains("(`ci-job` and `default`)"),
            "{}",
            out[0].message
        );
    }
}
