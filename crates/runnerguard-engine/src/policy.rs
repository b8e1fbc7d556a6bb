//! The indexed policy, and the authorizer, rule resolver and subject locator over it.
//!
//! Follows `plugin/pkg/auth/authorizer/rbac/rbac.go` (`Authorize` in `policy/authorizer.rs`,
//! `RulesFor` in `policy/rule_resolver.rs`), `pkg/registry/rbac/validation/rule.go`
//! (`VisitRulesFor` and `appliesTo` in `policy/rule_resolver.rs`, `GetRoleReferenceRules`
//! here) and `plugin/pkg/auth/authorizer/rbac/subject_locator.go` (`AllowedSubjects` in
//! `policy/subject_locator.rs`).
//!
//! Which bindings apply (rule.go `VisitRulesFor`): every ClusterRoleBinding, then, when the
//! request has a namespace, the RoleBindings of that namespace. Instead of scanning them all,
//! the policy indexes bindings by the user and group names their subjects stand for, so a
//! question costs what the asking identity's own bindings cost.

use std::collections::HashMap as StdHashMap;

/// The policy's maps: seeded per process, much faster than `SipHash` on 100k-binding inventories.
type HashMap<K, V> = StdHashMap<K, V, foldhash::fast::RandomState>;
use std::fmt;

use rayon::prelude::*;
use runnerguard_model::{
    Binding, BindingKind, Inventory, Namespace, PolicyRule, Role, RoleKind, ServiceAccount,
    SubjectKind, push_key_part,
};
use serde::Serialize;

use crate::aggregate;

mod authorizer;
mod rule_resolver;
mod subject_locator;
#[cfg(test)]
mod tests;

pub use authorizer::{Decision, Mismatch, NearMiss};
pub use rule_resolver::{RuleEntry, RulesFor, applies_to};
pub use subject_locator::SubjectGrant;

/// A binding of a [`Policy`]; ask the policy for it with [`Policy::binding`]. Ids order as
/// the bindings were read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct BindingId(u32);

/// A role of a [`Policy`]; ask the policy for it with [`Policy::role`]. Ids order as the roles
/// were read (a role read twice keeps its first place).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RoleId(u32);

impl BindingId {
    fn new(index: usize) -> Self {
        Self(to_u32(index))
    }

    /// The binding's place in [`Policy::bindings`], which is its place in the input: for code
    /// that checks the policy against another reading of the same input (the differential
    /// fuzz target).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl RoleId {
    fn new(index: usize) -> Self {
        Self(to_u32(index))
    }

    /// The role's place in [`Policy::roles`].
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

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
    binding: BindingId,
    subject: u32,
}

impl Entry {
    /// Where the entry applies, then its place: ClusterRoleBindings first (`(false, "")`),
    /// then RoleBindings by namespace; by binding and subject within each.
    fn scope(self, bindings: &[Binding]) -> (bool, &str, BindingId, u32) {
        let b = &bindings[self.binding.index()];
        match b.kind {
            BindingKind::ClusterRoleBinding => (false, "", self.binding, self.subject),
            BindingKind::RoleBinding => (true, b.namespace.as_str(), self.binding, self.subject),
        }
    }
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
                unique[id.index()] = role;
            } else {
                role_index.insert(key, RoleId::new(unique.len()));
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

        // The roles bindings refer to and the subject index are independent: each on a core.
        let (binding_roles, index) = rayon::join(
            || {
                let mut key = String::new();
                bindings
                    .iter()
                    .map(|b| resolve_role_ref(&role_index, &mut key, b))
                    .collect::<Vec<Result<RoleId, String>>>()
            },
            || SubjectIndex::new(&bindings),
        );
        Self {
            roles,
            rule_sources,
            binding_roles,
            role_index,
            objects,
            aggregation_passes,
            bindings,
            by_user: index.by_user,
            by_group: index.by_group,
            cluster_bindings: index.cluster_bindings,
            namespace_bindings: index.namespace_bindings,
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

    /// Every role with its id, in input order.
    pub fn roles_with_ids(&self) -> impl Iterator<Item = (RoleId, &Role)> {
        self.roles
            .iter()
            .enumerate()
            .map(|(i, role)| (RoleId::new(i), role))
    }

    /// Every binding with its id, in input order.
    pub fn bindings_with_ids(&self) -> impl Iterator<Item = (BindingId, &Binding)> {
        self.bindings
            .iter()
            .enumerate()
            .map(|(i, binding)| (BindingId::new(i), binding))
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
        &self.roles[id.index()]
    }

    /// The id of the role at `index` of [`Policy::roles`], for code that walks that slice by
    /// position; `None` past its end.
    pub fn role_id(&self, index: usize) -> Option<RoleId> {
        (index < self.roles.len()).then(|| RoleId::new(index))
    }

    /// The binding `id`.
    pub fn binding(&self, id: BindingId) -> &Binding {
        &self.bindings[id.index()]
    }

    /// Looks a role up by kind, namespace (empty for a ClusterRole) and name.
    pub fn find_role(&self, kind: RoleKind, namespace: &str, name: &str) -> Option<RoleId> {
        self.role_index
            .get(&role_key(kind, namespace, name))
            .copied()
    }

    /// The role a binding refers to, or why it cannot be found.
    pub fn binding_role(&self, id: BindingId) -> Result<RoleId, &str> {
        self.binding_roles[id.index()]
            .as_ref()
            .copied()
            .map_err(String::as_str)
    }

    /// Where rule `index` of role `role` was written: the role itself, or for an aggregated
    /// ClusterRole, the role it was aggregated from.
    pub fn rule_source(&self, role: RoleId, index: usize) -> Option<&RuleSource> {
        self.rule_sources.get(role.index())?.get(index)
    }

    /// The rule a grant points at.
    pub fn rule(&self, grant: &Grant) -> &PolicyRule {
        &self.roles[grant.role.index()].rules[grant.rule_index]
    }
}

/// The bindings by the users and groups their subjects stand for, and by scope.
struct SubjectIndex {
    by_user: HashMap<String, Vec<Entry>>,
    by_group: HashMap<String, Vec<Entry>>,
    cluster_bindings: Vec<BindingId>,
    namespace_bindings: HashMap<String, Vec<BindingId>>,
}

impl SubjectIndex {
    fn new(bindings: &[Binding]) -> Self {
        let mut index = Self {
            by_user: HashMap::default(),
            by_group: HashMap::default(),
            cluster_bindings: Vec::new(),
            namespace_bindings: HashMap::default(),
        };
        // A ServiceAccount's user name, written again for each subject without allocating.
        let mut user = String::new();
        for (i, binding) in bindings.iter().enumerate() {
            let id = BindingId::new(i);
            let ns = match binding.kind {
                BindingKind::ClusterRoleBinding => {
                    index.cluster_bindings.push(id);
                    ""
                }
                BindingKind::RoleBinding => {
                    push_at(&mut index.namespace_bindings, &binding.namespace, id);
                    binding.namespace.as_str()
                }
            };
            for (i, subject) in binding.subjects.iter().enumerate() {
                let entry = Entry {
                    binding: id,
                    subject: to_u32(i),
                };
                match SubjectKind::parse(&subject.kind) {
                    Some(SubjectKind::User) => push_at(&mut index.by_user, &subject.name, entry),
                    Some(SubjectKind::Group) => push_at(&mut index.by_group, &subject.name, entry),
                    Some(SubjectKind::ServiceAccount)
                        if subject.write_service_account_user(ns, &mut user) =>
                    {
                        push_at(&mut index.by_user, &user, entry);
                    }
                    Some(SubjectKind::ServiceAccount) | None => {}
                }
            }
        }
        // Each subject's entries by scope, so that `applicable` finds those of one namespace
        // without visiting the others: a group bound in 8,000 namespaces made every question
        // about a member visit all 8,000 (issue #13). Every reader sorts what it collects, so
        // the order changes no answer; no two entries have the same place, so an unstable sort
        // orders them as a stable one would.
        let mut lists: Vec<&mut Vec<Entry>> = index
            .by_user
            .values_mut()
            .chain(index.by_group.values_mut())
            .filter(|entries| entries.len() > 1)
            .collect();
        lists.par_iter_mut().for_each(|entries| {
            entries.sort_unstable_by(|a, b| a.scope(bindings).cmp(&b.scope(bindings)));
        });
        index
    }
}

/// Appends `value` to `key`'s list, copying the key only when it is new.
fn push_at<T>(map: &mut HashMap<String, Vec<T>>, key: &str, value: T) {
    match map.get_mut(key) {
        Some(list) => list.push(value),
        None => {
            map.insert(key.to_owned(), vec![value]);
        }
    }
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

/// The index key of a role: its kind, namespace and name, apart whatever characters they hold.
fn role_key(kind: RoleKind, namespace: &str, name: &str) -> String {
    let mut key = String::new();
    write_role_key(&mut key, kind, namespace, name);
    key
}

/// [`role_key`] into a reused buffer, so lookups do not allocate.
fn write_role_key(key: &mut String, kind: RoleKind, namespace: &str, name: &str) {
    key.clear();
    // Each part escaped, as every key of parts from the inputs is: names may hold any
    // character, and joined with a bare NUL, Role `b<NUL>c` in `a` and Role `c` in
    // `a<NUL>b` were one key (a binding in `a` resolved to the role of another namespace).
    for part in [kind.as_str(), namespace, name] {
        push_key_part(key, part);
    }
}

/// For each role, where each of its rules was written: itself, or for aggregated ClusterRoles,
/// the first ClusterRole (by name) that holds an equal rule as written.
fn rule_sources(roles: &[Role], originals: &[Vec<PolicyRule>]) -> Vec<Vec<RuleSource>> {
    let mut by_rule: HashMap<&PolicyRule, usize> = HashMap::default();
    let mut order: Vec<usize> = (0..roles.len())
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
                    let own = RuleSource {
                        role: RoleId::new(id),
                        index,
                    };
                    if role.aggregation.is_none() {
                        return own;
                    }
                    by_rule
                        .get(rule)
                        .and_then(|&src| {
                            originals[src]
                                .iter()
                                .position(|r| r == rule)
                                .map(|index| RuleSource {
                                    role: RoleId::new(src),
                                    index,
                                })
                        })
                        .unwrap_or(own)
                })
                .collect()
        })
        .collect()
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
