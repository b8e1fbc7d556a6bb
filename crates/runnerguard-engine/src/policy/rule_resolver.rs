//! The rule resolver: `VisitRulesFor` and `appliesTo` of
//! `pkg/registry/rbac/validation/rule.go` (which bindings apply to an identity, in which
//! order) and `RulesFor` of `plugin/pkg/auth/authorizer/rbac/rbac.go` (every rule they give).

use runnerguard_model::{BindingKind, Subject, SubjectKind};
use serde::Serialize;

use super::{BindingId, Entry, Grant, Policy, ResolveError};
use crate::UserInfo;

/// One rule an identity holds in a namespace, with the binding that gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleEntry {
    /// Where the rule comes from.
    pub grant: Grant,
}

/// The rule resolver's answer: every rule of every applicable binding, not deduplicated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RulesFor {
    /// The rules, in visiting order.
    pub rules: Vec<RuleEntry>,
    /// Applicable bindings whose roles are missing.
    pub errors: Vec<ResolveError>,
}

impl Policy {
    /// The bindings that apply to `user` for a request in `namespace`, each with the index of
    /// its first applying subject, in Kubernetes' visiting order: ClusterRoleBindings in input
    /// order, then the namespace's RoleBindings in input order.
    pub(crate) fn applicable(&self, user: &UserInfo, namespace: &str) -> Vec<(BindingId, usize)> {
        let mut found: Vec<(bool, BindingId, usize)> = Vec::new();
        // Entries are sorted by scope (`Entry::scope`): the ClusterRoleBindings, then the
        // RoleBindings of `namespace`, each found by bisection.
        let mut add = |entries: Option<&Vec<Entry>>| {
            let Some(entries) = entries else {
                return;
            };
            let scope = |e: &Entry| e.scope(&self.bindings);
            let cluster = entries.partition_point(|e| !scope(e).0);
            found.extend(
                entries[..cluster]
                    .iter()
                    .map(|e| (false, e.binding, e.subject as usize)),
            );
            if namespace.is_empty() {
                return;
            }
            let rest = &entries[cluster..];
            let from = rest.partition_point(|e| scope(e).1 < namespace);
            let to = from + rest[from..].partition_point(|e| scope(e).1 == namespace);
            found.extend(
                rest[from..to]
                    .iter()
                    .map(|e| (true, e.binding, e.subject as usize)),
            );
        };
        add(self.by_user.get(&user.name));
        for group in &user.groups {
            add(self.by_group.get(group));
        }
        found.sort_unstable();
        // `appliesTo` returns the first applying subject of each binding.
        found.dedup_by_key(|(_, id, _)| *id);
        found.into_iter().map(|(_, id, s)| (id, s)).collect()
    }

    /// Where `user` holds any binding: the namespaces of its RoleBindings (sorted), and
    /// whether a ClusterRoleBinding applies to it. Escalation analysis asks its questions only
    /// there: nowhere else can a rule reach the user.
    pub fn binding_scopes(&self, user: &UserInfo) -> (Vec<&str>, bool) {
        let mut namespaces: Vec<&str> = Vec::new();
        let mut cluster = false;
        let entries = std::iter::once(self.by_user.get(&user.name))
            .chain(user.groups.iter().map(|g| self.by_group.get(g)))
            .flatten()
            .flatten();
        for e in entries {
            let b = self.binding(e.binding);
            match b.kind {
                BindingKind::ClusterRoleBinding => cluster = true,
                BindingKind::RoleBinding => namespaces.push(&b.namespace),
            }
        }
        namespaces.sort_unstable();
        namespaces.dedup();
        (namespaces, cluster)
    }

    /// `RulesFor`: every rule of every binding that applies to `user` in `namespace` (empty:
    /// ClusterRoleBindings only), in visiting order, not deduplicated.
    pub fn rules_for(&self, user: &UserInfo, namespace: &str) -> RulesFor {
        let mut out = RulesFor::default();
        for (binding, subject_index) in self.applicable(user, namespace) {
            match self.binding_role(binding) {
                Err(message) => out.errors.push(ResolveError {
                    binding,
                    message: message.to_owned(),
                }),
                Ok(role) => {
                    out.rules
                        .extend(
                            (0..self.role(role).rules.len()).map(|rule_index| RuleEntry {
                                grant: Grant {
                                    binding,
                                    subject_index,
                                    role,
                                    rule_index,
                                },
                            }),
                        );
                }
            }
        }
        out
    }
}

/// `appliesTo(user, subjects, namespace)`: the index of the first subject that names `user`
/// or one of its groups. A ServiceAccount subject with no namespace takes `namespace` (the
/// RoleBinding's); with neither it matches nobody. Unknown kinds never match.
pub fn applies_to(user: &UserInfo, subjects: &[Subject], namespace: &str) -> Option<usize> {
    subjects
        .iter()
        .position(|s| match SubjectKind::parse(&s.kind) {
            Some(SubjectKind::User) => user.name == s.name,
            Some(SubjectKind::Group) => user.groups.contains(&s.name),
            Some(SubjectKind::ServiceAccount) => s
                .service_account_user(namespace)
                .is_some_and(|u| u == user.name),
            None => false,
        })
}
