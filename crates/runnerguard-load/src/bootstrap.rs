//! Kubernetes' bootstrap RBAC policy, embedded: the default ClusterRoles, ClusterRoleBindings,
//! Roles and RoleBindings every real cluster has (`cluster-admin`, `admin`/`edit`/`view`,
//! `system:basic-user`, `system:discovery`, the controllers' roles, ...).
//!
//! The files are data/k8s-bootstrap/ at the root of the repository; PROVENANCE.md there says
//! where they come from (kube-apiserver v1.32.10's `bootstrappolicy` package).

use std::sync::LazyLock;

use runnerguard_model::Inventory;

use crate::input::merge_defaults;
use crate::{Error, Loaded, Result, load_str};

/// The Kubernetes version whose bootstrap policy is embedded.
pub const DEFAULT_POLICY_VERSION: &str = "v1.32.10";

const FILES: [(&str, &str); 6] = [
    (
        "builtin:k8s-bootstrap/cluster-roles.yaml",
        include_str!("../../../data/k8s-bootstrap/cluster-roles.yaml"),
    ),
    (
        "builtin:k8s-bootstrap/cluster-role-bindings.yaml",
        include_str!("../../../data/k8s-bootstrap/cluster-role-bindings.yaml"),
    ),
    (
        "builtin:k8s-bootstrap/controller-roles.yaml",
        include_str!("../../../data/k8s-bootstrap/controller-roles.yaml"),
    ),
    (
        "builtin:k8s-bootstrap/controller-role-bindings.yaml",
        include_str!("../../../data/k8s-bootstrap/controller-role-bindings.yaml"),
    ),
    (
        "builtin:k8s-bootstrap/namespace-roles.yaml",
        include_str!("../../../data/k8s-bootstrap/namespace-roles.yaml"),
    ),
    (
        "builtin:k8s-bootstrap/namespace-role-bindings.yaml",
        include_str!("../../../data/k8s-bootstrap/namespace-role-bindings.yaml"),
    ),
];

/// The policy, read once per process: every command, every test and the audit's own probes
/// share one parse of the embedded YAML. The error is kept as text (a build whose embedded
/// files do not load; the tests below catch it).
static POLICY: LazyLock<Result<Inventory, String>> = LazyLock::new(|| {
    let mut inventory = Inventory::default();
    for (name, text) in FILES {
        let loaded = load_str(name, text).map_err(|e| format!("{name}: {e}"))?;
        inventory.extend(loaded.inventory);
    }
    Ok(inventory)
});

/// The parsed policy itself, without a copy; `None` if the embedded files do not load.
pub(crate) fn policy() -> Option<&'static Inventory> {
    POLICY.as_ref().ok()
}

/// The default cluster policy, as stored (aggregated roles still empty: the engine aggregates).
pub fn default_policy() -> Result<Inventory> {
    POLICY
        .clone()
        .map_err(|message| Error::Embedded { message })
}

impl Loaded {
    /// Puts the default cluster policy before the loaded objects; loaded objects with the
    /// same kind, namespace and name as a default one replace it.
    pub fn add_default_policy(&mut self) -> Result<(), Error> {
        merge_defaults(self, default_policy()?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_policy_loads_completely() {
        let inv = default_policy().unwrap();
        let cluster_roles = inv
            .roles
            .iter()
            .filter(|r| r.kind == runnerguard_model::RoleKind::ClusterRole)
            .count();
        // PROVENANCE.md: 31 cluster roles + 33 controller roles; 7 namespace roles.
        assert_eq!(cluster_roles, 64);
        assert_eq!(inv.roles.len(), 71);
        assert_eq!(inv.bindings.len(), 12 + 33 + 7);
        assert!(
            inv.roles
                .iter()
                .all(|r| r.origin.is_builtin() && r.origin.line > 0)
        );
        let admin = inv.roles.iter().find(|r| r.name == "admin").unwrap();
        assert!(admin.aggregation.is_some() && admin.rules.is_empty());
    }
}
