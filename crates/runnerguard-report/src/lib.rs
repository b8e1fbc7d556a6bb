//! Findings rendered for people and for CI. Each format writes to a `&mut dyn Write`; none
//! prints, and none sees anything but the [`Report`].
//!
//! Formats: [`human()`] (grouped by severity, evidence and a one-line fix per finding, colour
//! when asked) and [`json()`] (schema version 1, docs/json-output.md).

mod human;
mod json;

use runnerguard_audit::{Finding, Severity, Topology};

pub use human::human;
pub use json::json;

/// Everything a report shows.
#[derive(Debug)]
pub struct Report<'a> {
    /// The topologies the audit checked: one per runner release (tenant).
    pub topologies: &'a [Topology],
    /// The findings, most severe first.
    pub findings: &'a [Finding],
    /// The severity at or above which the run fails.
    pub fail_on: Severity,
    /// The runner version whose needs were checked.
    pub runner_version: String,
    /// The chart version whose values keys were checked.
    pub chart_version: String,
    /// How the inputs were understood: how each values file was rendered, what could not be
    /// seen.
    pub inputs: &'a [String],
    /// Inputs that could not be read (`file:line:column: problem`): the audit is incomplete.
    pub unreadable: &'a [String],
}

impl Report<'_> {
    /// Whether some finding is at or above `fail_on`, or the audit is incomplete: an input
    /// it could not read may hold what it looks for.
    pub fn failed(&self) -> bool {
        !self.complete() || self.findings.iter().any(|f| f.severity >= self.fail_on)
    }

    /// Whether every input was read.
    pub fn complete(&self) -> bool {
        self.unreadable.is_empty()
    }

    /// Whether the inputs held a runner: without one only the RBAC rules ran, and no
    /// topology was checked.
    pub fn runner_found(&self) -> bool {
        !self.topologies.is_empty()
    }

    /// How many findings of each severity, most severe first.
    pub fn counts(&self) -> Vec<(Severity, usize)> {
        Severity::ALL
            .iter()
            .rev()
            .map(|&s| (s, self.findings.iter().filter(|f| f.severity == s).count()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use runnerguard_audit::{Evidence, Finding, JobTarget, RuleMeta, Severity, Topology};
    use runnerguard_model::{ObjectRef, Origin};

    use super::*;

    const META: RuleMeta = RuleMeta {
        id: "RG999",
        name: "example-rule",
        severity: Severity::High,
        summary: "an example",
        remediation: "do the right thing",
        docs: "",
    };

    fn topology() -> Topology {
        Topology {
            manager_namespace: "gitlab-runner".into(),
            manager_service_account: "gitlab-runner".into(),
            jobs: vec![JobTarget {
                namespace: "teams".into(),
                service_account: "ci-job".into(),
                automount_token: Some(false),
            }],
            evidence: vec![Evidence {
                fact: "job namespace `teams`".into(),
                source: "values.yaml:37".into(),
            }],
        }
    }

    fn findings() -> Vec<Finding> {
        let origin = Origin::new("rbac.yaml".into(), 11, 1);
        vec![
            Finding::new(&META, "something is wrong in `teams`")
                .object(ObjectRef {
                    api_version: "rbac.authorization.k8s.io/v1".into(),
                    kind: "Role".into(),
                    namespace: "teams".into(),
                    name: "deployer".into(),
                    origin: origin.clone(),
                })
                .location(
                    "runners.kubernetes",
                    Origin::new("values.yaml".into(), 7, 3),
                )
                .step("RoleBinding teams/x (rbac.yaml:20)"),
            Finding::new(&META, "a lesser thing").severity(Severity::Low),
        ]
    }

    fn render(
        f: fn(&mut dyn std::io::Write, &Report<'_>) -> std::io::Result<()>,
        fail_on: Severity,
    ) -> String {
        let topology = [topology()];
        let findings = findings();
        let report = Report {
            topologies: &topology,
            findings: &findings,
            fail_on,
            runner_version: "18.9".into(),
            chart_version: "0.86.0".into(),
            inputs: &[],
        };
        let mut out = Vec::new();
        f(&mut out, &report).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn human_plain(w: &mut dyn std::io::Write, r: &Report<'_>) -> std::io::Result<()> {
        human(w, r, false)
    }

    #[test]
    fn human_groups_by_severity_with_evidence() {
        let text = render(human_plain, Severity::High);
        insta::assert_snapshot!(text);
        assert!(!text.contains('\x1b'), "no colour when not asked");
        assert!(text.ends_with(
            "2 findings (1 high, 1 low); fails: at least one finding at or above high\n"
        ));
        let passing = render(human_plain, Severity::Critical);
        assert!(
            passing.ends_with("passes: nothing at or above critical\n"),
            "{passing}"
        );
    }

    #[test]
    fn human_colours_only_when_asked() {
        let topology = [topology()];
        let findings = findings();
        let report = Report {
            topologies: &topology,
            findings: &findings,
            fail_on: Severity::High,
            runner_version: "18.9".into(),
            chart_version: "0.86.0".into(),
            inputs: &[],
        };
        let mut out = Vec::new();
        human(&mut out, &report, true).unwrap();
        assert!(
            String::from_utf8(out)
                .unwrap()
                .contains("\x1b[31mHIGH\x1b[0m")
        );
    }

    #[test]
    fn json_schema_version_1() {
        let v: serde_json::Value = serde_json::from_str(&render(json, Severity::High)).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(v["summary"]["failed"], true);
        assert_eq!(v["summary"]["bySeverity"]["high"], 1);
        assert_eq!(v["summary"]["bySeverity"]["low"], 1);
        assert_eq!(v["findings"][0]["objects"][0]["file"], "rbac.yaml");
        assert_eq!(v["findings"][0]["locations"][0]["line"], 7);
        assert_eq!(
            v["topology"]["jobs"][0]["automountServiceAccountToken"],
            false
        );
        let v: serde_json::Value = serde_json::from_str(&render(json, Severity::Critical)).unwrap();
        assert_eq!(v["summary"]["failed"], false);
    }
}
