//! `audit -o sarif`: SARIF 2.1.0 valid against the OASIS schema (data/sarif/, draft 4, formats
//! checked), with the rules that ran described from their docs, results GitLab can ingest
//! (a known `ruleId`, `locations[0]` in a repository-relative file at an integer line), code
//! flows for escalation paths, and fingerprints unique, stable and equal to the Code Quality
//! report's.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use serde_json::Value;

use super::{root, run};

/// The OASIS schema, compiled once for the draft it declares (draft 4), format checks on.
static SCHEMA: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let text = std::fs::read_to_string(root().join("data/sarif/sarif-schema-2.1.0.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#");
    jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
});

/// What the schema finds wrong in `log`, one line each.
pub(super) fn schema_errors(log: &Value) -> Vec<String> {
    match SCHEMA.validate(log) {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .map(|e| format!("{}: {e}", e.instance_path))
            .collect(),
    }
}

/// The SARIF log on `stdout`, checked against the schema and as GitLab reads it.
fn sarif(stdout: &str) -> Value {
    let log: Value = serde_json::from_str(stdout).unwrap();
    let errors = schema_errors(&log);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let mut fingerprints = BTreeSet::new();
    for r in run["results"].as_array().unwrap() {
        let index = usize::try_from(r["ruleIndex"].as_u64().unwrap()).unwrap();
        assert_eq!(rules[index]["id"], r["ruleId"], "{r}");
        let lead = &r["locations"][0]["physicalLocation"];
        let uri = lead["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            !uri.is_empty() && !uri.starts_with('/') && !uri.starts_with("file:"),
            "{r}"
        );
        assert_eq!(lead["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert!(!uri.contains("%20%5Brendered"), "{r}");
        for l in r["locations"]
            .as_array()
            .unwrap()
            .iter()
            .chain(r["relatedLocations"].as_array().into_iter().flatten())
        {
            if let Some(region) = l["physicalLocation"].get("region") {
                assert!(region["startLine"].as_u64().unwrap() >= 1, "{l}");
                assert_eq!(region["endLine"], region["startLine"], "{l}");
            } else {
                assert!(
                    !l["logicalLocations"][0]["name"]
                        .as_str()
                        .unwrap()
                        .is_empty()
                );
            }
            assert!(!l["message"]["text"].as_str().unwrap().is_empty(), "{l}");
        }
        assert!(
            fingerprints.insert(r["partialFingerprints"]["runnerguard/v1"].as_str().unwrap()),
            "fingerprints are unique: {r}"
        );
        // GitLab's limits: a longer text drops the result.
        assert!(r["message"]["text"].as_str().unwrap().chars().count() <= 2048);
    }
    log
}

/// The snapshot of a log: the version of runnerguard as `[version]`, and each rule's texts
/// from its docs (checked against docs/rules/ in the test) as the doc's name.
fn redacted(log: &Value) -> String {
    let mut log = log.clone();
    let driver = &mut log["runs"][0]["tool"]["driver"];
    driver["version"] = "[version]".into();
    driver["semanticVersion"] = "[version]".into();
    for rule in driver["rules"].as_array_mut().unwrap() {
        let docs = format!("[docs/rules/{}.md]", rule["id"].as_str().unwrap());
        rule["fullDescription"]["text"] = docs.clone().into();
        rule["help"]["text"] = docs.clone().into();
        rule["help"]["markdown"] = docs.into();
    }
    serde_json::to_string_pretty(&log).unwrap()
}

#[test]
fn the_seed_audit_as_sarif() {
    let r = run(&["audit", "-o", "sarif", "-f", "examples/seed/"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let log = sarif(&r.stdout);
    let first = &log["runs"][0];
    let driver = &first["tool"]["driver"];
    assert_eq!(driver["name"], "runnerguard");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    // Every rule that ran, described from its docs.
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 27);
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        for key in ["shortDescription", "fullDescription", "help"] {
            assert!(
                rule[key]["text"].as_str().is_some_and(|t| !t.is_empty()),
                "{id} {key}"
            );
        }
        let docs = std::fs::read_to_string(root().join(format!("docs/rules/{id}.md"))).unwrap();
        assert_eq!(rule["help"]["markdown"].as_str().unwrap(), docs, "{id}");
        let full = rule["fullDescription"]["text"].as_str().unwrap();
        let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(words(&docs).contains(&words(full)), "{id}: {full}");
        let severity = rule["properties"]["runnerguard/severity"].as_str().unwrap();
        assert!(
            docs.contains(&format!("Default severity: **{severity}**")),
            "{id}"
        );
        let level = match severity {
            "critical" | "high" => "error",
            "medium" => "warning",
            _ => "note",
        };
        assert_eq!(rule["defaultConfiguration"]["level"], level, "{id}");
        assert!(rule["properties"]["security-severity"].is_string(), "{id}");
    }
    // One result per finding, in the JSON report's order, at its severity.
    let json: Value = serde_json::from_str(&run_json(&["-f", "examples/seed/"])).unwrap();
    let findings = json["findings"].as_array().unwrap();
    let results = first["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    for (r, f) in results.iter().zip(findings) {
        assert_eq!(r["ruleId"], f["rule"]);
        assert_eq!(r["message"]["text"], f["message"]);
        assert_eq!(r["properties"]["runnerguard/severity"], f["severity"]);
        // Every object of the finding is a location.
        assert!(r["locations"].as_array().unwrap().len() >= f["objects"].as_array().unwrap().len());
    }
    let rg101 = results.iter().find(|r| r["ruleId"] == "RG101").unwrap();
    assert_eq!(rg101["level"], "error");
    assert_eq!(rg101["rank"], 95.0);
    // The audit read every input.
    assert_eq!(first["invocations"][0]["executionSuccessful"], true);
    // The fingerprints are the Code Quality report's: stable across line moves
    // (codequality.rs moves the seed's lines and compares).
    let cq: Value =
        serde_json::from_str(&run(&["audit", "-o", "codequality", "-f", "examples/seed/"]).stdout)
            .unwrap();
    let cq: Vec<&Value> = cq
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["fingerprint"])
        .collect();
    let prints: Vec<&Value> = results
        .iter()
        .map(|r| &r["partialFingerprints"]["runnerguard/v1"])
        .collect();
    assert_eq!(prints, cq);
    // Run again: the same document.
    let again = run(&["audit", "-o", "sarif", "-f", "examples/seed/"]);
    assert_eq!(again.stdout, r.stdout);
    // The seed's registration token is a placeholder; no value of the values file's
    // `runnerRegistrationToken` is shown, only its key.
    assert!(!r.stdout.contains("__REPLACE_ME__"));
    insta::assert_snapshot!(redacted(&log));
}

fn run_json(args: &[&str]) -> String {
    let mut all = vec!["audit", "-o", "json"];
    all.extend_from_slice(args);
    run(&all).stdout
}

/// The validator checks something: documents the schema forbids are refused.
#[test]
fn the_schema_refuses_a_broken_log() {
    let r = run(&["audit", "-o", "sarif", "-f", "examples/seed/"]);
    let log = sarif(&r.stdout);
    let broken = |path: &str, value: Value| {
        let mut log = log.clone();
        *log.pointer_mut(path).unwrap() = value;
        assert!(
            !schema_errors(&log).is_empty(),
            "{path} = {}",
            log.pointer(path).unwrap()
        );
    };
    broken("/runs/0/results/0/level", "fatal".into());
    broken(
        "/runs/0/results/0/locations/0/physicalLocation/region/startLine",
        0.into(),
    );
    broken("/runs/0/results/0/rank", 101.0.into());
    broken("/runs/0/results/0/message", serde_json::json!({"text": 1}));
    broken("/version", "2.0.0".into());
    // A rule's documentation as a path is no URI: `helpUri` is left out.
    let mut log = log.clone();
    log["runs"][0]["tool"]["driver"]["rules"][0]
        .as_object_mut()
        .unwrap()
        .insert("helpUri".into(), "docs/rules/RB001.md".into());
    assert!(!schema_errors(&log).is_empty(), "a relative helpUri");
    log["runs"][0]["tool"]["driver"]["rules"][0]
        .as_object_mut()
        .unwrap()
        .remove("helpUri");
    log["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert!(
        !schema_errors(&log).is_empty(),
        "a result without a message"
    );
}

/// An escalation path is a code flow through the bindings and roles of its steps
/// (fixtures/escalation/two-step.yaml: pods in `teams`, then a ServiceAccount that reads the
/// runner's Secrets).
#[test]
fn an_escalation_path_is_a_code_flow() {
    let r = run(&[
        "audit",
        "-o",
        "sarif",
        "-f",
        "fixtures/escalation/two-step.yaml",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let log = sarif(&r.stdout);
    let result = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "RB005")
        .unwrap();
    let flows = result["codeFlows"].as_array().unwrap();
    assert_eq!(flows.len(), 1);
    assert_eq!(
        flows[0]["message"]["text"],
        "strongest reachable: ServiceAccount teams/deployer"
    );
    let path = flows[0]["threadFlows"][0]["locations"].as_array().unwrap();
    let places: Vec<(u64, &str)> = path
        .iter()
        .map(|l| {
            let l = &l["location"];
            (
                l["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap(),
                l["message"]["text"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(places.len(), 2, "{places:?}");
    // The binding (line 33), with the step; the role (line 25), with the request it allows.
    assert_eq!(places[0].0, 33);
    assert!(
        places[0].1.starts_with("may read Secrets, including ServiceAccount token Secrets → ServiceAccount gitlab-runner/default (conservative: "),
        "{}",
        places[0].1
    );
    assert_eq!(places[1].0, 25);
    assert!(
        places[1].1.starts_with("list secrets in namespace \"gitlab-runner\": RoleBinding gitlab-runner/deployer-reads-runner-secrets"),
        "{}",
        places[1].1
    );
    for l in path {
        assert_eq!(
            l["location"]["physicalLocation"]["artifactLocation"]["uri"],
            "fixtures/escalation/two-step.yaml"
        );
    }
    // The grant of the first step and the second's are related locations.
    let related = result["relatedLocations"].as_array().unwrap();
    let lines: BTreeSet<u64> = related
        .iter()
        .map(|l| {
            l["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(lines, BTreeSet::from([11, 19, 25, 33]));
}

/// Only the rules that ran are described; an input not read makes the run unsuccessful and
/// is named; the real-world fixtures (embedded roles, rendered values, Argo CD, Flux) are
/// valid too.
#[test]
fn rules_that_ran_an_unread_input_and_the_real_world() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(&bad, "kind: Role\nmetadata: [\n").unwrap();
    let r = run(&[
        "audit",
        "-o",
        "sarif",
        "--select",
        "RB",
        "-f",
        "examples/seed/",
        "-f",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let log = sarif(&r.stdout);
    let first = &log["runs"][0];
    let ids: Vec<&str> = first["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 11);
    assert!(ids.iter().all(|id| id.starts_with("RB")), "{ids:?}");
    let invocation = &first["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let note = &invocation["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "error");
    let text = note["message"]["text"].as_str().unwrap();
    assert!(
        text.starts_with("input not read, the audit is incomplete: ")
            && text.contains("bad.yaml:2:"),
        "{text}"
    );
    let r = run(&["audit", "-o", "sarif", "-f", "fixtures/real-world"]);
    let log = sarif(&r.stdout);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() > 50, "{}", results.len());
    // Kubernetes' embedded roles are named, never placed in a file.
    assert!(r.stdout.contains("\"logicalLocations\""));
    assert!(r.stdout.contains("\"kind\": \"resource\""));
    assert!(!r.stdout.contains("\"uri\": \"builtin"));
}

/// `-o sarif=FILE` writes the document stdout gets.
#[test]
fn sarif_to_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("runnerguard.sarif");
    let r = run(&[
        "audit",
        "-f",
        "examples/seed/",
        "-o",
        "human",
        "-o",
        &format!("sarif={}", file.display()),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let alone = run(&["audit", "-f", "examples/seed/", "-o", "sarif"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), alone.stdout);
}
