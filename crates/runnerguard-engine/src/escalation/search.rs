//! The search: breadth-first over the escalation graph from a subject, each identity with a
//! shortest path, and the caches that let many subjects share the authorizer's answers.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use runnerguard_model::split_service_account_user;

use super::edges::{ANY_TOKEN, CREATE_PODS, GET_ANY_SECRET, Request};
use super::identity::EffectiveDecision;
use super::{Fast, Graph, Identity, Primitive, Reached, SYSTEM_MASTERS, Step};
use crate::{Action, BindingId, Grant, Policy, Target, UserInfo, rule_allows};

/// The escalation graph over a policy, with the objects that make its edges concrete.
///
/// Shared between threads (the audit's rules run on every core and ask the same graph): the
/// caches are behind locks held only to look up or insert, never while an answer is worked
/// out, so two threads may work out the same edges once each and keep the same answer.
pub struct Escalation<'p> {
    graph: Graph<'p>,
    cache: Mutex<Fast<Identity, Arc<[Step]>>>,
    /// The distinct edge lists of `cache`, by a hash of their steps' primitives and targets:
    /// identities with equal edges share one list, which a search then expands once.
    lists: Mutex<Fast<u64, Vec<Arc<[Step]>>>>,
    /// Edges per scope and applicable bindings.
    scope_cache: Mutex<Fast<ScopeKey, Arc<[Step]>>>,
    /// What "every ServiceAccount" reaches besides ServiceAccounts, computed once.
    any_service_account: OnceLock<Vec<Reached>>,
}

/// Compiles only while an [`Escalation`] may be shared between threads (the audit relies on it).
const _: fn(&'static Escalation<'static>) -> &'static (dyn Sync + 'static) = |e| e;

/// A cache's contents: a lock never poisons them (a thread that panicked while holding it
/// left at most an answer missing, never half of one).
fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The identities a search has found (hashed: a breadth-first search in a namespace whose
/// ServiceAccounts may all become one another asks about each of them once per edge).
type Seen = HashSet<Identity, foldhash::fast::RandomState>;

/// Whether `id` is new to `seen`, adding it; cloned only when new (most edges of such a
/// search lead back to identities already found).
fn first_time(seen: &mut Seen, id: &Identity) -> bool {
    if seen.contains(id) {
        return false;
    }
    seen.insert(id.clone());
    true
}

/// The edge lists a search has expanded, by address: a list shared by many identities
/// ([`Escalation::edges`]) leads nowhere new the second time, so it is expanded once. In a
/// namespace whose k ServiceAccounts may all become one another, each search then looks at
/// k edges rather than k² (issue #13). Each list is held until the search ends, so no other
/// list can take its address meanwhile (two threads may work out the same edges, and the
/// cache keep one of them).
#[derive(Default)]
struct Expanded(HashMap<usize, Arc<[Step]>, foldhash::fast::RandomState>);

impl Expanded {
    /// Whether `steps` is expanded for the first time in this search. Skipping a list seen
    /// before changes nothing: each of its targets was marked seen when it was first expanded.
    fn first_time(&mut self, steps: &Arc<[Step]>) -> bool {
        if steps.is_empty() {
            return true;
        }
        let address = Arc::as_ptr(steps).cast::<Step>() as usize;
        match self.0.entry(address) {
            Entry::Occupied(_) => false,
            Entry::Vacant(v) => {
                v.insert(Arc::clone(steps));
                true
            }
        }
    }
}

/// A scope (namespace, or empty) and the bindings (with the matching subject) that apply there.
type ScopeKey = (String, Vec<(BindingId, usize)>);

/// At most this many identities are explored from one subject.
const MAX_IDENTITIES: usize = 100_000;

impl<'p> Escalation<'p> {
    /// Prepares the graph over `policy` (and the objects it holds).
    pub fn new(policy: &'p Policy) -> Self {
        Self {
            graph: Graph::new(policy),
            cache: Mutex::default(),
            lists: Mutex::default(),
            scope_cache: Mutex::default(),
            any_service_account: OnceLock::new(),
        }
    }

    /// Works out the edges of many subjects at once, on every core (the part of escalation
    /// analysis that asks the authorizer); later questions about them are answered from the
    /// cache. Optional: every question works without it.
    pub fn prepare(&self, users: &[UserInfo]) {
        use rayon::prelude::*;
        let policy = self.graph.policy;
        // The scopes of the users not cached yet, on every core, a chunk of users at a time:
        // each chunk's keys are dropped as soon as they are found cached, so at most a chunk
        // of them is held beyond those kept (all of them at once cost the hostile 1 MB test
        // 4 MB).
        let mut keys: Vec<ScopeKey> = users
            .par_chunks(512)
            .flat_map_iter(|chunk| {
                let mut keys: Vec<ScopeKey> = Vec::new();
                for user in chunk {
                    let (namespaces, cluster) = policy.binding_scopes(user);
                    let cluster_scope = cluster.then_some("");
                    for ns in namespaces.into_iter().chain(cluster_scope) {
                        keys.push((ns.to_owned(), policy.applicable(user, ns)));
                    }
                }
                let cache = locked(&self.scope_cache);
                keys.retain(|key| !cache.contains_key(key));
                keys
            })
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let graph = &self.graph;
        let computed: Vec<(ScopeKey, Arc<[Step]>)> = keys
            .into_par_iter()
            .map(|key| {
                let steps = graph.scope_edges(&key.0, &key.1).into();
                (key, steps)
            })
            .collect();
        locked(&self.scope_cache).extend(computed);
    }

    /// [`Escalation::prepare`] for every ServiceAccount the inputs know or a pod names: what
    /// "every ServiceAccount" reaches needs all of their edges, and an audit grades each.
    pub fn prepare_service_accounts(&self) {
        let users: Vec<UserInfo> = self
            .graph
            .service_accounts
            .iter()
            .chain(&self.graph.pod_service_accounts)
            .flat_map(|(ns, names)| {
                names.iter().map(move |name| {
                    UserInfo::impersonated(&runnerguard_model::service_account_user(ns, name), &[])
                })
            })
            .collect();
        self.prepare(&users);
    }

    /// The identities each ServiceAccount the inputs know can become ([`Escalation::reachable`];
    /// those of `namespace` only when given), in [`Escalation::service_accounts`]' order: the
    /// edges prepared and the searches run on every core. What `paths --all-service-accounts`
    /// answers.
    pub fn service_accounts_reach(
        &self,
        namespace: Option<&str>,
    ) -> Vec<((&str, &str), Vec<Identity>)> {
        use rayon::prelude::*;
        let accounts: Vec<(&str, &str)> = self
            .service_accounts()
            .filter(|(ns, _)| namespace.is_none_or(|n| n == *ns))
            .collect();
        let users: Vec<UserInfo> = accounts
            .iter()
            .map(|(ns, name)| {
                UserInfo::impersonated(&runnerguard_model::service_account_user(ns, name), &[])
            })
            .collect();
        self.prepare(&users);
        // Each account's edges kept, worked out on every core: each search starts from one,
        // and the search from every ServiceAccount at once (run on one core when a search
        // first reaches "any ServiceAccount") asks for all of them again (issue #13).
        users.par_iter().for_each(|u| {
            self.edges(&Identity::of(u));
        });
        let reached: Vec<Vec<Identity>> = users.par_iter().map(|u| self.reachable(u)).collect();
        accounts.into_iter().zip(reached).collect()
    }

    /// Whether the admission policies of the inputs let a pod in `namespace` run as
    /// `service_account`; `created_by`: the user creating it directly (pods), or `None` for
    /// pods a controller creates (workloads). True when nothing is proven.
    pub fn admits(&self, namespace: &str, service_account: &str, created_by: Option<&str>) -> bool {
        self.graph
            .pins
            .get(namespace)
            .is_none_or(|pin| pin.admits(service_account, created_by))
    }

    /// Every ServiceAccount the inputs know, by namespace: read, named by a binding (an
    /// empty subject namespace resolved against its RoleBinding), or `default`.
    pub fn service_accounts(&self) -> impl Iterator<Item = (&str, &str)> {
        self.graph
            .service_accounts
            .iter()
            .flat_map(|(ns, names)| names.iter().map(move |n| (ns.as_str(), n.as_str())))
    }

    /// Every identity `start` can become, breadth-first, each with a shortest path. The first
    /// entry is `start` itself.
    pub fn reach(&self, start: &UserInfo) -> Vec<Reached> {
        let first = Identity::of(start);
        let mut out = vec![Reached {
            identity: first.clone(),
            path: Vec::new(),
        }];
        let mut seen: Seen = Seen::from_iter([first]);
        let mut expanded = Expanded::default();
        let mut queue: VecDeque<usize> = VecDeque::from([0]);
        while let Some(i) = queue.pop_front() {
            if out.len() >= MAX_IDENTITIES {
                break;
            }
            if out[i].identity == Identity::AnyServiceAccount {
                // Every ServiceAccount is implied; what they reach besides is computed once
                // for all subjects (it is the same for every one that gets here).
                let base = out[i].path.clone();
                for r in self.any_service_account_reach() {
                    if first_time(&mut seen, &r.identity) {
                        let mut path = base.clone();
                        path.extend(r.path.iter().cloned());
                        out.push(Reached {
                            identity: r.identity.clone(),
                            path,
                        });
                    }
                }
                continue;
            }
            let steps: Arc<[Step]> = if i == 0 {
                self.start_edges(start)
            } else {
                self.edges(&out[i].identity)
            };
            if !expanded.first_time(&steps) {
                continue;
            }
            for step in steps.iter() {
                if first_time(&mut seen, &step.to) {
                    let mut path = out[i].path.clone();
                    let identity = step.to.clone();
                    path.push(step.clone());
                    out.push(Reached { identity, path });
                    queue.push_back(out.len() - 1);
                }
            }
        }
        out
    }

    /// The identities `start` can become, without their paths: the same search as
    /// [`Escalation::reach`], cheaper when only the set matters (every ServiceAccount of a
    /// large inventory). `start` itself is not included.
    pub fn reachable(&self, start: &UserInfo) -> Vec<Identity> {
        let first = Identity::of(start);
        let mut seen: Seen = Seen::from_iter([first]);
        let mut expanded = Expanded::default();
        let mut out: Vec<Identity> = Vec::new();
        let mut queue: VecDeque<Identity> = VecDeque::new();
        let steps = self.start_edges(start);
        // Marked expanded, as `reach` marks it: a list equal to the start's is skipped.
        expanded.first_time(&steps);
        for step in steps.iter() {
            if first_time(&mut seen, &step.to) {
                out.push(step.to.clone());
                queue.push_back(step.to.clone());
            }
        }
        while let Some(id) = queue.pop_front() {
            if out.len() >= MAX_IDENTITIES {
                break;
            }
            if id == Identity::AnyServiceAccount {
                for r in self.any_service_account_reach() {
                    if first_time(&mut seen, &r.identity) {
                        out.push(r.identity.clone());
                    }
                }
                continue;
            }
            let steps = self.edges(&id);
            if !expanded.first_time(&steps) {
                continue;
            }
            for step in steps.iter() {
                if first_time(&mut seen, &step.to) {
                    out.push(step.to.clone());
                    queue.push_back(step.to.clone());
                }
            }
        }
        out
    }

    /// The identities other than ServiceAccounts that some ServiceAccount can become, each
    /// with a shortest path from "every ServiceAccount": a breadth-first search from all of
    /// them at once.
    fn any_service_account_reach(&self) -> &[Reached] {
        self.any_service_account.get_or_init(|| {
            let mut seen: Seen = Seen::from_iter([Identity::AnyServiceAccount]);
            let mut queue: VecDeque<(Identity, Vec<Step>)> = VecDeque::new();
            for (ns, names) in self
                .graph
                .service_accounts
                .iter()
                .chain(&self.graph.pod_service_accounts)
            {
                for name in names {
                    let id = Identity::ServiceAccount {
                        namespace: ns.clone(),
                        name: name.clone(),
                    };
                    if first_time(&mut seen, &id) {
                        let step = Step {
                            primitive: Primitive::Includes,
                            permissions: Arc::from([]),
                            to: id.clone(),
                            note: None,
                        };
                        queue.push_back((id, vec![step]));
                    }
                }
            }
            let mut out = Vec::new();
            let mut expanded = Expanded::default();
            while let Some((id, path)) = queue.pop_front() {
                if out.len() >= MAX_IDENTITIES {
                    break;
                }
                let steps = self.edges(&id);
                if !expanded.first_time(&steps) {
                    continue;
                }
                for step in steps.iter() {
                    if first_time(&mut seen, &step.to) {
                        let mut p = path.clone();
                        let to = step.to.clone();
                        p.push(step.clone());
                        if !matches!(to, Identity::ServiceAccount { .. }) {
                            out.push(Reached {
                                identity: to.clone(),
                                path: p.clone(),
                            });
                        }
                        queue.push_back((to, p));
                    }
                }
            }
            out
        })
    }

    /// Whether `start` may perform `action` itself or through any identity it can become;
    /// the nearest such identity, with its path.
    pub fn authorize(&self, start: &UserInfo, action: &Action) -> EffectiveDecision {
        for (i, reached) in self.reach(start).into_iter().enumerate() {
            let grant = if i == 0 {
                let d = self.graph.policy.authorize(start, action);
                if !d.allowed {
                    continue;
                }
                d.grants.into_iter().next()
            } else {
                match self.allows(&reached.identity, action) {
                    Some(grant) => grant,
                    None => continue,
                }
            };
            return EffectiveDecision {
                allowed: true,
                via: Some(reached),
                grant,
            };
        }
        EffectiveDecision {
            allowed: false,
            via: None,
            grant: None,
        }
    }

    /// Whether `identity` itself may perform `action`: `Some(grant)` when allowed (the grant
    /// is `None` for identities that hold everything in scope).
    pub fn allows(&self, identity: &Identity, action: &Action) -> Option<Option<Grant>> {
        Self::allows_in(self.graph.policy, identity, action)
    }

    /// [`Escalation::allows`] without an escalation graph: the answer needs only the policy,
    /// so a caller asking about one identity need not build the graph.
    pub fn allows_in(
        policy: &Policy,
        identity: &Identity,
        action: &Action,
    ) -> Option<Option<Grant>> {
        match identity {
            Identity::ClusterAdmin => Some(None),
            Identity::NamespaceAdmin { namespace } => {
                (matches!(action.target, Target::Resource(_)) && action.namespace == *namespace)
                    .then_some(None)
            }
            Identity::BoundRole {
                role_kind,
                role_namespace,
                role_name,
                scope,
            } => {
                let id = policy.find_role(*role_kind, role_namespace, role_name)?;
                if !scope.is_empty() && action.namespace != *scope {
                    return None;
                }
                policy
                    .role(id)
                    .rules
                    .iter()
                    .any(|r| rule_allows(r, action))
                    .then_some(None)
            }
            Identity::Node => None,
            // Some ServiceAccount may: the subject locator lists a ServiceAccount, or a group
            // every ServiceAccount (or every one of the namespace) is in.
            Identity::AnyServiceAccount => {
                let (subjects, _) = policy.allowed_subjects(action);
                subjects.into_iter().find_map(|s| {
                    let grant = s.grant?;
                    let b = policy.binding(grant.binding);
                    let is_sa = s.subject.service_account_user(&b.namespace).is_some()
                        || (s.subject.kind == "User"
                            && split_service_account_user(&s.subject.name).is_some())
                        || (s.subject.kind == "Group"
                            && (s.subject.name == "system:authenticated"
                                || s.subject.name.starts_with("system:serviceaccounts")));
                    is_sa.then_some(Some(grant))
                })
            }
            other => {
                let user = other.user_info()?;
                let d = policy.authorize(&user, action);
                d.allowed.then(|| d.grants.into_iter().next())
            }
        }
    }

    /// The edges out of an identity (cached).
    fn edges(&self, identity: &Identity) -> Arc<[Step]> {
        if let Some(steps) = locked(&self.cache).get(identity) {
            return Arc::clone(steps);
        }
        let steps: Arc<[Step]> = match identity {
            Identity::Group { name } if name == SYSTEM_MASTERS => Arc::new([Step {
                primitive: Primitive::Superuser,
                permissions: Arc::from([]),
                to: Identity::ClusterAdmin,
                note: None,
            }]),
            Identity::Node => Arc::new([Step {
                primitive: Primitive::NodeProxy,
                permissions: Arc::from([]),
                to: Identity::AnyServiceAccount,
                note: Some(Cow::Borrowed(
                    "conservative: the pods a node runs are not known offline",
                )),
            }]),
            // Expanded by `reach` through `any_service_account_reach`.
            Identity::AnyServiceAccount => Arc::from([]),
            Identity::ClusterAdmin
            | Identity::NamespaceAdmin { .. }
            | Identity::BoundRole { .. } => self.edges_of_role_identity(identity).into(),
            other => match other.user_info() {
                Some(user) => self.edges_of_user(&user, Keep::Shared),
                None => Arc::from([]),
            },
        };
        locked(&self.cache).insert(identity.clone(), Arc::clone(&steps));
        steps
    }

    /// The edges of a search's start: those its identity has in the cache when `start` is
    /// exactly that identity's user (a ServiceAccount or a user without extra groups), else
    /// worked out for `start` with its groups and not kept. Searches start from many users
    /// that no search reaches (the job identities of 15,000 job namespaces): keeping theirs
    /// cost the hostile 1 MB test 2 MB. A list from one scope is the scope's own anyway.
    fn start_edges(&self, start: &UserInfo) -> Arc<[Step]> {
        let identity = Identity::of(start);
        let plain = matches!(
            identity,
            Identity::ServiceAccount { .. } | Identity::User { .. }
        ) && identity.user_info().as_ref() == Some(start);
        if plain && let Some(steps) = locked(&self.cache).get(&identity) {
            return Arc::clone(steps);
        }
        self.edges_of_user(start, Keep::Own)
    }

    /// `steps` as a list shared with every identity whose edges are equal.
    fn shared(&self, steps: Vec<Step>) -> Arc<[Step]> {
        use std::hash::{BuildHasher, Hash, Hasher};
        if steps.is_empty() {
            return steps.into();
        }
        let mut hasher = foldhash::fast::FixedState::default().build_hasher();
        for step in &steps {
            step.primitive.hash(&mut hasher);
            step.to.hash(&mut hasher);
        }
        let hash = hasher.finish();
        let mut lists = locked(&self.lists);
        let same = lists.entry(hash).or_default();
        if let Some(list) = same.iter().find(|l| l[..] == steps[..]) {
            return Arc::clone(list);
        }
        let list: Arc<[Step]> = steps.into();
        same.push(Arc::clone(&list));
        list
    }

    /// Identities that hold a role's rights (or everything) escalate like anyone holding those
    /// rights; cluster-admin and namespace-admin already hold everything in their scope, so
    /// only the ServiceAccounts of that scope are worth listing.
    fn edges_of_role_identity(&self, identity: &Identity) -> Vec<Step> {
        match identity {
            Identity::NamespaceAdmin { namespace } => {
                self.graph
                    .service_accounts_in(namespace, Primitive::CreatePods, Vec::new(), None)
            }
            Identity::ClusterAdmin => vec![Step {
                primitive: Primitive::CreatePods,
                permissions: Arc::from([]),
                to: Identity::AnyServiceAccount,
                note: None,
            }],
            Identity::BoundRole { scope, .. } => {
                // Ask the role's rules the questions an identity is asked, in its scope.
                let allows =
                    |request: Request| self.allows(identity, &request.action(scope, "")).is_some();
                let mut steps = Vec::new();
                if allows(CREATE_PODS) {
                    steps.extend(self.graph.service_accounts_in(
                        scope,
                        Primitive::CreatePods,
                        Vec::new(),
                        None,
                    ));
                }
                if allows(GET_ANY_SECRET) || allows(ANY_TOKEN) {
                    steps.extend(self.graph.service_accounts_in(
                        scope,
                        Primitive::TokenRequest,
                        Vec::new(),
                        None,
                    ));
                }
                steps
            }
            _ => Vec::new(),
        }
    }

    /// The edges of an identity RBAC evaluates: each primitive asked of the authorizer in the
    /// namespaces where the identity has RoleBindings, and cluster-wide.
    fn edges_of_user(&self, user: &UserInfo, keep: Keep) -> Arc<[Step]> {
        let policy = self.graph.policy;
        let (namespaces, cluster) = policy.binding_scopes(user);
        let mut lists: Vec<Arc<[Step]>> = Vec::with_capacity(namespaces.len() + 1);
        for ns in namespaces.into_iter().chain(cluster.then_some("")) {
            // Everything below depends on the user only through the bindings that apply to it
            // in this scope: users with the same bindings (most ServiceAccounts of a large
            // cluster, in the cluster scope) share the answers.
            let key = (ns.to_owned(), policy.applicable(user, ns));
            if let Some(cached) = locked(&self.scope_cache).get(&key) {
                lists.push(Arc::clone(cached));
                continue;
            }
            let found: Arc<[Step]> = self.graph.scope_edges(ns, &key.1).into();
            locked(&self.scope_cache).insert(key, Arc::clone(&found));
            lists.push(found);
        }
        lists.retain(|l| !l.is_empty());
        if lists.len() == 1 && !self.graph.admission_filters() {
            // The scope's own list, shared with every user bound alike there: a search
            // expands it once (`Expanded`), however many of them it reaches.
            return lists.swap_remove(0);
        }
        let steps: Vec<Step> = lists.iter().flat_map(|l| l.iter().cloned()).collect();
        let steps = self.graph.admit(user, steps);
        match keep {
            Keep::Shared => self.shared(steps),
            Keep::Own => steps.into(),
        }
    }
}

/// Whether a list of edges built for one user is interned with the equal lists of others
/// ([`Escalation::shared`], for the lists the cache keeps) or is the caller's own.
#[derive(Clone, Copy)]
enum Keep {
    Shared,
    Own,
}

#[cfg(test)]
mod tests {
    use std::collections::{HashSet, VecDeque};
    use std::sync::Arc;

    use runnerguard_model::{
        Binding, BindingKind, Inventory, Origin, PolicyRule, Role, RoleKind, RoleRef,
        ServiceAccount, Subject,
    };

    use super::{Escalation, Identity, Keep, Reached, Step, UserInfo};
    use crate::Policy;

    fn rule(verbs: &[&str], resources: &[&str]) -> PolicyRule {
        let v = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect();
        PolicyRule {
            verbs: v(verbs),
            api_groups: v(&[""]),
            resources: v(resources),
            resource_names: Vec::new(),
            non_resource_urls: Vec::new(),
        }
    }

    fn binding(ns: &str, name: &str, role: &str, subject: Subject) -> Binding {
        Binding {
            kind: BindingKind::RoleBinding,
            name: name.into(),
            namespace: ns.into(),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "ClusterRole".into(),
                name: role.into(),
            },
            subjects: vec![subject],
            origin: Origin::default(),
        }
    }

    fn sa_user(ns: &str, name: &str) -> UserInfo {
        UserInfo::impersonated(&format!("system:serviceaccount:{ns}:{name}"), &[])
    }

    /// Namespace `apps`: 20 ServiceAccounts (and `default`) that may all run pods as one
    /// another (their group may create pods there). Namespace `ops`: the same. `sa-0` of
    /// each also creates pods in the other, so its edges span two scopes.
    fn policy() -> Policy {
        let mut inv = Inventory::default();
        inv.roles.push(Role {
            kind: RoleKind::ClusterRole,
            name: "pods".into(),
            namespace: String::new(),
            labels: std::collections::BTreeMap::default(),
            rules: vec![rule(&["create"], &["pods"])],
            aggregation: None,
            origin: Origin::default(),
        });
        for (ns, other) in [("apps", "ops"), ("ops", "apps")] {
            for i in 0..20 {
                inv.service_accounts.push(ServiceAccount {
                    name: format!("sa-{i}"),
                    namespace: ns.into(),
                    automount_token: None,
                    origin: Origin::default(),
                });
            }
            let group = Subject::new("Group", &format!("system:serviceaccounts:{ns}"));
            inv.bindings.push(binding(ns, "all", "pods", group));
            let first = Subject::service_account(ns, "sa-0");
            inv.bindings
                .push(binding(other, &format!("from-{ns}"), "pods", first));
        }
        Policy::new(inv)
    }

    /// The search as it was before shared lists were skipped: every reached identity's edges
    /// expanded, each target checked against those found.
    fn reach_expanding_all(e: &Escalation<'_>, start: &UserInfo) -> Vec<Reached> {
        let first = Identity::of(start);
        let mut out = vec![Reached {
            identity: first.clone(),
            path: Vec::new(),
        }];
        let mut seen: HashSet<Identity> = HashSet::from([first]);
        let mut queue = VecDeque::from([0]);
        while let Some(i) = queue.pop_front() {
            let steps: Arc<[Step]> = if i == 0 {
                e.edges_of_user(start, Keep::Own)
            } else {
                e.edges(&out[i].identity)
            };
            for step in steps.iter() {
                if seen.insert(step.to.clone()) {
                    let mut path = out[i].path.clone();
                    path.push(step.clone());
                    out.push(Reached {
                        identity: step.to.clone(),
                        path,
                    });
                    queue.push_back(out.len() - 1);
                }
            }
        }
        out
    }

    #[test]
    fn identities_bound_alike_share_one_edge_list() {
        let policy = policy();
        let e = Escalation::new(&policy);
        let edges = |ns: &str, name: &str| e.edges(&Identity::of(&sa_user(ns, name)));
        let (a, b) = (edges("apps", "sa-1"), edges("apps", "sa-2"));
        // The 20, and `default`, which every namespace has.
        assert_eq!(
            a.len(),
            21,
            "each may run pods as every ServiceAccount of its namespace"
        );
        assert!(Arc::ptr_eq(&a, &b));
        // Other bindings, other lists: `ops`' ServiceAccounts, and `sa-0` with two scopes.
        let ops = edges("ops", "sa-1");
        assert!(!Arc::ptr_eq(&a, &ops));
        let two = edges("apps", "sa-0");
        assert_eq!(two.len(), 42);
        assert!(!Arc::ptr_eq(&a, &two));
        // Equal lists built from two scopes are one list too.
        assert!(Arc::ptr_eq(
            &two,
            &e.edges_of_user(&sa_user("apps", "sa-0"), Keep::Shared)
        ));
    }

    #[test]
    fn a_search_keeps_no_edges_for_its_start() {
        let policy = policy();
        let e = Escalation::new(&policy);
        let start = sa_user("apps", "sa-3");
        let cached = |id: &Identity| super::locked(&e.cache).contains_key(id);
        assert_eq!(e.reach(&start).len(), 42);
        // The others it reached are cached; itself, which nothing reached, is not.
        assert!(cached(&Identity::of(&sa_user("apps", "sa-4"))));
        assert!(!cached(&Identity::of(&start)));
        // Once another search has cached it, a search from it starts from that list.
        let from_sa_4 = sa_user("apps", "sa-4");
        assert_eq!(e.reach(&from_sa_4).len(), 42);
        assert!(cached(&Identity::of(&start)));
        assert!(Arc::ptr_eq(
            &e.start_edges(&start),
            &e.edges(&Identity::of(&start))
        ));
    }

    #[test]
    fn skipping_shared_lists_finds_what_expanding_every_list_finds() {
        let policy = policy();
        for (ns, name) in [
            ("apps", "sa-0"),
            ("apps", "sa-7"),
            ("ops", "sa-0"),
            ("ops", "sa-19"),
        ] {
            let user = sa_user(ns, name);
            let e = Escalation::new(&policy);
            let expected = reach_expanding_all(&Escalation::new(&policy), &user);
            let reached = e.reach(&user);
            assert_eq!(reached, expected, "from {ns}/{name}");
            // Itself, the 20 others of its namespace, then through `sa-0` the 21 of the other.
            assert_eq!(reached.len(), 42, "from {ns}/{name}");
            let identities: Vec<Identity> =
                expected.into_iter().skip(1).map(|r| r.identity).collect();
            assert_eq!(e.reachable(&user), identities, "from {ns}/{name}");
        }
    }
}
