//! The escalation and authorizer vocabulary: identities, role kinds, edge kinds, mismatches.
//! Identities, role kinds and mismatches are written as the engine and model serialise them,
//! so the schema describes those types themselves (their `schemars` feature).

use runnerguard_engine as engine;
use schemars::JsonSchema;
use serde::Serialize;

pub use engine::{Identity, Mismatch};
pub use runnerguard_model::RoleKind;

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
