//! ValidatingAdmissionPolicies (admissionregistration.k8s.io/v1, CEL): in the manager
//! namespace only the managers' pods are admitted; in a job namespace pods run as the
//! tenant's job or deployer ServiceAccount, never privileged, with host namespaces or
//! hostPath volumes, and only the tenant's manager creates pods that mount Secrets.
//!
//! Pod Security admission (the namespace labels) already rejects privileged and hostPath
//! pods at `baseline`; these policies keep that true if a label is changed, and add what Pod
//! Security cannot express: who runs as whom, and who may mount the namespace's Secrets.

use k8s_openapi::api::admissionregistration::v1::{
    MatchResources, NamedRuleWithOperations, ValidatingAdmissionPolicy,
    ValidatingAdmissionPolicyBinding, ValidatingAdmissionPolicyBindingSpec,
    ValidatingAdmissionPolicySpec, Validation,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

use crate::config::Tenant;
use crate::network::NAME_LABEL;
use crate::render::{Docs, meta, strings};
use crate::{Config, GenerateError};

/// A CEL list literal of strings: `['a', 'b']`. Names are DNS names (validated), so they
/// need no escaping.
fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("'{i}'")).collect();
    format!("[{}]", quoted.join(", "))
}

/// `c` (a container) is not privileged.
const NOT_PRIVILEGED: &str = "!has(c.securityContext) || !has(c.securityContext.privileged) || !c.securityContext.privileged";

/// A check over every container list of the pod (containers, init and ephemeral containers).
fn every_container(check: &str) -> String {
    format!(
        "object.spec.containers.all(c, {check})\n\
         && (!has(object.spec.initContainers) || object.spec.initContainers.all(c, {check}))\n\
         && (!has(object.spec.ephemeralContainers) || object.spec.ephemeralContainers.all(c, {check}))"
    )
}

/// The pod's ServiceAccount is one of `allowed`.
pub(crate) fn service_account_check(allowed: &[&str]) -> String {
    format!(
        "has(object.spec.serviceAccountName) && object.spec.serviceAccountName in {}",
        list(allowed)
    )
}

/// The checks every policy makes: (expression, message).
fn pod_hardening() -> Vec<(String, String)> {
    vec![
        (
            every_container(NOT_PRIVILEGED),
            "privileged containers are not allowed here".to_owned(),
        ),
        (
            "!has(object.spec.volumes) || object.spec.volumes.all(v, !has(v.hostPath))".to_owned(),
            "hostPath volumes are not allowed here".to_owned(),
        ),
        (
            "(!has(object.spec.hostNetwork) || !object.spec.hostNetwork)\n\
             && (!has(object.spec.hostPID) || !object.spec.hostPID)\n\
             && (!has(object.spec.hostIPC) || !object.spec.hostIPC)"
                .to_owned(),
            "the host's network, PID and IPC namespaces are not allowed here".to_owned(),
        ),
    ]
}

/// Only `manager` (the API user) creates pods that mount Secrets: volumes, projected
/// sources, `env` and `envFrom`.
pub(crate) fn secrets_check(manager: &str) -> String {
    let no_env = "(!has(c.envFrom) || c.envFrom.all(e, !has(e.secretRef))) \
                  && (!has(c.env) || c.env.all(e, !has(e.valueFrom) || !has(e.valueFrom.secretKeyRef)))";
    format!(
        "request.userInfo.username == '{manager}' || (\n\
         (!has(object.spec.volumes) || object.spec.volumes.all(v, !has(v.secret)\n\
         && (!has(v.projected) || !has(v.projected.sources) || v.projected.sources.all(s, !has(s.secret)))))\n\
         && object.spec.containers.all(c, {no_env})\n\
         && (!has(object.spec.initContainers) || object.spec.initContainers.all(c, {no_env})))"
    )
}

fn validations(checks: Vec<(String, String)>) -> Vec<Validation> {
    checks
        .into_iter()
        .map(|(expression, message)| Validation {
            expression,
            message: Some(message),
            reason: Some("Forbidden".to_owned()),
            message_expression: None,
        })
        .collect()
}

fn in_namespace(ns: &str) -> LabelSelector {
    LabelSelector {
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: NAME_LABEL.to_owned(),
            operator: "In".to_owned(),
            values: Some(vec![ns.to_owned()]),
        }]),
        ..LabelSelector::default()
    }
}

/// A policy on pods in `ns` and its binding (same name).
fn policy(
    docs: &mut Docs,
    name: &str,
    ns: &str,
    tenant: Option<&str>,
    checks: Vec<(String, String)>,
) -> Result<(), GenerateError> {
    let matching = MatchResources {
        namespace_selector: Some(in_namespace(ns)),
        resource_rules: Some(vec![NamedRuleWithOperations {
            api_groups: Some(strings(&[""])),
            api_versions: Some(strings(&["v1"])),
            operations: Some(strings(&["CREATE", "UPDATE"])),
            resources: Some(strings(&["pods", "pods/ephemeralcontainers"])),
            ..NamedRuleWithOperations::default()
        }]),
        ..MatchResources::default()
    };
    docs.push(&ValidatingAdmissionPolicy {
        metadata: meta(name, None, tenant),
        spec: Some(ValidatingAdmissionPolicySpec {
            failure_policy: Some("Fail".to_owned()),
            match_constraints: Some(matching.clone()),
            validations: Some(validations(checks)),
            ..ValidatingAdmissionPolicySpec::default()
        }),
        status: None,
    })?;
    docs.push(&ValidatingAdmissionPolicyBinding {
        metadata: meta(name, None, tenant),
        spec: ValidatingAdmissionPolicyBindingSpec {
            policy_name: name.to_owned(),
            validation_actions: strings(&["Deny"]),
            match_resources: Some(MatchResources {
                namespace_selector: Some(in_namespace(ns)),
                ..MatchResources::default()
            }),
            param_ref: None,
        },
    })?;
    Ok(())
}

pub(crate) fn manager_policy(config: &Config) -> Result<String, GenerateError> {
    let ns = &config.manager_namespace;
    let managers: Vec<&str> = config
        .tenants
        .iter()
        .map(|t| t.manager_service_account.as_str())
        .collect();
    let mut docs = Docs::new(
        "manager/admission-policy.yaml",
        &format!(
            "Admission in the manager namespace `{ns}`: only pods of the runner managers'\n\
             ServiceAccounts ({}), never privileged, hostPath or host namespaces.",
            managers.join(", ")
        ),
    );
    let mut checks = vec![(
        service_account_check(&managers),
        format!(
            "only the GitLab Runner managers run in {ns}: pods must use ServiceAccount {}",
            managers.join(" or ")
        ),
    )];
    checks.extend(pod_hardening());
    policy(&mut docs, "runnerguard-manager-pods", ns, None, checks)?;
    Ok(docs.finish())
}

pub(crate) fn job_policy(config: &Config, t: &Tenant) -> Result<String, GenerateError> {
    let path = format!("{}/admission-policy.yaml", t.name);
    let mut allowed = vec![t.job_service_account.as_str()];
    if t.deploy {
        allowed.push(&t.deployer_service_account);
    }
    let manager = format!(
        "system:serviceaccount:{}:{}",
        config.manager_namespace, t.manager_service_account
    );
    let mut docs = Docs::new(
        &path,
        &format!(
            "Admission in job namespace `{}`: pods run as {} (those of the runner manager,\n\
             {manager}, as {} only), never privileged, hostPath or host namespaces; only the\n\
             manager creates pods that mount Secrets (so nothing else there, deployed workloads\n\
             included, can read the jobs' Secrets).",
            t.job_namespace,
            allowed.join(" or "),
            t.job_service_account
        ),
    );
    let mut checks = vec![(
        service_account_check(&allowed),
        format!(
            "pods in {} must run as ServiceAccount {}",
            t.job_namespace,
            allowed.join(" or ")
        ),
    )];
    checks.push((
        format!(
            "request.userInfo.username != '{manager}' || object.spec.serviceAccountName == '{}'",
            t.job_service_account
        ),
        format!(
            "the runner manager creates job pods only as ServiceAccount {}",
            t.job_service_account
        ),
    ));
    checks.extend(pod_hardening());
    checks.push((
        secrets_check(&manager),
        format!(
            "only the GitLab Runner manager may create pods that mount Secrets in {}",
            t.job_namespace
        ),
    ));
    policy(
        &mut docs,
        &format!("runnerguard-{}-job-pods", t.name),
        &t.job_namespace,
        Some(&t.name),
        checks,
    )?;
    Ok(docs.finish())
}
