//! Edge discovery: [`EDGES`] walked for one subject in one scope, each edge's requests asked of
//! the exact authorizer.

use std::borrow::Cow;
use std::sync::Arc;

use runnerguard_model::{PolicyRule, RoleKind};

use super::edges::{EDGES, Edge, Name, REQUIREMENTS, Reaches, Request, Then};
use super::{Graph, Identity, Permission, Primitive, SYSTEM_MASTERS, Step};
use crate::matcher::rule_allows_some_name;
use crate::{BindingId, Grant, Policy, RoleId, rule_allows};

/// The object names a scope's rules may allow a request on ([`Graph::names_allowed`]).
enum Names<'a> {
    /// Any name: a rule without `resourceNames`.
    Any,
    /// Only these, sorted (none when no rule allows the request at all).
    Listed(Vec<&'a str>),
}

impl Names<'_> {
    /// Whether a rule may allow the request on `name` (the exact authorizer decides).
    fn allows(&self, name: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Listed(names) => names.binary_search(&name).is_ok(),
        }
    }
}

/// One scope's questions: its namespace (empty: cluster-wide), the bindings (with the matching
/// subject) that apply there, and the authorizer asked about them.
#[derive(Clone, Copy)]
struct At<'a> {
    ns: &'a str,
    applicable: &'a [(BindingId, usize)],
    ask: &'a dyn Fn(&Request, &str) -> Option<Permission>,
}

impl Graph<'_> {
    /// The edges of a subject in one scope (a namespace, or empty for cluster-wide), given
    /// the bindings (with the matching subject) that apply to it there: [`EDGES`] walked in
    /// order.
    pub(super) fn scope_edges(&self, ns: &str, applicable: &[(BindingId, usize)]) -> Vec<Step> {
        let ask = |request: &Request, object: &str| -> Option<Permission> {
            // Most questions are refused: the action is built only for those allowed.
            self.policy
                .first_grant(applicable, |rule| request.allowed_by(rule, object))
                .map(|grant| Permission {
                    action: request.action(ns, object),
                    grant,
                })
        };
        let at = At {
            ns,
            applicable,
            ask: &ask,
        };
        let mut steps = Vec::new();
        let mut skip = None;
        for (edge, requires) in EDGES.iter().zip(&REQUIREMENTS.of_edge) {
            if !edge.scope.includes(ns) || skip == Some(edge.primitive) {
                continue;
            }
            let Some(permissions) = requires
                .iter()
                .map(|alternatives| {
                    alternatives
                        .iter()
                        .find_map(|&r| self.required(ns, applicable, r))
                })
                .collect::<Option<Vec<Permission>>>()
            else {
                continue;
            };
            self.reach_edge(&at, edge, permissions, &mut steps);
            match edge.then {
                Then::Next => {}
                Then::SkipKind => skip = Some(edge.primitive),
                Then::Stop => break,
            }
        }
        steps
    }

    /// Request `request` of [`REQUIREMENTS`] in scope `ns`, asked of the `applicable`
    /// bindings as [`Policy::first_grant`] asks them, from each role's answers
    /// ([`super::edges::RoleAnswers`]).
    fn required(
        &self,
        ns: &str,
        applicable: &[(BindingId, usize)],
        request: usize,
    ) -> Option<Permission> {
        applicable.iter().find_map(|&(binding, subject_index)| {
            let role = self.policy.binding_role(binding).ok()?;
            let rule_index =
                self.answers
                    .first_rule(role.index(), &self.policy.role(role).rules, request)?;
            Some(Permission {
                action: REQUIREMENTS.requests[request].action(ns, ""),
                grant: Grant {
                    binding,
                    subject_index,
                    role,
                    rule_index,
                },
            })
        })
    }

    /// The steps of one edge whose requirements (`permissions`) are allowed.
    fn reach_edge(
        &self,
        at: &At<'_>,
        edge: &Edge,
        permissions: Vec<Permission>,
        steps: &mut Vec<Step>,
    ) {
        let At { ns, ask, .. } = *at;
        let primitive = edge.primitive;
        let note = edge.note.map(Cow::Borrowed);
        let step = |permissions: Vec<Permission>, to: Identity| Step {
            primitive,
            permissions: Arc::from(permissions),
            to,
            note: note.clone(),
        };
        let service_account = |name: &str| Identity::ServiceAccount {
            namespace: ns.to_owned(),
            name: name.to_owned(),
        };
        match edge.reaches {
            Reaches::ScopeAdmin => steps.push(step(permissions, scope_admin(ns))),
            Reaches::ClusterAdmin => steps.push(step(permissions, Identity::ClusterAdmin)),
            Reaches::Node => steps.push(step(permissions, Identity::Node)),
            Reaches::SystemMasters => steps.push(step(
                permissions,
                Identity::Group {
                    name: SYSTEM_MASTERS.to_owned(),
                },
            )),
            Reaches::ServiceAccounts => {
                steps.extend(self.service_accounts_in(ns, primitive, permissions, note));
            }
            Reaches::PodServiceAccounts => match self.pod_service_accounts.get(ns) {
                Some(known) if !ns.is_empty() => steps.extend(steps_to(
                    primitive,
                    permissions,
                    note,
                    known.iter().map(|sa| service_account(sa)),
                )),
                _ => steps.extend(self.service_accounts_in(
                    ns,
                    primitive,
                    permissions,
                    Some(Cow::Borrowed("conservative: no pods of this namespace were read, so any ServiceAccount's pods may be there")),
                )),
            },
            Reaches::TokenSecretOwners => match self.token_secrets.get(ns) {
                Some(tokens) => steps.extend(steps_to(
                    primitive,
                    permissions,
                    note,
                    tokens.iter().map(|(_, sa)| service_account(sa)),
                )),
                None => steps.extend(self.service_accounts_in(
                    ns,
                    primitive,
                    permissions,
                    Some(Cow::Borrowed("conservative: no token Secrets of this namespace were read, so any ServiceAccount may have one")),
                )),
            },
            Reaches::EachTokenSecret { request } => {
                let may = self.names_allowed(at, &request);
                for (secret, sa) in self.token_secrets.get(ns).into_iter().flatten() {
                    if may.allows(secret)
                        && let Some(p) = ask(&request, secret)
                    {
                        steps.push(step(with_first(p, &permissions), service_account(sa)));
                    }
                }
            }
            Reaches::EachServiceAccount { request } => {
                let may = self.names_allowed(at, &request);
                for name in self.service_accounts.get(ns).into_iter().flatten() {
                    if may.allows(name)
                        && let Some(p) = ask(&request, name)
                    {
                        steps.push(step(with_first(p, &permissions), service_account(name)));
                    }
                }
            }
            Reaches::RolesOfNamespace => steps.extend(steps_to(
                primitive,
                permissions,
                note,
                self.policy
                    .roles_with_ids()
                    .filter(|(_, role)| role.kind == RoleKind::Role && role.namespace == ns)
                    .map(|(id, _)| bound_role(self.policy, id, ns)),
            )),
            Reaches::NamedRoles {
                cluster_roles,
                roles,
            } => {
                for (id, request, name) in self.named_roles(at, cluster_roles, roles) {
                    if let Some(p) = ask(&request, &name) {
                        steps.push(step(
                            with_first(p, &permissions),
                            bound_role(self.policy, id, ns),
                        ));
                    }
                }
            }
            Reaches::UsersAndGroups {
                users,
                groups,
                service_accounts,
            } => {
                for (permissions, to) in self.users_and_groups(at, users, groups, service_accounts) {
                    steps.push(step(permissions, to));
                }
            }
        }
    }

    /// Which object names some rule of the scope's bindings may allow `request` on: none,
    /// any, or those its rules list. Asking about each ServiceAccount of a namespace by
    /// name was quadratic in a namespace's ServiceAccounts (8,000 in one: 2 s, issue #13);
    /// names no rule can allow are not asked.
    fn names_allowed<'a>(&'a self, at: &At<'a>, request: &Request) -> Names<'a> {
        let action = request.action(at.ns, "");
        let mut listed: Vec<&'a str> = Vec::new();
        for rule in self.applicable_rules(at.applicable) {
            if !rule_allows_some_name(rule, &action) {
                continue;
            }
            if rule.resource_names.is_empty() {
                return Names::Any;
            }
            listed.extend(rule.resource_names.iter().map(String::as_str));
        }
        listed.sort_unstable();
        listed.dedup();
        Names::Listed(listed)
    }

    /// The roles that only the names of the subject's own `bind` rules let it bind, with the
    /// request that binds each: asked about by name, not about every role of a large
    /// inventory.
    fn named_roles(
        &self,
        at: &At<'_>,
        cluster_roles: Request,
        roles: Request,
    ) -> Vec<(RoleId, Request, String)> {
        let ns = at.ns;
        let mut candidates: Vec<(RoleKind, String)> = Vec::new();
        for rule in self.applicable_rules(at.applicable) {
            for name in &rule.resource_names {
                for (kind, request) in [
                    (RoleKind::ClusterRole, cluster_roles),
                    (RoleKind::Role, roles),
                ] {
                    if rule_allows(rule, &request.action(ns, name)) {
                        candidates.push((kind, name.clone()));
                    }
                }
            }
        }
        candidates.sort();
        candidates.dedup();
        candidates
            .into_iter()
            .filter_map(|(kind, name)| {
                let (role_ns, request) = match kind {
                    RoleKind::ClusterRole => ("", cluster_roles),
                    RoleKind::Role if ns.is_empty() => return None,
                    RoleKind::Role => (ns, roles),
                };
                let id = self.policy.find_role(kind, role_ns, &name)?;
                Some((id, request, name))
            })
            .collect()
    }

    /// `impersonate` on users and groups, cluster-wide: the permissions and the identity of
    /// each edge.
    fn users_and_groups(
        &self,
        at: &At<'_>,
        users: Request,
        groups: Request,
        service_accounts: Request,
    ) -> Vec<(Vec<Permission>, Identity)> {
        let At {
            ns,
            applicable,
            ask,
        } = *at;
        let mut out = Vec::new();
        let any = |request: Request| ask(&request.name(Name::Any), "");
        let any_user = any(users);
        // Every known group and user when any name may be impersonated; otherwise only the
        // names the subject's own `impersonate` rules list.
        let named = |request: Request| -> Vec<String> {
            let mut names: Vec<String> = self
                .applicable_rules(applicable)
                .flat_map(|rule| {
                    rule.resource_names
                        .iter()
                        .filter(|n| rule_allows(rule, &request.action(ns, n)))
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .collect();
            names.sort();
            names.dedup();
            names
        };
        // The API server refuses group impersonation without impersonating a user too
        // (impersonation.go: "requested ... without impersonating a user"): a group edge
        // also needs `impersonate` on some user or ServiceAccount.
        let some_user = any_user
            .clone()
            .or_else(|| named(users).into_iter().find_map(|u| ask(&users, &u)))
            .or_else(|| ask(&service_accounts, ""));
        if let Some(user) = &some_user {
            let known = if any(groups).is_some() {
                self.groups.clone()
            } else {
                named(groups)
            };
            for name in known {
                if let Some(p) = ask(&groups, &name) {
                    out.push((vec![p, user.clone()], Identity::Group { name }));
                }
            }
        }
        let known = if any_user.is_some() {
            self.users.clone()
        } else {
            named(users)
        };
        for name in known {
            if let Some(p) = ask(&users, &name) {
                out.push((vec![p], Identity::of_user_name(&name)));
            }
        }
        out
    }

    /// The rules of the roles of `applicable` bindings.
    fn applicable_rules<'a>(
        &'a self,
        applicable: &'a [(BindingId, usize)],
    ) -> impl Iterator<Item = &'a PolicyRule> + 'a {
        applicable
            .iter()
            .filter_map(|&(b, _)| self.policy.binding_role(b).ok())
            .flat_map(|r| self.policy.role(r).rules.iter())
    }

    /// Every ServiceAccount of `ns` (or every one of every namespace when `ns` is empty).
    pub(super) fn service_accounts_in(
        &self,
        ns: &str,
        primitive: Primitive,
        permissions: Vec<Permission>,
        note: Option<Cow<'static, str>>,
    ) -> Vec<Step> {
        if ns.is_empty() {
            return steps_to(primitive, permissions, note, [Identity::AnyServiceAccount]).collect();
        }
        let names: Vec<&str> = self.service_accounts.get(ns).map_or_else(
            || vec!["default"],
            |s| s.iter().map(String::as_str).collect(),
        );
        steps_to(
            primitive,
            permissions,
            note,
            names.into_iter().map(|name| Identity::ServiceAccount {
                namespace: ns.to_owned(),
                name: name.to_owned(),
            }),
        )
        .collect()
    }
}

/// One step to each identity of `to`, all resting on the same `permissions`.
fn steps_to(
    primitive: Primitive,
    permissions: Vec<Permission>,
    note: Option<Cow<'static, str>>,
    to: impl IntoIterator<Item = Identity>,
) -> impl Iterator<Item = Step> {
    let permissions: Arc<[Permission]> = permissions.into();
    to.into_iter().map(move |to| Step {
        primitive,
        permissions: Arc::clone(&permissions),
        to,
        note: note.clone(),
    })
}

/// `first`, then the edge's own permissions.
fn with_first(first: Permission, rest: &[Permission]) -> Vec<Permission> {
    std::iter::once(first).chain(rest.iter().cloned()).collect()
}

/// Every permission in scope `ns`: namespace-admin there, cluster-admin cluster-wide.
fn scope_admin(ns: &str) -> Identity {
    if ns.is_empty() {
        Identity::ClusterAdmin
    } else {
        Identity::NamespaceAdmin {
            namespace: ns.to_owned(),
        }
    }
}

/// The identity for binding role `id` in scope `ns` (cluster-wide when empty); a role that
/// covers everything is namespace- or cluster-admin.
fn bound_role(policy: &Policy, id: RoleId, ns: &str) -> Identity {
    let role = policy.role(id);
    let star = PolicyRule::resource(&["*"], &["*"], &["*"]);
    if crate::covers(&role.rules, &[star]).0 {
        return scope_admin(ns);
    }
    Identity::BoundRole {
        role_kind: role.kind,
        role_namespace: role.namespace.clone(),
        role_name: role.name.clone(),
        scope: ns.to_owned(),
    }
}
