//! The commented `runnerguard.toml` that `runnerguard init` writes. It parses to
//! [`crate::default_config`] exactly (a test holds it to that), so `init` followed by
//! `generate` gives the same setup as `generate` with no file.

/// The commented default configuration that `runnerguard init` writes, with the default chart
/// release and its runner filled in ([`runnerguard_model::versions::DEFAULT_CHART`]).
pub fn init_template() -> String {
    let chart = runnerguard_model::versions::DEFAULT_CHART;
    // The embedded data is checked by the model's tests; were it unreadable, generate would
    // refuse every runner_version with that error, so the comment may say "17.0 and later".
    let known = runnerguard_model::executor::known_versions().map_or_else(
        |_| "17.0 and later".to_owned(),
        |r| format!("{} to {}", r.start(), r.end()),
    );
    TEMPLATE
        .replace("{chart}", chart.version)
        .replace("{runner}", chart.app_version)
        .replace("{known}", &known)
}

/// [`init_template`] before the versions are filled in.
const TEMPLATE: &str = r#"# runnerguard.toml: the hardened GitLab Runner setup `runnerguard generate` writes.
# Every key shown has its default value; remove a key to keep the default.
# After a change: runnerguard generate --config runnerguard.toml --out runner-setup &&
#   runnerguard audit --config runnerguard.toml -f runner-setup/manager -f runner-setup/teams
# docs/config.md describes every key.

[manager]
# Where the runner managers (one Helm release per tenant) run. Pod Security `restricted`;
# nothing may connect into it, no job runs there, and no Role is bound there.
namespace = "gitlab-runner"
# The GitLab instance the runners register with.
gitlab_url = "https://gitlab.com/"
# GitLab Runner version (the executor Role and the runner keys follow it; {known}) and
# gitlab-runner Helm chart version ({chart} ships runner {runner}).
runner_version = "{runner}"
chart_version = "{chart}"

# One [[tenants]] section per runner: its own Helm release, manager ServiceAccount, runner
# token and job namespace. Add sections for more tenants.
[[tenants]]
name = "teams"
# Where the tenant's CI jobs run (default: the tenant's name).
job_namespace = "teams"
# The ServiceAccount job pods run as: no rights, no token.
job_service_account = "ci-job"
# Whether CI jobs get a deploy identity: ServiceAccount `deployer_service_account` with a Role
# on workload kinds (Deployments, StatefulSets, Jobs, Services, ConfigMaps, Ingresses, ...) in
# `deploy_namespaces`. Never Secrets, RBAC or tokens.
deploy = true
# A name ("monitoring") is a namespace runnerguard does not own: it only adds RBAC there, never
# creates or relabels it, and INSTALL.md says it must exist. Write { name = "staging",
# create = true } for a namespace runnerguard creates with the tenant's Pod Security labels.
# The job namespace is always created.
deploy_namespaces = ["teams"]
deployer_service_account = "ci-deployer"
# The runner manager's ServiceAccount, also the Helm release name (default: "gitlab-runner",
# or "gitlab-runner-NAME" when there are several tenants).
manager_service_account = "gitlab-runner"
# The runner token is NEVER written here. Create the runner in GitLab, then put its
# authentication token (glrt-...) into this Secret in the manager namespace (see INSTALL.md).
# Default: MANAGER_SERVICE_ACCOUNT-token.
token_secret = "gitlab-runner-token"
# Groups (as your cluster's authentication names them) of the tenant's developers.
developer_groups = []
# Their access in the job namespace: "view" (no Secrets, no exec), "none", or "debug" (adds exec
# into job pods: every running pipeline's CI variables become visible to them).
developer_job_access = "view"
# Their access in deploy namespaces other than the job namespace: "view", "none", or "deploy"
# (view plus the deployer's rights on workload kinds; never Secrets, impersonation or tokens).
developer_deploy_access = "view"
# Pod Security level enforced in the tenant's namespaces: "baseline", or "restricted" (runner
# 18.11+, non-root jobs).
pod_security = "baseline"
# The default job image, and the images and services jobs may use (empty: any).
image = "alpine:3.20"
allowed_images = []
allowed_services = []
# Jobs at once.
concurrent = 10
# Optional executor features, each adding its rows of the executor permission table:
# "ports" (images/services declaring ports), "pod_events" (FF_PRINT_POD_EVENTS),
# "container_logs" (FF_KUBERNETES_HONOR_ENTRYPOINT, CI_DEBUG_SERVICES),
# "service_account_check", "pod_disruption_budget" (runner 18.10+).
executor_features = []

# CPU and memory of the job pod's containers (requests and limits).
[tenants.resources.build]
cpu_request = "250m"
cpu_limit = "500m"
memory_request = "256Mi"
memory_limit = "512Mi"

[tenants.resources.helper]
cpu_request = "100m"
cpu_limit = "250m"
memory_request = "128Mi"
memory_limit = "256Mi"

[tenants.resources.service]
cpu_request = "100m"
cpu_limit = "500m"
memory_request = "128Mi"
memory_limit = "512Mi"

# The job pod's security context (all containers also drop every capability and may not
# escalate privileges).
[tenants.security_context]
run_as_non_root = true
run_as_user = 1000
run_as_group = 1000
fs_group = 1000

# The job namespace's ResourceQuota.
[tenants.quota]
pods = 40
requests_cpu = "10"
requests_memory = "20Gi"
limits_cpu = "20"
limits_memory = "40Gi"

# What `runnerguard audit --config runnerguard.toml` runs and fails on; flags given on the
# command line win. `runnerguard generate` ignores this section. Uncomment to use.
# [audit]
# Rules to run: ids, names or id prefixes ("RG1*", "RB"). Default: every rule.
# select = ["RG1*", "RB"]
# Rules to leave out.
# ignore = []
# A severity per rule id or name instead of its default: "info", "low", "medium", "high" or
# "critical". Reports show it and fail-on counts it.
# severity = { RG109 = "info" }
# Exit 1 when a finding is at or above this severity (default: "high").
# fail-on = "high"
"#;
