//! Reading manifests into runnerguard's model.
//!
//! This crate owns everything between bytes and [`runnerguard_model::Inventory`]: finding the
//! files behind `-f` arguments (files, directories recursively, `-` for stdin), splitting
//! multi-document YAML and JSON streams, unwrapping `List` kinds, deserializing each object
//! through the real `k8s-openapi` types, and remembering where each object starts. It also
//! embeds Kubernetes' bootstrap RBAC policy ([`default_policy`]), which every real cluster has.
//!
//! Malformed input is an [`Error`] carrying one [`Diagnostic`] per problem, each with file,
//! line, column and what was expected; every document is tried, so one run reports them all.
//! YAML is read with `serde-saphyr` under a budget proportional to the input's size, so alias
//! bombs and deep nesting fail fast instead of exhausting memory.

mod bootstrap;
mod error;
pub mod git;
mod input;
mod json;
mod limits;
#[cfg(feature = "live")]
mod live;
mod object;
mod runner;
mod snippet;
mod workload;
mod wrappers;
mod yaml;

pub use bootstrap::{DEFAULT_POLICY_VERSION, default_policy};
pub use error::{Diagnostic, Error, Result, Warning};
pub use input::{
    Input, LoadOptions, Loaded, MAX_DIAGNOSTICS, load_inputs, load_inputs_with, load_str,
};
pub use json::{Cursor, LineIndex};
#[cfg(feature = "live")]
pub use live::{
    LiveError, LiveOptions, Marks, Progress, SKIPPED_SECRETS, Snapshot, Unread, read_cluster,
};
pub use snippet::Snippet;
