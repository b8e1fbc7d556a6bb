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
                // Offsets are not visited in order here; a fresh cursor keeps answers exact.
                cursor.set((0, 0, 0));
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
    let cursor = Cursor::default();
    let doc = DeTable::parse(src.toml).map_err(|e| TomlError {
        at: src.place(&lines, &cursor, e.span().map_or(0, |s| s.start)),
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
            at: src.place(&lines, &cursor, runners.span().start),
            message: "`runners` must be an array of tables (`[[runners]]`)".to_owned(),
        });
    };
    let limit = crate::limits::MAX_RUNNERS.get();
    if items.len() > limit {
        return Err(TomlError {
            at: src.place(&lines, &cursor, runners.span().start),
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
            let DeValue::Table(table) = item.get_ref() else {
                return None;
            };
            Some(runner_entry(src, &lines, &Cursor::default(), item, table))
        })
        .collect();
    Ok(Some(RunnerConfig {
        source,
        origin: src.origin(&lines, &cursor, 0),
        template,
        runners: entries,
    }))
}

/// One `[[runners]]` entry: its settings flattened, `[runners.kubernetes]` apart.
fn runner_entry(
    src: &TomlSource<'_>,
    lines: &LineIndex,
    cursor: &Cursor,
    item: &toml::Spanned<DeValue<'_>>,
    table: &DeTable<'_>,
) -> RunnerEntry {
    let mut all = Vec::new();
    flatten_toml(src, lines, cursor, "", table, &mut all);
    // `[runners.kubernetes]` starts at its table's value (as before: the header), the
    // exact spelling first, as the decoder does.
    let kube_value = table.get("kubernetes").or_else(|| {
        table
            .iter()
            .find(|(k, _)| RunnerEntry::canonical_key("", k.get_ref()) == Some("kubernetes"))
            .map(|(_, v)| v)
    });
    let kubernetes_origin = kube_value.map(|k| src.origin(lines, cursor, k.span().start));
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
    RunnerEntry {
        origin: src.origin(lines, cursor, item.span().start),
        name: text("name"),
        executor: text("executor"),
        kubernetes_origin,
        kubernetes,
        settings,
    }
}

/// Every key of `table` (at dotted `prefix`, relative to the `[[runners]]` entry), parents
/// before children. A key the runner knows in another case is stored as the runner spells
/// it (`Privileged` as `privileged`), placed where it is written: the runner's decoder
/// matches keys case-insensitively when no key matches exactly (`RunnerEntry::canonical_key`).
/// Keys of an array of tables are listed under the array's path, once per table.
fn flatten_toml(
    src: &TomlSource<'_>,
    lines: &LineIndex,
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
        out.push(Setting {
            value: redact(&path, toml_value(value.get_ref())),
            key: path.clone(),
            origin: src.origin(lines, cursor, key.span().start),
        });
        match value.get_ref() {
            DeValue::Table(t) => flatten_toml(src, lines, cursor, &path, t, out),
            DeValue::Array(items) => {
                for item in items {
                    if let DeValue::Table(t) = item.get_ref() {
                        flatten_toml(src, lines, cursor, &path, t, out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether a key's value is a credential. Such values are replaced by [`REDACTED`] as they
/// are read, so no token or password can reach a report (the key and whether the value is
/// empty are kept: rules need to know that a token *is set*).
fn is_credential(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase();
    [
        "token",
        "password",
        "passwd",
        "secretkey",
        "accesskey",
        "dsn",
        "privatekey",
    ]
    .iter()
    .any(|w| last.contains(w))
        && !last.ends_with("overwrite_allowed")
        && !last.ends_with("secretname")
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
