//! The JSON report's `evidence` is the findings' typed evidence, field for field, and its
//! `path` is the same evidence worded, without indentation.

#![allow(clippy::unwrap_used, reason = "tests fail on any error")]

use std::path::Path;

use runnerguard_audit::{Audit, Evidence, Finding, Selection, Setup, TopologyOptions};
use runnerguard_engine::Policy;
use runnerguard_load::{Input, load_inputs};
use runnerguard_report::{Report, evidence, json};
use serde_json::Value;

/// The seed audit (examples/seed), as `runnerguard audit -f examples/seed` runs it.
fn seed() -> (Vec<Setup>, Vec<Finding>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut loaded = load_inputs(&[Input::Path(root.join("examples/seed"))]).unwrap();
    loaded.add_default_policy().unwrap();
    let policy = Policy::new(loaded.inventory);
    let audit = Audit::new(
        &policy,
        &TopologyOptions::default(),
        "18.9".parse().unwrap(),
    )
    .unwrap();
    let findings = audit.run(&Selection::default());
    (audit.setups().to_vec(), findings)
}

#[test]
fn json_evidence_round_trips_the_grants_of_the_seed_audit() {
    let (setups, findings) = seed();
    let topologies: Vec<_> = setups.into_iter().map(|s| s.topology).collect();
    let report = Report {
        topologies: &topologies,
        findings: &findings,
        fail_on: runnerguard_audit::Severity::High,
        runner_version: "18.9".into(),
        chart_version: "0.86.0".into(),
        inputs: &[],
        unreadable: &[],
    };
    let mut out = Vec::new();
    json(&mut out, &report).unwrap();
    let v: Value = serde_json::from_slice(&out).unwrap();
    let shown = v["findings"].as_array().unwrap();
    assert_eq!(shown.len(), findings.len());

    let mut grants = 0;
    for (f, j) in findings.iter().zip(shown) {
        // The whole typed evidence, as serde writes it.
        assert_eq!(j["evidence"], serde_json::to_value(&f.evidence).unwrap());
        // `path` is the same evidence worded, one line each, no leading spaces.
        let path: Vec<String> = evidence::lines(&f.evidence)
            .into_iter()
            .map(|l| l.text)
            .collect();
        assert_eq!(j["path"], serde_json::to_value(&path).unwrap());
        assert!(path.iter().all(|l| !l.starts_with(' ')), "{path:?}");
        // A grant read back from the JSON names the binding, role and rule of the data.
        for (e, je) in f.evidence.iter().zip(j["evidence"].as_array().unwrap()) {
            let Evidence::Grant(g) = e else {
                continue;
            };
            grants += 1;
            assert_eq!(je["kind"], "grant");
            assert_eq!(je["binding"]["kind"], g.binding.kind.as_str());
            assert_eq!(je["binding"]["namespace"], g.binding.namespace.as_str());
            assert_eq!(je["binding"]["name"], g.binding.name.as_str());
            assert_eq!(je["binding"]["file"], &*g.binding.origin.file);
            assert_eq!(je["binding"]["line"], g.binding.origin.line);
            assert_eq!(je["role"]["name"], g.role.name.as_str());
            assert_eq!(je["ruleIndex"], g.rule_index);
            assert_eq!(
                je["rule"]["verbs"],
                serde_json::to_value(&g.rule.verbs).unwrap()
            );
        }
    }
    assert!(grants > 0);
    // The seed gives the manager rights in `teams` (RG103): RoleBinding
    // teams/gitlab-deployer-binding, rule 0 of Role teams/gitlab-deployer.
    let rules: Vec<&Value> = shown.iter().map(|j| &j["rule"]).collect();
    let rg103 = shown
        .iter()
        .find(|j| j["rule"] == "RG103" && j["message"].as_str().unwrap().contains("`teams`"))
        .unwrap_or_else(|| panic!("{rules:?}"));
    let grant = &rg103["evidence"][0];
    assert_eq!(grant["kind"], "grant");
    assert_eq!(grant["binding"]["kind"], "RoleBinding");
    assert_eq!(grant["binding"]["namespace"], "teams");
    assert_eq!(grant["binding"]["name"], "gitlab-deployer-binding");
    assert_eq!(grant["role"]["kind"], "Role");
    assert_eq!(grant["role"]["name"], "gitlab-deployer");
    assert_eq!(grant["ruleIndex"], 0);
    assert!(grant["note"].as_str().unwrap().starts_with("not needed: "));
}
