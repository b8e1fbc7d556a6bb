//! Schema version 1: every JSON document the CLI writes, as types (docs/json-output.md says
//! what each field means; docs/schema/v1.json is generated from these types).
//!
//! The types are views: they borrow the library's values (a finding, a grant path, an
//! escalation step) and are built from them with `From` or a constructor, so that writing a
//! document copies nothing and an audit's findings are made one at a time as they are written
//! ([`List`]). Field names never change within a version; a field may be added.
//!
//! Key order: the audit document, its findings, topologies and `objects` write their keys
//! sorted, evidence in the order declared here; every other document is written with its
//! keys sorted ([`crate::answers`]). This is the order the output had before these types
//! existed, kept so that no reader sees a change.

/// Declares `$name`, the schema of a library enum written by its own `Serialize`: a string,
/// one of `$all`, the library's list of every value, so the values are not restated here.
/// `$name` has no values; fields keep the library type, with `#[schemars(with = "$name")]`.
macro_rules! enum_schema {
    ($name:ident = $all:expr, $description:literal) => {
        #[doc = $description]
        #[doc = ""]
        #[doc = concat!("The schema of `", stringify!($all), "`'s values.")]
        pub enum $name {}

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "description": $description,
                    "type": "string",
                    "enum": $all,
                })
            }
        }
    };
}

mod answers;
mod audit;
mod diff;
mod vocabulary;

use std::borrow::Cow;
use std::marker::PhantomData;

use runnerguard_audit as lib;
use runnerguard_engine as engine;
use runnerguard_model as model;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};

pub use answers::{
    AllServiceAccounts, CanI, CanIEffective, CanIList, NearMiss, Paths, PathsTo, Reached,
    ServiceAccountReach, Step, WhoCan, WhoCanEffective, WhoCanEffectiveSubject, WhoCanSubject,
};
pub use audit::{
    Audit, BySeverity, EscalationStep, Evidence, Finding, Job, Location, ObjectEvidence,
    RuleEvidence, Setting, Severity, Summary, Topology, TopologyEvidence,
};
pub use diff::{ChangedFinding, Diff, DiffFindings, DiffSide, JobReach, Rights, SubjectChange};
pub use vocabulary::{Identity, Mismatch, Primitive, RoleKind};

/// Every document of version 1, for the schema: `docs/schema/v1.json` is the schema of this
/// type, each document one of its `anyOf` (the documents differ in their required fields).
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
#[schemars(
    title = "runnerguard JSON output, version 1",
    description = "Every JSON document runnerguard writes with `-o json` (docs/json-output.md). Within a version, field names and meanings never change; fields may be added."
)]
pub enum Document<'a> {
    /// `runnerguard audit -o json`.
    Audit(Audit<'a>),
    /// `runnerguard can-i -o json`.
    CanI(CanI<'a>),
    /// `runnerguard can-i --list -o json`.
    CanIList(CanIList<'a>),
    /// `runnerguard can-i --effective -o json`.
    CanIEffective(CanIEffective<'a>),
    /// `runnerguard who-can -o json`.
    WhoCan(WhoCan<'a>),
    /// `runnerguard who-can --effective -o json`.
    WhoCanEffective(WhoCanEffective<'a>),
    /// `runnerguard paths --as SUBJECT -o json`.
    Paths(Paths<'a>),
    /// `runnerguard paths --to PERMISSION -o json`.
    PathsTo(PathsTo<'a>),
    /// `runnerguard paths --all-service-accounts -o json`.
    AllServiceAccounts(AllServiceAccounts<'a>),
    /// `runnerguard diff -o json`.
    Diff(Diff<'a>),
}

/// The JSON Schema of every v1 document (draft 2020-12, as the documents are written: a field
/// left out when empty is not required).
pub fn json_schema() -> Schema {
    schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<Document<'_>>()
}

/// Declares a field type written as one constant (`"version": 1`), with its schema.
macro_rules! constant {
    ($(#[$doc:meta])* $name:ident = $value:literal, $schema:tt) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name;

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $value.serialize(s)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn inline_schema() -> bool {
                true
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!($schema)
            }
        }
    };
}

constant! {
    /// `"version": 1`.
    Version = 1u32, {"description": "The schema version.", "const": 1}
}

constant! {
    /// `"effective": true`: the answer is an effective one (through escalation).
    EffectiveMark = true, {"const": true}
}

/// A slice of library values written as a JSON array of `V`, each item made as it is
/// written: an audit's 100,000 findings are never a tree of views in memory.
pub struct List<'a, T, V> {
    items: &'a [T],
    view: PhantomData<fn() -> V>,
}

impl<'a, T, V> List<'a, T, V> {
    /// The items of `items`, each to be written as a `V`.
    pub fn new(items: &'a [T]) -> Self {
        Self {
            items,
            view: PhantomData,
        }
    }
}

impl<'a, T, V: From<&'a T> + Serialize> Serialize for List<'a, T, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.items.len()))?;
        for item in self.items {
            seq.serialize_element(&V::from(item))?;
        }
        seq.end()
    }
}

impl<T, V: JsonSchema> JsonSchema for List<'_, T, V> {
    fn schema_name() -> Cow<'static, str> {
        Vec::<V>::schema_name()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        Vec::<V>::json_schema(generator)
    }
}

fn is_empty(s: &&str) -> bool {
    s.is_empty()
}

fn is_empty_list(s: &&[String]) -> bool {
    s.is_empty()
}

/// An object reference, the same in every document: `{"apiVersion", "kind", "namespace"?,
/// "name", "file", "line", "column"}`.
#[derive(Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef<'a> {
    /// `rbac.authorization.k8s.io/v1`.
    pub api_version: &'a str,
    /// `RoleBinding`.
    pub kind: &'a str,
    /// Absent for cluster-scoped objects.
    #[serde(skip_serializing_if = "is_empty")]
    pub namespace: &'a str,
    /// `metadata.name`.
    pub name: &'a str,
    /// The path as given on the command line, `-` for stdin, or
    /// `builtin:k8s-bootstrap/<file>.yaml` for Kubernetes' default policy.
    pub file: &'a str,
    /// 1-based; 0 when unknown.
    pub line: u32,
    /// 1-based; 0 when unknown.
    pub column: u32,
}

impl<'a> From<&'a model::ObjectRef> for ObjectRef<'a> {
    fn from(o: &'a model::ObjectRef) -> Self {
        Self {
            api_version: &o.api_version,
            kind: &o.kind,
            namespace: &o.namespace,
            name: &o.name,
            file: &o.origin.file,
            line: o.origin.line,
            column: o.origin.column,
        }
    }
}

/// An RBAC rule exactly as written in its role (empty lists left out).
#[derive(Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rule<'a> {
    /// `verbs`.
    pub verbs: &'a [String],
    /// `apiGroups`.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub api_groups: &'a [String],
    /// `resources`.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub resources: &'a [String],
    /// `resourceNames`.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub resource_names: &'a [String],
    /// `nonResourceURLs`.
    #[serde(rename = "nonResourceURLs", skip_serializing_if = "is_empty_list")]
    pub non_resource_urls: &'a [String],
}

impl<'a> From<&'a model::PolicyRule> for Rule<'a> {
    fn from(r: &'a model::PolicyRule) -> Self {
        Self {
            verbs: &r.verbs,
            api_groups: &r.api_groups,
            resources: &r.resources,
            resource_names: &r.resource_names,
            non_resource_urls: &r.non_resource_urls,
        }
    }
}

/// A binding's subject, as written.
#[derive(Clone, Copy, Serialize, JsonSchema)]
pub struct Subject<'a> {
    /// `User`, `Group`, `ServiceAccount` (verbatim).
    pub kind: &'a str,
    /// `apiGroup`, when written.
    #[serde(rename = "apiGroup", skip_serializing_if = "is_empty")]
    pub api_group: &'a str,
    /// `name`.
    pub name: &'a str,
    /// `namespace`, when written.
    #[serde(skip_serializing_if = "is_empty")]
    pub namespace: &'a str,
}

impl<'a> From<&'a model::Subject> for Subject<'a> {
    fn from(s: &'a model::Subject) -> Self {
        Self {
            kind: &s.kind,
            api_group: &s.api_group,
            name: &s.name,
            namespace: &s.namespace,
        }
    }
}

/// The identity asked about: a user name and the groups authentication gives it.
#[derive(Clone, Copy, Serialize, JsonSchema)]
pub struct User<'a> {
    /// The user name.
    pub name: &'a str,
    /// The groups.
    pub groups: &'a [String],
}

impl<'a> From<&'a engine::UserInfo> for User<'a> {
    fn from(u: &'a engine::UserInfo) -> Self {
        Self {
            name: &u.name,
            groups: &u.groups,
        }
    }
}

/// A request: on a resource, or on a non-resource URL.
#[derive(Clone, Copy, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Request<'a> {
    /// A resource request.
    Resource {
        /// The verb.
        verb: &'a str,
        /// Empty for cluster-wide requests.
        namespace: &'a str,
        /// The API group, empty for the core group.
        group: &'a str,
        /// The resource.
        resource: &'a str,
        /// The subresource, or empty.
        subresource: &'a str,
        /// The object's name, or empty.
        name: &'a str,
    },
    /// A non-resource request.
    NonResource {
        /// The verb.
        verb: &'a str,
        /// The URL path.
        #[serde(rename = "nonResourceURL")]
        non_resource_url: &'a str,
    },
}

impl<'a> From<&'a engine::Action> for Request<'a> {
    fn from(a: &'a engine::Action) -> Self {
        match &a.target {
            engine::Target::Resource(r) => Self::Resource {
                verb: &a.verb,
                namespace: &a.namespace,
                group: &r.api_group,
                resource: &r.resource,
                subresource: &r.subresource,
                name: &r.name,
            },
            engine::Target::NonResource { path } => Self::NonResource {
                verb: &a.verb,
                non_resource_url: path,
            },
        }
    }
}

/// A grant: the binding that applies, the role it refers to, the index of the allowing rule
/// in the role's aggregated rules, the rule, and where an aggregated rule was written.
#[derive(Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Grant<'a> {
    /// The binding.
    pub binding: ObjectRef<'a>,
    /// The role it refers to.
    pub role: ObjectRef<'a>,
    /// The rule's index in the role's (aggregated) rules.
    pub rule_index: usize,
    /// The rule.
    pub rule: Rule<'a>,
    /// The ClusterRole (and index there) an aggregated rule was written in.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "RuleOrigin<'a>")]
    pub aggregated_from: Option<RuleOrigin<'a>>,
    /// What an audit finding says of the rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub note: Option<&'a str>,
    /// The binding's subject that matched (`can-i`, `who-can`, `paths`; not in audit
    /// evidence).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Subject<'a>")]
    pub subject: Option<Subject<'a>>,
}

impl<'a> From<&'a lib::GrantPath> for Grant<'a> {
    fn from(g: &'a lib::GrantPath) -> Self {
        Self {
            binding: (&*g.binding).into(),
            role: (&*g.role).into(),
            rule_index: g.rule_index,
            rule: (&*g.rule).into(),
            aggregated_from: g.aggregated_from.as_ref().map(|o| RuleOrigin {
                role: (&*o.role).into(),
                rule_index: o.rule_index,
            }),
            note: g.note.as_deref(),
            subject: None,
        }
    }
}

impl<'a> Grant<'a> {
    /// `grant` with the subject that matched.
    pub fn with_subject(grant: &'a lib::GrantPath, subject: Option<&'a model::Subject>) -> Self {
        Self {
            subject: subject.map(Subject::from),
            ..Self::from(grant)
        }
    }
}

/// The role (and rule index there) an aggregated rule was written in.
#[derive(Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleOrigin<'a> {
    /// The ClusterRole.
    pub role: ObjectRef<'a>,
    /// The rule's index there.
    pub rule_index: usize,
}

/// A request an escalation step needs, and the grant that allows it.
#[derive(Clone, Copy, Serialize, JsonSchema)]
pub struct Permission<'a> {
    /// The request.
    pub request: Request<'a>,
    /// The grant allowing it.
    pub grant: Grant<'a>,
}

impl<'a> From<&'a lib::StepPermission> for Permission<'a> {
    fn from(p: &'a lib::StepPermission) -> Self {
        Self {
            request: (&p.request).into(),
            grant: (&p.grant).into(),
        }
    }
}

/// A binding whose role does not exist: it grants nothing.
#[derive(Clone, Copy, Serialize, JsonSchema)]
pub struct BindingError<'a> {
    /// The binding.
    pub binding: ObjectRef<'a>,
    /// What is wrong.
    pub message: &'a str,
}
