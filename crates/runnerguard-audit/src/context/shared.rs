//! What the contexts of an audit's setups share (see [`Shared`]).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use runnerguard_engine::Escalation;
use runnerguard_model::{
    LimitRange, Namespace, NetworkPolicy, RunnerEntry, ServiceAccount, Setting, Subject,
};

#[cfg(doc)]
use super::Context;

/// A cache behind a lock: the rules of a setup run on every core and share these. A lock is
/// never poisoned for a reader (a thread that panicked while holding it left at most an
/// entry missing, never half of one).
pub(crate) fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the contexts of one policy's setups share in [`crate::Audit::run`]: analyses that
/// depend on the policy alone, built once instead of once per setup (issue #9 C3: with a
/// setup per tenant, per-setup work over the whole policy was quadratic), and what rules
/// remember from one setup to the next.
#[derive(Default)]
pub(crate) struct Shared<'a> {
    /// Every setup's manager ServiceAccount with each of its job namespaces, for
    /// [`Context::is_executor`].
    pub(crate) executors: HashSet<(&'a str, &'a str, &'a str)>,
    /// The topology of each Helm values file's release, by the file's index, for
    /// [`Context::values_topology`].
    pub(crate) values_owner: HashMap<usize, &'a crate::Setup>,
    /// The job pods' ServiceAccounts of every setup, for [`Context::job_accounts`].
    pub(crate) job_accounts: Vec<Subject>,
    /// [`Context::escalation`].
    pub(super) escalation: OnceLock<Escalation<'a>>,
    /// [`Context::namespace`]'s index.
    pub(super) namespaces: OnceLock<HashMap<&'a str, &'a Namespace>>,
    /// [`Context::role_binding_namespaces`]'s index.
    pub(super) bound_in: OnceLock<BoundIn<'a>>,
    /// [`Context::policy_fact`]'s answers.
    pub(super) facts: Mutex<HashMap<&'static str, bool>>,
    /// Rules whose findings that depend on no setup were reported already.
    pub(super) reported: Mutex<HashSet<&'static str>>,
    /// [`Context::once_or_again`]'s lists of items to look at again under later setups.
    pub(super) again: Mutex<HashMap<&'static str, Vec<usize>>>,
    /// [`Context::sources`].
    pub(super) sources: OnceLock<Vec<crate::rules::Source<'a>>>,
    /// [`Context::entries_in`].
    pub(super) entries_in: OnceLock<EntriesIn<'a>>,
    /// [`Context::network_policies_in`].
    pub(super) network_policies_in: OnceLock<HashMap<&'a str, Vec<&'a NetworkPolicy>>>,
    /// [`Context::limit_ranges_in`].
    pub(super) limit_ranges_in: OnceLock<HashMap<&'a str, Vec<(usize, &'a LimitRange)>>>,
    /// [`Context::service_account_values`].
    pub(super) service_account_values: OnceLock<Vec<&'a Setting>>,
    /// [`Context::service_account`]'s index.
    pub(super) service_accounts: OnceLock<HashMap<(&'a str, &'a str), &'a ServiceAccount>>,
    /// [`Context::accounts`].
    pub(super) accounts: OnceLock<crate::rules::Accounts<'a>>,
    /// [`Context::grant_path`]'s bindings, roles and rules, each built once.
    pub(super) grants: crate::evidence::Grants,
}

/// Every `[[runners]]` entry read, in [`Context::runner_entries`]'s order, with indexes into
/// them by the namespace their `[runners.kubernetes]` names.
pub(crate) struct EntriesIn<'a> {
    /// The entries, in order.
    pub(crate) entries: Vec<&'a RunnerEntry>,
    /// Indexes into `entries` by `namespace` (the string value, as set, even empty).
    pub(crate) by_namespace: HashMap<&'a str, Vec<usize>>,
    /// Indexes of the entries whose `namespace` is not a string (or not set).
    pub(crate) everywhere: Vec<usize>,
}

impl Shared<'_> {
    /// Whether rule `id` reports its setup-independent findings now: true the first time.
    pub(crate) fn first_report(&self, id: &'static str) -> bool {
        locked(&self.reported).insert(id)
    }
}

/// The namespaces of the input RoleBindings (not Kubernetes' defaults), by the user name
/// (`false`) or group name (`true`) a subject stands for.
pub(super) type BoundIn<'a> = HashMap<(bool, String), BTreeSet<&'a str>>;
