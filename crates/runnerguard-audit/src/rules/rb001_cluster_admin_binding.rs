//! RB001, and what the RB rules share ([`rbac`]).

use runnerguard_engine::{Grant, covers};
use runnerguard_model::{RoleKind, Subject, SubjectKind, split_service_account_user};

use self::rbac::{
    Groups, Scope, everyone_group, evidence, input_bindings, resolved_subject, star_rule, through,
};
use crate::{Context, Finding, Rule, RuleMeta, Severity, declare_rule};

declare_rule! {
    /// ## What it flags
    /// A RoleBinding or ClusterRoleBinding from the inputs that binds `cluster-admin`, or any
    /// role equivalent to it (one whose rules cover every verb on every resource of every API
    /// group, `*`/`*`/`*`), to a subject that is not part of the cluster itself. System
    /// subjects are users and groups named `system:...` and ServiceAccounts of `kube-system`;
    /// the groups that stand for everyone (`system:authenticated`, `system:unauthenticated`,
    /// `system:serviceaccounts[:<namespace>]`) are not system subjects and are flagged. One
    /// finding per subject and scope, listing the bindings.
    ///
    /// A ClusterRoleBinding is critical: full control of the cluster. A RoleBinding grants the
    /// same rules inside its namespace only: every Secret, workload, ServiceAccount and RBAC
    /// object there, so it is reported as high.
    ///
    /// Kubernetes' own default bindings (`cluster-admin` to `system:masters`) are not reported.
    ///
    /// ## Why it matters
    /// `*` on `*` is every permission that exists and every one added later by a CRD or an
    /// upgrade: reading every Secret, running pods as any ServiceAccount on any node, changing
    /// RBAC, admission webhooks and the nodes themselves. Whoever holds the subject's
    /// credentials, a person's kubeconfig or a pod's ServiceAccount token, owns the cluster.
    /// A CI identity bound to `cluster-admin` "to make deployments work" hands the cluster to
    /// every pipeline that runs with it.
    ///
    /// ## How to fix
    /// Bind a role that lists what the subject needs, in the namespaces where it needs it:
    /// `edit` or a purpose-built Role in a RoleBinding for deploy identities, `view` for people
    /// who look. Keep cluster administration for a few people, through a group, ideally with
    /// just-in-time access rather than a standing binding.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRoleBinding
    /// metadata: {name: ci-deployer-admin}
    /// subjects:
    /// - {kind: ServiceAccount, name: deployer, namespace: teams}
    /// roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
    /// ```
    pub(crate) struct ClusterAdminBinding {
        id: "RB001",
        name: "cluster-admin-binding",
        severity: Critical,
        summary: "`cluster-admin` (or an equivalent `*`/`*`/`*` role) is bound to a non-system subject",
        remediation: "bind a role that lists only what the subject needs, in the namespaces where it needs it",
    }
}

impl Rule for ClusterAdminBinding {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let star = [star_rule()];
        let mut groups: Groups<Scope> = Groups::default();
        for (id, binding) in input_bindings(cx) {
            let Ok(role_id) = cx.policy.binding_role(id) else {
                continue;
            };
            let role = cx.policy.role(role_id);
            // The rule that makes the role all-powerful; `cluster-admin` itself by name too, so
            // that a cluster which redefines it is still reported.
            let full = role
                .rules
                .iter()
                .position(|r| covers(std::slice::from_ref(r), &star).0);
            let named = is_cluster_admin(role);
            let Some(rule_index) = full.or_else(|| (named && !role.rules.is_empty()).then_some(0))
            else {
                continue;
            };
            let scope = Scope::of(binding);
            for (subject_index, s) in binding.subjects.iter().enumerate() {
                let Some(subject) = resolved_subject(s, binding) else {
                    continue;
                };
                if is_system(&subject) {
                    continue;
                }
                let grant = Grant {
                    binding: id,
                    subject_index,
                    role: role_id,
                    rule_index,
                };
                groups.add(subject, scope.clone(), grant, None);
            }
        }
        for (subject, scope, group) in groups {
            let reach = match &scope {
                Scope::Cluster => "full control of the cluster".to_owned(),
                Scope::Namespace(ns) => format!(
                    "full control of namespace `{ns}`: every Secret, workload, ServiceAccount and Role there"
                ),
            };
            let who = if subject.kind == "Group" {
                everyone_group(&subject.name)
                    .map(|w| format!(" ({w})"))
                    .unwrap_or_default()
            } else {
                String::new()
            };
            let via = through(cx, &group.grants);
            let message = format!(
                "{subject}{who} holds every permission {scope} (`*` on `*`, as `cluster-admin`) through {via}: {reach}"
            );
            let mut f = Finding::new(self.meta(), message).remediation(format!(
                "remove {subject} from {via}, and bind a role that lists only what it needs"
            ));
            if scope != Scope::Cluster {
                f = f.severity(Severity::High);
            }
            out.push(evidence(cx, f, &group.grants));
        }
    }
}

/// Whether a role is the ClusterRole `cluster-admin`.
fn is_cluster_admin(role: &runnerguard_model::Role) -> bool {
    role.kind == RoleKind::ClusterRole && role.name == "cluster-admin"
}

/// Whether a subject is part of the cluster itself: `system:` users and groups (but not the
/// groups that stand for everyone, nor the anonymous user) and ServiceAccounts of
/// `kube-system`.
fn is_system(subject: &Subject) -> bool {
    match SubjectKind::parse(&subject.kind) {
        Some(SubjectKind::ServiceAccount) => subject.namespace == "kube-system",
        Some(SubjectKind::User) => {
            if let Some((ns, _)) = split_service_account_user(&subject.name) {
                return ns == "kube-system";
            }
            subject.name.starts_with("system:") && subject.name != "system:anonymous"
        }
        Some(SubjectKind::Group) => {
            subject.name.starts_with("system:") && everyone_group(&subject.name).is_none()
        }
        None => false,
    }
}

pub(super) mod rbac {
    //! What the RB rules share: which bindings count (those from the inputs, never Kubernetes'
    //! own defaults), subjects as the authorizer resolves them, the requests a rule asks the
    //! engine about ([`Probe`]), findings grouped by subject and primitive ([`Groups`]), the
    //! ServiceAccounts a subject can become and which of them is strongest ([`Accounts`]),
    //! and the wording of scopes, bindings and evidence.
    //!
    //! Every RBAC question goes to the engine: [`rule_allows`] for one rule and one request,
    //! `Policy::authorize` for an identity, `Policy::rules_for` for what it holds. Names from
    //! `resourceNames` are only used to ask the matcher about those names.

    use std::collections::{BTreeMap, BTreeSet, HashMap};
    use std::fmt;
    use std::hash::Hash;

    use runnerguard_engine::{
        Action, BindingId, Grant, Policy, RoleId, UserInfo, covers, rule_allows,
    };
    use runnerguard_model::{
        Binding, BindingKind, PolicyRule, Subject, SubjectKind, service_account_user,
    };

    use crate::rules::support::and_list;
    use crate::{Context, Finding, qualified};

    /// Where a binding grants its role: everywhere (a ClusterRoleBinding) or in one namespace.
    #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub(in crate::rules) enum Scope {
        /// A ClusterRoleBinding: every namespace, and cluster-scoped resources.
        Cluster,
        /// A RoleBinding: its namespace.
        Namespace(String),
    }

    impl Scope {
        /// The scope of `binding`.
        pub(in crate::rules) fn of(binding: &Binding) -> Self {
            match binding.kind {
                BindingKind::ClusterRoleBinding => Self::Cluster,
                BindingKind::RoleBinding => Self::Namespace(binding.namespace.clone()),
            }
        }

        /// The namespace a request in this scope carries: empty cluster-wide.
        pub(in crate::rules) fn namespace(&self) -> &str {
            match self {
                Self::Cluster => "",
                Self::Namespace(ns) => ns,
            }
        }
    }

    impl fmt::Display for Scope {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Self::Cluster => f.write_str("cluster-wide"),
                Self::Namespace(ns) => write!(f, "in namespace `{ns}`"),
            }
        }
    }

    /// The bindings read from the inputs: Kubernetes' default bindings are in every cluster and
    /// are never reported (a user binding to a default *role* is).
    pub(in crate::rules) fn input_bindings<'p>(
        cx: &Context<'p>,
    ) -> impl Iterator<Item = (BindingId, &'p Binding)> + 'p {
        let policy: &'p Policy = cx.policy;
        policy
            .bindings()
            .iter()
            .enumerate()
            .filter(|(_, b)| !b.origin.is_builtin())
    }

    /// A binding's subject as the authorizer resolves it: a ServiceAccount's empty namespace
    /// taken from the RoleBinding; the ignored `apiGroup`, and a User's or Group's namespace,
    /// dropped. `None` for subjects that match nobody (unknown kinds, a ServiceAccount without
    /// namespace in a ClusterRoleBinding).
    pub(in crate::rules) fn resolved_subject(
        subject: &Subject,
        binding: &Binding,
    ) -> Option<Subject> {
        let kind = SubjectKind::parse(&subject.kind)?;
        let mut out = Subject::new(kind.as_str(), &subject.name);
        if kind == SubjectKind::ServiceAccount {
            let ns = match (subject.namespace.as_str(), binding.kind) {
                ("", BindingKind::RoleBinding) => binding.namespace.as_str(),
                ("", BindingKind::ClusterRoleBinding) => return None,
                (ns, _) => ns,
            };
            ns.clone_into(&mut out.namespace);
        }
        Some(out)
    }

    /// The identity the API server builds for a resolved subject: a ServiceAccount's user
    /// with its groups; a user with `system:authenticated`; a member of a group (and of
    /// `system:authenticated`, unless the group is `system:unauthenticated`).
    pub(in crate::rules) fn identity(subject: &Subject) -> Option<UserInfo> {
        match SubjectKind::parse(&subject.kind)? {
            SubjectKind::ServiceAccount => Some(UserInfo::impersonated(
                &service_account_user(&subject.namespace, &subject.name),
                &[],
            )),
            SubjectKind::User => Some(UserInfo::impersonated(&subject.name, &[])),
            SubjectKind::Group => {
                let mut groups = vec![subject.name.clone()];
                if subject.name != "system:unauthenticated"
                    && subject.name != "system:authenticated"
                {
                    groups.push("system:authenticated".to_owned());
                }
                Some(UserInfo::new("", groups))
            }
        }
    }

    /// Who a group stands for when authentication gives it to everyone of a kind:
    /// `system:authenticated`, `system:unauthenticated`, `system:serviceaccounts` and
    /// `system:serviceaccounts:<namespace>`. `None` for any other group.
    pub(in crate::rules) fn everyone_group(name: &str) -> Option<String> {
        match name {
            "system:authenticated" => Some(
                "every authenticated user: every person and every ServiceAccount token".to_owned(),
            ),
            "system:unauthenticated" => {
                Some("anonymous requests: anyone who can reach the API server".to_owned())
            }
            "system:serviceaccounts" => {
                Some("every ServiceAccount of every namespace: any pod's token".to_owned())
            }
            _ => name
                .strip_prefix("system:serviceaccounts:")
                .filter(|ns| !ns.is_empty())
                .map(|ns| {
                    format!("every ServiceAccount of namespace `{ns}`: any pod's token there")
                }),
        }
    }

    /// The `*`/`*`/`*` rule: what `cluster-admin` holds.
    pub(in crate::rules) fn star_rule() -> PolicyRule {
        PolicyRule {
            verbs: vec!["*".to_owned()],
            api_groups: vec!["*".to_owned()],
            resources: vec!["*".to_owned()],
            ..PolicyRule::default()
        }
    }

    /// A name no object has (object names cannot hold NUL): a rule that allows a request
    /// for it allows any name.
    const ANY_NAME: &str = "\u{0}any";

    /// A request a rule asks the engine about; the namespace comes from the binding and the
    /// name from the rule's `resourceNames`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(in crate::rules) struct Probe {
        /// The verb.
        pub(in crate::rules) verb: &'static str,
        /// The API group; empty for the core group.
        pub(in crate::rules) group: &'static str,
        /// The resource.
        pub(in crate::rules) resource: &'static str,
        /// The subresource, or empty.
        pub(in crate::rules) subresource: &'static str,
        /// Whether the request carries a namespace, so that a RoleBinding can grant it.
        pub(in crate::rules) namespaced: bool,
        /// Whether the request names an object, so that `resourceNames` can restrict it.
        pub(in crate::rules) named: bool,
    }

    impl Probe {
        /// A namespaced request without a name (create, list, watch).
        pub(in crate::rules) const fn new(
            verb: &'static str,
            group: &'static str,
            resource: &'static str,
            subresource: &'static str,
        ) -> Self {
            Self {
                verb,
                group,
                resource,
                subresource,
                namespaced: true,
                named: false,
            }
        }

        /// The same request without a namespace (a cluster-scoped resource, or a check the
        /// API server makes without one): only ClusterRoleBindings grant it.
        pub(in crate::rules) const fn cluster(self) -> Self {
            Self {
                namespaced: false,
                ..self
            }
        }

        /// The same request naming an object (get, update, patch, delete, subresources).
        pub(in crate::rules) const fn named(self) -> Self {
            Self {
                named: true,
                ..self
            }
        }

        /// The request in `namespace` on the object `name`.
        pub(in crate::rules) fn action(&self, namespace: &str, name: &str) -> Action {
            let namespace = if self.namespaced { namespace } else { "" };
            Action::resource(
                self.verb,
                namespace,
                self.group,
                self.resource,
                self.subresource,
                name,
            )
        }

        /// The request for any object: no name, or for a named request a name no object has
        /// (so that only a rule without `resourceNames` allows it).
        pub(in crate::rules) fn any(&self) -> Action {
            self.action("", if self.named { ANY_NAME } else { "" })
        }

        /// `resource` or `resource/subresource`.
        pub(in crate::rules) fn combined(&self) -> String {
            if self.subresource.is_empty() {
                self.resource.to_owned()
            } else {
                format!("{}/{}", self.resource, self.subresource)
            }
        }

        /// The request as a single permission, restricted to `names` when not empty (the
        /// shape `describe` reads).
        pub(in crate::rules) fn perm(&self, names: &[String]) -> PolicyRule {
            PolicyRule {
                verbs: vec![self.verb.to_owned()],
                api_groups: vec![self.group.to_owned()],
                resources: vec![self.combined()],
                resource_names: names.to_vec(),
                ..PolicyRule::default()
            }
        }
    }

    /// What a rule allows of a request: any object, or only some names.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub(in crate::rules) enum Reach {
        /// Any object (for an unnamed request: the request itself).
        Any,
        /// Only these objects (`resourceNames`).
        Names(Vec<String>),
    }

    impl Reach {
        /// The names it is restricted to; empty for any.
        pub(in crate::rules) fn names(&self) -> &[String] {
            match self {
                Self::Any => &[],
                Self::Names(n) => n,
            }
        }
    }

    /// What `rule` allows of `probe`, as the engine's matcher answers it (the namespace is not
    /// a rule's business: which bindings apply decides it). `any` is the probe's request for
    /// any object ([`Probe::any`]), built once by the caller.
    pub(in crate::rules) fn reach(rule: &PolicyRule, probe: &Probe, any: &Action) -> Option<Reach> {
        if rule_allows(rule, any) {
            return Some(Reach::Any);
        }
        if !probe.named {
            return None;
        }
        let names: Vec<String> = rule
            .resource_names
            .iter()
            .filter(|n| rule_allows(rule, &probe.action("", n)))
            .cloned()
            .collect();
        (!names.is_empty()).then_some(Reach::Names(names))
    }

    /// One request an input binding's role allows in the binding's scope.
    #[derive(Clone, Debug)]
    pub(in crate::rules) struct Hit {
        /// The binding.
        pub(in crate::rules) binding: BindingId,
        /// Its role.
        pub(in crate::rules) role: RoleId,
        /// The allowing rule.
        pub(in crate::rules) rule_index: usize,
        /// The request.
        pub(in crate::rules) probe: Probe,
        /// What of it the rule allows.
        pub(in crate::rules) reach: Reach,
    }

    impl Hit {
        /// The grant, for the binding's subject `subject_index`.
        pub(in crate::rules) fn grant(&self, subject_index: usize) -> Grant {
            Grant {
                binding: self.binding,
                subject_index,
                role: self.role,
                rule_index: self.rule_index,
            }
        }
    }

    /// [`input_hits`], grouped by subject and scope (cluster-wide or one namespace).
    pub(in crate::rules) fn hits_by_scope(cx: &Context<'_>, probes: &[Probe]) -> Groups<Scope> {
        let mut groups: Groups<Scope> = Groups::default();
        for hit in input_hits(cx, probes) {
            let scope = Scope::of(cx.policy.binding(hit.binding));
            groups.add_hit(cx, &hit, &scope);
        }
        groups
    }

    /// Every `probes` request that an input binding's role allows where the binding applies
    /// (a RoleBinding never grants a request without a namespace). Per binding and request:
    /// the first rule allowing any object, else every rule allowing some names.
    pub(in crate::rules) fn input_hits(cx: &Context<'_>, probes: &[Probe]) -> Vec<Hit> {
        let anys: Vec<Action> = probes.iter().map(Probe::any).collect();
        // Many bindings share a role: what a role allows is worked out once.
        let mut by_role: HashMap<RoleId, Vec<Vec<(usize, Reach)>>> = HashMap::new();
        let mut out = Vec::new();
        for (binding, b) in input_bindings(cx) {
            let Ok(role) = cx.policy.binding_role(binding) else {
                continue;
            };
            let scope = Scope::of(b);
            let per_probe = by_role.entry(role).or_insert_with(|| {
                let rules = &cx.policy.role(role).rules;
                probes
                    .iter()
                    .zip(&anys)
                    .map(|(probe, any)| {
                        let reaches: Vec<(usize, Reach)> = rules
                            .iter()
                            .enumerate()
                            .filter_map(|(i, r)| reach(r, probe, any).map(|x| (i, x)))
                            .collect();
                        match reaches.iter().find(|(_, r)| *r == Reach::Any) {
                            Some(first) => vec![first.clone()],
                            None => reaches,
                        }
                    })
                    .collect()
            });
            for (probe, reaches) in probes.iter().zip(per_probe.iter()) {
                if !probe.namespaced && scope != Scope::Cluster {
                    continue;
                }
                out.extend(reaches.iter().map(|(rule_index, reach)| Hit {
                    binding,
                    role,
                    rule_index: *rule_index,
                    probe: *probe,
                    reach: reach.clone(),
                }));
            }
        }
        out
    }

    /// What one subject holds of one primitive: the grants, and the single permissions.
    #[derive(Clone, Debug, Default)]
    pub(in crate::rules) struct Group {
        /// The grants, in the order found, without repeats.
        pub(in crate::rules) grants: Vec<Grant>,
        /// The single permissions (one verb, one resource), without repeats.
        pub(in crate::rules) perms: Vec<PolicyRule>,
    }

    /// Findings-to-be, grouped by subject and primitive `K`: one finding each, listing the
    /// bindings that give it. Iterates sorted by subject, then by key.
    pub(in crate::rules) struct Groups<K> {
        /// Hashed while collecting (inventories have 100k bindings); sorted once at the end.
        map: HashMap<(Subject, K), Group>,
    }

    impl<K> Default for Groups<K> {
        fn default() -> Self {
            Self {
                map: HashMap::new(),
            }
        }
    }

    impl<K: Ord + Hash> Groups<K> {
        /// Records that `subject` holds primitive `key` through `grant`, with the single
        /// permission `perm` when there is one to show.
        pub(in crate::rules) fn add(
            &mut self,
            subject: Subject,
            key: K,
            grant: Grant,
            perm: Option<PolicyRule>,
        ) {
            let g = self.map.entry((subject, key)).or_default();
            if !g
                .grants
                .iter()
                .any(|a| a.binding == grant.binding && a.rule_index == grant.rule_index)
            {
                g.grants.push(grant);
            }
            if let Some(p) = perm
                && !g.perms.contains(&p)
            {
                g.perms.push(p);
            }
        }

        /// Records `hit` under `key` for every subject of its binding that matches someone.
        pub(in crate::rules) fn add_hit(&mut self, cx: &Context<'_>, hit: &Hit, key: &K)
        where
            K: Clone,
        {
            let b = cx.policy.binding(hit.binding);
            let perm = hit.probe.perm(hit.reach.names());
            for (i, s) in b.subjects.iter().enumerate() {
                if let Some(subject) = resolved_subject(s, b) {
                    self.add(subject, key.clone(), hit.grant(i), Some(perm.clone()));
                }
            }
        }
    }

    impl<K: Ord> IntoIterator for Groups<K> {
        type Item = (Subject, K, Group);
        type IntoIter = std::vec::IntoIter<(Subject, K, Group)>;

        fn into_iter(self) -> Self::IntoIter {
            let mut all: Vec<(Subject, K, Group)> =
                self.map.into_iter().map(|((s, k), g)| (s, k, g)).collect();
            all.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
            all.into_iter()
        }
    }

    /// The distinct bindings of `grants` with their roles:
    /// `RoleBinding teams/ci (ClusterRole edit) and ClusterRoleBinding ops (ClusterRole admin)`.
    pub(in crate::rules) fn through(cx: &Context<'_>, grants: &[Grant]) -> String {
        let mut seen: Vec<BindingId> = Vec::new();
        let mut parts = Vec::new();
        for g in grants {
            if seen.contains(&g.binding) {
                continue;
            }
            seen.push(g.binding);
            let b = cx.policy.binding(g.binding);
            let r = cx.policy.role(g.role);
            parts.push(format!(
                "{} {} ({} {})",
                b.kind,
                qualified(&b.namespace, &b.name),
                r.kind,
                r.name
            ));
        }
        and_list(&parts)
    }

    /// Adds the evidence of `grants` to `f`: per binding, binding → role → each allowing
    /// rule; and the binding and role objects.
    pub(in crate::rules) fn evidence(
        cx: &Context<'_>,
        mut f: Finding,
        grants: &[Grant],
    ) -> Finding {
        let mut bindings: Vec<BindingId> = Vec::new();
        for g in grants {
            if !bindings.contains(&g.binding) {
                bindings.push(g.binding);
            }
        }
        for b in bindings {
            let mut rules: Vec<usize> = Vec::new();
            for g in grants.iter().filter(|g| g.binding == b) {
                let path = cx.grant_path(g);
                if rules.is_empty() {
                    for step in path.iter().take(2) {
                        f = f.step(step.clone());
                    }
                    for o in cx.grant_objects(g) {
                        f = f.object(o);
                    }
                }
                if !rules.contains(&g.rule_index) {
                    rules.push(g.rule_index);
                    if let Some(step) = path.get(2) {
                        f = f.step(step.clone());
                    }
                }
            }
        }
        f
    }

    /// The ServiceAccounts known from the inputs and the rules each holds through input
    /// bindings: what makes a ServiceAccount worth becoming. Built once per check; the
    /// ranking of a scope is computed once and reused for every subject reaching it.
    pub(in crate::rules) struct Accounts<'p> {
        policy: &'p Policy,
        /// Namespaces of input RoleBindings, by the user or group name a subject stands for.
        bound_in: BTreeMap<(SubjectKind, String), BTreeSet<&'p str>>,
        /// The ServiceAccounts known, by namespace.
        known: BTreeMap<String, BTreeSet<Subject>>,
        /// Per scope, the ServiceAccounts with rules from input bindings, strongest first.
        ranked: BTreeMap<Scope, Vec<Strongest>>,
        /// Whether a rule (role, index) is `*` on `*`: many ServiceAccounts share roles.
        full: HashMap<(RoleId, usize), bool>,
    }

    /// A ServiceAccount a subject can become, and what it holds.
    #[derive(Clone, Debug)]
    pub(in crate::rules) struct Strongest {
        /// The ServiceAccount (a resolved subject).
        pub(in crate::rules) account: Subject,
        /// Its grants from input bindings.
        pub(in crate::rules) grants: Vec<Grant>,
        /// The first grant that is `*` on `*`, if any.
        pub(in crate::rules) full: Option<Grant>,
    }

    impl<'p> Accounts<'p> {
        /// Indexes the ServiceAccounts of `cx`: those read, the job pods' (from the
        /// topology), the ServiceAccount subjects of every binding, and the `default` of every
        /// namespace seen (every namespace has one); and the input RoleBindings by subject.
        pub(in crate::rules) fn new(cx: &Context<'p>) -> Self {
            let mut accounts = Self::of_policy(cx.policy);
            for job in &cx.topology.jobs {
                let sa = Subject::service_account(&job.namespace, &job.service_account);
                accounts
                    .known
                    .entry(sa.namespace.clone())
                    .or_default()
                    .insert(sa);
            }
            accounts
        }

        /// [`Accounts::new`] without the job pods' ServiceAccounts: what the policy alone
        /// makes known.
        fn of_policy(policy: &'p Policy) -> Self {
            let mut bound_in: BTreeMap<(SubjectKind, String), BTreeSet<&'p str>> = BTreeMap::new();
            let mut known: BTreeMap<String, BTreeSet<Subject>> = BTreeMap::new();
            let mut add = |sa: Subject| {
                known.entry(sa.namespace.clone()).or_default().insert(sa);
            };
            for sa in policy.service_accounts() {
                add(Subject::service_account(&sa.namespace, &sa.name));
            }
            for ns in policy.namespaces() {
                add(Subject::service_account(&ns.name, "default"));
            }
            for b in policy.bindings() {
                if b.kind == BindingKind::RoleBinding {
                    add(Subject::service_account(&b.namespace, "default"));
                }
                for s in &b.subjects {
                    if let Some(r) = resolved_subject(s, b)
                        && r.kind == "ServiceAccount"
                    {
                        add(Subject::service_account(&r.namespace, "default"));
                        add(r);
                    }
                }
                if b.origin.is_builtin() || b.kind != BindingKind::RoleBinding {
                    continue;
                }
                for s in &b.subjects {
                    let key = match SubjectKind::parse(&s.kind) {
                        Some(SubjectKind::Group) => (SubjectKind::Group, s.name.clone()),
                        Some(SubjectKind::User) => (SubjectKind::User, s.name.clone()),
                        Some(SubjectKind::ServiceAccount) => {
                            let Some(user) = s.service_account_user(&b.namespace) else {
                                continue;
                            };
                            (SubjectKind::User, user)
                        }
                        None => continue,
                    };
                    bound_in
                        .entry(key)
                        .or_default()
                        .insert(b.namespace.as_str());
                }
            }
            Self {
                policy,
                bound_in,
                known,
                ranked: BTreeMap::new(),
                full: HashMap::new(),
            }
        }

        /// In [`crate::run_all`], the state shared across setups when this setup's job pods
        /// run as ServiceAccounts the policy makes known anyway: then [`Accounts::new`] is the
        /// same under this setup as under any other such setup, and so are the findings of
        /// rules that depend on the setup only through it. `None` outside `run_all`, or when
        /// the setup adds a ServiceAccount.
        pub(in crate::rules) fn same_for_every_setup<'c>(
            cx: &Context<'c>,
        ) -> Option<&'c crate::context::Shared<'c>> {
            let shared = cx.shared()?;
            let policy: &'c Policy = cx.policy;
            let known = shared.policy_accounts.get_or_init(|| {
                Accounts::of_policy(policy)
                    .known
                    .into_values()
                    .flatten()
                    .collect()
            });
            cx.topology
                .jobs
                .iter()
                .all(|j| {
                    known.contains(&Subject::service_account(&j.namespace, &j.service_account))
                })
                .then_some(shared)
        }

        /// The ServiceAccounts known in `scope` (every namespace for [`Scope::Cluster`]),
        /// sorted.
        pub(in crate::rules) fn known(&self, scope: &Scope) -> Vec<&Subject> {
            match scope {
                Scope::Cluster => self.known.values().flatten().collect(),
                Scope::Namespace(ns) => self.known.get(ns).into_iter().flatten().collect(),
            }
        }

        /// Every rule `user` holds through input bindings: cluster-wide, then per namespace.
        fn grants(&self, user: &UserInfo) -> Vec<Grant> {
            let mut scopes: BTreeSet<&str> = BTreeSet::new();
            scopes.insert("");
            let keys = std::iter::once((SubjectKind::User, user.name.clone()))
                .chain(user.groups.iter().map(|g| (SubjectKind::Group, g.clone())));
            for key in keys {
                if let Some(ns) = self.bound_in.get(&key) {
                    scopes.extend(ns.iter().copied());
                }
            }
            let mut out = Vec::new();
            for ns in scopes {
                for e in self.policy.rules_for(user, ns).rules {
                    let b = self.policy.binding(e.grant.binding);
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

        /// Ranks the ServiceAccounts of `scope` that hold rules through input bindings,
        /// strongest first: one with `*` on `*`, then the most rules, then by name. Once per
        /// scope; [`Accounts::strongest`] reads the ranking.
        pub(in crate::rules) fn rank(&mut self, scope: &Scope) {
            if self.ranked.contains_key(scope) {
                return;
            }
            let star = [star_rule()];
            let mut list: Vec<Strongest> = Vec::new();
            // The field, not `known()`: `self.full` is updated meanwhile.
            let known: Vec<&Subject> = match scope {
                Scope::Cluster => self.known.values().flatten().collect(),
                Scope::Namespace(ns) => self.known.get(ns).into_iter().flatten().collect(),
            };
            for account in known {
                let Some(user) = identity(account) else {
                    continue;
                };
                let grants = self.grants(&user);
                if grants.is_empty() {
                    continue;
                }
                let policy = self.policy;
                let full = grants
                    .iter()
                    .find(|g| {
                        *self.full.entry((g.role, g.rule_index)).or_insert_with(|| {
                            covers(std::slice::from_ref(policy.rule(g)), &star).0
                        })
                    })
                    .cloned();
                list.push(Strongest {
                    account: account.clone(),
                    grants,
                    full,
                });
            }
            list.sort_by(|a, b| {
                (b.full.is_some(), b.grants.len())
                    .cmp(&(a.full.is_some(), a.grants.len()))
                    .then_with(|| a.account.cmp(&b.account))
            });
            self.ranked.insert(scope.clone(), list);
        }

        /// The ServiceAccounts of `scope` that hold rules through input bindings (ranked by
        /// [`Accounts::rank`] first).
        pub(in crate::rules) fn with_rights(
            &self,
            scope: &Scope,
        ) -> impl Iterator<Item = &Subject> {
            self.ranked
                .get(scope)
                .into_iter()
                .flatten()
                .map(|s| &s.account)
        }

        /// The strongest ServiceAccount of `scope` (ranked by [`Accounts::rank`] first) other
        /// than `subject` that `accept`s; `None` when none holds rules through input bindings.
        pub(in crate::rules) fn strongest(
            &self,
            scope: &Scope,
            subject: &Subject,
            accept: impl Fn(&Subject) -> bool,
        ) -> Option<&Strongest> {
            self.ranked
                .get(scope)?
                .iter()
                .find(|s| s.account != *subject && accept(&s.account))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::rg105_job_token_exposed::testing::run;

    const JOBS: &[(&str, &str, Option<bool>)] = &[("teams", "ci-job", Some(false))];

    fn binding(kind: &str, ns: &str, subject: &str, role: &str) -> String {
        let ns = if ns.is_empty() {
            String::new()
        } else {
            format!(", namespace: {ns}")
        };
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata: {{name: b{ns}}}\nsubjects: [{subject}]\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}\n"
        )
    }

    #[test]
    fn cluster_admin_to_a_person_is_critical_and_system_subjects_are_not_reported() {
        let yaml = binding(
            "ClusterRoleBinding",
            "",
            "{kind: User, name: alice}",
            "cluster-admin",
        );
        let out = run(&ClusterAdminBinding, &yaml, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].severity, Severity::Critical);
        assert!(
            out[0].message.starts_with("User alice holds"),
            "{}",
            out[0].message
        );

        for subject in [
            "{kind: User, name: system:kube-controller-manager}",
            "{kind: ServiceAccount, name: x, namespace: kube-system}",
            "{kind: ServiceAccount, name: nobody}",
        ] {
            let yaml = binding("ClusterRoleBinding", "", subject, "cluster-admin");
            assert!(
                run(&ClusterAdminBinding, &yaml, JOBS).is_empty(),
                "{subject}"
            );
        }
    }

    #[test]
    fn everyone_groups_are_not_system_subjects() {
        let yaml = binding(
            "ClusterRoleBinding",
            "",
            "{kind: Group, name: system:authenticated}",
            "cluster-admin",
        );
        let out = run(&ClusterAdminBinding, &yaml, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0].message.contains("every authenticated user"),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn rolebinding_is_high_and_names_the_namespace() {
        let yaml = binding(
            "RoleBinding",
            "teams",
            "{kind: ServiceAccount, name: deployer}",
            "cluster-admin",
        );
        let out = run(&ClusterAdminBinding, &yaml, JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].severity, Severity::High);
        assert!(
            out[0].message.starts_with(
                "ServiceAccount teams/deployer holds every permission in namespace `teams`"
            ),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn default_bindings_are_never_reported() {
        assert!(run(&ClusterAdminBinding, "", JOBS).is_empty());
    }

    #[test]
    fn resource_names_are_asked_of_the_matcher() {
        use self::rbac::{Probe, Reach, reach};
        let rule = runnerguard_model::PolicyRule {
            verbs: vec!["create".into()],
            api_groups: vec![String::new()],
            resources: vec!["serviceaccounts/token".into()],
            resource_names: vec!["deployer".into()],
            ..Default::default()
        };
        let probe = Probe::new("create", "", "serviceaccounts", "token").named();
        assert_eq!(
            reach(&rule, &probe, &probe.any()),
            Some(Reach::Names(vec!["deployer".into()]))
        );
        let any = runnerguard_model::PolicyRule {
            resource_names: Vec::new(),
            ..rule
        };
        assert_eq!(reach(&any, &probe, &probe.any()), Some(Reach::Any));
        // `pods/*` is literal: it allows no subresource.
        let literal = runnerguard_model::PolicyRule {
            resources: vec!["serviceaccounts/*".into()],
            ..any
        };
        assert_eq!(reach(&literal, &probe, &probe.any()), None);
    }
}
