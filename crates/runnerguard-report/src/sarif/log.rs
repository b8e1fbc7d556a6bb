//! The part of the SARIF 2.1.0 object model the audit writes, as serde structs named after
//! the specification's objects (§3.13 `sarifLog` to §3.58 `notification`). Hand-written:
//! the writer needs about twenty objects, and a crate of the whole model would add a
//! dependency for types it never fills.

use std::borrow::Cow;

use serde::Serialize;

/// The top-level object.
#[derive(Debug, Serialize)]
pub(super) struct Log<'a, R: Serialize> {
    #[serde(rename = "$schema")]
    pub(super) schema: &'static str,
    pub(super) version: &'static str,
    pub(super) runs: [Run<'a, R>; 1],
}

/// One run of the tool. `results` is written as it is made (see `sarif::Results`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Run<'a, R: Serialize> {
    pub(super) tool: Tool<'a>,
    pub(super) invocations: [Invocation<'a>; 1],
    /// How columns count: the loader counts characters.
    pub(super) column_kind: &'static str,
    pub(super) results: R,
    pub(super) properties: RunProperties<'a>,
}

#[derive(Debug, Serialize)]
pub(super) struct Tool<'a> {
    pub(super) driver: Driver<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Driver<'a> {
    pub(super) name: &'static str,
    pub(super) version: &'static str,
    pub(super) semantic_version: &'static str,
    pub(super) rules: Vec<ReportingDescriptor<'a>>,
}

/// A rule.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ReportingDescriptor<'a> {
    pub(super) id: &'a str,
    pub(super) name: &'a str,
    pub(super) short_description: Message<'a>,
    pub(super) full_description: Message<'a>,
    pub(super) help: Help,
    pub(super) default_configuration: Configuration,
    pub(super) properties: RuleProperties<'a>,
}

/// A `multiformatMessageString`: plain text and Markdown.
#[derive(Debug, Serialize)]
pub(super) struct Help {
    pub(super) text: String,
    pub(super) markdown: String,
}

#[derive(Debug, Serialize)]
pub(super) struct Configuration {
    pub(super) level: &'static str,
}

#[derive(Debug, Serialize)]
pub(super) struct RuleProperties<'a> {
    pub(super) tags: [&'static str; 2],
    /// GitHub's and GitLab's numeric severity, 0.0 to 10.0, written as a string, as
    /// GitHub's own analyses write it.
    #[serde(rename = "security-severity")]
    pub(super) security_severity: &'static str,
    #[serde(rename = "runnerguard/severity")]
    pub(super) severity: &'a str,
}

/// A `message` (and a `multiformatMessageString` with text only).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub(super) struct Message<'a> {
    pub(super) text: Cow<'a, str>,
}

impl<'a> Message<'a> {
    pub(super) fn new(text: impl Into<Cow<'a, str>>) -> Self {
        Self { text: text.into() }
    }
}

/// One finding.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SarifResult<'a> {
    pub(super) rule_id: &'a str,
    pub(super) rule_index: usize,
    pub(super) level: &'static str,
    /// The severity as a priority, 0.0 to 100.0: GitLab reads it before anything else.
    pub(super) rank: f64,
    /// Against the old side of a diff: `new`, `unchanged`, `updated`, `absent` (§3.27.24).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) baseline_state: Option<&'static str>,
    pub(super) message: Message<'a>,
    pub(super) locations: Vec<Location<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) related_locations: Vec<Location<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) code_flows: Vec<CodeFlow<'a>>,
    pub(super) partial_fingerprints: Fingerprints,
    pub(super) properties: ResultProperties<'a>,
}

#[derive(Debug, Serialize)]
pub(super) struct Fingerprints {
    #[serde(rename = "runnerguard/v1")]
    pub(super) v1: String,
}

#[derive(Debug, Serialize)]
pub(super) struct ResultProperties<'a> {
    #[serde(rename = "security-severity")]
    pub(super) security_severity: &'static str,
    #[serde(rename = "runnerguard/severity")]
    pub(super) severity: &'static str,
    /// The finding's own fix (the rule's help has the general one).
    #[serde(rename = "runnerguard/fix")]
    pub(super) fix: &'a str,
}

/// A place: in a file of the repository, or (embedded defaults, standard input) by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[expect(
    clippy::struct_field_names,
    reason = "SARIF's names: `location.physicalLocation`"
)]
#[serde(rename_all = "camelCase")]
pub(super) struct Location<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) physical_location: Option<PhysicalLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) logical_locations: Vec<LogicalLocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) message: Option<Message<'a>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PhysicalLocation {
    pub(super) artifact_location: ArtifactLocation,
    pub(super) region: Region,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ArtifactLocation {
    pub(super) uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) uri_base_id: Option<&'static str>,
}

/// Lines and columns are 1-based. `endLine` is the start line: GitLab identifies a finding by
/// `file:startLine:endLine`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Region {
    pub(super) start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) start_column: Option<u32>,
    pub(super) end_line: u32,
}

/// A Kubernetes object with no place in a file: `kind` is `resource`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct LogicalLocation {
    pub(super) name: String,
    pub(super) fully_qualified_name: String,
    pub(super) kind: &'static str,
}

/// One escalation path.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CodeFlow<'a> {
    pub(super) message: Message<'a>,
    pub(super) thread_flows: [ThreadFlow<'a>; 1],
}

#[derive(Debug, Serialize)]
pub(super) struct ThreadFlow<'a> {
    pub(super) locations: Vec<ThreadFlowLocation<'a>>,
}

#[derive(Debug, Serialize)]
pub(super) struct ThreadFlowLocation<'a> {
    pub(super) location: Location<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Invocation<'a> {
    pub(super) execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) tool_execution_notifications: Vec<Notification<'a>>,
}

#[derive(Debug, Serialize)]
pub(super) struct Notification<'a> {
    pub(super) level: &'static str,
    pub(super) message: Message<'a>,
}

#[derive(Debug, Serialize)]
pub(super) struct RunProperties<'a> {
    #[serde(rename = "runnerguard/failOn")]
    pub(super) fail_on: &'static str,
    #[serde(rename = "runnerguard/runnerVersion")]
    pub(super) runner_version: &'a str,
    #[serde(rename = "runnerguard/chartVersion")]
    pub(super) chart_version: &'a str,
    /// What a diff's `baselineState`s are against: the old side's name.
    #[serde(
        rename = "runnerguard/baseline",
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) baseline: Option<&'a str>,
}
