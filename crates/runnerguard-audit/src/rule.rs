//! What a rule is: its metadata (id, name, default severity, docs) and its check.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::{Context, Finding};

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// A weakness with little impact alone.
    Low,
    /// A weakness that widens an attack or degrades jobs.
    Medium,
    /// Jobs fail, or an isolation boundary is weakened.
    High,
    /// Jobs can reach the runner manager or the cluster.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!("unknown severity `{s}` (expected info, low, medium, high or critical)")
            })
    }
}

/// A rule's fixed description. `docs` is the rule's documentation in Markdown, with the
/// sections "What it flags", "Why it matters", "How to fix" and "Example".
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable id, never reused (`RG101`).
    pub id: &'static str,
    /// Kebab-case name of the bad pattern (`jobs-in-manager-namespace`).
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One line: what is wrong when it fires.
    pub summary: &'static str,
    /// One line: how to fix it.
    pub remediation: &'static str,
    /// The full documentation.
    pub docs: &'static str,
}

/// A check. Rules never fail, print or do I/O: they read the [`Context`] and push findings.
pub trait Rule: Sync {
    /// The rule's metadata.
    fn meta(&self) -> &'static RuleMeta;

    /// Appends a finding to `out` for every violation in `cx`.
    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>);
}

/// Declares a rule: a unit struct with a `META` constant whose `docs` is the doc comment.
///
/// ```text
/// declare_rule! {
///     /// ## What it flags
///     /// ...
///     pub(crate) struct JobsInManagerNamespace {
///         id: "RG101",
///         name: "jobs-in-manager-namespace",
///         severity: Critical,
///         summary: "...",
///         remediation: "...",
///     }
/// }
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $name:ident {
            id: $id:literal,
            name: $rname:literal,
            severity: $sev:ident,
            summary: $summary:literal,
            remediation: $remediation:literal $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy)]
        $vis struct $name;

        impl $name {
            /// The rule's metadata.
            $vis const META: $crate::RuleMeta = $crate::RuleMeta {
                id: $id,
                name: $rname,
                severity: $crate::Severity::$sev,
                summary: $summary,
                remediation: $remediation,
                docs: concat!($($doc, "\n"),*),
            };
        }
    };
}
