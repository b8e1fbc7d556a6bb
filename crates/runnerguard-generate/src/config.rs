//! The validated configuration: what [`crate::generate`] builds from.
//!
//! A [`Config`] exists only once every check of [`crate::parse_config`] passed (or as
//! [`default_config`]), so the generator never meets a name Kubernetes would reject, a
//! tenant that could reach another, or a quantity it cannot compare.

use crate::RunnerVersion;

/// The chart version `generate` writes values for: the default release
/// ([`runnerguard_model::versions::DEFAULT_CHART`]).
pub const CHART_VERSION: &str = runnerguard_model::versions::DEFAULT_CHART.version;

/// The runner version that chart installs (its appVersion): the default target.
pub const DEFAULT_RUNNER_VERSION: RunnerVersion =
    RunnerVersion::parse_const(runnerguard_model::versions::DEFAULT_CHART.app_version);

/// A validated runnerguard configuration: the manager's namespace and GitLab, the versions
/// targeted, and the tenants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub(crate) manager_namespace: String,
    pub(crate) gitlab_url: String,
    pub(crate) runner_version: RunnerVersion,
    pub(crate) chart_version: String,
    pub(crate) tenants: Vec<Tenant>,
}

impl Config {
    /// The namespaces the setup creates, or relabels if they exist, with Pod Security labels:
    /// the manager namespace, then per tenant its job namespace and the deploy namespaces
    /// marked `create = true`; each once, in the order the setup writes them.
    pub fn created_namespaces(&self) -> Vec<&str> {
        let mut out = vec![self.manager_namespace.as_str()];
        for t in &self.tenants {
            for ns in t.created_namespaces() {
                if !out.contains(&ns) {
                    out.push(ns);
                }
            }
        }
        out
    }

    /// The deploy namespaces the setup does not create (no tenant marks them `create = true`):
    /// it only adds RBAC there, and they must exist before it is applied. Each once, in
    /// configuration order (issue #8: shared namespaces such as `monitoring` keep their own
    /// labels).
    pub fn existing_namespaces(&self) -> Vec<&str> {
        let created = self.created_namespaces();
        let mut out: Vec<&str> = Vec::new();
        for t in &self.tenants {
            for ns in &t.deploy_namespaces {
                if !created.contains(&ns.as_str()) && !out.contains(&ns.as_str()) {
                    out.push(ns);
                }
            }
        }
        out
    }

    /// The namespace every runner manager runs in.
    pub fn manager_namespace(&self) -> &str {
        &self.manager_namespace
    }

    /// The GitLab instance the runners register with.
    pub fn gitlab_url(&self) -> &str {
        &self.gitlab_url
    }

    /// The GitLab Runner version targeted.
    pub fn runner_version(&self) -> RunnerVersion {
        self.runner_version
    }

    /// The gitlab-runner Helm chart version targeted.
    pub fn chart_version(&self) -> &str {
        &self.chart_version
    }

    /// The tenants, in configuration order.
    pub fn tenants(&self) -> &[Tenant] {
        &self.tenants
    }
}

/// One tenant: a runner (Helm release and manager ServiceAccount) whose jobs run in a
/// namespace of their own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    pub(crate) name: String,
    pub(crate) job_namespace: String,
    pub(crate) deploy_namespaces: Vec<String>,
    /// The deploy namespaces marked `create = true`, other than the job namespace: a subset
    /// of `deploy_namespaces`, in its order.
    pub(crate) created_deploy_namespaces: Vec<String>,
    pub(crate) job_service_account: String,
    pub(crate) deploy: bool,
    pub(crate) deployer_service_account: String,
    pub(crate) manager_service_account: String,
    pub(crate) token_secret: String,
    pub(crate) developer_groups: Vec<String>,
    pub(crate) developer_job_access: JobAccess,
    pub(crate) developer_deploy_access: DeployAccess,
    pub(crate) pod_security: PodSecurityLevel,
    pub(crate) image: String,
    pub(crate) allowed_images: Vec<String>,
    pub(crate) allowed_services: Vec<String>,
    pub(crate) concurrent: u32,
    pub(crate) executor_features: Vec<ExecutorFeature>,
    pub(crate) resources: Resources,
    pub(crate) security: JobSecurity,
    pub(crate) quota: Quota,
}

impl Tenant {
    /// The tenant's name (also its directory in the output).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where its CI jobs run.
    pub fn job_namespace(&self) -> &str {
        &self.job_namespace
    }

    /// Where its CI jobs may deploy (empty when they do not deploy).
    pub fn deploy_namespaces(&self) -> &[String] {
        &self.deploy_namespaces
    }

    /// Whether the setup creates (and labels) deploy namespace `namespace` for this tenant:
    /// it is the job namespace, or marked `create = true`. Any other deploy namespace is
    /// expected to exist and only gets RBAC.
    pub fn creates_namespace(&self, namespace: &str) -> bool {
        namespace == self.job_namespace
            || self
                .created_deploy_namespaces
                .iter()
                .any(|n| n == namespace)
    }

    /// The namespaces the setup creates for this tenant, with its Pod Security level: the job
    /// namespace, then the deploy namespaces marked `create = true`.
    pub fn created_namespaces(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.job_namespace.as_str())
            .chain(self.created_deploy_namespaces.iter().map(String::as_str))
    }

    /// The ServiceAccount its job pods run as (no rights, no token).
    pub fn job_service_account(&self) -> &str {
        &self.job_service_account
    }

    /// The deploy identity CI jobs get, when they deploy.
    pub fn deployer_service_account(&self) -> Option<&str> {
        self.deploy
            .then_some(self.deployer_service_account.as_str())
    }

    /// Its runner manager's ServiceAccount, in the manager namespace; also the Helm release
    /// name.
    pub fn manager_service_account(&self) -> &str {
        &self.manager_service_account
    }

    /// The Secret (in the manager namespace) holding the runner's authentication token.
    pub fn token_secret(&self) -> &str {
        &self.token_secret
    }

    /// The Pod Security level enforced in its job namespace.
    pub fn pod_security(&self) -> PodSecurityLevel {
        self.pod_security
    }
}

/// What the tenant's developer groups get in the job namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobAccess {
    /// Nothing.
    None,
    /// The `view` ClusterRole: no Secrets, no exec.
    View,
    /// `view`, plus exec, attach and logs of job pods. Exposes every running pipeline's CI
    /// variables to the group (the audit's RG114 reports it): only when asked for.
    Debug,
}

/// What the tenant's developer groups get in its deploy namespaces (other than the job
/// namespace).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeployAccess {
    /// Nothing.
    None,
    /// The `view` ClusterRole.
    View,
    /// `view`, and the deployer's rights on workload kinds (a Role: unlike `edit`, no Secrets,
    /// no impersonation of ServiceAccounts, no tokens).
    Deploy,
}

/// A Pod Security Standard level for a tenant's namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodSecurityLevel {
    /// No privileged containers, host namespaces or hostPath volumes.
    Baseline,
    /// Baseline, and non-root, all capabilities dropped, a seccomp profile (runner 18.11+).
    Restricted,
}

impl PodSecurityLevel {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Baseline => "baseline",
            Self::Restricted => "restricted",
        }
    }
}

/// An optional executor feature: each adds the permission rows the executor permission
/// table lists for it to the executor Role (and, where the runner needs it, a TOML key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExecutorFeature {
    /// Jobs whose image or services declare `ports:` (a Service per port).
    Ports,
    /// `FF_PRINT_POD_EVENTS`: pod events streamed into the job log.
    PodEvents,
    /// `FF_KUBERNETES_HONOR_ENTRYPOINT`, `CI_DEBUG_SERVICES`, `FF_WAIT_FOR_POD_TO_BE_REACHABLE`:
    /// container logs read through `pods/log`.
    ContainerLogs,
    /// The ServiceAccount existence check before each job
    /// (`resource_availability_check_max_attempts`).
    ServiceAccountCheck,
    /// A `PodDisruptionBudget` per job pod (`pod_disruption_budget`, runner 18.10+).
    PodDisruptionBudget,
}

impl ExecutorFeature {
    /// Every feature, in order.
    pub const ALL: [Self; 5] = [
        Self::Ports,
        Self::PodEvents,
        Self::ContainerLogs,
        Self::ServiceAccountCheck,
        Self::PodDisruptionBudget,
    ];

    /// The name `executor_features` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ports => "ports",
            Self::PodEvents => "pod_events",
            Self::ContainerLogs => "container_logs",
            Self::ServiceAccountCheck => "service_account_check",
            Self::PodDisruptionBudget => "pod_disruption_budget",
        }
    }

    /// Whether a `feature` of the executor permission table belongs to this feature.
    pub(crate) fn matches_row(self, feature: &str) -> bool {
        match self {
            Self::Ports => feature.contains("declare ports"),
            Self::PodEvents => feature == "FF_PRINT_POD_EVENTS",
            Self::ContainerLogs => feature.starts_with("FF_KUBERNETES_HONOR_ENTRYPOINT"),
            Self::ServiceAccountCheck => {
                feature.contains("resource_availability_check_max_attempts")
            }
            Self::PodDisruptionBudget => feature == "pod_disruption_budget",
        }
    }
}

/// CPU and memory requests and limits of one kind of job container (quantities as
/// written).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerResources {
    /// CPU request, e.g. `250m`.
    pub cpu_request: String,
    /// CPU limit.
    pub cpu_limit: String,
    /// Memory request, e.g. `256Mi`.
    pub memory_request: String,
    /// Memory limit.
    pub memory_limit: String,
}

impl ContainerResources {
    fn new(cpu_request: &str, cpu_limit: &str, memory_request: &str, memory_limit: &str) -> Self {
        Self {
            cpu_request: cpu_request.to_owned(),
            cpu_limit: cpu_limit.to_owned(),
            memory_request: memory_request.to_owned(),
            memory_limit: memory_limit.to_owned(),
        }
    }
}

/// Resources of the job pod's containers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resources {
    /// The build container.
    pub build: ContainerResources,
    /// The helper container (and the init-permissions container).
    pub helper: ContainerResources,
    /// Each service container.
    pub service: ContainerResources,
}

impl Default for Resources {
    fn default() -> Self {
        Self {
            build: ContainerResources::new("250m", "500m", "256Mi", "512Mi"),
            helper: ContainerResources::new("100m", "250m", "128Mi", "256Mi"),
            service: ContainerResources::new("100m", "500m", "128Mi", "512Mi"),
        }
    }
}

/// The job pod's security context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobSecurity {
    /// `run_as_non_root`.
    pub run_as_non_root: bool,
    /// `run_as_user`.
    pub run_as_user: Option<i64>,
    /// `run_as_group`.
    pub run_as_group: Option<i64>,
    /// `fs_group`.
    pub fs_group: Option<i64>,
}

impl Default for JobSecurity {
    fn default() -> Self {
        Self {
            run_as_non_root: true,
            run_as_user: Some(1000),
            run_as_group: Some(1000),
            fs_group: Some(1000),
        }
    }
}

/// The job namespace's ResourceQuota.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quota {
    /// Pods at once.
    pub pods: u32,
    /// Sum of CPU requests.
    pub requests_cpu: String,
    /// Sum of memory requests.
    pub requests_memory: String,
    /// Sum of CPU limits.
    pub limits_cpu: String,
    /// Sum of memory limits.
    pub limits_memory: String,
}

impl Default for Quota {
    fn default() -> Self {
        Self {
            pods: 40,
            requests_cpu: "10".to_owned(),
            requests_memory: "20Gi".to_owned(),
            limits_cpu: "20".to_owned(),
            limits_memory: "40Gi".to_owned(),
        }
    }
}

/// Names of the default tenant and its identities.
pub(crate) mod defaults {
    pub(crate) const MANAGER_NAMESPACE: &str = "gitlab-runner";
    pub(crate) const GITLAB_URL: &str = "https://gitlab.com/";
    pub(crate) const TENANT: &str = "teams";
    pub(crate) const JOB_SERVICE_ACCOUNT: &str = "ci-job";
    pub(crate) const DEPLOYER_SERVICE_ACCOUNT: &str = "ci-deployer";
    pub(crate) const MANAGER_SERVICE_ACCOUNT: &str = "gitlab-runner";
    pub(crate) const IMAGE: &str = "alpine:3.20";
    pub(crate) const CONCURRENT: u32 = 10;
}

/// A tenant named `name` with every default: jobs in namespace `name`, no deploy identity,
/// `view` for developers, Pod Security `baseline`. `several` says whether the configuration
/// has more than one tenant (the manager ServiceAccount is then named after the tenant).
pub(crate) fn default_tenant(name: &str, several: bool) -> Tenant {
    let manager_service_account = if several {
        format!("{}-{name}", defaults::MANAGER_SERVICE_ACCOUNT)
    } else {
        defaults::MANAGER_SERVICE_ACCOUNT.to_owned()
    };
    Tenant {
        name: name.to_owned(),
        job_namespace: name.to_owned(),
        deploy_namespaces: Vec::new(),
        created_deploy_namespaces: Vec::new(),
        job_service_account: defaults::JOB_SERVICE_ACCOUNT.to_owned(),
        deploy: false,
        deployer_service_account: defaults::DEPLOYER_SERVICE_ACCOUNT.to_owned(),
        token_secret: format!("{manager_service_account}-token"),
        manager_service_account,
        developer_groups: Vec::new(),
        developer_job_access: JobAccess::View,
        developer_deploy_access: DeployAccess::View,
        pod_security: PodSecurityLevel::Baseline,
        image: defaults::IMAGE.to_owned(),
        allowed_images: Vec::new(),
        allowed_services: Vec::new(),
        concurrent: defaults::CONCURRENT,
        executor_features: Vec::new(),
        resources: Resources::default(),
        security: JobSecurity::default(),
        quota: Quota::default(),
    }
}

/// The built-in configuration, used when there is no `runnerguard.toml`: the manager in
/// `gitlab-runner`, one tenant `teams` whose jobs run in `teams` and deploy there (as
/// ServiceAccount `ci-deployer`), runner 18.9.0 with chart 0.86.0, GitLab at gitlab.com.
pub fn default_config() -> Config {
    let mut teams = default_tenant(defaults::TENANT, false);
    teams.deploy = true;
    teams.deploy_namespaces = vec![defaults::TENANT.to_owned()];
    Config {
        manager_namespace: defaults::MANAGER_NAMESPACE.to_owned(),
        gitlab_url: defaults::GITLAB_URL.to_owned(),
        runner_version: DEFAULT_RUNNER_VERSION,
        chart_version: CHART_VERSION.to_owned(),
        tenants: vec![teams],
    }
}
