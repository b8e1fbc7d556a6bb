//! What every rule sees: the indexed policy, the topology, the executor's needs for the
//! target runner version, and the chart's keys; with the helpers rules share.

use std::cell::OnceCell;
use std::fmt::Write as _;

use runnerguard_engine::{Escalation, Grant, Identity, Policy, Step, UserInfo};
use runnerguard_model::{Inventory, Namespace, ObjectRef, RunnerConfig, RunnerEntry};

use crate::{ChartKeys, PermissionTable, Topology};

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
    /// How a job gets it, e.g. "the job pods' ServiceAccount token".
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
    job_identities: OnceCell<Vec<JobIdentity>>,
    /// [`Context::escalation`], built once for all rules (its caches are shared too).
    escalation: OnceCell<Escalation<'a>>,
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
            job_identities: OnceCell::new(),
            escalation: OnceCell::new(),
        }
    }

    /// The escalation analysis of the policy (`runnerguard paths`), built on first use and
    /// shared by every rule, with what it has already found.
    pub fn escalation(&self) -> &Escalation<'a> {
        self.escalation.get_or_init(|| Escalation::new(self.policy))
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
            .get_or_init(|| self.find_job_identities())
    }

    fn find_job_identities(&self) -> Vec<JobIdentity> {
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
        for (start, namespace, how) in starts {
            for reached in escalation.reach(&start) {
                if out.iter().any(|j| j.identity == reached.identity) {
                    continue;
                }
                let (user, how) = if reached.path.is_empty() {
                    (start.clone(), how.to_owned())
                } else {
                    let steps: Vec<String> = reached
                        .path
                        .iter()
                        .map(|s| format!("{} → {}", s.primitive.describe(), s.to))
                        .collect();
                    (
                        reached.identity.user_info().unwrap_or_else(|| {
                            UserInfo::new(reached.identity.to_string(), Vec::<String>::new())
                        }),
                        format!("{how}, then: {}", steps.join("; ")),
                    )
                };
                out.push(JobIdentity {
                    user,
                    identity: reached.identity,
                    namespace: namespace.clone(),
                    how,
                    path: reached.path,
                });
            }
        }
        out
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

    /// Every `[[runners]]` entry of every runner configuration read, with its configuration.
    pub fn runner_entries(&self) -> impl Iterator<Item = (&RunnerConfig, &RunnerEntry)> {
        self.objects()
            .runner_configs
            .iter()
            .flat_map(|c| c.runners.iter().map(move |e| (c, e)))
    }

    /// The Namespace object named `name`, when read.
    pub fn namespace(&self, name: &str) -> Option<&Namespace> {
        self.objects().namespaces.iter().find(|n| n.name == name)
    }

    /// The evidence path of a grant: binding → role → rule.
    pub fn grant_path(&self, grant: &Grant) -> Vec<String> {
        let b = self.policy.binding(grant.binding);
        let r = self.policy.role(grant.role);
        let mut rule = format!("rule {}: {}", grant.rule_index, self.policy.rule(grant));
        if let Some(src) = self.policy.rule_source(grant.role, grant.rule_index)
            && src.role != grant.role
        {
            let from = self.policy.role(src.role);
            let _ = write!(rule, " (aggregated from {} {})", from.kind, from.name);
        }
        vec![
            format!(
                "{} {} ({})",
                b.kind,
                qualified(&b.namespace, &b.name),
                b.origin
            ),
            format!(
                "{} {} ({})",
                r.kind,
                qualified(&r.namespace, &r.name),
                r.origin
            ),
            rule,
        ]
    }

    /// The binding and role objects of a grant, for a finding's `objects`.
    pub fn grant_objects(&self, grant: &Grant) -> [ObjectRef; 2] {
        [
            self.policy.binding(grant.binding).object_ref(),
            self.policy.role(grant.role).object_ref(),
        ]
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
