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
use std::io::{self, Write};
use std::path::Path;

use runnerguard_audit::Severity;
use serde::Serialize;

use crate::Report;
use crate::locate::{self, fingerprint, place, relative};

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
    let default_place = locate::default_place(report, fallback);
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
