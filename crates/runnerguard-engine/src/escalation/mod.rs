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
//!
//! `identity` holds the vocabulary (identities, edge kinds, paths), `edges` the edges as a table
//! of requests, `discover` the walk of that table for one subject in one scope, `admission` what
//! admission policies prove about pods, and `search` the breadth-first search and its caches.

mod admission;
mod discover;
mod edges;
mod identity;
mod search;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use runnerguard_model::split_service_account_user;

use crate::Policy;
use admission::Pin;

pub use identity::{EffectiveDecision, Identity, Permission, Primitive, Reached, Step};
pub use search::Escalation;

/// A map hashed as the policy's indexes are (`foldhash`): the graph's indexes and the
/// search's caches, asked for every identity a search reaches.
type Fast<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A set hashed as [`Fast`] maps are.
type FastSet<T> = HashSet<T, foldhash::fast::RandomState>;

/// The superuser group the API server never asks RBAC about.
const SYSTEM_MASTERS: &str = "system:masters";

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
    /// Groups named by bindings, and `system:masters`.
    groups: Vec<String>,
    /// Pod restrictions proven by admission policies, per namespace.
    pins: BTreeMap<String, Pin>,
    /// Each role's answers to the edges' requirements, once asked.
    answers: edges::RoleAnswers,
}

impl<'p> Graph<'p> {
    /// The graph over `policy`, with the objects it holds.
    fn new(policy: &'p Policy) -> Self {
        // Each name once, hashed while collecting and copied into order at the end:
        // 100,000 bindings name 30,000 ServiceAccounts and a few hundred groups, and a
        // search of the ordered maps per name cost 0.1 s (issue #13).
        let mut accounts: Fast<&str, FastSet<&str>> = Fast::default();
        let mut users: FastSet<&str> = FastSet::default();
        let mut groups: FastSet<&str> = FastSet::default();
        let mut add = |ns: &'p str, name: &'p str| {
            accounts.entry(ns).or_default().insert(name);
        };
        for sa in policy.service_accounts() {
            add(&sa.namespace, &sa.name);
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
                        if !ns.is_empty() {
                            add(ns, &s.name);
                        }
                    }
                    "User" => match split_service_account_user(&s.name) {
                        Some((ns, name)) => add(ns, name),
                        None => {
                            users.insert(&s.name);
                        }
                    },
                    "Group" => {
                        groups.insert(&s.name);
                    }
                    _ => {}
                }
            }
        }
        let objects = policy.objects();
        for ns in objects
            .namespaces
            .iter()
            .map(|n| n.name.as_str())
            .chain(policy.bindings().iter().map(|b| b.namespace.as_str()))
            .filter(|n| !n.is_empty())
        {
            add(ns, "default");
        }
        let service_accounts: BTreeMap<String, BTreeSet<String>> = accounts
            .into_iter()
            .map(|(ns, names)| {
                (
                    ns.to_owned(),
                    names.into_iter().map(str::to_owned).collect(),
                )
            })
            .collect();
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
        groups.insert(SYSTEM_MASTERS);
        let sorted = |names: FastSet<&str>| {
            let mut names: Vec<String> = names.into_iter().map(str::to_owned).collect();
            names.sort_unstable();
            names
        };
        let users = sorted(users);
        let groups = sorted(groups);
        Self {
            policy,
            service_accounts,
            pod_service_accounts,
            token_secrets,
            users,
            groups,
            pins: admission::pins(policy),
            answers: edges::RoleAnswers::new(policy.roles().len()),
        }
    }
}
