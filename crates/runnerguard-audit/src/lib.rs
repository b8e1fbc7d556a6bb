//! The audit: a GitLab Runner setup seen the way an attacker and the runner itself would.
//!
//! This crate owns the rules (`RG1xx` for the runner topology; `RB0xx`, for RBAC anywhere, come
//! with the escalation analysis), their documentation, the [`Topology`] they check, and the
//! data they rely on: what the Kubernetes executor needs by runner version ([`executor`]) and
//! which Helm values keys the chart reads ([`ChartKeys`]). Rules ask the engine every RBAC
//! question; none matches role text. Loading is the `load` crate's job, rendering the `report`
//! crate's.

mod audit;
mod chart;
mod context;
pub mod diff;
mod evidence;
mod finding;
mod placeholders;
mod rule;
mod rules;
mod topology;
mod versions;

pub use audit::{Audit, FoundUnder, Setup, run};
pub use chart::{ChartKeys, KeyUse};
pub use context::{Context, JobIdentity, qualified};
pub use evidence::{
    EscalationStep, Evidence, GrantPath, ObjectEvidence, RuleEvidence, RuleOrigin, SettingEvidence,
    StepPermission,
};
pub use executor::{Need, Permission, PermissionTable, RunnerVersion};
pub use finding::{Finding, Location};
pub use placeholders::{placeholder_kind, placeholder_notes};
pub use rule::{Rule, RuleMeta, Severity};
pub use rules::{ALL, Reads as RuleScope, reads as rule_scope};
pub use runnerguard_model::executor;
pub use topology::{
    Evidence as TopologyEvidence, Fact as TopologyFact, JobTarget, Topology, TopologyOptions,
    has_runner,
};
pub use versions::settle_versions;

/// Why the audit could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Embedded data is malformed (a bug in this build).
    #[error("embedded data is malformed: {0}")]
    Data(String),
    /// A rule selector names no rule.
    #[error("unknown rule `{0}` (see `runnerguard rules`)")]
    UnknownRule(String),
}

/// Which rules run: `select` prefixes (all when empty), minus `ignore` prefixes.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Ids, names or id prefixes (`RG1`, `RG102`, `jobs-in-manager-namespace`).
    pub select: Vec<String>,
    /// Ids, names or id prefixes to leave out.
    pub ignore: Vec<String>,
    /// Only the RBAC rules (`RB`): the inputs hold no runner for the `RG` rules to check.
    pub rbac_only: bool,
    /// Severities given to rules' findings instead of their defaults, by rule id (a
    /// configuration's `[audit] severity`): reports and `--fail-on` see these.
    pub severity: Vec<(String, Severity)>,
}

impl Selection {
    /// Checks that every selector names at least one rule.
    pub fn validate(&self) -> Result<(), Error> {
        for s in self.select.iter().chain(&self.ignore) {
            if !ALL.iter().any(|r| matches(r.meta(), s)) {
                return Err(Error::UnknownRule(s.clone()));
            }
        }
        Ok(())
    }

    /// Whether the rule runs.
    pub fn includes(&self, meta: &RuleMeta) -> bool {
        (self.select.is_empty() || self.select.iter().any(|s| matches(meta, s)))
            && !self.ignore.iter().any(|s| matches(meta, s))
            && (!self.rbac_only || meta.id.starts_with("RB"))
    }
}

/// Whether `selector` (an id, an id prefix with or without a final `*`, or a name) picks the
/// rule, as `[audit] select` in a configuration does.
fn matches(meta: &RuleMeta, selector: &str) -> bool {
    let prefix = selector.strip_suffix('*').unwrap_or(selector);
    !prefix.is_empty() && meta.id.starts_with(&prefix.to_ascii_uppercase()) || meta.name == selector
}

/// A rule's documentation as Markdown: title, severity, summary, then its docs. The same
/// text is `runnerguard rules explain ID` and docs/rules/ID.md.
pub fn rule_markdown(meta: &RuleMeta) -> String {
    let docs: String = meta
        .docs
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "# {} {}\n\nDefault severity: **{}**. {}.\n\n{}\n",
        meta.id,
        meta.name,
        meta.severity,
        meta.summary,
        docs.trim()
    )
}

/// The rule with id or name `key`.
pub fn find_rule(key: &str) -> Option<&'static dyn Rule> {
    ALL.iter()
        .copied()
        .find(|r| r.meta().id.eq_ignore_ascii_case(key) || r.meta().name == key)
}
