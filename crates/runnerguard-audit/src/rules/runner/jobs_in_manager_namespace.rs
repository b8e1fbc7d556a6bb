//! RG101 `jobs-in-manager-namespace`: CI jobs run in the runner manager's namespace.

use runnerguard_engine::Action;

use crate::{Context, Evidence, Finding, Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it flags
    /// A job namespace that is the runner manager's own namespace: the runner configuration's
    /// `namespace` (or, when it sets none, the chart's fallback to the release namespace) is
    /// where the manager runs.
    ///
    /// ## Why it matters
    /// CI jobs run code that anyone who can push to a project wrote. Next to the manager they
    /// share its namespace with the runner token Secret and with the manager's own
    /// ServiceAccount, whose rights let it start pods as any ServiceAccount there and read its
    /// Secrets. One job that reaches them registers rogue runners or reads every later job's
    /// secrets. Pod Security and NetworkPolicies written for the manager do not fit jobs either.
    ///
    /// ## How to fix
    /// Run jobs in a namespace of their own: set `namespace = "teams"` under
    /// `[runners.kubernetes]` in the chart's `runners.config` (and `runners.jobNamespace:
    /// teams` for the chart's own RBAC), and bind the executor Role there, not in the
    /// manager's namespace.
    ///
    /// ## Example
    /// ```yaml
    /// runners:
    ///   config: |
    ///     [[runners]]
    ///       [runners.kubernetes]
    ///         namespace = "gitlab-runner"   # the release namespace: flagged
    /// ```
    pub(crate) struct JobsInManagerNamespace {
        id: "RG101",
        name: "jobs-in-manager-namespace",
        severity: Critical,
        summary: "CI jobs run in the runner manager's namespace",
        remediation: "set `namespace` under [runners.kubernetes] to a job namespace of its own, and bind the executor Role there",
    }
}

impl Rule for JobsInManagerNamespace {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ns = &cx.topology.manager_namespace;
        if !cx.topology.jobs.iter().any(|j| &j.namespace == ns) {
            return;
        }
        let mut f = Finding::new(
            self.meta(),
            format!(
                "CI jobs run in `{ns}`, the runner manager's namespace, next to its token and its ServiceAccount"
            ),
        );
        for e in cx.job_evidence(ns) {
            f = f.fact(format!("{}: {}", e.fact, e.source));
        }
        for s in cx
            .objects()
            .secrets
            .iter()
            .filter(|s| &s.object.namespace == ns)
        {
            f = f
                .object(s.object.clone())
                .fact(format!("Secret `{ns}/{}` lives there", s.object.name));
        }
        // Who among the job pods' identities and the manager may read Secrets there.
        let read = Action::resource("get", ns, "", "secrets", "", "");
        let mut who = cx.job_identities().to_vec();
        who.push(crate::JobIdentity {
            user: cx.manager(),
            identity: runnerguard_engine::Identity::of(&cx.manager()),
            namespace: ns.clone(),
            how: "the manager's ServiceAccount, which starts every job pod".to_owned(),
            path: Vec::new(),
        });
        for id in who {
            let decision = cx.policy.authorize(&id.user, &read);
            if let Some(g) = decision.grants.first() {
                let how = if id.path.is_empty() {
                    id.how.clone()
                } else {
                    format!("{}, through the escalation below", id.how)
                };
                let mut under: Vec<Evidence> =
                    id.path.iter().map(|s| cx.escalation_evidence(s)).collect();
                under.push(cx.grant_evidence(g));
                f = f
                    .evidence(Evidence::fact_under(
                        format!("{} ({how}) may get Secrets in `{ns}`", id.user.name),
                        under,
                    ))
                    .grant_objects(cx, g);
            }
        }
        if let Some(n) = cx.namespace(ns) {
            f = f.object(n.object_ref());
        }
        out.push(f);
    }
}
