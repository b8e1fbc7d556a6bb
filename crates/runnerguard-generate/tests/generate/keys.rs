//! Every generated Helm values key is one chart 0.86.0 reads, every `[runners.kubernetes]`
//! key one the target runner version reads, and the executor Role is exactly the executor
//! permission table of that version (as the audit reads it).

use std::collections::BTreeSet;

use runnerguard_audit::executor::{Need, Scope, permission_tables, table_for};
use runnerguard_audit::{ChartKeys, KeyUse};
use runnerguard_generate::{Config, parse_config};
use serde_json::Value as Json;

use crate::{documents, file, files, three_tenants};

const KEYS: &str = include_str!("../../../../data/gitlab-runner/kubernetes-config-keys.toml");

/// Dotted paths of a YAML/JSON mapping, parents before children.
fn yaml_paths(prefix: &str, value: &Json, out: &mut Vec<String>) {
    if let Json::Object(map) = value {
        for (k, v) in map {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            out.push(path.clone());
            yaml_paths(&path, v, out);
        }
    }
}

/// `(major, minor)` of a data file's version string.
fn minor(s: &str) -> (u32, u32) {
    let (a, b) = s.split_once('.').unwrap();
    (a.parse().unwrap(), b.parse().unwrap())
}

/// The `[runners.kubernetes]` keys runner `version` reads, and which of them are maps (whose
/// entries are not keys).
fn runner_keys(version: (u32, u32)) -> (BTreeSet<String>, BTreeSet<String>) {
    let doc: toml::Table = toml::from_str(KEYS).unwrap();
    let mut keys = BTreeSet::new();
    let mut maps = BTreeSet::new();
    for k in doc["key"].as_array().unwrap() {
        let name = k["name"].as_str().unwrap().to_owned();
        let since = k.get("since").and_then(toml::Value::as_str).map(minor);
        let removed = k.get("removed").and_then(toml::Value::as_str).map(minor);
        if since.is_some_and(|s| version < s) || removed.is_some_and(|r| version >= r) {
            continue;
        }
        if k["type"].as_str().unwrap().starts_with("map[") {
            maps.insert(name.clone());
        }
        keys.insert(name);
    }
    (keys, maps)
}

fn toml_paths(prefix: &str, table: &toml::Table, maps: &BTreeSet<String>, out: &mut Vec<String>) {
    for (k, v) in table {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        out.push(path.clone());
        if let toml::Value::Table(t) = v
            && !maps.contains(&path)
        {
            toml_paths(&path, t, maps, out);
        }
    }
}

fn check_keys(config: &Config) {
    let chart = ChartKeys::for_version("0.86.0").unwrap();
    let v = config.runner_version();
    let (known, maps) = runner_keys((v.major, v.minor));
    let files = files(config);
    for t in config.tenants() {
        let values = &documents(file(&files, &format!("{}/values.yaml", t.name())))[0];
        let mut paths = Vec::new();
        yaml_paths("", values, &mut paths);
        for p in &paths {
            assert_eq!(
                chart.key_use(p),
                KeyUse::Read,
                "values key `{p}` ({})",
                t.name()
            );
        }
        let runner_config: toml::Table =
            toml::from_str(values["runners"]["config"].as_str().unwrap()).unwrap();
        let runners = runner_config["runners"].as_array().unwrap();
        assert_eq!(runners.len(), 1, "the chart takes exactly one [[runners]]");
        let entry = runners[0].as_table().unwrap();
        assert_eq!(entry.keys().collect::<Vec<_>>(), ["kubernetes"]);
        let mut keys = Vec::new();
        toml_paths(
            "",
            entry["kubernetes"].as_table().unwrap(),
            &maps,
            &mut keys,
        );
        assert!(keys.len() > 40, "{keys:?}");
        for k in &keys {
            assert!(
                known.contains(k),
                "runner {v} does not read `{k}` ({})",
                t.name()
            );
        }
    }
}

#[test]
fn generated_keys_are_read_by_the_chart_and_the_runner() {
    check_keys(&runnerguard_generate::default_config());
    check_keys(&three_tenants());
    for version in ["17.0", "17.9", "18.0", "18.10"] {
        let text = format!(
            "[manager]\nrunner_version = \"{version}\"\n[[tenants]]\nname = \"a\"\nexecutor_features = [\"ports\", \"pod_events\", \"container_logs\", \"service_account_check\"]\n"
        );
        check_keys(&parse_config("x.toml", &text).unwrap());
    }
}

#[test]
fn the_seccomp_profile_is_set_where_the_runner_reads_it() {
    let three = files(&three_tenants());
    assert!(
        file(&three, "web/values.yaml")
            .contains("[runners.kubernetes.pod_security_context.seccomp_profile]")
    );
    let default = files(&runnerguard_generate::default_config());
    assert!(!file(&default, "teams/values.yaml").contains("seccomp_profile]"));
}

/// The executor Role's rules as (group, resource, verb).
fn role_permissions(text: &str) -> BTreeSet<(String, String, String)> {
    let docs = documents(text);
    let role = docs.iter().find(|d| d["kind"] == "Role").unwrap();
    let mut out = BTreeSet::new();
    for rule in role["rules"].as_array().unwrap() {
        for g in rule["apiGroups"].as_array().unwrap() {
            for r in rule["resources"].as_array().unwrap() {
                for v in rule["verbs"].as_array().unwrap() {
                    out.insert((
                        g.as_str().unwrap().to_owned(),
                        r.as_str().unwrap().to_owned(),
                        v.as_str().unwrap().to_owned(),
                    ));
                }
            }
        }
    }
    out
}

/// The audit's table for `version`: required and degraded namespaced rows, and the feature
/// rows whose feature matches `features`.
fn table_permissions(version: &str, features: &[&str]) -> BTreeSet<(String, String, String)> {
    let tables = permission_tables().unwrap();
    let table = table_for(&tables, version.parse().unwrap()).unwrap();
    let mut out = BTreeSet::new();
    for p in &table.permissions {
        let wanted = match p.need {
            Need::Required | Need::Degraded => true,
            Need::Feature => features.iter().any(|f| p.feature.contains(f)),
        };
        if wanted && p.scope == Scope::Namespace {
            for v in &p.verbs {
                out.insert((p.group.clone(), p.resource.clone(), v.clone()));
            }
        }
    }
    out
}

#[test]
fn the_executor_role_is_the_permission_table() {
    let default = files(&runnerguard_generate::default_config());
    assert_eq!(
        role_permissions(file(&default, "teams/executor-role.yaml")),
        table_permissions("18.9", &[])
    );
    let three = files(&three_tenants());
    let web = role_permissions(file(&three, "web/executor-role.yaml"));
    assert_eq!(
        web,
        table_permissions("18.11", &["declare ports", "pod_disruption_budget"])
    );
    assert!(web.contains(&(
        "policy".into(),
        "poddisruptionbudgets".into(),
        "create".into()
    )));
    assert!(web.contains(&(String::new(), "services".into(), "create".into())));
    let data = role_permissions(file(&three, "data/executor-role.yaml"));
    assert_eq!(
        data,
        table_permissions(
            "18.11",
            &[
                "FF_KUBERNETES_HONOR_ENTRYPOINT",
                "FF_PRINT_POD_EVENTS",
                "resource_availability_check"
            ]
        )
    );
    assert!(data.contains(&(String::new(), "pods/log".into(), "get".into())));
    // Nothing cluster-scoped, nothing for features no tenant asked for.
    let ops = role_permissions(file(&three, "ops/executor-role.yaml"));
    assert_eq!(ops, table_permissions("18.11", &[]));
    assert!(
        !ops.iter()
            .any(|(_, r, _)| r == "namespaces" || r == "deployments")
    );
}
