//! The escalation and authorizer vocabulary: identities, role kinds, edge kinds, mismatches,
//! written as the engine and model serialise them: the schema describes those types
//! themselves (their `schemars` feature), or lists the engine's edge kinds.

use runnerguard_engine as engine;

pub use engine::{Identity, Mismatch};
pub use runnerguard_model::RoleKind;

enum_schema!(
    Primitive = engine::Primitive::ALL,
    "The kind of an escalation edge."
);
