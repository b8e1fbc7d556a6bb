//! The rule registry: one file per rule, one line per rule here, sorted by id.

mod common;
mod rb001_cluster_admin_binding;
mod rb002_wildcard_rule;
mod rb003_escalation_verb;
mod rb004_secrets_readable;
mod rb005_pod_create_assumes_service_accounts;
mod rb006_token_request;
mod rb007_node_proxy;
mod rb008_dangling_role_ref;
mod rb009_broad_group_grant;
mod rb010_admission_webhook_write;
mod rb011_csr_approval;
mod rbac;
mod rg101_jobs_in_manager_namespace;
mod rg102_executor_permission_missing;
mod rg103_manager_excess_permission;
mod rg104_job_reaches_manager_namespace;
mod rg105_job_token_exposed;
mod rg106_job_service_account_unsafe;
mod rg107_chart_value_ignored;
mod rg108_registration_token_deprecated;
mod rg109_runner_tags_list;
mod rg110_job_overwrite_allowed;
mod rg111_privileged_jobs_possible;
mod rg112_manager_network_open;
mod rg113_chart_wildcard_rbac;
mod rg114_job_namespace_secrets_readable;
mod rg115_job_resources_unbounded;
mod rg116_unknown_runner_key;
mod runner;
#[cfg(test)]
mod testing;

pub(crate) use rb005_pod_create_assumes_service_accounts::Rb005Memo;
pub(crate) use runner::{Source, sources};

use crate::Rule;

/// Every rule, sorted by id.
pub static ALL: &[&dyn Rule] = &[
    &rb001_cluster_admin_binding::ClusterAdminBinding,
    &rb002_wildcard_rule::WildcardRule,
    &rb003_escalation_verb::EscalationVerb,
    &rb004_secrets_readable::SecretsReadable,
    &rb005_pod_create_assumes_service_accounts::PodCreateAssumesServiceAccounts,
    &rb006_token_request::TokenRequest,
    &rb007_node_proxy::NodeProxy,
    &rb008_dangling_role_ref::DanglingRoleRef,
    &rb009_broad_group_grant::BroadGroupGrant,
    &rb010_admission_webhook_write::AdmissionWebhookWrite,
    &rb011_csr_approval::CsrApproval,
    &rg101_jobs_in_manager_namespace::JobsInManagerNamespace,
    &rg102_executor_permission_missing::ExecutorPermissionMissing,
    &rg103_manager_excess_permission::ManagerExcessPermission,
    &rg104_job_reaches_manager_namespace::JobReachesManagerNamespace,
    &rg105_job_token_exposed::JobTokenExposed,
    &rg106_job_service_account_unsafe::JobServiceAccountUnsafe,
    &rg107_chart_value_ignored::ChartValueIgnored,
    &rg108_registration_token_deprecated::RegistrationTokenDeprecated,
    &rg109_runner_tags_list::RunnerTagsList,
    &rg110_job_overwrite_allowed::JobOverwriteAllowed,
    &rg111_privileged_jobs_possible::PrivilegedJobsPossible,
    &rg112_manager_network_open::ManagerNetworkOpen,
    &rg113_chart_wildcard_rbac::ChartWildcardRbac,
    &rg114_job_namespace_secrets_readable::JobNamespaceSecretsReadable,
    &rg115_job_resources_unbounded::JobResourcesUnbounded,
    &rg116_unknown_runner_key::UnknownRunnerKey,
];

/// What a rule's findings depend on, besides the policy: [`crate::run_all`] runs a rule once
/// per distinct value of it, not once per setup (with thousands of tenants, each a setup,
/// every rule run per setup made the audit quadratic, issue #9 C3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reads {
    /// The policy and the objects read, nothing of the setup: the same findings under
    /// every setup.
    Policy,
    /// Those and the setup's chart keys (`cx.chart`), not its topology or executor table.
    Chart,
    /// The topology, the manager, the job identities or the executor table.
    Setup,
}

/// Rules that read no part of the setup: neither `cx.topology` (nor what is derived from it:
/// `cx.manager()`, `cx.job_identities()`, `Accounts::new`, which adds the job pods'
/// ServiceAccounts), nor `cx.executor`, nor `cx.chart`. A rule added here must stay so; the
/// test `policy_only_rules_find_the_same_under_every_setup` checks it on a multi-tenant setup.
const POLICY_ONLY: &[&str] = &[
    "RB001", "RB002", "RB003", "RB004", "RB007", "RB008", "RB009", "RB010", "RB011", "RG109",
    "RG116",
];

/// Rules that read the setup's chart keys but nothing else of the setup.
const CHART_ONLY: &[&str] = &["RG107"];

/// What the findings of rule `id` depend on ([`Reads::Setup`] unless listed above).
pub(crate) fn reads(id: &str) -> Reads {
    if POLICY_ONLY.contains(&id) {
        Reads::Policy
    } else if CHART_ONLY.contains(&id) {
        Reads::Chart
    } else {
        Reads::Setup
    }
}

#[cfg(test)]
mod tests {
    use super::ALL;

    #[test]
    fn catalogue_is_sorted_unique_and_documented() {
        let ids: Vec<&str> = ALL.iter().map(|r| r.meta().id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted, "ids must be unique and sorted");
        for r in ALL {
            let m = r.meta();
            assert!(
                m.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                m.id
            );
            for heading in [
                "## What it flags",
                "## Why it matters",
                "## How to fix",
                "## Example",
            ] {
                assert!(m.docs.contains(heading), "{} lacks {heading}", m.id);
            }
            assert!(
                !m.summary.is_empty() && !m.remediation.is_empty(),
                "{}",
                m.id
            );
        }
    }
}
