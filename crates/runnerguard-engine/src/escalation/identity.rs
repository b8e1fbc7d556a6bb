//! The vocabulary of escalation: the identities a subject can become, the kinds of edge between
//! them, and the paths and answers the search returns.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use runnerguard_model::{
    RoleKind, Subject, SubjectKind, service_account_user, split_service_account_user,
};
use serde::Serialize;

use crate::{Action, Grant, UserInfo};

/// An identity a subject can become.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Identity {
    /// A user (not a ServiceAccount), with `system:authenticated`.
    User {
        /// The user name.
        name: String,
    },
    /// Membership of a group (through impersonation), with `system:authenticated`.
    Group {
        /// The group.
        name: String,
    },
    /// A ServiceAccount, with the groups the API server gives it.
    ServiceAccount {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// Every ServiceAccount of every namespace.
    AnyServiceAccount,
    /// The kubelet API of the nodes: exec into any pod they run.
    Node,
    /// The rights of a role bound by the subject itself (through `bind`).
    BoundRole {
        /// Role or ClusterRole.
        role_kind: RoleKind,
        /// The role's namespace (empty for a ClusterRole).
        role_namespace: String,
        /// The role's name.
        role_name: String,
        /// Where it is bound: a namespace, or empty for cluster-wide.
        scope: String,
    },
    /// Every permission in one namespace.
    NamespaceAdmin {
        /// The namespace.
        namespace: String,
    },
    /// Every permission everywhere (cluster-admin, `system:masters`).
    ClusterAdmin,
}

impl Identity {
    /// The identity of an authenticated user as given (a ServiceAccount user name becomes a
    /// ServiceAccount identity).
    pub fn of(user: &UserInfo) -> Self {
        Self::of_user_name(&user.name)
    }

    /// The identity a binding's subject names, its ServiceAccount namespace resolved (as
    /// [`crate::Policy::subjects`] gives them); `None` for a kind RBAC does not know. How the
    /// authorizer sees it is [`Identity::user_info`].
    pub fn of_subject(subject: &Subject) -> Option<Self> {
        Some(match SubjectKind::parse(&subject.kind)? {
            SubjectKind::User => Self::of_user_name(&subject.name),
            SubjectKind::Group => Self::Group {
                name: subject.name.clone(),
            },
            SubjectKind::ServiceAccount => Self::ServiceAccount {
                namespace: subject.namespace.clone(),
                name: subject.name.clone(),
            },
        })
    }

    /// A user name's identity: a ServiceAccount's user name is that ServiceAccount.
    pub(super) fn of_user_name(user: &str) -> Self {
        match split_service_account_user(user) {
            Some((namespace, name)) => Self::ServiceAccount {
                namespace: namespace.to_owned(),
                name: name.to_owned(),
            },
            None => Self::User {
                name: user.to_owned(),
            },
        }
    }

    /// How the authorizer sees this identity, for identities RBAC evaluates.
    pub fn user_info(&self) -> Option<UserInfo> {
        match self {
            Self::User { name } => Some(UserInfo::impersonated(name, &[])),
            // A member of the group, as impersonating it gives (impersonation.go adds
            // `system:authenticated` unless `system:unauthenticated` is among the groups):
            // anonymous requests are not authenticated ones.
            Self::Group { name } => Some(UserInfo::impersonated("", std::slice::from_ref(name))),
            Self::ServiceAccount { namespace, name } => Some(UserInfo::impersonated(
                &service_account_user(namespace, name),
                &[],
            )),
            _ => None,
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User { name } => write!(f, "User {name}"),
            Self::Group { name } => write!(f, "Group {name}"),
            Self::ServiceAccount { namespace, name } => {
                write!(f, "ServiceAccount {namespace}/{name}")
            }
            Self::AnyServiceAccount => f.write_str("every ServiceAccount of every namespace"),
            Self::Node => f.write_str("the kubelet API of every node"),
            Self::BoundRole {
                role_kind,
                role_namespace,
                role_name,
                scope,
            } => {
                let role = if role_namespace.is_empty() {
                    format!("{role_kind} {role_name}")
                } else {
                    format!("{role_kind} {role_namespace}/{role_name}")
                };
                if scope.is_empty() {
                    write!(f, "the rights of {role} cluster-wide")
                } else {
                    write!(f, "the rights of {role} in namespace `{scope}`")
                }
            }
            Self::NamespaceAdmin { namespace } => {
                write!(f, "every permission in namespace `{namespace}`")
            }
            Self::ClusterAdmin => f.write_str("every permission in the cluster (cluster-admin)"),
        }
    }
}

/// The kinds of edge: the permission patterns that turn one identity into another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Primitive {
    /// `create pods`: a pod can run as any ServiceAccount of its namespace.
    CreatePods,
    /// Create or change a workload controller: its pods run as any ServiceAccount.
    Workloads,
    /// Exec or attach into pods, or change them: their ServiceAccount's token.
    ExecPods,
    /// Read Secrets: legacy ServiceAccount tokens.
    ReadSecrets,
    /// Create or update Secrets: the token controller fills in a token for any ServiceAccount.
    WriteSecrets,
    /// `create serviceaccounts/token`: a token for a ServiceAccount.
    TokenRequest,
    /// `bind` a role and create bindings: the role's rights.
    Bind,
    /// `escalate` and create or update roles: any permission.
    Escalate,
    /// `impersonate`: become a user, group or ServiceAccount.
    Impersonate,
    /// `nodes/proxy`: the kubelet API, exec into any pod of the node.
    NodeProxy,
    /// Write admission webhooks or policies: see and rewrite every admitted object.
    AdmissionControl,
    /// Create and approve CSRs: a client certificate for any user or group.
    CsrApproval,
    /// `*` on `*`.
    Everything,
    /// `system:masters` bypasses RBAC.
    Superuser,
    /// Every ServiceAccount includes each one.
    Includes,
}

impl Primitive {
    /// Every kind of edge, in declaration order (the v1 JSON Schema lists them from here).
    pub const ALL: [Primitive; 15] = [
        Self::CreatePods,
        Self::Workloads,
        Self::ExecPods,
        Self::ReadSecrets,
        Self::WriteSecrets,
        Self::TokenRequest,
        Self::Bind,
        Self::Escalate,
        Self::Impersonate,
        Self::NodeProxy,
        Self::AdmissionControl,
        Self::CsrApproval,
        Self::Everything,
        Self::Superuser,
        Self::Includes,
    ];

    /// What the edge means, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::CreatePods => {
                "may create pods, which can run as any ServiceAccount of the namespace"
            }
            Self::Workloads => {
                "may create or change workload controllers, whose pods can run as any ServiceAccount of the namespace"
            }
            Self::ExecPods => {
                "may run commands in (or change) pods, and so use their ServiceAccount tokens"
            }
            Self::ReadSecrets => "may read Secrets, including ServiceAccount token Secrets",
            Self::WriteSecrets => {
                "may create or update Secrets, and so have the token controller mint a ServiceAccount token"
            }
            Self::TokenRequest => "may request ServiceAccount tokens",
            Self::Bind => "may bind roles it does not hold",
            Self::Escalate => "may write roles with permissions it does not hold (`escalate`)",
            Self::Impersonate => "may impersonate",
            Self::NodeProxy => "may use the kubelet API through nodes/proxy",
            Self::AdmissionControl => {
                "may write admission webhooks or policies, which see and rewrite every admitted object"
            }
            Self::CsrApproval => {
                "may create and approve certificate signing requests for API server client certificates"
            }
            Self::Everything => "holds `*` on `*`",
            Self::Superuser => "is in `system:masters`, which the API server lets do anything",
            Self::Includes => "is every ServiceAccount, this one among them",
        }
    }
}

/// One permission an edge rests on, and the rule that grants it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Permission {
    /// The request the authorizer allowed.
    pub action: Action,
    /// The grant that allowed it.
    pub grant: Grant,
}

/// One step of an escalation path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The pattern.
    pub primitive: Primitive,
    /// The permissions it rests on (two for `bind` or CSR approval, none for `system:masters`).
    /// Shared: one permission often leads to every ServiceAccount of a namespace.
    pub permissions: Arc<[Permission]>,
    /// The identity it leads to.
    pub to: Identity,
    /// A caveat, when the edge is conservative: most are the edge table's own text, which
    /// every step of the edge shares instead of copying (a search clones its steps).
    pub note: Option<Cow<'static, str>>,
}

/// An identity reached, and the shortest path to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reached {
    /// The identity.
    pub identity: Identity,
    /// The steps from the subject asked about (empty for the subject itself).
    pub path: Vec<Step>,
}

/// An effective answer: allowed through some reachable identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EffectiveDecision {
    /// Whether some reachable identity may perform the action.
    pub allowed: bool,
    /// The identity that may, with its path; `None` when not allowed.
    pub via: Option<Reached>,
    /// The grant that allows it to that identity (`None` for cluster-admin and
    /// namespace-admin identities, which hold everything).
    pub grant: Option<Grant>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_primitives_are_listed_in_declaration_order() {
        for (i, p) in Primitive::ALL.into_iter().enumerate() {
            assert_eq!(p as usize, i, "{p:?}");
        }
        // `Includes` is the last variant: one added after it must move this line.
        assert_eq!(Primitive::ALL.len(), Primitive::Includes as usize + 1);
    }

    fn subject(kind: &str, namespace: &str, name: &str) -> Subject {
        Subject {
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            api_group: String::new(),
        }
    }

    #[test]
    fn subjects_name_identities() {
        let sa = Identity::ServiceAccount {
            namespace: "ci".to_owned(),
            name: "runner".to_owned(),
        };
        assert_eq!(
            Identity::of_subject(&subject("ServiceAccount", "ci", "runner")),
            Some(sa.clone())
        );
        // A ServiceAccount's user name is that ServiceAccount, as for an authenticated user.
        assert_eq!(
            Identity::of_subject(&subject("User", "", "system:serviceaccount:ci:runner")),
            Some(sa)
        );
        assert_eq!(
            Identity::of_subject(&subject("Group", "", "devs"))
                .and_then(|i| i.user_info())
                .map(|u| u.groups),
            Some(vec!["devs".to_owned(), "system:authenticated".to_owned()])
        );
        // Anonymous requests carry `system:unauthenticated` only: a role bound to
        // `system:authenticated` is not theirs.
        for group in ["system:unauthenticated", "system:authenticated"] {
            let groups = Identity::Group {
                name: group.to_owned(),
            }
            .user_info()
            .map(|u| u.groups);
            assert_eq!(groups, Some(vec![group.to_owned()]));
        }
        assert_eq!(Identity::of_subject(&subject("Robot", "", "r2")), None);
    }
}
