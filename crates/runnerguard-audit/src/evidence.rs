//! Evidence as data: what a finding rests on, as the objects, rules, escalation steps and
//! settings themselves. The report crate does the wording and the indentation, once for
//! every format (human, JSON, and the CI formats that point at each object).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;

use runnerguard_engine::{
    Action, BindingId, Grant, Identity, Policy, Primitive, RoleId, Step, Target,
};
use runnerguard_model::{ObjectRef, Origin, PolicyRule};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

/// One piece of a finding's evidence.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Evidence {
    /// A binding grants a role, one of whose rules allows what the finding is about.
    Grant(Box<GrantPath>),
    /// One escalation step: what the identity may do, and whom that makes it.
    Escalation(Box<EscalationStep>),
    /// A configuration setting and what it does.
    Setting(Box<SettingEvidence>),
    /// An object (a role, a binding) and how it bears on the finding.
    Object(Box<ObjectEvidence>),
    /// One rule of a role, outside any grant (a role's own wildcard rule).
    Rule(Box<RuleEvidence>),
    /// A plain fact, with the evidence it rests on (nesting is structure: a reporter
    /// indents it). Boxed slices, not `String` and `Vec`: most evidence is facts, and an
    /// audit of 1 MB of runners holds 400,000 of them.
    Fact {
        /// The fact, one sentence.
        text: Box<str>,
        /// What it rests on, or details of it.
        under: Box<[Evidence]>,
    },
}

/// A grant resolved against the policy: binding → role → rule. The objects and the rule are
/// shared by every finding that names them (an audit names a few bindings thousands of times).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantPath {
    /// The binding.
    pub binding: Arc<ObjectRef>,
    /// The role it refers to.
    pub role: Arc<ObjectRef>,
    /// The index of the rule in the role's (aggregated) rules.
    pub rule_index: usize,
    /// The rule.
    pub rule: Arc<PolicyRule>,
    /// Where an aggregated ClusterRole's rule was written, when in another role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregated_from: Option<RuleOrigin>,
    /// What the finding says of this rule (e.g. which of its permissions are not needed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The role (and index there) a rule was aggregated from.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleOrigin {
    /// The ClusterRole that holds the rule as written.
    pub role: Arc<ObjectRef>,
    /// The rule's index there.
    pub rule_index: usize,
}

/// One escalation step ([`runnerguard_engine::Step`]) resolved against the policy.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EscalationStep {
    /// The kind of edge.
    pub primitive: Primitive,
    /// The identity it leads to.
    pub reached: Identity,
    /// The requests the step needs, each with the grant that allows it.
    pub permissions: Vec<StepPermission>,
    /// A caveat, when the edge is conservative (the engine's own text, shared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<Cow<'static, str>>,
}

/// A request an escalation step needs, and the grant that allows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepPermission {
    /// The request (written as `can-i`'s JSON writes a request).
    #[serde(serialize_with = "request")]
    pub request: Action,
    /// The grant allowing it.
    pub grant: GrantPath,
}

/// A configuration setting (a values key, a runner TOML key) and what it does. Its value is
/// never a secret: settings holding tokens are named by key alone.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingEvidence {
    /// The key, dotted (`runners.kubernetes.serviceAccountName`).
    pub key: String,
    /// Its value as written, when it helps and is no secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Where it is set (`file`, `line`, `column`, as a location's).
    #[serde(flatten)]
    pub origin: Origin,
    /// What it does, or why it matters, as a predicate (`is not read by ...`).
    pub effect: String,
}

/// A rule of a role.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleEvidence {
    /// Its index in the role.
    pub index: usize,
    /// The rule.
    pub rule: PolicyRule,
    /// What the finding says of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An object in the evidence.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectEvidence {
    /// The object.
    pub object: ObjectRef,
    /// How it relates to what comes before, as a phrase preceding it (`bound cluster-wide by`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    /// What the finding says of it, following it (`rendered by chart ...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Evidence about the object (its rules, its bindings).
    pub under: Vec<Evidence>,
}

/// A request as every JSON output writes one: `{"verb", "namespace", "group", "resource",
/// "subresource", "name"}`, or `{"verb", "nonResourceURL"}`.
fn request<S: Serializer>(action: &Action, s: S) -> Result<S::Ok, S::Error> {
    match &action.target {
        Target::Resource(r) => {
            let mut map = s.serialize_map(Some(6))?;
            map.serialize_entry("verb", &action.verb)?;
            map.serialize_entry("namespace", &action.namespace)?;
            map.serialize_entry("group", &r.api_group)?;
            map.serialize_entry("resource", &r.resource)?;
            map.serialize_entry("subresource", &r.subresource)?;
            map.serialize_entry("name", &r.name)?;
            map.end()
        }
        Target::NonResource { path } => {
            let mut map = s.serialize_map(Some(2))?;
            map.serialize_entry("verb", &action.verb)?;
            map.serialize_entry("nonResourceURL", path)?;
            map.end()
        }
    }
}

impl GrantPath {
    /// `grant` resolved against `policy`: the binding, the role, the rule, and where an
    /// aggregated rule was written.
    pub fn new(policy: &Policy, grant: &Grant) -> Self {
        Grants::default().path(policy, grant)
    }
}

impl EscalationStep {
    /// `step` resolved against `policy`, with every permission it rests on.
    pub fn new(policy: &Policy, step: &Step) -> Self {
        Self::resolve(step, |g| GrantPath::new(policy, g))
    }

    /// `step` with each grant resolved by `path`.
    pub(crate) fn resolve(step: &Step, path: impl Fn(&Grant) -> GrantPath) -> Self {
        Self {
            primitive: step.primitive,
            reached: step.to.clone(),
            permissions: step
                .permissions
                .iter()
                .map(|p| StepPermission {
                    request: p.action.clone(),
                    grant: path(&p.grant),
                })
                .collect(),
            note: step.note.clone(),
        }
    }
}

/// Resolves grants into [`GrantPath`]s, each binding, role and rule built once and shared.
#[derive(Default)]
pub(crate) struct Grants {
    bindings: Mutex<HashMap<BindingId, Arc<ObjectRef>>>,
    roles: Mutex<HashMap<RoleId, Arc<ObjectRef>>>,
    rules: Mutex<HashMap<(RoleId, usize), Arc<PolicyRule>>>,
}

impl Grants {
    /// The object of binding `id`, built once.
    pub(crate) fn binding(&self, policy: &Policy, id: BindingId) -> Arc<ObjectRef> {
        Arc::clone(
            crate::context::locked(&self.bindings)
                .entry(id)
                .or_insert_with(|| Arc::new(policy.binding(id).object_ref())),
        )
    }

    /// The object of role `id`, built once.
    pub(crate) fn role(&self, policy: &Policy, id: RoleId) -> Arc<ObjectRef> {
        Arc::clone(
            crate::context::locked(&self.roles)
                .entry(id)
                .or_insert_with(|| Arc::new(policy.role(id).object_ref())),
        )
    }

    /// `grant` resolved against `policy`.
    pub(crate) fn path(&self, policy: &Policy, grant: &Grant) -> GrantPath {
        let aggregated_from = policy
            .rule_source(grant.role, grant.rule_index)
            .filter(|src| src.role != grant.role)
            .map(|src| RuleOrigin {
                role: self.role(policy, src.role),
                rule_index: src.index,
            });
        GrantPath {
            binding: self.binding(policy, grant.binding),
            role: self.role(policy, grant.role),
            rule_index: grant.rule_index,
            rule: Arc::clone(
                crate::context::locked(&self.rules)
                    .entry((grant.role, grant.rule_index))
                    .or_insert_with(|| Arc::new(policy.rule(grant).clone())),
            ),
            aggregated_from,
            note: None,
        }
    }
}

impl Evidence {
    /// A grant.
    pub fn grant(path: GrantPath) -> Self {
        Self::Grant(Box::new(path))
    }

    /// A grant with what the finding says of its rule.
    pub fn grant_noted(mut path: GrantPath, note: impl Into<String>) -> Self {
        path.note = Some(note.into());
        Self::Grant(Box::new(path))
    }

    /// An escalation step.
    pub fn escalation(step: EscalationStep) -> Self {
        Self::Escalation(Box::new(step))
    }

    /// A plain fact.
    pub fn fact(text: impl Into<String>) -> Self {
        Self::Fact {
            text: text.into().into_boxed_str(),
            under: Box::default(),
        }
    }

    /// A fact with the evidence under it.
    pub fn fact_under(text: impl Into<String>, under: Vec<Evidence>) -> Self {
        Self::Fact {
            text: text.into().into_boxed_str(),
            under: under.into_boxed_slice(),
        }
    }

    /// An object, with nothing said of it.
    pub fn object(object: ObjectRef) -> Self {
        Self::Object(Box::new(ObjectEvidence {
            object,
            relation: None,
            note: None,
            under: Vec::new(),
        }))
    }

    /// An object, preceded by how it relates to the evidence before it.
    pub fn related_object(relation: impl Into<String>, object: ObjectRef) -> Self {
        Self::Object(Box::new(ObjectEvidence {
            object,
            relation: Some(relation.into()),
            note: None,
            under: Vec::new(),
        }))
    }

    /// A role's rule, with what the finding says of it.
    pub fn rule(index: usize, rule: PolicyRule, note: Option<String>) -> Self {
        Self::Rule(Box::new(RuleEvidence { index, rule, note }))
    }

    /// A setting and what it does.
    pub fn setting(
        key: impl Into<String>,
        value: Option<String>,
        origin: Origin,
        effect: impl Into<String>,
    ) -> Self {
        Self::Setting(Box::new(SettingEvidence {
            key: key.into(),
            value,
            origin,
            effect: effect.into(),
        }))
    }
}
