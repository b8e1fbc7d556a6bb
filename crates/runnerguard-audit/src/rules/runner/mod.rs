//! What the RG rules share: the runner configurations that decide job pods, what a job's
//! identity holds, and how much a message lists.
//!
//! These helpers are private to the family: its rules, child modules, see them; the RB
//! rules do not. [`Source`] and [`sources`] are the crate's, for [`Context::sources`].

// The rules, one file each (its id on its first line).
mod chart_value_ignored;
mod chart_wildcard_rbac;
mod executor_permission_missing;
mod job_namespace_secrets_readable;
mod job_overwrite_allowed;
mod job_reaches_manager_namespace;
mod job_resources_unbounded;
mod job_service_account_unsafe;
mod job_token_exposed;
mod jobs_in_manager_namespace;
mod manager_excess_permission;
mod manager_network_open;
mod privileged_jobs_possible;
mod registration_token_deprecated;
mod runner_tags_list;
mod unknown_runner_key;

pub(super) use chart_value_ignored::ChartValueIgnored;
pub(super) use chart_wildcard_rbac::ChartWildcardRbac;
pub(super) use executor_permission_missing::ExecutorPermissionMissing;
pub(super) use job_namespace_secrets_readable::JobNamespaceSecretsReadable;
pub(super) use job_overwrite_allowed::JobOverwriteAllowed;
pub(super) use job_reaches_manager_namespace::JobReachesManagerNamespace;
pub(super) use job_resources_unbounded::JobResourcesUnbounded;
pub(super) use job_service_account_unsafe::JobServiceAccountUnsafe;
pub(super) use job_token_exposed::JobTokenExposed;
pub(super) use jobs_in_manager_namespace::JobsInManagerNamespace;
pub(super) use manager_excess_permission::ManagerExcessPermission;
pub(super) use manager_network_open::ManagerNetworkOpen;
pub(super) use privileged_jobs_possible::PrivilegedJobsPossible;
pub(super) use registration_token_deprecated::RegistrationTokenDeprecated;
pub(super) use runner_tags_list::RunnerTagsList;
pub(super) use unknown_runner_key::UnknownRunnerKey;

use runnerguard_engine::{Grant, UserInfo};
use runnerguard_model::{BindingKind, Origin, RunnerEntry, Setting};

use crate::{Context, Evidence, JobIdentity, JobTarget, qualified};

/// How many resources a message names before it counts the rest.
const MAX_TARGETS: usize = 12;

/// Where job-pod settings come from: a `[[runners]]` entry, or the chart's default
/// `runners.config` when values set none.
pub(crate) struct Source<'a> {
    name: String,
    /// What `at` points at.
    what: &'static str,
    settings: &'a [Setting],
    at: Origin,
    namespace: Option<&'a str>,
}

/// Every [`Source`], in order: rules ask through [`Context::sources`], which works this out
/// once for every setup.
pub(crate) fn sources<'a>(cx: &Context<'a>) -> Vec<Source<'a>> {
    let objects: &'a runnerguard_model::Inventory = cx.policy.objects();
    let mut out = Vec::new();
    for entry in objects.runner_configs.iter().flat_map(|c| &c.runners) {
        if entry.executor.as_deref().is_some_and(|e| e != "kubernetes") {
            continue;
        }
        out.push(Source {
            name: entry_name(entry),
            what: "[runners.kubernetes]",
            settings: &entry.kubernetes,
            at: entry
                .kubernetes_origin
                .clone()
                .unwrap_or_else(|| entry.origin.clone()),
            namespace: entry
                .kube("namespace")
                .and_then(|s| s.value.as_str())
                .filter(|n| !n.is_empty()),
        });
    }
    // No runner configuration read at all: values without `runners.config` get the chart's
    // default one, which sets `namespace` and `image` only: no limits, no security flags.
    if objects.runner_configs.is_empty() {
        for values in &objects.helm_values {
            if values.get("runners.config").is_some() {
                continue;
            }
            out.push(Source {
                name: "the chart's default `runners.config` (the values set none)".to_owned(),
                what: "values without `runners.config` (the chart's default applies)",
                settings: &[],
                at: values.origin.clone(),
                namespace: values
                    .get("runners.jobNamespace")
                    .and_then(|s| s.value.as_str())
                    .filter(|n| !n.is_empty()),
            });
        }
    }
    out
}

/// How a `[[runners]]` entry is named in messages: by its name, else by where it is.
fn entry_name(entry: &RunnerEntry) -> String {
    match &entry.name {
        Some(n) => format!("runner `{n}`"),
        None => format!("the [[runners]] entry at {}", entry.origin),
    }
}

/// What the topology says about where `job` came from.
fn job_evidence(cx: &Context<'_>, job: &JobTarget) -> Vec<String> {
    cx.job_evidence(&job.namespace)
        .map(|e| format!("{}: {}", e.fact, e.source))
        .collect()
}

/// `text` about a job identity, with the escalation steps that lead a job to it under it.
fn identity_evidence(cx: &Context<'_>, id: &JobIdentity, text: String) -> Evidence {
    Evidence::fact_under(
        text,
        id.path.iter().map(|s| cx.escalation_evidence(s)).collect(),
    )
}

/// How a job gets identity `id`: [`JobIdentity::how`], followed by `, then:` when escalation
/// steps (in [`identity_evidence`]) lead on from there.
fn how(id: &JobIdentity) -> String {
    if id.path.is_empty() {
        id.how.clone()
    } else {
        format!("{}, then:", id.how)
    }
}

/// The bindings of `grants`, each once, in order: `RoleBinding teams/x, ClusterRoleBinding y`
/// (for a remediation that names what to delete or edit).
fn binding_names<'a>(cx: &Context<'_>, grants: impl IntoIterator<Item = &'a Grant>) -> String {
    let mut names: Vec<String> = Vec::new();
    for g in grants {
        let b = cx.policy.binding(g.binding);
        let s = format!("{} {}", b.kind, qualified(&b.namespace, &b.name));
        if !names.contains(&s) {
            names.push(s);
        }
    }
    names.join(", ")
}

/// Every rule `user` holds from bindings the user wrote (not Kubernetes' defaults): its
/// ClusterRoleBindings, and the RoleBindings of every namespace where one applies to it.
/// Non-resource rules of RoleBindings are left out: they grant nothing there.
fn grants_of(cx: &Context<'_>, user: &UserInfo) -> Vec<Grant> {
    let namespaces = cx.role_binding_namespaces(user);
    let mut out: Vec<Grant> = cx
        .policy
        .rules_for(user, "")
        .rules
        .into_iter()
        .map(|e| e.grant)
        .filter(|g| !cx.policy.binding(g.binding).origin.is_builtin())
        .collect();
    for ns in namespaces {
        out.extend(
            cx.policy
                .rules_for(user, ns)
                .rules
                .into_iter()
                .map(|e| e.grant)
                .filter(|g| {
                    let b = cx.policy.binding(g.binding);
                    b.kind == BindingKind::RoleBinding
                        && !b.origin.is_builtin()
                        && !cx.policy.rule(g).resources.is_empty()
                }),
        );
    }
    out
}
