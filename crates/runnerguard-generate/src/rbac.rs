//! Identities and RBAC: the manager's ServiceAccount and its executor Role (in the job
//! namespace only: nothing in the manager namespace), the job ServiceAccount (no rights, no
//! token), the deployer (a Role on workload kinds in the deploy namespaces), and developer
//! access.

use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};

use crate::config::{DeployAccess, JobAccess, Tenant};
use crate::render::{Docs, meta, strings};
use crate::{Config, GenerateError};
use runnerguard_model::executor::{Need, Permission, Scope};

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// The executor Role's name in each job namespace.
pub(crate) fn executor_role_name(t: &Tenant) -> String {
    format!("{}-executor", t.manager_service_account)
}

/// The deploy Role's name in each deploy namespace.
pub(crate) fn deploy_role_name(t: &Tenant) -> String {
    format!("{}-{}", t.name, t.deployer_service_account)
}

pub(crate) fn manager_service_account(
    config: &Config,
    t: &Tenant,
) -> Result<String, GenerateError> {
    let path = format!("{}/manager-service-account.yaml", t.name);
    let mut docs = Docs::new(
        &path,
        &format!(
            "The runner manager's ServiceAccount for tenant `{}`, in the manager namespace. The chart\n\
             uses it (serviceAccount.create: false); its only rights are the executor Role in `{}`.\n\
             Its token stays mounted: the manager needs it to create job pods.",
            t.name, t.job_namespace
        ),
    );
    docs.push(&ServiceAccount {
        metadata: meta(
            &t.manager_service_account,
            Some(&config.manager_namespace),
            Some(&t.name),
        ),
        ..ServiceAccount::default()
    })?;
    Ok(docs.finish())
}

/// The executor table's rows as RBAC rules: the namespaced rows the runner needs (required
/// and degraded) and those of the features the tenant enables, one rule per resource, verbs
/// in table order.
pub(crate) fn executor_rules(t: &Tenant, rows: &[Permission]) -> Vec<PolicyRule> {
    let mut merged: Vec<(String, String, Vec<String>)> = Vec::new();
    for row in rows {
        let namespaced = row.scope == Scope::Namespace;
        let wanted = match row.need {
            Need::Required | Need::Degraded => true,
            Need::Feature => t
                .executor_features
                .iter()
                .any(|f| f.matches_row(&row.feature)),
        };
        if !namespaced || !wanted {
            continue;
        }
        let i = if let Some(i) = merged
            .iter()
            .position(|(g, r, _)| *g == row.group && *r == row.resource)
        {
            i
        } else {
            merged.push((row.group.clone(), row.resource.clone(), Vec::new()));
            merged.len() - 1
        };
        let verbs = &mut merged[i].2;
        for v in &row.verbs {
            if !verbs.contains(v) {
                verbs.push(v.clone());
            }
        }
    }
    merged
        .into_iter()
        .map(|(group, resource, verbs)| PolicyRule {
            api_groups: Some(vec![group]),
            resources: Some(vec![resource]),
            verbs,
            ..PolicyRule::default()
        })
        .collect()
}

pub(crate) fn executor_role(
    config: &Config,
    t: &Tenant,
    rows: &[Permission],
) -> Result<String, GenerateError> {
    let path = format!("{}/executor-role.yaml", t.name);
    let name = executor_role_name(t);
    let features = if t.executor_features.is_empty() {
        "no optional features".to_owned()
    } else {
        format!(
            "optional features: {}",
            t.executor_features
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut docs = Docs::new(
        &path,
        &format!(
            "What the Kubernetes executor of GitLab Runner {} needs in job namespace `{}`, exactly\n\
             (data/gitlab-runner/executor-permissions.toml: required and degraded rows; {features}),\n\
             bound to the manager ServiceAccount {}/{}. The manager gets nothing anywhere else.",
            config.runner_version,
            t.job_namespace,
            config.manager_namespace,
            t.manager_service_account
        ),
    );
    docs.push(&Role {
        metadata: meta(&name, Some(&t.job_namespace), Some(&t.name)),
        rules: Some(executor_rules(t, rows)),
    })?;
    docs.push(&RoleBinding {
        metadata: meta(&name, Some(&t.job_namespace), Some(&t.name)),
        role_ref: role_ref("Role", &name),
        subjects: Some(vec![service_account_subject(
            &t.manager_service_account,
            &config.manager_namespace,
        )]),
    })?;
    Ok(docs.finish())
}

pub(crate) fn job_service_account(t: &Tenant) -> Result<String, GenerateError> {
    let path = format!("{}/job-service-account.yaml", t.name);
    let mut docs = Docs::new(
        &path,
        &format!(
            "The ServiceAccount job pods run as in `{}`: no bindings, no token (the runner also sets\n\
             automount_service_account_token = false).",
            t.job_namespace
        ),
    );
    docs.push(&tokenless_service_account(t, &t.job_service_account))?;
    Ok(docs.finish())
}

/// What the deployer (and developers with `deploy` access) may do in a deploy namespace: workload kinds, never RBAC, Secrets,
/// ServiceAccounts or tokens. `job_namespace` says whether this is also the job namespace,
/// where it may not read pods either (their environment holds CI variables).
fn deploy_rules(job_namespace: bool) -> Vec<PolicyRule> {
    const WRITE: &[&str] = &[
        "get", "list", "watch", "create", "update", "patch", "delete",
    ];
    const READ: &[&str] = &["get", "list", "watch"];
    let rule = |group: &str, resources: &[&str], verbs: &[&str]| PolicyRule {
        api_groups: Some(vec![group.to_owned()]),
        resources: Some(strings(resources)),
        verbs: strings(verbs),
        ..PolicyRule::default()
    };
    let mut rules = vec![
        rule("apps", &["deployments", "statefulsets"], WRITE),
        rule("apps", &["replicasets"], READ),
        rule("batch", &["jobs", "cronjobs"], WRITE),
        rule("", &["services", "configmaps"], WRITE),
        rule("networking.k8s.io", &["ingresses"], WRITE),
        rule("autoscaling", &["horizontalpodautoscalers"], WRITE),
        rule("policy", &["poddisruptionbudgets"], WRITE),
    ];
    if !job_namespace {
        rules.push(rule("", &["pods", "pods/log"], READ));
    }
    rules
}

pub(crate) fn deployer(t: &Tenant) -> Result<Option<String>, GenerateError> {
    if !t.deploy {
        return Ok(None);
    }
    let path = format!("{}/deployer.yaml", t.name);
    let list = t
        .deploy_namespaces
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut docs = Docs::new(
        &path,
        &format!(
            "The deploy identity of tenant `{}`'s CI jobs: ServiceAccount {}/{} (no token mounted\n\
             anywhere), with a Role on workload kinds in {list}. No RBAC objects, no bind/escalate/\n\
             impersonate, no ServiceAccounts or tokens, no Secrets; no pods in the job namespace.\n\
             Deploy jobs get its token as a protected CI/CD variable: see INSTALL.md.",
            t.name, t.job_namespace, t.deployer_service_account
        ),
    );
    docs.push(&tokenless_service_account(t, &t.deployer_service_account))?;
    let name = deploy_role_name(t);
    for ns in &t.deploy_namespaces {
        docs.push(&Role {
            metadata: meta(&name, Some(ns), Some(&t.name)),
            rules: Some(deploy_rules(*ns == t.job_namespace)),
        })?;
        docs.push(&RoleBinding {
            metadata: meta(&name, Some(ns), Some(&t.name)),
            role_ref: role_ref("Role", &name),
            subjects: Some(vec![service_account_subject(
                &t.deployer_service_account,
                &t.job_namespace,
            )]),
        })?;
    }
    Ok(Some(docs.finish()))
}

/// Debugging rights in the job namespace beyond `view`: exec, attach and logs of job pods.
fn debug_rules() -> Vec<PolicyRule> {
    vec![
        PolicyRule {
            api_groups: Some(strings(&[""])),
            resources: Some(strings(&["pods/exec", "pods/attach"])),
            verbs: strings(&["create"]),
            ..PolicyRule::default()
        },
        PolicyRule {
            api_groups: Some(strings(&[""])),
            resources: Some(strings(&["pods/log"])),
            verbs: strings(&["get"]),
            ..PolicyRule::default()
        },
    ]
}

pub(crate) fn developers(t: &Tenant) -> Result<Option<String>, GenerateError> {
    if t.developer_groups.is_empty() {
        return Ok(None);
    }
    let path = format!("{}/developers.yaml", t.name);
    let job = match t.developer_job_access {
        JobAccess::None => "nothing in the job namespace",
        JobAccess::View => "`view` in the job namespace (no Secrets, no exec)",
        JobAccess::Debug => {
            "`view` and exec/attach/logs of job pods in the job namespace (developer_job_access = \"debug\": every running pipeline's CI variables are visible to them)"
        }
    };
    let deploy = match t.developer_deploy_access {
        DeployAccess::None => "nothing",
        DeployAccess::View => "`view`",
        DeployAccess::Deploy => "`view` and the deployer's rights on workload kinds",
    };
    let mut docs = Docs::new(
        &path,
        &format!(
            "Developer access for tenant `{}` (groups: {}): {job}; {deploy} in its other deploy namespaces.",
            t.name,
            t.developer_groups.join(", ")
        ),
    );
    let subjects: Vec<Subject> = t
        .developer_groups
        .iter()
        .map(|g| Subject {
            api_group: Some(RBAC_GROUP.to_owned()),
            kind: "Group".to_owned(),
            name: g.clone(),
            namespace: None,
        })
        .collect();
    let binding = |name: String, ns: &str, kind: &str, role: &str| RoleBinding {
        metadata: meta(&name, Some(ns), Some(&t.name)),
        role_ref: role_ref(kind, role),
        subjects: Some(subjects.clone()),
    };
    // The developers' groups bound to `view` in `ns`.
    let view = |ns: &str| {
        let name = format!("{}-developers-view", t.name);
        binding(name, ns, "ClusterRole", "view")
    };
    // A Role `name` of `rules` in `ns`, and the developers' groups bound to it.
    let own_role = |name: String, ns: &str, rules: Vec<PolicyRule>| {
        let role = Role {
            metadata: meta(&name, Some(ns), Some(&t.name)),
            rules: Some(rules),
        };
        (role, binding(name.clone(), ns, "Role", &name))
    };
    if t.developer_job_access != JobAccess::None {
        docs.push(&view(&t.job_namespace))?;
    }
    if t.developer_job_access == JobAccess::Debug {
        let name = format!("{}-developers-debug", t.name);
        let (role, bound) = own_role(name, &t.job_namespace, debug_rules());
        docs.push(&role)?;
        docs.push(&bound)?;
    }
    if t.developer_deploy_access != DeployAccess::None {
        for ns in t
            .deploy_namespaces
            .iter()
            .filter(|n| **n != t.job_namespace)
        {
            docs.push(&view(ns))?;
            if t.developer_deploy_access == DeployAccess::Deploy {
                let name = format!("{}-developers-deploy", t.name);
                let (role, bound) = own_role(name, ns, deploy_rules(false));
                docs.push(&role)?;
                docs.push(&bound)?;
            }
        }
    }
    Ok((!docs.is_empty()).then(|| docs.finish()))
}

fn role_ref(kind: &str, name: &str) -> RoleRef {
    RoleRef {
        api_group: Some(RBAC_GROUP.to_owned()),
        kind: kind.to_owned(),
        name: name.to_owned(),
    }
}

fn service_account_subject(name: &str, namespace: &str) -> Subject {
    Subject {
        api_group: None,
        kind: "ServiceAccount".to_owned(),
        name: name.to_owned(),
        namespace: Some(namespace.to_owned()),
    }
}

/// A ServiceAccount of `t`'s job namespace that gets no token mounted (it has no bindings
/// either: pods that run as it hold nothing).
fn tokenless_service_account(t: &Tenant, name: &str) -> ServiceAccount {
    ServiceAccount {
        metadata: meta(name, Some(&t.job_namespace), Some(&t.name)),
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    }
}
