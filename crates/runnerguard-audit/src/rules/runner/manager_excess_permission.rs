//! RG103 `manager-excess-permission`: the manager's ServiceAccount holds more than the executor
//! needs, or rights outside its job namespaces.

use std::borrow::Cow;
use std::collections::BTreeSet;

use runnerguard_engine::{BindingId, Grant, covers};
use runnerguard_model::{BindingKind, PolicyRule, SettingValue};

use super::MAX_TARGETS;
use crate::executor::{Need, Permission, Scope};
use crate::rules::common::{describe, describe_at_most, exists, target};
use crate::{Context, Evidence, Finding, Rule, RuleMeta, declare_rule, qualified};

declare_rule! {
    /// ## What it flags
    /// Every right the runner manager's ServiceAccount holds that the Kubernetes executor of the
    /// target runner version does not use (the executor permission table,
    /// knowledge/gitlab-runner.md §1):
    ///
    /// - in a job namespace, each verb on each resource that the table does not list (the
    ///   table's degraded and optional rows, and the extra verbs the runner documentation lists
    ///   for `pods/exec` and `pods/attach`, count as used, so the chart's own Role is clean;
    ///   rows for features only the runner configuration switches on, `kubernetes.autoscaler`,
    ///   `pod_disruption_budget` and `namespace_per_job`, count only when a runner
    ///   configuration read switches them on);
    /// - in any other namespace, including the manager's own, every right: the manager needs no
    ///   API access there (the one exception: `get services` in its own namespace when the
    ///   chart's `sessionServer.enabled` is true);
    /// - cluster-wide (a ClusterRoleBinding), every right except the table's cluster-scoped rows
    ///   (`namespaces` for `namespace_per_job`, `priorityclasses` for the autoscaler); with
    ///   `namespace_per_job` the namespaced rows are allowed cluster-wide too.
    ///
    /// What every identity gets from Kubernetes' default bindings is not counted, wherever it
    /// is granted (the default bindings, copies of them in the inputs, or a role of the
    /// inputs granting the same again): `system:basic-user` (self access and rules reviews),
    /// `system:discovery` (`/api`, `/apis`, `/openapi`, ...), `system:public-info-viewer`
    /// (`/healthz`, `/livez`, `/readyz`, `/version`) and
    /// `system:service-account-issuer-discovery`. One finding per binding and namespace,
    /// listing what it grants beyond the table and beyond those, with the binding → role →
    /// rule path.
    ///
    /// ## Why it matters
    /// The manager's token sits in the manager pod, which talks to GitLab and runs the runner's
    /// own code; whoever takes it holds every right bound to it. The executor already needs
    /// strong rights in job namespaces (create pods, exec, Secrets); anything more, such as
    /// Deployments, CronJobs or `list` on Secrets, lets a compromised manager plant long-lived
    /// workloads running as any ServiceAccount of the namespace, or read every Secret there,
    /// and rights outside the job namespaces carry that reach into the rest of the cluster.
    ///
    /// ## How to fix
    /// Bind exactly the executor Role in each job namespace and nothing else: remove the extra
    /// rules from the Role, and delete RoleBindings outside the job namespaces and
    /// ClusterRoleBindings that name the manager's ServiceAccount. Workloads that CI deploys
    /// belong to a separate deploy identity, not to the manager.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Role                     # bound to the manager in job namespace `teams`
    /// rules:
    /// - apiGroups: ["", "apps", "batch"]
    ///   resources: ["pods", "deployments", "cronjobs", "secrets"]
    ///   verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
    ///   # flagged: deployments, cronjobs, pods update/patch, secrets list/watch/patch
    /// ```
    pub(crate) struct ManagerExcessPermission {
        id: "RG103",
        name: "manager-excess-permission",
        severity: Medium,
        summary: "the manager's ServiceAccount holds more than the executor needs, or rights outside its job namespaces",
        remediation: "bind only the executor Role, only in the job namespaces; remove extra rules and other bindings",
    }
}

impl Rule for ManagerExcessPermission {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let manager = cx.manager();
        let manager_name = cx.manager_name();
        let job_namespaces = cx.topology.job_namespaces();
        // Rows for features only the runner configuration switches on count only when it does.
        let (used, unused): (Vec<&Permission>, Vec<&Permission>) = cx
            .executor
            .permissions
            .iter()
            .partition(|p| p.need != Need::Feature || feature_in_use(cx, &p.feature));
        // What every identity gets from the default bindings is nobody's excess (issue #8),
        // whether the input repeats those bindings or grants the same again.
        let everyone = everyone_gets();
        let mut namespaced =
            table_rules(used.iter().copied().filter(|p| p.scope == Scope::Namespace));
        let mut cluster = table_rules(used.iter().copied().filter(|p| p.scope == Scope::Cluster));
        if namespace_per_job(cx) {
            cluster.extend(namespaced.iter().cloned());
        }
        namespaced.extend(everyone.iter().cloned());
        cluster.extend(everyone.iter().cloned());
        let unused: Vec<(&Permission, PolicyRule)> = unused
            .into_iter()
            .flat_map(|p| {
                table_rules(std::iter::once(p))
                    .into_iter()
                    .map(move |r| (p, r))
            })
            .collect();

        // Job namespaces, then every other namespace where a RoleBinding names the manager.
        let mut namespaces: BTreeSet<&str> = job_namespaces.iter().copied().collect();
        namespaces.extend(cx.role_binding_namespaces(&manager));

        for ns in namespaces {
            let is_job = cx.is_job_namespace(ns);
            // Borrowed: asked in every job namespace (100,000 runner entries).
            let allowed: Cow<'_, [PolicyRule]> = if is_job {
                Cow::Borrowed(&namespaced)
            } else if ns == cx.topology.manager_namespace && session_server(cx) {
                let mut v = everyone.clone();
                v.push(PolicyRule::resource(&[""], &["services"], &["get"]));
                Cow::Owned(v)
            } else {
                Cow::Borrowed(&everyone)
            };
            let grants: Vec<Grant> = cx
                .policy
                .rules_for(&manager, ns)
                .rules
                .into_iter()
                .map(|e| e.grant)
                .filter(|g| {
                    let b = cx.policy.binding(g.binding);
                    b.kind == BindingKind::RoleBinding && !b.origin.is_builtin()
                })
                .collect();
            for (binding, excess) in excess_by_binding(cx, &grants, &allowed, false) {
                let b = cx.policy.binding(binding);
                let what =
                    describe_at_most(excess.iter().flat_map(|(_, perms)| perms), MAX_TARGETS);
                let (message, remediation) = if is_job {
                    (
                        format!(
                            "the manager ServiceAccount {manager_name} may do more in job namespace `{ns}` than the executor needs, through RoleBinding {}: {what}",
                            qualified(&b.namespace, &b.name)
                        ),
                        format!(
                            "narrow the role bound by RoleBinding {} to the executor's permissions for runner {} (drop what is listed)",
                            qualified(&b.namespace, &b.name),
                            cx.executor.name
                        ),
                    )
                } else {
                    let place = if ns == cx.topology.manager_namespace {
                        format!("its own namespace `{ns}`, where it needs no API access")
                    } else {
                        format!("`{ns}`, which is not a job namespace")
                    };
                    (
                        format!(
                            "the manager ServiceAccount {manager_name} holds rights in {place}, through RoleBinding {}: {what}",
                            qualified(&b.namespace, &b.name)
                        ),
                        format!(
                            "delete RoleBinding {} (or remove the manager from its subjects); if jobs should run in `{ns}`, set `namespace` under [runners.kubernetes]",
                            qualified(&b.namespace, &b.name)
                        ),
                    )
                };
                let mut f = evidence(cx, Finding::new(self.meta(), message), &excess)
                    .remediation(remediation);
                if is_job {
                    f = unused_features(f, &excess, &unused);
                } else {
                    f = f.fact(format!(
                        "job namespaces: {}",
                        job_namespaces
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                out.push(f);
            }
        }

        // ClusterRoleBindings: their rules apply in every namespace, the manager's included.
        let grants: Vec<Grant> = cx
            .policy
            .rules_for(&manager, "")
            .rules
            .into_iter()
            .map(|e| e.grant)
            .filter(|g| !cx.policy.binding(g.binding).origin.is_builtin())
            .collect();
        for (binding, excess) in excess_by_binding(cx, &grants, &cluster, true) {
            let b = cx.policy.binding(binding);
            let what = describe_at_most(excess.iter().flat_map(|(_, perms)| perms), MAX_TARGETS);
            let message = format!(
                "the manager ServiceAccount {manager_name} holds rights cluster-wide (in every namespace, its own included), through ClusterRoleBinding {}: {what}",
                b.name
            );
            let f = evidence(cx, Finding::new(self.meta(), message), &excess);
            let f = unused_features(f, &excess, &unused).remediation(format!(
                "delete ClusterRoleBinding {} (or remove the manager from its subjects); bind the executor Role in each job namespace instead",
                b.name
            ));
            out.push(f);
        }
    }
}

/// The grants of one binding, each with the single permissions it gives beyond `allowed`.
type Excess = Vec<(Grant, Vec<PolicyRule>)>;

/// Groups `grants` by binding (in input order) and keeps, for each rule, the single
/// permissions `allowed` does not cover. Non-resource rules count only when `cluster` (in a
/// RoleBinding they grant nothing).
fn excess_by_binding(
    cx: &Context<'_>,
    grants: &[Grant],
    allowed: &[PolicyRule],
    cluster: bool,
) -> Vec<(BindingId, Excess)> {
    let mut out: Vec<(BindingId, Excess)> = Vec::new();
    for g in grants {
        let rule = cx.policy.rule(g);
        if rule.resources.is_empty() && !cluster {
            continue;
        }
        let (_, uncovered) = covers(allowed, std::slice::from_ref(rule));
        let uncovered: Vec<PolicyRule> = uncovered.into_iter().filter(exists).collect();
        if uncovered.is_empty() {
            continue;
        }
        match out.iter_mut().find(|(b, _)| *b == g.binding) {
            Some((_, v)) => v.push((g.clone(), uncovered)),
            None => out.push((g.binding, vec![(g.clone(), uncovered)])),
        }
    }
    out
}

/// Adds the grants of `excess` (binding → role → rule, with what is not needed) and their
/// objects to `f`.
fn evidence(cx: &Context<'_>, mut f: Finding, excess: &Excess) -> Finding {
    for (g, perms) in excess {
        f = f
            .evidence(Evidence::grant_noted(
                cx.grant_path(g),
                format!("not needed: {}", describe(perms)),
            ))
            .grant_objects(cx, g);
    }
    f
}

/// Whether a feature of the executor table is in use. Features that only the runner
/// configuration switches on (`namespace_per_job`, `pod_disruption_budget`, the
/// `kubernetes.autoscaler` table) count when some runner configuration read sets them; the
/// others (feature flags a job can set in its variables, ports a job declares, the
/// ServiceAccount check) are always possible.
fn feature_in_use(cx: &Context<'_>, feature: &str) -> bool {
    let (fact, key) = match feature {
        "namespace_per_job" => ("RG103 feature namespace_per_job", "namespace_per_job"),
        "pod_disruption_budget" => (
            "RG103 feature pod_disruption_budget",
            "pod_disruption_budget",
        ),
        "kubernetes.autoscaler" => ("RG103 feature autoscaler", "autoscaler"),
        _ => return true,
    };
    cx.policy_fact(fact, || {
        let below = format!("{key}.");
        cx.runner_entries().any(|(_, e)| {
            e.kubernetes.iter().any(|s| {
                (s.key == key || s.key.starts_with(&below)) && s.value != SettingValue::Bool(false)
            })
        })
    })
}

/// Notes, for excess permissions a feature row of the table would allow, that the runner
/// configuration read does not switch that feature on.
fn unused_features(
    mut f: Finding,
    excess: &Excess,
    unused: &[(&Permission, PolicyRule)],
) -> Finding {
    let mut noted: Vec<&str> = Vec::new();
    for (p, rule) in unused {
        let hit = excess
            .iter()
            .flat_map(|(_, perms)| perms)
            .any(|single| covers(std::slice::from_ref(rule), std::slice::from_ref(single)).0);
        if hit && !noted.contains(&p.feature.as_str()) {
            noted.push(&p.feature);
            f = f.fact(format!(
                "the executor uses {} only with `{}`, which no runner configuration read switches on",
                target(rule),
                p.feature
            ));
        }
    }
    f
}

/// Whether `namespace_per_job = true` is set in any runner configuration read.
fn namespace_per_job(cx: &Context<'_>) -> bool {
    cx.policy_fact("RG103 namespace_per_job", || {
        cx.runner_entries().any(|(_, e)| {
            e.kube("namespace_per_job")
                .is_some_and(|s| s.value == SettingValue::Bool(true))
        })
    })
}

/// Whether Helm values read switch the chart's session server on (the chart then binds
/// `get services` in the release namespace).
fn session_server(cx: &Context<'_>) -> bool {
    cx.policy_fact("RG103 session_server", || {
        cx.objects().helm_values.iter().any(|v| {
            v.get("sessionServer.enabled")
                .is_some_and(|s| s.value == SettingValue::Bool(true))
        })
    })
}

/// What Kubernetes' default bindings (v1.32 bootstrap policy, data/k8s-bootstrap/) give every
/// ServiceAccount, the manager's included: `system:basic-user`, `system:discovery` and
/// `system:public-info-viewer` (bound to `system:authenticated`, the last also to
/// `system:unauthenticated`) and `system:service-account-issuer-discovery` (bound to
/// `system:serviceaccounts`). Kept here rather than read from the policy: an input that
/// replaces those bindings (a `kubectl get -o yaml` dump) must not make them count.
fn everyone_gets() -> Vec<PolicyRule> {
    let urls = |urls: &[&str]| PolicyRule {
        verbs: vec!["get".to_owned()],
        non_resource_urls: urls.iter().map(|u| (*u).to_owned()).collect(),
        ..PolicyRule::default()
    };
    vec![
        // system:basic-user
        PolicyRule::resource(
            &["authorization.k8s.io"],
            &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
            &["create"],
        ),
        PolicyRule::resource(
            &["authentication.k8s.io"],
            &["selfsubjectreviews"],
            &["create"],
        ),
        // system:discovery
        urls(&[
            "/api",
            "/api/*",
            "/apis",
            "/apis/*",
            "/healthz",
            "/livez",
            "/openapi",
            "/openapi/*",
            "/readyz",
            "/version",
            "/version/",
        ]),
        // system:public-info-viewer
        urls(&["/healthz", "/livez", "/readyz", "/version", "/version/"]),
        // system:service-account-issuer-discovery
        urls(&[
            "/.well-known/openid-configuration",
            "/.well-known/openid-configuration/",
            "/openid/v1/jwks",
            "/openid/v1/jwks/",
        ]),
    ]
}

/// The executor's permissions as RBAC rules, with the verbs the documentation also lists.
fn table_rules<'a>(perms: impl Iterator<Item = &'a Permission>) -> Vec<PolicyRule> {
    perms
        .map(|p| PolicyRule {
            verbs: p.verbs.iter().chain(&p.docs_also).cloned().collect(),
            api_groups: vec![p.group.clone()],
            resources: vec![p.resource.clone()],
            ..PolicyRule::default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{run, run_with};

    const SERVICES_IN_OWN_NAMESPACE: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: session-server, namespace: gitlab-runner}
rules:
- {apiGroups: [""], resources: ["services"], verbs: ["get"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: session-server, namespace: gitlab-runner}
subjects: [{kind: ServiceAccount, name: gitlab-runner}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: session-server}
"#;

    #[test]
    fn rights_in_the_manager_namespace_are_excess_unless_the_session_server_needs_them() {
        let out = run(
            &ManagerExcessPermission,
            SERVICES_IN_OWN_NAMESPACE,
            &[("teams", "ci-job", None)],
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].message.contains("its own namespace `gitlab-runner`"));
        let with_values = format!(
            "{SERVICES_IN_OWN_NAMESPACE}---\ngitlabUrl: https://gitlab.example.com/\nsessionServer:\n  enabled: true\n"
        );
        let out = run(
            &ManagerExcessPermission,
            &with_values,
            &[("teams", "ci-job", None)],
        );
        assert!(out.is_empty(), "{out:?}");
    }

    /// The rules the default bindings give `system:authenticated`, `system:unauthenticated`
    /// and `system:serviceaccounts`, read from the embedded bootstrap policy.
    #[test]
    fn everyone_gets_matches_the_bootstrap_policy() {
        let mut loaded = runnerguard_load::load_str("empty.yaml", "").unwrap();
        loaded.add_default_policy().unwrap();
        let policy = runnerguard_engine::Policy::new(loaded.inventory);
        let groups = [
            "system:authenticated",
            "system:unauthenticated",
            "system:serviceaccounts",
        ];
        let mut from_defaults: Vec<PolicyRule> = Vec::new();
        for (i, b) in policy.bindings_with_ids() {
            if !b
                .subjects
                .iter()
                .any(|s| s.kind == "Group" && groups.contains(&s.name.as_str()))
            {
                continue;
            }
            let role = policy.binding_role(i).unwrap();
            from_defaults.extend(policy.role(role).rules.iter().cloned());
        }
        let everyone = everyone_gets();
        assert!(covers(&everyone, &from_defaults).0, "{from_defaults:?}");
        assert!(covers(&from_defaults, &everyone).0, "{everyone:?}");
    }

    /// Issue #8: `/healthz`, discovery and self-reviews are what every identity has; an input
    /// that repeats the default bindings, or grants the same again, is not excess.
    #[test]
    fn what_every_identity_gets_is_not_excess() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: system:public-info-viewer}
rules:
- nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: system:public-info-viewer}
subjects:
- {kind: Group, name: system:authenticated}
- {kind: Group, name: system:unauthenticated}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:public-info-viewer}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: probes}
rules:
- {nonResourceURLs: ["/healthz", "/version"], verbs: ["get"]}
- {apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews"], verbs: ["create"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: probes}
subjects: [{kind: ServiceAccount, name: gitlab-runner, namespace: gitlab-runner}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: probes}
"#;
        let jobs = [("teams", "ci-job", None)];
        let out = run(&ManagerExcessPermission, yaml, &jobs);
        assert!(out.is_empty(), "{out:?}");
        // Anything beyond it still counts, and alone.
        let more = yaml.replace(r#""/version"]"#, r#""/version", "/metrics"]"#);
        let out = run(&ManagerExcessPermission, &more, &jobs);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0]
                .message
                .ends_with("through ClusterRoleBinding probes: /metrics (get)"),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn default_bindings_are_not_counted() {
        // The manager gets system:basic-user, system:discovery, ... like every identity.
        let out = run(&ManagerExcessPermission, "", &[("teams", "ci-job", None)]);
        assert!(out.is_empty(), "{out:?}");
    }

    const DEPLOYMENTS_IN_TEAMS: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: executor, namespace: teams}
rules:
- {apiGroups: [""], resources: ["pods"], verbs: ["create", "delete", "get"]}
- {apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "create", "update", "delete"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: executor, namespace: teams}
subjects: [{kind: ServiceAccount, name: gitlab-runner, namespace: gitlab-runner}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: executor}
"#;

    #[test]
    fn configuration_gated_features_count_only_when_configured() {
        let jobs = [("teams", "ci-job", Some(false))];
        let out = run_with(
            &ManagerExcessPermission,
            DEPLOYMENTS_IN_TEAMS,
            "",
            &jobs,
            "18.11",
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0]
                .message
                .contains("deployments.apps (get, list, create, update, delete)")
        );
        assert!(
            crate::rules::testing::facts(&out[0])
                .iter()
                .any(|p| p.contains("only with `kubernetes.autoscaler`")),
            "{:?}",
            out[0].evidence
        );
        let config = "[[runners]]\n  executor = \"kubernetes\"\n  [runners.kubernetes]\n    namespace = \"teams\"\n    [runners.kubernetes.autoscaler]\n      max_pause_pods = 2\n";
        let out = run_with(
            &ManagerExcessPermission,
            DEPLOYMENTS_IN_TEAMS,
            config,
            &jobs,
            "18.11",
        );
        assert!(out.is_empty(), "{out:?}");
    }
}
