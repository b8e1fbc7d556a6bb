//! The diff document: what a change does to permissions, findings and topology.

use runnerguard_audit as lib;
use schemars::JsonSchema;
use serde::Serialize;

use super::{Finding, Identity, ObjectRef, Reached, Rule, Severity, Topology, Version};

/// `runnerguard diff -o json`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Diff<'a> {
    /// The schema version, 1.
    pub version: Version,
    /// The side before the change.
    pub old: DiffSide<'a>,
    /// The side after the change.
    pub new: DiffSide<'a>,
    /// Whether the change fails (exit code 1): `reasons` says why.
    pub failed: bool,
    /// Why the change fails, one sentence each; empty when it passes.
    pub reasons: Vec<String>,
    /// The severity at or above which a new finding fails the change.
    #[schemars(with = "Severity")]
    pub fail_on: lib::Severity,
    /// Whether both sides were read whole.
    pub complete: bool,
    /// Each job identity that gains a way into its runner manager's namespace.
    pub into_manager_namespace: Vec<JobReach<'a>>,
    /// The findings the change adds and resolves.
    pub findings: DiffFindings<'a>,
    /// Each subject whose permissions or reach changed.
    pub subjects: Vec<SubjectChange<'a>>,
    /// Whether the runner topologies differ between the sides.
    pub topology_changed: bool,
}

/// One side of a diff.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiffSide<'a> {
    /// The paths read (and the revision, with `--base-ref`).
    pub label: &'a str,
    /// The runner releases found.
    pub topologies: Vec<Topology<'a>>,
    /// How many findings its audit has.
    pub findings: usize,
    /// Inputs that could not be read, `file:line:column: problem`.
    pub unreadable: &'a [String],
}

/// The findings a change adds and resolves, matched by rule, objects, settings and message
/// (line numbers and the sides' own paths left out).
#[derive(Serialize, JsonSchema)]
pub struct DiffFindings<'a> {
    /// Findings of the new side the old did not have, or had at a lower severity.
    pub new: Vec<Finding<'a>>,
    /// Findings of the old side the new no longer has.
    pub resolved: Vec<Finding<'a>>,
    /// Findings about the same rule, object and settings on both sides whose message or
    /// severity changed.
    pub changed: Vec<ChangedFinding<'a>>,
}

/// A finding of both sides that changed.
#[derive(Serialize, JsonSchema)]
pub struct ChangedFinding<'a> {
    /// As it was.
    pub old: Finding<'a>,
    /// As it is.
    pub new: Finding<'a>,
}

/// How one subject's access changed.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubjectChange<'a> {
    /// The subject.
    pub identity: &'a Identity,
    /// The subject in words.
    pub description: String,
    /// Permissions held now and not before, by scope, with the new side's bindings.
    pub gained: Vec<Rights<'a>>,
    /// Permissions held before and not now, by scope, with the old side's bindings.
    pub lost: Vec<Rights<'a>>,
    /// Identities it can now become, each with the new side's shortest path.
    pub reach_gained: Vec<Reached<'a>>,
    /// Identities it could become and no longer can.
    pub reach_lost: &'a [Identity],
}

/// Permissions in one scope.
#[derive(Serialize, JsonSchema)]
pub struct Rights<'a> {
    /// The namespace; empty for cluster-wide (ClusterRoleBindings).
    pub namespace: &'a str,
    /// One rule per resource (and name) or URL, with its verbs.
    pub rules: Vec<Rule<'a>>,
    /// The bindings that give them.
    pub bindings: Vec<ObjectRef<'a>>,
}

impl<'a> From<&'a lib::diff::Rights> for Rights<'a> {
    fn from(r: &'a lib::diff::Rights) -> Self {
        Self {
            namespace: &r.namespace,
            rules: r.rules.iter().map(Into::into).collect(),
            bindings: r.bindings.iter().map(Into::into).collect(),
        }
    }
}

/// A job identity's new way into its manager's namespace.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobReach<'a> {
    /// The job pods' ServiceAccount.
    pub job: &'a Identity,
    /// The manager's namespace.
    pub manager_namespace: &'a str,
    /// What it may now do there directly.
    pub rights: Vec<Rights<'a>>,
    /// Identities inside that namespace (or above it) it can now become, with paths.
    pub reach: Vec<Reached<'a>>,
}
