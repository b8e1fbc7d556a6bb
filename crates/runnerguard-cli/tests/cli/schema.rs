//! Real `-o json` output of every command against docs/schema/v1.json: each document
//! matches one of the schema's documents, and every key it writes is one the schema names
//! (stricter than JSON Schema, which lets unnamed keys through: a key added to the output
//! and not to the schema types fails here).
//!
//! A small checker of the keywords the generated schema uses (`$ref`, `anyOf`, `oneOf`,
//! `const`, `enum`, `type`, `properties`, `required`, `items`), not a general validator:
//! the `jsonschema` crate would add a large dependency tree to check what this does.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{MANAGER, root, run};

fn schema() -> Value {
    let text = std::fs::read_to_string(root().join("docs/schema/v1.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn check(v: &Value, s: &Value, root: &Value, at: &str, errors: &mut Vec<String>) {
    check_node(v, s, root, at, errors, &BTreeSet::new());
}

fn resolve<'a>(root: &'a Value, reference: &str) -> &'a Value {
    let name = reference
        .strip_prefix("#/$defs/")
        .unwrap_or_else(|| panic!("unexpected $ref {reference}"));
    root["$defs"]
        .get(name)
        .unwrap_or_else(|| panic!("no definition {name}"))
}

/// The property names a schema node allows: its own and those of what it refers to.
fn known_keys(s: &Value, root: &Value, out: &mut BTreeSet<String>) {
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        out.extend(props.keys().cloned());
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        known_keys(resolve(root, r), root, out);
    }
}

fn type_matches(v: &Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        other => panic!("unexpected type {other}"),
    }
}

/// Checks `v` against `s`. `inherited`: the property names of a node that refers to `s`
/// with `$ref` next to its own `properties` (an evidence entry's `kind` next to its grant).
fn check_node(
    v: &Value,
    s: &Value,
    root: &Value,
    at: &str,
    errors: &mut Vec<String>,
    inherited: &BTreeSet<String>,
) {
    let mut known = inherited.clone();
    known_keys(s, root, &mut known);
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let mut own = inherited.clone();
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            own.extend(props.keys().cloned());
        }
        check_node(v, resolve(root, r), root, at, errors, &own);
    }
    for (keyword, exactly_one) in [("anyOf", false), ("oneOf", true)] {
        if let Some(branches) = s.get(keyword).and_then(Value::as_array) {
            let results: Vec<Vec<String>> = branches
                .iter()
                .map(|b| {
                    let mut e = Vec::new();
                    check(v, b, root, at, &mut e);
                    e
                })
                .collect();
            let matching = results.iter().filter(|e| e.is_empty()).count();
            if matching == 0 || (exactly_one && matching > 1) {
                errors.push(format!("{at}: {matching} of the {keyword} branches match"));
                // The closest branch says what is wrong.
                if let Some(closest) = results.into_iter().min_by_key(Vec::len) {
                    errors.extend(closest);
                }
            }
        }
    }
    if let Some(c) = s.get("const")
        && v != c
    {
        errors.push(format!("{at}: {v} is not {c}"));
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        errors.push(format!("{at}: {v} is none of {e:?}"));
    }
    match s.get("type") {
        Some(Value::String(t)) if !type_matches(v, t) => {
            errors.push(format!("{at}: not a {t}: {v}"));
        }
        Some(Value::Array(ts)) if !ts.iter().any(|t| type_matches(v, t.as_str().unwrap())) => {
            errors.push(format!("{at}: none of {ts:?}: {v}"));
        }
        _ => {}
    }
    if let (Value::Object(map), Some(props)) = (v, s.get("properties").and_then(Value::as_object)) {
        for (k, x) in map {
            match props.get(k) {
                Some(sub) => check(x, sub, root, &format!("{at}.{k}"), errors),
                None if !known.contains(k) => {
                    errors.push(format!("{at}: key `{k}` is not in the schema"));
                }
                None => {}
            }
        }
        for r in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !map.contains_key(r.as_str().unwrap()) {
                errors.push(format!("{at}: required `{r}` missing"));
            }
        }
    }
    if let (Value::Array(items), Some(item)) = (v, s.get("items")) {
        for (i, x) in items.iter().enumerate() {
            check(x, item, root, &format!("{at}[{i}]"), errors);
        }
    }
}

/// Runs `args`, parses its stdout and checks it against the definition `document` (and
/// against the schema's root, which must accept it too).
fn assert_valid(document: &str, args: &[&str]) -> Value {
    let r = run(args);
    assert!(r.code == 0 || r.code == 1, "{args:?}: {}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let schema = schema();
    for (name, s) in [
        (document, resolve(&schema, &format!("#/$defs/{document}"))),
        ("root", &schema),
    ] {
        let mut errors = Vec::new();
        check(&v, s, &schema, "$", &mut errors);
        assert!(
            errors.is_empty(),
            "{args:?} against {name}:\n{}",
            errors.join("\n")
        );
    }
    v
}

#[test]
fn every_command_writes_json_the_v1_schema_describes() {
    let seed = ["-f", "examples/seed"];
    let two_step = ["-f", "fixtures/escalation/two-step.yaml"];
    let ci_job = "system:serviceaccount:teams:ci-job";
    let audit = assert_valid("Audit", &[&["audit", "-o", "json"][..], &seed].concat());
    assert!(
        audit["findings"][0]["evidence"]
            .as_array()
            .is_some_and(|e| !e.is_empty()),
        "the seed's findings have evidence to check"
    );
    let no = assert_valid(
        "CanI",
        &[
            &[
                "can-i",
                "create",
                "pods",
                "--subresource=exec",
                "-n",
                "teams",
                "--as",
                MANAGER,
                "-o",
                "json",
            ][..],
            &["-f", "examples/seed/03-final-rbac.yaml"],
        ]
        .concat(),
    );
    assert!(no["nearMisses"].as_array().is_some_and(|m| !m.is_empty()));
    let yes = assert_valid(
        "CanI",
        &[
            &[
                "can-i", "get", "pods", "-n", "teams", "--as", MANAGER, "-o", "json",
            ][..],
            &seed,
        ]
        .concat(),
    );
    assert!(yes["grants"].as_array().is_some_and(|g| !g.is_empty()));
    assert_valid(
        "CanI",
        &["can-i", "get", "/healthz", "--as", "bob", "-o", "json"],
    );
    assert_valid(
        "CanIList",
        &[
            &[
                "can-i", "--list", "-n", "teams", "--as", MANAGER, "-o", "json",
            ][..],
            &seed,
        ]
        .concat(),
    );
    let effective = assert_valid(
        "CanIEffective",
        &[
            &[
                "can-i",
                "get",
                "secrets",
                "-n",
                "gitlab-runner",
                "--as",
                ci_job,
                "--effective",
                "-o",
                "json",
            ][..],
            &two_step,
        ]
        .concat(),
    );
    assert!(
        effective["via"]["path"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    );
    assert_valid(
        "WhoCan",
        &[
            &["who-can", "get", "secrets", "-n", "teams", "-o", "json"][..],
            &seed,
        ]
        .concat(),
    );
    assert_valid(
        "WhoCanEffective",
        &[
            &[
                "who-can",
                "get",
                "secrets",
                "-n",
                "gitlab-runner",
                "--effective",
                "-o",
                "json",
            ][..],
            &two_step,
        ]
        .concat(),
    );
    let paths = assert_valid(
        "Paths",
        &[&["paths", "--as", ci_job, "-o", "json"][..], &two_step].concat(),
    );
    assert!(paths["reached"].as_array().is_some_and(|r| !r.is_empty()));
    assert_valid(
        "Paths",
        &[
            "paths",
            "--as",
            "alice",
            "-f",
            "fixtures/escalation/bind.yaml",
            "-n",
            "teams",
            "-o",
            "json",
        ],
    );
    assert_valid(
        "PathsTo",
        &[
            &[
                "paths",
                "--as",
                ci_job,
                "--to",
                "get secrets -n gitlab-runner",
                "-o",
                "json",
            ][..],
            &two_step,
        ]
        .concat(),
    );
    assert_valid(
        "AllServiceAccounts",
        &[
            &["paths", "--all-service-accounts", "-o", "json"][..],
            &two_step,
        ]
        .concat(),
    );
    let diff = assert_valid(
        "Diff",
        &[
            "diff",
            "fixtures/diff/old/",
            "fixtures/diff/new/",
            "-o",
            "json",
        ],
    );
    for key in ["intoManagerNamespace", "subjects"] {
        assert!(diff[key].as_array().is_some_and(|a| !a.is_empty()), "{key}");
    }
    assert!(
        diff["findings"]["new"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
}

#[test]
fn the_checker_rejects_a_key_the_schema_does_not_name() {
    let schema = schema();
    let mut v: Value = serde_json::from_str(
        r#"{"version": 1, "serviceAccounts": [{"namespace": "a", "name": "b", "reached": [{"kind": "node"}]}]}"#,
    )
    .unwrap();
    let document = resolve(&schema, "#/$defs/AllServiceAccounts");
    let mut errors = Vec::new();
    check(&v, document, &schema, "$", &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    v["serviceAccounts"][0]["reached"][0]["extra"] = Value::Bool(true);
    v["version"] = Value::from(2);
    check(&v, document, &schema, "$", &mut errors);
    assert!(
        errors.iter().any(|e| e.contains("key `extra`"))
            && errors.iter().any(|e| e.contains("$.version")),
        "{errors:?}"
    );
}
