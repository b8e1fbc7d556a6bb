//! Kubernetes RBAC, answered offline with the kube-apiserver authorizer's exact semantics.
//!
//! The engine owns the questions: *may this identity do this?* ([`Policy::authorize`]),
//! *what may it do here?* ([`Policy::rules_for`]), *who may do this?*
//! ([`Policy::allowed_subjects`]), and *why not?* ([`Policy::near_misses`]). Every answer carries
//! its evidence: the binding, the role and the index of the rule that decided it.
//!
//! It also reproduces the pieces of Kubernetes that change what a role means before anyone asks:
//! ClusterRole aggregation ([`aggregate()`]) and the escalation check's rule comparison
//! ([`covers()`]). Beyond RBAC as written, [`Escalation`] finds the identities a subject can
//! become, and [`kubectl`] holds kubectl's side of a question: how `kubectl auth can-i` turns its
//! arguments into a request (with its warnings) and how it lists rules. Reading files is the
//! `load` crate's job; printing is the CLI's.
//!
//! The matching code follows kubernetes/kubernetes closely, and each function names the Go
//! function it reproduces so that anyone can check one against the other.

mod aggregate;
mod covers;
mod escalation;
pub mod kubectl;
mod matcher;
mod pattern;
mod policy;
mod request;

pub use aggregate::{aggregate, sync_cluster_role};
pub use covers::{breakdown_rule, covers, non_resource_url_covers};
pub use escalation::{
    EffectiveDecision, Escalation, Identity, Permission, Primitive, Reached, Step,
};
pub use matcher::{
    api_group_matches, non_resource_url_matches, resource_matches, resource_name_matches,
    rule_allows, verb_matches,
};
pub use pattern::{ANY_NAME, ResourceVerb};
pub use policy::{
    BindingId, Decision, Grant, Mismatch, NearMiss, Policy, ResolveError, RoleId, RuleEntry,
    RulesFor, SubjectGrant, applies_to,
};
pub use request::{Action, ResourceTarget, Target, UserInfo};
