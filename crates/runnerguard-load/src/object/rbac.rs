//! RBAC objects: Roles, ClusterRoles and their bindings, checked as the API server checks
//! them (pkg/apis/rbac/validation/validation.go) and converted to the model.

use k8s_openapi::api::rbac::v1 as rbac;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use runnerguard_model::{
    Binding, BindingKind, Origin, PolicyRule, Role, RoleKind, RoleRef, Subject,
};
use serde::de::DeserializeOwned;

use super::default_origin::bootstrap_labelled;
use super::{Raw, Sink};

/// A Role's or ClusterRole's parts: metadata, rules and aggregation rule.
type RoleParts = (
    ObjectMeta,
    Option<Vec<rbac::PolicyRule>>,
    Option<rbac::AggregationRule>,
);
/// A RoleBinding's or ClusterRoleBinding's parts: metadata, `roleRef` and subjects.
type BindingParts = (ObjectMeta, rbac::RoleRef, Option<Vec<rbac::Subject>>);

impl Sink<'_> {
    /// A Role (in its namespace) or a ClusterRole, read as `T` and split by `parts`.
    pub(super) fn role<T: DeserializeOwned>(
        &mut self,
        raw: Raw<'_>,
        kind: RoleKind,
        origin: Origin,
        parts: impl FnOnce(T) -> RoleParts,
    ) {
        let Some((meta, written, aggregation)) = self.typed::<T>(raw, kind.as_str()).map(parts)
        else {
            return;
        };
        let namespace = match kind {
            RoleKind::Role => self.namespace(raw, &meta, kind.as_str()),
            RoleKind::ClusterRole => String::new(),
        };
        let aggregation = aggregation.map(|a| {
            a.cluster_role_selectors
                .unwrap_or_default()
                .into_iter()
                .map(crate::workload::selector)
                .collect()
        });
        let labelled = bootstrap_labelled(&meta);
        if let Some((name, labels)) = self.meta(raw, meta, kind.as_str()) {
            let role = Role {
                kind,
                name,
                namespace,
                labels,
                rules: rules(written),
                aggregation,
                origin,
            };
            self.push_role(role, labelled);
        }
    }

    /// A RoleBinding (in its namespace) or a ClusterRoleBinding, read as `T` and split by
    /// `parts`; refused without a complete `roleRef` or with a nameless subject.
    pub(super) fn binding<T: DeserializeOwned>(
        &mut self,
        raw: Raw<'_>,
        kind: BindingKind,
        origin: Origin,
        parts: impl FnOnce(T) -> BindingParts,
    ) {
        let what = kind.as_str();
        let Some((meta, reference, named)) = self.typed::<T>(raw, what).map(parts) else {
            return;
        };
        if !self.check_role_ref(raw, &reference, what)
            || !self.check_subjects(raw, named.as_deref(), what)
        {
            return;
        }
        let namespace = match kind {
            BindingKind::RoleBinding => self.namespace(raw, &meta, what),
            BindingKind::ClusterRoleBinding => {
                self.cluster_binding_warnings(raw, &meta, &reference, named.as_deref());
                String::new()
            }
        };
        let labelled = bootstrap_labelled(&meta);
        if let Some((name, _)) = self.meta(raw, meta, what) {
            let binding = Binding {
                kind,
                name,
                namespace,
                role_ref: role_ref(reference),
                subjects: subjects(named),
                origin,
            };
            self.push_binding(binding, labelled);
        }
    }

    /// What a ClusterRoleBinding holds that the API server refuses, read anyway (it grants
    /// nothing): a `roleRef` to a Role, a ServiceAccount subject without a namespace.
    fn cluster_binding_warnings(
        &mut self,
        raw: Raw<'_>,
        meta: &ObjectMeta,
        reference: &rbac::RoleRef,
        named: Option<&[rbac::Subject]>,
    ) {
        let name = meta.name.as_deref().unwrap_or_default();
        if reference.kind != "ClusterRole" {
            self.warn(raw, format!(
                "ClusterRoleBinding `{name}` refers to a {}: it grants nothing (the API server refuses such a binding)",
                reference.kind
            ));
        }
        for s in named.unwrap_or_default() {
            if s.kind == "ServiceAccount" && s.namespace.as_deref().unwrap_or_default().is_empty() {
                self.warn(raw, format!(
                    "ClusterRoleBinding `{name}`: ServiceAccount subject `{}` has no namespace and matches nobody (the API server requires one)",
                    s.name
                ));
            }
        }
    }

    /// `roleRef` is required, with a kind and a name (k8s-openapi defaults a missing one to
    /// empty strings; the API server refuses it).
    fn check_role_ref(&mut self, raw: Raw<'_>, role_ref: &rbac::RoleRef, kind: &str) -> bool {
        if role_ref.name.is_empty() || role_ref.kind.is_empty() {
            let at = match raw {
                Raw::Yaml(node) => node
                    .get("roleRef")
                    .map_or((node.line, node.column), |n| (n.line, n.column)),
                Raw::Json(_) => self.position(raw),
            };
            self.error(
                at,
                format!("invalid {kind}: `roleRef` needs `kind` and `name`"),
                Some("roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role or ClusterRole, name: ...}"),
            );
            return false;
        }
        true
    }

    /// Every subject has a name: the API server refuses a binding with a nameless one
    /// (pkg/apis/rbac/validation/validation.go `ValidateRoleBindingSubject`: "name:
    /// Required value"), while k8s-openapi reads a missing name as empty.
    fn check_subjects(
        &mut self,
        raw: Raw<'_>,
        subjects: Option<&[rbac::Subject]>,
        kind: &str,
    ) -> bool {
        let Some(i) = subjects
            .unwrap_or_default()
            .iter()
            .position(|s| s.name.is_empty())
        else {
            return true;
        };
        let at = match raw {
            Raw::Yaml(node) => match node.get("subjects").map(|n| &n.value) {
                Some(crate::yaml::Value::Seq(items)) => items
                    .get(i)
                    .map_or((node.line, node.column), |n| (n.line, n.column)),
                _ => (node.line, node.column),
            },
            Raw::Json(_) => self.position(raw),
        };
        self.error(
            at,
            format!("invalid {kind}: `subjects[{i}]` has no `name`"),
            Some("the API server refuses a subject without a name: give the ServiceAccount, User or Group name"),
        );
        false
    }
}

fn rules(rules: Option<Vec<rbac::PolicyRule>>) -> Vec<PolicyRule> {
    rules
        .unwrap_or_default()
        .into_iter()
        .map(|r| PolicyRule {
            verbs: r.verbs,
            api_groups: r.api_groups.unwrap_or_default(),
            resources: r.resources.unwrap_or_default(),
            resource_names: r.resource_names.unwrap_or_default(),
            non_resource_urls: r.non_resource_urls.unwrap_or_default(),
        })
        .collect()
}

fn role_ref(r: rbac::RoleRef) -> RoleRef {
    RoleRef {
        api_group: r.api_group.unwrap_or_default(),
        kind: r.kind,
        name: r.name,
    }
}

fn subjects(subjects: Option<Vec<rbac::Subject>>) -> Vec<Subject> {
    subjects
        .unwrap_or_default()
        .into_iter()
        .map(|s| Subject {
            kind: s.kind,
            api_group: s.api_group.unwrap_or_default(),
            name: s.name,
            namespace: s.namespace.unwrap_or_default(),
        })
        .collect()
}
