//! The indexed policy, and the authorizer, rule resolver and subject locator over it.
//!
//! Follows `plugin/pkg/auth/authorizer/rbac/rbac.go` (`Authorize`, `RulesFor`),
//! `pkg/registry/rbac/validation/rule.go` (`VisitRulesFor`, `appliesTo`,
//! `GetRoleReferenceRules`) and `plugin/pkg/auth/authorizer/rbac/subject_locator.go`
//! (`AllowedSubjects`).
//!
//! Which bindings apply (rule.go `VisitRulesFor`): every ClusterRoleBinding, then, when the
//! request has a namespace, the RoleBindings of that namespace. Instead of scanning them all,
//! the policy indexes bindings by the user and group names their subjects stand for, so a
//! question costs what the asking identity's own bindings cost.

use std::collections::HashMap as StdHashMap;

/// The policy's maps: seeded per process, much faster than `SipHash` on 100k-binding inventories.
type HashMap<K, V> = StdHashMap<K, V, foldhash::fast::RandomState>;
use std::fmt;

use runnerguard_model::{
    Binding, BindingKind, Inventory, Namespace, PolicyRule, Role, RoleKind, ServiceAccount,
    Subject, SubjectKind,
};
use serde::Serialize;

use crate::{Action, Target, UserInfo, aggregate, rule_allows};

/// Index of a binding in [`Policy::bindings`].
pub type BindingId = usize;
/// Index of a role in [`Policy::roles`].
pub type RoleId = usize;

/// The group whose members the API server never asks RBAC about (`user.SystemPrivilegedGroup`):
/// the subject locator always lists it first.
const SYSTEM_MASTERS: &str = "system:masters";

/// One rule that allows a request, and how the identity got it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// The binding that applies to the identity.
    pub binding: BindingId,
    /// Which of the binding's subjects matched (the first that applies, as `appliesTo` returns).
    pub subject_index: usize,
    /// The role the binding refers to.
    pub role: RoleId,
    /// The index of the allowing rule in that role's (aggregated) rules.
    pub rule_index: usize,
}

/// A binding whose role could not be found (`GetRoleReferenceRules` failed). The binding grants
/// nothing; evaluation goes on, as in Kubernetes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResolveError {
    /// The binding.
    pub binding: BindingId,
    /// What it said.
    pub message: String,
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The authorizer's answer, with every rule that allows the request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Whether some rule of some applicable binding allows the request.
    pub allowed: bool,
    /// Every allowing rule, in the order Kubernetes visits them (ClusterRoleBindings first).
    pub grants: Vec<Grant>,
    /// Applicable bindings whose roles are missing.
    pub errors: Vec<ResolveError>,
}

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

/// One subject allowed a request, and the binding that allows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SubjectGrant {
    /// The subject as written in the binding (a ServiceAccount's empty namespace is kept).
    pub subject: Subject,
    /// The binding and the first allowing rule of its role; `None` for `system:masters`,
    /// which needs no binding.
    pub grant: Option<Grant>,
}

/// How a rule fails to allow a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Mismatch {
    /// The verb is not listed.
    Verb,
    /// The API group is not listed.
    ApiGroup,
    /// The resource (or `resource/subresource`) is not listed.
    Resource,
    /// `resourceNames` restricts the rule and the request's name is not among them.
    ResourceName,
    /// The URL is not listed.
    NonResourceUrl,
    /// The rule speaks of resources and the request of a URL, or the reverse.
    RequestType,
    /// The binding is a RoleBinding in another namespace.
    Namespace,
}

/// A rule the identity holds that would allow the request but for a few differences.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NearMiss {
    /// Where the rule comes from.
    pub grant: Grant,
    /// What differs, at least one thing.
    pub mismatches: Vec<Mismatch>,
}

/// Where a rule of a (possibly aggregated) role came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleSource {
    /// The role that holds the rule as written.
    pub role: RoleId,
    /// Its index there.
    pub index: usize,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    binding: u32,
    subject: u32,
}

/// The RBAC objects, deduplicated, aggregated and indexed for questions.
#[derive(Debug, Default)]
pub struct Policy {
    roles: Vec<Role>,
    rule_sources: Vec<Vec<RuleSource>>,
    bindings: Vec<Binding>,
    binding_roles: Vec<Result<RoleId, String>>,
    /// Roles by [`role_key`].
    role_index: HashMap<String, RoleId>,
    by_user: HashMap<String, Vec<Entry>>,
    by_group: HashMap<String, Vec<Entry>>,
    cluster_bindings: Vec<BindingId>,
    namespace_bindings: HashMap<String, Vec<BindingId>>,
    /// Everything that is not a role or a binding (ServiceAccounts, Namespaces, workloads...).
    objects: Inventory,
    aggregation_passes: usize,
}

impl Policy {
    /// Indexes `inventory`: aggregates ClusterRoles to a fixpoint, resolves every binding's
    /// `roleRef`, and indexes bindings by the users and groups their subjects stand for.
    ///
    /// A role that appears twice (same kind, namespace and name) is taken from its last
    /// occurrence, as a later `kubectl apply` would leave it; bindings are kept as given.
    pub fn new(inventory: Inventory) -> Self {
        let mut objects = inventory;
        let roles = std::mem::take(&mut objects.roles);
        let bindings = std::mem::take(&mut objects.bindings);

        // Later definitions of a role replace earlier ones, keeping the first one's position.
        let mut role_index: HashMap<String, RoleId> = HashMap::default();
        let mut unique: Vec<Role> = Vec::with_capacity(roles.len());
        for role in roles {
            let key = role_key(role.kind, &role.namespace, &role.name);
            if let Some(&id) = role_index.get(&key) {
                unique[id] = role;
            } else {
                role_index.insert(key, unique.len());
                unique.push(role);
            }
        }
        let mut roles = unique;
        // The stored rules of plain ClusterRoles, to say where an aggregated rule came from.
        let originals: Vec<Vec<PolicyRule>> = roles
            .iter()
            .map(|r| {
                if r.kind == RoleKind::ClusterRole && r.aggregation.is_none() {
                    r.rules.clone()
                } else {
                    Vec::new()
                }
            })
            .collect();
        let aggregation_passes = aggregate(&mut roles);
        let rule_sources = rule_sources(&roles, &originals);

        let mut key = String::new();
        let binding_roles: Vec<Result<RoleId, String>> = bindings
            .iter()
            .map(|b| resolve_role_ref(&role_index, &mut key, b))
            .collect();

        let mut policy = Self {
            roles,
            rule_sources,
            binding_roles,
            role_index,
            objects,
            aggregation_passes,
            ..Self::default()
        };
        for (id, binding) in bindings.iter().enumerate() {
            policy.index_binding(id, binding);
        }
        policy.bindings = bindings;
        policy
    }

    fn index_binding(&mut self, id: BindingId, binding: &Binding) {
        match binding.kind {
            BindingKind::ClusterRoleBinding => self.cluster_bindings.push(id),
            BindingKind::RoleBinding => self
                .namespace_bindings
                .entry(binding.namespace.clone())
                .or_default()
                .push(id),
        }
        let ns = match binding.kind {
            BindingKind::ClusterRoleBinding => "",
            BindingKind::RoleBinding => binding.namespace.as_str(),
        };
        for (i, subject) in binding.subjects.iter().enumerate() {
            let entry = Entry {
                binding: to_u32(id),
                subject: to_u32(i),
            };
            match SubjectKind::parse(&subject.kind) {
                Some(SubjectKind::User) => {
                    self.by_user
                        .entry(subject.name.clone())
                        .or_default()
                        .push(entry);
                }
                Some(SubjectKind::Group) => {
                    self.by_group
                        .entry(subject.name.clone())
                        .or_default()
                        .push(entry);
                }
                Some(SubjectKind::ServiceAccount) => {
                    if let Some(user) = subject.service_account_user(ns) {
                        self.by_user.entry(user).or_default().push(entry);
                    }
                }
                None => {}
            }
        }
    }

    /// Every role, aggregated, in input order (later duplicates folded into the first place).
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// Every binding, in input order.
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// Every role with its id, in input order. Code that keeps ids iterates this rather than
    /// `roles().iter().enumerate()`, so that it keeps compiling when ids get their own type.
    pub fn roles_with_ids(&self) -> impl Iterator<Item = (RoleId, &Role)> {
        self.roles.iter().enumerate()
    }

    /// Every binding with its id, in input order (see [`Policy::roles_with_ids`]).
    pub fn bindings_with_ids(&self) -> impl Iterator<Item = (BindingId, &Binding)> {
        self.bindings.iter().enumerate()
    }

    /// The ServiceAccounts read.
    pub fn service_accounts(&self) -> &[ServiceAccount] {
        &self.objects.service_accounts
    }

    /// The Namespaces read.
    pub fn namespaces(&self) -> &[Namespace] {
        &self.objects.namespaces
    }

    /// Every object that is not a role or a binding, as read.
    pub fn objects(&self) -> &Inventory {
        &self.objects
    }

    /// How many passes ClusterRole aggregation took to settle.
    pub fn aggregation_passes(&self) -> usize {
        self.aggregation_passes
    }

    /// The role `id`.
    pub fn role(&self, id: RoleId) -> &Role {
        &self.roles[id]
    }

    /// The binding `id`.
    pub fn binding(&self, id: BindingId) -> &Binding {
        &self.bindings[id]
    }

    /// Looks a role up by kind, namespace (empty for a ClusterRole) and name.
    pub fn find_role(&self, kind: RoleKind, namespace: &str, name: &str) -> Option<RoleId> {
        self.role_index
            .get(&role_key(kind, namespace, name))
            .copied()
    }

    /// The role a binding refers to, or why it cannot be found.
    pub fn binding_role(&self, id: BindingId) -> Result<RoleId, &str> {
        self.binding_roles[id]
            .as_ref()
            .copied()
            .map_err(String::as_str)
    }

    /// Where rule `index` of role `role` was written: the role itself, or for an aggregated
    /// ClusterRole, the role it was aggregated from.
    pub fn rule_source(&self, role: RoleId, index: usize) -> Option<&RuleSource> {
        self.rule_sources.get(role)?.get(index)
    }

    /// The rule a grant points at.
    pub fn rule(&self, grant: &Grant) -> &PolicyRule {
        &self.roles[grant.role].rules[grant.rule_index]
    }

    /// The bindings that apply to `user` for a request in `namespace`, each with the index of
    /// its first applying subject, in Kubernetes' visiting order: ClusterRoleBindings in input
    /// order, then the namespace's RoleBindings in input order.
    pub(crate) fn applicable(&self, user: &UserInfo, namespace: &str) -> Vec<(BindingId, usize)> {
        let mut found: Vec<(bool, BindingId, usize)> = Vec::new();
        let mut add = |entries: Option<&Vec<Entry>>| {
            for e in entries.into_iter().flatten() {
                let id = e.binding as usize;
                let binding = &self.bindings[id];
                let namespaced = binding.kind == BindingKind::RoleBinding;
                if namespaced && (namespace.is_empty() || binding.namespace != namespace) {
                    continue;
                }
                found.push((namespaced, id, e.subject as usize));
            }
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
            let b = &self.bindings[e.binding as usize];
            match b.kind {
                BindingKind::ClusterRoleBinding => cluster = true,
                BindingKind::RoleBinding => namespaces.push(&b.namespace),
            }
        }
        namespaces.sort_unstable();
        namespaces.dedup();
        (namespaces, cluster)
    }

    /// Every subject named by some binding, each once, sorted.
    pub fn subjects(&self) -> Vec<Subject> {
        let mut out: Vec<Subject> = self
            .bindings
            .iter()
            .flat_map(|b| {
                b.subjects.iter().map(move |s| {
                    let mut s = s.clone();
                    if s.kind == "ServiceAccount" && s.namespace.is_empty() {
                        s.namespace.clone_from(&b.namespace);
                    }
                    s.api_group.clear();
                    s
                })
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The first allowing rule among `applicable` bindings (as [`Policy::applicable`] lists
    /// them for the action's namespace): [`Policy::authorize`] without collecting every grant
    /// or recomputing which bindings apply, for callers that ask many questions of one user.
    pub(crate) fn first_grant(
        &self,
        applicable: &[(BindingId, usize)],
        action: &Action,
    ) -> Option<Grant> {
        applicable.iter().find_map(|&(binding, subject_index)| {
            let role = *self.binding_roles[binding].as_ref().ok()?;
            self.roles[role]
                .rules
                .iter()
                .position(|rule| rule_allows(rule, action))
                .map(|rule_index| Grant {
                    binding,
                    subject_index,
                    role,
                    rule_index,
                })
        })
    }

    /// `Authorize`: whether `user` may perform `action`, with every allowing rule.
    pub fn authorize(&self, user: &UserInfo, action: &Action) -> Decision {
        let mut decision = Decision::default();
        for (binding, subject_index) in self.applicable(user, &action.namespace) {
            match &self.binding_roles[binding] {
                Err(message) => decision.errors.push(ResolveError {
                    binding,
                    message: message.clone(),
                }),
                Ok(role) => {
                    for (rule_index, rule) in self.roles[*role].rules.iter().enumerate() {
                        if rule_allows(rule, action) {
                            decision.grants.push(Grant {
                                binding,
                                subject_index,
                                role: *role,
                                rule_index,
                            });
                        }
                    }
                }
            }
        }
        decision.allowed = !decision.grants.is_empty();
        decision
    }

    /// `RulesFor`: every rule of every binding that applies to `user` in `namespace` (empty:
    /// ClusterRoleBindings only), in visiting order, not deduplicated.
    pub fn rules_for(&self, user: &UserInfo, namespace: &str) -> RulesFor {
        let mut out = RulesFor::default();
        for (binding, subject_index) in self.applicable(user, namespace) {
            match &self.binding_roles[binding] {
                Err(message) => out.errors.push(ResolveError {
                    binding,
                    message: message.clone(),
                }),
                Ok(role) => {
                    out.rules
                        .extend(
                            (0..self.roles[*role].rules.len()).map(|rule_index| RuleEntry {
                                grant: Grant {
                                    binding,
                                    subject_index,
                                    role: *role,
                                    rule_index,
                                },
                            }),
                        );
                }
            }
        }
        out
    }

    /// `AllowedSubjects`: `system:masters`, then the subjects of every applicable binding whose
    /// role allows `action`, in visiting order and not deduplicated, as upstream returns them.
    /// Also returns the bindings whose roles are missing.
    pub fn allowed_subjects(&self, action: &Action) -> (Vec<SubjectGrant>, Vec<ResolveError>) {
        let mut subjects = vec![SubjectGrant {
            subject: Subject {
                kind: "Group".to_owned(),
                api_group: "rbac.authorization.k8s.io".to_owned(),
                name: SYSTEM_MASTERS.to_owned(),
                namespace: String::new(),
            },
            grant: None,
        }];
        let mut errors = Vec::new();
        // Many bindings share a role: decide each role once.
        let mut allowing: HashMap<RoleId, Option<usize>> = HashMap::default();
        let namespaced = if action.namespace.is_empty() {
            &[][..]
        } else {
            self.namespace_bindings
                .get(&action.namespace)
                .map_or(&[][..], Vec::as_slice)
        };
        for &binding in self.cluster_bindings.iter().chain(namespaced) {
            let role = match &self.binding_roles[binding] {
                Ok(role) => *role,
                Err(message) => {
                    errors.push(ResolveError {
                        binding,
                        message: message.clone(),
                    });
                    continue;
                }
            };
            let rule_index = *allowing.entry(role).or_insert_with(|| {
                self.roles[role]
                    .rules
                    .iter()
                    .position(|rule| rule_allows(rule, action))
            });
            let Some(rule_index) = rule_index else {
                continue;
            };
            let b = &self.bindings[binding];
            subjects.extend(
                b.subjects
                    .iter()
                    .enumerate()
                    .map(|(subject_index, s)| SubjectGrant {
                        subject: s.clone(),
                        grant: Some(Grant {
                            binding,
                            subject_index,
                            role,
                            rule_index,
                        }),
                    }),
            );
        }
        (subjects, errors)
    }

    /// The rules `user` holds, in any namespace, that come closest to allowing `action`: those
    /// with the fewest differences (verb, group, resource, name, URL, namespace), at most
    /// `limit` of them. Empty when the identity is bound to nothing at all.
    ///
    /// This is not Kubernetes behaviour; it answers "why not?", the question people have when
    /// the authorizer says no.
    pub fn near_misses(&self, user: &UserInfo, action: &Action, limit: usize) -> Vec<NearMiss> {
        let mut seen: Vec<(bool, BindingId, usize)> = Vec::new();
        for entries in std::iter::once(self.by_user.get(&user.name))
            .chain(user.groups.iter().map(|g| self.by_group.get(g)))
        {
            for e in entries.into_iter().flatten() {
                let id = e.binding as usize;
                seen.push((
                    self.bindings[id].kind == BindingKind::RoleBinding,
                    id,
                    e.subject as usize,
                ));
            }
        }
        seen.sort_unstable();
        seen.dedup_by_key(|(_, id, _)| *id);

        let mut misses: Vec<NearMiss> = Vec::new();
        for (namespaced, binding, subject_index) in seen {
            let Ok(role) = self.binding_roles[binding] else {
                continue;
            };
            let wrong_namespace =
                namespaced && self.bindings[binding].namespace != action.namespace;
            for (rule_index, rule) in self.roles[role].rules.iter().enumerate() {
                let mut mismatches = rule_mismatches(rule, action);
                if wrong_namespace {
                    mismatches.push(Mismatch::Namespace);
                }
                if mismatches.is_empty() {
                    continue;
                }
                misses.push(NearMiss {
                    grant: Grant {
                        binding,
                        subject_index,
                        role,
                        rule_index,
                    },
                    mismatches,
                });
            }
        }
        let Some(best) = misses.iter().map(|m| m.mismatches.len()).min() else {
            return misses;
        };
        misses.retain(|m| m.mismatches.len() == best);
        misses.truncate(limit);
        misses
    }
}

/// What keeps `rule` from allowing `action`, namespace aside.
fn rule_mismatches(rule: &PolicyRule, action: &Action) -> Vec<Mismatch> {
    use crate::matcher::{
        api_group_matches, non_resource_url_matches, resource_matches, resource_name_matches,
        verb_matches,
    };
    let mut out = Vec::new();
    if !verb_matches(rule, &action.verb) {
        out.push(Mismatch::Verb);
    }
    match &action.target {
        Target::Resource(r) => {
            if rule.resources.is_empty() {
                out.push(Mismatch::RequestType);
                return out;
            }
            if !api_group_matches(rule, &r.api_group) {
                out.push(Mismatch::ApiGroup);
            }
            let combined = if r.subresource.is_empty() {
                r.resource.clone()
            } else {
                format!("{}/{}", r.resource, r.subresource)
            };
            if !resource_matches(rule, &combined, &r.subresource) {
                out.push(Mismatch::Resource);
            }
            if !resource_name_matches(rule, &r.name) {
                out.push(Mismatch::ResourceName);
            }
        }
        Target::NonResource { path } => {
            if rule.non_resource_urls.is_empty() {
                out.push(Mismatch::RequestType);
            } else if !non_resource_url_matches(rule, path) {
                out.push(Mismatch::NonResourceUrl);
            }
        }
    }
    out
}

/// `GetRoleReferenceRules`: `Role` in the binding's namespace, `ClusterRole` by name; any other
/// kind is an error. The `roleRef.apiGroup` is not checked.
fn resolve_role_ref(
    index: &HashMap<String, RoleId>,
    key: &mut String,
    binding: &Binding,
) -> Result<RoleId, String> {
    let r = &binding.role_ref;
    let (kind, namespace) = match r.kind.as_str() {
        // A ClusterRoleBinding has no namespace, so a `Role` reference from it finds nothing.
        "Role" => (RoleKind::Role, binding.namespace.as_str()),
        "ClusterRole" => (RoleKind::ClusterRole, ""),
        other => return Err(format!("unsupported role reference kind: {other:?}")),
    };
    write_role_key(key, kind, namespace, &r.name);
    index.get(key.as_str()).copied().ok_or_else(|| match kind {
        RoleKind::Role => format!(
            "role.rbac.authorization.k8s.io {:?} not found in namespace {namespace:?}",
            r.name
        ),
        RoleKind::ClusterRole => {
            format!(
                "clusterrole.rbac.authorization.k8s.io {:?} not found",
                r.name
            )
        }
    })
}

/// The index key of a role: kind, namespace and name, joined by a byte no name contains.
fn role_key(kind: RoleKind, namespace: &str, name: &str) -> String {
    let mut key = String::new();
    write_role_key(&mut key, kind, namespace, name);
    key
}

/// [`role_key`] into a reused buffer, so lookups do not allocate.
fn write_role_key(key: &mut String, kind: RoleKind, namespace: &str, name: &str) {
    key.clear();
    key.push_str(kind.as_str());
    key.push('\0');
    key.push_str(namespace);
    key.push('\0');
    key.push_str(name);
}

/// For each role, where each of its rules was written: itself, or for aggregated ClusterRoles,
/// the first ClusterRole (by name) that holds an equal rule as written.
fn rule_sources(roles: &[Role], originals: &[Vec<PolicyRule>]) -> Vec<Vec<RuleSource>> {
    let mut by_rule: HashMap<&PolicyRule, RoleId> = HashMap::default();
    let mut order: Vec<RoleId> = (0..roles.len())
        .filter(|&i| roles[i].kind == RoleKind::ClusterRole)
        .collect();
    order.sort_by(|&a, &b| roles[a].name.cmp(&roles[b].name));
    for &id in &order {
        for rule in &originals[id] {
            by_rule.entry(rule).or_insert(id);
        }
    }
    roles
        .iter()
        .enumerate()
        .map(|(id, role)| {
            role.rules
                .iter()
                .enumerate()
                .map(|(index, rule)| {
                    if role.aggregation.is_none() {
                        return RuleSource { role: id, index };
                    }
                    by_rule
                        .get(rule)
                        .and_then(|&src| {
                            originals[src]
                                .iter()
                                .position(|r| r == rule)
                                .map(|index| RuleSource { role: src, index })
                        })
                        .unwrap_or(RuleSource { role: id, index })
                })
                .collect()
        })
        .collect()
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

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
