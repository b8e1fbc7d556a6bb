//! Every rule has a `bad` fixture it fires on and a `good` fixture it stays quiet on.

use std::fmt::Write as _;

use runnerguard_audit::ALL;

use crate::{findings_json, root, rule_findings};

#[test]
fn every_rule_fires_on_bad_and_not_on_good() {
    let mut problems = Vec::new();
    for rule in ALL {
        let id = rule.meta().id;
        let dir = root().join(format!("crates/runnerguard-audit/tests/fixtures/{id}"));
        if !dir.join("bad").is_dir() || !dir.join("good").is_dir() {
            problems.push(format!(
                "{id}: missing fixtures/{id}/bad or fixtures/{id}/good"
            ));
            continue;
        }
        if rule_findings(id, "bad").is_empty() {
            problems.push(format!("{id}: did not fire on its bad fixture"));
        }
        let good = rule_findings(id, "good");
        if !good.is_empty() {
            problems.push(format!(
                "{id}: fired on its good fixture: {}",
                findings_json(&good)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The findings on each bad fixture, as JSON, so a change in evidence is reviewed.
#[test]
fn bad_fixture_findings_snapshot() {
    for rule in ALL {
        let id = rule.meta().id;
        if !root()
            .join(format!("crates/runnerguard-audit/tests/fixtures/{id}/bad"))
            .is_dir()
        {
            continue;
        }
        let findings = rule_findings(id, "bad");
        insta::assert_snapshot!(format!("{id}_bad"), findings_json(&findings));
    }
}

/// docs/rules/<ID>.md is generated from the rules' own documentation; this keeps it current.
/// Regenerate with `UPDATE_DOCS=1 cargo test -p runnerguard-audit --test rules docs`.
#[test]
fn docs_rules_are_generated_from_the_catalogue() {
    let dir = root().join("docs/rules");
    let update = std::env::var_os("UPDATE_DOCS").is_some();
    let mut index = String::from(
        "# Audit rules\n\nGenerated from the rules' documentation (`runnerguard rules explain ID` prints the same text).\n\n| id | name | default severity | summary |\n|---|---|---|---|\n",
    );
    let mut stale = Vec::new();
    for rule in ALL {
        let m = rule.meta();
        writeln!(
            index,
            "| [{id}]({id}.md) | {name} | {sev} | {summary} |",
            id = m.id,
            name = m.name,
            sev = m.severity,
            summary = m.summary
        )
        .unwrap();
        let path = dir.join(format!("{}.md", m.id));
        let text = runnerguard_audit::rule_markdown(m);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    let index_path = dir.join("README.md");
    if update {
        std::fs::write(&index_path, &index).unwrap();
    } else if std::fs::read_to_string(&index_path).ok().as_deref() != Some(index.as_str()) {
        stale.push(index_path.display().to_string());
    }
    assert!(
        stale.is_empty(),
        "stale rule docs (run UPDATE_DOCS=1 cargo test -p runnerguard-audit --test rules docs): {stale:?}"
    );
}
