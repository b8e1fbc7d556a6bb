//! `runnerguard.toml`: the file `runnerguard init` writes, `runnerguard generate` builds a
//! setup from and `runnerguard audit --config` takes its `[audit]` section from
//! (docs/config.md describes every key).
//!
//! [`read()`] gives the file's sections as typed structs ([`ConfigFile`]), every value with its
//! span; each key is declared once, as a field. Every problem is a [`ConfigDiagnostic`] at
//! `file:line:col` with the lines around it (redacted as the manifests' are): TOML syntax,
//! unknown keys (with the closest known key), wrong types, tokens written in clear. What the
//! values mean is checked by whoever uses them, with the same diagnostics through
//! [`Checks`] (which also holds the checks every use shares: Kubernetes names, namespaces of
//! the setup's own, the GitLab URL): `generate` for the setup's sections, [`Audit::resolve`]
//! for `[audit]` against the rule catalogue it is given. This crate depends on neither
//! command.
//!
//! ```
//! use runnerguard_config::{Source, read};
//!
//! let source = Source::new("runnerguard.toml", "[[tenants]]\nnmae = \"teams\"\n");
//! let problems = read(&source).unwrap_err();
//! assert_eq!(
//!     problems[0].to_string(),
//!     "runnerguard.toml:2:1: unknown key `nmae` in [[tenants]]\n  help: did you mean `name`?"
//! );
//! ```

mod audit;
mod check;
mod diagnostic;
mod file;
mod read;

pub use audit::{AuditSettings, Catalogue};
pub use check::{Checks, SYSTEM_NAMESPACES};
pub use diagnostic::{ConfigDiagnostic, Source};
pub use file::{
    Audit, ConfigFile, Container, DeployNamespace, DeployNamespaceTable, List, Manager, Quota,
    Resources, SecurityContext, Severities, Spanned, Tenant, Text, Texts,
};
pub use read::{MAX_PROBLEMS, TOKEN_HELP, closest, read};
