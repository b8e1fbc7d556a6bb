//! RB003 `escalation-verb`: `bind`, `escalate` or `impersonate` is granted.

use runnerguard_engine::{Action, UserInfo};

use super::{
    Group, Groups, Probe, Scope, evidence, identity, input_hits, phrase, targets, through,
};
use crate::rules::common::and_list;
use crate::{Context, Evidence, Finding, Rule, RuleMeta, Severity, declare_rule};

declare_rule! {
    /// ## What it flags
    /// Each subject that an input binding grants one of the verbs Kubernetes reserves for
    /// changing identities and permissions, directly or through `verbs: ["*"]`:
    ///
    /// - `bind` on `roles` or `clusterroles`: create bindings to roles it does not hold;
    /// - `escalate` on `roles` or `clusterroles`: write rules it does not hold into roles;
    /// - `impersonate` on `users`, `groups` or `serviceaccounts`: act as someone else.
    ///
    /// One finding per subject, verb and scope, listing the bindings, each with its role and
    /// rule, and saying what the grant allows: `resourceNames` are respected (impersonating
    /// only `groups: [auditors]` is not impersonating `system:masters`), and for `bind` and
    /// `escalate` it says whether the subject also holds the `create`/`update` it needs to
    /// use them. Impersonating any group, or `system:masters`, binding any ClusterRole with
    /// `create` on ClusterRoleBindings, and escalating any ClusterRole with `update` on them
    /// are each full control of the cluster and reported as critical.
    ///
    /// A RoleBinding never grants impersonation of users or groups, nor `escalate` on
    /// ClusterRoles (those requests carry no namespace): only what takes effect is reported.
    /// Kubernetes' default bindings are not reported; a user binding to a default role is
    /// (`edit` and `admin` include `impersonate` on ServiceAccounts).
    ///
    /// ## Why it matters
    /// RBAC stops people from granting what they do not hold; these verbs are the exceptions.
    /// `impersonate` on groups makes any request as `system:masters`, which RBAC never even
    /// asks about. `bind` on `cluster-admin` plus `create` on ClusterRoleBindings is
    /// `cluster-admin`. `escalate` plus `update` on a role the subject is bound to is any
    /// permission it likes. Impersonating a ServiceAccount gives all of its rights.
    ///
    /// ## How to fix
    /// Grant these verbs only to the few administrators and controllers that manage RBAC, and
    /// restrict them with `resourceNames`: the roles a delegated administrator may bind, the
    /// ServiceAccounts a tool may impersonate. For people who deploy, use `edit` in their own
    /// namespaces only, knowing it impersonates every ServiceAccount there, or a custom role
    /// without `impersonate`.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRole
    /// metadata: {name: support}
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["users", "groups"]
    ///   verbs: ["impersonate"]        # any group: system:masters
    /// ```
    pub(crate) struct EscalationVerb {
        id: "RB003",
        name: "escalation-verb",
        severity: High,
        summary: "`bind`, `escalate` or `impersonate` is granted",
        remediation: "grant `bind`, `escalate` and `impersonate` only to RBAC administrators, restricted with `resourceNames`",
    }
}

const RBAC: &str = "rbac.authorization.k8s.io";

/// The requests behind each verb. `bind` is checked in the new binding's namespace, on the
/// role it refers to (a RoleBinding may refer to a ClusterRole); `escalate` in the role's
/// namespace; `impersonate` on users and groups without a namespace, on ServiceAccounts in
/// theirs (`userextras` and `uids` only add to an impersonated user).
const PROBES: [Probe; 7] = [
    Probe::new("bind", RBAC, "roles", "").named(),
    Probe::new("bind", RBAC, "clusterroles", "").named(),
    Probe::new("escalate", RBAC, "roles", "").named(),
    Probe::new("escalate", RBAC, "clusterroles", "")
        .named()
        .cluster(),
    Probe::new("impersonate", "", "users", "").named().cluster(),
    Probe::new("impersonate", "", "groups", "")
        .named()
        .cluster(),
    Probe::new("impersonate", "", "serviceaccounts", "").named(),
];

impl Rule for EscalationVerb {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let mut groups: Groups<(Scope, &'static str)> = Groups::default();
        for hit in input_hits(cx, &PROBES) {
            let scope = Scope::of(cx.policy.binding(hit.binding));
            groups.add_hit(cx, &hit, &(scope, hit.probe.request.verb));
        }
        for (subject, (scope, verb), group) in groups {
            let Some(user) = identity(&subject) else {
                continue;
            };
            let what = match verb {
                "impersonate" => impersonation(&group, &scope),
                "bind" => binding(cx, &user, &group, &scope),
                _ => escalation(cx, &user, &group, &scope),
            };
            let via = through(cx, &group.grants);
            let mut f = Finding::new(
                self.meta(),
                format!("{subject} may {} through {via}: {}", what.may, what.gives),
            )
            .remediation(format!(
                "remove {subject} from {via}, or restrict the role's `{verb}` rule with `resourceNames`"
            ));
            if what.critical {
                f = f.severity(Severity::Critical);
            }
            f = evidence(cx, f, &group.grants);
            for (step, grant) in what.also {
                f = f.evidence(Evidence::fact_under(step, vec![cx.grant_evidence(&grant)]));
            }
            out.push(f);
        }
    }
}

/// What a grant allows: the verb phrase, the consequence, whether it is full control of the
/// cluster, and the companion permissions found (with one grant each).
struct Effect {
    may: String,
    gives: String,
    critical: bool,
    also: Vec<(String, runnerguard_engine::Grant)>,
}

fn impersonation(group: &Group, scope: &Scope) -> Effect {
    let mut parts = Vec::new();
    let mut critical = false;
    if let Some((any, names)) = targets(group, "groups") {
        critical = any || names.iter().any(|n| n == "system:masters");
        parts.push(phrase(any, &names, "group", "groups"));
    }
    if let Some((any, names)) = targets(group, "users") {
        parts.push(phrase(any, &names, "user", "users"));
    }
    if let Some((any, names)) = targets(group, "serviceaccounts") {
        let p = phrase(any, &names, "ServiceAccount", "ServiceAccounts");
        parts.push(match scope {
            Scope::Cluster => format!("{p} in every namespace"),
            Scope::Namespace(ns) => format!("{p} in namespace `{ns}`"),
        });
    }
    let gives = if critical {
        "as a member of `system:masters` it has full control of the cluster, and RBAC is not even asked".to_owned()
    } else {
        "it acts with all of their rights".to_owned()
    };
    Effect {
        may: format!("impersonate {}", and_list(&parts)),
        gives,
        critical,
        also: Vec::new(),
    }
}

/// The first grant of `user` for `action`, if allowed.
fn allowed(
    cx: &Context<'_>,
    user: &UserInfo,
    action: &Action,
) -> Option<runnerguard_engine::Grant> {
    cx.policy.authorize(user, action).grants.into_iter().next()
}

/// The ClusterRoles a group's rules name (any, or these names), and the roles described
/// (`any ClusterRole and Roles a, b`).
fn role_targets(group: &Group) -> (Option<(bool, Vec<String>)>, String) {
    let cluster_roles = targets(group, "clusterroles");
    let roles = targets(group, "roles");
    let mut parts = Vec::new();
    if let Some((any, names)) = &cluster_roles {
        parts.push(phrase(*any, names, "ClusterRole", "ClusterRoles"));
    }
    if let Some((any, names)) = &roles {
        parts.push(phrase(*any, names, "Role", "Roles"));
    }
    (cluster_roles, and_list(&parts))
}

fn binding(cx: &Context<'_>, user: &UserInfo, group: &Group, scope: &Scope) -> Effect {
    let (cluster_roles, described) = role_targets(group);
    let admin = cluster_roles
        .as_ref()
        .is_some_and(|(any, names)| *any || names.iter().any(|n| n == "cluster-admin"));
    let may = format!("bind {described} {scope}");
    let mut also = Vec::new();
    let ns = scope.namespace();
    let rb = allowed(
        cx,
        user,
        &Action::resource("create", ns, RBAC, "rolebindings", "", ""),
    );
    if *scope == Scope::Cluster {
        let crb = allowed(
            cx,
            user,
            &Action::resource("create", "", RBAC, "clusterrolebindings", "", ""),
        );
        if let Some(g) = crb {
            also.push(("it may also create clusterrolebindings:".to_owned(), g));
            let gives = if admin {
                "with `create` on ClusterRoleBindings it can bind itself `cluster-admin`: full control of the cluster"
            } else {
                "with `create` on ClusterRoleBindings it can grant itself those roles cluster-wide"
            };
            return Effect {
                may,
                gives: gives.to_owned(),
                critical: admin,
                also,
            };
        }
    }
    if let Some(g) = rb {
        also.push((format!("it may also create rolebindings {scope}:"), g));
        let (what, including) = if admin {
            ("any ClusterRole", ", `cluster-admin` included")
        } else {
            ("those roles", "")
        };
        let gives = match scope {
            Scope::Cluster => format!(
                "with `create` on RoleBindings in every namespace it can grant itself {what} in any namespace{including}"
            ),
            Scope::Namespace(ns) => format!(
                "with `create` on RoleBindings there it can grant itself {what} in namespace `{ns}`{including}"
            ),
        };
        return Effect {
            may,
            gives,
            critical: false,
            also,
        };
    }
    Effect {
        may,
        gives: "it does not hold `create` on RoleBindings now; whoever gains that (or shares its credentials with someone who has it) can grant those roles".to_owned(),
        critical: false,
        also,
    }
}

fn escalation(cx: &Context<'_>, user: &UserInfo, group: &Group, scope: &Scope) -> Effect {
    let (cluster_roles, described) = role_targets(group);
    let roles = targets(group, "roles");
    let may = format!("escalate {described} {scope}");
    let ns = scope.namespace();
    let mut also = Vec::new();
    let any_cluster_role = cluster_roles.as_ref().is_some_and(|(any, _)| *any);
    if any_cluster_role {
        for verb in ["update", "patch"] {
            if let Some(g) = allowed(
                cx,
                user,
                &Action::resource(verb, "", RBAC, "clusterroles", "", ""),
            ) {
                also.push((format!("it may also {verb} clusterroles:"), g));
                return Effect {
                    may,
                    gives: format!(
                        "with `{verb}` on ClusterRoles it can write `*` on `*` into any ClusterRole, one bound to itself included: full control of the cluster"
                    ),
                    critical: true,
                    also,
                };
            }
        }
    }
    for verb in ["create", "update", "patch"] {
        let resource = if roles.is_some() {
            "roles"
        } else {
            "clusterroles"
        };
        let in_ns = if resource == "roles" { ns } else { "" };
        if let Some(g) = allowed(
            cx,
            user,
            &Action::resource(verb, in_ns, RBAC, resource, "", ""),
        ) {
            also.push((format!("it may also {verb} {resource}:"), g));
            return Effect {
                may,
                gives: format!(
                    "with `{verb}` on them it can write any permission into those roles, and holds it through any binding to them"
                ),
                critical: false,
                also,
            };
        }
    }
    Effect {
        may,
        gives: "it does not hold `create` or `update` on those roles now; with them it could write any permission into them".to_owned(),
        critical: false,
        also,
    }
}

#[cfg(test)]
mod tests {
    use super::EscalationVerb;
    use crate::Severity;
    use crate::rules::testing::{JOBS, run};

    fn with_rule(kind: &str, ns: &str, rule: &str) -> String {
        let (role_kind, meta) = if ns.is_empty() {
            ("ClusterRole", "{name: r}".to_owned())
        } else {
            ("Role", format!("{{name: r, namespace: {ns}}}"))
        };
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: {role_kind}\nmetadata: {meta}\nrules: [{rule}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata: {meta}\nsubjects: [{{kind: User, name: mallory}}]\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: {role_kind}, name: r}}\n"
        )
    }

    #[test]
    fn impersonating_any_group_is_critical_and_named_groups_are_not() {
        let yaml = with_rule(
            "ClusterRoleBinding",
            "",
            r#"{apiGroups: [""], resources: ["groups"], verbs: ["impersonate"]}"#,
        );
        let out = run(&EscalationVerb, &yaml, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].severity, Severity::Critical);
        assert!(
            out[0].message.contains("impersonate any group"),
            "{}",
            out[0].message
        );

        let yaml = with_rule(
            "ClusterRoleBinding",
            "",
            r#"{apiGroups: [""], resources: ["groups"], resourceNames: ["auditors"], verbs: ["impersonate"]}"#,
        );
        let out = run(&EscalationVerb, &yaml, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].severity, Severity::High);
        assert!(
            out[0].message.contains("impersonate group `auditors`"),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn a_rolebinding_cannot_grant_impersonation_of_groups() {
        let yaml = with_rule(
            "RoleBinding",
            "teams",
            r#"{apiGroups: [""], resources: ["groups"], verbs: ["impersonate"]}"#,
        );
        assert!(run(&EscalationVerb, &yaml, JOBS).is_empty());
    }

    #[test]
    fn star_verbs_include_bind() {
        let yaml = with_rule(
            "ClusterRoleBinding",
            "",
            r#"{apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles", "clusterrolebindings"], verbs: ["*"]}"#,
        );
        let out = run(&EscalationVerb, &yaml, JOBS);
        let bind = out
            .iter()
            .find(|f| f.message.contains("may bind any ClusterRole"))
            .unwrap_or_else(|| panic!("{out:?}"));
        assert_eq!(bind.severity, Severity::Critical, "{}", bind.message);
        assert!(
            out.iter()
                .any(|f| f.message.contains("may escalate any ClusterRole"))
        );
    }
}
