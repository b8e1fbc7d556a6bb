//! The GitLab Code Quality report (`artifacts:reports:codequality`): a JSON array of issues
//! in the reduced CodeClimate format GitLab reads.
//!
//! What GitLab does with it (../shared/knowledge/ci-report-formats.md, from GitLab's
//! `code_climate.rb`, `codeclimate.json` and `codequality_reports_comparer.rb`):
//! - every element needs `description`, `fingerprint`, `severity` and `location` with a
//!   repository-relative `path` and an integer line; parsing stops at the first element that
//!   fails, silently dropping it and every later one, and a byte order mark is refused;
//! - issues are keyed by `fingerprint`: two with one fingerprint are one issue, and a merge
//!   request's new and resolved issues are the fingerprints only one side has. So a
//!   fingerprint here is unique in the report and made of what identifies the finding
//!   (rule, file, objects, message), never of line numbers: a finding that moves because a
//!   line was added above it is the same finding.
//!
//! Severities: critical → `blocker`, high → `critical`, medium → `major`, low → `minor`,
//! info → `info`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use runnerguard_audit::{Finding, Severity};
use runnerguard_model::Origin;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::Report;

/// One Code Quality issue.
#[derive(Debug, Serialize)]
struct Issue<'a> {
    /// The rule's id.
    check_name: &'a str,
    /// What is wrong.
    description: String,
    /// Unique in the report, stable across runs and line moves.
    fingerprint: String,
    /// GitLab's severity.
    severity: &'static str,
    /// Where.
    location: Location,
}

#[derive(Debug, Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Debug, Serialize)]
struct Lines {
    begin: u32,
}

/// GitLab's name for a severity.
fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "blocker",
        Severity::High => "critical",
        Severity::Medium => "major",
        Severity::Low => "minor",
        Severity::Info => "info",
    }
}

/// Writes the findings of `report` as a Code Quality report. Paths are made relative to
/// `root` (the repository root CI runs in) when they are below it; a finding with no place
/// in a file of its own (no object or setting read from one: "no NetworkPolicy in `ci`") is
/// placed where its topology was read from, else at line 1 of `fallback` (the first input).
pub fn codequality(
    w: &mut dyn Write,
    report: &Report<'_>,
    root: &Path,
    fallback: &str,
) -> io::Result<()> {
    let topology_place = report
        .topologies
        .iter()
        .flat_map(|t| &t.evidence)
        .find_map(|e| parse_place(&e.source));
    let default_place = topology_place.unwrap_or_else(|| (fallback.to_owned(), 1));
    let mut seen: HashMap<String, usize> = HashMap::new();
    let issues: Vec<Issue<'_>> = report
        .findings
        .iter()
        .map(|f| {
            let (path, line) = place(f).unwrap_or_else(|| default_place.clone());
            let path = relative(&path, root);
            let base = fingerprint(f, &path);
            let n = seen.entry(base.clone()).or_default();
            *n += 1;
            // Findings alike in all but line numbers (two [[runners]] entries of one file
            // with the same fault) are told apart by their order, which the sorted report
            // keeps from run to run.
            let fingerprint = if *n == 1 { base } else { format!("{base}-{n}") };
            Issue {
                check_name: f.rule,
                description: format!("{} ({} {})", f.message, f.rule, f.name),
                fingerprint,
                severity: severity(f.severity),
                location: Location {
                    path,
                    lines: Lines { begin: line.max(1) },
                },
            }
        })
        .collect();
    serde_json::to_writer_pretty(&mut *w, &issues).map_err(io::Error::other)?;
    writeln!(w)
}

/// The file and line of a finding: its first object read from a file, else its first
/// setting. Embedded defaults are no file of the repository; an object rendered from values
/// is placed at the top of the values file (its line is one of the rendered output).
fn place(f: &Finding) -> Option<(String, u32)> {
    f.objects
        .iter()
        .map(|o| &o.origin)
        .chain(f.locations.iter().map(|l| &l.origin))
        .find(|o| !o.is_builtin() && !o.file.is_empty() && &*o.file != "-")
        .map(origin_place)
}

fn origin_place(o: &Origin) -> (String, u32) {
    match o.file.split_once(" [rendered: ") {
        // `a.yaml + b.yaml [rendered: ...]`: the first values file.
        Some((values, _)) => (values.split(" + ").next().unwrap_or(values).to_owned(), 1),
        None => (o.file.to_string(), o.line),
    }
}

/// `file:line` (a topology fact's source), when it is one.
fn parse_place(source: &str) -> Option<(String, u32)> {
    let (file, line) = source.rsplit_once(':')?;
    let line: u32 = line.parse().ok()?;
    (!file.is_empty() && !file.contains(' ') && !file.starts_with("builtin:"))
        .then(|| (file.to_owned(), line))
}

/// `path` relative to `root` when below it, with `/` separators.
fn relative(path: &str, root: &Path) -> String {
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
fn fingerprint(f: &Finding, path: &str) -> String {
    let mut h = Sha256::new();
    for part in [f.rule, path, &without_line_numbers(&f.message)] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    for o in &f.objects {
        for part in [&o.api_version, &o.kind, &o.namespace, &o.name] {
            h.update(part.as_bytes());
            h.update([0]);
        }
    }
    for l in &f.locations {
        h.update(l.what.as_bytes());
        h.update([0]);
    }
    h.finalize()
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// `text` with every `:LINE` and `:LINE:COLUMN` after a file name taken out: a `:` followed
/// by digits that end at a word boundary, preceded by a character of a file name.
fn without_line_numbers(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b':' && i > 0 && is_name_byte(bytes[i - 1]) {
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let end = i + 1 + digits;
            let boundary = bytes
                .get(end)
                .is_none_or(|b| !b.is_ascii_alphanumeric() && *b != b'_' && *b != b'-');
            if digits > 0 && boundary {
                i = end;
                continue;
            }
        }
        let ch_len = text[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&text[i..i + ch_len]);
        i += ch_len;
    }
    out
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/' | b']')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_after_file_names_are_left_out() {
        assert_eq!(
            without_line_numbers(
                "the [[runners]] entry at values.yaml:11 sets x at c.toml:3:7, ok"
            ),
            "the [[runners]] entry at values.yaml sets x at c.toml, ok"
        );
        // Not a line number: a namespace after `system:serviceaccount:`, a version.
        assert_eq!(
            without_line_numbers("system:serviceaccount:ns1:12ab and 18.9"),
            "system:serviceaccount:ns1:12ab and 18.9"
        );
    }

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
        assert_eq!(parse_place("assumed: x:1"), None);
    }
}
