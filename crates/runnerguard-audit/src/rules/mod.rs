//! The rule registry: one line per rule here, sorted by id. Each rule is one file in its
//! family, `rbac/` (`RB0xx`, RBAC anywhere) or `runner/` (`RG1xx`, the runner setup); what a
//! family's rules share is in its `mod.rs`, what both families share in `common`. A rule
//! file imports from its family's `mod.rs`, `common` and `testing`, never from another rule.

mod common;
mod rbac;
mod runner;
#[cfg(test)]
mod testing;

pub(crate) use rbac::Accounts;
pub(crate) use runner::{Source, sources};

use crate::Rule;

/// Every rule, sorted by id.
pub static ALL: &[&dyn Rule] = &[
    &rbac::ClusterAdminBinding,
    &rbac::WildcardRule,
    &rbac::EscalationVerb,
    &rbac::SecretsReadable,
    &rbac::PodCreateAssumesServiceAccounts,
    &rbac::TokenRequest,
    &rbac::NodeProxy,
    &rbac::DanglingRoleRef,
    &rbac::BroadGroupGrant,
    &rbac::AdmissionWebhookWrite,
    &rbac::CsrApproval,
    &runner::JobsInManagerNamespace,
    &runner::ExecutorPermissionMissing,
    &runner::ManagerExcessPermission,
    &runner::JobReachesManagerNamespace,
    &runner::JobTokenExposed,
    &runner::JobServiceAccountUnsafe,
    &runner::ChartValueIgnored,
    &runner::RegistrationTokenDeprecated,
    &runner::RunnerTagsList,
    &runner::JobOverwriteAllowed,
    &runner::PrivilegedJobsPossible,
    &runner::ManagerNetworkOpen,
    &runner::ChartWildcardRbac,
    &runner::JobNamespaceSecretsReadable,
    &runner::JobResourcesUnbounded,
    &runner::UnknownRunnerKey,
];

/// What a rule's findings depend on, besides the policy: [`crate::Audit::run`] runs a rule once
/// per distinct value of it, not once per setup (with thousands of tenants, each a setup,
/// every rule run per setup made the audit quadratic, issue #9 C3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
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
pub fn reads(id: &str) -> Reads {
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
