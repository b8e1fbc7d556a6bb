//! Which RBAC objects count as Kubernetes' own defaults: labelled by the API server and
//! granting no more than the embedded default policy of their kind and name.

use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use runnerguard_model::{Binding, Origin, Role};

use super::Sink;
use crate::Warning;

impl Sink<'_> {
    /// Kubernetes' own default RBAC as a cluster serves it (`kubectl get -o yaml`,
    /// `snapshot --live`), labelled `kubernetes.io/bootstrapping: rbac-defaults` by the API
    /// server, counts as the embedded default policy does (a `builtin:` origin) only when it
    /// grants no more than the embedded default of its kind and name (`within`:
    /// [`within_default_role`], [`within_default_binding`]). The label and the name are
    /// written by whoever wrote the file: alone they never hide a grant (issue #9), so a
    /// default someone widened, or an object merely labelled and named like one, is audited
    /// as written, with a warning naming it (`what`). The `builtin:` origin replacing
    /// `origin`, if any.
    fn default_origin(
        &mut self,
        origin: &Origin,
        labelled: bool,
        within: impl FnOnce() -> bool,
        what: impl FnOnce() -> String,
    ) -> Option<Origin> {
        // The embedded files themselves are the defaults (and reading them is what builds
        // the policy `within` compares with: asking it here would wait on itself).
        if !labelled || self.file.starts_with("builtin:") {
            return None;
        }
        if !within() {
            let what = what();
            self.warnings.push(Warning {
                file: self.file.clone(),
                line: origin.line,
                message: format!(
                    "{what} is labelled kubernetes.io/bootstrapping: rbac-defaults but grants more than Kubernetes' default of that name, or is none: audited as any other object"
                ),
            });
            return None;
        }
        Some(Origin::new(
            Arc::from(format!("builtin:{}", self.file)),
            origin.line,
            origin.column,
        ))
    }

    pub(super) fn push_role(&mut self, mut role: Role, labelled: bool) {
        if let Some(origin) = self.default_origin(
            &role.origin,
            labelled,
            || within_default_role(&role),
            || described(role.kind.as_str(), &role.namespace, &role.name),
        ) {
            role.origin = origin;
        }
        self.inventory.roles.push(role);
    }

    pub(super) fn push_binding(&mut self, mut binding: Binding, labelled: bool) {
        if let Some(origin) = self.default_origin(
            &binding.origin,
            labelled,
            || within_default_binding(&binding),
            || described(binding.kind.as_str(), &binding.namespace, &binding.name),
        ) {
            binding.origin = origin;
        }
        self.inventory.bindings.push(binding);
    }
}

/// ``Kind `ns/name` ``, or ``Kind `name` `` for cluster-scoped objects.
fn described(kind: &str, namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        format!("{kind} `{name}`")
    } else {
        format!("{kind} `{namespace}/{name}`")
    }
}

/// Whether the API server labelled the object as part of its default policy.
pub(super) fn bootstrap_labelled(meta: &ObjectMeta) -> bool {
    meta.labels
        .as_ref()
        .and_then(|l| l.get("kubernetes.io/bootstrapping"))
        .is_some_and(|v| v == "rbac-defaults")
}

/// A role grants no more than the embedded default of its kind and name: a Role or a plain
/// ClusterRole holds only rules the default holds; a ClusterRole that aggregates selects
/// exactly as the default does (its rules are recomputed from the roles it selects, as the
/// aggregation controller does, so what it holds itself does not count).
fn within_default_role(role: &Role) -> bool {
    let Some(defaults) = crate::bootstrap::policy() else {
        return false;
    };
    defaults.roles.iter().any(|d| {
        d.kind == role.kind
            && d.namespace == role.namespace
            && d.name == role.name
            && match (&d.aggregation, &role.aggregation) {
                (Some(want), Some(got)) => want == got,
                (None, None) => role.rules.iter().all(|r| d.rules.contains(r)),
                _ => false,
            }
    })
}

/// A binding grants no more than the embedded default of its kind and name: the same role,
/// and no subject the default does not name.
fn within_default_binding(binding: &Binding) -> bool {
    let Some(defaults) = crate::bootstrap::policy() else {
        return false;
    };
    defaults.bindings.iter().any(|d| {
        d.kind == binding.kind
            && d.namespace == binding.namespace
            && d.name == binding.name
            && d.role_ref == binding.role_ref
            && binding.subjects.iter().all(|s| d.subjects.contains(s))
    })
}
