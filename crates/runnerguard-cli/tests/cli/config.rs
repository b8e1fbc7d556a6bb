//! `runnerguard audit --config FILE`: the `[audit]` section of runnerguard.toml selects rules,
//! overrides severities and sets fail-on; flags win over it; its problems are placed.

use std::path::{Path, PathBuf};

use super::{Run, run};

/// Writes `text` as a configuration file in a fresh directory.
fn config(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn audit_seed(config: &Path, flags: &[&str]) -> Run {
    let path = config.to_str().unwrap();
    let args = [
        &["audit", "-f", "examples/seed/", "--config", path][..],
        flags,
    ]
    .concat();
    run(&args)
}

fn findings(r: &Run) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// RG101 (critical) is the only rule run: lowered to info it passes `fail-on = "high"`, at
/// its default it fails; the JSON and human reports show the severity given.
#[test]
fn a_severity_override_decides_fail_on() {
    let (_dir, lowered) = config(
        "[audit]\nselect = [\"RG101\"]\nseverity = { RG101 = \"info\" }\nfail-on = \"high\"\n",
    );
    let r = audit_seed(&lowered, &["-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(findings(&r), [("RG101".to_owned(), "info".to_owned())]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["summary"]["failed"], false, "{}", r.stdout);

    let human = audit_seed(&lowered, &[]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(human.stdout.contains("INFO (1)"), "{}", human.stdout);
    assert!(!human.stdout.contains("CRITICAL"), "{}", human.stdout);

    let (_dir, default) = config("[audit]\nselect = [\"RG101\"]\nfail-on = \"high\"\n");
    let r = audit_seed(&default, &["-o", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(findings(&r), [("RG101".to_owned(), "critical".to_owned())]);

    // The override counts towards fail-on below it.
    let (_dir, info) = config(
        "[audit]\nselect = [\"RG1*\"]\nseverity = { jobs-in-manager-namespace = \"info\" }\nfail-on = \"info\"\n",
    );
    let r = audit_seed(&info, &["-o", "json", "--select", "RG101"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(findings(&r), [("RG101".to_owned(), "info".to_owned())]);
}

/// Flags given on the command line win over the file: `--fail-on`, `--select`, `--ignore`.
#[test]
fn flags_win_over_the_file() {
    let (_dir, path) = config(
        "[audit]\nselect = [\"RG101\"]\nseverity = { RG101 = \"info\" }\nfail-on = \"high\"\n",
    );
    let r = audit_seed(&path, &["-o", "json", "--fail-on", "info"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let r = audit_seed(&path, &["-o", "json", "--select", "RG109"]);
    let rules: Vec<String> = findings(&r).into_iter().map(|(rule, _)| rule).collect();
    assert!(!rules.is_empty(), "{}", r.stdout);
    assert!(rules.iter().all(|rule| rule == "RG109"), "{rules:?}");
    // The file's ignore gives way to the flag's.
    let (_dir, ignore) = config("[audit]\nignore = [\"RG1\"]\n");
    let r = audit_seed(&ignore, &["-o", "json"]);
    assert!(findings(&r).iter().all(|(rule, _)| rule.starts_with("RB")));
    assert!(!findings(&r).is_empty());
    let r = audit_seed(&ignore, &["-o", "json", "--ignore", "RB"]);
    assert!(findings(&r).iter().all(|(rule, _)| rule.starts_with("RG")));
    assert!(!findings(&r).is_empty());
}

/// An unknown key and an unknown rule id stop the audit (exit 2), each placed at
/// `file:line:column` with the closest known name and the line it is on.
#[test]
fn unknown_keys_and_rules_are_placed() {
    let (_dir, path) = config("[audit]\nselect = [\"RG101\"]\nfail_on = \"high\"\n");
    let r = audit_seed(&path, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stdout, "", "nothing audited");
    for want in [
        "audit.toml:3:1: unknown key `fail_on` in [audit]",
        "help: did you mean `fail-on`?",
        "3 │ fail_on = \"high\"",
        "1 problem in `",
    ] {
        assert!(r.stderr.contains(want), "{want:?} in:\n{}", r.stderr);
    }

    let (_dir, path) =
        config("[audit]\nselect = [\"RG1O1\"]\nseverity = { RG190 = \"info\", RG101 = \"lwo\" }\n");
    let r = audit_seed(&path, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    for want in [
        "audit.toml:2:11: unknown rule `RG1O1` in `select`",
        "help: did you mean `RG101`?",
        "audit.toml:3:14: unknown rule `RG190` in `severity`",
        "help: did you mean `RG109`?",
        "audit.toml:3:38: the severity of RG101 cannot be `lwo`",
        "help: did you mean `low`?",
        "3 problems in `",
    ] {
        assert!(r.stderr.contains(want), "{want:?} in:\n{}", r.stderr);
    }
}

/// The file `runnerguard init` writes is a configuration `audit --config` reads: its
/// `[audit]` section is commented out, so the audit is the one without it.
#[test]
fn the_init_file_audits_as_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runnerguard.toml");
    assert_eq!(run(&["init", "--out", path.to_str().unwrap()]).code, 0);
    let with = audit_seed(&path, &["-o", "json"]);
    let without = run(&["audit", "-f", "examples/seed/", "-o", "json"]);
    assert_eq!(with.code, 1, "{}", with.stderr);
    assert_eq!(with.stdout, without.stdout);

    // Its commented [audit] section, uncommented, is a section `audit` takes.
    let text = std::fs::read_to_string(&path).unwrap();
    let section = text.split_once("# [audit]\n").unwrap().1;
    let keys: Vec<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| l.contains(" = "))
        .collect();
    assert_eq!(keys.len(), 4, "{section}");
    let (_dir, uncommented) = config(&format!("{text}[audit]\n{}\n", keys.join("\n")));
    let r = audit_seed(&uncommented, &["-o", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let got = findings(&r);
    assert!(
        got.contains(&("RG109".to_owned(), "info".to_owned())),
        "{got:?}"
    );
    assert!(
        !got.iter().any(|(rule, s)| rule == "RG109" && s != "info"),
        "{got:?}"
    );
}
