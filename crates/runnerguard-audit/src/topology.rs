//! The runner topology: where the manager runs and as whom, where jobs run and as whom.
//!
//! Worked out from the inputs (flags first, then the chart's Deployment, runner TOML, Helm
//! values, and last the RBAC itself), with a note of the evidence for each fact, so the report
//! can say what it assumed.

use std::collections::{HashMap, HashSet};
use std::fmt;

use runnerguard_engine::{Action, Policy, UserInfo};
use runnerguard_model::{BindingKind, Inventory, RunnerConfigSource, SettingValue, Workload};
use serde::Serialize;

/// Topology facts given on the command line; each overrides what the inputs say.
#[derive(Clone, Debug, Default)]
pub struct TopologyOptions {
    /// `--runner-namespace`.
    pub runner_namespace: Option<String>,
    /// `--runner-service-account`.
    pub runner_service_account: Option<String>,
    /// `--job-namespace` (repeatable).
    pub job_namespaces: Vec<String>,
    /// `--job-service-account`.
    pub job_service_account: Option<String>,
    /// `--release-namespace`: the Helm release's namespace when only values are read
    /// (default `gitlab-runner`).
    pub release_namespace: Option<String>,
}

impl TopologyOptions {
    /// Whether a flag names the manager or the job namespaces.
    pub fn has_flags(&self) -> bool {
        self.runner_namespace.is_some()
            || self.runner_service_account.is_some()
            || !self.job_namespaces.is_empty()
    }
}

/// Whether the inputs hold a GitLab Runner on Kubernetes to check: a topology flag, chart
/// values, a runner manager Deployment, or a runner configuration with the Kubernetes
/// executor. RBAC of other applications alone is not a runner, and the runner rules have
/// nothing to check there.
pub fn has_runner(objects: &Inventory, options: &TopologyOptions) -> bool {
    options.has_flags()
        || !objects.helm_values.is_empty()
        || manager_deployment(objects).is_some()
        || objects.runner_configs.iter().any(|c| {
            c.runners.iter().any(|e| {
                e.executor.as_deref() == Some("kubernetes")
                    || (e.executor.is_none() && e.kubernetes_origin.is_some())
            })
        })
}

/// Where jobs of one runner run, and as whom.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JobTarget {
    /// The job namespace.
    pub namespace: String,
    /// The job pods' ServiceAccount (`default` when the runner sets none).
    pub service_account: String,
    /// `automount_service_account_token`, when set.
    pub automount_token: Option<bool>,
}

/// One fact of the topology and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The fact; written as its sentence (``job namespace `teams` ``).
    pub fact: Fact,
    /// Where it came from: a flag, `file:line`, or an assumption.
    pub source: String,
}

/// A fact of the topology, as data: rules match on it, reports write its
/// [`fmt::Display`] sentence, which is also its JSON form.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fact {
    /// The manager runs in this namespace.
    ManagerNamespace(String),
    /// The manager runs as this ServiceAccount.
    ManagerServiceAccount {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// Jobs run in this namespace, as this ServiceAccount when the source names one.
    JobNamespace {
        /// The job namespace.
        namespace: String,
        /// The job pods' ServiceAccount, when the source names it.
        service_account: Option<String>,
    },
    /// The chart version the setup is checked against.
    Chart(String),
    /// The GitLab Runner version the setup is checked against (`major.minor`).
    Runner(String),
}

impl Fact {
    /// The job namespace this fact names, if it names one.
    pub fn job_namespace(&self) -> Option<&str> {
        match self {
            Self::JobNamespace { namespace, .. } => Some(namespace),
            _ => None,
        }
    }
}

impl fmt::Display for Fact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ManagerNamespace(ns) => write!(f, "manager namespace `{ns}`"),
            Self::ManagerServiceAccount { namespace, name } => {
                write!(f, "manager ServiceAccount `{namespace}/{name}`")
            }
            Self::JobNamespace {
                namespace,
                service_account: None,
            } => write!(f, "job namespace `{namespace}`"),
            Self::JobNamespace {
                namespace,
                service_account: Some(sa),
            } => write!(f, "job namespace `{namespace}`, job ServiceAccount `{sa}`"),
            Self::Chart(version) => write!(f, "chart {version}"),
            Self::Runner(version) => write!(f, "GitLab Runner {version}"),
        }
    }
}

impl Serialize for Fact {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The runner topology the audit checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Topology {
    /// The manager's namespace.
    pub manager_namespace: String,
    /// The manager's ServiceAccount (in its namespace).
    pub manager_service_account: String,
    /// Where jobs run, one entry per distinct namespace and ServiceAccount.
    pub jobs: Vec<JobTarget>,
    /// How each fact was decided.
    pub evidence: Vec<Evidence>,
    /// The Helm values files (indexes into the inventory's `helm_values`) of this topology's
    /// release; `None` when it is the topology of everything read. A rule that reports on a
    /// values file and words it with the topology does so under its own release only.
    #[serde(skip)]
    pub values: Option<Vec<usize>>,
}

impl Topology {
    /// Whether values file `index` belongs to this topology's release.
    pub fn has_values(&self, index: usize) -> bool {
        self.values.as_ref().is_none_or(|v| v.contains(&index))
    }
}

/// The namespace Helm installs into when nothing says otherwise.
const DEFAULT_RELEASE_NAMESPACE: &str = "gitlab-runner";
/// The chart's ServiceAccount name for a release called `gitlab-runner`.
const DEFAULT_MANAGER_SA: &str = "gitlab-runner";

impl Topology {
    /// The job namespaces, each once, in order.
    pub fn job_namespaces(&self) -> Vec<&str> {
        let mut seen: HashSet<&str> = HashSet::new();
        self.jobs
            .iter()
            .map(|j| j.namespace.as_str())
            .filter(|ns| seen.insert(ns))
            .collect()
    }

    /// The manager's identity, as the API server sees its token.
    pub fn manager(&self) -> UserInfo {
        UserInfo::impersonated(
            &runnerguard_model::service_account_user(
                &self.manager_namespace,
                &self.manager_service_account,
            ),
            &[],
        )
    }

    /// Works the topology out from `policy`'s objects and `options`.
    pub fn discover(policy: &Policy, options: &TopologyOptions) -> Self {
        Self::discover_in(policy, policy.objects(), options)
    }

    /// One topology per runner release: each Helm values file read is a release of its own
    /// (a tenant of a multi-tenant setup: its manager ServiceAccount, its job namespaces), and
    /// so is each runner manager Deployment of rendered manifests (`helm template` of two
    /// releases) that runs as a ServiceAccount of its own. With topology flags, or with one
    /// release at most, the single topology of [`Topology::discover`].
    pub fn discover_all(policy: &Policy, options: &TopologyOptions) -> Vec<Self> {
        let objects = policy.objects();
        let flags = options.has_flags();
        if !flags && objects.helm_values.is_empty() && objects.releases.is_empty() {
            let releases = manager_releases(objects);
            if releases.len() > 1 {
                return releases
                    .iter()
                    .map(|release| Self {
                        values: Some(Vec::new()),
                        ..Self::discover_in(policy, release, options)
                    })
                    .collect();
            }
        }
        if flags || (objects.helm_values.len() <= 1 && objects.releases.len() <= 1) {
            return vec![Self::discover(policy, options)];
        }
        if !objects.releases.is_empty() {
            // Values rendered with the chart: each release's own Deployment, ConfigMap and
            // values.
            return objects
                .releases
                .iter()
                .map(|r| {
                    let mut release = r.objects.clone();
                    release.helm_values = r
                        .values
                        .iter()
                        .filter_map(|&i| objects.helm_values.get(i).cloned())
                        .collect();
                    Self {
                        values: Some(r.values.clone()),
                        ..Self::discover_in(policy, &release, options)
                    }
                })
                .collect();
        }
        objects
            .helm_values
            .iter()
            .enumerate()
            .map(|(i, values)| {
                let release = Inventory {
                    helm_values: vec![values.clone()],
                    runner_configs: values.runner_config.clone().into_iter().collect(),
                    ..Inventory::default()
                };
                Self {
                    values: Some(vec![i]),
                    ..Self::discover_in(policy, &release, options)
                }
            })
            .collect()
    }

    /// [`Topology::discover`] from the runner objects of `objects` (RBAC from `policy`).
    fn discover_in(policy: &Policy, objects: &Inventory, options: &TopologyOptions) -> Self {
        let mut evidence = Vec::new();
        let mut note = |fact: Fact, source: String| evidence.push(Evidence { fact, source });

        let deployment = manager_deployment(objects);
        let values = objects.helm_values.first();
        let values_namespace = values.and_then(|v| v.get("namespace")).and_then(|s| {
            s.value
                .as_str()
                .map(|n| (n.to_owned(), s.origin.to_string()))
        });

        let release_namespace = options
            .release_namespace
            .clone()
            .map(|n| (n, "flag --release-namespace".to_owned()))
            .or_else(|| {
                deployment.map(|d| (d.object.namespace.clone(), d.object.origin.to_string()))
            })
            .or(values_namespace)
            .unwrap_or_else(|| {
                (
                    DEFAULT_RELEASE_NAMESPACE.to_owned(),
                    "assumed: Helm release namespace (set --release-namespace)".to_owned(),
                )
            });

        let (manager_namespace, source) = match &options.runner_namespace {
            Some(n) => (n.clone(), "flag --runner-namespace".to_owned()),
            None => release_namespace.clone(),
        };
        note(Fact::ManagerNamespace(manager_namespace.clone()), source);

        let (manager_service_account, source) = match &options.runner_service_account {
            Some(n) => (n.clone(), "flag --runner-service-account".to_owned()),
            None => deployment
                .map(|d| (d.service_account.clone(), d.object.origin.to_string()))
                .or_else(|| {
                    values
                        .and_then(|v| v.get("serviceAccount.name"))
                        .and_then(|s| s.value.as_str().map(|n| (n.to_owned(), s.origin.to_string())))
                })
                .unwrap_or_else(|| {
                    (
                        DEFAULT_MANAGER_SA.to_owned(),
                        "assumed: the chart's ServiceAccount for release `gitlab-runner` (set --runner-service-account)"
                            .to_owned(),
                    )
                }),
        };
        note(
            Fact::ManagerServiceAccount {
                namespace: manager_namespace.clone(),
                name: manager_service_account.clone(),
            },
            source,
        );

        let mut jobs = Vec::new();
        let job_sa_flag = options.job_service_account.as_deref();
        if options.job_namespaces.is_empty() {
            jobs_from_config(
                objects,
                &release_namespace.0,
                job_sa_flag,
                &mut jobs,
                &mut note,
            );
        } else {
            for ns in &options.job_namespaces {
                jobs.push(JobTarget {
                    namespace: ns.clone(),
                    service_account: job_sa_flag.unwrap_or("default").to_owned(),
                    automount_token: None,
                });
                note(job_fact(ns, None), "flag --job-namespace".to_owned());
            }
        }
        if jobs.is_empty() {
            let manager = UserInfo::impersonated(
                &runnerguard_model::service_account_user(
                    &manager_namespace,
                    &manager_service_account,
                ),
                &[],
            );
            for ns in pod_namespaces(policy, &manager) {
                note(
                    job_fact(&ns, None),
                    "inferred: the manager may create pods there (no runner configuration read)"
                        .to_owned(),
                );
                jobs.push(JobTarget {
                    namespace: ns,
                    service_account: job_sa_flag.unwrap_or("default").to_owned(),
                    automount_token: None,
                });
            }
        }
        if jobs.is_empty() {
            note(
                job_fact(&manager_namespace, None),
                "assumed: nothing says where jobs run, and the chart's fallback is the release namespace".to_owned(),
            );
            jobs.push(JobTarget {
                namespace: manager_namespace.clone(),
                service_account: job_sa_flag.unwrap_or("default").to_owned(),
                automount_token: None,
            });
        }
        // One entry per distinct target, in first-seen order (runner entries that share a
        // namespace need not be neighbours).
        let mut seen = std::collections::HashSet::new();
        jobs.retain(|j| {
            seen.insert((
                j.namespace.clone(),
                j.service_account.clone(),
                j.automount_token,
            ))
        });
        Self {
            manager_namespace,
            manager_service_account,
            jobs,
            evidence,
            values: None,
        }
    }
}

fn job_fact(namespace: &str, service_account: Option<&str>) -> Fact {
    Fact::JobNamespace {
        namespace: namespace.to_owned(),
        service_account: service_account.map(str::to_owned),
    }
}

/// The runner manager's Deployment: a workload running the gitlab-runner image, or setting
/// the runner's environment.
fn manager_deployment(objects: &Inventory) -> Option<&Workload> {
    objects.workloads.iter().find(|w| is_manager(w))
}

fn is_manager(w: &Workload) -> bool {
    w.containers.iter().any(|c| {
        c.image.contains("gitlab-runner") && !c.image.contains("gitlab-runner-helper")
            || c.env.iter().any(|e| e.name == "RUNNER_EXECUTOR")
    })
}

/// The release of each manager identity (namespace and ServiceAccount) of rendered manifests,
/// in input order (two replicas' Deployments of one release are one manager, two releases'
/// are two): its manager workloads and the runner configurations of the ConfigMaps they
/// mount, with every configuration no manager mounts (a `config.toml` file, a ConfigMap of
/// another name), which each manager may read. A ConfigMap that managers of two identities
/// mount is neither's. One pass over the workloads and one over the configurations.
fn manager_releases(objects: &Inventory) -> Vec<Inventory> {
    let mut releases: Vec<Inventory> = Vec::new();
    let mut by_identity: HashMap<(&str, &str), usize> = HashMap::new();
    // The release mounting each (namespace, ConfigMap); `None` when several do.
    let mut mounted_by: HashMap<(&str, &str), Option<usize>> = HashMap::new();
    for w in objects.workloads.iter().filter(|w| is_manager(w)) {
        let namespace = w.object.namespace.as_str();
        let r = *by_identity
            .entry((namespace, w.service_account.as_str()))
            .or_insert_with(|| {
                releases.push(Inventory::default());
                releases.len() - 1
            });
        if let Some(release) = releases.get_mut(r) {
            release.workloads.push(w.clone());
        }
        for name in &w.config_map_volumes {
            mounted_by
                .entry((namespace, name.as_str()))
                .and_modify(|owner| {
                    if *owner != Some(r) {
                        *owner = None;
                    }
                })
                .or_insert(Some(r));
        }
    }
    for config in &objects.runner_configs {
        let mount = match &config.source {
            RunnerConfigSource::ConfigMap {
                namespace, name, ..
            } => mounted_by
                .get(&(namespace.as_str(), name.as_str()))
                .copied(),
            RunnerConfigSource::File | RunnerConfigSource::HelmValues => None,
        };
        match mount {
            None => {
                for release in &mut releases {
                    release.runner_configs.push(config.clone());
                }
            }
            Some(Some(r)) => {
                if let Some(release) = releases.get_mut(r) {
                    release.runner_configs.push(config.clone());
                }
            }
            Some(None) => {}
        }
    }
    releases
}

/// Job targets from runner configurations: `namespace` and `service_account` of each
/// `[runners.kubernetes]`, with the chart's fallbacks when they are not set.
fn jobs_from_config(
    objects: &Inventory,
    release_namespace: &str,
    job_sa_flag: Option<&str>,
    jobs: &mut Vec<JobTarget>,
    note: &mut impl FnMut(Fact, String),
) {
    for config in &objects.runner_configs {
        for entry in &config.runners {
            if entry.executor.as_deref().is_some_and(|e| e != "kubernetes") {
                continue;
            }
            let (namespace, source) = match entry.kube("namespace") {
                // The chart renders `runners.config` with `tpl`: its own default line is
                // `{{ default .Release.Namespace .Values.runners.jobNamespace }}`.
                Some(s) if s.value.as_str().is_some_and(|n| n.contains("{{")) => {
                    let job_namespace = objects
                        .helm_values
                        .iter()
                        .find_map(|v| v.get("runners.jobNamespace"))
                        .and_then(|j| j.value.as_str())
                        .filter(|j| !j.is_empty());
                    let text = s.value.as_str().unwrap_or_default();
                    let is_default_line = text.contains(".Values.runners.jobNamespace");
                    match job_namespace.filter(|_| is_default_line) {
                        Some(j) => (
                            j.to_owned(),
                            format!("{} (templated: `runners.jobNamespace`)", s.origin),
                        ),
                        None => (
                            release_namespace.to_owned(),
                            format!(
                                "{} (templated `{text}`: assumed to render as the release namespace)",
                                s.origin
                            ),
                        ),
                    }
                }
                Some(s) if s.value.as_str().is_some_and(|n| !n.is_empty()) => (
                    s.value.as_str().unwrap_or_default().to_owned(),
                    s.origin.to_string(),
                ),
                _ => {
                    let why = match config.source {
                        RunnerConfigSource::File => {
                            "`namespace` not set in config.toml: assumed the manager's namespace"
                        }
                        _ => {
                            "`namespace` not set in the chart's runner config: the chart sets KUBERNETES_NAMESPACE to the release namespace"
                        }
                    };
                    (
                        release_namespace.to_owned(),
                        format!("{} ({why})", entry.origin),
                    )
                }
            };
            let service_account = job_sa_flag
                .map(str::to_owned)
                .or_else(|| {
                    entry
                        .kube("service_account")
                        .and_then(|s| s.value.as_str())
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| "default".to_owned());
            let automount_token =
                entry
                    .kube("automount_service_account_token")
                    .and_then(|s| match s.value {
                        SettingValue::Bool(b) => Some(b),
                        _ => None,
                    });
            note(job_fact(&namespace, Some(&service_account)), source);
            jobs.push(JobTarget {
                namespace,
                service_account,
                automount_token,
            });
        }
    }
    // Values without `runners.config`: the chart's default config runs jobs in
    // `runners.jobNamespace`, else the release namespace.
    if jobs.is_empty()
        && let Some(values) = objects
            .helm_values
            .iter()
            .find(|v| v.runner_config.is_none())
    {
        let (namespace, source) = values
            .get("runners.jobNamespace")
            .and_then(|s| s.value.as_str().map(|n| (n.to_owned(), s.origin.to_string())))
            .unwrap_or_else(|| {
                (
                    release_namespace.to_owned(),
                    format!(
                        "{} (no `runners.config`: the chart's default config uses `runners.jobNamespace`, else the release namespace)",
                        values.origin
                    ),
                )
            });
        note(job_fact(&namespace, None), source);
        jobs.push(JobTarget {
            namespace,
            service_account: job_sa_flag.unwrap_or("default").to_owned(),
            automount_token: None,
        });
    }
}

/// The namespaces where `user` may create pods through a RoleBinding, in binding order.
fn pod_namespaces(policy: &Policy, user: &UserInfo) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // Each namespace asked once (the answer does not change from binding to binding).
    let mut asked: HashSet<&str> = HashSet::new();
    for b in policy.bindings() {
        if b.kind != BindingKind::RoleBinding || !asked.insert(b.namespace.as_str()) {
            continue;
        }
        let action = Action::resource("create", &b.namespace, "", "pods", "", "");
        if policy.authorize(user, &action).allowed {
            out.push(b.namespace.clone());
        }
    }
    out
}
