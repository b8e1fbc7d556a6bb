//! GitLab Runner configuration: `config.toml` (as a file, in a ConfigMap, or as the chart's
//! `runners.config` string) and Helm values files for the official chart.
//!
//! TOML is parsed with `toml`'s spanned document API, so every setting keeps its place; a
//! TOML string embedded in YAML is placed relative to the YAML value that holds it.

use std::sync::Arc;

use rayon::prelude::*;
use runnerguard_model::{
    HelmValues, Origin, RunnerConfig, RunnerConfigSource, RunnerEntry, Setting, SettingValue,
};
use toml::de::{DeTable, DeValue};

use crate::json::{Cursor, LineIndex};
use crate::yaml::{Node, Value};

/// How positions in a TOML text map to positions in the file that holds it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Placement {
    /// The TOML text is the whole file.
    File,
    /// A YAML block scalar whose first content line is `line`, indented by `indent` columns.
    Block { line: u32, indent: u32 },
    /// A quoted or flow scalar: every setting is placed at the value itself.
    At { line: u32, column: u32 },
}

/// A TOML text and where it sits.
pub(crate) struct TomlSource<'a> {
    pub(crate) file: &'a Arc<str>,
    pub(crate) toml: &'a str,
    pub(crate) placement: Placement,
}

impl TomlSource<'_> {
    fn place(&self, lines: &LineIndex, cursor: &Cursor, offset: usize) -> (u32, u32) {
        match self.placement {
            Placement::At { line, column } => (line, column),
            Placement::File | Placement::Block { .. } => {
                // Offsets come in no order (a table's keys are sorted): `position` is exact
                // in any order, and searches from the last line asked.
                let (l, c) = lines.position(self.toml, offset, cursor);
                match self.placement {
                    Placement::Block { line, indent } => (line + l - 1, indent + c),
                    _ => (l, c),
                }
            }
        }
    }

    fn origin(&self, lines: &LineIndex, cursor: &Cursor, offset: usize) -> Origin {
        let (line, column) = self.place(lines, cursor, offset);
        Origin::new(self.file.clone(), line, column)
    }
}

/// Where the offsets of one parsed TOML text fall in its source: the text may be a slice of
/// the source starting at byte `base` ([`split_entries`]).
struct Places<'s, 'a> {
    src: &'s TomlSource<'a>,
    lines: &'s LineIndex,
    base: usize,
}

impl Places<'_, '_> {
    fn origin(&self, cursor: &Cursor, offset: usize) -> Origin {
        self.src.origin(self.lines, cursor, self.base + offset)
    }
}

/// A TOML syntax error, placed in the file.
pub(crate) struct TomlError {
    pub(crate) at: (u32, u32),
    pub(crate) message: String,
}

/// Parses a runner configuration. `Ok(None)` when the TOML is valid but has no `[[runners]]`
/// (it is some other TOML file).
pub(crate) fn runner_config(
    src: &TomlSource<'_>,
    source: RunnerConfigSource,
    template: bool,
) -> Result<Option<RunnerConfig>, TomlError> {
    let lines = LineIndex::new(src.toml);
    let runners = match split_entries(src, &lines) {
        Some(runners) => runners,
        None => match whole_entries(src, &lines)? {
            Some(runners) => runners,
            None => return Ok(None),
        },
    };
    Ok(Some(RunnerConfig {
        source,
        origin: src.origin(&lines, &Cursor::default(), 0),
        template,
        runners,
    }))
}

/// The entries of a configuration parsed whole; `Ok(None)` without `runners`.
fn whole_entries(
    src: &TomlSource<'_>,
    lines: &LineIndex,
) -> Result<Option<Vec<RunnerEntry>>, TomlError> {
    let cursor = Cursor::default();
    let doc = DeTable::parse(src.toml).map_err(|e| TomlError {
        at: src.place(lines, &cursor, e.span().map_or(0, |s| s.start)),
        message: e.message().to_owned(),
    })?;
    // The runner's decoder matches `runners` case-insensitively too (`[[Runners]]`): see
    // `RunnerEntry::canonical_key`.
    let root = doc.get_ref();
    let Some(runners) = root.get("runners").or_else(|| {
        root.iter()
            .find(|(k, _)| RunnerConfig::is_runners_key(k.get_ref()))
            .map(|(_, v)| v)
    }) else {
        return Ok(None);
    };
    let DeValue::Array(items) = runners.get_ref() else {
        return Err(TomlError {
            at: src.place(lines, &cursor, runners.span().start),
            message: "`runners` must be an array of tables (`[[runners]]`)".to_owned(),
        });
    };
    let limit = crate::limits::MAX_RUNNERS.get();
    if items.len() > limit {
        return Err(TomlError {
            at: src.place(lines, &cursor, runners.span().start),
            message: format!(
                "{} `[[runners]]` entries, more than the {limit} runnerguard checks in one configuration; set {}=N to raise the limit (default {})",
                items.len(),
                crate::limits::MAX_RUNNERS.env,
                crate::limits::MAX_RUNNERS.default
            ),
        });
    }
    // Each entry on any core (a configuration may hold 100,000), in order; a cursor each,
    // as `place` resets it anyway.
    let entries: Vec<RunnerEntry> = items
        .par_iter()
        .with_min_len(256)
        .filter_map(|item| {
            let places = Places {
                src,
                lines,
                base: 0,
            };
            runner_entry(&places, item)
        })
        .collect();
    Ok(Some(entries))
}

/// Below this size a configuration is parsed whole; above it, [`split_entries`] parses it
/// in pieces on every core (a configuration of 100,000 entries is 25 MB, whose parse alone
/// took most of a second on one core: issue #13).
/// (The tests split from 64 KiB, to try many pieces on small texts.)
const SPLIT_FROM: usize = if cfg!(test) { 64 << 10 } else { 1 << 20 };

/// The entries of a large configuration, parsed in pieces on every core, or `None` when it
/// must be parsed whole. Exact, or nothing:
///
/// - the pieces start at lines that are exactly `[[runners]]`, the first piece (the head)
///   at the start of the text;
/// - the head must parse and hold no `runners` key in any spelling, and every other piece
///   must parse and hold that array of tables only.
///
/// TOML then reads the whole text as the head plus `runners`, the pieces' entries in order:
/// each `[[runners]]` header starts a new entry and every table header up to the next one
/// belongs to it. A split inside a multi-line string leaves that string open at the end of
/// its piece, which fails to parse; a piece holding anything else (a `[session_server]`
/// after the runners) sends the text to the whole parse too. So does anything over the
/// entry limit, whose error the whole parse words.
fn split_entries(src: &TomlSource<'_>, lines: &LineIndex) -> Option<Vec<RunnerEntry>> {
    const HEADER: &str = "[[runners]]";
    let text = src.toml;
    if text.len() < SPLIT_FROM {
        return None;
    }
    let mut starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
        .filter(|&at| {
            let line = &text[at..];
            let end = line.find('\n').unwrap_or(line.len());
            line[..end].trim_end_matches('\r') == HEADER
        })
        .collect();
    let &first = starts.first()?;
    let head = DeTable::parse(&text[..first]).ok()?;
    if head
        .get_ref()
        .keys()
        .any(|k| RunnerConfig::is_runners_key(k.get_ref()))
    {
        return None;
    }
    // A few pieces per core, each of many entries.
    let per_piece = starts
        .len()
        .div_ceil(rayon::current_num_threads() * 8)
        .max(64);
    starts = starts.into_iter().step_by(per_piece).collect();
    let ends = starts.iter().skip(1).copied().chain([text.len()]);
    let pieces: Vec<(usize, usize)> = starts.iter().copied().zip(ends).collect();
    let parsed: Option<Vec<Vec<RunnerEntry>>> = pieces
        .par_iter()
        .map(|&(from, to)| {
            let doc = DeTable::parse(&text[from..to]).ok()?;
            let root = doc.get_ref();
            let (key, runners) = root.iter().next()?;
            if root.len() != 1 || key.get_ref() != "runners" {
                return None;
            }
            let DeValue::Array(items) = runners.get_ref() else {
                return None;
            };
            let places = Places {
                src,
                lines,
                base: from,
            };
            Some(
                items
                    .iter()
                    .filter_map(|item| runner_entry(&places, item))
                    .collect(),
            )
        })
        .collect();
    let entries: Vec<RunnerEntry> = parsed?.into_iter().flatten().collect();
    (entries.len() <= crate::limits::MAX_RUNNERS.get()).then_some(entries)
}

/// One `[[runners]]` entry: its settings flattened, `[runners.kubernetes]` apart; `None`
/// when the item is not a table. A cursor of its own: entries are read on any core.
fn runner_entry(places: &Places<'_, '_>, item: &toml::Spanned<DeValue<'_>>) -> Option<RunnerEntry> {
    let DeValue::Table(table) = item.get_ref() else {
        return None;
    };
    let cursor = &Cursor::default();
    let mut all = Vec::new();
    flatten_toml(places, cursor, "", table, &mut all);
    // `[runners.kubernetes]` starts at its table's value (as before: the header), the
    // exact spelling first, as the decoder does.
    let kube_value = table.get("kubernetes").or_else(|| {
        table
            .iter()
            .find(|(k, _)| RunnerEntry::canonical_key("", k.get_ref()) == Some("kubernetes"))
            .map(|(_, v)| v)
    });
    let kubernetes_origin = kube_value.map(|k| places.origin(cursor, k.span().start));
    let mut kubernetes = Vec::new();
    let mut settings = Vec::new();
    for mut s in all {
        if s.key.starts_with("kubernetes.") {
            s.key.drain(.."kubernetes.".len());
            kubernetes.push(s);
        } else if s.key != "kubernetes" {
            settings.push(s);
        }
    }
    let text = |key: &str| {
        settings
            .iter()
            .find(|s| s.key == key)
            .and_then(|s| s.value.as_str())
            .map(str::to_owned)
    };
    Some(RunnerEntry {
        origin: places.origin(cursor, item.span().start),
        name: text("name"),
        executor: text("executor"),
        kubernetes_origin,
        kubernetes,
        settings,
    })
}

/// Every key of `table` (at dotted `prefix`, relative to the `[[runners]]` entry), parents
/// before children. A key the runner knows in another case is stored as the runner spells
/// it (`Privileged` as `privileged`), placed where it is written: the runner's decoder
/// matches keys case-insensitively when no key matches exactly (`RunnerEntry::canonical_key`).
/// Keys of an array of tables are listed under the array's path, once per table.
fn flatten_toml(
    places: &Places<'_, '_>,
    cursor: &Cursor,
    prefix: &str,
    table: &DeTable<'_>,
    out: &mut Vec<Setting>,
) {
    for (key, value) in table {
        let written = key.get_ref();
        let name = RunnerEntry::canonical_key(prefix, written).unwrap_or(written);
        let path = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        };
        let value = value.get_ref();
        let setting = Setting {
            value: redact(&path, toml_value(value)),
            key: path,
            origin: places.origin(cursor, key.span().start),
        };
        // A table's path is its keys' prefix; a scalar's is not copied.
        let tables: Vec<&DeTable<'_>> = match value {
            DeValue::Table(t) => vec![t],
            DeValue::Array(items) => items
                .iter()
                .filter_map(|item| match item.get_ref() {
                    DeValue::Table(t) => Some(t),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let prefix = (!tables.is_empty()).then(|| setting.key.clone());
        out.push(setting);
        for t in tables {
            flatten_toml(
                places,
                cursor,
                prefix.as_deref().unwrap_or_default(),
                t,
                out,
            );
        }
    }
}

/// Whether a key's value is a credential. Such values are replaced by [`REDACTED`] as they
/// are read, so no token or password can reach a report (the key and whether the value is
/// empty are kept: rules need to know that a token *is set*).
fn is_credential(key: &str) -> bool {
    // ASCII case folded in place: asked for every setting of every entry.
    let last = key.rsplit('.').next().unwrap_or(key).as_bytes();
    let contains = |word: &str| {
        last.windows(word.len())
            .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
    };
    let ends_with = |word: &str| {
        last.len() >= word.len()
            && last[last.len() - word.len()..].eq_ignore_ascii_case(word.as_bytes())
    };
    [
        "token",
        "password",
        "passwd",
        "secretkey",
        "accesskey",
        "dsn",
        "privatekey",
    ]
    .into_iter()
    .any(contains)
        && !ends_with("overwrite_allowed")
        && !ends_with("secretname")
}

/// What a credential's value is replaced by.
pub(crate) const REDACTED: &str = "<redacted>";

/// Whether the string `value` of `key` is hidden: a non-empty credential, or a GitLab token
/// under any key (a misspelt `tokn`, which RG116 reports, is redacted all the same).
fn hides(key: &str, value: &str) -> bool {
    (is_credential(key) && !value.is_empty())
        || SettingValue::TOKEN_PREFIXES
            .iter()
            .any(|p| value.starts_with(p))
}

fn redact(key: &str, value: SettingValue) -> SettingValue {
    match value {
        SettingValue::String(s) if hides(key, &s) => SettingValue::Other(REDACTED.to_owned()),
        // A null stays visible: the key is there but holds nothing.
        SettingValue::Other(o) if o == "null" => SettingValue::Other(o),
        SettingValue::List(_)
        | SettingValue::Integer(_)
        | SettingValue::Float(_)
        | SettingValue::Other(_)
            if is_credential(key) =>
        {
            SettingValue::Other(REDACTED.to_owned())
        }
        other => other,
    }
}

fn toml_value(v: &DeValue<'_>) -> SettingValue {
    match v {
        DeValue::String(s) => SettingValue::String(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).map_or_else(
            |_| SettingValue::Other(i.as_str().to_owned()),
            SettingValue::Integer,
        ),
        DeValue::Float(f) => f.as_str().parse().map_or_else(
            |_| SettingValue::Other(f.as_str().to_owned()),
            SettingValue::Float,
        ),
        DeValue::Boolean(b) => SettingValue::Bool(*b),
        DeValue::Datetime(d) => SettingValue::Other(d.to_string()),
        DeValue::Array(items) => {
            SettingValue::List(items.iter().map(|i| toml_value(i.get_ref())).collect())
        }
        DeValue::Table(_) => SettingValue::Table,
    }
}

/// The keys by which a YAML document without `kind` is recognised as values for the
/// gitlab-runner chart.
const VALUES_KEYS: &[&str] = &[
    "gitlabUrl",
    "runnerToken",
    "runnerRegistrationToken",
    "runners",
    "rbac",
];

/// Whether a document without `kind` looks like gitlab-runner chart values.
pub(crate) fn looks_like_values(node: &Node) -> bool {
    VALUES_KEYS.iter().any(|k| node.get(k).is_some())
}

/// Whether a mapping is gitlab-runner chart values beyond doubt: it names the GitLab URL, or
/// has a `runners` mapping with keys only the chart's `runners` has. (`rbac:` alone is in
/// most charts' values.)
pub(crate) fn surely_values(node: &Node) -> bool {
    node.get("gitlabUrl").is_some()
        || node.get("runners").is_some_and(|r| {
            ["config", "executor", "secret", "cache", "jobNamespace"]
                .iter()
                .any(|k| r.get(k).is_some())
        })
}

/// Every key path of a values document, parents before children, with its value and place.
pub(crate) fn values_entries(file: &Arc<str>, node: &Node) -> Vec<Setting> {
    let mut out = Vec::new();
    flatten_yaml(file, "", node, &mut out);
    out
}

fn flatten_yaml(file: &Arc<str>, prefix: &str, node: &Node, out: &mut Vec<Setting>) {
    let Value::Map(entries) = &node.value else {
        return;
    };
    for (key, value) in entries {
        let name = match &key.value {
            Value::String(s) => s.clone(),
            other => format!("{other:?}"),
        };
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}.{name}")
        };
        out.push(Setting {
            value: redact(&path, yaml_value(value)),
            key: path.clone(),
            origin: Origin::new(file.clone(), key.line, key.column),
        });
        flatten_yaml(file, &path, value, out);
    }
}

fn yaml_value(node: &Node) -> SettingValue {
    match &node.value {
        Value::Null => SettingValue::Other("null".to_owned()),
        Value::Bool(b) => SettingValue::Bool(*b),
        Value::Int(i) => SettingValue::Integer(*i),
        Value::UInt(u) => i64::try_from(*u).map_or_else(
            |_| SettingValue::Other(u.to_string()),
            SettingValue::Integer,
        ),
        Value::Float(f) => SettingValue::Float(*f),
        Value::String(s) => SettingValue::String(s.clone()),
        Value::Seq(items) => SettingValue::List(items.iter().map(yaml_value).collect()),
        Value::Map(_) => SettingValue::Table,
    }
}

/// Values for the chart from a YAML document, with `runners.config` parsed.
pub(crate) fn helm_values(
    file: &Arc<str>,
    text: &str,
    node: &Node,
) -> (HelmValues, Option<TomlError>) {
    let entries = values_entries(file, node);
    let mut runner_config = None;
    let mut error = None;
    let mut templated_config = false;
    if let Some(config) = node.get("runners").and_then(|r| r.get("config"))
        && let Value::String(toml) = &config.value
    {
        let placement = placement_of(text, config);
        let src = TomlSource {
            file,
            toml,
            placement,
        };
        templated_config = toml.contains("{{");
        match self::runner_config(&src, RunnerConfigSource::HelmValues, true) {
            Ok(c) => runner_config = c,
            // The chart renders `runners.config` with `tpl`: Helm actions make it invalid
            // TOML until rendered, and the rendering (with Helm or the model) reads it then.
            Err(_) if templated_config => {}
            Err(e) => error = Some(e),
        }
    }
    (
        HelmValues {
            origin: Origin::new(file.clone(), node.line, node.column),
            entries,
            runner_config,
            templated_config,
            document: document_json(node).to_string(),
            release: runnerguard_model::ReleaseHints::default(),
        },
        error,
    )
}

/// A values document as JSON, for rendering with the chart; strings are hidden as [`redact`]
/// hides them (the chart only tests whether credentials are empty).
fn document_json(node: &Node) -> serde_json::Value {
    let mut json = node.to_json();
    redact_json(&mut json, "");
    json
}

/// Hides the strings of `value`, at dotted `path`, that [`hides`] names.
fn redact_json(value: &mut serde_json::Value, path: &str) {
    use serde_json::Value as J;
    match value {
        J::String(s) if hides(path, s) => REDACTED.clone_into(s),
        J::Array(items) => items.iter_mut().for_each(|i| redact_json(i, path)),
        J::Object(map) => {
            for (name, child) in map.iter_mut() {
                if path.is_empty() {
                    redact_json(child, name);
                } else {
                    redact_json(child, &format!("{path}.{name}"));
                }
            }
        }
        J::Null | J::Bool(_) | J::Number(_) | J::String(_) => {}
    }
}

/// Where the content of a YAML string value starts. serde-saphyr places a block scalar
/// (`|`, `>`) at its first content line and indentation, so TOML line N is file line
/// `value.line + N - 1`; a quoted string has escapes and folded lines, so every setting is
/// placed at the value itself.
pub(crate) fn placement_of(text: &str, value: &Node) -> Placement {
    let at_value = yaml_line(text, value.line.saturating_sub(1) as usize)
        .chars()
        .nth(value.column.saturating_sub(1) as usize);
    if matches!(at_value, Some('"' | '\'')) {
        Placement::At {
            line: value.line,
            column: value.column,
        }
    } else {
        Placement::Block {
            line: value.line,
            indent: value.column.saturating_sub(1),
        }
    }
}

/// Line `index` (0-based) of `text` as the YAML parser counts lines: LF, CRLF and a lone CR
/// each end one (YAML 1.2 section 5.4). `str::lines` ignores a lone CR, so a file with one
/// put every value after it on the wrong line (a fuzz finding, issue #9).
fn yaml_line(text: &str, index: usize) -> &str {
    let mut rest = text;
    for _ in 0..index {
        let Some(i) = rest.find(['\n', '\r']) else {
            return "";
        };
        let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
        rest = &rest[i + skip..];
    }
    rest.find(['\n', '\r']).map_or(rest, |i| &rest[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration over [`SPLIT_FROM`]: a head, then `n` entries with settings, a
    /// `[runners.kubernetes]` table and an array of tables in it, some keys in another case.
    fn large_config(n: usize) -> String {
        let mut text = String::from("concurrent = 4\ncheck_interval = 3\n\n");
        for i in 0..n {
            use std::fmt::Write as _;
            let _ = write!(
                text,
                "[[runners]]\n  name = \"runner-{i}\"\n  url = \"https://gitlab.example.com\"\n  token = \"glrt-{i:08}\"\n  executor = \"kubernetes\"\n  [runners.kubernetes]\n    namespace = \"ns-{i}\"\n    Privileged = {}\n    [[runners.kubernetes.volumes.empty_dir]]\n      name = \"cache\"\n      mount_path = \"/cache\"\n\n",
                i % 2 == 0
            );
        }
        assert!(text.len() > SPLIT_FROM);
        text
    }

    fn source<'a>(file: &'a Arc<str>, toml: &'a str) -> TomlSource<'a> {
        TomlSource {
            file,
            toml,
            placement: Placement::File,
        }
    }

    #[test]
    fn a_large_configuration_parsed_in_pieces_is_the_one_parsed_whole() {
        let text = large_config(1000);
        let file: Arc<str> = Arc::from("config.toml");
        let src = source(&file, &text);
        let lines = LineIndex::new(&text);
        let pieces = split_entries(&src, &lines).expect("split");
        let whole = whole_entries(&src, &lines).ok().flatten().expect("whole");
        assert_eq!(pieces.len(), 1000);
        assert_eq!(pieces, whole);
        // Placed in the file, not in a piece: the last entry's header line.
        let last = text.rfind("[[runners]]").unwrap();
        let line = text[..last].lines().count() + 1;
        assert_eq!(pieces[999].origin.line as usize, line);
        assert_eq!(pieces[999].name.as_deref(), Some("runner-999"));
        assert_eq!(
            pieces[999]
                .kube("privileged")
                .map(|s| s.origin.line as usize),
            Some(line + 7)
        );
    }

    #[test]
    fn what_pieces_cannot_read_exactly_is_parsed_whole() {
        let file: Arc<str> = Arc::from("config.toml");
        let base = large_config(1000);
        // A `[[runners]]` line inside a multi-line string before the entries (the first
        // place a piece would start) and in entry 500 (which may or may not fall where a
        // piece starts); a table after the entries that is not theirs; `runners` in the
        // head; a syntax error in entry 700.
        let at_500 = base.find("[[runners]]\n  name = \"runner-500\"").unwrap();
        let in_string = format!(
            "{}[[runners]]\n  name = \"odd\"\n  pre_build_script = \"\"\"\n[[runners]]\n\"\"\"\n{}",
            &base[..at_500],
            &base[at_500..]
        );
        let in_head_string = format!("motd = \"\"\"\n[[runners]]\n\"\"\"\n{base}");
        let trailing = format!("{base}[session_server]\n  listen_address = \"[::]:8093\"\n");
        let in_head = format!("runners = []\n{base}");
        let broken = base.replace("name = \"runner-700\"", "name = runner-700");
        for (what, text) in [
            ("a header in a string before the entries", &in_head_string),
            ("a table after the entries", &trailing),
            ("runners in the head", &in_head),
            ("a syntax error", &broken),
        ] {
            let src = source(&file, text);
            let lines = LineIndex::new(text);
            assert!(split_entries(&src, &lines).is_none(), "{what}");
        }
        // Each then reads as the whole parse reads it, errors included.
        let read = |text: &str| {
            let src = source(&file, text);
            runner_config(&src, RunnerConfigSource::File, false)
                .map(|c| c.map(|c| c.runners))
                .map_err(|e| (e.at, e.message))
        };
        let whole = |text: &str| {
            let src = source(&file, text);
            whole_entries(&src, &LineIndex::new(text)).map_err(|e| (e.at, e.message))
        };
        for text in [&in_string, &in_head_string, &trailing, &in_head, &broken] {
            assert_eq!(read(text), whole(text));
        }
        let odd = read(&in_string).unwrap().unwrap();
        assert_eq!(odd.len(), 1001);
        let script = odd[500]
            .settings
            .iter()
            .find(|s| s.key == "pre_build_script");
        assert_eq!(script.and_then(|s| s.value.as_str()), Some("[[runners]]\n"));
        assert_eq!(read(&in_head_string).unwrap().unwrap().len(), 1000);
        assert_eq!(read(&trailing).unwrap().unwrap().len(), 1000);
        assert!(read(&in_head).is_err());
        let ((line, _), message) = read(&broken).unwrap_err();
        // The broken line: the lines before it, and the part of it before the value.
        let expected = broken[..broken.find("name = runner-700").unwrap()]
            .lines()
            .count();
        assert_eq!(line as usize, expected, "{message}");
    }

    #[test]
    fn credentials_are_redacted_as_read() {
        let text = "gitlabUrl: https://g\nsentryDsn: ~\nrunnerToken: glrt-secret\nrunnerRegistrationToken: \"\"\nrunners:\n  secret: my-secret\n  config: |\n    [[runners]]\n      [runners.kubernetes]\n        bearer_token = \"abc\"\n        bearer_token_overwrite_allowed = true\n";
        let docs = crate::yaml::parse_documents(text).unwrap();
        let file: Arc<str> = Arc::from("v.yaml");
        let (values, err) = helm_values(&file, text, &docs[0]);
        assert!(err.is_none());
        let shown = format!("{values:?}");
        assert!(
            !shown.contains("glrt-secret") && !shown.contains("\"abc\""),
            "{shown}"
        );
        assert_eq!(
            values.get("runnerToken").unwrap().value,
            SettingValue::Other(REDACTED.into())
        );
        // Empty stays visibly empty; names of Secrets are not credentials.
        assert_eq!(
            values.get("runnerRegistrationToken").unwrap().value,
            SettingValue::String(String::new())
        );
        assert_eq!(
            values.get("runners.secret").unwrap().value.as_str(),
            Some("my-secret")
        );
        let entry = &values.runner_config.as_ref().unwrap().runners[0];
        assert_eq!(
            entry.kube("bearer_token_overwrite_allowed").unwrap().value,
            SettingValue::Bool(true)
        );
        let token = entry.kube("bearer_token").unwrap();
        assert_eq!(token.value, SettingValue::Other(REDACTED.into()));
        // TOML line 3 of the block is file line 10.
        assert_eq!((token.origin.line, token.origin.column), (10, 9));
    }
}
