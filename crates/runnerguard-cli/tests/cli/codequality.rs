//! `audit -o codequality`: GitLab's Code Quality report, as GitLab reads it
//! (../shared/knowledge/ci-report-formats.md): every element with the required fields, integer
//! lines, repository-relative paths, no byte order mark, and fingerprints unique in the report
//! and stable across runs and line moves.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::{root, run};

const SEVERITIES: [&str; 5] = ["info", "minor", "major", "critical", "blocker"];

/// The report's elements, each checked as GitLab's `codeclimate.json` schema and docs ask.
fn issues(stdout: &str) -> Vec<Value> {
    assert!(stdout.starts_with('['), "no BOM, an array: {stdout:.40}");
    let v: Value = serde_json::from_str(stdout).unwrap();
    let issues = v.as_array().unwrap().clone();
    for i in &issues {
        for key in ["description", "check_name", "fingerprint"] {
            assert!(
                i[key].as_str().is_some_and(|s| !s.is_empty()),
                "{key} missing: {i}"
            );
        }
        assert!(SEVERITIES.contains(&i["severity"].as_str().unwrap()), "{i}");
        let path = i["location"]["path"].as_str().unwrap();
        assert!(!path.is_empty() && !path.starts_with('/'), "{i}");
        assert!(!path.contains("[rendered"), "{i}");
        assert!(
            i["location"]["lines"]["begin"].as_u64().unwrap() >= 1,
            "{i}"
        );
    }
    let fingerprints: BTreeSet<&str> = issues
        .iter()
        .filter_map(|i| i["fingerprint"].as_str())
        .collect();
    assert_eq!(fingerprints.len(), issues.len(), "fingerprints are unique");
    issues
}

fn fingerprints(issues: &[Value]) -> Vec<String> {
    issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_seed_audit_as_a_code_quality_report() {
    let r = run(&["audit", "-o", "codequality", "-f", "examples/seed/"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let issues = issues(&r.stdout);
    assert!(issues.len() >= 10);
    let blocker = issues.iter().find(|i| i["check_name"] == "RG101").unwrap();
    assert_eq!(blocker["severity"], "blocker");
    // Run again: the same report, fingerprints included.
    let again = run(&["audit", "-o", "codequality", "-f", "examples/seed/"]);
    assert_eq!(again.stdout, r.stdout);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn every_real_world_finding_has_its_own_fingerprint() {
    let r = run(&["audit", "-o", "codequality", "-f", "fixtures/real-world"]);
    let issues = issues(&r.stdout);
    assert!(issues.len() > 50, "{}", issues.len());
}

/// The seed's files copied into `dir`, each with `shift` comment lines added on top.
fn seed_copy(dir: &Path, shift: usize) {
    let seed = root().join("examples/seed");
    std::fs::create_dir_all(dir.join("seed")).unwrap();
    for entry in std::fs::read_dir(&seed).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let shifted = format!("{}{text}", "# moved down\n".repeat(shift));
        std::fs::write(dir.join("seed").join(path.file_name().unwrap()), shifted).unwrap();
    }
}

fn codequality_in(dir: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_runnerguard"))
        .args(["audit", "-o", "codequality", "-f", "seed"])
        .current_dir(dir)
        .env("PATH", "")
        .env_remove("RUNNERGUARD_HELM")
        .output()
        .unwrap();
    issues(&String::from_utf8(out.stdout).unwrap())
}

#[test]
fn fingerprints_survive_lines_moving_and_paths_are_relative_to_the_working_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    seed_copy(&a, 0);
    seed_copy(&b, 3);
    let before = codequality_in(&a);
    let after = codequality_in(&b);
    assert_eq!(fingerprints(&before), fingerprints(&after));
    // The lines did move, and the paths are the ones CI sees from the repository root.
    let lines = |v: &[Value]| -> Vec<u64> {
        v.iter()
            .map(|i| i["location"]["lines"]["begin"].as_u64().unwrap())
            .collect()
    };
    assert_ne!(lines(&before), lines(&after));
    assert!(
        before
            .iter()
            .all(|i| i["location"]["path"].as_str().unwrap().starts_with("seed/")),
        "{before:?}"
    );
}
