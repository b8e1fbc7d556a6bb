//! Everything read from the inputs, before any indexing.

use serde::Serialize;

use crate::{
    AdmissionBinding, AdmissionPolicy, Binding, HelmValues, LimitRange, Namespace, NetworkPolicy,
    OtherObject, ResourceQuota, Role, RunnerConfig, SecretMeta, ServiceAccount, Workload,
};

/// The objects read from all inputs, in input order.
///
/// Later objects with the same kind, namespace and name replace earlier ones when the engine
/// indexes the inventory, as a later `kubectl apply` would.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Inventory {
    /// Roles and ClusterRoles.
    pub roles: Vec<Role>,
    /// RoleBindings and ClusterRoleBindings.
    pub bindings: Vec<Binding>,
    /// ServiceAccounts.
    pub service_accounts: Vec<ServiceAccount>,
    /// Namespaces.
    pub namespaces: Vec<Namespace>,
    /// Pods and workload controllers.
    pub workloads: Vec<Workload>,
    /// NetworkPolicies.
    pub network_policies: Vec<NetworkPolicy>,
    /// LimitRanges.
    pub limit_ranges: Vec<LimitRange>,
    /// ResourceQuotas.
    pub resource_quotas: Vec<ResourceQuota>,
    /// Secrets, without their data.
    pub secrets: Vec<SecretMeta>,
    /// Runner configurations (`config.toml`, ConfigMaps holding one, Helm `runners.config`).
    pub runner_configs: Vec<RunnerConfig>,
    /// Helm values files for the gitlab-runner chart.
    pub helm_values: Vec<HelmValues>,
    /// ValidatingAdmissionPolicies (what they prove about pods).
    pub admission_policies: Vec<AdmissionPolicy>,
    /// The bindings of validating admission policies.
    pub admission_bindings: Vec<AdmissionBinding>,
    /// Objects of other kinds, kept for later stages.
    pub others: Vec<OtherObject>,
    /// Where namespaced objects without `metadata.namespace` start. They were read into
    /// `default`, where `kubectl apply` without `-n` puts them; `kubectl apply -n NS`, Helm
    /// and Argo CD put them elsewhere, so the audit checks them where they could land.
    #[serde(skip)]
    pub unnamespaced: Vec<crate::Origin>,
    /// Chart releases rendered from [`Inventory::helm_values`] (their objects are in this
    /// inventory too).
    #[serde(skip)]
    pub releases: Vec<Release>,
}

/// A Helm release of the gitlab-runner chart, rendered from values.
#[derive(Clone, Debug, Default)]
pub struct Release {
    /// The chart version it was rendered with (empty for a user's chart path).
    pub chart_version: String,
    /// Indexes into [`Inventory::helm_values`] of its values files, in `-f` order.
    pub values: Vec<usize>,
    /// The rendered objects (also part of the inventory): the runner's Deployment,
    /// ConfigMap, Secret and RBAC.
    pub objects: Inventory,
}

impl Inventory {
    /// Appends everything in `other` after this inventory's objects.
    pub fn extend(&mut self, other: Inventory) {
        self.roles.extend(other.roles);
        self.bindings.extend(other.bindings);
        self.service_accounts.extend(other.service_accounts);
        self.namespaces.extend(other.namespaces);
        self.workloads.extend(other.workloads);
        self.network_policies.extend(other.network_policies);
        self.limit_ranges.extend(other.limit_ranges);
        self.resource_quotas.extend(other.resource_quotas);
        self.secrets.extend(other.secrets);
        self.runner_configs.extend(other.runner_configs);
        self.helm_values.extend(other.helm_values);
        self.admission_policies.extend(other.admission_policies);
        self.admission_bindings.extend(other.admission_bindings);
        self.others.extend(other.others);
        self.unnamespaced.extend(other.unnamespaced);
        self.releases.extend(other.releases);
    }

    /// The number of objects of every kind.
    pub fn len(&self) -> usize {
        self.roles.len()
            + self.bindings.len()
            + self.service_accounts.len()
            + self.namespaces.len()
            + self.workloads.len()
            + self.network_policies.len()
            + self.limit_ranges.len()
            + self.resource_quotas.len()
            + self.secrets.len()
            + self.runner_configs.len()
            + self.helm_values.len()
            + self.admission_policies.len()
            + self.admission_bindings.len()
            + self.others.len()
    }

    /// Whether nothing was read.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
