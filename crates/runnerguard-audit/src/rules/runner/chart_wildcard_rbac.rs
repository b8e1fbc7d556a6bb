//! RG113 `chart-wildcard-rbac`: `rbac.create: true` with empty `rbac.rules`: the chart renders a
//! `*`/`*` Role.

use runnerguard_engine::RoleId;
use runnerguard_model::{Binding, HelmValues, PolicyRule, RoleKind, SettingValue};

use crate::rules::common::and_list;
use crate::{
    Context, Evidence, Finding, ObjectEvidence, Rule, RuleMeta, Topology, declare_rule, qualified,
};

declare_rule! {
    /// ## What it flags
    /// Helm values for the gitlab-runner chart with `rbac.create: true` and no `rbac.rules`
    /// (absent, or an empty list); and the chart's rendered output (`helm template`): a Role
    /// or ClusterRole labelled `chart: gitlab-runner-<version>` with a rule granting verbs
    /// `*` on resources `*`, as the chart renders from such values. When the values and the
    /// role rendered from them are both read (the same kind, in the namespace the values
    /// decide), it is one finding with both places.
    ///
    /// ## Why it matters
    /// With no rules the chart does not fall back to what the executor needs: it renders one
    /// rule with apiGroups `[""]`, resources `["*"]` and verbs `["*"]`, bound to the manager's
    /// ServiceAccount. That is every core resource, including every Secret, `pods/exec`,
    /// `serviceaccounts/token` and ServiceAccounts, in the job namespace
    /// (`runners.jobNamespace`, else the release namespace); with
    /// `rbac.clusterWideAccess: true` it is a ClusterRole and ClusterRoleBinding, so in every
    /// namespace of the cluster. A job or anyone who takes over the manager inherits it.
    /// `rbac.create: true` looks like the safe, managed choice, which is why this is easy to
    /// miss.
    ///
    /// ## How to fix
    /// List the executor's permissions in `rbac.rules` (pods create/delete/get/list/watch,
    /// pods/attach and pods/exec create, pods/log get, secrets create/delete/get/update,
    /// serviceaccounts get, services create/get, events list/watch), each with an explicit
    /// `apiGroups: [""]`, or set `rbac.create: false` and bind a Role of your own in the job
    /// namespace.
    ///
    /// ## Example
    /// ```yaml
    /// rbac:
    ///   create: true     # flagged: no rules, so the chart renders a */* Role
    /// ```
    /// and what `helm template` renders from it:
    /// ```yaml
    /// kind: Role
    /// metadata:
    ///   name: gitlab-runner
    ///   labels: {app: gitlab-runner, chart: gitlab-runner-0.86.0, release: gitlab-runner}
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["*"]   # flagged
    ///   verbs: ["*"]
    /// ```
    pub(crate) struct ChartWildcardRbac {
        id: "RG113",
        name: "chart-wildcard-rbac",
        severity: Critical,
        summary: "`rbac.create: true` with empty `rbac.rules`: the chart renders a `*`/`*` Role",
        remediation: "set `rbac.rules` to the executor's permissions, or `rbac.create: false` and bind the executor Role yourself",
    }
}

impl Rule for ChartWildcardRbac {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let rendered = chart_wildcard_roles(cx);
        // Which rendered roles a values finding already covers (same release): reported once.
        let mut covered = vec![false; rendered.len()];
        // Values that cannot give a finding (no `rbac.create: true` with empty rules) are
        // looked at under the first setup only (issue #9 C3: a scan of all of them per
        // setup was quadratic in tenants).
        let all_values = &cx.objects().helm_values;
        let todo = cx.once_or_again("RG113 values", all_values.len(), |i| {
            all_values.get(i).is_some_and(creates_empty_rules)
        });
        // A values file's finding names its own release's manager and is reported under that
        // release's setup only; the roles it covers are covered under every setup.
        for i in todo {
            let Some(values) = all_values.get(i).filter(|v| creates_empty_rules(v)) else {
                continue;
            };
            let release = cx.values_topology(i);
            let (kind, namespace) = predicted(release, values);
            // The chart renders one such role per release, of the kind and in the namespace
            // the values decide: whether the loader rendered it from these values or `helm
            // template` output was read alongside them.
            let same: Vec<usize> = (0..rendered.len())
                .filter(|&r| {
                    let role = cx.policy.role(rendered[r]);
                    role.kind == kind
                        && (kind == RoleKind::ClusterRole || role.namespace == namespace)
                })
                .collect();
            for &r in &same {
                covered[r] = true;
            }
            if !cx.topology.has_values(i) {
                continue;
            }
            let Some(mut f) = values_finding(cx, release, values) else {
                continue;
            };
            for &r in &same {
                f = rendered_evidence(cx, f, rendered[r]);
            }
            out.push(f);
        }
        for (i, &role) in rendered.iter().enumerate() {
            if !covered[i] {
                out.push(rendered_finding(cx, role));
            }
        }
    }
}

/// Whether `values` set `rbac.create: true` and no rules.
fn creates_empty_rules(values: &HelmValues) -> bool {
    let Some(create) = values.get("rbac.create") else {
        return false;
    };
    if create.value != SettingValue::Bool(true) {
        return false;
    }
    let rules = values.get("rbac.rules");
    match rules.map(|r| &r.value) {
        None => true,
        Some(SettingValue::List(items)) => items.is_empty(),
        // `rules: null` or `rules: ~`: the chart's `range` sees nothing.
        Some(SettingValue::Other(s)) => s == "null",
        Some(_) => false,
    }
}

/// The finding for values with `rbac.create: true` and no rules, if these are such.
fn values_finding(cx: &Context<'_>, release: &Topology, values: &HelmValues) -> Option<Finding> {
    if !creates_empty_rules(values) {
        return None;
    }
    let create = values.get("rbac.create")?;
    let rules = values.get("rbac.rules");
    let (kind, namespace) = predicted(release, values);
    let cluster_wide = kind == RoleKind::ClusterRole;
    let sa = &release.manager_service_account;
    let (what, scope) = if cluster_wide {
        (
            "a ClusterRole and ClusterRoleBinding".to_owned(),
            "in every namespace of the cluster (`rbac.clusterWideAccess: true`)".to_owned(),
        )
    } else {
        (
            format!("a Role and RoleBinding in `{namespace}`"),
            format!("in `{namespace}`"),
        )
    };
    let mut f = Finding::new(
            &ChartWildcardRbac::META,
            format!(
                "`rbac.create: true` without `rbac.rules`: the chart renders {what} granting verbs `*` on resources `*` of the core API group to the manager ServiceAccount `{sa}`, {scope}: every Secret, pods/exec and ServiceAccount token there"
            ),
        )
        .location("rbac.create", create.origin.clone());
    match rules {
        Some(r) => {
            f = f
                .location("rbac.rules", r.origin.clone())
                .fact("`rbac.rules` is empty");
        }
        None => f = f.fact("`rbac.rules` is not set: the chart's default is `[]`"),
    }
    // Every embedded chart (0.77.2-0.86.0) renders the same rule: templates/role.yaml's
    // `{{- if empty .Values.rbac.rules }}` branch.
    f = f.fact(format!(
        "chart {} then renders the rule apiGroups [\"\"], resources [\"*\"], verbs [\"*\"] (each missing field of a rule defaults the same way)",
        cx.chart.version
    ));
    if let Some(cw) = values
        .get("rbac.clusterWideAccess")
        .filter(|_| cluster_wide)
    {
        f = f.location("rbac.clusterWideAccess", cw.origin.clone());
    }
    Some(f)
}

/// The finding for a wildcard role the chart rendered (`helm template` output read
/// without its values).
fn rendered_finding(cx: &Context<'_>, role: RoleId) -> Finding {
    let r = cx.policy.role(role);
    let chart = r.labels.get("chart").map_or("", String::as_str);
    let release = r
        .labels
        .get("release")
        .map(|n| format!(", release `{n}`"))
        .unwrap_or_default();
    let (what, scope) = match r.kind {
        RoleKind::ClusterRole => (
            format!("ClusterRole {}", r.name),
            "in every namespace it is bound in (cluster-wide through a ClusterRoleBinding)"
                .to_owned(),
        ),
        RoleKind::Role => (
            format!("Role {}", qualified(&r.namespace, &r.name)),
            format!("in `{}`", r.namespace),
        ),
    };
    let subjects = bound_subjects(cx, role);
    let to = if subjects.is_empty() {
        "bound by no binding read".to_owned()
    } else {
        format!("bound to {}", and_list(&subjects))
    };
    let core = if r
        .rules
        .iter()
        .filter(|rule| is_wildcard(rule))
        .all(|rule| rule.api_groups == [""])
    {
        " of the core API group"
    } else {
        ""
    };
    let f = Finding::new(
            &ChartWildcardRbac::META,
            format!(
                "the gitlab-runner chart ({chart}{release}) rendered {what} granting verbs `*` on resources `*`{core}, {to}, {scope}: every Secret, pods/exec and ServiceAccount token there (the chart does this when `rbac.create` is true and `rbac.rules` empty)"
            ),
        )
        .remediation(
            "render the chart with `rbac.rules` set to the executor's permissions, or with `rbac.create: false` and bind the executor Role yourself",
        );
    rendered_evidence(cx, f, role)
}

/// The kind and namespace of the role the chart renders from `values`: a ClusterRole with
/// `rbac.clusterWideAccess: true`, else a Role in `runners.jobNamespace`, else the release
/// namespace (the manager's).
fn predicted<'v>(release: &'v Topology, values: &'v HelmValues) -> (RoleKind, &'v str) {
    let cluster_wide = values
        .get("rbac.clusterWideAccess")
        .is_some_and(|s| s.value == SettingValue::Bool(true));
    let namespace = values
        .get("runners.jobNamespace")
        .and_then(|s| s.value.as_str())
        .filter(|n| !n.is_empty())
        .unwrap_or(&release.manager_namespace);
    if cluster_wide {
        (RoleKind::ClusterRole, "")
    } else {
        (RoleKind::Role, namespace)
    }
}

/// The input roles the gitlab-runner chart rendered (label `chart: gitlab-runner-<version>`)
/// with a rule granting `*` verbs on `*` resources.
/// Found through a scan of every role under the first setup only (issue #9 C3).
fn chart_wildcard_roles(cx: &Context<'_>) -> Vec<RoleId> {
    let roles = cx.policy.roles();
    let rendered = |i: usize| {
        roles.get(i).is_some_and(|r| {
            !r.origin.is_builtin()
                && r.labels
                    .get("chart")
                    .is_some_and(|c| c.starts_with("gitlab-runner-"))
                && r.rules.iter().any(is_wildcard)
        })
    };
    cx.once_or_again("RG113 roles", roles.len(), rendered)
        .into_iter()
        .filter(|&i| rendered(i))
        .filter_map(|i| cx.policy.role_id(i))
        .collect()
}

/// Whether a rule grants verbs `*` on resources `*` (what the chart renders from empty
/// `rbac.rules`).
fn is_wildcard(rule: &PolicyRule) -> bool {
    rule.verbs.iter().any(|v| v == "*") && rule.resources.iter().any(|x| x == "*")
}

/// The subjects of the bindings that grant `role`, as `ServiceAccount ns/name`.
fn bound_subjects(cx: &Context<'_>, role: RoleId) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for b in bindings_of(cx, role) {
        for s in &b.subjects {
            let name = s.to_string();
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

/// Adds the rendered role, its wildcard rule and the bindings granting it to `f`.
fn rendered_evidence(cx: &Context<'_>, mut f: Finding, role: RoleId) -> Finding {
    let r = cx.policy.role(role);
    let mut under = Vec::new();
    for (i, rule) in r.rules.iter().enumerate() {
        if is_wildcard(rule) {
            under.push(Evidence::rule(i, rule.clone(), None));
        }
    }
    f = f.object(r.object_ref());
    for b in bindings_of(cx, role) {
        f = f.object(b.object_ref());
        under.push(Evidence::related_object("bound by", b.object_ref()));
    }
    f.evidence(Evidence::Object(Box::new(ObjectEvidence {
        object: r.object_ref(),
        relation: None,
        note: Some(format!(
            "rendered by chart `{}`",
            r.labels.get("chart").map_or("", String::as_str)
        )),
        under,
    })))
}

/// The bindings whose role is `role`.
fn bindings_of<'p>(cx: &Context<'p>, role: RoleId) -> impl Iterator<Item = &'p Binding> {
    let policy = cx.policy;
    policy
        .bindings_with_ids()
        .filter(move |(id, _)| policy.binding_role(*id) == Ok(role))
        .map(|(_, b)| b)
}
