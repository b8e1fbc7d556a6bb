//! The wording of evidence: [`Evidence`] as lines, each with its depth. Every format that
//! shows evidence as text (human output, JSON `path`, and `can-i`/`paths` through the CLI)
//! words grants, escalation steps, settings and objects here, and only here.
//!
//! Lines carry the input's text as it is: a terminal format escapes them ([`crate::Escaped`]).

use std::fmt::Write as _;

use runnerguard_audit::{EscalationStep, Evidence, GrantPath, ObjectEvidence, SettingEvidence};
use runnerguard_model::ObjectRef;

/// One line of evidence, and how deep it is nested (0 at the top).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// How deep: a reporter indents it that many steps.
    pub depth: usize,
    /// The text, unescaped.
    pub text: String,
}

/// `evidence` as lines. Grants read binding, role and rule on a line each; consecutive grants
/// of one binding name it and its role once, above their rules.
pub fn lines(evidence: &[Evidence]) -> Vec<Line> {
    let mut out = Vec::new();
    push_all(&mut out, evidence, 0);
    out
}

fn push_all(out: &mut Vec<Line>, evidence: &[Evidence], depth: usize) {
    let mut previous: Option<&GrantPath> = None;
    for e in evidence {
        let mut line = |text: String| out.push(Line { depth, text });
        match e {
            Evidence::Grant(g) => {
                if previous.is_none_or(|p| p.binding != g.binding || p.role != g.role) {
                    line(object(&g.binding));
                    line(object(&g.role));
                }
                line(rule_line(g));
                previous = Some(g);
                continue;
            }
            Evidence::Escalation(s) => escalation(out, s, depth),
            Evidence::Setting(s) => line(setting(s)),
            Evidence::Object(o) => {
                line(object_evidence(o));
                push_all(out, &o.under, depth + 1);
            }
            Evidence::Rule(r) => line(match &r.note {
                Some(note) => format!("rule {}: {}: {note}", r.index, r.rule),
                None => format!("rule {}: {}", r.index, r.rule),
            }),
            Evidence::Fact { text, under } => {
                line(text.to_string());
                push_all(out, under, depth + 1);
            }
        }
        previous = None;
    }
}

/// `RoleBinding teams/deployer (file:line)`.
pub fn object(o: &ObjectRef) -> String {
    if o.namespace.is_empty() {
        format!("{} {} ({})", o.kind, o.name, o.origin)
    } else {
        format!("{} {}/{} ({})", o.kind, o.namespace, o.name, o.origin)
    }
}

/// `rule 0: {apiGroups: ...} (aggregated from ClusterRole x, rule 2): note`.
fn rule_line(g: &GrantPath) -> String {
    let mut s = format!("rule {}: {}", g.rule_index, g.rule);
    if let Some(from) = &g.aggregated_from {
        let _ = write!(
            s,
            " (aggregated from {} {}, rule {})",
            from.role.kind, from.role.name, from.rule_index
        );
    }
    if let Some(note) = &g.note {
        s.push_str(": ");
        s.push_str(note);
    }
    s
}

/// A grant on one line: `binding → role → rule N: {...}`.
pub fn grant_line(g: &GrantPath) -> String {
    format!(
        "{} → {} → {}",
        object(&g.binding),
        object(&g.role),
        rule_line(g)
    )
}

/// An escalation step: what the identity may do and whom that makes it, then each request
/// it needs with the grant allowing it (one line each), and its caveat.
pub fn escalation_lines(s: &EscalationStep) -> Vec<Line> {
    let mut out = Vec::new();
    escalation(&mut out, s, 0);
    out
}

fn escalation(out: &mut Vec<Line>, s: &EscalationStep, depth: usize) {
    out.push(Line {
        depth,
        text: format!("{} → {}", s.primitive.describe(), s.reached),
    });
    for p in &s.permissions {
        out.push(Line {
            depth: depth + 1,
            text: format!("{}: {}", p.request, grant_line(&p.grant)),
        });
    }
    if let Some(note) = &s.note {
        out.push(Line {
            depth: depth + 1,
            text: format!("({note})"),
        });
    }
}

/// `` `key: value` (file:line) effect ``, the value left out when there is none to show.
fn setting(s: &SettingEvidence) -> String {
    match &s.value {
        Some(v) => format!("`{}: {v}` ({}) {}", s.key, s.origin, s.effect),
        None => format!("`{}` ({}) {}", s.key, s.origin, s.effect),
    }
}

/// `bound by RoleBinding x (file:line), note`.
fn object_evidence(o: &ObjectEvidence) -> String {
    let mut s = String::new();
    if let Some(r) = &o.relation {
        s.push_str(r);
        s.push(' ');
    }
    s.push_str(&object(&o.object));
    if let Some(note) = &o.note {
        s.push_str(", ");
        s.push_str(note);
    }
    s
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use runnerguard_audit::{RuleOrigin, StepPermission};
    use runnerguard_engine::{Action, Identity, Primitive};
    use runnerguard_model::{Origin, PolicyRule};

    use super::*;

    fn object(kind: &str, namespace: &str, name: &str, line: u32) -> ObjectRef {
        ObjectRef {
            api_version: "rbac.authorization.k8s.io/v1".into(),
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
            origin: Origin::new("rbac.yaml".into(), line, 1),
        }
    }

    fn rule() -> PolicyRule {
        PolicyRule {
            verbs: vec!["get".into()],
            api_groups: vec![String::new()],
            resources: vec!["secrets".into()],
            ..PolicyRule::default()
        }
    }

    fn grant(binding: &str, index: usize) -> GrantPath {
        GrantPath {
            binding: Arc::new(object("RoleBinding", "teams", binding, 20)),
            role: Arc::new(object("ClusterRole", "", "reader", 3)),
            rule_index: index,
            rule: Arc::new(rule()),
            aggregated_from: None,
            note: None,
        }
    }

    fn texts(evidence: &[Evidence]) -> Vec<String> {
        lines(evidence)
            .into_iter()
            .map(|l| format!("{}{}", "  ".repeat(l.depth), l.text))
            .collect()
    }

    const RULE: &str = r#"{apiGroups: [""], resources: ["secrets"], verbs: ["get"]}"#;

    #[test]
    fn a_grant_is_binding_role_and_rule_and_one_binding_is_named_once() {
        let mut aggregated = grant("ci", 1);
        aggregated.aggregated_from = Some(RuleOrigin {
            role: Arc::new(object("ClusterRole", "", "aggregate-to-reader", 9)),
            rule_index: 0,
        });
        aggregated.note = Some("not needed: secrets (get)".into());
        let evidence = [
            Evidence::Grant(Box::new(grant("ci", 0))),
            Evidence::Grant(Box::new(aggregated)),
            Evidence::Grant(Box::new(grant("other", 0))),
        ];
        assert_eq!(
            texts(&evidence),
            [
                "RoleBinding teams/ci (rbac.yaml:20)".to_owned(),
                "ClusterRole reader (rbac.yaml:3)".to_owned(),
                format!("rule 0: {RULE}"),
                format!(
                    "rule 1: {RULE} (aggregated from ClusterRole aggregate-to-reader, rule 0): not needed: secrets (get)"
                ),
                "RoleBinding teams/other (rbac.yaml:20)".to_owned(),
                "ClusterRole reader (rbac.yaml:3)".to_owned(),
                format!("rule 0: {RULE}"),
            ]
        );
        assert_eq!(
            grant_line(&grant("ci", 0)),
            format!(
                "RoleBinding teams/ci (rbac.yaml:20) → ClusterRole reader (rbac.yaml:3) → rule 0: {RULE}"
            )
        );
    }

    #[test]
    fn an_escalation_step_names_the_edge_the_identity_and_each_request() {
        let step = EscalationStep {
            primitive: Primitive::CreatePods,
            reached: Identity::ServiceAccount {
                namespace: "teams".into(),
                name: "deployer".into(),
            },
            permissions: vec![StepPermission {
                request: Action::resource("create", "teams", "", "pods", "", ""),
                grant: grant("ci", 0),
            }],
            note: Some("conservative".into()),
        };
        let evidence = [Evidence::fact_under(
            "strongest reachable:",
            vec![Evidence::Escalation(Box::new(step.clone()))],
        )];
        let expected = [
            "strongest reachable:".to_owned(),
            "  may create pods, which can run as any ServiceAccount of the namespace → ServiceAccount teams/deployer".to_owned(),
            format!(
                "    create pods in namespace \"teams\": RoleBinding teams/ci (rbac.yaml:20) → ClusterRole reader (rbac.yaml:3) → rule 0: {RULE}"
            ),
            "    (conservative)".to_owned(),
        ];
        assert_eq!(texts(&evidence), expected);
        // The same wording on its own, as `paths` and `can-i` show it.
        let alone: Vec<(usize, String)> = escalation_lines(&step)
            .into_iter()
            .map(|l| (l.depth, l.text))
            .collect();
        assert_eq!(alone[0], (0, expected[1].trim_start().to_owned()));
        assert_eq!(alone[1], (1, expected[2].trim_start().to_owned()));
    }

    #[test]
    fn a_setting_names_key_value_and_place_and_a_secret_by_key_alone() {
        let origin = Origin::new("values.yaml".into(), 4, 1);
        let evidence = [
            Evidence::setting(
                "runners.kubernetes.serviceAccountName",
                Some("\"ci\"".into()),
                origin.clone(),
                "is not read by the chart",
            ),
            Evidence::setting("runnerToken", None, origin, "is set too"),
        ];
        assert_eq!(
            texts(&evidence),
            [
                "`runners.kubernetes.serviceAccountName: \"ci\"` (values.yaml:4) is not read by the chart",
                "`runnerToken` (values.yaml:4) is set too",
            ]
        );
    }

    #[test]
    fn an_object_is_named_with_its_relation_note_and_what_is_under_it() {
        let role = Evidence::Object(Box::new(ObjectEvidence {
            object: object("Role", "teams", "wild", 2),
            relation: None,
            note: Some("rendered by chart `gitlab-runner-0.86.0`".into()),
            under: vec![
                Evidence::rule(0, rule(), Some("`*` in verbs".into())),
                Evidence::related_object("bound by", object("RoleBinding", "teams", "wild", 9)),
            ],
        }));
        assert_eq!(
            texts(&[role, Evidence::object(object("ClusterRole", "", "x", 5))]),
            [
                "Role teams/wild (rbac.yaml:2), rendered by chart `gitlab-runner-0.86.0`"
                    .to_owned(),
                format!("  rule 0: {RULE}: `*` in verbs"),
                "  bound by RoleBinding teams/wild (rbac.yaml:9)".to_owned(),
                "ClusterRole x (rbac.yaml:5)".to_owned(),
            ]
        );
    }

    #[test]
    fn a_fact_nests_what_it_rests_on_and_a_fact_breaks_a_run_of_grants() {
        let evidence = [
            Evidence::Grant(Box::new(grant("ci", 0))),
            Evidence::fact_under(
                "it may also create rolebindings:",
                vec![Evidence::Grant(Box::new(grant("ci", 1)))],
            ),
            Evidence::Grant(Box::new(grant("ci", 2))),
        ];
        assert_eq!(
            texts(&evidence),
            [
                "RoleBinding teams/ci (rbac.yaml:20)".to_owned(),
                "ClusterRole reader (rbac.yaml:3)".to_owned(),
                format!("rule 0: {RULE}"),
                "it may also create rolebindings:".to_owned(),
                "  RoleBinding teams/ci (rbac.yaml:20)".to_owned(),
                "  ClusterRole reader (rbac.yaml:3)".to_owned(),
                format!("  rule 1: {RULE}"),
                "RoleBinding teams/ci (rbac.yaml:20)".to_owned(),
                "ClusterRole reader (rbac.yaml:3)".to_owned(),
                format!("rule 2: {RULE}"),
            ]
        );
    }
}
