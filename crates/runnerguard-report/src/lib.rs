//! Every output of every command, for people and for CI. Each format writes to a
//! `&mut dyn Write`; none prints.
//!
//! The audit: [`human()`] (grouped by severity, evidence and a one-line fix per finding,
//! colour when asked) and [`json()`] (schema version 1, docs/json-output.md), from a
//! [`Report`]. The RBAC answers (`can-i`, `who-can`, `paths`): [`answers`], each with a
//! `human` and a `json` writer. Every JSON document is a type of [`schema::v1`], from which
//! docs/schema/v1.json is generated.
//!
//! Text for people shows input strings through [`Escaped`] (or [`escape()`]): control
//! characters and bidirectional overrides appear as `\u{1b}`, `\r`, `\n`, ..., never raw, so
//! a name cannot rewrite the terminal. JSON carries the exact strings, escaped as JSON is.

pub mod answers;
mod codequality;
mod diff;
pub mod evidence;
mod html;
mod human;
mod json;
mod junit;
mod locate;
mod sarif;
pub mod schema;
pub mod table;

use runnerguard_audit::{Finding, Severity, Topology};

pub use codequality::codequality;
pub use diff::{DiffReport, diff_human, diff_json};
pub use html::{diff_html, html};
pub use human::{Escaped, escape, human};
pub use json::json;
pub use junit::{diff_junit, junit};
pub use sarif::{diff_sarif, sarif};

/// `s` after a count other than one: `finding{}`.
pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

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
    use runnerguard_audit::{
        Evidence, Finding, JobTarget, RuleMeta, Severity, Topology, TopologyEvidence, TopologyFact,
    };
    use runnerguard_model::{ObjectRef, Origin};

    /// A report of `findings` under `topology`, failing at `fail_on`, every input read.
    fn report<'a>(
        topology: &'a [Topology],
        findings: &'a [Finding],
        fail_on: Severity,
    ) -> Report<'a> {
        Report {
            topologies: topology,
            findings,
            fail_on,
            runner_version: "18.9".into(),
            chart_version: "0.86.0".into(),
            inputs: &[],
            unreadable: &[],
        }
    }

    use std::borrow::Cow;

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
            evidence: vec![TopologyEvidence {
                fact: TopologyFact::JobNamespace {
                    namespace: "teams".into(),
                    service_account: None,
                },
                source: "values.yaml:37".into(),
            }],
            values: None,
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
                .evidence(Evidence::object(ObjectRef {
                    api_version: "rbac.authorization.k8s.io/v1".into(),
                    kind: "RoleBinding".into(),
                    namespace: "teams".into(),
                    name: "x".into(),
                    origin: Origin::new("rbac.yaml".into(), 20, 1),
                })),
            Finding::new(&META, "a lesser thing").severity(Severity::Low),
        ]
    }

    fn render(
        f: fn(&mut dyn std::io::Write, &Report<'_>) -> std::io::Result<()>,
        fail_on: Severity,
    ) -> String {
        let topology = [topology()];
        let findings = findings();
        let report = report(&topology, &findings, fail_on);
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
        let report = report(&topology, &findings, Severity::High);
        let mut out = Vec::new();
        human(&mut out, &report, true).unwrap();
        assert!(
            String::from_utf8(out)
                .unwrap()
                .contains("\x1b[31mHIGH\x1b[0m")
        );
    }

    /// A finding whose names hold ESC, CR, LF, an OSC 8 hyperlink, BEL, U+202E and a C1 CSI.
    fn hostile() -> (Vec<Topology>, Vec<Finding>) {
        let evil =
            "mallory\x1b[2K\rRB001 fixed\nfake\x1b]8;;https://x.example/\x07y\u{202e}z\u{9b}";
        let mut topology = topology();
        topology.manager_namespace = "ns\x1b[1A".into();
        topology.jobs[0].service_account = "ci\r".into();
        topology.evidence[0].source = "values\n.yaml:3".into();
        let finding = Finding::new(&META, format!("User {evil} holds `*` on `*`"))
            .object(ObjectRef {
                api_version: "rbac.authorization.k8s.io/v1".into(),
                kind: "ClusterRoleBinding".into(),
                namespace: String::new(),
                name: "crb\x1b[31m".into(),
                origin: Origin::new("dir\n/rbac.yaml".into(), 1, 1),
            })
            .location("runners\u{2066}", Origin::new("v\r.yaml".into(), 7, 3))
            .evidence(Evidence::object(ObjectRef {
                api_version: "rbac.authorization.k8s.io/v1".into(),
                kind: "ClusterRoleBinding".into(),
                namespace: String::new(),
                name: "crb\x1b[31m".into(),
                origin: Origin::new("dir\n/rbac.yaml".into(), 1, 1),
            }))
            .remediation(format!("remove User {evil}"));
        (vec![topology], vec![finding])
    }

    #[test]
    fn escape_shows_controls_and_keeps_text() {
        assert_eq!(
            escape("a\x1b[2K\rb\nc\td\u{7f}e\u{9b}f\u{202e}g\u{2069}h\u{2028}i\0"),
            r"a\u{1b}[2K\rb\nc\td\u{7f}e\u{9b}f\u{202e}g\u{2069}h\u{2028}i\u{0}"
        );
        for ordinary in [
            "gitlab-runner",
            "zoë 日本 ü",
            "C:\\path\\x",
            "",
            "`a` → b · c",
        ] {
            assert!(matches!(escape(ordinary), Cow::Borrowed(_)), "{ordinary}");
        }
        // Escaping twice changes nothing: the escaped form holds no character to escape.
        let once = escape("\x1b]8;;\x07\n").into_owned();
        assert_eq!(escape(&once), once);
        assert_eq!(
            Escaped(format_args!("{}-{}", "a\n", 1)).to_string(),
            r"a\n-1"
        );
    }

    #[test]
    fn human_escapes_input_text() {
        let (topology, findings) = hostile();
        for color in [false, true] {
            let report = Report {
                topologies: &topology,
                findings: &findings,
                fail_on: Severity::High,
                runner_version: "18.9".into(),
                chart_version: "0.86.0\x1b[2K".into(),
                inputs: &["rendered values\r\x1b[2Kfake".to_owned()],
                unreadable: &["in\x1b[2K.yaml:1:1: bad `\x1b]8;;x\x07`".to_owned()],
            };
            let mut out = Vec::new();
            human(&mut out, &report, color).unwrap();
            let text = String::from_utf8(out).unwrap();
            // With colour, the only ESC left is the report's own SGR codes (`ESC [ digits m`).
            let stripped = text
                .split('\x1b')
                .enumerate()
                .map(|(i, part)| {
                    if i == 0 {
                        return part;
                    }
                    let end = part.find('m').unwrap();
                    assert!(
                        part.starts_with('[')
                            && part[1..end].chars().all(|c| c.is_ascii_digit() || c == ';'),
                        "raw ESC from input: {part:?}"
                    );
                    &part[end + 1..]
                })
                .collect::<String>();
            assert!(
                !stripped
                    .chars()
                    .any(|c| c != '\n' && escape(&c.to_string()) != c.to_string()),
                "{}",
                text.escape_debug()
            );
            assert_eq!(stripped.lines().count(), 18, "{stripped}");
            for expected in [
                r"User mallory\u{1b}[2K\rRB001 fixed\nfake\u{1b}]8;;https://x.example/\u{7}y\u{202e}z\u{9b} holds",
                r"fix: remove User mallory\u{1b}[2K\rRB001",
                r"ClusterRoleBinding crb\u{1b}[31m  ",
                r"dir\n/rbac.yaml:1",
                r"at v\r.yaml:7:3  runners\u{2066}",
                r"manager: ServiceAccount ns\u{1b}[1A/gitlab-runner",
                r"ServiceAccount ci\r, token not mounted",
                r"values\n.yaml:3",
                r"rendered values\r\u{1b}[2Kfake",
                r"chart 0.86.0\u{1b}[2K",
                r"in\u{1b}[2K.yaml:1:1: bad `\u{1b}]8;;x\u{7}`",
            ] {
                assert!(stripped.contains(expected), "{expected} not in\n{stripped}");
            }
        }
    }

    #[test]
    fn json_keeps_input_text_exact() {
        let (topology, findings) = hostile();
        let report = report(&topology, &findings, Severity::High);
        let mut out = Vec::new();
        json(&mut out, &report).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains('\x1b') && !text.contains('\r'), "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["findings"][0]["message"], findings[0].message);
        assert_eq!(v["findings"][0]["objects"][0]["name"], "crb\x1b[31m");
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
