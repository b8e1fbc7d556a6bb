//! Issue #8, points 7 and 10: RG113 and RG108 read the chart's rendered output (`helm
//! template`), not only its values; the registration token's value is never read.
//!
//! The fixtures are real `helm template` output of the official chart (helm 4.1.4), in
//! `tests/fixtures/RG113/rendered/` and `tests/fixtures/RG108/rendered/`.

#![allow(
    clippy::unwrap_used,
    clippy::missing_panics_doc,
    reason = "test helpers fail the test on any error"
)]

use std::path::{Path, PathBuf};

use runnerguard_audit::{Finding, Selection, Setup, Severity, TopologyOptions};
use runnerguard_engine::Policy;
use runnerguard_load::{Input, load_inputs};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every finding on `paths` (relative to the workspace root), for runner 18.9.
fn audit(paths: &[&str]) -> Vec<Finding> {
    let inputs: Vec<Input> = paths.iter().map(|p| Input::Path(root().join(p))).collect();
    let mut loaded = load_inputs(&inputs).unwrap();
    loaded.add_default_policy().unwrap();
    let policy = Policy::new(loaded.inventory);
    let setup = Setup::new(
        &policy,
        &TopologyOptions::default(),
        "18.9".parse().unwrap(),
    )
    .unwrap();
    runnerguard_audit::run(&setup.context(&policy), &Selection::default())
}

fn of<'a>(findings: &'a [Finding], rule: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.rule == rule).collect()
}

const FIXTURES: &str = "crates/runnerguard-audit/tests/fixtures";

#[test]
fn rg113_fires_on_the_charts_rendered_role() {
    let all = audit(&[&format!("{FIXTURES}/RG113/rendered/role.yaml")]);
    let found = of(&all, "RG113");
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = found[0];
    assert_eq!(f.severity, Severity::Critical);
    assert!(
        f.message.contains(
            "the gitlab-runner chart (gitlab-runner-0.86.0, release `gitlab-runner`) rendered Role gitlab-runner/gitlab-runner granting verbs `*` on resources `*` of the core API group, bound to ServiceAccount gitlab-runner/gitlab-runner, in `gitlab-runner`"
        ),
        "{}",
        f.message
    );
    let kinds: Vec<&str> = f.objects.iter().map(|o| o.kind.as_str()).collect();
    assert_eq!(kinds, ["Role", "RoleBinding"], "{:?}", f.objects);
    // A `--fail-on critical` gate fails on the chart's output alone.
    assert_eq!(
        all.iter().map(|f| f.severity).max(),
        Some(Severity::Critical)
    );
}

#[test]
fn rg113_fires_on_the_charts_rendered_cluster_role() {
    let all = audit(&[&format!("{FIXTURES}/RG113/rendered/cluster-role.yaml")]);
    let found = of(&all, "RG113");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].severity, Severity::Critical);
    assert!(
        found[0]
            .message
            .contains("(gitlab-runner-0.83.3, release `ci`) rendered ClusterRole ci-gitlab-runner"),
        "{}",
        found[0].message
    );
}

/// The values and the Role rendered from them are one fault: one finding, both places.
#[test]
fn rg113_reports_values_and_rendered_role_of_one_release_once() {
    let all = audit(&[
        &format!("{FIXTURES}/RG113/same-release/values.yaml"),
        &format!("{FIXTURES}/RG113/rendered/role.yaml"),
    ]);
    let found = of(&all, "RG113");
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = found[0];
    assert_eq!(f.locations[0].what, "rbac.create");
    assert!(
        f.locations[0]
            .origin
            .file
            .ends_with("same-release/values.yaml"),
        "{:?}",
        f.locations
    );
    assert!(
        f.objects
            .iter()
            .any(|o| o.kind == "Role" && o.origin.file.ends_with("rendered/role.yaml")),
        "{:?}",
        f.objects
    );
}

/// The chart's Role with `rbac.rules` set is the executor's: quiet.
#[test]
fn rg113_is_quiet_on_the_charts_role_with_rules() {
    let all = audit(&["fixtures/chart-0.86.0/rendered-corrected-chart-rbac.yaml"]);
    assert!(of(&all, "RG113").is_empty(), "{:#?}", of(&all, "RG113"));
}

/// The token `helm template` rendered into the fixture, plain and base64.
const TOKEN: &str = "GR1348941-not-a-real-token-8f3k";
const TOKEN_BASE64: &str = "R1IxMzQ4OTQxLW5vdC1hLXJlYWwtdG9rZW4tOGYzaw==";

#[test]
fn rg108_fires_on_a_rendered_secret_and_never_shows_the_token() {
    let path = format!("{FIXTURES}/RG108/rendered/secret.yaml");
    let text = std::fs::read_to_string(root().join(&path)).unwrap();
    assert!(text.contains(TOKEN_BASE64), "the fixture holds the token");
    let all = audit(&[&path]);
    let found = of(&all, "RG108");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0]
            .message
            .starts_with("Secret gitlab-runner/gitlab-runner holds a registration token"),
        "{}",
        found[0].message
    );
    assert_eq!(found[0].objects[0].kind, "Secret");
    // Every field of every finding, as the JSON report and the human table draw them.
    let json = serde_json::to_string(&all).unwrap();
    let debug = format!("{all:?}");
    for value in [TOKEN, TOKEN_BASE64, "R1IxMzQ4OTQx"] {
        assert!(!json.contains(value), "{value} in the JSON");
        assert!(!debug.contains(value), "{value} in the findings");
    }
}

/// A Secret with an authentication token and an empty registration token is the fix.
#[test]
fn rg108_is_quiet_on_a_secret_with_an_empty_registration_token() {
    let all = audit(&[&format!("{FIXTURES}/RG108/good/secret.yaml")]);
    assert!(of(&all, "RG108").is_empty(), "{:#?}", of(&all, "RG108"));
}
