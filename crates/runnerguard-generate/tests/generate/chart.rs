//! The generated values against the chart's real output (fixtures/chart-0.86.0/, rendered
//! with `helm template` from chart 0.86.0): the chart copies `runners.config` verbatim into the
//! ConfigMap key `config.template.toml` and runs the manager as `serviceAccount.name`, so the
//! generated values render to a runner configuration with the job namespace and ServiceAccount,
//! and a manager Deployment running as the generated manager ServiceAccount.

use serde_json::Value;

use crate::{documents, file, files};

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(root().join("fixtures/chart-0.86.0").join(name)).unwrap()
}

fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, k| &v[k])
}

/// The chart renders `runners.config` verbatim as `config.template.toml`, and the manager
/// Deployment's ServiceAccount is `serviceAccount.name`: shown by the real rendering.
#[test]
fn chart_renders_runners_config_verbatim_and_runs_as_the_named_service_account() {
    let values = &documents(&fixture("values-corrected.yaml"))[0];
    let rendered = documents(&fixture("rendered-corrected-values.yaml"));
    let config_map = rendered.iter().find(|d| d["kind"] == "ConfigMap").unwrap();
    assert_eq!(
        config_map["data"]["config.template.toml"].as_str().unwrap(),
        at(values, "runners.config").as_str().unwrap()
    );
    let deployment = rendered.iter().find(|d| d["kind"] == "Deployment").unwrap();
    assert_eq!(
        at(deployment, "spec.template.spec.serviceAccountName"),
        at(values, "serviceAccount.name")
    );
}

/// So the generated values, rendered, set the job namespace and ServiceAccount and run the
/// manager as its own ServiceAccount.
#[test]
fn generated_values_render_the_job_namespace_and_service_accounts() {
    let files = files(&runnerguard_generate::default_config());
    let values = &documents(file(&files, "teams/values.yaml"))[0];
    let toml: toml::Table = at(values, "runners.config")
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let kube = &toml["runners"][0]["kubernetes"];
    assert_eq!(kube["namespace"].as_str(), Some("teams"));
    assert_eq!(kube["service_account"].as_str(), Some("ci-job"));
    assert_eq!(
        kube["automount_service_account_token"].as_bool(),
        Some(false)
    );
    assert_eq!(at(values, "serviceAccount.name"), "gitlab-runner");
    assert_eq!(at(values, "serviceAccount.create"), false);
    assert_eq!(at(values, "rbac.create"), false);
    assert_eq!(at(values, "runners.secret"), "gitlab-runner-token");
    // The same shape as the values known to render right.
    let known = &documents(&fixture("values-corrected.yaml"))[0];
    for key in [
        "gitlabUrl",
        "serviceAccount.name",
        "rbac.create",
        "runners.secret",
        "runners.jobNamespace",
        "runners.config",
    ] {
        assert!(
            !at(known, key).is_null() && !at(values, key).is_null(),
            "{key}"
        );
    }
    let manager = documents(file(&files, "teams/manager-service-account.yaml"));
    assert!(
        manager
            .iter()
            .any(|d| d["kind"] == "ServiceAccount" && d["metadata"]["name"] == "gitlab-runner")
    );
}
