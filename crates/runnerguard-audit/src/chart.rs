//! Which Helm values keys the official gitlab-runner chart reads, by chart version.
//!
//! The key lists are data: `data/gitlab-runner-chart/<version>-values-paths.txt`, generated
//! from the chart archives by scripts/chart-values-paths.py (provenance in
//! data/gitlab-runner-chart/PROVENANCE.md). Each line is a values path some template reads,
//! with flags: `whole` (consumed whole although keys below it are listed too), `notes` (read
//! only by templates/NOTES.txt) and `tpl` (rendered with Helm's `tpl`, so template expressions
//! in the values file's own strings read more keys: [`ChartKeys::with_tpl_reads`]).
//!
//! Choosing the version an input was written for is the caller's job; this module only knows
//! the embedded versions and the nearest one to any other.

use std::collections::{BTreeMap, BTreeSet};

use runnerguard_model::{HelmValues, SettingValue};

macro_rules! embed {
    ($($chart:literal => $app:literal,)*) => {
        /// The embedded chart versions and their key lists, oldest first: the releases of
        /// [`runnerguard_model::versions`].
        const CHARTS: &[(&str, &str)] = &[
            $((
                $chart,
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../data/gitlab-runner-chart/",
                    $chart,
                    "-values-paths.txt"
                )),
            ),)*
        ];
    };
}

runnerguard_model::with_chart_releases!(embed);

/// [`CHARTS`]' versions, for [`ChartKeys::supported`]: read off [`CHARTS`], so the two
/// cannot disagree.
const VERSIONS: &[&str] = &{
    let mut out = [""; CHARTS.len()];
    let mut i = 0;
    while i < CHARTS.len() {
        out[i] = CHARTS[i].0;
        i += 1;
    }
    out
};

/// The chart renders `runners.config` with `tpl` in every version; kept here too so that a
/// values file's own templates are read even if a data file lost its flag.
const RUNNERS_CONFIG: &str = "runners.config";

/// How the templates use one listed path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Flags {
    /// Consumed whole: every key below it takes effect.
    whole: bool,
    /// Read only by templates/NOTES.txt.
    notes: bool,
    /// Rendered with `tpl` and the root context.
    tpl: bool,
}

/// The values keys one chart version reads.
#[derive(Clone, Debug)]
pub struct ChartKeys {
    /// The chart version judged against, e.g. `0.86.0`: always an embedded version.
    pub version: &'static str,
    paths: BTreeMap<&'static str, Flags>,
    /// Paths that a values file's own templates read (see [`ChartKeys::with_tpl_reads`]):
    /// each is read with its parents and everything below it.
    tpl_reads: BTreeSet<String>,
    /// A values file's template reads `.Values` in a way this module cannot follow: every
    /// key counts as read.
    tpl_reads_all: bool,
    /// Why this version was chosen, when it is not the one asked for.
    note: Option<String>,
}

/// How the chart treats a values key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyUse {
    /// A template reads it, walks through it to a key below, or consumes a value it belongs
    /// to whole; or the values file's own `tpl`-rendered strings read it.
    Read,
    /// No template reads it: setting it does nothing.
    Ignored,
    /// Only templates/NOTES.txt reads it: it changes the message `helm install` prints and
    /// nothing in the cluster.
    NotesOnly,
}

impl ChartKeys {
    /// The chart versions this build embeds, oldest first.
    pub fn supported() -> &'static [&'static str] {
        VERSIONS
    }

    /// The keys of chart `version`, when this build embeds exactly that version (a leading
    /// `v` is accepted).
    pub fn for_version(version: &str) -> Option<Self> {
        let wanted = version.trim().trim_start_matches('v');
        CHARTS
            .iter()
            .find(|(v, _)| *v == wanted)
            .map(|(v, data)| Self::parse(v, data))
    }

    /// The keys of the newest embedded chart: the one `generate` targets and `audit`
    /// assumes when no release names one
    /// ([`runnerguard_model::versions::DEFAULT_CHART`], the newest by definition).
    pub fn newest() -> Self {
        let (version, data) = CHARTS[CHARTS.len() - 1];
        Self::parse(version, data)
    }

    /// The keys of `version` if embedded, else of the nearest embedded version, with a
    /// [`note`](Self::note) saying so: the newest patch release of the same minor version,
    /// else the newest embedded version older than `version`, else the oldest one. A version
    /// that is not `MAJOR.MINOR.PATCH` gets the newest chart.
    pub fn nearest(version: &str) -> Self {
        if let Some(keys) = Self::for_version(version) {
            return keys;
        }
        let wanted = parse_version(version);
        let known: Vec<(&str, (u64, u64, u64))> = VERSIONS
            .iter()
            .filter_map(|v| parse_version(v).map(|p| (*v, p)))
            .collect();
        let chosen = match wanted {
            None => None,
            Some(w) => known
                .iter()
                .rev()
                .find(|(_, k)| (k.0, k.1) == (w.0, w.1) && k.2 <= w.2)
                .or_else(|| known.iter().find(|(_, k)| (k.0, k.1) == (w.0, w.1)))
                .or_else(|| known.iter().rev().find(|(_, k)| *k < w))
                .or_else(|| known.first()),
        };
        let mut keys = chosen
            .and_then(|(v, _)| Self::for_version(v))
            .unwrap_or_else(Self::newest);
        let why = match wanted {
            None => "not a chart version (MAJOR.MINOR.PATCH)",
            Some(w) if known.last().is_some_and(|(_, k)| *k < w) => {
                "newer than every chart this build embeds"
            }
            Some(w) if known.first().is_some_and(|(_, k)| w < *k) => {
                "older than every chart this build embeds (older charts read other keys)"
            }
            Some(_) => "not embedded in this build",
        };
        keys.note = Some(format!(
            "chart `{}` is {why}: judged as chart {}, the nearest one embedded ({})",
            version.trim(),
            keys.version,
            VERSIONS.join(", ")
        ));
        keys
    }

    /// Why these keys are not those of the version asked for ([`ChartKeys::nearest`]), if
    /// they are not.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// These keys plus those that the strings of `values` which the chart renders with
    /// `tpl` (at least `runners.config`) read through template expressions:
    /// `{{ .Values.runners.job.registry }}`, `{{- if $.Values.x }}`,
    /// `{{ index .Values "a" "b" }}`. Each such path counts as read, with its parents and
    /// everything below it. A template that reads `.Values` in a way not followed here makes
    /// every key count as read: a false "does nothing" is worse than a missed one.
    #[must_use]
    pub fn with_tpl_reads(&self, values: &HelmValues) -> Self {
        let mut keys = self.clone();
        for entry in &values.entries {
            if !self.is_tpl_rendered(&entry.key) {
                continue;
            }
            let mut strings = Vec::new();
            collect_strings(&entry.value, &mut strings);
            for s in strings {
                let reads = template_reads(s);
                keys.tpl_reads_all |= reads.all;
                keys.tpl_reads.extend(reads.paths);
            }
        }
        keys
    }

    /// Whether the chart renders the string at `path` with `tpl`.
    fn is_tpl_rendered(&self, path: &str) -> bool {
        path == RUNNERS_CONFIG
            || self
                .paths
                .iter()
                .any(|(p, f)| f.tpl && (*p == path || is_below(path, p)))
    }

    /// How the chart treats the values key at dotted `path`.
    ///
    /// A key is read when a template reads it, when it is a parent of a key a template reads
    /// (the template walks through it), or when it sits below a key that is consumed whole
    /// (listed with nothing listed below it, or flagged `whole`). Keys that the values file's
    /// own templates read ([`ChartKeys::with_tpl_reads`]) are read with their parents and
    /// everything below them.
    pub fn key_use(&self, path: &str) -> KeyUse {
        if self.tpl_reads_all
            || self
                .tpl_reads
                .iter()
                .any(|r| r == path || is_below(path, r) || is_below(r, path))
        {
            return KeyUse::Read;
        }
        if let Some(flags) = self.paths.get(path) {
            return if flags.notes {
                KeyUse::NotesOnly
            } else {
                KeyUse::Read
            };
        }
        // A parent of listed paths: read when any of them is read by a template.
        let below = self.listed_below(path);
        if !below.is_empty() {
            return if below.iter().all(|f| f.notes) {
                KeyUse::NotesOnly
            } else {
                KeyUse::Read
            };
        }
        // Below a listed path: read when that path is consumed whole.
        let mut ancestor = path;
        while let Some((parent, _)) = ancestor.rsplit_once('.') {
            ancestor = parent;
            if let Some(flags) = self.paths.get(parent)
                && (flags.whole || self.listed_below(parent).is_empty())
            {
                return if flags.notes {
                    KeyUse::NotesOnly
                } else {
                    KeyUse::Read
                };
            }
        }
        KeyUse::Ignored
    }

    /// The listed paths strictly below `path`.
    fn listed_below(&self, path: &str) -> Vec<Flags> {
        let prefix = format!("{path}.");
        self.paths
            .range(prefix.as_str()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, f)| *f)
            .collect()
    }

    /// Reads one data file: `path [flag ...]` lines, `#` comments. Unknown flags are kept
    /// out of the result; the tests check that every embedded file has none.
    fn parse(version: &'static str, data: &'static str) -> Self {
        let paths = data
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let mut words = l.split_whitespace();
                let path = words.next().unwrap_or_default();
                let mut flags = Flags::default();
                for w in words {
                    match w {
                        "whole" => flags.whole = true,
                        "notes" => flags.notes = true,
                        "tpl" => flags.tpl = true,
                        _ => {}
                    }
                }
                (path, flags)
            })
            .collect();
        Self {
            version,
            paths,
            tpl_reads: BTreeSet::new(),
            tpl_reads_all: false,
            note: None,
        }
    }
}

/// Whether dotted `path` is strictly below `ancestor`.
pub(crate) fn is_below(path: &str, ancestor: &str) -> bool {
    path.strip_prefix(ancestor)
        .is_some_and(|rest| rest.starts_with('.'))
}

/// `MAJOR.MINOR.PATCH` (a leading `v` and a `-suffix` ignored).
fn parse_version(v: &str) -> Option<(u64, u64, u64)> {
    let v = v.trim().trim_start_matches('v');
    let v = v.split(['-', '+']).next().unwrap_or_default();
    let mut parts = v.split('.').map(str::parse::<u64>);
    let out = (
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    );
    parts.next().is_none().then_some(out)
}

fn collect_strings<'v>(value: &'v SettingValue, out: &mut Vec<&'v str>) {
    match value {
        SettingValue::String(s) => out.push(s),
        SettingValue::List(items) => items.iter().for_each(|i| collect_strings(i, out)),
        _ => {}
    }
}

/// What the template expressions of one string read.
#[derive(Debug, Default, PartialEq, Eq)]
struct TemplateReads {
    /// Dotted values paths.
    paths: BTreeSet<String>,
    /// `.Values` is used in a way not followed (whole, or indexed by a variable).
    all: bool,
}

/// The values paths that the `{{ ... }}` actions of `text` read: `.Values.a.b` and
/// `$.Values.a.b` (also inside parentheses, `with`, `if`, `printf`, ...), and
/// `index .Values "a" "b"` / `index .Values.a "b"`.
fn template_reads(text: &str) -> TemplateReads {
    let mut out = TemplateReads::default();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").unwrap_or(after.len());
        action_reads(&after[..end], &mut out);
        rest = after.get(end + 2..).unwrap_or_default();
    }
    out
}

fn action_reads(action: &str, out: &mut TemplateReads) {
    const VALUES: &str = ".Values";
    let mut from = 0;
    while let Some(i) = action[from..].find(VALUES) {
        let at = from + i;
        from = at + VALUES.len();
        let tail = &action[from..];
        // `.ValuesX` is another identifier.
        if tail
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            continue;
        }
        let chain: Vec<&str> = field_chain(tail);
        let consumed: usize = chain.iter().map(|f| f.len() + 1).sum();
        let mut path: Vec<String> = chain.iter().map(|f| (*f).to_owned()).collect();
        // `index .Values "a" "b"`: string keys after it (only when `index` precedes it).
        let before = action[..at].trim_end();
        let before = before.strip_suffix('$').unwrap_or(before).trim_end();
        if before.ends_with("index") {
            path.extend(string_args(&tail[consumed..]));
        }
        if path.is_empty() {
            out.all = true;
        } else {
            out.paths.insert(path.join("."));
        }
    }
}

/// The field names of `.a.b.c` at the start of `s`.
fn field_chain(s: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let mut rest = s;
    while let Some(r) = rest.strip_prefix('.') {
        let len = r
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(r.len());
        if len == 0 {
            break;
        }
        fields.push(&r[..len]);
        rest = &r[len..];
    }
    fields
}

/// The leading double-quoted string arguments of `s` (`"a" "b"`), unescaped naively.
fn string_args(s: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut rest = s.trim_start();
    while let Some(r) = rest.strip_prefix('"') {
        let Some(end) = r.find('"') else { break };
        args.push(r[..end].to_owned());
        rest = r[end + 1..].trim_start();
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_0_86_0_keys() {
        let c = ChartKeys::for_version("0.86.0").unwrap();
        assert_eq!(c.version, "0.86.0");
        assert_eq!(c.key_use("runners.config"), KeyUse::Read);
        assert_eq!(c.key_use("runners"), KeyUse::Read);
        assert_eq!(c.key_use("runners.kubernetes"), KeyUse::Ignored);
        assert_eq!(c.key_use("runners.kubernetes.namespace"), KeyUse::Ignored);
        assert_eq!(c.key_use("runners.namespace"), KeyUse::NotesOnly);
        // Leaves of the list consume whatever is below them.
        assert_eq!(c.key_use("nodeSelector.disktype"), KeyUse::Read);
        assert_eq!(c.key_use("podAnnotations.a.b"), KeyUse::Read);
        // A map rendered whole, although one of its keys is listed too.
        assert_eq!(c.key_use("podSecurityContext.runAsNonRoot"), KeyUse::Read);
        assert_eq!(c.key_use("rbac.create"), KeyUse::Read);
        assert_eq!(c.key_use("rbac.bogus"), KeyUse::Ignored);
        assert_eq!(c.key_use("serviceAccount.name"), KeyUse::Read);
        assert_eq!(c.key_use("serviceAccountName"), KeyUse::Ignored);
        // `((.Values.sessionServer).ingress).enabled` (issue #8).
        assert_eq!(c.key_use("sessionServer.ingress.enabled"), KeyUse::Read);
        // Only tested for truth: its other keys are not read.
        assert_eq!(c.key_use("sessionServer.bogus"), KeyUse::Ignored);
    }

    #[test]
    fn every_embedded_version_parses_with_known_flags_only() {
        assert_eq!(CHARTS.len(), VERSIONS.len());
        for ((v, data), listed) in CHARTS.iter().zip(VERSIONS) {
            assert_eq!(v, listed);
            let keys = ChartKeys::for_version(v).unwrap();
            assert_eq!(keys.version, *v);
            assert!(keys.paths.len() > 100, "{v}: {}", keys.paths.len());
            assert!(data.contains(&format!("chart {v} read")), "{v}: header");
            for line in data.lines().filter(|l| !l.starts_with('#')) {
                for flag in line.split_whitespace().skip(1) {
                    assert!(
                        matches!(flag, "whole" | "notes" | "tpl"),
                        "{v}: unknown flag in `{line}`"
                    );
                }
            }
            assert!(keys.is_tpl_rendered("runners.config"), "{v}");
            // runners.namespace: NOTES.txt only, in every embedded version.
            assert_eq!(keys.key_use("runners.namespace"), KeyUse::NotesOnly, "{v}");
        }
        let mut sorted = VERSIONS.to_vec();
        sorted.sort_by_key(|v| parse_version(v));
        assert_eq!(sorted, VERSIONS);
    }

    #[test]
    fn versions_by_name_and_nearest() {
        assert_eq!(ChartKeys::supported().first(), Some(&"0.77.2"));
        assert_eq!(
            ChartKeys::newest().version,
            runnerguard_model::versions::DEFAULT_CHART.version
        );
        assert_eq!(ChartKeys::for_version("v0.83.2").unwrap().version, "0.83.2");
        assert!(ChartKeys::for_version("0.83.0").is_none());
        let newest = ChartKeys::newest().version;
        assert!(ChartKeys::for_version(newest).unwrap().note().is_none());
        assert!(ChartKeys::nearest(newest).note().is_none());
        let cases = [
            ("0.83.0", "0.83.1"),
            ("0.83.9", "0.83.3"),
            ("0.80.0", "0.80.1"),
            ("0.78.4", "0.77.2"),
            ("0.99.0", newest),
            ("1.2.3", newest),
            ("0.39.0", "0.77.2"),
            ("latest", newest),
        ];
        for (asked, judged) in cases {
            let keys = ChartKeys::nearest(asked);
            assert_eq!(keys.version, judged, "{asked}");
            let note = keys.note().unwrap();
            assert!(
                note.contains(asked) && note.contains(judged),
                "{asked}: {note}"
            );
        }
        let note = |v: &str| ChartKeys::nearest(v).note().unwrap().to_owned();
        assert!(note("0.99.0").contains("newer than every chart"));
        assert!(note("0.39.0").contains("older than every chart"));
        assert!(note("0.83.9").contains("not embedded"));
    }

    #[test]
    fn template_reads_follow_values_references() {
        let r = template_reads(
            r#"image = "{{ .Values.runners.job.registry }}/{{ printf "%s" $.Values.runners.helper.image }}"
{{- if .Values.x.enabled }}
{{ with (.Values.a).b }}{{ .c }}{{ end }}
{{ index .Values "idx" "key" }} {{ index $.Values.m "k" }}
{{ .ValuesNot }} .Values.outside"#,
        );
        let paths: Vec<&str> = r.paths.iter().map(String::as_str).collect();
        assert_eq!(
            paths,
            [
                "a",
                "idx.key",
                "m.k",
                "runners.helper.image",
                "runners.job.registry",
                "x.enabled"
            ]
        );
        assert!(!r.all);
        assert!(template_reads("{{ toYaml .Values }}").all);
        assert!(template_reads("{{ index .Values $k }}").all);
        assert_eq!(template_reads("no templates"), TemplateReads::default());
    }

    #[test]
    fn version_differences_are_in_the_data() {
        // `namespace` (the manager's namespace) exists since 0.79.0.
        let old = ChartKeys::for_version("0.77.2").unwrap();
        let new = ChartKeys::for_version("0.79.0").unwrap();
        assert_eq!(old.key_use("namespace"), KeyUse::Ignored);
        assert_eq!(new.key_use("namespace"), KeyUse::Read);
        // The templates read `runners.jobNamespace` since 0.84.1; before, only the default
        // `runners.config` did, through `tpl`.
        assert_eq!(
            ChartKeys::for_version("0.83.3")
                .unwrap()
                .key_use("runners.jobNamespace"),
            KeyUse::Ignored
        );
        assert_eq!(
            ChartKeys::for_version("0.84.1")
                .unwrap()
                .key_use("runners.jobNamespace"),
            KeyUse::Read
        );
    }
}
