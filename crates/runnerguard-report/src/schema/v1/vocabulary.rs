//! The escalation and authorizer vocabulary: identities, role kinds, edge kinds, mismatches.

use runnerguard_engine as engine;
use runnerguard_model as model;
use schemars::JsonSchema;
use serde::Serialize;

/// An identity a subject can become.
#[derive(Clone, Copy, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Identity<'a> {
    /// A user.
    User {
        /// The user name.
        name: &'a str,
    },
    /// Membership of a group.
    Group {
        /// The group.
        name: &'a str,
    },
    /// A ServiceAccount.
    ServiceAccount {
        /// Its namespace.
        namespace: &'a str,
        /// Its name.
        name: &'a str,
    },
    /// Every ServiceAccount of every namespace.
    AnyServiceAccount,
    /// The kubelet API of the nodes.
    Node,
    /// The rights of a role the subject may bind.
    BoundRole {
        /// `Role` or `ClusterRole`.
        #[serde(rename = "roleKind")]
        role_kind: RoleKind,
        /// The role's namespace (empty for a ClusterRole).
        #[serde(rename = "roleNamespace")]
        role_namespace: &'a str,
        /// The role's name.
        #[serde(rename = "roleName")]
        role_name: &'a str,
        /// Where it is bound: a namespace, or empty for cluster-wide.
        scope: &'a str,
    },
    /// Every permission in one namespace.
    NamespaceAdmin {
        /// The namespace.
        namespace: &'a str,
    },
    /// Every permission everywhere.
    ClusterAdmin,
}

impl<'a> From<&'a engine::Identity> for Identity<'a> {
    fn from(i: &'a engine::Identity) -> Self {
        use engine::Identity as I;
        match i {
            I::User { name } => Self::User { name },
            I::Group { name } => Self::Group { name },
            I::ServiceAccount { namespace, name } => Self::ServiceAccount { namespace, name },
            I::AnyServiceAccount => Self::AnyServiceAccount,
            I::Node => Self::Node,
            I::BoundRole {
                role_kind,
                role_namespace,
                role_name,
                scope,
            } => Self::BoundRole {
                role_kind: (*role_kind).into(),
                role_namespace,
                role_name,
                scope,
            },
            I::NamespaceAdmin { namespace } => Self::NamespaceAdmin { namespace },
            I::ClusterAdmin => Self::ClusterAdmin,
        }
    }
}

/// `Role` or `ClusterRole`.
#[derive(Clone, Copy, Serialize, JsonSchema)]
pub enum RoleKind {
    /// A namespaced Role.
    Role,
    /// A ClusterRole.
    ClusterRole,
}

impl From<model::RoleKind> for RoleKind {
    fn from(k: model::RoleKind) -> Self {
        match k {
            model::RoleKind::Role => Self::Role,
            model::RoleKind::ClusterRole => Self::ClusterRole,
        }
    }
}

/// The kind of an escalation edge.
#[derive(Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(
    missing_docs,
    reason = "docs/json-output.md and `description` say what each means"
)]
pub enum Primitive {
    CreatePods,
    Workloads,
    ExecPods,
    ReadSecrets,
    WriteSecrets,
    TokenRequest,
    Bind,
    Escalate,
    Impersonate,
    NodeProxy,
    AdmissionControl,
    CsrApproval,
    Everything,
    Superuser,
    Includes,
}

impl From<engine::Primitive> for Primitive {
    fn from(p: engine::Primitive) -> Self {
        use engine::Primitive as P;
        match p {
            P::CreatePods => Self::CreatePods,
            P::Workloads => Self::Workloads,
            P::ExecPods => Self::ExecPods,
            P::ReadSecrets => Self::ReadSecrets,
            P::WriteSecrets => Self::WriteSecrets,
            P::TokenRequest => Self::TokenRequest,
            P::Bind => Self::Bind,
            P::Escalate => Self::Escalate,
            P::Impersonate => Self::Impersonate,
            P::NodeProxy => Self::NodeProxy,
            P::AdmissionControl => Self::AdmissionControl,
            P::CsrApproval => Self::CsrApproval,
            P::Everything => Self::Everything,
            P::Superuser => Self::Superuser,
            P::Includes => Self::Includes,
        }
    }
}

/// How a rule fails to allow a request.
#[derive(Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Mismatch {
    /// The verb is not listed.
    Verb,
    /// The API group is not listed.
    ApiGroup,
    /// The resource (or `resource/subresource`) is not listed.
    Resource,
    /// The name is not among `resourceNames`.
    ResourceName,
    /// The URL is not listed.
    NonResourceUrl,
    /// Resource rule and URL request, or the reverse.
    RequestType,
    /// A RoleBinding in another namespace.
    Namespace,
}

impl From<engine::Mismatch> for Mismatch {
    fn from(m: engine::Mismatch) -> Self {
        use engine::Mismatch as M;
        match m {
            M::Verb => Self::Verb,
            M::ApiGroup => Self::ApiGroup,
            M::Resource => Self::Resource,
            M::ResourceName => Self::ResourceName,
            M::NonResourceUrl => Self::NonResourceUrl,
            M::RequestType => Self::RequestType,
            M::Namespace => Self::Namespace,
        }
    }
}
