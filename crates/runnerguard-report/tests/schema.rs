//! docs/schema/v1.json is the JSON Schema of `runnerguard_report::schema::v1`, regenerated
//! here: a change to the output types that is not in the committed schema fails.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails on any error"
)]

use std::path::PathBuf;

fn committed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema/v1.json")
}

#[test]
fn the_committed_v1_schema_is_the_one_the_types_give() {
    let schema = runnerguard_report::schema::v1::json_schema();
    let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    let path = committed();
    if std::env::var_os("RUNNERGUARD_BLESS").is_some_and(|v| !v.is_empty()) {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == text,
        "docs/schema/v1.json differs from the schema of runnerguard_report::schema::v1.\n\
         If the change only adds fields or descriptions, run \
         `RUNNERGUARD_BLESS=1 cargo test -p runnerguard-report --test schema` to update it.\n\
         If a field changes meaning or disappears, that is a new schema version: add \
         schema::v2 (and docs/schema/v2.json) instead of changing v1 (docs/json-output.md)."
    );
}

#[test]
fn every_document_is_in_the_schema() {
    let schema = serde_json::to_value(runnerguard_report::schema::v1::json_schema()).unwrap();
    let defs = schema["$defs"].as_object().expect("$defs");
    for name in [
        "Audit",
        "CanI",
        "CanIList",
        "CanIEffective",
        "WhoCan",
        "WhoCanEffective",
        "Paths",
        "PathsTo",
        "AllServiceAccounts",
    ] {
        let def = &defs[name];
        assert_eq!(def["properties"]["version"]["const"], 1, "{name}: {def:#}");
        assert!(
            def["required"]
                .as_array()
                .unwrap()
                .contains(&"version".into()),
            "{name}"
        );
    }
}
