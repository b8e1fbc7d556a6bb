use std::sync::Arc;

use runnerguard_audit::{
    EscalationStep, Evidence, GrantPath, JobTarget, StepPermission, Topology, TopologyEvidence,
    TopologyFact,
};
use runnerguard_engine::{Action, Identity, Primitive};
use runnerguard_model::PolicyRule;
use serde_json::Value;

use super::*;
use crate::evidence::grant_line;

const META: RuleMeta = RuleMeta {
    id: "RG999",
    name: "example-rule",
    severity: Severity::High,
    summary: "an example",
    remediation: "do the right thing",
    docs: " ## What it flags\n A first line\n and its second.\n\n ## Why it matters\n **Because.**\n\n ## Example\n ```yaml\n kind: Role\n ```\n",
};

fn object(kind: &str, namespace: &str, name: &str, file: &str, line: u32) -> ObjectRef {
    ObjectRef {
        api_version: "rbac.authorization.k8s.io/v1".into(),
        kind: kind.into(),
        namespace: namespace.into(),
        name: name.into(),
        origin: Origin::new(file.into(), line, 1),
    }
}

fn grant(binding: &str, role: &str, line: u32) -> GrantPath {
    GrantPath {
        binding: Arc::new(object(
            "RoleBinding",
            "teams",
            binding,
            "/repo/rbac.yaml",
            line,
        )),
        role: Arc::new(object("Role", "teams", role, "/repo/rbac.yaml", line + 10)),
        rule_index: 0,
        rule: Arc::new(PolicyRule {
            verbs: vec!["create".into()],
            api_groups: vec![String::new()],
            resources: vec!["pods".into()],
            ..PolicyRule::default()
        }),
        aggregated_from: None,
        note: None,
    }
}

fn step(binding: &str, to: &str) -> Evidence {
    Evidence::Escalation(Box::new(EscalationStep {
        primitive: Primitive::CreatePods,
        reached: Identity::ServiceAccount {
            namespace: "teams".into(),
            name: to.into(),
        },
        permissions: vec![StepPermission {
            request: Action::resource("create", "teams", "", "pods", "", ""),
            grant: grant(binding, "pod-maker", 20),
        }],
        note: Some("conservative".into()),
    }))
}

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
            source: "/repo/values.yaml:37".into(),
        }],
        values: None,
    }
}

/// The report of `findings` as SARIF, written for the root `/repo`, parsed.
fn write(findings: &[Finding], unreadable: &[String], rules: &[&RuleMeta]) -> Value {
    let topologies = [topology()];
    let report = Report {
        topologies: &topologies,
        findings,
        fail_on: Severity::High,
        runner_version: "18.9".into(),
        chart_version: "0.86.0".into(),
        inputs: &["values rendered by the built-in model".to_owned()],
        unreadable,
    };
    let mut out = Vec::new();
    sarif(
        &mut out,
        &report,
        rules,
        Path::new("/repo"),
        "/repo/first.yaml",
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.ends_with("}\n"));
    serde_json::from_str(&text).unwrap()
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().unwrap()
}

#[test]
fn levels_scores_and_ranks_follow_the_severity() {
    let expected = [
        (Severity::Critical, "error", "9.5", 95.0),
        (Severity::High, "error", "8.0", 80.0),
        (Severity::Medium, "warning", "5.5", 55.0),
        (Severity::Low, "note", "2.5", 25.0),
        (Severity::Info, "note", "0.5", 5.0),
    ];
    for (s, l, score, r) in expected {
        assert_eq!(
            (level(s), security_severity(s), rank(s)),
            (l, score, r),
            "{s}"
        );
        // GitLab reads the rank in tens (critical from 90), GitHub the score (critical above 9).
        assert!((rank(s) - security_severity(s).parse::<f64>().unwrap() * 10.0).abs() < 1e-9);
    }
    let findings = [Finding::new(&META, "graded up").severity(Severity::Critical)];
    let log = write(&findings, &[], &[&META]);
    let r = &results(&log)[0];
    assert_eq!(r["level"], "error");
    assert_eq!(r["rank"], 95.0);
    assert_eq!(r["properties"]["security-severity"], "9.5");
    assert_eq!(r["properties"]["runnerguard/severity"], "critical");
    let rule = &log["runs"][0]["tool"]["driver"]["rules"][0];
    assert_eq!(rule["properties"]["security-severity"], "8.0");
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
}

#[test]
fn a_rule_is_described_from_its_docs() {
    let log = write(&[], &[], &[&META]);
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "runnerguard");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rule = &driver["rules"][0];
    assert_eq!(rule["id"], "RG999");
    assert_eq!(rule["name"], "example-rule");
    assert_eq!(rule["shortDescription"]["text"], "an example");
    assert_eq!(
        rule["fullDescription"]["text"],
        "A first line and its second."
    );
    let markdown = rule["help"]["markdown"].as_str().unwrap();
    assert_eq!(markdown, runnerguard_audit::rule_markdown(&META));
    assert!(markdown.contains("## Why it matters\n**Because.**"));
    assert_eq!(
        rule["help"]["text"].as_str().unwrap(),
        "RG999 example-rule\n\nDefault severity: high. an example.\n\nWhat it flags\nA first line\nand its second.\n\nWhy it matters\nBecause.\n\nExample\nkind: Role\n"
    );
    assert_eq!(
        rule["properties"]["tags"],
        serde_json::json!(["security", "gitlab-runner"])
    );
    // The run says how it went.
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true);
    assert_eq!(
        invocation["toolExecutionNotifications"][0]["message"]["text"],
        "values rendered by the built-in model"
    );
    assert_eq!(log["runs"][0]["columnKind"], "unicodeCodePoints");
    assert_eq!(log["runs"][0]["properties"]["runnerguard/failOn"], "high");
}

#[test]
fn every_object_is_a_location_and_one_read_exactly_leads() {
    let f = Finding::new(&META, "something")
        .object(object(
            "ClusterRole",
            "",
            "cluster-admin",
            "builtin:bootstrap",
            3,
        ))
        .object(object(
            "Secret",
            "gitlab-runner",
            "token",
            "/repo/values.yaml + /repo/more.yaml [rendered: gitlab-runner 0.86.0]",
            18,
        ))
        .object(object(
            "RoleBinding",
            "teams",
            "ci",
            "/repo/deploy/rbac.yaml",
            7,
        ))
        .object(object("Role", "teams", "from-stdin", "-", 2))
        .location(
            "runners.tags",
            Origin::new("/repo/values.yaml".into(), 6, 3),
        );
    let log = write(&[f], &[], &[&META]);
    let locations = results(&log)[0]["locations"].as_array().unwrap();
    assert_eq!(locations.len(), 5);
    // The binding leads: the first place read exactly, relative to the root.
    let lead = &locations[0]["physicalLocation"];
    assert_eq!(lead["artifactLocation"]["uri"], "deploy/rbac.yaml");
    assert_eq!(lead["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(
        lead["region"],
        serde_json::json!({"startLine": 7, "startColumn": 1, "endLine": 7})
    );
    // The embedded ClusterRole is named, not placed.
    let builtin = &locations[1];
    assert!(builtin.get("physicalLocation").is_none());
    assert_eq!(
        builtin["logicalLocations"],
        serde_json::json!([{"name": "cluster-admin", "fullyQualifiedName": "ClusterRole/cluster-admin", "kind": "resource"}])
    );
    // The rendered Secret: at the top of the first values file, no column.
    let rendered = &locations[2]["physicalLocation"];
    assert_eq!(rendered["artifactLocation"]["uri"], "values.yaml");
    assert_eq!(
        rendered["region"],
        serde_json::json!({"startLine": 1, "endLine": 1})
    );
    assert!(
        locations[2]["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Secret gitlab-runner/token (/repo/values.yaml + ")
    );
    // Standard input is no file either.
    assert_eq!(
        locations[3]["logicalLocations"][0]["fullyQualifiedName"],
        "Role/teams/from-stdin"
    );
    let setting = &locations[4];
    assert_eq!(setting["physicalLocation"]["region"]["startColumn"], 3);
    assert_eq!(
        setting["message"]["text"],
        "`runners.tags` (/repo/values.yaml:6)"
    );
    // Without the binding, the setting (read exactly) leads before the rendered Secret.
    let f = Finding::new(&META, "something")
        .object(object(
            "Secret",
            "gitlab-runner",
            "token",
            "/repo/values.yaml [rendered: gitlab-runner 0.86.0]",
            18,
        ))
        .location(
            "runners.tags",
            Origin::new("/repo/values.yaml".into(), 6, 3),
        );
    let log = write(&[f], &[], &[&META]);
    let lead = &results(&log)[0]["locations"][0]["physicalLocation"];
    assert_eq!(lead["region"]["startLine"], 6);
}

#[test]
fn a_finding_with_no_place_in_a_file_is_where_its_setup_was_read_from() {
    let findings = [
        Finding::new(&META, "no NetworkPolicy in `teams`"),
        Finding::new(&META, "only embedded").object(object(
            "ClusterRole",
            "",
            "admin",
            "builtin:bootstrap",
            3,
        )),
    ];
    let log = write(&findings, &[], &[&META]);
    for r in results(&log) {
        let lead = &r["locations"][0]["physicalLocation"];
        assert_eq!(lead["artifactLocation"]["uri"], "values.yaml");
        assert_eq!(lead["region"]["startLine"], 37);
    }
    assert_eq!(
        results(&log)[1]["locations"][1]["logicalLocations"][0]["name"],
        "admin"
    );
    // Without a topology read from a file: line 1 of the first input.
    let report = Report {
        topologies: &[],
        findings: &findings[..1],
        fail_on: Severity::High,
        runner_version: String::new(),
        chart_version: String::new(),
        inputs: &[],
        unreadable: &[],
    };
    let mut out = Vec::new();
    sarif(
        &mut out,
        &report,
        &[&META],
        Path::new("/repo"),
        "/repo/first.yaml",
    )
    .unwrap();
    let log: Value = serde_json::from_slice(&out).unwrap();
    let lead = &results(&log)[0]["locations"][0]["physicalLocation"];
    assert_eq!(lead["artifactLocation"]["uri"], "first.yaml");
    assert_eq!(lead["region"]["startLine"], 1);
}

#[test]
fn paths_become_uris() {
    let places = Places {
        root: Path::new("/repo"),
    };
    let uri = |file: &str| {
        let a = places.artifact(file);
        (a.uri, a.uri_base_id)
    };
    assert_eq!(
        uri("/repo/deploy/my values:1.yaml"),
        ("deploy/my%20values%3A1.yaml".to_owned(), Some(SRCROOT))
    );
    assert_eq!(
        uri("./zoë.yaml"),
        ("zo%C3%AB.yaml".to_owned(), Some(SRCROOT))
    );
    assert_eq!(
        uri("/elsewhere/a b#.yaml"),
        ("file:///elsewhere/a%20b%23.yaml".to_owned(), None)
    );
    assert_eq!(uri("-"), ("-".to_owned(), None));
    assert_eq!(uri_path("C:/x/a%b", true), "C:/x/a%25b");
}

#[test]
fn evidence_gives_related_locations_each_once() {
    let g = grant("ci", "pod-maker", 20);
    let f = Finding::new(&META, "x")
        .object((*g.binding).clone())
        .evidence(Evidence::Grant(Box::new(g.clone())))
        .evidence(Evidence::fact_under(
            "again:",
            vec![Evidence::Grant(Box::new(g.clone()))],
        ))
        .setting(
            "rbac.create",
            Some("true".into()),
            Origin::new("/repo/values.yaml".into(), 3, 1),
            "creates the role",
        )
        .evidence(Evidence::related_object(
            "bound by",
            object("RoleBinding", "teams", "other", "/repo/rbac.yaml", 40),
        ));
    let log = write(&[f], &[], &[&META]);
    let related = results(&log)[0]["relatedLocations"].as_array().unwrap();
    let texts: Vec<&str> = related
        .iter()
        .map(|l| l["message"]["text"].as_str().unwrap())
        .collect();
    let line = grant_line(&g);
    assert_eq!(
        texts,
        [
            line.as_str(),
            line.as_str(),
            "`rbac.create: true` (/repo/values.yaml:3) creates the role",
            "bound by RoleBinding teams/other (/repo/rbac.yaml:40)",
        ]
    );
    assert_eq!(
        related[1]["physicalLocation"]["region"]["startLine"], 30,
        "the role"
    );
    assert!(results(&log)[0].get("codeFlows").is_none());
}

#[test]
fn each_escalation_path_is_a_code_flow() {
    let f = Finding::new(&META, "x")
        .evidence(step("first", "a"))
        .evidence(step("second", "b"))
        .fact("between")
        .evidence(Evidence::fact_under(
            "strongest reachable: ServiceAccount teams/deployer",
            vec![step("third", "c")],
        ));
    let log = write(&[f], &[], &[&META]);
    let flows = results(&log)[0]["codeFlows"].as_array().unwrap();
    assert_eq!(flows.len(), 2);
    assert_eq!(
        flows[0]["message"]["text"],
        "escalation to ServiceAccount teams/b"
    );
    assert_eq!(
        flows[1]["message"]["text"],
        "strongest reachable: ServiceAccount teams/deployer"
    );
    let path = flows[0]["threadFlows"][0]["locations"].as_array().unwrap();
    // Two steps, each through a binding and a role.
    assert_eq!(path.len(), 4);
    let at = |i: usize| &path[i]["location"];
    assert_eq!(
        at(0)["physicalLocation"]["artifactLocation"]["uri"],
        "rbac.yaml"
    );
    assert_eq!(at(0)["physicalLocation"]["region"]["startLine"], 20);
    assert_eq!(
        at(0)["message"]["text"],
        "may create pods, which can run as any ServiceAccount of the namespace → ServiceAccount teams/a (conservative)"
    );
    assert_eq!(at(1)["physicalLocation"]["region"]["startLine"], 30);
    assert!(
        at(1)["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("create pods in namespace \"teams\": RoleBinding teams/first ")
    );
    assert!(
        at(3)["message"]["text"]
            .as_str()
            .unwrap()
            .contains("teams/second")
    );
    let third = flows[1]["threadFlows"][0]["locations"].as_array().unwrap();
    assert_eq!(third.len(), 2);
    // The bindings and roles are related locations too.
    assert_eq!(
        results(&log)[0]["relatedLocations"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
}

#[test]
fn fingerprints_are_code_quality_s_and_unique() {
    let twin = || {
        Finding::new(&META, "the entry at /repo/c.toml:3 is wrong")
            .location("[[runners]]", Origin::new("/repo/c.toml".into(), 3, 1))
    };
    let moved = Finding::new(&META, "the entry at /repo/c.toml:9 is wrong")
        .location("[[runners]]", Origin::new("/repo/c.toml".into(), 9, 1));
    let findings = [twin(), moved];
    let log = write(&findings, &[], &[&META]);
    let prints: Vec<&str> = results(&log)
        .iter()
        .map(|r| r["partialFingerprints"]["runnerguard/v1"].as_str().unwrap())
        .collect();
    let base = fingerprint(&twin(), "c.toml");
    assert_eq!(prints, [base.clone(), format!("{base}-2")]);
}

#[test]
fn an_incomplete_audit_is_no_successful_execution() {
    let log = write(
        &[],
        &["/repo/bad.yaml:2:1: invalid YAML".to_owned()],
        &[&META],
    );
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let first = &invocation["toolExecutionNotifications"][0];
    assert_eq!(first["level"], "error");
    assert_eq!(
        first["message"]["text"],
        "input not read, the audit is incomplete: /repo/bad.yaml:2:1: invalid YAML"
    );
}

#[test]
fn every_result_s_rule_is_in_the_rules() {
    // A finding of RB004, which was not given as a rule that ran, and of an unknown rule.
    let rb004 = runnerguard_audit::find_rule("RB004").unwrap().meta();
    let unknown = RuleMeta {
        id: "ZZ001",
        name: "unknown",
        ..META
    };
    let findings = [
        Finding::new(&META, "a"),
        Finding::new(rb004, "b"),
        Finding::new(&unknown, "c"),
    ];
    let log = write(&findings, &[], &[&META]);
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["RG999", "RB004", "ZZ001"]);
    for r in results(&log) {
        let i = usize::try_from(r["ruleIndex"].as_u64().unwrap()).unwrap();
        assert_eq!(rules[i]["id"], r["ruleId"]);
    }
    assert_eq!(rules[2]["fullDescription"]["text"], "unknown");
}

#[test]
fn texts_are_cut_to_gitlab_s_limits() {
    let long = "é".repeat(3000);
    let log = write(&[Finding::new(&META, long.clone())], &[], &[&META]);
    let text = results(&log)[0]["message"]["text"].as_str().unwrap();
    assert_eq!(text.chars().count(), MAX_MESSAGE);
    assert!(text.ends_with("é…"));
    assert_eq!(bounded("short", 5), "short");
    assert_eq!(bounded("longer", 5), "long…");
    // Every rule's texts fit.
    for rule in runnerguard_audit::ALL {
        let d = descriptor(rule.meta());
        assert!(d.name.chars().count() <= 255);
        assert!(d.short_description.text.chars().count() <= MAX_SHORT_DESCRIPTION);
        assert!(d.full_description.text.chars().count() <= MAX_FULL_DESCRIPTION);
        assert!(!d.full_description.text.is_empty(), "{}", d.id);
        assert!(!d.full_description.text.contains('#'), "{}", d.id);
    }
}

#[test]
fn two_findings_of_a_rule_lead_with_different_lines_when_they_can() {
    let namespace = || object("Namespace", "", "teams", "/repo/ns.yaml", 3);
    let binding = || object("RoleBinding", "teams", "ci", "/repo/rbac.yaml", 7);
    let other = RuleMeta {
        id: "RG998",
        ..META
    };
    let findings = [
        Finding::new(&META, "ingress")
            .object(namespace())
            .object(binding()),
        Finding::new(&META, "egress")
            .object(namespace())
            .object(binding()),
        Finding::new(&META, "and more").object(namespace()),
        Finding::new(&META, "and yet more").object(namespace()),
        // Another rule may lead with the same line.
        Finding::new(&other, "other").object(namespace()),
    ];
    let log = write(&findings, &[], &[&META, &other]);
    let leads: Vec<(String, u64)> = results(&log)
        .iter()
        .map(|r| {
            let p = &r["locations"][0]["physicalLocation"];
            (
                p["artifactLocation"]["uri"].as_str().unwrap().to_owned(),
                p["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect();
    let lead = |uri: &str, line| (uri.to_owned(), line);
    assert_eq!(
        leads,
        [
            lead("ns.yaml", 3),
            lead("rbac.yaml", 7),
            // Its only place is taken: where the setup was read from leads, then its own.
            lead("values.yaml", 37),
            // Everything is taken: its own place leads.
            lead("ns.yaml", 3),
            lead("ns.yaml", 3),
        ]
    );
    let third = results(&log)[2]["locations"].as_array().unwrap();
    assert_eq!(third.len(), 2);
    assert!(
        third[0]["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("where the setup was read from")
    );
    // The fingerprints stay those of the first place in a file.
    let print = |i: usize| results(&log)[i]["partialFingerprints"]["runnerguard/v1"].clone();
    assert_eq!(print(1), fingerprint(&findings[1], "ns.yaml"));
    assert_eq!(print(2), fingerprint(&findings[2], "ns.yaml"));
}

#[test]
fn the_first_input_leads_only_a_finding_with_no_place_in_a_file() {
    // No topology read from a file: the place of last resort is the first input, maybe a
    // directory, so a finding with a place of its own keeps it even when it is taken.
    let namespace = || object("Namespace", "", "teams", "/repo/ns.yaml", 3);
    let findings = [
        Finding::new(&META, "ingress").object(namespace()),
        Finding::new(&META, "egress").object(namespace()),
    ];
    let report = Report {
        topologies: &[],
        findings: &findings,
        fail_on: Severity::High,
        runner_version: String::new(),
        chart_version: String::new(),
        inputs: &[],
        unreadable: &[],
    };
    let mut out = Vec::new();
    sarif(
        &mut out,
        &report,
        &[&META],
        Path::new("/repo"),
        "/repo/deploy/",
    )
    .unwrap();
    let log: Value = serde_json::from_slice(&out).unwrap();
    for r in results(&log) {
        assert_eq!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "ns.yaml"
        );
        assert_eq!(r["locations"].as_array().unwrap().len(), 1);
    }
}
