//! Findings: what a rule reports, with its evidence.

use std::borrow::Cow;
use std::sync::Arc;

use runnerguard_engine::{Grant, Step};
use runnerguard_model::{ObjectRef, Origin};
use serde::Serialize;

use crate::{Context, Evidence, RuleMeta, Severity};

/// One violation of one rule, with the objects that show it and, for RBAC, the path
/// (binding → role → rule) that grants what should not be granted.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Finding {
    /// The rule id (`RG101`).
    pub rule: &'static str,
    /// The rule name (`jobs-in-manager-namespace`).
    pub name: &'static str,
    /// The severity (the rule's default unless overridden).
    pub severity: Severity,
    /// What is wrong, in one sentence, naming the objects.
    pub message: String,
    /// The objects involved, first the one to change; shared with the other findings and
    /// evidence that name them (an audit names a few bindings thousands of times).
    pub objects: Vec<Arc<ObjectRef>>,
    /// Places in configuration files (a values key, a TOML setting) that are not objects.
    pub locations: Vec<Location>,
    /// What the finding rests on, as data (grants, escalation steps, settings, facts); the
    /// report crate words it.
    pub evidence: Vec<Evidence>,
    /// How to fix it: the rule's own text unless the finding has a more specific one.
    pub remediation: Cow<'static, str>,
}

/// A place in a configuration file, with what is there.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Location {
    /// What is at that place (a key, a setting).
    pub what: String,
    /// File, line and column.
    #[serde(flatten)]
    pub origin: Origin,
}

impl Finding {
    /// A finding of `meta`'s rule with its default severity and remediation.
    pub fn new(meta: &RuleMeta, message: impl Into<String>) -> Self {
        Self {
            rule: meta.id,
            name: meta.name,
            severity: meta.severity,
            message: message.into(),
            objects: Vec::new(),
            locations: Vec::new(),
            evidence: Vec::new(),
            remediation: Cow::Borrowed(meta.remediation),
        }
    }

    /// Adds an object.
    #[must_use]
    pub fn object(mut self, object: impl Into<Arc<ObjectRef>>) -> Self {
        // `Arc`'s equality compares pointers first, then the objects.
        let object = object.into();
        if !self.objects.contains(&object) {
            self.objects.push(object);
        }
        self
    }

    /// Adds a place in a configuration file.
    #[must_use]
    pub fn location(mut self, what: impl Into<String>, origin: Origin) -> Self {
        self.locations.push(Location {
            what: what.into(),
            origin,
        });
        self
    }

    /// Adds a piece of evidence.
    #[must_use]
    pub fn evidence(mut self, evidence: Evidence) -> Self {
        self.evidence.push(evidence);
        self
    }

    /// Adds a plain fact to the evidence.
    #[must_use]
    pub fn fact(self, text: impl Into<String>) -> Self {
        self.evidence(Evidence::fact(text))
    }

    /// Adds a grant (binding → role → rule) to the evidence, and its binding and role to
    /// the objects.
    #[must_use]
    pub fn grant(self, cx: &Context<'_>, grant: &Grant) -> Self {
        let path = cx.grant_path(grant);
        self.object(Arc::clone(&path.binding))
            .object(Arc::clone(&path.role))
            .evidence(Evidence::grant(path))
    }

    /// Adds the binding and role of `grant` to the objects.
    #[must_use]
    pub fn grant_objects(self, cx: &Context<'_>, grant: &Grant) -> Self {
        let (binding, role) = cx.grant_objects(grant);
        self.object(binding).object(role)
    }

    /// Adds an escalation step to the evidence, and the binding and role of each grant it
    /// rests on to the objects.
    #[must_use]
    pub fn escalation(mut self, cx: &Context<'_>, step: &Step) -> Self {
        for p in step.permissions.iter() {
            self = self.grant_objects(cx, &p.grant);
        }
        self.evidence(cx.escalation_evidence(step))
    }

    /// Adds a setting and what it does to the evidence. `value` is never a secret.
    #[must_use]
    pub fn setting(
        self,
        key: impl Into<String>,
        value: Option<String>,
        origin: Origin,
        effect: impl Into<String>,
    ) -> Self {
        self.evidence(Evidence::setting(key, value, origin, effect))
    }

    /// Overrides the severity (a rule with two levels, like RG112).
    #[must_use]
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// Overrides the remediation with a more specific one.
    #[must_use]
    pub fn remediation(mut self, remediation: impl Into<Cow<'static, str>>) -> Self {
        self.remediation = remediation.into();
        self
    }

    /// Gives back what the finding's texts reserved beyond their contents, where that is
    /// much: an audit holds every finding until it is sorted, and a message formatted piece
    /// by piece may have reserved up to twice its length (issue #13). A little spare room is
    /// left alone; giving it back costs more time than the memory is worth.
    pub(crate) fn shrink(&mut self) {
        shrink(&mut self.message);
        if let Cow::Owned(r) = &mut self.remediation {
            shrink(r);
        }
        for l in &mut self.locations {
            shrink(&mut l.what);
        }
    }

    /// The first place this finding points at: its first location, else its first object.
    pub fn primary_origin(&self) -> Option<&Origin> {
        self.locations
            .first()
            .map(|l| &l.origin)
            .or_else(|| self.objects.first().map(|o| &o.origin))
    }
}

/// Gives back `s`'s spare room when it is over an eighth of its length and 32 bytes.
fn shrink(s: &mut String) {
    let spare = s.capacity() - s.len();
    if spare > 32 && spare > s.len() / 8 {
        s.shrink_to_fit();
    }
}
