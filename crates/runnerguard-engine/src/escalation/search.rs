//! The search: breadth-first over the escalation graph from a subject, each identity with a
//! shortest path, and the caches that let many subjects share the authorizer's answers.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use runnerguard_model::split_service_account_user;

use super::edges::{ANY_TOKEN, CREATE_PODS, GET_ANY_SECRET, Request};
use super::identity::EffectiveDecision;
use super::{Graph, Identity, Primitive, Reached, SYSTEM_MASTERS, Step};
use crate::{Action, BindingId, Grant, Policy, Target, UserInfo, rule_allows};

/// The escalation graph over a policy, with the objects that make its edges concrete.
///
/// Shared between threads (the audit's rules run on every core and ask the same graph): the
/// caches are behind locks held only to look up or insert, never while an answer is worked
/// out, so two threads may work out the same edges once each and keep the same answer.
pub struct Escalation<'p> {
    graph: Graph<'p>,
    cache: Mutex<HashMap<Identity, Arc<[Step]>>>,
    /// Edges per scope and applicable bindings.
    scope_cache: Mutex<HashMap<ScopeKey, Vec<Step>>>,
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

/// A scope (namespace, or empty) and the bindings (with the matching subject) that apply there.
type ScopeKey = (String, Vec<(BindingId, usize)>);

/// At most this many identities are explored from one subject.
const MAX_IDENTITIES: usize = 100_000;

impl<'p> Escalation<'p> {
    /// Prepares the graph over `policy` (and the objects it holds).
    pub fn new(policy: &'p Policy) -> Self {
        Self {
            graph: Graph::new(policy),
            cache: Mutex::new(HashMap::new()),
            scope_cache: Mutex::new(HashMap::new()),
            any_service_account: OnceLock::new(),
        }
    }

    /// Works out the edges of many subjects at once, on every core (the part of escalation
    /// analysis that asks the authorizer); later questions about them are answered from the
    /// cache. Optional: every question works without it.
    pub fn prepare(&self, users: &[UserInfo]) {
        use rayon::prelude::*;
        let policy = self.graph.policy;
        let mut keys: Vec<ScopeKey> = Vec::new();
        {
            let cache = locked(&self.scope_cache);
            for user in users {
                let (namespaces, cluster) = policy.binding_scopes(user);
                let cluster_scope = cluster.then_some("");
                for ns in namespaces.into_iter().chain(cluster_scope) {
                    let key = (ns.to_owned(), policy.applicable(user, ns));
                    if !cache.contains_key(&key) {
                        keys.push(key);
                    }
                }
            }
        }
        keys.sort_unstable();
        keys.dedup();
        let graph = &self.graph;
        let computed: Vec<(ScopeKey, Vec<Step>)> = keys
            .into_par_iter()
            .map(|key| {
                let steps = graph.scope_edges(&key.0, &key.1);
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
                self.edges_of_user(start).into()
            } else {
                self.edges(&out[i].identity)
            };
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
        let mut out: Vec<Identity> = Vec::new();
        let mut queue: VecDeque<Identity> = VecDeque::new();
        for step in self.edges_of_user(start) {
            if first_time(&mut seen, &step.to) {
                out.push(step.to.clone());
                queue.push_back(step.to);
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
            for step in self.edges(&id).iter() {
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
            while let Some((id, path)) = queue.pop_front() {
                if out.len() >= MAX_IDENTITIES {
                    break;
                }
                for step in self.edges(&id).iter() {
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
        let steps = match identity {
            Identity::Group { name } if name == SYSTEM_MASTERS => vec![Step {
                primitive: Primitive::Superuser,
                permissions: Arc::from([]),
                to: Identity::ClusterAdmin,
                note: None,
            }],
            Identity::Node => vec![Step {
                primitive: Primitive::NodeProxy,
                permissions: Arc::from([]),
                to: Identity::AnyServiceAccount,
                note: Some("conservative: the pods a node runs are not known offline".to_owned()),
            }],
            // Expanded by `reach` through `any_service_account_reach`.
            Identity::AnyServiceAccount => Vec::new(),
            Identity::ClusterAdmin
            | Identity::NamespaceAdmin { .. }
            | Identity::BoundRole { .. } => self.edges_of_role_identity(identity),
            other => match other.user_info() {
                Some(user) => self.edges_of_user(&user),
                None => Vec::new(),
            },
        };
        let steps: Arc<[Step]> = steps.into();
        locked(&self.cache).insert(identity.clone(), Arc::clone(&steps));
        steps
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
    fn edges_of_user(&self, user: &UserInfo) -> Vec<Step> {
        let policy = self.graph.policy;
        let (namespaces, cluster) = policy.binding_scopes(user);
        let mut scopes: Vec<String> = namespaces.into_iter().map(str::to_owned).collect();
        if cluster {
            scopes.push(String::new());
        }
        let mut steps = Vec::new();
        for ns in &scopes {
            // Everything below depends on the user only through the bindings that apply to it
            // in this scope: users with the same bindings (most ServiceAccounts of a large
            // cluster, in the cluster scope) share the answers.
            let key = (ns.clone(), policy.applicable(user, ns));
            if let Some(cached) = locked(&self.scope_cache).get(&key) {
                steps.extend(cached.iter().cloned());
                continue;
            }
            let found = self.graph.scope_edges(ns, &key.1);
            steps.extend(found.iter().cloned());
            locked(&self.scope_cache).insert(key, found);
        }
        self.graph.admit(user, steps)
    }
}
