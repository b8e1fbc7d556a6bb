//! The objects runnerguard reasons about, as plain data.
//!
//! This crate owns the *shape* of RBAC objects (roles, bindings, subjects, rules), of the other
//! objects the engine and the audit need (ServiceAccounts, Namespaces, workloads, network
//! policies, limits, Secrets without their data) and of a GitLab Runner setup (runner TOML,
//! Helm values), each with the [`Origin`] it was read from. It does no I/O and knows nothing about YAML, JSON or Kubernetes clients: the `load`
//! crate turns manifests (through the real `k8s-openapi` types) into these values, and the
//! `engine` crate answers questions about them.
//!
//! One piece of knowledge lives here too, because both the audit and the generator build on
//! it: [`executor`], what the GitLab Runner Kubernetes executor needs by runner version (the
//! project's data file, embedded).
//!
//! Lists keep Kubernetes' meaning exactly: an absent list and an empty list are the same (the
//! aggregation controller compares them with `equality.Semantic`, which treats nil and empty
//! slices alike), and `[""]` stays a list holding one empty string.

pub mod executor;
mod inventory;
mod key;
mod object;
mod rbac;
mod resources;
mod runner;
mod selector;
pub mod terminal;
pub mod versions;
mod workload;

pub use inventory::{Inventory, Release};
pub use key::{KEY_SEPARATOR, key_part, push_key_part};
pub use object::{Namespace, ObjectRef, Origin, OtherObject, ServiceAccount};
pub use rbac::{
    Binding, BindingKind, PolicyRule, Role, RoleKind, RoleRef, SERVICE_ACCOUNT_USER_PREFIX,
    Subject, SubjectKind, service_account_groups, service_account_user, split_service_account_user,
};
pub use resources::{
    API_RESOURCES, ApiResource, ResolvedResource, is_namespaced, resolve_resource,
};
pub use runner::{
    HelmValues, ReleaseHints, RunnerConfig, RunnerConfigSource, RunnerEntry, Setting, SettingValue,
};
pub use selector::{LabelSelector, LabelSelectorRequirement};
pub use workload::{
    AdmissionBinding, AdmissionPolicy, Container, EnvVar, LimitRange, NetworkPeer, NetworkPolicy,
    NetworkRule, ResourceQuota, SecretMeta, Workload,
};
