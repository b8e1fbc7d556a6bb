//! Where a finding is in the repository, and what identifies it: shared by the CI formats
//! that point at files (Code Quality, SARIF) and by `diff`, which matches findings across
//! two versions of the inputs.

use std::fmt::Write as _;
use std::path::Path;

use runnerguard_audit::Finding;
use runnerguard_audit::diff::without_line_numbers;
use runnerguard_model::{Origin, push_key_part};
use sha2::{Digest, Sha256};

use crate::Report;

/// Where a finding with no place of its own in a file (no object or setting read from one:
/// "no NetworkPolicy in `ci`") is put: where its topology was read from, else line 1 of
/// `fallback` (the first input).
pub(crate) fn default_place(report: &Report<'_>, fallback: &str) -> (String, u32) {
    report
        .topologies
        .iter()
        .flat_map(|t| &t.evidence)
        .find_map(|e| parse_place(&e.source))
        .unwrap_or_else(|| (fallback.to_owned(), 1))
}

/// The file and line of a finding: its first object read from a file, else its first
/// setting. Embedded defaults are no file of the repository; an object rendered from values
/// is placed at the top of the values file (its line is one of the rendered output).
pub(crate) fn place(f: &Finding) -> Option<(String, u32)> {
    f.objects
        .iter()
        .map(|o| &o.origin)
        .chain(f.locations.iter().map(|l| &l.origin))
        .find(|o| !o.is_builtin() && !o.file.is_empty() && &*o.file != "-")
        .map(origin_place)
}

pub(crate) fn origin_place(o: &Origin) -> (String, u32) {
    match o.file.split_once(" [rendered: ") {
        // `a.yaml + b.yaml [rendered: ...]`: the first values file.
        Some((values, _)) => (values.split(" + ").next().unwrap_or(values).to_owned(), 1),
        None => (o.file.to_string(), o.line),
    }
}

/// `file:line` (a topology fact's source), when it is one; a place in values rendered by the
/// chart (`values.yaml [rendered: gitlab-runner 0.86.0]:21`) is the values file's first line,
/// as [`origin_place`] places it.
pub(crate) fn parse_place(source: &str) -> Option<(String, u32)> {
    let (file, line) = source.rsplit_once(':')?;
    let line: u32 = line.parse().ok()?;
    if let Some((values, _)) = file.split_once(" [rendered: ") {
        let first = values.split(" + ").next().unwrap_or(values);
        return (!first.is_empty() && !first.contains(' ')).then(|| (first.to_owned(), 1));
    }
    (!file.is_empty() && !file.contains(' ') && !file.starts_with("builtin:"))
        .then(|| (file.to_owned(), line))
}

/// `path` relative to `root` when below it, with `/` separators.
pub(crate) fn relative(path: &str, root: &Path) -> String {
    let p = Path::new(path);
    let rel = p.strip_prefix(root).unwrap_or(p);
    let text = rel.to_string_lossy().replace('\\', "/");
    match text.strip_prefix("./") {
        Some(rest) => rest.to_owned(),
        None => text,
    }
}

/// SHA-256 of what identifies the finding: rule, file, objects (without their lines) and the
/// message without the line and column numbers it may quote (`values.yaml:11:7`).
pub(crate) fn fingerprint(f: &Finding, path: &str) -> String {
    // The parts as the diff's keys join them (names may hold NUL, the separator).
    let mut key = String::new();
    for text in [f.rule, path, &without_line_numbers(&f.message)] {
        push_key_part(&mut key, text);
    }
    for o in &f.objects {
        for text in [&o.api_version, &o.kind, &o.namespace, &o.name] {
            push_key_part(&mut key, text);
        }
    }
    for l in &f.locations {
        push_key_part(&mut key, &l.what);
    }
    let mut h = Sha256::new();
    h.update(key.as_bytes());
    h.finalize()
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_relative_and_rendered_values_point_at_the_values_file() {
        let root = Path::new("/repo");
        assert_eq!(relative("/repo/deploy/a.yaml", root), "deploy/a.yaml");
        assert_eq!(relative("./deploy/a.yaml", root), "deploy/a.yaml");
        assert_eq!(relative("/elsewhere/a.yaml", root), "/elsewhere/a.yaml");
        let o = Origin::new(
            "v.yaml + w.yaml [rendered: gitlab-runner 0.86.0]".into(),
            75,
            1,
        );
        assert_eq!(origin_place(&o), ("v.yaml".to_owned(), 1));
        assert_eq!(
            parse_place("values.yaml:37"),
            Some(("values.yaml".to_owned(), 37))
        );
        assert_eq!(parse_place("flag --job-namespace"), None);
        assert_eq!(
            parse_place("v.yaml + w.yaml [rendered: gitlab-runner 0.86.0]:21"),
            Some(("v.yaml".to_owned(), 1))
        );
        assert_eq!(parse_place("assumed: x:1"), None);
    }

    /// A fingerprint tells apart objects whose names hold NUL (GitLab pairs findings of the
    /// merge request and its base by fingerprint: a collision would hide a new finding).
    #[test]
    fn names_holding_nul_make_different_fingerprints() {
        const META: runnerguard_audit::RuleMeta = runnerguard_audit::RuleMeta {
            id: "RB999",
            name: "example",
            severity: runnerguard_audit::Severity::High,
            summary: "",
            remediation: "",
            docs: "",
        };
        let finding = |namespace: &str, name: &str| {
            Finding::new(&META, "same words").object(runnerguard_model::ObjectRef {
                api_version: "rbac.authorization.k8s.io/v1".into(),
                kind: "RoleBinding".into(),
                namespace: namespace.into(),
                name: name.into(),
                origin: Origin::new("rbac.yaml".into(), 1, 1),
            })
        };
        assert_ne!(
            fingerprint(&finding("ci\0x", "b"), "rbac.yaml"),
            fingerprint(&finding("ci", "x\0b"), "rbac.yaml")
        );
    }
}
