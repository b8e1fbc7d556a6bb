//! The ServiceAccounts a subject can become, and which of them is strongest.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use foldhash::fast::RandomState as Fast;
use runnerguard_engine::{Grant, Policy, RoleId, UserInfo, covers};
use runnerguard_model::{BindingKind, Subject, SubjectKind};

use super::{Scope, identity, resolved_service_account, star_rule};
use crate::context::locked;
use crate::{Context, Evidence, Finding};

/// The ServiceAccounts known from the inputs and the rules each holds through input
/// bindings: what makes a ServiceAccount worth becoming. Built once per audit and shared
/// by the rules ([`Context::accounts`]: RB005 and RB006 ask the same); the ranking of a
/// scope is computed once and reused for every subject reaching it, from every core.
pub(crate) struct Accounts<'p> {
    policy: &'p Policy,
    /// Namespaces of input RoleBindings, by the user or group name a subject stands for.
    bound_in: BTreeMap<(SubjectKind, String), BTreeSet<&'p str>>,
    /// The ServiceAccounts known, by namespace.
    known: BTreeMap<String, BTreeSet<Subject>>,
    /// Per scope, the ServiceAccounts with rules from input bindings, strongest first.
    ranked: Mutex<HashMap<Scope, Ranking>>,
    /// Whether a rule (role, index) is `*` on `*`: many ServiceAccounts share roles.
    full: Mutex<HashMap<(RoleId, usize), bool>>,
    /// What each ServiceAccount holds (`None`: nothing through input bindings), worked out
    /// once: a ServiceAccount is ranked in its namespace and cluster-wide.
    held: Mutex<HashMap<Subject, Option<Arc<Strongest>>>>,
}

/// Who a subject of an input RoleBinding stands for, borrowed from the binding.
#[derive(PartialEq, Eq, Hash)]
enum Bound<'p> {
    /// A User or Group, by name.
    Named(SubjectKind, &'p str),
    /// A ServiceAccount, by namespace and name: its user name.
    Account(&'p str, &'p str),
}

/// The ServiceAccounts of a scope with rules from input bindings, strongest first.
pub(super) type Ranking = Arc<[Arc<Strongest>]>;

/// A ServiceAccount a subject can become, and what it holds.
#[derive(Clone, Debug)]
pub(super) struct Strongest {
    /// The ServiceAccount (a resolved subject).
    pub(super) account: Subject,
    /// Its grants from input bindings.
    pub(super) grants: Vec<Grant>,
    /// The first grant that is `*` on `*`, if any.
    pub(super) full: Option<Grant>,
}

impl<'p> Accounts<'p> {
    /// Indexes the ServiceAccounts of `cx`: those read, the job pods' (of every setup of
    /// the audit: [`Context::job_accounts`]), the ServiceAccount subjects of every binding,
    /// and the `default` of every namespace seen (every namespace has one); and the input
    /// RoleBindings by subject.
    pub(crate) fn new(cx: &Context<'p>) -> Self {
        let mut accounts = Self::of_policy(cx.policy);
        for sa in cx.job_accounts().iter() {
            accounts
                .known
                .entry(sa.namespace.clone())
                .or_default()
                .insert(sa.clone());
        }
        accounts
    }

    /// [`Accounts::new`] without the job pods' ServiceAccounts: what the policy alone
    /// makes known.
    fn of_policy(policy: &'p Policy) -> Self {
        // Borrowed while collecting: 100,000 bindings name the same ServiceAccounts and
        // subjects again and again (issue #13); each is allocated once at the end.
        let mut accounts: HashSet<(&'p str, &'p str), Fast> = HashSet::default();
        let mut bound: HashMap<Bound<'p>, BTreeSet<&'p str>, Fast> = HashMap::default();
        for sa in policy.service_accounts() {
            accounts.insert((&sa.namespace, &sa.name));
        }
        for ns in policy.namespaces() {
            accounts.insert((&ns.name, "default"));
        }
        for b in policy.bindings() {
            if b.kind == BindingKind::RoleBinding {
                accounts.insert((&b.namespace, "default"));
            }
            // Input RoleBindings also say where each subject is bound.
            let input_role_binding = !b.origin.is_builtin() && b.kind == BindingKind::RoleBinding;
            for s in &b.subjects {
                let account = resolved_service_account(s, b);
                if let Some((ns, name)) = account {
                    accounts.insert((ns, "default"));
                    accounts.insert((ns, name));
                }
                if !input_role_binding {
                    continue;
                }
                let key = match (SubjectKind::parse(&s.kind), account) {
                    // A ServiceAccount without a namespace stands for no user.
                    (Some(SubjectKind::ServiceAccount), Some((ns, name))) if !ns.is_empty() => {
                        Bound::Account(ns, name)
                    }
                    (Some(SubjectKind::ServiceAccount) | None, _) => continue,
                    (Some(kind), _) => Bound::Named(kind, &s.name),
                };
                bound.entry(key).or_default().insert(b.namespace.as_str());
            }
        }
        let mut known: BTreeMap<String, BTreeSet<Subject>> = BTreeMap::new();
        for (ns, name) in accounts {
            known
                .entry(ns.to_owned())
                .or_default()
                .insert(Subject::service_account(ns, name));
        }
        // A ServiceAccount stands for its user name, as a User subject naming it does.
        let mut bound_in: BTreeMap<(SubjectKind, String), BTreeSet<&'p str>> = BTreeMap::new();
        for (key, namespaces) in bound {
            let key = match key {
                Bound::Named(kind, name) => (kind, name.to_owned()),
                Bound::Account(ns, name) => (
                    SubjectKind::User,
                    runnerguard_model::service_account_user(ns, name),
                ),
            };
            bound_in.entry(key).or_default().extend(namespaces);
        }
        Self {
            policy,
            bound_in,
            known,
            ranked: Mutex::default(),
            full: Mutex::default(),
            held: Mutex::default(),
        }
    }

    /// The ServiceAccounts known in `scope` (every namespace for [`Scope::Cluster`]),
    /// sorted.
    pub(super) fn known(&self, scope: &Scope) -> Vec<&Subject> {
        match scope {
            Scope::Cluster => self.known.values().flatten().collect(),
            Scope::Namespace(ns) => self.known.get(ns).into_iter().flatten().collect(),
        }
    }

    /// The ServiceAccounts of `scope` that hold rules through input bindings, strongest
    /// first: one with `*` on `*`, then the most rules, then by name. Worked out once per
    /// scope (two threads asking at once may both work it out; the first kept wins, and
    /// both are the same).
    pub(super) fn ranking(&self, scope: &Scope) -> Ranking {
        if let Some(ranked) = locked(&self.ranked).get(scope) {
            return Arc::clone(ranked);
        }
        let mut list: Vec<Arc<Strongest>> = Vec::new();
        for account in self.known(scope) {
            list.extend(self.held(account));
        }
        list.sort_by(|a, b| {
            (b.full.is_some(), b.grants.len())
                .cmp(&(a.full.is_some(), a.grants.len()))
                .then_with(|| a.account.cmp(&b.account))
        });
        let ranked: Ranking = list.into();
        Arc::clone(locked(&self.ranked).entry(scope.clone()).or_insert(ranked))
    }

    /// What `account` holds through input bindings, `None` when nothing: worked out once.
    fn held(&self, account: &Subject) -> Option<Arc<Strongest>> {
        if let Some(held) = locked(&self.held).get(account) {
            return held.clone();
        }
        let found = self.work_out(account);
        locked(&self.held).insert(account.clone(), found.clone());
        found
    }

    /// What `account` holds through input bindings, `None` when nothing.
    fn work_out(&self, account: &Subject) -> Option<Arc<Strongest>> {
        let star = [star_rule()];
        let user = identity(account)?;
        let grants = grants(self.policy, &self.bound_in, &user);
        if grants.is_empty() {
            return None;
        }
        let full = grants
            .iter()
            .find(|g| {
                let key = (g.role, g.rule_index);
                if let Some(&full) = locked(&self.full).get(&key) {
                    return full;
                }
                let full = covers(std::slice::from_ref(self.policy.rule(g)), &star).0;
                locked(&self.full).insert(key, full);
                full
            })
            .cloned();
        Some(Arc::new(Strongest {
            account: account.clone(),
            grants,
            full,
        }))
    }

    /// Whether `account` is known and holds rules through input bindings: whether it is
    /// in the rankings of its namespace and of the cluster.
    pub(super) fn holds_rights(&self, account: &Subject) -> bool {
        self.known
            .get(&account.namespace)
            .is_some_and(|known| known.contains(account))
            && self.held(account).is_some()
    }

    /// The strongest ServiceAccount of `scope` other than `subject` that `accept`s; `None`
    /// when none holds rules through input bindings.
    pub(super) fn strongest(
        &self,
        scope: &Scope,
        subject: &Subject,
        accept: impl Fn(&Subject) -> bool,
    ) -> Option<Arc<Strongest>> {
        self.ranking(scope)
            .iter()
            .find(|s| s.account != *subject && accept(&s.account))
            .cloned()
    }
}

/// Every rule `user` holds through input bindings (`bound_in`: the namespaces of input
/// RoleBindings by subject): cluster-wide, then per namespace.
fn grants(
    policy: &Policy,
    bound_in: &BTreeMap<(SubjectKind, String), BTreeSet<&str>>,
    user: &UserInfo,
) -> Vec<Grant> {
    let mut scopes: BTreeSet<&str> = BTreeSet::new();
    scopes.insert("");
    let keys = std::iter::once((SubjectKind::User, user.name.clone()))
        .chain(user.groups.iter().map(|g| (SubjectKind::Group, g.clone())));
    for key in keys {
        if let Some(ns) = bound_in.get(&key) {
            scopes.extend(ns.iter().copied());
        }
    }
    let mut out = Vec::new();
    for ns in scopes {
        for e in policy.rules_for(user, ns).rules {
            let b = policy.binding(e.grant.binding);
            // Cluster-wide grants come back with every namespace: count them once.
            if b.origin.is_builtin()
                || (!ns.is_empty() && b.kind == BindingKind::ClusterRoleBinding)
            {
                continue;
            }
            out.push(e.grant);
        }
    }
    out
}

/// `the strongest known is ServiceAccount ns/name, holding 3 rules through input bindings`.
pub(super) fn strongest_text(s: &Strongest) -> String {
    let rules = match s.grants.len() {
        1 => "1 rule".to_owned(),
        n => format!("{n} rules"),
    };
    let full = if s.full.is_some() {
        ", `*` on `*` among them"
    } else {
        ""
    };
    format!(
        "the strongest known is {}, holding {rules} through input bindings{full}",
        s.account
    )
}

/// Adds to `f` the path of the strongest ServiceAccount's most telling grant.
pub(super) fn strongest_evidence(cx: &Context<'_>, f: Finding, s: &Strongest) -> Finding {
    let Some(grant) = s.full.as_ref().or_else(|| s.grants.first()) else {
        return f;
    };
    f.evidence(Evidence::fact_under(
        format!("strongest reachable: {}", s.account),
        vec![cx.grant_evidence(grant)],
    ))
    .grant_objects(cx, grant)
}
