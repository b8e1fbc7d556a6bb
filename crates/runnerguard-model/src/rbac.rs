//! Roles, bindings, subjects and rules.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::{LabelSelector, Origin};

/// The prefix of every ServiceAccount user name (`system:serviceaccount:<ns>:<name>`).
pub const SERVICE_ACCOUNT_USER_PREFIX: &str = "system:serviceaccount:";

/// The user name of ServiceAccount `name` in `namespace`
/// (staging/src/k8s.io/apiserver/pkg/authentication/serviceaccount/util.go `MakeUsername`).
pub fn service_account_user(namespace: &str, name: &str) -> String {
    let mut user = String::new();
    push_service_account_user(&mut user, namespace, name);
    user
}

/// Appends [`service_account_user`]`(namespace, name)` to `user`.
fn push_service_account_user(user: &mut String, namespace: &str, name: &str) {
    user.reserve(SERVICE_ACCOUNT_USER_PREFIX.len() + namespace.len() + 1 + name.len());
    user.push_str(SERVICE_ACCOUNT_USER_PREFIX);
    user.push_str(namespace);
    user.push(':');
    user.push_str(name);
}

/// Splits a ServiceAccount user name into namespace and name, as `serviceaccount.SplitUsername`
/// does: exactly two non-empty parts after the prefix.
pub fn split_service_account_user(user: &str) -> Option<(&str, &str)> {
    let rest = user.strip_prefix(SERVICE_ACCOUNT_USER_PREFIX)?;
    let (namespace, name) = rest.split_once(':')?;
    if namespace.is_empty() || name.is_empty() || name.contains(':') {
        return None;
    }
    Some((namespace, name))
}

/// The groups the API server gives every ServiceAccount of `namespace`
/// (`serviceaccount.MakeGroupNames`): `system:serviceaccounts` and
/// `system:serviceaccounts:<namespace>`.
pub fn service_account_groups(namespace: &str) -> [String; 2] {
    [
        "system:serviceaccounts".to_owned(),
        format!("system:serviceaccounts:{namespace}"),
    ]
}

/// One RBAC rule. Lists are kept verbatim: matching is exact and case-sensitive.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    /// `verbs`.
    pub verbs: Vec<String>,
    /// `apiGroups`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub api_groups: Vec<String>,
    /// `resources`, possibly `resource/subresource`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// `resourceNames`; empty means any name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
    /// `nonResourceURLs`.
    #[serde(rename = "nonResourceURLs", skip_serializing_if = "Vec::is_empty")]
    pub non_resource_urls: Vec<String>,
}

impl PolicyRule {
    /// A rule over resources: `apiGroups`, `resources` (possibly `resource/subresource`) and
    /// `verbs` as given, any name. For rules written in code: the default ones a rule judges
    /// against, and tests.
    pub fn resource(api_groups: &[&str], resources: &[&str], verbs: &[&str]) -> Self {
        let own = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
        Self {
            verbs: own(verbs),
            api_groups: own(api_groups),
            resources: own(resources),
            ..Self::default()
        }
    }

    /// Whether this rule speaks about non-resource URLs only.
    pub fn is_non_resource(&self) -> bool {
        !self.non_resource_urls.is_empty() && self.resources.is_empty()
    }
}

impl fmt::Display for PolicyRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list(f: &mut fmt::Formatter<'_>, key: &str, v: &[String]) -> fmt::Result {
            write!(f, "{key}: [")?;
            for (i, s) in v.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{s:?}")?;
            }
            f.write_str("]")
        }
        f.write_str("{")?;
        let mut first = true;
        for (key, v) in [
            ("apiGroups", &self.api_groups),
            ("resources", &self.resources),
            ("resourceNames", &self.resource_names),
            ("nonResourceURLs", &self.non_resource_urls),
            ("verbs", &self.verbs),
        ] {
            if v.is_empty() && key != "verbs" {
                continue;
            }
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            list(f, key, v)?;
        }
        f.write_str("}")
    }
}

/// Declares an enum of Kubernetes kinds, each variant spelt as its kind, with `as_str` and
/// `Display` giving that name.
macro_rules! kinds {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$doc:meta])* $variant:ident,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
        pub enum $name {
            $($(#[$doc])* $variant,)+
        }

        impl $name {
            /// The Kubernetes kind name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => stringify!($variant),)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

kinds! {
    /// Whether a role is a namespaced `Role` or a `ClusterRole`.
    pub enum RoleKind {
        /// A namespaced `Role`.
        Role,
        /// A `ClusterRole`.
        ClusterRole,
    }
}

/// A `Role` or `ClusterRole`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Role {
    /// Role or ClusterRole.
    pub kind: RoleKind,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`; empty for a ClusterRole.
    pub namespace: String,
    /// `metadata.labels` (aggregation selects on them).
    pub labels: BTreeMap<String, String>,
    /// `rules` as stored.
    pub rules: Vec<PolicyRule>,
    /// `aggregationRule.clusterRoleSelectors`, for a ClusterRole that aggregates.
    pub aggregation: Option<Vec<LabelSelector>>,
    /// Where it was read from.
    pub origin: Origin,
}

/// `object_ref` for the RBAC objects, which all have a kind, a namespace, a name and an origin.
macro_rules! rbac_object_ref {
    ($($ty:ty),+) => {$(
        impl $ty {
            /// A reference to this object, for reports.
            pub fn object_ref(&self) -> crate::ObjectRef {
                crate::ObjectRef {
                    api_version: "rbac.authorization.k8s.io/v1".to_owned(),
                    kind: self.kind.as_str().to_owned(),
                    namespace: self.namespace.clone(),
                    name: self.name.clone(),
                    origin: self.origin.clone(),
                }
            }
        }
    )+};
}

rbac_object_ref!(Role, Binding);

/// `roleRef` of a binding.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct RoleRef {
    /// `apiGroup`; not checked by the authorizer.
    #[serde(rename = "apiGroup")]
    pub api_group: String,
    /// `Role` or `ClusterRole` (anything else refers to nothing).
    pub kind: String,
    /// The role's name.
    pub name: String,
}

kinds! {
    /// The kinds of subject RBAC knows.
    pub enum SubjectKind {
        /// `User`.
        User,
        /// `Group`.
        Group,
        /// `ServiceAccount`.
        ServiceAccount,
    }
}

impl SubjectKind {
    /// Parses a subject kind exactly as the authorizer compares it (case-sensitive).
    pub fn parse(kind: &str) -> Option<Self> {
        match kind {
            "User" => Some(Self::User),
            "Group" => Some(Self::Group),
            "ServiceAccount" => Some(Self::ServiceAccount),
            _ => None,
        }
    }
}

/// A binding's subject, as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Subject {
    /// `kind`, verbatim (unknown kinds never match).
    pub kind: String,
    /// `apiGroup`; ignored by the authorizer.
    #[serde(rename = "apiGroup", skip_serializing_if = "String::is_empty")]
    pub api_group: String,
    /// `name`.
    pub name: String,
    /// `namespace` (ServiceAccounts); may be empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
}

impl Subject {
    /// A subject of `kind` named `name`, with no namespace or apiGroup.
    pub fn new(kind: &str, name: &str) -> Self {
        Self {
            kind: kind.to_owned(),
            api_group: String::new(),
            name: name.to_owned(),
            namespace: String::new(),
        }
    }

    /// The ServiceAccount subject `namespace`/`name`.
    pub fn service_account(namespace: &str, name: &str) -> Self {
        Self {
            kind: "ServiceAccount".to_owned(),
            api_group: String::new(),
            name: name.to_owned(),
            namespace: namespace.to_owned(),
        }
    }

    /// The user name this subject stands for when it is a ServiceAccount, with an empty
    /// subject namespace defaulting to `binding_namespace` (empty for a ClusterRoleBinding,
    /// where such a subject matches nobody).
    pub fn service_account_user(&self, binding_namespace: &str) -> Option<String> {
        let mut user = String::new();
        self.write_service_account_user(binding_namespace, &mut user)
            .then_some(user)
    }

    /// [`Subject::service_account_user`] written into `user` (cleared first), for callers that
    /// ask for many subjects; false, with `user` left empty, when there is none.
    pub fn write_service_account_user(&self, binding_namespace: &str, user: &mut String) -> bool {
        user.clear();
        if self.kind != "ServiceAccount" {
            return false;
        }
        let ns = if self.namespace.is_empty() {
            binding_namespace
        } else {
            &self.namespace
        };
        if ns.is_empty() {
            return false;
        }
        push_service_account_user(user, ns, &self.name);
        true
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

kinds! {
    /// Whether a binding is a `RoleBinding` or a `ClusterRoleBinding`.
    pub enum BindingKind {
        /// A namespaced `RoleBinding`.
        RoleBinding,
        /// A `ClusterRoleBinding`.
        ClusterRoleBinding,
    }
}

/// A `RoleBinding` or `ClusterRoleBinding`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Binding {
    /// RoleBinding or ClusterRoleBinding.
    pub kind: BindingKind,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`; empty for a ClusterRoleBinding.
    pub namespace: String,
    /// `roleRef`.
    pub role_ref: RoleRef,
    /// `subjects`.
    pub subjects: Vec<Subject>,
    /// Where it was read from.
    pub origin: Origin,
}
