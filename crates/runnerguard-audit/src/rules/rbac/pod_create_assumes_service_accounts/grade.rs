//! How strong a ServiceAccount that a pod can run as is: what it reaches through the
//! escalation graph (cluster-admin, Secrets, another identity) or the rights it holds, and
//! how that reads.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use runnerguard_engine::{Action, Escalation, Grant, Identity, Primitive, Reached, Step};
use runnerguard_model::Subject;

use crate::rules::rbac::{Accounts, Scope, identity, resolved_subject};
use crate::{Context, Evidence, Finding};

/// How far the rights of a ServiceAccount reach, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Power {
    /// Rights beyond what every identity gets, but neither Secrets nor escalation.
    Rights,
    /// Secrets read, or an escalation to another identity (a role it binds, a user it
    /// impersonates, a token it mints, ...).
    Secrets,
    /// Every permission in the cluster.
    ClusterAdmin,
}

/// A ServiceAccount a pod can run as, graded by what it reaches.
#[derive(Clone, Debug)]
pub(super) struct Graded {
    /// The ServiceAccount.
    pub(super) account: Subject,
    /// What it reaches.
    pub(super) power: Power,
    /// Whether its rights come from Kubernetes' default bindings (a kube-system controller).
    default_bound: bool,
    /// Why, in words (empty for [`Power::Rights`], which the ranking words).
    why: String,
    /// The escalation steps, from the ServiceAccount.
    path: Vec<Step>,
    /// The grant that shows the power when it is the ServiceAccount's own (Secrets read).
    grant: Option<Grant>,
}

/// How graded ServiceAccounts compare: the most power, then the shortest way to it.
pub(super) type Rank = (Power, std::cmp::Reverse<usize>);

impl Graded {
    /// How it compares with others.
    pub(super) fn rank(&self) -> Rank {
        (self.power, std::cmp::Reverse(self.path.len()))
    }
}

/// Steps that take an identity beyond the ServiceAccounts of the namespaces it already
/// writes pods in: Secrets, token minting, role binding and writing, impersonation, the
/// kubelet, admission, certificates, `*`.
const ESCALATING: [Primitive; 11] = [
    Primitive::ReadSecrets,
    Primitive::WriteSecrets,
    Primitive::TokenRequest,
    Primitive::Bind,
    Primitive::Escalate,
    Primitive::Impersonate,
    Primitive::NodeProxy,
    Primitive::AdmissionControl,
    Primitive::CsrApproval,
    Primitive::Everything,
    Primitive::Superuser,
];

/// Grades ServiceAccounts once per check: many subjects reach the same ones.
pub(super) struct Grader<'c, 'p> {
    cx: &'c Context<'p>,
    escalation: &'c Escalation<'p>,
    /// ServiceAccounts named as subjects by Kubernetes' default bindings (the controllers in
    /// kube-system): they exist in every cluster and hold the rights those bindings give.
    default_named: BTreeSet<Subject>,
    /// The ServiceAccounts the escalation graph knows, by namespace: asked once per subject
    /// and scope, so indexed once (inventories have 10k namespaces).
    by_namespace: BTreeMap<String, BTreeSet<Subject>>,
}

/// What each ServiceAccount graded reaches.
pub(super) struct Grades<'s>(HashMap<&'s Subject, Option<Graded>>);

impl Grades<'_> {
    /// What `account` reaches, as [`Grader::grade_all`] found it (`None` when it holds
    /// nothing beyond what every identity gets and no input binding names it, or when it
    /// was not graded).
    pub(super) fn graded(&self, account: &Subject) -> Option<&Graded> {
        self.0.get(account).and_then(Option::as_ref)
    }
}

impl<'c, 'p> Grader<'c, 'p> {
    pub(super) fn new(cx: &'c Context<'p>, escalation: &'c Escalation<'p>) -> Self {
        let mut default_named = BTreeSet::new();
        for b in cx
            .policy
            .bindings()
            .iter()
            .filter(|b| b.origin.is_builtin())
        {
            for s in &b.subjects {
                if let Some(r) = resolved_subject(s, b)
                    && r.kind == "ServiceAccount"
                {
                    default_named.insert(r);
                }
            }
        }
        let mut by_namespace: BTreeMap<String, BTreeSet<Subject>> = BTreeMap::new();
        for (ns, name) in escalation.service_accounts() {
            by_namespace
                .entry(ns.to_owned())
                .or_default()
                .insert(Subject::service_account(ns, name));
        }
        Self {
            cx,
            escalation,
            default_named,
            by_namespace,
        }
    }

    /// The ServiceAccounts a pod in `scope` can run as: those the escalation graph knows
    /// (read, named by any binding, default bindings included, and `default`) and those
    /// `accounts` knows (the job pods').
    pub(super) fn candidates<'s>(
        &'s self,
        accounts: &'s Accounts<'_>,
        scope: &Scope,
    ) -> BTreeSet<&'s Subject> {
        let mut out: BTreeSet<&Subject> = accounts.known(scope).into_iter().collect();
        match scope {
            Scope::Cluster => out.extend(self.by_namespace.values().flatten()),
            Scope::Namespace(ns) => out.extend(self.by_namespace.get(ns).into_iter().flatten()),
        }
        out
    }

    /// Grades each of `accounts`, on every core (a cluster-wide scope has every
    /// ServiceAccount of the inventory as a candidate: issue #13); `input_rights` tells
    /// whether input bindings give one rules.
    pub(super) fn grade_all<'s>(
        &self,
        accounts: &[&'s Subject],
        input_rights: impl Fn(&Subject) -> bool + Sync,
    ) -> Grades<'s> {
        use rayon::prelude::*;
        Grades(
            accounts
                .par_iter()
                .map(|&a| (a, self.work_out(a, input_rights(a))))
                .collect(),
        )
    }

    fn work_out(&self, account: &Subject, input_rights: bool) -> Option<Graded> {
        let user = identity(account)?;
        let default_bound = self.default_named.contains(account);
        let reached = self.escalation.reach(&user);
        let graded = |power, why: String, path: Vec<Step>, grant| Graded {
            account: account.clone(),
            power,
            default_bound,
            why,
            path,
            grant,
        };
        if let Some(r) = reached
            .iter()
            .find(|r| r.identity == Identity::ClusterAdmin)
        {
            return Some(graded(
                Power::ClusterAdmin,
                format!("can become cluster-admin: {}", steps_text(&r.path)),
                r.path.clone(),
                None,
            ));
        }
        let escalates = |r: &&Reached| {
            !matches!(
                r.identity,
                Identity::ServiceAccount { .. } | Identity::AnyServiceAccount
            ) || r.path.iter().any(|s| ESCALATING.contains(&s.primitive))
        };
        if let Some(r) = reached.iter().find(escalates) {
            let reads = r
                .path
                .iter()
                .find(|s| ESCALATING.contains(&s.primitive))
                .is_some_and(|s| s.primitive == Primitive::ReadSecrets);
            let what = if reads {
                "can read Secrets"
            } else {
                "can escalate"
            };
            return Some(graded(
                Power::Secrets,
                format!("{what}: {}", steps_text(&r.path)),
                r.path.clone(),
                None,
            ));
        }
        // Secrets read by the ServiceAccount itself or one it becomes, where its bindings
        // apply (the escalation graph turns only token Secrets into edges).
        for r in &reached {
            let Some(u) = r.identity.user_info() else {
                continue;
            };
            let (namespaces, cluster) = self.cx.policy.binding_scopes(&u);
            let scopes = namespaces.into_iter().chain(cluster.then_some(""));
            for ns in scopes {
                let read = Action::resource("get", ns, "", "secrets", "", "");
                let d = self.cx.policy.authorize(&u, &read);
                if !d.allowed {
                    continue;
                }
                let where_ = if ns.is_empty() {
                    "in every namespace".to_owned()
                } else {
                    format!("in namespace `{ns}`")
                };
                let who = if r.path.is_empty() {
                    String::new()
                } else {
                    format!(" as {} ({})", r.identity, steps_text(&r.path))
                };
                return Some(graded(
                    Power::Secrets,
                    format!("can read Secrets {where_}{who}"),
                    r.path.clone(),
                    d.grants.into_iter().next(),
                ));
            }
        }
        (input_rights || default_bound)
            .then(|| graded(Power::Rights, String::new(), Vec::new(), None))
    }
}

/// `step → identity; step → identity`.
fn steps_text(path: &[Step]) -> String {
    path.iter()
        .map(|s| format!("{} → {}", s.primitive.describe(), s.to))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `the strongest reachable is ServiceAccount kube-system/x (...), which can become ...`.
pub(super) fn graded_text(g: &Graded) -> String {
    let origin = if g.default_bound {
        " (a controller that Kubernetes' default bindings give rights in every cluster)"
    } else {
        ""
    };
    if g.power == Power::Rights {
        format!(
            "the strongest reachable is {}{origin}, holding the rights those bindings give",
            g.account
        )
    } else {
        format!(
            "the strongest reachable is {}{origin}, which {}",
            g.account, g.why
        )
    }
}

/// Adds to `f` how the strongest ServiceAccount reached gets its power: each escalation step
/// with the grant it rests on, or the grant that lets it read Secrets.
pub(super) fn graded_evidence(cx: &Context<'_>, mut f: Finding, g: &Graded) -> Finding {
    let mut under = Vec::new();
    for step in &g.path {
        // The first permission of each step says enough: the others are alternatives.
        let mut e = cx.escalation_step(step);
        e.permissions.truncate(1);
        if let Some(p) = step.permissions.first() {
            f = f.grant_objects(cx, &p.grant);
        }
        under.push(Evidence::Escalation(Box::new(e)));
    }
    if let Some(grant) = &g.grant {
        under.push(cx.grant_evidence(grant));
        f = f.grant_objects(cx, grant);
    }
    f.evidence(Evidence::fact_under(
        format!("strongest reachable: {}", g.account),
        under,
    ))
}
