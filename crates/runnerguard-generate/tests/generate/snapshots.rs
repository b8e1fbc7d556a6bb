//! Snapshots of the generated files (insta), and determinism: the same configuration gives
//! the same bytes, whichever way it is given.

use runnerguard_generate::{default_config, init_template, parse_config, to_stream};

use crate::{files, three_tenants};

#[test]
fn default_setup_files() {
    for f in files(&default_config()) {
        let name = f.path.replace(['/', '.'], "_");
        insta::assert_snapshot!(format!("default__{name}"), f.contents);
    }
}

#[test]
fn three_tenant_setup_stream() {
    insta::assert_snapshot!("three_tenants__stream", to_stream(&files(&three_tenants())));
}

#[test]
fn three_tenant_install_md() {
    let files = files(&three_tenants());
    let install = files.iter().find(|f| f.path == "INSTALL.md").unwrap();
    insta::assert_snapshot!("three_tenants__install", install.contents);
}

#[test]
fn output_is_deterministic() {
    let a = files(&three_tenants());
    let b = files(&three_tenants());
    assert_eq!(a, b);
    let from_template = files(&parse_config("runnerguard.toml", &init_template()).unwrap());
    assert_eq!(files(&default_config()), from_template);
}

#[test]
fn the_stream_holds_every_yaml_file_once() {
    let files = files(&three_tenants());
    let stream = to_stream(&files);
    for f in files
        .iter()
        .filter(|f| f.is_yaml() && f.path != "kustomization.yaml")
    {
        assert_eq!(
            stream.matches(&format!("# Source: {}\n", f.path)).count(),
            1,
            "{}",
            f.path
        );
    }
    assert!(!stream.contains("Kustomization"));
    assert!(!stream.contains("# Installing"));
    // Every document parses; the values documents come last.
    let docs = crate::documents(&stream);
    let kinds: Vec<&str> = docs
        .iter()
        .map(|d| d["kind"].as_str().unwrap_or("values"))
        .collect();
    let first_values = kinds.iter().position(|k| *k == "values").unwrap();
    assert!(
        kinds[first_values..].iter().all(|k| *k == "values"),
        "{kinds:?}"
    );
    assert_eq!(kinds.len() - first_values, 3);
}
