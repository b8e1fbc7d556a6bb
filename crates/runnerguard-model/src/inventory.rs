//! Everything read from the inputs, before any indexing.

use serde::Serialize;

use crate::{Binding, Namespace, OtherObject, Role, ServiceAccount};

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
    /// Objects of other kinds, kept for later stages.
    pub others: Vec<OtherObject>,
}

impl Inventory {
    /// Appends everything in `other` after this inventory's objects.
    pub fn extend(&mut self, other: Inventory) {
        self.roles.extend(other.roles);
        self.bindings.extend(other.bindings);
        self.service_accounts.extend(other.service_accounts);
        self.namespaces.extend(other.namespaces);
        self.others.extend(other.others);
    }

    /// The number of objects of every kind.
    pub fn len(&self) -> usize {
        self.roles.len()
            + self.bindings.len()
            + self.service_accounts.len()
            + self.namespaces.len()
            + self.others.len()
    }

    /// Whether nothing was read.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
