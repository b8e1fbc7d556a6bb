//! RG107 by chart version (issue #8, points 2 and 5): every embedded chart's own default
//! values are clean; keys that a values file's own `runners.config` template reads are not
//! flagged; keys that one chart version reads and another does not are judged by version;
//! `runners.namespace` is reported as read only by the install notes.
//!
//! Fixtures: tests/fixtures/chart-values/<version>/values.yaml, each chart's values.yaml as
//! shipped (see PROVENANCE.md there).

#![allow(
    clippy::unwrap_used,
    clippy::missing_panics_doc,
    reason = "test helpers fail the test on any error"
)]

use std::path::{Path, PathBuf};

use runnerguard_audit::{ChartKeys, Finding, KeyUse, Selection, Setup, TopologyOptions};
use runnerguard_engine::Policy;
use runnerguard_model::{HelmValues, Inventory, SettingValue};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// RG107's findings on `inventory`, judged against `chart`.
fn rg107(inventory: Inventory, chart: ChartKeys) -> Vec<Finding> {
    let policy = Policy::new(inventory);
    let mut setup = Setup::new(
        &policy,
        &TopologyOptions::default(),
        "18.9".parse().unwrap(),
    )
    .unwrap();
    setup.chart = chart;
    let selection = Selection {
        select: vec!["RG107".to_owned()],
        ..Selection::default()
    };
    runnerguard_audit::run(&setup.context(&policy), &selection)
}

/// RG107's findings on a values file given as YAML text, read by the loader.
fn rg107_yaml(yaml: &str, version: &str) -> Vec<Finding> {
    let loaded = runnerguard_load::load_str("values.yaml", yaml).unwrap();
    assert_eq!(loaded.inventory.helm_values.len(), 1, "not read as values");
    rg107(loaded.inventory, ChartKeys::for_version(version).unwrap())
}

fn flagged(findings: &[Finding]) -> Vec<&str> {
    findings
        .iter()
        .flat_map(|f| f.locations.iter().map(|l| l.what.as_str()))
        .collect()
}

/// Issue #8, point 5: `runnerguard audit -f <the chart's own values.yaml>` reports no RG107,
/// for every embedded chart version (0.86.0's `sessionServer.ingress.enabled`, read as
/// `((.Values.sessionServer).ingress).enabled`, was flagged).
#[test]
fn every_chart_default_values_file_is_clean() {
    assert_eq!(ChartKeys::supported().len(), 12);
    for version in ChartKeys::supported() {
        let file = root().join(format!(
            "crates/runnerguard-audit/tests/fixtures/chart-values/{version}/values.yaml"
        ));
        let text = std::fs::read_to_string(&file).unwrap();
        let loaded = runnerguard_load::load_str(&file.display().to_string(), &text).unwrap();
        let values = &loaded.inventory.helm_values;
        assert_eq!(values.len(), 1, "{version}: not read as values");
        let chart = ChartKeys::for_version(version).unwrap();
        assert_eq!(chart.version, *version);
        assert_eq!(
            chart.key_use("sessionServer.ingress.enabled"),
            KeyUse::Read,
            "{version}"
        );

        // The data's record of this values.yaml matches what the loader reads from it, so
        // the generator's YAML reading is checked too.
        let recorded = std::fs::read_to_string(root().join(format!(
            "data/gitlab-runner-chart/{version}-values-yaml-keys.txt"
        )))
        .unwrap();
        let recorded: Vec<&str> = recorded
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect();
        let loaded_keys: Vec<&str> = values[0].entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(loaded_keys, recorded, "{version}");

        let findings = rg107(loaded.inventory, chart);
        assert!(
            findings.is_empty(),
            "{version}: {:?}",
            findings.iter().map(|f| &f.message).collect::<Vec<_>>()
        );
    }
}

/// The chart's default `runners.config` reads `runners.jobNamespace` through `tpl` in
/// 0.79.0–0.83.3, where no template does: the key is read there only because of that.
#[test]
fn job_namespace_is_read_through_the_default_runners_config_before_0_84() {
    const WITH_TEMPLATE: &str = r#"
runners:
  jobNamespace: teams
  config: |
    [[runners]]
      [runners.kubernetes]
        namespace = "{{ default .Release.Namespace .Values.runners.jobNamespace }}"
"#;
    const WITHOUT: &str = r#"
runners:
  jobNamespace: teams
  config: |
    [[runners]]
      [runners.kubernetes]
        namespace = "teams"
"#;
    assert!(rg107_yaml(WITH_TEMPLATE, "0.83.3").is_empty());
    assert_eq!(
        flagged(&rg107_yaml(WITHOUT, "0.83.3")),
        ["runners.jobNamespace"]
    );
    let f = &rg107_yaml(WITHOUT, "0.83.3")[0];
    assert!(f.message.contains("chart 0.83.3"), "{}", f.message);
    // 0.84.1 puts its Role and RoleBinding into `runners.jobNamespace`.
    assert!(rg107_yaml(WITHOUT, "0.84.1").is_empty());
}

/// A key one version reads and an older one does not: top-level `namespace` (0.79.0+).
#[test]
fn manager_namespace_key_is_judged_by_version() {
    const VALUES: &str = "gitlabUrl: https://gitlab.example.com/\nnamespace: ops\n";
    const MORE: &str = "rbac: {create: false}\nextraEnvFromRefs: [{secretRef: {name: s}}]\nmetrics:\n  podMonitor:\n    enabled: true\n";
    let old = rg107_yaml(VALUES, "0.77.2");
    assert_eq!(flagged(&old), ["namespace"]);
    assert!(
        old[0].message.contains("chart 0.77.2"),
        "{}",
        old[0].message
    );
    for version in ["0.79.0", "0.83.3", "0.86.0"] {
        assert!(rg107_yaml(VALUES, version).is_empty(), "{version}");
    }
    // `extraEnvFromRefs` since 0.83.1, `metrics.podMonitor` since 0.85.0.
    assert_eq!(
        flagged(&rg107_yaml(MORE, "0.82.0")),
        ["extraEnvFromRefs", "metrics.podMonitor"]
    );
    assert_eq!(flagged(&rg107_yaml(MORE, "0.84.1")), ["metrics.podMonitor"]);
    assert!(rg107_yaml(MORE, "0.85.0").is_empty());
}

/// Issue #8, point 2: Big Bang / UDS values put keys of their own at the top level and read
/// them from `runners.config`, which the chart renders with `tpl`. Those keys are read; a
/// `runners.kubernetes` block in the same file is still flagged.
#[test]
fn keys_read_by_the_values_own_runners_config_template_are_not_flagged() {
    // TOML-valid templates, so the loader reads the file today.
    const VALUES: &str = r#"
gitlabUrl: https://gitlab.example.com/
runners:
  job:
    registry: registry1.dso.mil
    image: ironbank/redhat/ubi/ubi9
  helper:
    image: registry1.dso.mil/ironbank/gitlab/gitlab-runner/gitlab-runner-helper:v18.9.0
  kubernetes:
    namespace: teams
  config: |
    [[runners]]
      [runners.kubernetes]
        image = "{{ .Values.runners.job.registry }}/{{ .Values.runners.job.image }}"
        helper_image = '{{ printf "%s" .Values.runners.helper.image }}'
        namespace = "teams"
"#;
    for version in ChartKeys::supported() {
        let findings = rg107_yaml(VALUES, version);
        assert_eq!(
            flagged(&findings),
            ["runners.kubernetes"],
            "{version}: {findings:?}"
        );
    }
}

/// The same at the rule level, with `runners.config` as Big Bang writes it: template lines
/// such as `{{- if .Values.runners.helper.enabled }}` make it invalid TOML, so the file is
/// loaded with a placeholder that is then replaced.
#[test]
fn big_bang_template_lines_read_their_keys() {
    const CONFIG: &str = r#"[[runners]]
  [runners.kubernetes]
    image = "{{ .Values.runners.job.registry }}/ubi9"
    {{- if .Values.runners.helper.enabled }}
    helper_image = "{{ printf "%s/%s" $.Values.global.registry .Values.runners.helper.image }}"
    {{- end }}
    {{- with (.Values.istio).enabled }}
    [runners.kubernetes.pod_annotations]
      "sidecar.istio.io/inject" = "true"
    {{- end }}
    {{ index .Values "monitoring" "enabled" }}
"#;
    const VALUES: &str = r#"
global:
  registry: registry1.dso.mil
istio:
  enabled: true
  hardened:
    enabled: true
monitoring:
  enabled: false
networkPolicies:
  enabled: true
runners:
  job:
    registry: registry1.dso.mil
  helper:
    enabled: true
    image: gitlab-runner-helper:v18.9.0
  kubernetes:
    namespace: teams
  config: "[[runners]]"  # replaced below
"#;
    let mut loaded = runnerguard_load::load_str("bigbang-values.yaml", VALUES).unwrap();
    let values: &mut HelmValues = &mut loaded.inventory.helm_values[0];
    let config = values
        .entries
        .iter_mut()
        .find(|e| e.key == "runners.config")
        .unwrap();
    config.value = SettingValue::String(CONFIG.to_owned());

    let chart = ChartKeys::for_version("0.86.0").unwrap();
    let read = chart.with_tpl_reads(values);
    for key in [
        "global.registry",
        "runners.job.registry",
        "runners.helper.enabled",
        "runners.helper.image",
        "istio.enabled",
        "istio.hardened.enabled", // below `istio`, read by `(.Values.istio)`
        "monitoring.enabled",
    ] {
        assert_eq!(chart.key_use(key), KeyUse::Ignored, "{key} before");
        assert_eq!(read.key_use(key), KeyUse::Read, "{key}");
    }
    assert_eq!(read.key_use("runners.kubernetes"), KeyUse::Ignored);

    let findings = rg107(loaded.inventory, chart);
    assert_eq!(
        flagged(&findings),
        ["networkPolicies", "runners.kubernetes"],
        "{findings:?}"
    );
}

/// `runners.namespace`: in every embedded chart only templates/NOTES.txt reads it; the
/// message says so and names the version.
#[test]
fn runners_namespace_is_reported_as_notes_only_with_the_version() {
    const VALUES: &str = r#"
runners:
  namespace: teams
  config: |
    [[runners]]
      [runners.kubernetes]
        namespace = "teams"
"#;
    for version in ChartKeys::supported() {
        let findings = rg107_yaml(VALUES, version);
        assert_eq!(flagged(&findings), ["runners.namespace"], "{version}");
        let f = &findings[0];
        assert!(
            f.message.contains(&format!("chart {version}"))
                && f.message.contains("NOTES.txt")
                && f.message.contains("nothing to the cluster"),
            "{}",
            f.message
        );
        assert!(
            path(f).iter().any(|p| p.contains("KUBERNETES_NAMESPACE")),
            "{:?}",
            f.evidence
        );
        assert!(!f.message.contains("switch"), "old wording: {}", f.message);
    }
}

/// An unknown chart version is judged against the nearest embedded one, and the finding
/// says so.
#[test]
fn nearest_version_is_named_in_the_finding() {
    let chart = ChartKeys::nearest("0.90.0");
    assert_eq!(chart.version, "0.86.0");
    let loaded = runnerguard_load::load_str(
        "values.yaml",
        "runners:\n  kubernetes:\n    namespace: teams\n",
    )
    .unwrap();
    let findings = rg107(loaded.inventory, chart);
    assert_eq!(findings.len(), 1);
    assert!(findings[0].message.contains("chart 0.86.0"));
    assert!(
        path(&findings[0])
            .iter()
            .any(|p| p.contains("0.90.0") && p.contains("nearest")),
        "{:?}",
        findings[0].evidence
    );
}

/// The evidence of `f` as the report words it, one line per entry.
fn path(f: &Finding) -> Vec<String> {
    runnerguard_report::evidence::lines(&f.evidence)
        .into_iter()
        .map(|l| l.text)
        .collect()
}
