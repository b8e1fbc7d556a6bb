//! SARIF 2.1.0 (`artifacts:reports:sarif`, GitHub code scanning): one run, the rules that ran
//! as `tool.driver.rules` (id, name, summary, the docs' first paragraph, the docs as help, the
//! default level), one result per finding.
//!
//! What GitLab does with it (../shared/knowledge/ci-report-formats.md and GitLab's "SARIF
//! reports" page):
//! - a result needs a `ruleId` found in the rules and `locations[0].physicalLocation`; one
//!   without is dropped, and a report dropping more than half of its results is rejected.
//!   So `locations[0]` is always in a file: one of the finding's objects or settings read
//!   from one, else where its setup was read from ([`locate::default_place`]);
//! - severity: `result.rank` first, then the rule's `security-severity`, then `level`. Each
//!   result carries its own rank, so a finding graded above its rule's default (RB005, RG112,
//!   `[audit]` severities) keeps its severity;
//! - a finding is identified by rule and `file:startLine:endLine` of `locations[0]`, the
//!   first of two alike kept. So a place read exactly leads before one rendered from values
//!   (all at line 1 of the values file), and a place an earlier result of the rule leads with
//!   is passed over for the finding's next one (or its setup's) when there is one;
//! - a result with a field over its limit is dropped (`message.text` and
//!   `fullDescription.text` 2,048 characters, `shortDescription.text` 1,024): texts are cut
//!   to fit.
//!
//! Every object of a finding is a location (a physical one, or a logical one for Kubernetes'
//! embedded defaults, which are no file of the repository); the rest of the evidence (grants,
//! settings, objects) are `relatedLocations`, worded by [`crate::evidence`]; each run of
//! escalation steps is a `codeFlow` of one `threadFlow` through the bindings and roles of its
//! steps. `partialFingerprints["runnerguard/v1"]` is the Code Quality fingerprint
//! ([`locate::fingerprint`]): unique in the report, stable across runs and line moves.
//!
//! Levels: critical and high → `error`, medium → `warning`, low and info → `note`.
//!
//! `diff -o sarif` ([`diff_sarif`], in [`baseline`]) writes the new side's audit the same way, each result with
//! its `baselineState` against the old side (§3.27.24: `new`, `updated` for the new side of a
//! changed finding, `unchanged`), then the findings the change resolves as results of their
//! own, `absent`, placed in the old side's files. The specification wants the state on every
//! result once on one, so the audit's results carry none.

mod baseline;
mod flow;
mod log;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use runnerguard_audit::{Finding, RuleMeta, Severity};
use runnerguard_model::{ObjectRef, Origin};
use serde::ser::{Serialize, SerializeSeq, Serializer};

pub use self::baseline::diff_sarif;
use self::flow::{Related, flows};
use self::log::{
    ArtifactLocation, Configuration, Driver, Fingerprints, Help, Invocation, Location, Log,
    LogicalLocation, Message, Notification, PhysicalLocation, Region, ReportingDescriptor,
    ResultProperties, RuleProperties, Run, RunProperties, SarifResult, Tool,
};
use crate::Report;
use crate::evidence::object;
use crate::locate::{self, fingerprint, origin_place, place, relative};

/// The OASIS schema's id (data/sarif/sarif-schema-2.1.0.json, which the tests validate with).
const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// How the origin of an object rendered from values ends (`values.yaml [rendered: ...]`).
const RENDERED: &str = " [rendered: ";

/// The base of repository-relative paths: the working directory, the repository root in CI.
const SRCROOT: &str = "%SRCROOT%";

/// GitLab's limits, in characters: a result whose field is longer is dropped.
const MAX_MESSAGE: usize = 2048;
const MAX_FULL_DESCRIPTION: usize = 2048;
const MAX_SHORT_DESCRIPTION: usize = 1024;

/// Writes `report` as SARIF 2.1.0. `rules` are the rules that ran. Paths below `root` (the
/// repository root CI runs in) are relative to `%SRCROOT%`; a finding with no place of its own
/// in a file is placed where its setup was read from, else at line 1 of `fallback` (the first
/// input), as the Code Quality report places it.
pub fn sarif(
    w: &mut dyn Write,
    report: &Report<'_>,
    rules: &[&RuleMeta],
    root: &Path,
    fallback: &str,
) -> io::Result<()> {
    let batch = Batch::new(report, report.findings, fallback, Vec::new());
    write_log(
        w,
        report,
        rules,
        root,
        vec![batch],
        invocation(report),
        None,
    )
}

/// The log of `report`'s run (its versions and `--fail-on`), with the results of `batches`.
fn write_log(
    w: &mut dyn Write,
    report: &Report<'_>,
    rules: &[&RuleMeta],
    root: &Path,
    batches: Vec<Batch<'_>>,
    invocation: Invocation<'_>,
    baseline: Option<&str>,
) -> io::Result<()> {
    let mut rules_out = RulesOut::default();
    for meta in rules {
        rules_out.add(meta);
    }
    for f in batches.iter().flat_map(|b| b.findings) {
        // INVARIANT: every ruleIndex points at its rule. A finding of a rule not given (none
        // is: findings come from the rules that ran) gets its rule added.
        match runnerguard_audit::find_rule(f.rule) {
            Some(rule) => rules_out.add(rule.meta()),
            None => rules_out.add(&RuleMeta {
                id: f.rule,
                name: f.name,
                severity: f.severity,
                summary: f.name,
                remediation: "",
                docs: "",
            }),
        }
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let fingerprints = batches
        .iter()
        .flat_map(|b| b.findings.iter().map(move |f| (b, f)))
        .map(|(b, f)| {
            let (path, _) = place(f).unwrap_or_else(|| b.default_place.clone());
            let base = fingerprint(f, &relative(&path, root));
            let n = seen.entry(base.clone()).or_default();
            *n += 1;
            // Findings alike in all but line numbers are told apart by their order, which the
            // sorted report keeps from run to run (as in the Code Quality report).
            if *n == 1 { base } else { format!("{base}-{n}") }
        })
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "runnerguard",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules: rules_out.descriptors,
                },
            },
            invocations: [invocation],
            column_kind: "unicodeCodePoints",
            results: Results {
                batches,
                fingerprints,
                index: rules_out.index,
                root,
                taken: RefCell::default(),
            },
            properties: RunProperties {
                fail_on: report.fail_on.as_str(),
                runner_version: &report.runner_version,
                chart_version: &report.chart_version,
                baseline,
            },
        }],
    };
    // Buffered, as the JSON report: the serializer's many small writes stay out of `w`.
    let mut buffered = io::BufWriter::with_capacity(64 * 1024, &mut *w);
    serde_json::to_writer_pretty(&mut buffered, &log).map_err(io::Error::from)?;
    writeln!(buffered)?;
    buffered.flush()
}

/// The invocation: successful when every input was read; each input not read is an error
/// notification, each note on how the inputs were understood a note.
fn invocation<'a>(report: &Report<'a>) -> Invocation<'a> {
    let unread = report.unreadable.iter().map(|u| Notification {
        level: "error",
        message: Message::new(format!("input not read, the audit is incomplete: {u}")),
    });
    let notes = report.inputs.iter().map(|i| Notification {
        level: "note",
        message: Message::new(i.as_str()),
    });
    Invocation {
        execution_successful: report.complete(),
        tool_execution_notifications: unread.chain(notes).collect(),
    }
}

/// SARIF's level for a severity.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's and GitLab's `security-severity` (0.0 to 10.0) for a severity, in the middle of
/// the range both read as it: GitHub's critical is above 9.0, high 7.0 to 8.9, medium 4.0 to
/// 6.9, low below 4.0; GitLab's (times 10) critical 90 and above, high 70, medium 40, low 10,
/// info below 10.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.5",
        Severity::Info => "0.5",
    }
}

/// `result.rank`: the security severity times 10, which GitLab reads first.
fn rank(s: Severity) -> f64 {
    match s {
        Severity::Critical => 95.0,
        Severity::High => 80.0,
        Severity::Medium => 55.0,
        Severity::Low => 25.0,
        Severity::Info => 5.0,
    }
}

/// `tool.driver.rules`, each rule once, and where each is.
#[derive(Default)]
struct RulesOut {
    descriptors: Vec<ReportingDescriptor<'static>>,
    index: HashMap<&'static str, usize>,
}

impl RulesOut {
    fn add(&mut self, meta: &RuleMeta) {
        if !self.index.contains_key(meta.id) {
            self.index.insert(meta.id, self.descriptors.len());
            self.descriptors.push(descriptor(meta));
        }
    }
}

/// A rule as SARIF describes one.
fn descriptor(meta: &RuleMeta) -> ReportingDescriptor<'static> {
    let markdown = runnerguard_audit::rule_markdown(meta);
    let full = first_paragraph(meta.docs).unwrap_or_else(|| meta.summary.to_owned());
    ReportingDescriptor {
        id: meta.id,
        name: meta.name,
        short_description: Message::new(bounded(meta.summary, MAX_SHORT_DESCRIPTION)),
        full_description: Message::new(bounded(&full, MAX_FULL_DESCRIPTION).into_owned()),
        help: Help {
            text: plain(&markdown),
            markdown,
        },
        default_configuration: Configuration {
            level: level(meta.severity),
        },
        properties: RuleProperties {
            tags: [
                "security",
                if meta.id.starts_with("RB") {
                    "rbac"
                } else {
                    "gitlab-runner"
                },
            ],
            security_severity: security_severity(meta.severity),
            severity: meta.severity.as_str(),
        },
    }
}

/// The first paragraph of a rule's docs (the one under "What it flags"), on one line.
fn first_paragraph(docs: &str) -> Option<String> {
    let paragraph: Vec<&str> = docs
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty() || l.starts_with('#'))
        .take_while(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    (!paragraph.is_empty()).then(|| paragraph.join(" "))
}

/// Markdown as plain text: headings without their `#`, no code fences, no bold.
fn plain(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for line in markdown.lines().filter(|l| !l.starts_with("```")) {
        let line = match line.trim_start_matches('#') {
            rest if rest.len() < line.len() => rest.trim_start(),
            _ => line,
        };
        out.push_str(&line.replace("**", ""));
        out.push('\n');
    }
    out
}

/// `text`, cut to at most `max` characters (the last one `…`) when longer.
fn bounded(text: &str, max: usize) -> Cow<'_, str> {
    if text.chars().nth(max).is_none() {
        return Cow::Borrowed(text);
    }
    let end = text
        .char_indices()
        .nth(max.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i);
    Cow::Owned(format!("{}…", &text[..end]))
}

/// Findings to write as results, with where those with no place of their own go and, for a
/// diff, each one's `baselineState`.
struct Batch<'a> {
    findings: &'a [Finding],
    /// Each finding's `baselineState`; empty for an audit (none is written).
    states: Vec<&'static str>,
    /// Where a finding with no place in a file goes: where its side's setup was read from,
    /// else line 1 of its side's first input.
    default_place: (String, u32),
    /// Whether `default_place` is where a setup was read from, not the first input (which
    /// may be a directory): only then does it lead a finding that has places of its own.
    setup_read: bool,
}

impl<'a> Batch<'a> {
    /// `findings` of the side audited in `report`, whose first input is `fallback`.
    fn new(
        report: &Report<'_>,
        findings: &'a [Finding],
        fallback: &str,
        states: Vec<&'static str>,
    ) -> Self {
        let default_place = locate::default_place(report, fallback);
        Self {
            findings,
            states,
            setup_read: default_place != (fallback.to_owned(), 1),
            default_place,
        }
    }
}

/// The results, each made as it is written: a report of many findings is never a tree of
/// SARIF objects in memory.
struct Results<'a> {
    batches: Vec<Batch<'a>>,
    /// Each finding's fingerprint, batch after batch, in order.
    fingerprints: Vec<String>,
    /// Each rule's index in `tool.driver.rules`.
    index: HashMap<&'static str, usize>,
    root: &'a Path,
    /// The rule, file and line of each result's lead so far.
    taken: RefCell<HashSet<(&'static str, String, u32)>>,
}

impl Serialize for Results<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.fingerprints.len()))?;
        let mut prints = self.fingerprints.iter();
        for b in &self.batches {
            for (i, (f, print)) in b.findings.iter().zip(prints.by_ref()).enumerate() {
                let state = b.states.get(i).copied();
                seq.serialize_element(&self.result(f, print.clone(), b, state))?;
            }
        }
        seq.end()
    }
}

impl<'a> Results<'a> {
    fn result(
        &self,
        f: &'a Finding,
        fingerprint: String,
        batch: &Batch<'_>,
        baseline_state: Option<&'static str>,
    ) -> SarifResult<'a> {
        let places = Places { root: self.root };
        let mut locations: Vec<Location<'a>> = f
            .objects
            .iter()
            .map(|o| places.object(o, object(o)))
            .chain(f.locations.iter().map(|l| {
                places.origin(&l.origin, format!("`{}` ({})", l.what, l.origin), || {
                    LogicalLocation {
                        name: l.what.clone(),
                        fully_qualified_name: l.what.clone(),
                        kind: "property",
                    }
                })
            }))
            .collect();
        let exact: Vec<bool> = f
            .objects
            .iter()
            .map(|o| &o.origin)
            .chain(f.locations.iter().map(|l| &l.origin))
            .map(|o| places.physical(o).is_some() && !o.file.contains(RENDERED))
            .collect();
        self.lead(f.rule, places, batch, &mut locations, &exact);
        let mut related = Related {
            places,
            seen: HashSet::new(),
            out: Vec::new(),
        };
        related.all(&f.evidence);
        let mut code_flows = Vec::new();
        flows(places, &f.evidence, None, &mut code_flows);
        SarifResult {
            rule_id: f.rule,
            rule_index: self.index.get(f.rule).copied().unwrap_or_default(),
            level: level(f.severity),
            rank: rank(f.severity),
            baseline_state,
            message: Message::new(bounded(&f.message, MAX_MESSAGE)),
            locations,
            related_locations: related.out,
            code_flows,
            partial_fingerprints: Fingerprints { v1: fingerprint },
            properties: ResultProperties {
                security_severity: security_severity(f.severity),
                severity: f.severity.as_str(),
                fix: &f.remediation,
            },
        }
    }
}

impl Results<'_> {
    /// Puts the place that leads first (GitLab and GitHub read `locations[0]` alone): a place
    /// read exactly (an object or setting at its own line) before one rendered from values
    /// (line 1 of the values file), each in order, the first whose line no earlier result of
    /// the rule leads with: GitLab takes two results of a rule on one line for one and keeps
    /// the first. When every place of the finding is taken, where its setup was read from
    /// leads, unless that is taken too or unknown (the first input, which may be a directory,
    /// then leads only a finding with no place in a file). `exact[i]`: whether
    /// `locations[i]` was read exactly; `batch` says where the finding's setup was read.
    fn lead(
        &self,
        rule: &'static str,
        places: Places<'_>,
        batch: &Batch<'_>,
        locations: &mut Vec<Location<'_>>,
        exact: &[bool],
    ) {
        let key = |l: &Location<'_>| {
            l.physical_location
                .as_ref()
                .map(|p| (rule, p.artifact_location.uri.clone(), p.region.start_line))
        };
        // Exact places first, then rendered ones, each in order.
        let mut order: Vec<usize> = (0..locations.len())
            .filter(|&i| locations[i].physical_location.is_some())
            .collect();
        order.sort_by_key(|&i| !exact.get(i).copied().unwrap_or_default());
        let mut taken = self.taken.borrow_mut();
        let free = |l: &Location<'_>| key(l).is_some_and(|k| !taken.contains(&k));
        let first = order.first().copied();
        let free_place = order.iter().copied().find(|&i| free(&locations[i]));
        let lead = if free_place.is_some() {
            free_place
        } else {
            let (path, line) = &batch.default_place;
            let setup = Location {
                physical_location: Some(PhysicalLocation {
                    artifact_location: places.artifact(path),
                    region: region(*line, None),
                }),
                logical_locations: Vec::new(),
                message: Some(Message::new(if first.is_some() {
                    "where the setup was read from: this finding's own places lead other findings of its rule"
                } else {
                    "no place of its own in a file: where the setup was read from, else the first input"
                })),
            };
            if first.is_none() || batch.setup_read && free(&setup) {
                locations.insert(0, setup);
                None
            } else {
                first
            }
        };
        if let Some(i) = lead {
            let l = locations.remove(i);
            locations.insert(0, l);
        }
        if let Some(k) = locations.first().and_then(key) {
            taken.insert(k);
        }
    }
}

/// Turns origins into locations.
#[derive(Clone, Copy)]
struct Places<'p> {
    root: &'p Path,
}

impl Places<'_> {
    /// An object's location: in its file, or by name when it is in none (embedded defaults,
    /// standard input).
    fn object<'m>(self, o: &ObjectRef, message: String) -> Location<'m> {
        self.origin(&o.origin, message, || LogicalLocation {
            name: o.name.clone(),
            fully_qualified_name: if o.namespace.is_empty() {
                format!("{}/{}", o.kind, o.name)
            } else {
                format!("{}/{}/{}", o.kind, o.namespace, o.name)
            },
            kind: "resource",
        })
    }

    /// The location of `origin` when it is in a file of the inputs, else `logical`.
    fn origin<'m>(
        self,
        origin: &Origin,
        message: String,
        logical: impl FnOnce() -> LogicalLocation,
    ) -> Location<'m> {
        let physical = self.physical(origin);
        Location {
            logical_locations: if physical.is_none() {
                vec![logical()]
            } else {
                Vec::new()
            },
            physical_location: physical,
            message: Some(Message::new(message)),
        }
    }

    /// `origin` in a file, as [`locate::place`] sees one: not embedded data, not standard
    /// input; an object rendered from values is at line 1 of the values file.
    fn physical(self, origin: &Origin) -> Option<PhysicalLocation> {
        if origin.is_builtin() || origin.file.is_empty() || &*origin.file == "-" {
            return None;
        }
        let rendered = origin.file.contains(RENDERED);
        let (file, line) = origin_place(origin);
        let column = (!rendered && origin.line > 0 && origin.column > 0).then_some(origin.column);
        Some(PhysicalLocation {
            artifact_location: self.artifact(&file),
            region: region(line, column),
        })
    }

    /// `file` relative to `%SRCROOT%` when below the root, else a `file:` URI; standard input
    /// (the place of last resort when it is the first input) as `-`.
    fn artifact(self, file: &str) -> ArtifactLocation {
        let path = relative(file, self.root);
        if path == "-" {
            return ArtifactLocation {
                uri: path,
                uri_base_id: None,
            };
        }
        let absolute = Path::new(&path).is_absolute() || path.starts_with('/');
        if absolute {
            let slash = if path.starts_with('/') { "" } else { "/" };
            ArtifactLocation {
                uri: format!("file://{slash}{}", uri_path(&path, true)),
                uri_base_id: None,
            }
        } else {
            ArtifactLocation {
                uri: uri_path(&path, false),
                uri_base_id: Some(SRCROOT),
            }
        }
    }
}

/// A region at `line` (1 when unknown), from `column` when known, ending on that line.
fn region(line: u32, column: Option<u32>) -> Region {
    let line = line.max(1);
    Region {
        start_line: line,
        start_column: column,
        end_line: line,
    }
}

/// `path` as a URI path: what RFC 3986 allows in a path kept, the rest percent-encoded as
/// UTF-8. A `:` is kept only in an absolute path: in a relative one it would read as a scheme.
fn uri_path(path: &str, colon: bool) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) || colon && b == b':' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}
