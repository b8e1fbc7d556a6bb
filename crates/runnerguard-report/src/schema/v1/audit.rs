//! The audit document: findings with their evidence, the topologies checked, the summary.

use runnerguard_audit as lib;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

use super::{Grant, Identity, List, ObjectRef, Permission, Primitive, Rule, Version};
use crate::Report;

/// `runnerguard audit -o json`.
// Fields in sorted order: the order the output always had.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Audit<'a> {
    /// The chart version the values were rendered with and their keys judged against.
    pub chart_version: &'a str,
    /// Whether every input was read.
    pub complete: bool,
    /// The findings, most severe first.
    pub findings: List<'a, lib::Finding, Finding<'a>>,
    /// How the inputs were understood, one sentence each.
    pub inputs: &'a [String],
    /// Whether the inputs hold a GitLab Runner.
    pub runner_found: bool,
    /// The GitLab Runner version(s) whose needs were checked.
    pub runner_version: &'a str,
    /// Counts and the verdict.
    pub summary: Summary,
    /// One entry per runner release checked.
    pub topologies: List<'a, lib::Topology, Topology<'a>>,
    /// The first of `topologies`, `null` when no runner was found.
    pub topology: Option<Topology<'a>>,
    /// Inputs that could not be read, `file:line:column: problem`.
    pub unreadable: &'a [String],
    /// The schema version, 1.
    pub version: Version,
}

impl<'a> From<&'a Report<'a>> for Audit<'a> {
    fn from(r: &'a Report<'a>) -> Self {
        let count = |s| r.findings.iter().filter(|f| f.severity == s).count();
        Self {
            chart_version: &r.chart_version,
            complete: r.complete(),
            findings: List::new(r.findings),
            inputs: r.inputs,
            runner_found: r.runner_found(),
            runner_version: &r.runner_version,
            summary: Summary {
                by_severity: BySeverity {
                    critical: count(lib::Severity::Critical),
                    high: count(lib::Severity::High),
                    info: count(lib::Severity::Info),
                    low: count(lib::Severity::Low),
                    medium: count(lib::Severity::Medium),
                },
                fail_on: r.fail_on,
                failed: r.failed(),
                total: r.findings.len(),
            },
            topologies: List::new(r.topologies),
            topology: r.topologies.first().map(Topology::from),
            unreadable: r.unreadable,
            version: Version,
        }
    }
}

/// Counts and the verdict.
// Fields in sorted order: the order the output always had.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// How many findings of each severity.
    pub by_severity: BySeverity,
    /// The severity at or above which the run fails.
    #[schemars(with = "Severity")]
    pub fail_on: lib::Severity,
    /// What the exit code says: a finding at or above `failOn`, or an incomplete audit.
    pub failed: bool,
    /// How many findings.
    pub total: usize,
}

/// How many findings of each severity.
// Fields in sorted order: the order the output always had.
#[derive(Serialize, JsonSchema)]
#[allow(missing_docs, reason = "one count per severity, named as it")]
pub struct BySeverity {
    pub critical: usize,
    pub high: usize,
    pub info: usize,
    pub low: usize,
    pub medium: usize,
}

enum_schema!(Severity = lib::Severity::ALL, "How bad a finding is.");

/// One runner release: where its manager runs, where its jobs run, and why.
// Fields in sorted order: the order the output always had.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Topology<'a> {
    /// Each fact with where it came from.
    pub evidence: List<'a, lib::TopologyEvidence, TopologyEvidence<'a>>,
    /// Where jobs run.
    pub jobs: List<'a, lib::JobTarget, Job<'a>>,
    /// The manager's namespace.
    pub manager_namespace: &'a str,
    /// The manager's ServiceAccount.
    pub manager_service_account: &'a str,
}

impl<'a> From<&'a lib::Topology> for Topology<'a> {
    fn from(t: &'a lib::Topology) -> Self {
        Self {
            evidence: List::new(&t.evidence),
            jobs: List::new(&t.jobs),
            manager_namespace: &t.manager_namespace,
            manager_service_account: &t.manager_service_account,
        }
    }
}

/// Where one runner's jobs run, and as whom.
// Fields in sorted order: the order the output always had.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Job<'a> {
    /// `null` when the runner configuration does not set it.
    pub automount_service_account_token: Option<bool>,
    /// The job namespace.
    pub namespace: &'a str,
    /// The job pods' ServiceAccount.
    pub service_account: &'a str,
}

impl<'a> From<&'a lib::JobTarget> for Job<'a> {
    fn from(j: &'a lib::JobTarget) -> Self {
        Self {
            automount_service_account_token: j.automount_token,
            namespace: &j.namespace,
            service_account: &j.service_account,
        }
    }
}

/// A fact of the topology and its source (a flag, `file:line`, an assumption).
#[derive(Serialize, JsonSchema)]
pub struct TopologyEvidence<'a> {
    /// The fact, as a sentence (``job namespace `teams` ``).
    pub fact: String,
    /// Where it came from.
    pub source: &'a str,
}

impl<'a> From<&'a lib::TopologyEvidence> for TopologyEvidence<'a> {
    fn from(e: &'a lib::TopologyEvidence) -> Self {
        Self {
            fact: e.fact.to_string(),
            source: &e.source,
        }
    }
}

/// One finding.
// Fields in sorted order: the order the output always had.
#[derive(Serialize, JsonSchema)]
pub struct Finding<'a> {
    /// What the finding rests on, as data.
    pub evidence: List<'a, lib::Evidence, Evidence<'a>>,
    /// Places in values files and runner TOML that are not objects.
    pub locations: List<'a, lib::Location, Location<'a>>,
    /// What is wrong, one sentence.
    pub message: &'a str,
    /// The rule's name.
    pub name: &'a str,
    /// Kubernetes objects, first the one to change.
    pub objects: SortedObjects<'a>,
    /// `evidence` in the human output's wording, one line per entry, without indentation.
    pub path: Vec<String>,
    /// How to fix it.
    pub remediation: &'a str,
    /// The rule's id.
    pub rule: &'a str,
    /// The severity.
    #[schemars(with = "Severity")]
    pub severity: lib::Severity,
}

impl<'a> From<&'a lib::Finding> for Finding<'a> {
    fn from(f: &'a lib::Finding) -> Self {
        Self {
            evidence: List::new(&f.evidence),
            locations: List::new(&f.locations),
            message: &f.message,
            name: f.name,
            objects: SortedObjects(&f.objects),
            path: crate::evidence::lines(&f.evidence)
                .into_iter()
                .map(|l| l.text)
                .collect(),
            remediation: &f.remediation,
            rule: f.rule,
            severity: f.severity,
        }
    }
}

/// A place in a configuration file.
// Fields in sorted order: the order the output always had.
#[derive(Serialize, JsonSchema)]
pub struct Location<'a> {
    /// 1-based.
    pub column: u32,
    /// The file.
    pub file: &'a str,
    /// 1-based.
    pub line: u32,
    /// What is there (a key, a setting).
    pub what: &'a str,
}

impl<'a> From<&'a lib::Location> for Location<'a> {
    fn from(l: &'a lib::Location) -> Self {
        Self {
            column: l.origin.column,
            file: &l.origin.file,
            line: l.origin.line,
            what: &l.what,
        }
    }
}

/// A finding's `objects`: [`ObjectRef`]s with their keys sorted, as findings have always
/// written them (evidence writes the same fields in declared order).
pub struct SortedObjects<'a>(pub &'a [std::sync::Arc<runnerguard_model::ObjectRef>]);

impl Serialize for SortedObjects<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Sorted<'a>(ObjectRef<'a>);
        impl Serialize for Sorted<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let o = &self.0;
                let mut map = s.serialize_map(None)?;
                map.serialize_entry("apiVersion", o.api_version)?;
                map.serialize_entry("column", &o.column)?;
                map.serialize_entry("file", o.file)?;
                map.serialize_entry("kind", o.kind)?;
                map.serialize_entry("line", &o.line)?;
                map.serialize_entry("name", o.name)?;
                if !o.namespace.is_empty() {
                    map.serialize_entry("namespace", o.namespace)?;
                }
                map.end()
            }
        }
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for o in self.0 {
            seq.serialize_element(&Sorted((&**o).into()))?;
        }
        seq.end()
    }
}

impl JsonSchema for SortedObjects<'_> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        Vec::<ObjectRef<'_>>::schema_name()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        Vec::<ObjectRef<'_>>::json_schema(generator)
    }
}

/// One piece of a finding's evidence; `kind` says which.
#[derive(Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[allow(
    clippy::large_enum_variant,
    reason = "a view made on the stack as it is written, one at a time, never stored"
)]
pub enum Evidence<'a> {
    /// A binding grants a role whose rule allows what the finding is about.
    Grant(Grant<'a>),
    /// One escalation step.
    Escalation(EscalationStep<'a>),
    /// A values or runner TOML key.
    Setting(Setting<'a>),
    /// An object and how it bears on the finding.
    Object(ObjectEvidence<'a>),
    /// A rule of a role, outside any grant.
    Rule(RuleEvidence<'a>),
    /// A plain fact.
    Fact {
        /// One sentence.
        text: &'a str,
        /// The evidence it rests on.
        under: List<'a, lib::Evidence, Evidence<'a>>,
    },
}

impl<'a> From<&'a lib::Evidence> for Evidence<'a> {
    fn from(e: &'a lib::Evidence) -> Self {
        match e {
            lib::Evidence::Grant(g) => Self::Grant((&**g).into()),
            lib::Evidence::Escalation(s) => Self::Escalation((&**s).into()),
            lib::Evidence::Setting(s) => Self::Setting(Setting {
                key: &s.key,
                value: s.value.as_deref(),
                file: &s.origin.file,
                line: s.origin.line,
                column: s.origin.column,
                effect: &s.effect,
            }),
            lib::Evidence::Object(o) => Self::Object(ObjectEvidence {
                object: (&o.object).into(),
                relation: o.relation.as_deref(),
                note: o.note.as_deref(),
                under: List::new(&o.under),
            }),
            lib::Evidence::Rule(r) => Self::Rule(RuleEvidence {
                index: r.index,
                rule: (&r.rule).into(),
                note: r.note.as_deref(),
            }),
            lib::Evidence::Fact { text, under } => Self::Fact {
                text,
                under: List::new(under),
            },
        }
    }
}

/// One escalation step of a finding: as a `paths` step, with `reached` for `to`.
#[derive(Serialize, JsonSchema)]
pub struct EscalationStep<'a> {
    /// The kind of edge.
    #[schemars(with = "Primitive")]
    pub primitive: runnerguard_engine::Primitive,
    /// The identity it leads to.
    pub reached: &'a Identity,
    /// The requests it needs, each with its grant.
    pub permissions: List<'a, lib::StepPermission, Permission<'a>>,
    /// A caveat, when the edge is conservative.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub note: Option<&'a str>,
}

impl<'a> From<&'a lib::EscalationStep> for EscalationStep<'a> {
    fn from(s: &'a lib::EscalationStep) -> Self {
        Self {
            primitive: s.primitive,
            reached: &s.reached,
            permissions: List::new(&s.permissions),
            note: s.note.as_deref(),
        }
    }
}

/// A values or runner TOML key, its value when no secret, where it is set, what it does.
#[derive(Serialize, JsonSchema)]
pub struct Setting<'a> {
    /// The key, dotted.
    pub key: &'a str,
    /// Its value as written; absent for secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub value: Option<&'a str>,
    /// The file.
    pub file: &'a str,
    /// 1-based.
    pub line: u32,
    /// 1-based.
    pub column: u32,
    /// What it does, as a predicate.
    pub effect: &'a str,
}

/// An object with how it relates to the entry before it and what is said of it.
#[derive(Serialize, JsonSchema)]
pub struct ObjectEvidence<'a> {
    /// The object.
    pub object: ObjectRef<'a>,
    /// How it relates to what comes before (`bound by`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub relation: Option<&'a str>,
    /// What the finding says of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub note: Option<&'a str>,
    /// Evidence about the object.
    pub under: List<'a, lib::Evidence, Evidence<'a>>,
}

/// A rule of a role, outside any grant.
#[derive(Serialize, JsonSchema)]
pub struct RuleEvidence<'a> {
    /// Its index in the role.
    pub index: usize,
    /// The rule.
    pub rule: Rule<'a>,
    /// What the finding says of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub note: Option<&'a str>,
}
