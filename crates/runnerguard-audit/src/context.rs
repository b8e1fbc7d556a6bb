//! What every rule sees: the indexed policy, the topology, the executor's needs for the
//! target runner version, and the chart's keys; with the helpers rules share.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use runnerguard_engine::{Escalation, Grant, Identity, Policy, Step, UserInfo};
use runnerguard_model::{
    BindingKind, Inventory, LimitRange, Namespace, NetworkPolicy, RunnerConfig, RunnerEntry,
    ServiceAccount, Setting, Subject, SubjectKind,
};

mod shared;

use shared::BoundIn;
pub(crate) use shared::{EntriesIn, Shared, locked};

use crate::{
    ChartKeys, EscalationStep, Evidence, GrantPath, PermissionTable, Topology, TopologyEvidence,
};

/// An identity a job pod has or can become, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobIdentity {
    /// The identity as the API server sees it. For identities RBAC does not evaluate
    /// (cluster-admin, every permission in a namespace, a role bound through `bind`), a user
    /// no binding names: ask [`Context::identity_allows`] about those.
    pub user: UserInfo,
    /// The identity.
    pub identity: Identity,
    /// The job namespace it belongs to.
    pub namespace: String,
    /// How a job gets the identity `path` starts from, e.g. "the job pods' ServiceAccount
    /// token" (the steps from there are `path`, as data).
    pub how: String,
    /// The escalation steps from the job's own identity (empty for that identity itself).
    pub path: Vec<Step>,
}

/// The inputs of every rule.
pub struct Context<'a> {
    /// RBAC, indexed, with every other object read.
    pub policy: &'a Policy,
    /// Where the manager and the jobs run.
    pub topology: &'a Topology,
    /// What the executor needs, for the target runner version.
    pub executor: &'a PermissionTable,
    /// The chart's values keys.
    pub chart: &'a ChartKeys,
    /// [`Context::job_identities`], worked out once for all rules.
    job_identities: OnceLock<Vec<JobIdentity>>,
    /// Indexes into `job_identities` by job namespace, for [`Context::job_identities_in`].
    job_identities_by_namespace: OnceLock<HashMap<String, Vec<usize>>>,
    /// What the contexts of the other setups of [`crate::Audit::run`] share with this one: the
    /// escalation analysis and indexes of the policy (used instead of `own`), and what
    /// rules remember.
    shared: Option<&'a Shared<'a>>,
    /// [`Context::job_namespaces`], worked out once.
    job_namespaces: OnceLock<Vec<&'a str>>,
    /// The same as a set, for [`Context::is_job_namespace`].
    job_namespace_set: OnceLock<HashSet<&'a str>>,
    /// The topology's evidence about job namespaces, by the namespace its fact names, for
    /// [`Context::job_evidence`].
    job_evidence: OnceLock<HashMap<&'a str, Vec<&'a TopologyEvidence>>>,
    /// The caches of [`Shared`] this context keeps itself when it shares none.
    own: Shared<'a>,
}

impl<'a> Context<'a> {
    /// The rules' inputs.
    pub fn new(
        policy: &'a Policy,
        topology: &'a Topology,
        executor: &'a PermissionTable,
        chart: &'a ChartKeys,
    ) -> Self {
        Self {
            policy,
            topology,
            executor,
            chart,
            job_identities: OnceLock::new(),
            job_identities_by_namespace: OnceLock::new(),
            shared: None,
            job_namespaces: OnceLock::new(),
            job_namespace_set: OnceLock::new(),
            job_evidence: OnceLock::new(),
            own: Shared::default(),
        }
    }

    /// [`Context::new`] for one setup of several: what depends on the policy alone (the
    /// escalation analysis, with what it has already found) and what rules remember from one
    /// setup to the next are kept in `shared`, which the other setups' contexts share.
    pub(crate) fn sharing(
        policy: &'a Policy,
        topology: &'a Topology,
        executor: &'a PermissionTable,
        chart: &'a ChartKeys,
        shared: &'a Shared<'a>,
    ) -> Self {
        Self {
            shared: Some(shared),
            ..Self::new(policy, topology, executor, chart)
        }
    }

    /// Where what depends on the policy alone is kept: with the other setups' contexts when
    /// shared, else in this context.
    fn store(&self) -> &Shared<'a> {
        self.shared.unwrap_or(&self.own)
    }

    /// Whether rule `id` reports now the findings it finds the same under every setup: true
    /// under the first setup of [`crate::Audit::run`] that asks (the rules that ask run under
    /// every setup, so that is the first, where those findings were first seen anyway: the
    /// merged findings and their order are unchanged), and always for a context of its own.
    pub(crate) fn first_report(&self, id: &'static str) -> bool {
        self.shared.is_none_or(|s| s.first_report(id))
    }

    /// The indexes of the `n` items a rule checks under this setup, as `key` names them: all
    /// of them the first time (see [`Context::first_report`]), later only those for which
    /// `depends_on_setup` holds, worked out once (the others' findings are the same under
    /// every setup, so merged away: a scan of every item per setup was quadratic in
    /// tenants, issue #9 C3). `depends_on_setup` may hold for more items than needed.
    pub(crate) fn once_or_again(
        &self,
        key: &'static str,
        n: usize,
        depends_on_setup: impl Fn(usize) -> bool,
    ) -> Vec<usize> {
        let Some(shared) = self.shared else {
            return (0..n).collect();
        };
        if let Some(again) = shared::locked(&shared.again).get(key) {
            return again.clone();
        }
        let again: Vec<usize> = (0..n).filter(|&i| depends_on_setup(i)).collect();
        shared::locked(&shared.again).insert(key, again);
        (0..n).collect()
    }

    /// Where job-pod settings come from ([`crate::rules::Source`]), in order, worked out
    /// once.
    pub(crate) fn sources(&self) -> &[crate::rules::Source<'a>] {
        self.store()
            .sources
            .get_or_init(|| crate::rules::sources(self))
    }

    /// The ServiceAccount object `namespace/name` (the first of that name), when read:
    /// indexed once for every setup (rules ask per job: a scan of every ServiceAccount per
    /// job and setup was quadratic in tenants, issue #9 C3).
    pub(crate) fn service_account(
        &self,
        namespace: &str,
        name: &str,
    ) -> Option<&'a ServiceAccount> {
        let policy: &'a Policy = self.policy;
        self.store()
            .service_accounts
            .get_or_init(|| {
                let mut index = HashMap::new();
                for sa in policy.service_accounts() {
                    index
                        .entry((sa.namespace.as_str(), sa.name.as_str()))
                        .or_insert(sa);
                }
                index
            })
            .get(&(namespace, name))
            .copied()
    }

    /// Every `[[runners]]` entry, indexed by the namespace it names, worked out once.
    pub(crate) fn entries_in(&self) -> &EntriesIn<'a> {
        let objects: &'a Inventory = self.policy.objects();
        self.store().entries_in.get_or_init(|| {
            let entries: Vec<&'a RunnerEntry> = objects
                .runner_configs
                .iter()
                .flat_map(|c| c.runners.iter())
                .collect();
            let mut by_namespace: HashMap<&'a str, Vec<usize>> = HashMap::new();
            let mut everywhere = Vec::new();
            for (i, entry) in entries.iter().enumerate() {
                match entry.kube("namespace").and_then(|s| s.value.as_str()) {
                    Some(n) => by_namespace.entry(n).or_default().push(i),
                    None => everywhere.push(i),
                }
            }
            EntriesIn {
                entries,
                by_namespace,
                everywhere,
            }
        })
    }

    /// The NetworkPolicies of namespace `ns`, in input order.
    pub(crate) fn network_policies_in(&self, ns: &str) -> &[&'a NetworkPolicy] {
        let objects: &'a Inventory = self.policy.objects();
        self.store()
            .network_policies_in
            .get_or_init(|| {
                let mut index: HashMap<&'a str, Vec<&'a NetworkPolicy>> = HashMap::new();
                for p in &objects.network_policies {
                    index
                        .entry(p.object.namespace.as_str())
                        .or_default()
                        .push(p);
                }
                index
            })
            .get(ns)
            .map_or(&[][..], Vec::as_slice)
    }

    /// The LimitRanges of namespace `ns`, each with its input position, in input order.
    pub(crate) fn limit_ranges_in(&self, ns: &str) -> &[(usize, &'a LimitRange)] {
        let objects: &'a Inventory = self.policy.objects();
        self.store()
            .limit_ranges_in
            .get_or_init(|| {
                let mut index: HashMap<&'a str, Vec<(usize, &'a LimitRange)>> = HashMap::new();
                for (i, l) in objects.limit_ranges.iter().enumerate() {
                    index
                        .entry(l.object.namespace.as_str())
                        .or_default()
                        .push((i, l));
                }
                index
            })
            .get(ns)
            .map_or(&[][..], Vec::as_slice)
    }

    /// The Helm values entries under `runners.` whose last key, lowercased without `_`, is
    /// `serviceaccountname` or `serviceaccount`, in input order, worked out once.
    pub(crate) fn service_account_values(&self) -> &[&'a Setting] {
        let objects: &'a Inventory = self.policy.objects();
        self.store().service_account_values.get_or_init(|| {
            objects
                .helm_values
                .iter()
                .flat_map(|v| &v.entries)
                .filter(|entry| {
                    let last = entry.key.rsplit('.').next().unwrap_or_default();
                    let normal: String = last
                        .chars()
                        .filter(|c| *c != '_')
                        .flat_map(char::to_lowercase)
                        .collect();
                    entry.key.starts_with("runners.")
                        && matches!(normal.as_str(), "serviceaccountname" | "serviceaccount")
                })
                .collect()
        })
    }

    /// The escalation analysis of the policy (`runnerguard paths`), built on first use and
    /// shared by every rule, with what it has already found.
    pub fn escalation(&self) -> &Escalation<'a> {
        self.store().escalation.get_or_init(|| {
            // The edges of every ServiceAccount, on every core: RB005 grades each and
            // "every ServiceAccount" reaches what any of them does (issue #13). Rayon inside
            // this initializer is safe only because `run_rules` builds the analysis before
            // the rules start (see there).
            let escalation = Escalation::new(self.policy);
            escalation.prepare_service_accounts();
            escalation
        })
    }

    /// The ServiceAccounts a subject can become and what each holds through input bindings
    /// (RB005 and RB006 rank them), built on first use and shared.
    pub(crate) fn accounts(&self) -> &crate::rules::Accounts<'a> {
        self.store()
            .accounts
            .get_or_init(|| crate::rules::Accounts::new(self))
    }

    /// The job namespaces, each once, in order ([`Topology::job_namespaces`], worked out
    /// once: rules ask for them per runner entry).
    pub fn job_namespaces(&self) -> &[&'a str] {
        self.job_namespaces
            .get_or_init(|| self.topology.job_namespaces())
    }

    /// Whether jobs run in namespace `ns`.
    pub fn is_job_namespace(&self, ns: &str) -> bool {
        self.job_namespace_set
            .get_or_init(|| self.job_namespaces().iter().copied().collect())
            .contains(ns)
    }

    /// Whether `subject` is the manager of a setup of the audit in one of that setup's job
    /// namespaces `ns`: where the Kubernetes executor needs to create pods. Under every
    /// setup of an audit the same answer, so that findings worded by it are found the same.
    pub fn is_executor(&self, subject: &Subject, ns: &str) -> bool {
        let (namespace, name) = (subject.namespace.as_str(), subject.name.as_str());
        *subject == Subject::service_account(namespace, name)
            && match self.shared {
                Some(shared) => shared.executors.contains(&(namespace, name, ns)),
                None => {
                    (namespace, name)
                        == (
                            self.topology.manager_namespace.as_str(),
                            self.topology.manager_service_account.as_str(),
                        )
                        && self.is_job_namespace(ns)
                }
            }
    }

    /// The ServiceAccounts job pods run as: under every setup of an audit, those of all its
    /// setups (they exist in the cluster whichever runner is looked at), else this
    /// topology's.
    pub fn job_accounts(&self) -> Cow<'a, [Subject]> {
        match self.shared {
            Some(shared) => Cow::Borrowed(&shared.job_accounts),
            None => Cow::Owned(
                self.topology
                    .jobs
                    .iter()
                    .map(|j| Subject::service_account(&j.namespace, &j.service_account))
                    .collect(),
            ),
        }
    }

    /// The topology of the release Helm values file `index` belongs to: another setup's when
    /// the audit has a setup per release, else this one's.
    pub fn values_topology(&self, index: usize) -> &'a Topology {
        self.values_owner(index)
            .map_or(self.topology, |s| &s.topology)
    }

    /// Whether Helm values file `index` is judged against this setup's chart: its release's
    /// chart is this one (the same version, and the same note when it stands in for another).
    pub fn judges_values(&self, index: usize) -> bool {
        self.values_owner(index).is_none_or(|s| {
            (s.chart.version, s.chart.note()) == (self.chart.version, self.chart.note())
        })
    }

    fn values_owner(&self, index: usize) -> Option<&'a crate::Setup> {
        self.shared
            .and_then(|s| s.values_owner.get(&index).copied())
    }

    /// The topology's evidence about job namespace `ns`, in order.
    pub fn job_evidence<'s>(
        &'s self,
        ns: &'s str,
    ) -> impl Iterator<Item = &'a TopologyEvidence> + 's {
        let topology: &'a Topology = self.topology;
        // Indexed by namespace: rules ask per job, and a scan per job was quadratic (issue #9
        // C3).
        self.job_evidence
            .get_or_init(|| {
                let mut index: HashMap<&'a str, Vec<&'a TopologyEvidence>> = HashMap::new();
                for e in &topology.evidence {
                    if let Some(name) = e.fact.job_namespace() {
                        index.entry(name).or_default().push(e);
                    }
                }
                index
            })
            .get(ns)
            .into_iter()
            .flatten()
            .copied()
    }

    /// A yes/no fact about the objects read alone (no part of the setup), named `key`:
    /// worked out by `compute` once for every setup in [`crate::Audit::run`] (rules ask per
    /// setup; a scan of every runner entry per setup was quadratic, issue #9 C3).
    pub(crate) fn policy_fact(&self, key: &'static str, compute: impl FnOnce() -> bool) -> bool {
        let Some(shared) = self.shared else {
            return compute();
        };
        if let Some(&known) = shared::locked(&shared.facts).get(key) {
            return known;
        }
        let value = compute();
        shared::locked(&shared.facts).insert(key, value);
        value
    }

    /// The namespaces where an input RoleBinding (not one of Kubernetes' defaults) names
    /// `user` or one of its groups, sorted: what a scan of every binding with
    /// `runnerguard_engine::applies_to` finds, through an index built once (rules ask per
    /// job and per setup: the scan was quadratic, issue #9 C3).
    pub fn role_binding_namespaces(&self, user: &UserInfo) -> BTreeSet<&'a str> {
        let policy: &'a Policy = self.policy;
        let index = self.store().bound_in.get_or_init(|| {
            let mut index: BoundIn<'a> = HashMap::new();
            for b in policy.bindings() {
                if b.kind != BindingKind::RoleBinding || b.origin.is_builtin() {
                    continue;
                }
                for s in &b.subjects {
                    let key = match SubjectKind::parse(&s.kind) {
                        Some(SubjectKind::User) => (false, s.name.clone()),
                        Some(SubjectKind::Group) => (true, s.name.clone()),
                        Some(SubjectKind::ServiceAccount) => {
                            match s.service_account_user(&b.namespace) {
                                Some(u) => (false, u),
                                None => continue,
                            }
                        }
                        None => continue,
                    };
                    index.entry(key).or_default().insert(b.namespace.as_str());
                }
            }
            index
        });
        let mut out = BTreeSet::new();
        let keys = std::iter::once((false, user.name.clone()))
            .chain(user.groups.iter().map(|g| (true, g.clone())));
        for key in keys {
            if let Some(ns) = index.get(&key) {
                out.extend(ns.iter().copied());
            }
        }
        out
    }

    /// The Namespace object named `name`, when read.
    pub fn namespace(&self, name: &str) -> Option<&'a Namespace> {
        let policy: &'a Policy = self.policy;
        self.store()
            .namespaces
            .get_or_init(|| {
                let mut index = HashMap::new();
                for n in &policy.objects().namespaces {
                    index.entry(n.name.as_str()).or_insert(n);
                }
                index
            })
            .get(name)
            .copied()
    }
}

impl Context<'_> {
    /// Every object that is not a role or a binding.
    pub fn objects(&self) -> &Inventory {
        self.policy.objects()
    }

    /// The manager's identity.
    pub fn manager(&self) -> UserInfo {
        self.topology.manager()
    }

    /// The manager's ServiceAccount as `namespace/name`, for messages.
    pub fn manager_name(&self) -> String {
        qualified(
            &self.topology.manager_namespace,
            &self.topology.manager_service_account,
        )
    }

    /// The identities job pods have: their ServiceAccount in each job namespace (whose token
    /// a job holds unless automount is off, and can mount otherwise) and the anonymous
    /// identity any pod has on the API server's network; and every identity those can become
    /// through RBAC escalation (`runnerguard paths`), each with its shortest path. Worked out
    /// on first use and shared by every rule.
    pub fn job_identities(&self) -> &[JobIdentity] {
        self.job_identities
            .get_or_init(|| self.find_job_identities(false))
    }

    /// Works out [`Context::job_identities`] now, searching from the jobs' identities on
    /// every core (3,000 job namespaces next to the 10k-namespace inventory: 0.4 s of
    /// searches, done by whichever rule asked first while the others waited). Called
    /// where no lazily built index is being built (rayon there could deadlock: see
    /// `run_rules`).
    pub(crate) fn prepare_job_identities(&self) {
        if self.job_identities.get().is_none() {
            let found = self.find_job_identities(true);
            // Another thread may have set it meanwhile: the same identities.
            let _ = self.job_identities.set(found);
        }
    }

    /// The [`Context::job_identities`] of job namespace `ns`, in order (rules ask per job: a
    /// scan of every identity per job was quadratic, issue #9 C3).
    pub fn job_identities_in<'s>(&'s self, ns: &str) -> impl Iterator<Item = &'s JobIdentity> {
        let all = self.job_identities();
        self.job_identities_by_namespace
            .get_or_init(|| {
                let mut index: HashMap<String, Vec<usize>> = HashMap::new();
                for (i, j) in all.iter().enumerate() {
                    index.entry(j.namespace.clone()).or_default().push(i);
                }
                index
            })
            .get(ns)
            .into_iter()
            .flatten()
            .filter_map(|&i| all.get(i))
    }

    /// The identities job pods have or can become; the searches from them on every core
    /// when `parallel`.
    fn find_job_identities(&self, parallel: bool) -> Vec<JobIdentity> {
        use rayon::prelude::*;
        let escalation = self.escalation();
        let mut starts: Vec<(UserInfo, String, &str)> = Vec::new();
        for job in &self.topology.jobs {
            let user =
                runnerguard_model::service_account_user(&job.namespace, &job.service_account);
            let how = match job.automount_token {
                Some(false) => {
                    "the job pods' ServiceAccount (token not mounted, but the identity is theirs)"
                }
                _ => "the job pods' ServiceAccount token, mounted in every job",
            };
            starts.push((
                UserInfo::impersonated(&user, &[]),
                job.namespace.clone(),
                how,
            ));
        }
        starts.push((
            UserInfo::anonymous(),
            String::new(),
            "any pod can call the API server anonymously (when anonymous auth is on, the default)",
        ));
        let mut out: Vec<JobIdentity> = Vec::new();
        // The identities already in `out` (a scan of `out` per identity was quadratic in
        // the runner entries, issue #9 C3).
        let mut seen: HashSet<Identity> = HashSet::new();
        // In windows, so that only a window's searches are held at once.
        for window in starts.chunks(if parallel { 256 } else { 1 }) {
            let found: Vec<Vec<runnerguard_engine::Reached>> = if parallel {
                window
                    .par_iter()
                    .map(|(start, _, _)| escalation.reach(start))
                    .collect()
            } else {
                window
                    .iter()
                    .map(|(start, _, _)| escalation.reach(start))
                    .collect()
            };
            for ((start, namespace, how), found) in window.iter().zip(found) {
                Self::add_job_identities(&mut out, &mut seen, start, namespace, how, found);
            }
        }
        out
    }

    /// Adds to `out` each of `found`, reached from `start`, not `seen` yet.
    fn add_job_identities(
        out: &mut Vec<JobIdentity>,
        seen: &mut HashSet<Identity>,
        start: &UserInfo,
        namespace: &str,
        how: &str,
        found: Vec<runnerguard_engine::Reached>,
    ) {
        for reached in found {
            if !seen.insert(reached.identity.clone()) {
                continue;
            }
            let user = if reached.path.is_empty() {
                start.clone()
            } else {
                reached.identity.user_info().unwrap_or_else(|| {
                    UserInfo::new(reached.identity.to_string(), Vec::<String>::new())
                })
            };
            out.push(JobIdentity {
                user,
                identity: reached.identity,
                namespace: namespace.to_owned(),
                how: how.to_owned(),
                path: reached.path,
            });
        }
    }

    /// Whether `identity` may perform `action`: `Some(grant)`, the grant `None` for identities
    /// that hold everything in scope.
    pub fn identity_allows(
        &self,
        identity: &Identity,
        action: &runnerguard_engine::Action,
    ) -> Option<Option<Grant>> {
        Escalation::allows_in(self.policy, identity, action)
    }

    /// `grant` resolved against the policy, as evidence data; the binding, role and rule are
    /// built once for every finding that names them.
    pub fn grant_path(&self, grant: &Grant) -> GrantPath {
        self.store().grants.path(self.policy, grant)
    }

    /// The binding and role objects of `grant`, each built once for the audit.
    pub fn grant_objects(
        &self,
        grant: &Grant,
    ) -> (
        Arc<runnerguard_model::ObjectRef>,
        Arc<runnerguard_model::ObjectRef>,
    ) {
        let grants = &self.store().grants;
        (
            grants.binding(self.policy, grant.binding),
            grants.role(self.policy, grant.role),
        )
    }

    /// A grant as evidence: [`Context::grant_path`].
    pub fn grant_evidence(&self, grant: &Grant) -> Evidence {
        Evidence::grant(self.grant_path(grant))
    }

    /// An escalation step resolved against the policy, as evidence data.
    pub fn escalation_step(&self, step: &Step) -> EscalationStep {
        EscalationStep::resolve(step, |g| self.grant_path(g))
    }

    /// An escalation step as evidence: [`Context::escalation_step`].
    pub fn escalation_evidence(&self, step: &Step) -> Evidence {
        Evidence::escalation(self.escalation_step(step))
    }

    /// Every `[[runners]]` entry of every runner configuration read, with its configuration.
    pub fn runner_entries(&self) -> impl Iterator<Item = (&RunnerConfig, &RunnerEntry)> {
        self.objects()
            .runner_configs
            .iter()
            .flat_map(|c| c.runners.iter().map(move |e| (c, e)))
    }
}

/// `ns/name`, or `name` without a namespace.
pub fn qualified(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}/{name}")
    }
}
