//! `runnerguard.toml` → [`ConfigFile`]: every syntax error, unknown key, wrong type and token
//! in clear, each a diagnostic at its place.
//!
//! serde stops at the first error. To report every problem in one run, the value at fault
//! is taken out of the parsed document and the document deserialized again, until it
//! deserializes; the keys stay declared once, as the fields of [`crate::file`].

use std::ops::Range;

use runnerguard_model::SettingValue;
use serde::Deserialize;
use toml::de::{DeArray, DeTable, DeValue, Deserializer};

use crate::check::first_problems;
use crate::file::ConfigFile;
use crate::{ConfigDiagnostic, Source};

/// Problems reported at most in one file: a file of thousands of bad keys is not worth
/// thousands of messages (nor thousands of passes over it).
pub const MAX_PROBLEMS: usize = 100;

/// What to do instead of writing a token into the file.
pub const TOKEN_HELP: &str = "never write the runner token into runnerguard.toml: create a Secret in the manager namespace with keys `runner-token` (the glrt- token) and `runner-registration-token` (empty), and name it with `token_secret = \"NAME\"` under [[tenants]]";

/// What `deploy_namespaces` takes.
const DEPLOY_NAMESPACES_HELP: &str = "write deploy_namespaces = [\"staging\", …] for namespaces that exist, and { name = \"staging\", create = true } for those runnerguard creates";

/// Reads `source` into its sections. Every problem is reported, sorted by place: TOML
/// syntax (the first error only: what follows it cannot be read), unknown keys (with the
/// closest known key), wrong types, and strings or keys that look like a GitLab token.
pub fn read(source: &Source<'_>) -> Result<ConfigFile, Vec<ConfigDiagnostic>> {
    let mut doc = match DeTable::parse(source.text()) {
        Ok(doc) => doc,
        Err(e) => {
            return Err(vec![source.error(
                &e.span().unwrap_or(0..0),
                format!("invalid TOML: {}", e.message().trim_end()),
                None,
            )]);
        }
    };
    let mut problems = Vec::new();
    scan(source, doc.get_ref(), &mut Vec::new(), &mut problems);
    while problems.len() < MAX_PROBLEMS {
        let error = match ConfigFile::deserialize(Deserializer::from(doc.clone())) {
            Ok(file) if problems.is_empty() => return Ok(file),
            Ok(_) => break,
            Err(e) => e,
        };
        let span = error.span().unwrap_or(0..0);
        // serde places an unknown field at its key, anything else at the value.
        let at = Place {
            span: &span,
            key: error.message().starts_with("unknown field `"),
        };
        let Some(fault) = take_out(doc.get_mut(), &at, &mut Vec::new()) else {
            // Not a value of the document (never seen): said as serde says it, once.
            problems.push(source.error(&span, error.message().trim_end(), None));
            break;
        };
        problems.push(explain(source, &span, error.message(), &fault));
    }
    // The scan for tokens is not bounded by the loop: a file of many may pass the bound.
    Err(first_problems(problems))
}

/// A step into the document.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Item,
}

/// The value at fault, taken out of the document.
struct Fault {
    /// Where it was: the keys and indexes down to it.
    path: Vec<Step>,
    /// Whether the error is about its key (an unknown key) rather than its value.
    at_key: bool,
    /// What kind of value it was (`a string`, ...).
    found: &'static str,
}

/// Where serde says the error is: a key's span or a value's (a `[table]`'s value and key
/// share the header's span).
struct Place<'a> {
    span: &'a Range<usize>,
    key: bool,
}

impl Place<'_> {
    fn is(&self, key: &Range<usize>, value: &Range<usize>) -> bool {
        if self.key {
            key == self.span
        } else {
            value == self.span
        }
    }
}

/// Finds the key or value at `at` under `table`, removes it, and says where it was. `path`
/// is the way down to `table`.
fn take_out(table: &mut DeTable<'_>, at: &Place<'_>, path: &mut Vec<Step>) -> Option<Fault> {
    let mut hit = None;
    for (key, value) in table.iter_mut() {
        let name = key.get_ref().to_string();
        if at.is(&key.span(), &value.span()) {
            hit = Some((name, at.key, describe(value.get_ref())));
            break;
        }
        // No pruning by span: a `[section]`'s span is its header, not its keys.
        path.push(Step::Key(name));
        let found = match value.get_mut() {
            DeValue::Table(t) => take_out(t, at, path),
            DeValue::Array(items) => take_out_item(items, at, path),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
        path.pop();
    }
    let (name, at_key, found) = hit?;
    table.remove(name.as_str());
    path.push(Step::Key(name));
    Some(Fault {
        path: std::mem::take(path),
        at_key,
        found,
    })
}

fn take_out_item(items: &mut DeArray<'_>, at: &Place<'_>, path: &mut Vec<Step>) -> Option<Fault> {
    for (i, item) in items.iter_mut().enumerate() {
        if !at.key && item.span() == *at.span {
            let found = describe(item.get_ref());
            *items = std::mem::replace(items, DeArray::new())
                .into_iter()
                .enumerate()
                .filter_map(|(j, v)| (j != i).then_some(v))
                .collect();
            path.push(Step::Item);
            return Some(Fault {
                path: std::mem::take(path),
                at_key: false,
                found,
            });
        }
        path.push(Step::Item);
        let found = match item.get_mut() {
            DeValue::Table(t) => take_out(t, at, path),
            DeValue::Array(inner) => take_out_item(inner, at, path),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
        path.pop();
    }
    None
}

/// serde's error at `span` about `fault`, said in the file's terms: the key, the section,
/// what was expected and found, and what to write.
fn explain(
    source: &Source<'_>,
    span: &Range<usize>,
    message: &str,
    fault: &Fault,
) -> ConfigDiagnostic {
    let (parent, last) = fault.path.split_at(fault.path.len().saturating_sub(1));
    let found = fault.found;
    match last {
        [Step::Key(key)] if fault.at_key => unknown_key(source, span, key, message, parent),
        [Step::Item] => {
            let list = parent.iter().rev().find_map(Step::key).unwrap_or_default();
            let (message, help) = match list {
                "tenants" => (
                    format!("each entry of `tenants` must be a table, found {found}"),
                    Some(TENANTS_HELP.to_owned()),
                ),
                "deploy_namespaces" => (
                    format!(
                        "each entry of `deploy_namespaces` must be a namespace name or a table, found {found}"
                    ),
                    Some(DEPLOY_NAMESPACES_HELP.to_owned()),
                ),
                _ => (
                    format!("`{list}` must hold strings only, found {found}"),
                    None,
                ),
            };
            source.error(span, message, help)
        }
        [Step::Key(key)] => {
            let expected = message.rsplit_once(", expected ").map_or("", |(_, e)| e);
            let (message, help) = match (key.as_str(), parent.is_empty()) {
                ("tenants", true) => (
                    format!("`tenants` must be an array of tables (`[[tenants]]`), found {found}"),
                    Some(TENANTS_HELP.to_owned()),
                ),
                ("deploy_namespaces", _) => (
                    format!("`deploy_namespaces` must be an array of namespaces, found {found}"),
                    Some(DEPLOY_NAMESPACES_HELP.to_owned()),
                ),
                _ if expected == "a string" => (
                    format!("`{key}` must be a string, found {found}"),
                    Some(format!("write it in quotes: {key} = \"…\"")),
                ),
                _ if expected == "a boolean" => (
                    format!("`{key}` must be a boolean, found {found}"),
                    Some(format!("write {key} = true or {key} = false")),
                ),
                _ if expected == "i64" => {
                    (format!("`{key}` must be an integer, found {found}"), None)
                }
                _ if expected == "a sequence" => (
                    format!("`{key}` must be an array of strings, found {found}"),
                    Some(format!("write {key} = [\"…\", \"…\"]")),
                ),
                _ => (
                    format!(
                        "`{key}` in {} must be a table, found {found}",
                        section(parent)
                    ),
                    None,
                ),
            };
            source.error(span, message, help)
        }
        _ => source.error(span, message.trim_end(), None),
    }
}

const TENANTS_HELP: &str = "write each tenant as a `[[tenants]]` section";

/// `key` is not a field of the section at `parent`. serde's message lists the fields.
fn unknown_key(
    source: &Source<'_>,
    span: &Range<usize>,
    key: &str,
    message: &str,
    parent: &[Step],
) -> ConfigDiagnostic {
    if is_token_key(key) {
        return source.error(
            span,
            format!("`{key}`: runner tokens do not belong in runnerguard.toml"),
            Some(TOKEN_HELP.to_owned()),
        );
    }
    // serde's `unknown field `KEY`, expected one of `a`, `b`` (or `a` or `b`, or `a`).
    let expected = message
        .strip_prefix(&format!("unknown field `{key}`, expected "))
        .unwrap_or_default();
    let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let section = section(parent);
    let help = match closest(key, &known) {
        Some(k) => format!("did you mean `{k}`?"),
        None => format!("{section} takes: {}", known.join(", ")),
    };
    source.error(
        span,
        format!("unknown key `{key}` in {section}"),
        Some(help),
    )
}

impl Step {
    fn key(&self) -> Option<&str> {
        match self {
            Step::Key(k) => Some(k),
            Step::Item => None,
        }
    }
}

/// How the section at `path` is written: `the top level`, `[manager]`, `[[tenants]]`,
/// `[tenants.resources.build]`, ``a `deploy_namespaces` entry``.
fn section(path: &[Step]) -> String {
    let keys: Vec<&str> = path.iter().filter_map(Step::key).collect();
    match (keys.as_slice(), path.last()) {
        ([], _) => "the top level".to_owned(),
        ([.., "deploy_namespaces"], Some(Step::Item)) => "a `deploy_namespaces` entry".to_owned(),
        ([one], Some(Step::Item)) => format!("[[{one}]]"),
        _ => format!("[{}]", keys.join(".")),
    }
}

/// Every string anywhere in the document that looks like a GitLab token, and
/// `deploy_namespaces` tables without a `name`.
fn scan(
    source: &Source<'_>,
    table: &DeTable<'_>,
    path: &mut Vec<String>,
    out: &mut Vec<ConfigDiagnostic>,
) {
    for (key, value) in table {
        path.push(key.get_ref().to_string());
        scan_value(source, value.get_ref(), &value.span(), path, out);
        path.pop();
    }
}

fn scan_value(
    source: &Source<'_>,
    value: &DeValue<'_>,
    span: &Range<usize>,
    path: &mut Vec<String>,
    out: &mut Vec<ConfigDiagnostic>,
) {
    match value {
        DeValue::String(s) => {
            if let Some(prefix) = SettingValue::TOKEN_PREFIXES
                .iter()
                .find(|p| s.trim().starts_with(*p))
            {
                out.push(source.error(
                    span,
                    format!(
                        "this value looks like a GitLab token (`{prefix}…`): tokens do not belong in runnerguard.toml"
                    ),
                    Some(TOKEN_HELP.to_owned()),
                ));
            }
        }
        DeValue::Array(items) => {
            let entries = path.len() == 2
                && path.first().is_some_and(|k| k == "tenants")
                && path.last().is_some_and(|k| k == "deploy_namespaces");
            for item in items {
                if entries
                    && let DeValue::Table(t) = item.get_ref()
                    && !t.contains_key("name")
                {
                    out.push(source.error(
                        &item.span(),
                        "a `deploy_namespaces` entry needs a `name`",
                        Some("write { name = \"staging\", create = true }".to_owned()),
                    ));
                }
                scan_value(source, item.get_ref(), &item.span(), path, out);
            }
        }
        DeValue::Table(t) => scan(source, t, path, out),
        _ => {}
    }
}

/// Whether a key name is a place someone put a token.
fn is_token_key(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains("token") && lower != "token_secret"
}

/// What kind of TOML value this is, for messages.
fn describe(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// The known name closest to `name`, when it is close enough to be a typo. The distance
/// counts a swap of two neighbouring characters as one edit (optimal string alignment), the
/// commonest typo.
pub fn closest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (strsim::osa_distance(name, k), *k))
        .filter(|(d, k)| *d <= (k.len() / 3).clamp(1, 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    fn problems(text: &str) -> Vec<String> {
        read(&Source::new("f", text))
            .err()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn typos_get_a_suggestion() {
        let keys = ["name", "job_namespace", "deploy"];
        assert_eq!(closest("job_namspace", &keys), Some("job_namespace"));
        assert_eq!(closest("nmae", &keys), Some("name"));
        assert_eq!(closest("colour", &keys), None);
    }

    #[test]
    fn token_keys() {
        assert!(is_token_key("runner_token"));
        assert!(is_token_key("runnerToken"));
        assert!(!is_token_key("token_secret"));
    }

    #[test]
    fn every_unknown_key_and_wrong_type_is_reported() {
        let got = problems(
            "colour = 1\n[manager]\nnamespace = 5\nnmae = \"x\"\n[[tenants]]\nquota = 3\ndeveloper_groups = [\"a\", 1]\n[tenants.resources.build]\ncpu = \"1\"\n",
        );
        assert_eq!(
            got,
            [
                "f:1:1: unknown key `colour` in the top level\n  help: the top level takes: manager, tenants, audit",
                "f:3:13: `namespace` must be a string, found an integer\n  help: write it in quotes: namespace = \"…\"",
                "f:4:1: unknown key `nmae` in [manager]\n  help: [manager] takes: namespace, gitlab_url, runner_version, chart_version",
                "f:6:9: `quota` in [[tenants]] must be a table, found an integer",
                "f:7:26: `developer_groups` must hold strings only, found an integer",
                "f:9:1: unknown key `cpu` in [tenants.resources.build]\n  help: [tenants.resources.build] takes: cpu_request, cpu_limit, memory_request, memory_limit",
            ]
        );
    }

    #[test]
    fn deploy_namespace_entries() {
        let got = problems(
            "[[tenants]]\nname = \"a\"\ndeploy_namespaces = [\"x\", 3, { create = true }, { name = 1 }, { name = \"y\", crate = true }]\n",
        );
        assert_eq!(got.len(), 4, "{got:#?}");
        assert!(got[0].starts_with("f:3:27: each entry of `deploy_namespaces` must be a namespace name or a table, found an integer"), "{got:#?}");
        assert!(
            got[1].starts_with("f:3:30: a `deploy_namespaces` entry needs a `name`"),
            "{got:#?}"
        );
        assert!(
            got[2].starts_with("f:3:58: `name` must be a string"),
            "{got:#?}"
        );
        assert_eq!(
            got[3],
            "f:3:77: unknown key `crate` in a `deploy_namespaces` entry\n  help: did you mean `create`?"
        );
        let file = read(&Source::new(
            "f",
            "[[tenants]]\ndeploy_namespaces = [\"x\", { name = \"y\", create = true }]\n",
        ))
        .unwrap_or_default();
        let tenants = file.tenants.map(|t| t.value).unwrap_or_default();
        let entries = tenants[0]
            .value
            .deploy_namespaces
            .as_ref()
            .map(|d| &d.value[..])
            .unwrap_or_default();
        let names: Vec<_> = entries
            .iter()
            .filter_map(|e| e.name().map(|n| (n.value, n.span)))
            .collect();
        assert_eq!(names, [("x".to_owned(), 33..36), ("y".to_owned(), 47..50)]);
        assert_eq!(entries[1].create().map(|c| c.value), Some(true));
    }

    /// serde would build a section from an array, field by field; a section is a table.
    #[test]
    fn sections_are_tables() {
        assert_eq!(
            problems("manager = [\"a\", \"b\", \"c\", \"d\"]\n[[tenants]]\nquota = []\n"),
            [
                "f:1:11: `manager` in the top level must be a table, found an array",
                "f:3:9: `quota` in [[tenants]] must be a table, found an array",
            ]
        );
        assert_eq!(
            problems("[tenants]\nname = \"a\"\n"),
            [
                "f:1:1: `tenants` must be an array of tables (`[[tenants]]`), found a table\n  help: write each tenant as a `[[tenants]]` section"
            ]
        );
        assert_eq!(
            problems("tenants = [[\"a\"]]\n"),
            [
                "f:1:12: each entry of `tenants` must be a table, found an array\n  help: write each tenant as a `[[tenants]]` section"
            ]
        );
    }

    #[test]
    fn problems_are_bounded() {
        let text = (0..300).fold(String::new(), |mut text, i| {
            let _ = writeln!(text, "k{i} = 1");
            text
        });
        assert_eq!(problems(&text).len(), MAX_PROBLEMS);
        // Values that look like tokens are found in one scan, not one pass each.
        let text = (0..300).fold(String::new(), |mut text, i| {
            let _ = writeln!(text, "k{i} = \"glrt-x\"");
            text
        });
        let got = problems(&text);
        assert_eq!(got.len(), MAX_PROBLEMS);
        assert!(got[0].starts_with("f:1:"), "{}", got[0]);
    }
}
