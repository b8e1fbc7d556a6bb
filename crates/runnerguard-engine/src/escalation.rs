//! Escalation analysis: which identities a subject can become, and so what it can really do.
//!
//! RBAC as written understates power: a subject that may create pods in a namespace can run
//! as any ServiceAccount there; one that may read Secrets there holds their tokens; `bind`,
//! `escalate`, `impersonate`, `serviceaccounts/token`, `nodes/proxy`, admission webhooks and
//! CSR approval widen it further (knowledge/k8s-rbac.md, "What turns one identity into
//! another"; sources: PaloAltoNetworks/rbac-police `lib/*.rego`, DataDog/KubeHound
//! `pkg/kubehound/graph/edge/*.go`).
//!
//! Every edge is found by asking the exact authorizer, so `resourceNames`, subresources and
//! wildcards are honoured (`pods/*` gives no edge: it is literal). Objects in the inputs make
//! edges concrete (the ServiceAccounts of a namespace, the pods there and the token Secrets);
//! without them an edge goes to every ServiceAccount the inputs name in that namespace, and
//! always to `default`. The search is breadth-first, so each identity comes with a shortest
//! path.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use runnerguard_model::{PolicyRule, RoleKind, service_account_user, split_service_account_user};
use serde::Serialize;

use crate::{Action, Grant, Policy, RoleId, Target, UserInfo, rule_allows};

/// A name no `resourceNames` list holds: a request for it is allowed only by rules that allow
/// every name. (Kubernetes names cannot contain spaces or parentheses.)
const ANY_NAME: &str = "(any name)";

/// The superuser group the API server never asks RBAC about.
const SYSTEM_MASTERS: &str = "system:masters";

/// An identity a subject can become.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Identity {
    /// A user (not a ServiceAccount), with `system:authenticated`.
    User {
        /// The user name.
        name: String,
    },
    /// Membership of a group (through impersonation), with `system:authenticated`.
    Group {
        /// The group.
        name: String,
    },
    /// A ServiceAccount, with the groups the API server gives it.
    ServiceAccount {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// Every ServiceAccount of every namespace.
    AnyServiceAccount,
    /// The kubelet API of the nodes: exec into any pod they run.
    Node,
    /// The rights of a role bound by the subject itself (through `bind`).
    BoundRole {
        /// Role or ClusterRole.
        role_kind: RoleKind,
        /// The role's namespace (empty for a ClusterRole).
        role_namespace: String,
        /// The role's name.
        role_name: String,
        /// Where it is bound: a namespace, or empty for cluster-wide.
        scope: String,
    },
    /// Every permission in one namespace.
    NamespaceAdmin {
        /// The namespace.
        namespace: String,
    },
    /// Every permission everywhere (cluster-admin, `system:masters`).
    ClusterAdmin,
}

impl Identity {
    /// The identity of an authenticated user as given (a ServiceAccount user name becomes a
    /// ServiceAccount identity).
    pub fn of(user: &UserInfo) -> Self {
        match split_service_account_user(&user.name) {
            Some((namespace, name)) => Self::ServiceAccount {
                namespace: namespace.to_owned(),
                name: name.to_owned(),
            },
            None => Self::User {
                name: user.name.clone(),
            },
        }
    }

    /// How the authorizer sees this identity, for identities RBAC evaluates.
    pub fn user_info(&self) -> Option<UserInfo> {
        match self {
            Self::User { name } => Some(UserInfo::impersonated(name, &[])),
            Self::Group { name } => Some(UserInfo::new(
                String::new(),
                [name.clone(), "system:authenticated".to_owned()],
            )),
            Self::ServiceAccount { namespace, name } => Some(UserInfo::impersonated(
                &service_account_user(namespace, name),
                &[],
            )),
            _ => None,
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User { name } => write!(f, "User {name}"),
            Self::Group { name } => write!(f, "Group {name}"),
            Self::ServiceAccount { namespace, name } => {
                write!(f, "ServiceAccount {namespace}/{name}")
            }
            Self::AnyServiceAccount => f.write_str("every ServiceAccount of every namespace"),
            Self::Node => f.write_str("the kubelet API of every node"),
            Self::BoundRole {
                role_kind,
                role_namespace,
                role_name,
                scope,
            } => {
                let role = if role_namespace.is_empty() {
                    format!("{role_kind} {role_name}")
                } else {
                    format!("{role_kind} {role_namespace}/{role_name}")
                };
                if scope.is_empty() {
                    write!(f, "the rights of {role} cluster-wide")
                } else {
                    write!(f, "the rights of {role} in namespace `{scope}`")
                }
            }
            Self::NamespaceAdmin { namespace } => {
                write!(f, "every permission in namespace `{namespace}`")
            }
            Self::ClusterAdmin => f.write_str("every permission in the cluster (cluster-admin)"),
        }
    }
}

/// The kinds of edge: the permission patterns that turn one identity into another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Primitive {
    /// `create pods`: a pod can run as any ServiceAccount of its namespace.
    CreatePods,
    /// Create or change a workload controller: its pods run as any ServiceAccount.
    Workloads,
    /// Exec or attach into pods, or change them: their ServiceAccount's token.
    ExecPods,
    /// Read Secrets: legacy ServiceAccount tokens.
    ReadSecrets,
    /// Create or update Secrets: the token controller fills in a token for any ServiceAccount.
    WriteSecrets,
    /// `create serviceaccounts/token`: a token for a ServiceAccount.
    TokenRequest,
    /// `bind` a role and create bindings: the role's rights.
    Bind,
    /// `escalate` and create or update roles: any permission.
    Escalate,
    /// `impersonate`: become a user, group or ServiceAccount.
    Impersonate,
    /// `nodes/proxy`: the kubelet API, exec into any pod of the node.
    NodeProxy,
    /// Write admission webhooks or policies: see and rewrite every admitted object.
    AdmissionControl,
    /// Create and approve CSRs: a client certificate for any user or group.
    CsrApproval,
    /// `*` on `*`.
    Everything,
    /// `system:masters` bypasses RBAC.
    Superuser,
    /// Every ServiceAccount includes each one.
    Includes,
}

impl Primitive {
    /// What the edge means, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::CreatePods => {
                "may create pods, which can run as any ServiceAccount of the namespace"
            }
            Self::Workloads => {
                "may create or change workload controllers, whose pods can run as any ServiceAccount of the namespace"
            }
            Self::ExecPods => {
                "may run commands in (or change) pods, and so use their ServiceAccount tokens"
            }
            Self::ReadSecrets => "may read Secrets, including ServiceAccount token Secrets",
            Self::WriteSecrets => {
                "may create or update Secrets, and so have the token controller mint a ServiceAccount token"
            }
            Self::TokenRequest => "may request ServiceAccount tokens",
            Self::Bind => "may bind roles it does not hold",
            Self::Escalate => "may write roles with permissions it does not hold (`escalate`)",
            Self::Impersonate => "may impersonate",
            Self::NodeProxy => "may use the kubelet API through nodes/proxy",
            Self::AdmissionControl => {
                "may write admission webhooks or policies, which see and rewrite every admitted object"
            }
            Self::CsrApproval => {
                "may create and approve certificate signing requests for API server client certificates"
            }
            Self::Everything => "holds `*` on `*`",
            Self::Superuser => "is in `system:masters`, which the API server lets do anything",
            Self::Includes => "is every ServiceAccount, this one among them",
        }
    }
}

/// One permission an edge rests on, and the rule that grants it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Permission {
    /// The request the authorizer allowed.
    pub action: Action,
    /// The grant that allowed it.
    pub grant: Grant,
}

/// One step of an escalation path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The pattern.
    pub primitive: Primitive,
    /// The permissions it rests on (two for `bind` or CSR approval, none for `system:masters`).
    /// Shared: one permission often leads to every ServiceAccount of a namespace.
    pub permissions: Arc<[Permission]>,
    /// The identity it leads to.
    pub to: Identity,
    /// A caveat, when the edge is conservative.
    pub note: Option<String>,
}

/// An identity reached, and the shortest path to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reached {
    /// The identity.
    pub identity: Identity,
    /// The steps from the subject asked about (empty for the subject itself).
    pub path: Vec<Step>,
}

/// An effective answer: allowed through some reachable identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EffectiveDecision {
    /// Whether some reachable identity may perform the action.
    pub allowed: bool,
    /// The identity that may, with its path; `None` when not allowed.
    pub via: Option<Reached>,
    /// The grant that allows it to that identity (`None` for cluster-admin and
    /// namespace-admin identities, which hold everything).
    pub grant: Option<Grant>,
}

/// The escalation graph over a policy, with the objects that make its edges concrete.
pub struct Escalation<'p> {
    graph: Graph<'p>,
    cache: std::cell::RefCell<HashMap<Identity, Rc<[Step]>>>,
    /// Edges per scope and applicable bindings.
    scope_cache: std::cell::RefCell<HashMap<ScopeKey, Vec<Step>>>,
    /// What "every ServiceAccount" reaches besides ServiceAccounts, computed once.
    any_service_account: std::cell::OnceCell<Vec<Reached>>,
}

/// The immutable part of the graph: the policy and the objects that make edges concrete.
/// Shared by threads when many subjects are prepared at once.
struct Graph<'p> {
    policy: &'p Policy,
    /// ServiceAccounts per namespace: read, or named by a binding; `default` always.
    service_accounts: BTreeMap<String, BTreeSet<String>>,
    /// ServiceAccounts of the pods read, per namespace.
    pod_service_accounts: BTreeMap<String, BTreeSet<String>>,
    /// Token Secrets per namespace: (Secret, ServiceAccount).
    token_secrets: BTreeMap<String, Vec<(String, String)>>,
    /// Users and groups named by bindings (impersonation targets).
    users: Vec<String>,
    groups: Vec<String>,
    /// Pod restrictions proven by admission policies, per namespace.
    pins: BTreeMap<String, Pin>,
}

/// What admission proves about the pods of one namespace.
#[derive(Default)]
struct Pin {
    /// Pods run only as one of these ServiceAccounts.
    service_accounts: Option<BTreeSet<String>>,
    /// Pods a user creates run only as these.
    per_user: BTreeMap<String, BTreeSet<String>>,
    /// The policy that proves it, for the path: `Kind name (file:line)`.
    policy: String,
    /// The policy's and its bindings' names: a subject that may change or delete them is not
    /// held by the pin.
    objects: Vec<(&'static str, String)>,
}

impl Pin {
    /// Whether pods may run as `service_account`; `created_by`: the user creating the pod
    /// directly, or `None` for pods a controller creates.
    fn admits(&self, service_account: &str, created_by: Option<&str>) -> bool {
        self.service_accounts
            .as_ref()
            .is_none_or(|s| s.contains(service_account))
            && created_by.is_none_or(|u| {
                self.per_user
                    .get(u)
                    .is_none_or(|s| s.contains(service_account))
            })
    }

    /// Whether `user` may change or delete the policy or one of its bindings, and so is not
    /// held by it.
    fn removable_by(&self, policy: &Policy, user: &UserInfo) -> bool {
        self.objects.iter().any(|(resource, name)| {
            ["delete", "update", "patch"].iter().any(|verb| {
                let a =
                    Action::resource(verb, "", "admissionregistration.k8s.io", resource, "", name);
                policy.authorize(user, &a).allowed
            })
        })
    }
}

/// Pod restrictions the admission policies of the inputs prove: a policy that fails closed,
/// matches pod creation in namespaces named by `kubernetes.io/metadata.name`, and is bound
/// with the `Deny` action. (A binding's own `matchResources` can only narrow what the policy
/// matches; a policy and binding generated by runnerguard select the same namespaces.)
fn pins(policy: &Policy) -> BTreeMap<String, Pin> {
    let objects = policy.objects();
    let mut out: BTreeMap<String, Pin> = BTreeMap::new();
    for p in &objects.admission_policies {
        if !p.fail_closed || !p.pods_create || p.match_conditions {
            continue;
        }
        let bindings: Vec<&runnerguard_model::AdmissionBinding> = objects
            .admission_bindings
            .iter()
            .filter(|b| b.deny && b.policy == p.object.name && !b.narrows)
            .collect();
        for ns in &p.namespaces {
            // A binding that selects this namespace too (or does not narrow at all).
            let bound: Vec<&&runnerguard_model::AdmissionBinding> = bindings
                .iter()
                .filter(|b| b.namespaces.as_ref().is_none_or(|n| n.contains(ns)))
                .collect();
            if bound.is_empty() {
                continue;
            }
            let pin = out.entry(ns.clone()).or_default();
            pin.policy = format!("{} {} ({})", p.object.kind, p.object.name, p.object.origin);
            pin.objects
                .push(("validatingadmissionpolicies", p.object.name.clone()));
            for b in bound {
                pin.objects
                    .push(("validatingadmissionpolicybindings", b.object.name.clone()));
            }
            if let Some(list) = &p.service_accounts {
                let set: BTreeSet<String> = list.iter().cloned().collect();
                pin.service_accounts = Some(match pin.service_accounts.take() {
                    Some(old) => old.intersection(&set).cloned().collect(),
                    None => set,
                });
            }
            for (user, sa) in &p.per_user {
                pin.per_user
                    .entry(user.clone())
                    .or_default()
                    .insert(sa.clone());
            }
        }
    }
    out
}

/// Asks the authorizer `verb group resource subresource name` in one scope.
type Ask<'a> = dyn Fn(&str, &str, &str, &str, &str) -> Option<Permission> + 'a;

/// A scope (namespace, or empty) and the bindings (with the matching subject) that apply there.
type ScopeKey = (String, Vec<(crate::BindingId, usize)>);

/// At most this many identities are explored from one subject.
const MAX_IDENTITIES: usize = 100_000;

impl<'p> Escalation<'p> {
    /// Prepares the graph over `policy` (and the objects it holds).
    pub fn new(policy: &'p Policy) -> Self {
        let mut service_accounts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut users = Vec::new();
        let mut groups = Vec::new();
        for sa in policy.service_accounts() {
            service_accounts
                .entry(sa.namespace.clone())
                .or_default()
                .insert(sa.name.clone());
        }
        for binding in policy.bindings() {
            for s in &binding.subjects {
                match s.kind.as_str() {
                    "ServiceAccount" => {
                        let ns = if s.namespace.is_empty() {
                            &binding.namespace
                        } else {
                            &s.namespace
                        };
                        if !ns.is_empty()
                            && !service_accounts
                                .get(ns)
                                .is_some_and(|n| n.contains(&s.name))
                        {
                            service_accounts
                                .entry(ns.clone())
                                .or_default()
                                .insert(s.name.clone());
                        }
                    }
                    "User" => match split_service_account_user(&s.name) {
                        Some((ns, name)) => {
                            service_accounts
                                .entry(ns.to_owned())
                                .or_default()
                                .insert(name.to_owned());
                        }
                        None => users.push(s.name.clone()),
                    },
                    "Group" => groups.push(s.name.clone()),
                    _ => {}
                }
            }
        }
        let objects = policy.objects();
        for ns in objects
            .namespaces
            .iter()
            .map(|n| n.name.clone())
            .chain(policy.bindings().iter().map(|b| b.namespace.clone()))
            .filter(|n| !n.is_empty())
        {
            service_accounts
                .entry(ns)
                .or_default()
                .insert("default".to_owned());
        }
        let mut pod_service_accounts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for w in &objects.workloads {
            pod_service_accounts
                .entry(w.object.namespace.clone())
                .or_default()
                .insert(w.service_account.clone());
        }
        let mut token_secrets: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for s in &objects.secrets {
            if let Some(sa) = &s.service_account {
                token_secrets
                    .entry(s.object.namespace.clone())
                    .or_default()
                    .push((s.object.name.clone(), sa.clone()));
            }
        }
        if !groups.iter().any(|g| g == SYSTEM_MASTERS) {
            groups.push(SYSTEM_MASTERS.to_owned());
        }
        users.sort();
        users.dedup();
        groups.sort();
        groups.dedup();
        Self {
            graph: Graph {
                policy,
                service_accounts,
                pod_service_accounts,
                token_secrets,
                users,
                groups,
                pins: pins(policy),
            },
            cache: std::cell::RefCell::new(HashMap::new()),
            scope_cache: std::cell::RefCell::new(HashMap::new()),
            any_service_account: std::cell::OnceCell::new(),
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
            let cache = self.scope_cache.borrow();
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
        self.scope_cache.borrow_mut().extend(computed);
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
        let mut seen: BTreeSet<Identity> = BTreeSet::from([first]);
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
                    if seen.insert(r.identity.clone()) {
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
            let steps: Rc<[Step]> = if i == 0 {
                self.edges_of_user(start).into()
            } else {
                self.edges(&out[i].identity)
            };
            for step in steps.iter() {
                if seen.insert(step.to.clone()) {
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
        let mut seen: BTreeSet<Identity> = BTreeSet::from([first]);
        let mut out: Vec<Identity> = Vec::new();
        let mut queue: VecDeque<Identity> = VecDeque::new();
        for step in self.edges_of_user(start) {
            if seen.insert(step.to.clone()) {
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
                    if seen.insert(r.identity.clone()) {
                        out.push(r.identity.clone());
                    }
                }
                continue;
            }
            for step in self.edges(&id).iter() {
                if seen.insert(step.to.clone()) {
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
            let mut seen: BTreeSet<Identity> = BTreeSet::from([Identity::AnyServiceAccount]);
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
                    if seen.insert(id.clone()) {
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
                    if seen.insert(step.to.clone()) {
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
    fn edges(&self, identity: &Identity) -> Rc<[Step]> {
        if let Some(steps) = self.cache.borrow().get(identity) {
            return Rc::clone(steps);
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
        let steps: Rc<[Step]> = steps.into();
        self.cache
            .borrow_mut()
            .insert(identity.clone(), Rc::clone(&steps));
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
                let mut steps = Vec::new();
                let scopes: Vec<&str> = vec![scope.as_str()];
                for ns in scopes {
                    let ask = |verb: &str, group: &str, resource: &str, sub: &str, name: &str| {
                        let a = Action::resource(verb, ns, group, resource, sub, name);
                        self.allows(identity, &a).is_some()
                    };
                    if ask("create", "", "pods", "", "") {
                        steps.extend(self.graph.service_accounts_in(
                            ns,
                            Primitive::CreatePods,
                            Vec::new(),
                            None,
                        ));
                    }
                    if ask("get", "", "secrets", "", ANY_NAME)
                        || ask("create", "", "serviceaccounts", "token", ANY_NAME)
                    {
                        steps.extend(self.graph.service_accounts_in(
                            ns,
                            Primitive::TokenRequest,
                            Vec::new(),
                            None,
                        ));
                    }
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
            if let Some(cached) = self.scope_cache.borrow().get(&key) {
                steps.extend(cached.iter().cloned());
                continue;
            }
            let found = self.graph.scope_edges(ns, &key.1);
            steps.extend(found.iter().cloned());
            self.scope_cache.borrow_mut().insert(key, found);
        }
        self.graph.admit(user, steps)
    }
}

impl Graph<'_> {
    /// Drops the pod edges admission forbids for `user`, and says so on the ones it keeps:
    /// pods in a pinned namespace run only as its allowed ServiceAccounts, and pods the user
    /// creates itself only as the ones allowed to that user.
    fn admit(&self, user: &UserInfo, steps: Vec<Step>) -> Vec<Step> {
        if self.pins.is_empty() {
            return steps;
        }
        let mut removable: BTreeMap<&str, bool> = BTreeMap::new();
        steps
            .into_iter()
            .filter_map(|mut step| {
                let pod_edge = matches!(
                    step.primitive,
                    Primitive::CreatePods | Primitive::Workloads | Primitive::ExecPods
                );
                let Identity::ServiceAccount { namespace, name } = &step.to else {
                    return Some(step);
                };
                let Some((pinned, pin)) = self.pins.get_key_value(namespace).filter(|_| pod_edge)
                else {
                    return Some(step);
                };
                // Who may change or delete the policy or its binding is not held by it: asked
                // once per pinned namespace, not once per step into it.
                let removable = *removable
                    .entry(pinned.as_str())
                    .or_insert_with(|| pin.removable_by(self.policy, user));
                if removable {
                    return Some(step);
                }
                let created_by =
                    (step.primitive == Primitive::CreatePods).then_some(user.name.as_str());
                let allowed = pin.admits(name, created_by);
                if !allowed {
                    return None;
                }
                let note = format!(
                    "admission ({}) lets pods in `{namespace}` run as this ServiceAccount",
                    pin.policy
                );
                step.note = Some(match step.note.take() {
                    Some(n) => format!("{n}; {note}"),
                    None => note,
                });
                Some(step)
            })
            .collect()
    }

    /// The rules of the roles of `applicable` bindings.
    fn applicable_rules<'a>(
        &'a self,
        applicable: &'a [(crate::BindingId, usize)],
    ) -> impl Iterator<Item = &'a PolicyRule> + 'a {
        applicable
            .iter()
            .filter_map(|&(b, _)| self.policy.binding_role(b).ok())
            .flat_map(|r| self.policy.role(r).rules.iter())
    }

    /// Every ServiceAccount of `ns` (or every one of every namespace when `ns` is empty).
    fn service_accounts_in(
        &self,
        ns: &str,
        primitive: Primitive,
        permissions: Vec<Permission>,
        note: Option<String>,
    ) -> Vec<Step> {
        let permissions: Arc<[Permission]> = permissions.into();
        if ns.is_empty() {
            return vec![Step {
                primitive,
                permissions,
                to: Identity::AnyServiceAccount,
                note,
            }];
        }
        let names: Vec<String> = self.service_accounts.get(ns).map_or_else(
            || vec!["default".to_owned()],
            |s| s.iter().cloned().collect(),
        );
        names
            .into_iter()
            .map(|name| Step {
                primitive,
                permissions: Arc::clone(&permissions),
                to: Identity::ServiceAccount {
                    namespace: ns.to_owned(),
                    name,
                },
                note: note.clone(),
            })
            .collect()
    }

    /// The edges of `user` in one scope (a namespace, or empty for cluster-wide).
    fn scope_edges(&self, ns: &str, applicable: &[(crate::BindingId, usize)]) -> Vec<Step> {
        let policy = self.policy;
        let mut steps = Vec::new();
        {
            let ask = |verb: &str,
                       group: &str,
                       resource: &str,
                       sub: &str,
                       name: &str|
             -> Option<Permission> {
                let action = Action::resource(verb, ns, group, resource, sub, name);
                policy
                    .first_grant(applicable, &action)
                    .map(|grant| Permission { action, grant })
            };
            let any_of = |asks: &[(&str, &str, &str, &str)]| -> Option<Permission> {
                asks.iter()
                    .find_map(|(v, g, r, s)| ask(v, g, r, s, ANY_NAME))
            };

            if let Some(p) = ask("*", "*", "*", "", "") {
                let to = if ns.is_empty() {
                    Identity::ClusterAdmin
                } else {
                    Identity::NamespaceAdmin {
                        namespace: ns.to_owned(),
                    }
                };
                steps.push(Step {
                    primitive: Primitive::Everything,
                    permissions: Arc::from(vec![p]),
                    to,
                    note: None,
                });
                return steps;
            }
            if let Some(p) = ask("create", "", "pods", "", "") {
                steps.extend(self.service_accounts_in(ns, Primitive::CreatePods, vec![p], None));
            }
            let workload_verbs = ["create", "update", "patch"];
            let workloads = [
                ("apps", "deployments"),
                ("apps", "replicasets"),
                ("apps", "statefulsets"),
                ("apps", "daemonsets"),
                ("batch", "jobs"),
                ("batch", "cronjobs"),
                ("", "replicationcontrollers"),
            ];
            if let Some(p) = workloads.iter().find_map(|(g, r)| {
                workload_verbs
                    .iter()
                    .find_map(|v| ask(v, g, r, "", if *v == "create" { "" } else { ANY_NAME }))
            }) {
                steps.extend(self.service_accounts_in(ns, Primitive::Workloads, vec![p], None));
            }
            if let Some(p) = any_of(&[
                ("create", "", "pods", "exec"),
                ("create", "", "pods", "attach"),
                ("update", "", "pods", ""),
                ("patch", "", "pods", ""),
                ("patch", "", "pods", "ephemeralcontainers"),
                ("update", "", "pods", "ephemeralcontainers"),
            ]) {
                let known = self.pod_service_accounts.get(ns);
                match known {
                    Some(sas) if !ns.is_empty() => {
                        let permissions: Arc<[Permission]> = Arc::from(vec![p]);
                        for sa in sas {
                            steps.push(Step {
                                primitive: Primitive::ExecPods,
                                permissions: Arc::clone(&permissions),
                                to: Identity::ServiceAccount { namespace: ns.to_owned(), name: sa.clone() },
                                note: None,
                            });
                        }
                    }
                    _ => steps.extend(self.service_accounts_in(
                        ns,
                        Primitive::ExecPods,
                        vec![p],
                        Some("conservative: no pods of this namespace were read, so any ServiceAccount's pods may be there".to_owned()),
                    )),
                }
            }
            // Secrets: list/watch (no name) or get of any name reads every Secret.
            let read_all = ask("list", "", "secrets", "", "")
                .or_else(|| ask("watch", "", "secrets", "", ""))
                .or_else(|| ask("get", "", "secrets", "", ANY_NAME));
            let tokens = self.token_secrets.get(ns);
            match (read_all, tokens) {
                (Some(p), None) => steps.extend(self.service_accounts_in(
                    ns,
                    Primitive::ReadSecrets,
                    vec![p],
                    Some("conservative: no token Secrets of this namespace were read, so any ServiceAccount may have one".to_owned()),
                )),
                (Some(p), Some(tokens)) => {
                    let permissions: Arc<[Permission]> = Arc::from(vec![p]);
                    for (_, sa) in tokens {
                        steps.push(Step {
                            primitive: Primitive::ReadSecrets,
                            permissions: Arc::clone(&permissions),
                            to: Identity::ServiceAccount { namespace: ns.to_owned(), name: sa.clone() },
                            note: None,
                        });
                    }
                }
                (None, Some(tokens)) => {
                    for (secret, sa) in tokens {
                        if let Some(p) = ask("get", "", "secrets", "", secret) {
                            steps.push(Step {
                                primitive: Primitive::ReadSecrets,
                                permissions: Arc::from(vec![p]),
                                to: Identity::ServiceAccount { namespace: ns.to_owned(), name: sa.clone() },
                                note: None,
                            });
                        }
                    }
                }
                (None, None) => {}
            }
            if let Some(p) = ask("create", "", "secrets", "", "")
                .or_else(|| ask("update", "", "secrets", "", ANY_NAME))
            {
                steps.extend(self.service_accounts_in(ns, Primitive::WriteSecrets, vec![p], None));
            }
            // serviceaccounts/token: any name, or the named ones.
            if let Some(p) = ask("create", "", "serviceaccounts", "token", ANY_NAME) {
                steps.extend(self.service_accounts_in(ns, Primitive::TokenRequest, vec![p], None));
            } else if let Some(names) = self.service_accounts.get(ns) {
                for name in names {
                    if let Some(p) = ask("create", "", "serviceaccounts", "token", name) {
                        steps.push(Step {
                            primitive: Primitive::TokenRequest,
                            permissions: Arc::from(vec![p]),
                            to: Identity::ServiceAccount {
                                namespace: ns.to_owned(),
                                name: name.clone(),
                            },
                            note: None,
                        });
                    }
                }
            }
            self.bind_edges(applicable, ns, &ask, &mut steps);
            // escalate + create/update roles: any permission in scope (knowledge/k8s-rbac.md).
            let (role_resource, to) = if ns.is_empty() {
                ("clusterroles", Identity::ClusterAdmin)
            } else {
                (
                    "roles",
                    Identity::NamespaceAdmin {
                        namespace: ns.to_owned(),
                    },
                )
            };
            if let Some(e) = ask(
                "escalate",
                "rbac.authorization.k8s.io",
                role_resource,
                "",
                ANY_NAME,
            ) && let Some(w) = ask("create", "rbac.authorization.k8s.io", role_resource, "", "")
                .or_else(|| {
                    ask(
                        "update",
                        "rbac.authorization.k8s.io",
                        role_resource,
                        "",
                        ANY_NAME,
                    )
                })
            {
                steps.push(Step {
                    primitive: Primitive::Escalate,
                    permissions: Arc::from(vec![e, w]),
                    to,
                    note: Some("a role written this way grants through any binding to it (an existing one, or a new one with `bind`)".to_owned()),
                });
            }
            self.impersonate_edges(applicable, ns, &ask, &mut steps);
            if ns.is_empty() {
                if let Some(p) = ask("get", "", "nodes", "proxy", ANY_NAME)
                    .or_else(|| ask("create", "", "nodes", "proxy", ANY_NAME))
                {
                    steps.push(Step {
                        primitive: Primitive::NodeProxy,
                        permissions: Arc::from(vec![p]),
                        to: Identity::Node,
                        note: None,
                    });
                }
                if let Some(p) = any_of(&[
                    (
                        "create",
                        "admissionregistration.k8s.io",
                        "mutatingwebhookconfigurations",
                        "",
                    ),
                    (
                        "update",
                        "admissionregistration.k8s.io",
                        "mutatingwebhookconfigurations",
                        "",
                    ),
                    (
                        "patch",
                        "admissionregistration.k8s.io",
                        "mutatingwebhookconfigurations",
                        "",
                    ),
                    (
                        "create",
                        "admissionregistration.k8s.io",
                        "validatingwebhookconfigurations",
                        "",
                    ),
                    (
                        "update",
                        "admissionregistration.k8s.io",
                        "validatingwebhookconfigurations",
                        "",
                    ),
                    (
                        "patch",
                        "admissionregistration.k8s.io",
                        "validatingwebhookconfigurations",
                        "",
                    ),
                    (
                        "create",
                        "admissionregistration.k8s.io",
                        "mutatingadmissionpolicies",
                        "",
                    ),
                    (
                        "update",
                        "admissionregistration.k8s.io",
                        "mutatingadmissionpolicies",
                        "",
                    ),
                    (
                        "create",
                        "admissionregistration.k8s.io",
                        "mutatingadmissionpolicybindings",
                        "",
                    ),
                    (
                        "update",
                        "admissionregistration.k8s.io",
                        "mutatingadmissionpolicybindings",
                        "",
                    ),
                ]) {
                    steps.push(Step {
                        primitive: Primitive::AdmissionControl,
                        permissions: Arc::from(vec![p]),
                        to: Identity::ClusterAdmin,
                        note: Some("a mutating webhook sees every object admitted, Secrets included, and can rewrite pods to run as anything".to_owned()),
                    });
                }
                if let Some(c) = ask(
                    "create",
                    "certificates.k8s.io",
                    "certificatesigningrequests",
                    "",
                    "",
                ) && let Some(u) = ask(
                    "update",
                    "certificates.k8s.io",
                    "certificatesigningrequests",
                    "approval",
                    ANY_NAME,
                ) && let Some(a) = ask(
                    "approve",
                    "certificates.k8s.io",
                    "signers",
                    "",
                    "kubernetes.io/kube-apiserver-client",
                )
                // `IsAuthorizedForSignerName`: the signer's name, or `<domain>/*`.
                .or_else(|| {
                    ask(
                        "approve",
                        "certificates.k8s.io",
                        "signers",
                        "",
                        "kubernetes.io/*",
                    )
                }) {
                    steps.push(Step {
                        primitive: Primitive::CsrApproval,
                        permissions: Arc::from(vec![c, u, a]),
                        to: Identity::Group { name: SYSTEM_MASTERS.to_owned() },
                        note: Some("a client certificate can name any user and group, system:masters included".to_owned()),
                    });
                }
            }
        }
        steps
    }

    /// `bind` on a role plus `create` on bindings in scope: the role's rights there.
    fn bind_edges(
        &self,
        applicable: &[(crate::BindingId, usize)],
        ns: &str,
        ask: &Ask<'_>,
        steps: &mut Vec<Step>,
    ) {
        let rbac = "rbac.authorization.k8s.io";
        let bind_any_cluster_role = ask("bind", rbac, "clusterroles", "", ANY_NAME);
        // Granted cluster-wide, `bind` plus `create rolebindings` binds cluster-admin in every
        // namespace with a RoleBinding: every ServiceAccount.
        if ns.is_empty()
            && let Some(b) = &bind_any_cluster_role
            && let Some(c) = ask("create", rbac, "rolebindings", "", "")
        {
            steps.push(Step {
                primitive: Primitive::Bind,
                permissions: Arc::from(vec![b.clone(), c]),
                to: Identity::AnyServiceAccount,
                note: Some("binds ClusterRole cluster-admin in every namespace".to_owned()),
            });
        }
        let binding_resource = if ns.is_empty() {
            "clusterrolebindings"
        } else {
            "rolebindings"
        };
        let Some(create) = ask("create", rbac, binding_resource, "", "") else {
            return;
        };
        // `bind` on any Role of the namespace: each of them.
        if !ns.is_empty()
            && let Some(b) = ask("bind", rbac, "roles", "", ANY_NAME)
        {
            let permissions: Arc<[Permission]> = Arc::from(vec![b, create.clone()]);
            for (id, role) in self.policy.roles().iter().enumerate() {
                if role.kind == RoleKind::Role && role.namespace == ns {
                    steps.push(Step {
                        primitive: Primitive::Bind,
                        permissions: Arc::clone(&permissions),
                        to: bound_role(self.policy, id, ns),
                        note: None,
                    });
                }
            }
        }
        // Any ClusterRole: cluster-admin exists in every cluster.
        if let Some(b) = bind_any_cluster_role {
            let to = if ns.is_empty() {
                Identity::ClusterAdmin
            } else {
                Identity::NamespaceAdmin {
                    namespace: ns.to_owned(),
                }
            };
            steps.push(Step {
                primitive: Primitive::Bind,
                permissions: Arc::from(vec![b, create]),
                to,
                note: Some("binds ClusterRole cluster-admin".to_owned()),
            });
            return;
        }
        // Otherwise only roles named in the subject's own `bind` rules can be bound: ask about
        // those names, not about every role of a large inventory.
        let mut candidates: Vec<(RoleKind, String)> = Vec::new();
        for rule in self.applicable_rules(applicable) {
            for name in &rule.resource_names {
                for (kind, resource) in [
                    (RoleKind::ClusterRole, "clusterroles"),
                    (RoleKind::Role, "roles"),
                ] {
                    let a = Action::resource("bind", ns, rbac, resource, "", name);
                    if rule_allows(rule, &a) {
                        candidates.push((kind, name.clone()));
                    }
                }
            }
        }
        candidates.sort();
        candidates.dedup();
        for (kind, name) in candidates {
            let role_ns = if kind == RoleKind::Role { ns } else { "" };
            if kind == RoleKind::Role && ns.is_empty() {
                continue;
            }
            let Some(id) = self.policy.find_role(kind, role_ns, &name) else {
                continue;
            };
            let resource = if kind == RoleKind::ClusterRole {
                "clusterroles"
            } else {
                "roles"
            };
            if let Some(b) = ask("bind", rbac, resource, "", &name) {
                steps.push(Step {
                    primitive: Primitive::Bind,
                    permissions: Arc::from(vec![b, create.clone()]),
                    to: bound_role(self.policy, id, ns),
                    note: None,
                });
            }
        }
    }

    /// `impersonate` on users, groups and ServiceAccounts.
    fn impersonate_edges(
        &self,
        applicable: &[(crate::BindingId, usize)],
        ns: &str,
        ask: &Ask<'_>,
        steps: &mut Vec<Step>,
    ) {
        let push = |steps: &mut Vec<Step>, p: Permission, to: Identity| {
            steps.push(Step {
                primitive: Primitive::Impersonate,
                permissions: Arc::from(vec![p]),
                to,
                note: None,
            });
        };
        let any_service_account = ask("impersonate", "", "serviceaccounts", "", ANY_NAME);
        if ns.is_empty() {
            let any_user = ask("impersonate", "", "users", "", ANY_NAME);
            // Every known group and user when any name may be impersonated; otherwise only the
            // names the subject's own `impersonate` rules list.
            let named = |resource: &str| -> Vec<String> {
                let mut names: Vec<String> = self
                    .applicable_rules(applicable)
                    .flat_map(|rule| {
                        rule.resource_names
                            .iter()
                            .filter(|n| {
                                rule_allows(
                                    rule,
                                    &Action::resource("impersonate", ns, "", resource, "", n),
                                )
                            })
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
                .or_else(|| {
                    named("users")
                        .into_iter()
                        .find_map(|u| ask("impersonate", "", "users", "", &u))
                })
                .or_else(|| any_service_account.clone());
            for (resource, known) in [("groups", &self.groups), ("users", &self.users)] {
                if resource == "groups" && some_user.is_none() {
                    continue;
                }
                let any = if resource == "users" {
                    any_user.is_some()
                } else {
                    ask("impersonate", "", resource, "", ANY_NAME).is_some()
                };
                let names = if any { known.clone() } else { named(resource) };
                for name in names {
                    let Some(p) = ask("impersonate", "", resource, "", &name) else {
                        continue;
                    };
                    if resource == "groups" {
                        let permissions: Vec<Permission> =
                            std::iter::once(p).chain(some_user.clone()).collect();
                        steps.push(Step {
                            primitive: Primitive::Impersonate,
                            permissions: Arc::from(permissions),
                            to: Identity::Group { name },
                            note: None,
                        });
                    } else {
                        push(
                            steps,
                            p,
                            Identity::of(&UserInfo::new(name, Vec::<String>::new())),
                        );
                    }
                }
            }
        }
        if let Some(p) = any_service_account {
            steps.extend(self.service_accounts_in(ns, Primitive::Impersonate, vec![p], None));
        } else if let Some(names) = self.service_accounts.get(ns) {
            for name in names {
                if let Some(p) = ask("impersonate", "", "serviceaccounts", "", name) {
                    push(
                        steps,
                        p,
                        Identity::ServiceAccount {
                            namespace: ns.to_owned(),
                            name: name.clone(),
                        },
                    );
                }
            }
        }
    }
}

/// The identity for binding role `id` in scope `ns` (cluster-wide when empty); a role that
/// covers everything is namespace- or cluster-admin.
fn bound_role(policy: &Policy, id: RoleId, ns: &str) -> Identity {
    let role = policy.role(id);
    let star = PolicyRule {
        verbs: vec!["*".into()],
        api_groups: vec!["*".into()],
        resources: vec!["*".into()],
        ..PolicyRule::default()
    };
    if crate::covers(&role.rules, &[star]).0 {
        return if ns.is_empty() {
            Identity::ClusterAdmin
        } else {
            Identity::NamespaceAdmin {
                namespace: ns.to_owned(),
            }
        };
    }
    Identity::BoundRole {
        role_kind: role.kind,
        role_namespace: role.namespace.clone(),
        role_name: role.name.clone(),
        scope: ns.to_owned(),
    }
}
