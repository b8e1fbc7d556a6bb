//! RB004 `secrets-readable`: `get`/`list`/`watch` on Secrets cluster-wide, or in a namespace
//! holding token Secrets.

use std::collections::BTreeMap;

use runnerguard_engine::Action;
use runnerguard_model::{BindingKind, PolicyRule, SecretMeta};

use super::{Groups, Scope, evidence, resolved_subject, through};
use crate::rules::common::and_list;
use crate::{Context, Finding, Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it flags
    /// Each subject of an input binding that may `get`, `list` or `watch` Secrets:
    ///
    /// - cluster-wide (a ClusterRoleBinding): always;
    /// - in a namespace (a RoleBinding) that holds token Secrets: Secrets of type
    ///   `kubernetes.io/service-account-token`, or Secrets read from the inputs with a
    ///   `token`, `runner-token` or `runner-registration-token` key (the GitLab Runner
    ///   chart's token Secret).
    ///
    /// The authorizer's subject locator (`who-can`) answers per namespace, so
    /// `resourceNames` count exactly: `get` restricted to other Secrets is not reported,
    /// `get` on the token Secret by name is, and `list` or `watch` without `resourceNames`
    /// is reported even when `get` is restricted (a list returns every Secret with its data).
    /// One finding per subject and scope, listing the bindings. Kubernetes' default bindings
    /// are not reported.
    ///
    /// ## Why it matters
    /// Reading a Secret is reading its data. A legacy ServiceAccount token Secret is that
    /// ServiceAccount's credential, valid until the Secret is deleted; the runner's token
    /// Secret lets whoever reads it register as the runner and receive every job of every
    /// project it serves, with their CI variables. Cluster-wide, it is every credential in
    /// the cluster, including those of controllers and operators with broad rights.
    ///
    /// ## How to fix
    /// Do not grant `list`/`watch` on Secrets; grant `get` with `resourceNames` naming only
    /// the Secrets a workload reads, in a RoleBinding of its namespace. Keep the runner's
    /// token Secret in the manager's namespace with nothing else bound there, and replace
    /// legacy token Secrets with projected, expiring tokens (`serviceaccounts/token`).
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRole
    /// metadata: {name: secret-reader}
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["secrets"]
    ///   verbs: ["get", "list"]     # bound by a ClusterRoleBinding: every Secret of the cluster
    /// ```
    pub(crate) struct SecretsReadable {
        id: "RB004",
        name: "secrets-readable",
        severity: High,
        summary: "`get`/`list`/`watch` on Secrets cluster-wide, or in a namespace holding token Secrets",
        remediation: "grant `get` on named Secrets only, in the namespace where they are used; never `list`/`watch` on Secrets",
    }
}

const VERBS: [&str; 3] = ["get", "list", "watch"];

/// Whether a Secret holds a token: a ServiceAccount token, or a runner (registration) token.
fn is_token(secret: &SecretMeta) -> bool {
    secret.secret_type == "kubernetes.io/service-account-token"
        || secret
            .keys
            .iter()
            .any(|k| k == "token" || k == "runner-token" || k == "runner-registration-token")
}

/// `` `name` (what it holds) ``.
fn describe_secret(secret: &SecretMeta) -> String {
    let what = if secret.secret_type == "kubernetes.io/service-account-token" {
        match &secret.service_account {
            Some(sa) => format!("token of ServiceAccount `{sa}`"),
            None => "a ServiceAccount token".to_owned(),
        }
    } else if secret.keys.iter().any(|k| k.starts_with("runner-")) {
        "the runner's token".to_owned()
    } else {
        "a token".to_owned()
    };
    format!("`{}` ({what})", secret.object.name)
}

/// The single permission `verb secrets`, restricted to `name` when not empty.
fn perm(verb: &str, name: &str) -> PolicyRule {
    PolicyRule {
        verbs: vec![verb.to_owned()],
        api_groups: vec![String::new()],
        resources: vec!["secrets".to_owned()],
        resource_names: if name.is_empty() {
            Vec::new()
        } else {
            vec![name.to_owned()]
        },
        ..PolicyRule::default()
    }
}

impl Rule for SecretsReadable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let mut tokens: BTreeMap<&str, Vec<&SecretMeta>> = BTreeMap::new();
        for s in cx.objects().secrets.iter().filter(|s| is_token(s)) {
            tokens
                .entry(s.object.namespace.as_str())
                .or_default()
                .push(s);
        }
        let mut groups: Groups<Scope> = Groups::default();
        // Cluster-wide: a request without a namespace sees ClusterRoleBindings only.
        for verb in VERBS {
            let action = Action::resource(verb, "", "", "secrets", "", "");
            collect(cx, &mut groups, &action, &perm(verb, ""), None);
        }
        for (ns, secrets) in &tokens {
            for verb in VERBS {
                let action = Action::resource(verb, ns, "", "secrets", "", "");
                collect(
                    cx,
                    &mut groups,
                    &action,
                    &perm(verb, ""),
                    Some(BindingKind::RoleBinding),
                );
            }
            // `get` restricted by name to a token Secret reads that Secret.
            for s in secrets {
                let action = Action::resource("get", ns, "", "secrets", "", &s.object.name);
                collect(
                    cx,
                    &mut groups,
                    &action,
                    &perm("get", &format!("{ns}/{}", s.object.name)),
                    None,
                );
            }
        }
        for (subject, scope, group) in groups {
            let any_get = group.perm_rules().any(|p| *p == perm("get", ""));
            let verbs: Vec<String> = VERBS
                .iter()
                .filter(|v| group.perm_rules().any(|p| *p == perm(v, "")))
                .map(|v| (*v).to_owned())
                .collect();
            let named: Vec<String> = group
                .perms
                .iter()
                .flat_map(|p| p.resource_names.iter())
                .map(|n| format!("`{n}`"))
                .collect();
            let mut may = Vec::new();
            if !verbs.is_empty() {
                may.push(format!("{} Secrets", verbs.join(", ")));
            }
            if !any_get && !named.is_empty() {
                may.push(format!("get the token Secrets {}", and_list(&named)));
            }
            let via = through(cx, &group.grants);
            let (held, what) = match &scope {
                Scope::Cluster => {
                    let known: Vec<String> = tokens
                        .values()
                        .flatten()
                        .map(|s| format!("`{}/{}`", s.object.namespace, s.object.name))
                        .collect();
                    let known = if known.is_empty() {
                        String::new()
                    } else {
                        format!(" (token Secrets among the inputs: {})", and_list(&known))
                    };
                    let what = if verbs.is_empty() {
                        "whoever holds its credentials holds those tokens".to_owned()
                    } else {
                        format!(
                            "every credential stored in Secrets, legacy ServiceAccount tokens and runner tokens included{known}"
                        )
                    };
                    (tokens.values().flatten().copied().collect::<Vec<_>>(), what)
                }
                Scope::Namespace(ns) => {
                    let held: Vec<&SecretMeta> =
                        tokens.get(ns.as_str()).cloned().unwrap_or_default();
                    let list: Vec<String> = held.iter().map(|s| describe_secret(s)).collect();
                    (
                        held,
                        format!("token Secrets are kept there: {}", and_list(&list)),
                    )
                }
            };
            let scope_text = match &scope {
                // Only named Secrets: their names say where.
                Scope::Cluster if verbs.is_empty() => String::new(),
                Scope::Cluster => " in every namespace".to_owned(),
                Scope::Namespace(ns) => format!(" in namespace `{ns}`"),
            };
            let mut f = Finding::new(
                self.meta(),
                format!(
                    "{subject} may {}{scope_text} through {via}: {what}",
                    and_list(&may)
                ),
            )
            .remediation(format!(
                "remove {subject} from {via}, or limit the role to `get` on the Secrets it needs by name"
            ));
            f = evidence(cx, f, &group.grants);
            for s in held {
                f = f.object(s.object.clone());
            }
            out.push(f);
        }
    }
}

/// Adds the subjects of input bindings allowed `action` to `groups`, as `perm`; only
/// bindings of kind `only` when given. The scope is the binding's.
fn collect(
    cx: &Context<'_>,
    groups: &mut Groups<Scope>,
    action: &Action,
    perm: &PolicyRule,
    only: Option<BindingKind>,
) {
    let (subjects, _) = cx.policy.allowed_subjects(action);
    for s in subjects {
        // `system:masters` needs no binding and is in every cluster.
        let Some(grant) = s.grant else {
            continue;
        };
        let b = cx.policy.binding(grant.binding);
        if b.origin.is_builtin() || only.is_some_and(|k| k != b.kind) {
            continue;
        }
        let Some(subject) = resolved_subject(&s.subject, b) else {
            continue;
        };
        groups.add(subject, Scope::of(b), grant, Some(perm));
    }
}

#[cfg(test)]
mod tests {
    use super::SecretsReadable;
    use crate::rules::testing::{JOBS, run};

    const TOKEN: &str = "apiVersion: v1\nkind: Secret\nmetadata: {name: gitlab-runner-token, namespace: gitlab-runner}\nstringData: {runner-token: x}\n---\n";

    fn reader(rule: &str) -> String {
        format!(
            "{TOKEN}apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: r, namespace: gitlab-runner}}\nrules: [{rule}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: r, namespace: gitlab-runner}}\nsubjects: [{{kind: User, name: bob}}]\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}}\n"
        )
    }

    #[test]
    fn resource_names_count_exactly() {
        // `get` on another Secret by name: not the token.
        let yaml = reader(
            r#"{apiGroups: [""], resources: ["secrets"], resourceNames: ["tls"], verbs: ["get"]}"#,
        );
        assert!(run(&SecretsReadable, &yaml, JOBS).is_empty());
        // `get` on the token Secret by name.
        let yaml = reader(
            r#"{apiGroups: [""], resources: ["secrets"], resourceNames: ["gitlab-runner-token"], verbs: ["get"]}"#,
        );
        let out = run(&SecretsReadable, &yaml, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0]
                .message
                .contains("get the token Secrets `gitlab-runner/gitlab-runner-token`"),
            "{}",
            out[0].message
        );
        // `list` is every Secret, whatever `get` says (and `resourceNames` never match a list).
        let yaml = reader(
            r#"{apiGroups: [""], resources: ["secrets"], resourceNames: ["tls"], verbs: ["get", "list"]}, {apiGroups: [""], resources: ["secrets"], verbs: ["list"]}"#,
        );
        let out = run(&SecretsReadable, &yaml, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0]
                .message
                .starts_with("User bob may list Secrets in namespace `gitlab-runner`"),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn namespaces_without_token_secrets_are_not_reported() {
        let yaml = reader(r#"{apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"]}"#)
            .replace(TOKEN, "");
        assert!(run(&SecretsReadable, &yaml, JOBS).is_empty());
    }
}
