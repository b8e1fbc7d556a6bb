//! Where an object came from, and the non-RBAC objects the engine needs.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// The place an object was read from: a file (or `-` for stdin, or a `builtin:` name for the
/// embedded default policy) and the 1-based line and column where the object starts.
///
/// A line of 0 means the position is unknown (objects built in code, for instance).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Origin {
    /// The file, `-` for standard input, or `builtin:<name>` for embedded data.
    pub file: Arc<str>,
    /// 1-based line; 0 when unknown.
    pub line: u32,
    /// 1-based column; 0 when unknown.
    pub column: u32,
}

impl Origin {
    /// An origin at `line`:`column` of `file`.
    pub fn new(file: Arc<str>, line: u32, column: u32) -> Self {
        Self { file, line, column }
    }

    /// Whether this origin is the embedded default policy rather than user input.
    pub fn is_builtin(&self) -> bool {
        self.file.starts_with("builtin:")
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.file)
        } else {
            write!(f, "{}:{}", self.file, self.line)
        }
    }
}

/// A reference to any object: enough to name it in a report.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObjectRef {
    /// `apiVersion`, e.g. `rbac.authorization.k8s.io/v1`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// `kind`, e.g. `RoleBinding`.
    pub kind: String,
    /// Namespace; empty for cluster-scoped objects.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// Where the object was read from.
    #[serde(flatten)]
    pub origin: Origin,
}

/// A ServiceAccount.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceAccount {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `automountServiceAccountToken`; `None` when not set (Kubernetes then mounts the token).
    pub automount_token: Option<bool>,
    /// Where it was read from.
    pub origin: Origin,
}

impl ServiceAccount {
    /// A reference to this ServiceAccount, for reports.
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            api_version: "v1".to_owned(),
            kind: "ServiceAccount".to_owned(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            origin: self.origin.clone(),
        }
    }

    /// The user name the API server gives this ServiceAccount's tokens.
    pub fn user_name(&self) -> String {
        crate::service_account_user(&self.namespace, &self.name)
    }
}

/// A Namespace, with its labels (Pod Security labels live there).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Namespace {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// Where it was read from.
    pub origin: Origin,
}

impl Namespace {
    /// A reference to this Namespace, for reports.
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            api_version: "v1".to_owned(),
            kind: "Namespace".to_owned(),
            namespace: String::new(),
            name: self.name.clone(),
            origin: self.origin.clone(),
        }
    }
}

/// An object of a kind the engine does not interpret yet, kept so later stages can use it and
/// so reports can count it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OtherObject {
    /// The object's identity and origin.
    pub object: ObjectRef,
}
