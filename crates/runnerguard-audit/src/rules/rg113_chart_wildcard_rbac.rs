use runnerguard_model::SettingValue;

use crate::{Context, Finding, Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it flags
    /// Helm values for the gitlab-runner chart with `rbac.create: true` and no `rbac.rules`
    /// (absent, or an empty list).
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
        for values in &cx.objects().helm_values {
            let Some(create) = values.get("rbac.create") else {
                continue;
            };
            if create.value != SettingValue::Bool(true) {
                continue;
            }
            let rules = values.get("rbac.rules");
            let empty = match rules.map(|r| &r.value) {
                None => true,
                Some(SettingValue::List(items)) => items.is_empty(),
                // `rules: null` or `rules: ~`: the chart's `range` sees nothing.
                Some(SettingValue::Other(s)) => s == "null",
                Some(_) => false,
            };
            if !empty {
                continue;
            }
            let cluster_wide = values
                .get("rbac.clusterWideAccess")
                .is_some_and(|s| s.value == SettingValue::Bool(true));
            let namespace = values
                .get("runners.jobNamespace")
                .and_then(|s| s.value.as_str())
                .filter(|n| !n.is_empty())
                .unwrap_or(&cx.topology.manager_namespace);
            let sa = &cx.topology.manager_service_account;
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
                self.meta(),
                format!(
                    "`rbac.create: true` without `rbac.rules`: the chart renders {what} granting verbs `*` on resources `*` of the core API group to the manager ServiceAccount `{sa}`, {scope}: every Secret, pods/exec and ServiceAccount token there"
                ),
            )
            .location("rbac.create", create.origin.clone());
            match rules {
                Some(r) => {
                    f = f
                        .location("rbac.rules", r.origin.clone())
                        .step("`rbac.rules` is empty");
                }
                None => f = f.step("`rbac.rules` is not set: the chart's default is `[]`"),
            }
            f = f.step(
                "chart 0.86.0 then renders the rule apiGroups [\"\"], resources [\"*\"], verbs [\"*\"] (each missing field of a rule defaults the same way)",
            );
            if let Some(cw) = values
                .get("rbac.clusterWideAccess")
                .filter(|_| cluster_wide)
            {
                f = f.location("rbac.clusterWideAccess", cw.origin.clone());
            }
            out.push(f);
        }
    }
}
