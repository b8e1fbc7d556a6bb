//! The differential test of issue #9: every document under `tests/decode/` is read by
//! runnerguard and compared with what Kubernetes clients make of it, written by hand from
//! the Go code in `NAME.expected` (see `tests/decode/README.md` for the functions followed).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails on any error"
)]

use std::fmt::Write as _;
use std::path::Path;

use runnerguard_load::{Error, load_str};

/// What runnerguard read, one line per object, in the `.expected` format.
fn objects(name: &str, text: &str) -> Vec<String> {
    let loaded = match load_str(name, text) {
        Ok(loaded) => loaded,
        Err(Error::Invalid(diagnostics, _)) => {
            return diagnostics
                .iter()
                .map(|d| format!("refused {}:{} {}", d.line, d.column, d.message))
                .collect();
        }
        Err(e) => return vec![format!("error {e}")],
    };
    let inv = &loaded.inventory;
    let scoped = |ns: &str, name: &str| {
        if ns.is_empty() {
            name.to_owned()
        } else {
            format!("{ns}/{name}")
        }
    };
    let mut out = Vec::new();
    for b in &inv.bindings {
        let mut line = format!(
            "{} {} roleRef={}/{} subjects=",
            b.kind.as_str(),
            scoped(&b.namespace, &b.name),
            b.role_ref.kind,
            b.role_ref.name
        );
        let subjects: Vec<String> = b
            .subjects
            .iter()
            .map(|s| format!("{}:{}", s.kind, scoped(&s.namespace, &s.name)))
            .collect();
        write!(line, "{}", subjects.join(",")).unwrap();
        out.push(line);
    }
    for r in &inv.roles {
        out.push(format!(
            "{} {}",
            r.kind.as_str(),
            scoped(&r.namespace, &r.name)
        ));
    }
    for s in &inv.service_accounts {
        out.push(format!("ServiceAccount {}", scoped(&s.namespace, &s.name)));
    }
    for n in &inv.namespaces {
        out.push(format!("Namespace {}", n.name));
    }
    for o in &inv.others {
        let o = &o.object;
        out.push(format!("{} {}", o.kind, scoped(&o.namespace, &o.name)));
    }
    out
}

/// An expected line matches an actual one exactly, except a `refused L:C text` line, which
/// needs the place and the text within the message.
fn matches(expected: &str, actual: &str) -> bool {
    match expected.strip_prefix("refused ") {
        Some(rest) => {
            let (place, text) = rest.split_once(' ').unwrap_or((rest, ""));
            actual
                .strip_prefix("refused ")
                .and_then(|a| a.split_once(' '))
                .is_some_and(|(p, message)| p == place && message.contains(text))
        }
        None => expected == actual,
    }
}

#[test]
fn corpus_reads_as_kubernetes_clients_read_it() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/decode");
    let mut cases = 0;
    let mut failures = String::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let expected_text = std::fs::read_to_string(path.with_extension("expected"))
            .unwrap_or_else(|_| panic!("{name} has no .expected file"));
        let expected: Vec<&str> = expected_text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .collect();
        let actual = objects(&name, &text);
        let same = expected.len() == actual.len()
            && expected.iter().zip(&actual).all(|(e, a)| matches(e, a));
        if !same {
            writeln!(
                failures,
                "{name}:\n  expected: {expected:#?}\n  actual:   {actual:#?}"
            )
            .unwrap();
        }
        cases += 1;
    }
    assert!(cases >= 15, "only {cases} cases found in {}", dir.display());
    assert!(failures.is_empty(), "{failures}");
}
