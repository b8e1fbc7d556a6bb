//! Chart values are audited as the chart renders them: with the real chart through helm, and
//! with the built-in model, which must agree with helm on every finding.
//!
//! Helm comes from `RUNNERGUARD_HELM` (`scripts/install-tools.sh` installs Helm 4.1.4 into
//! target/tools/bin; `.ci/run` sets the variable). Without it the differential tests fail in CI
//! (`CI` set) and are skipped elsewhere with a message saying how to get helm.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::{run, run_with_stdin};

/// The helm binary for differential tests, or `None` (skipped) outside CI.
#[allow(
    clippy::print_stderr,
    reason = "a skipped test says why, where cargo test shows it"
)]
fn helm() -> Option<String> {
    match std::env::var("RUNNERGUARD_HELM") {
        Ok(p) if !p.is_empty() => {
            let path = if PathBuf::from(&p).is_absolute() {
                PathBuf::from(&p)
            } else {
                std::env::current_dir().unwrap().join(&p)
            };
            assert!(path.is_file(), "RUNNERGUARD_HELM={p} is not a file");
            Some(path.display().to_string())
        }
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "RUNNERGUARD_HELM is not set: CI must run scripts/install-tools.sh and set it"
            );
            eprintln!(
                "skipped: set RUNNERGUARD_HELM to a helm binary (bash scripts/install-tools.sh installs one into target/tools/bin)"
            );
            None
        }
    }
}

/// The audit's findings as comparable keys: rule, severity and the objects they name (kind,
/// namespace, name). Files and lines differ between the two renderings by design.
fn findings(json: &Value) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for f in json["findings"].as_array().unwrap() {
        let mut objects: Vec<String> = f["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| format!("{}/{}/{}", o["kind"], o["namespace"], o["name"]))
            .collect();
        objects.sort();
        let key = format!(
            "{} {} [{}]",
            f["rule"].as_str().unwrap(),
            f["severity"].as_str().unwrap(),
            objects.join(", ")
        );
        *out.entry(key).or_default() += 1;
    }
    out
}

fn topologies(json: &Value) -> Value {
    let mut t = json["topologies"].clone();
    for topology in t.as_array_mut().unwrap() {
        // Evidence names files and lines of the rendering.
        topology.as_object_mut().unwrap().remove("evidence");
    }
    t
}

fn audit_json(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["audit", "-o", "json"];
    all.extend_from_slice(args);
    let r = run(&all);
    assert!(
        r.code == 0 || r.code == 1,
        "{:?} exited {}: {}",
        all,
        r.code,
        r.stderr
    );
    (r.code, serde_json::from_str(&r.stdout).unwrap())
}

/// Audits `values` (paths relative to the workspace root) rendered by helm and by the model,
/// and requires the same findings and topology.
fn agree(helm: &str, values: &[&str], extra: &[&str]) {
    let mut args: Vec<&str> = values.iter().flat_map(|v| ["--values", v]).collect();
    args.extend_from_slice(extra);
    agree_args(helm, &args);
}

/// [`agree`] for any `audit` arguments.
fn agree_args(helm: &str, args: &[&str]) {
    let mut with_helm = args.to_vec();
    with_helm.extend_from_slice(&["--helm", helm]);
    let mut with_model = args.to_vec();
    with_model.push("--no-helm");
    let (code_h, h) = audit_json(&with_helm);
    let (code_m, m) = audit_json(&with_model);
    assert!(
        h["inputs"].to_string().contains("rendered by helm"),
        "{}",
        h["inputs"]
    );
    assert!(m["inputs"].to_string().contains("modelled without helm"));
    assert_eq!(
        findings(&h),
        findings(&m),
        "helm and the model disagree on the findings for {args:?}"
    );
    assert_eq!(topologies(&h), topologies(&m), "topology for {args:?}");
    assert_eq!(code_h, code_m);
}

/// The rule ids of the findings, in report order.
fn rules(json: &Value) -> Vec<&str> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect()
}

const CORPUS: &[&str] = &[
    "examples/seed/02-final-values.yaml",
    "fixtures/chart-0.86.0/values-corrected.yaml",
    "fixtures/chart-0.86.0/values-corrected-chart-rbac.yaml",
    "fixtures/real-world/bigbang-values.yaml",
    "fixtures/real-world/rbac-rules-values.yaml",
    "fixtures/real-world/wildcard-values.yaml",
    "fixtures/real-world/envvars-values.yaml",
];

#[test]
fn helm_and_model_agree_on_the_corpus() {
    let Some(helm) = helm() else { return };
    for chart in ["0.77.2", "0.84.1", "0.86.0"] {
        for values in CORPUS {
            agree(&helm, &[values], &["--chart-version", chart]);
        }
    }
}

#[test]
fn helm_and_model_agree_on_every_charts_own_defaults() {
    let Some(helm) = helm() else { return };
    let dir = tempfile::tempdir().unwrap();
    for chart in runnerguard_chart::CHARTS {
        let path = dir.path().join(format!("values-{}.yaml", chart.version));
        std::fs::write(&path, chart.file("values.yaml").unwrap()).unwrap();
        let path = path.display().to_string();
        agree(&helm, &[&path], &["--chart-version", chart.version]);
    }
}

/// Generated variations of what the chart's templates branch on.
#[test]
fn helm_and_model_agree_on_generated_variations() {
    let Some(helm) = helm() else { return };
    let dir = tempfile::tempdir().unwrap();
    let runner_config = "[[runners]]\n  [runners.kubernetes]\n    image = \"alpine\"\n";
    let templated_config = "[[runners]]\n  [runners.kubernetes]\n    namespace = \"{{ .Values.runners.jobNamespace }}\"\n    privileged = {{ .Values.runners.priv | default false }}\n";
    let mut n = 0;
    for rbac in [
        json!({}),
        json!({"rbac": {"create": true}}),
        json!({"rbac": {"create": true, "clusterWideAccess": true}}),
        json!({"rbac": {"create": true, "rules": [
            {"resources": ["pods", "pods/exec"]},
            {"apiGroups": ["apps"], "verbs": ["get"]},
        ]}}),
    ] {
        for sa in [
            json!({}),
            json!({"serviceAccount": {"create": false}}),
            json!({"serviceAccount": {"create": true, "name": "runner-sa"}}),
            json!({"serviceAccount": {"name": ""}, "rbac": {"serviceAccountName": "legacy-sa"}}),
        ] {
            for runners in [
                json!({}),
                json!({"runners": {"jobNamespace": "teams"}}),
                json!({"runners": {"config": runner_config}}),
                json!({"namespace": "other", "runners": {"jobNamespace": "teams", "config": templated_config}}),
            ] {
                for env in [
                    json!({}),
                    json!({
                        "envVars": [{"name": "KUBERNETES_PRIVILEGED", "value": "true"}],
                        "extraEnv": {"KUBERNETES_NAMESPACE_OVERWRITE_ALLOWED": ".*"},
                    }),
                ] {
                    // Merged as Helm merges values files: `rbac` may come from two pieces.
                    let mut values = json!({"gitlabUrl": "https://gitlab.example.com"});
                    for piece in [&sa, &runners, &env, &rbac] {
                        runnerguard_chart::coalesce(&mut values, piece);
                    }
                    // JSON is YAML: the values file as Helm and runnerguard read it.
                    let path = dir.path().join(format!("v{n}.json"));
                    std::fs::write(&path, values.to_string()).unwrap();
                    let path = path.display().to_string();
                    for chart in ["0.77.2", "0.86.0"] {
                        agree(
                            &helm,
                            &[&path],
                            &[
                                "--chart-version",
                                chart,
                                "--release-namespace",
                                "ci-runners",
                            ],
                        );
                    }
                    n += 1;
                }
            }
        }
    }
    assert_eq!(n, 128);
}

#[test]
fn two_values_files_are_one_release_merged_as_helm_merges() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(
        &a,
        "gitlabUrl: https://g\nrbac:\n  create: false\nrunners:\n  jobNamespace: teams\n",
    )
    .unwrap();
    std::fs::write(&b, "rbac:\n  create: true\n").unwrap();
    let (_, json) = audit_json(&[
        "--values",
        &a.display().to_string(),
        "--values",
        &b.display().to_string(),
    ]);
    assert_eq!(
        json["topologies"].as_array().unwrap().len(),
        1,
        "{}",
        json["topologies"]
    );
    // b's rbac.create wins over a's, a's jobNamespace stays: the wildcard Role is in `teams`.
    let rg102 = rules(&json).iter().filter(|r| **r == "RG102").count();
    assert_eq!(
        rg102, 0,
        "the `*` Role grants everything the executor needs: {json}"
    );
    assert!(rules(&json).contains(&"RG103"), "{json}");
}

#[test]
fn chart_rbac_from_values_is_modelled() {
    // rbac.create with the chart's default (empty) rules: the manager gets `*` on the core
    // group in its job namespace. Jobs will not fail for lack of rights (no RG102), and what
    // the Role allows is reported.
    let (code, json) = audit_json(&["-f", "fixtures/real-world/wildcard-values.yaml"]);
    assert_eq!(code, 1);
    let ids = rules(&json);
    assert!(!ids.contains(&"RG102"), "{ids:?}");
    assert!(ids.contains(&"RG113"), "{ids:?}");
    assert!(ids.contains(&"RG103"), "{ids:?}");
    // `*` on the core group includes `serviceaccounts/token` create.
    assert!(ids.contains(&"RB006"), "{ids:?}");
    assert!(!json.to_string().contains("glrt-not-a-real-token"));
    // Cluster-wide rules with resourceNames: the chart drops resourceNames.
    let (_, json) = audit_json(&["-f", "fixtures/real-world/rbac-rules-values.yaml"]);
    let ids = rules(&json);
    // The rendered ClusterRole grants pods, exec and attach: only `events` is missing.
    for f in json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "RG102")
    {
        let m = f["message"].as_str().unwrap();
        assert!(m.contains("events") && !m.contains("pods"), "{m}");
    }
    assert!(ids.contains(&"RB004"), "{ids:?}");
    let topology = &json["topologies"][0];
    assert_eq!(topology["jobs"][0]["namespace"], "ci");
}

#[test]
fn templated_runner_config_renders_instead_of_aborting() {
    let (_, json) = audit_json(&["-f", "fixtures/real-world/bigbang-values.yaml"]);
    let topology = &json["topologies"][0];
    assert_eq!(topology["jobs"][0]["namespace"], "ci-jobs", "{topology}");
    assert_eq!(
        topology["jobs"][0]["serviceAccount"], "ci-job",
        "{topology}"
    );
    // A manifest given beside it is still audited.
    let (_, json) = audit_json(&[
        "-f",
        "fixtures/real-world/bigbang-values.yaml",
        "-f",
        "fixtures/real-world/dashboard-rbac.yaml",
    ]);
    assert!(json["findings"].is_array());
}

#[test]
fn env_vars_of_the_manager_override_the_toml() {
    let (_, json) = audit_json(&["-f", "fixtures/real-world/envvars-values.yaml"]);
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "RG111"
                && f["message"]
                    .as_str()
                    .unwrap()
                    .contains("KUBERNETES_PRIVILEGED")),
        "{json}"
    );
}

#[test]
fn no_runner_in_the_inputs_runs_only_rbac_rules() {
    for input in [
        "fixtures/real-world/dashboard-rbac.yaml",
        "fixtures/real-world/docker-only-config.toml",
    ] {
        let (_, json) = audit_json(&["-f", input]);
        assert_eq!(json["runnerFound"], false, "{input}");
        assert_eq!(json["topologies"], Value::Array(vec![]), "{input}");
        assert!(
            rules(&json).iter().all(|r| r.starts_with("RB")),
            "{input}: {json}"
        );
        assert!(
            json["inputs"]
                .to_string()
                .contains("no GitLab Runner found")
        );
    }
    // The same RBAC with topology flags is checked as a runner setup.
    let (_, json) = audit_json(&[
        "-f",
        "fixtures/real-world/dashboard-rbac.yaml",
        "--runner-namespace",
        "kubernetes-dashboard",
        "--job-namespace",
        "kubernetes-dashboard",
    ]);
    assert_eq!(json["runnerFound"], true);
    assert!(rules(&json).contains(&"RG101"));
}

#[test]
fn empty_stdin_is_an_error() {
    let r = run_with_stdin(&["audit", "-f", "-"], Some(""));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("standard input"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}

#[test]
fn helm_failures_and_unknown_versions_are_clear_errors() {
    let r = run(&[
        "audit",
        "--values",
        "fixtures/real-world/wildcard-values.yaml",
        "--chart-version",
        "0.40.0",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("0.40.0") && r.stderr.contains("0.86.0"),
        "{}",
        r.stderr
    );
    let r = run(&[
        "audit",
        "--values",
        "fixtures/real-world/wildcard-values.yaml",
        "--chart",
        "fixtures/",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("needs helm"), "{}", r.stderr);
    if let Some(helm) = helm() {
        // A chart path that is no chart: helm's own message, exit 2.
        let r = run(&[
            "audit",
            "--values",
            "fixtures/real-world/wildcard-values.yaml",
            "--chart",
            "fixtures/real-world",
            "--helm",
            &helm,
        ]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.contains("helm template failed"), "{}", r.stderr);
        assert!(!r.stderr.contains("glrt-not-a-real-token"));
    }
}

#[test]
fn gitops_wrappers_are_read_not_dropped() {
    // Argo CD: inline values string, `parameters` (rbac.create=true), destination namespace,
    // releaseName and targetRevision (0.84.1) all reach the rendering.
    let (_, json) = audit_json(&["-f", "fixtures/real-world/argocd-application.yaml"]);
    assert_eq!(json["chartVersion"], "0.84.1");
    let t = &json["topologies"][0];
    assert_eq!(t["managerNamespace"], "ci-runners", "{t}");
    assert_eq!(t["managerServiceAccount"], "runner-gitlab-runner", "{t}");
    let ids = rules(&json);
    for rule in ["RG101", "RG113", "RG111"] {
        assert!(ids.contains(&rule), "{rule}: {ids:?}");
    }
    // Flux: spec.values, targetNamespace, and the ignored `runners.kubernetes` still flagged.
    let (_, json) = audit_json(&["-f", "fixtures/real-world/flux-helmrelease.yaml"]);
    let t = &json["topologies"][0];
    assert_eq!(t["managerNamespace"], "gitlab-runner", "{t}");
    assert_eq!(t["jobs"][0]["namespace"], "ci", "{t}");
    assert!(rules(&json).contains(&"RG107"));
    // OpenShift Template: its objects are audited.
    let r = run(&[
        "audit",
        "-o",
        "json",
        "-f",
        "fixtures/real-world/openshift-template.yaml",
    ]);
    assert!(r.stderr.contains("not substituted"), "{}", r.stderr);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(rules(&json).contains(&"RB001"));
}

#[test]
fn helm_and_model_agree_on_wrappers() {
    let Some(helm) = helm() else { return };
    for file in [
        "fixtures/real-world/argocd-application.yaml",
        "fixtures/real-world/flux-helmrelease.yaml",
    ] {
        agree_args(&helm, &["-f", file]);
    }
}

#[test]
fn values_under_an_umbrella_alias_need_values_key_and_get_a_hint() {
    let file = "fixtures/real-world/umbrella-upstream-values.yaml";
    // Without --values-key: no runner is invented, and the warning names the key to give.
    let r = run(&["audit", "-o", "json", "-f", file]);
    assert!(
        r.stderr.contains("`upstream:`") && r.stderr.contains("--values-key upstream"),
        "{}",
        r.stderr
    );
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(json["runnerFound"], false, "{json}");
    // With it: the values under `upstream:` are the release's values.
    let (_, json) = audit_json(&["-f", file, "--values-key", "upstream"]);
    let t = &json["topologies"][0];
    assert_eq!(t["jobs"][0]["namespace"], "ci-jobs", "{t}");
    assert_eq!(t["jobs"][0]["serviceAccount"], "ci-job", "{t}");
    // The same release as the plain values file gives.
    let (_, plain) = audit_json(&["-f", "fixtures/real-world/bigbang-values.yaml"]);
    assert_eq!(findings(&json), findings(&plain));
    assert_eq!(topologies(&json), topologies(&plain));
    // Helm renders the nested values the same way.
    if let Some(helm) = helm() {
        agree_args(&helm, &["-f", file, "--values-key", "upstream"]);
    }
}

/// The default setup written by `generate` into a temporary directory.
fn generated_setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("setup");
    let r = run(&["generate", "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    dir
}

#[test]
fn an_unreadable_file_leaves_the_audit_incomplete_not_stopped() {
    let dir = generated_setup();
    let setup = dir.path().join("setup");
    let setup = setup.to_str().unwrap();
    let (code, json) = audit_json(&["-f", setup]);
    assert_eq!((code, &json["complete"]), (0, &json!(true)), "{json}");

    // A malformed file beside it: the rest is audited, the file named, the run fails.
    std::fs::write(
        dir.path().join("setup/zz-bad.yaml"),
        "kind: ClusterRoleBinding\n  bad: [\n",
    )
    .unwrap();
    let r = run(&["audit", "-o", "json", "-f", setup]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(json["complete"], false);
    assert_eq!(json["summary"]["failed"], true);
    assert_eq!(json["runnerFound"], true);
    let unreadable = json["unreadable"][0].as_str().unwrap();
    assert!(
        unreadable.ends_with(
            "zz-bad.yaml:2:6: invalid YAML: mapping values are not allowed in this context"
        ),
        "{unreadable}"
    );
    assert!(
        r.stderr.contains("the report is incomplete"),
        "{}",
        r.stderr
    );
    let human = run(&["audit", "-f", setup]);
    assert_eq!(human.code, 1);
    assert!(
        human.stdout.contains("Not read: the audit is incomplete")
            && human.stdout.contains("fails: 1 input problem"),
        "{}",
        human.stdout
    );

    // Nothing readable at all: the audit could not do its job.
    let bad = dir.path().join("setup/zz-bad.yaml");
    let r = run(&["audit", "-f", bad.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // can-i answers from all of the inputs or not at all.
    let r = run(&["can-i", "get", "pods", "--as", "x", "-f", setup]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn load_problems_are_capped_and_counted() {
    let dir = generated_setup();
    let bad = (0..250).fold(String::new(), |mut s, i| {
        let _ = write!(
            s,
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: [{i}]}}\n---\n"
        );
        s
    });
    std::fs::write(dir.path().join("setup/zz-many.yaml"), bad).unwrap();
    let r = run(&[
        "audit",
        "-o",
        "json",
        "-f",
        dir.path().join("setup").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    let unreadable = json["unreadable"].as_array().unwrap();
    assert_eq!(unreadable.len(), 101, "{unreadable:?}");
    assert_eq!(unreadable[100], "... and 150 more problems not shown");
    assert!(r.stderr.contains("250 input problems"), "{}", r.stderr);
}

/// The evidence line that says where the runner version came from.
fn version_evidence(json: &Value) -> String {
    json["topologies"][0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["fact"].as_str().unwrap().starts_with("GitLab Runner "))
        .map(|e| {
            format!(
                "{}: {}",
                e["fact"].as_str().unwrap(),
                e["source"].as_str().unwrap()
            )
        })
        .unwrap_or_default()
}

#[test]
fn runner_version_comes_from_the_image_tag_then_the_charts_app_version() {
    let dir = tempfile::tempdir().unwrap();
    let values = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let base = "gitlabUrl: https://gitlab.example.com\nrunners:\n  config: |\n    [[runners]]\n      [runners.kubernetes]\n        namespace = \"ci\"\n";
    // The chart's default image: the chart's appVersion (0.77.2 installs runner 18.0.2).
    let plain = values("plain.yaml", base);
    let (_, json) = audit_json(&["-f", &plain, "--chart-version", "0.77.2"]);
    assert_eq!(json["runnerVersion"], "18.0", "{}", version_evidence(&json));
    assert!(version_evidence(&json).contains("image tag `alpine-v18.0.2`"));
    let (_, json) = audit_json(&["-f", &plain]);
    assert_eq!(json["runnerVersion"], "18.9", "{}", version_evidence(&json));
    // An image tag in the values wins over the chart's appVersion.
    let tagged = values(
        "tagged.yaml",
        &format!("{base}image:\n  tag: alpine3.19-v18.4.1\n"),
    );
    let (_, json) = audit_json(&["-f", &tagged]);
    assert_eq!(json["runnerVersion"], "18.4");
    // Nothing names a version (a config.toml alone): the runner of the default chart, the
    // one `generate` targets, not a newer one the permission data also knows.
    let toml = values(
        "config.toml",
        "[[runners]]\nexecutor = \"kubernetes\"\n[runners.kubernetes]\nnamespace = \"ci\"\n",
    );
    let (_, json) = audit_json(&["-f", &toml]);
    let default = runnerguard_model::versions::DEFAULT_CHART;
    assert_eq!(
        json["runnerVersion"],
        runnerguard_model::versions::DEFAULT_RUNNER.to_string(),
        "{}",
        version_evidence(&json)
    );
    assert!(
        version_evidence(&json).contains(&format!("the runner chart {} installs", default.version)),
        "{}",
        version_evidence(&json)
    );
    // --runner-version wins over everything.
    let (_, json) = audit_json(&["-f", &tagged, "--runner-version", "18.11"]);
    assert_eq!(json["runnerVersion"], "18.11");
    assert!(version_evidence(&json).contains("--runner-version"));
    // A tag without a version falls back to the chart's appVersion.
    let latest = values("latest.yaml", &format!("{base}image:\n  tag: latest\n"));
    let (_, json) = audit_json(&["-f", &latest, "--chart-version", "0.84.1"]);
    assert_eq!(json["runnerVersion"], "18.7", "{}", version_evidence(&json));
    assert!(version_evidence(&json).contains("appVersion of chart 0.84.1"));
    // Older than any table this build has: checked against the oldest, and said so.
    let old = values(
        "old.yaml",
        &format!("{base}image:\n  tag: alpine-v16.11.0\n"),
    );
    let (_, json) = audit_json(&["-f", &old]);
    assert_eq!(json["runnerVersion"], "17.0");
    assert!(
        version_evidence(&json).contains("says 16.11, older than any this build knows"),
        "{}",
        version_evidence(&json)
    );
}

/// `helm template` output carries no release for runnerguard to read: the manager's
/// `chart: gitlab-runner-X` label names the chart, its image the runner.
#[test]
fn rendered_output_names_its_chart_and_runner_in_labels_and_image() {
    let deployment = r"apiVersion: apps/v1
kind: Deployment
metadata:
  name: gitlab-runner
  namespace: gitlab-runner
  labels: {app: gitlab-runner, chart: gitlab-runner-0.79.0}
spec:
  selector: {matchLabels: {app: gitlab-runner}}
  template:
    metadata:
      labels: {app: gitlab-runner, chart: gitlab-runner-0.79.0}
    spec:
      serviceAccountName: gitlab-runner
      containers:
        - name: gitlab-runner
          image: registry.gitlab.com/gitlab-org/gitlab-runner:IMAGE_TAG
";
    let r = run_with_stdin(
        &["audit", "-o", "json", "-f", "-"],
        Some(&deployment.replace("IMAGE_TAG", "alpine-v18.2.0")),
    );
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(json["chartVersion"], "0.79.0", "{}", r.stdout);
    assert_eq!(json["runnerVersion"], "18.2");
    let r = run_with_stdin(
        &["audit", "-o", "json", "-f", "-"],
        Some(&deployment.replace("IMAGE_TAG", "bleeding")),
    );
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(json["runnerVersion"], "18.2", "{}", version_evidence(&json));
    assert!(version_evidence(&json).contains("appVersion of chart 0.79.0"));
    // The real chart through helm: the rendered stream alone names both.
    if let Some(helm) = helm() {
        let chart = root_path("data/charts/gitlab-runner/gitlab-runner-0.81.0.tgz");
        let rendered = std::process::Command::new(&helm)
            .args(["template", "gitlab-runner", &chart, "--namespace", "ci"])
            .env(
                "HELM_CACHE_HOME",
                std::env::temp_dir().join("rg-helm-cache"),
            )
            .env(
                "HELM_CONFIG_HOME",
                std::env::temp_dir().join("rg-helm-config"),
            )
            .env("HELM_DATA_HOME", std::env::temp_dir().join("rg-helm-data"))
            .output()
            .unwrap();
        assert!(
            rendered.status.success(),
            "{}",
            String::from_utf8_lossy(&rendered.stderr)
        );
        let r = run_with_stdin(
            &["audit", "-o", "json", "-f", "-"],
            Some(&String::from_utf8(rendered.stdout).unwrap()),
        );
        let json: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(json["chartVersion"], "0.81.0");
        assert_eq!(json["runnerVersion"], "18.4");
    }
}

fn root_path(rel: &str) -> String {
    super::root().join(rel).display().to_string()
}

#[test]
fn placeholder_names_are_reported_as_placeholders() {
    let (_, json) = audit_json(&["-f", "fixtures/real-world/placeholders.yaml"]);
    let inputs: Vec<&str> = json["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    for (name, kind) in [
        ("`{{ .Release.Namespace }}`", "Helm/Go template expression"),
        ("`###ZARF_VAR_RUNNER_NS###`", "Zarf variable"),
        (
            "`${JOB_NAMESPACE}`",
            "envsubst or Flux post-build substitution",
        ),
    ] {
        assert!(
            inputs
                .iter()
                .any(|n| n.starts_with(name) && n.contains(kind) && n.contains("not a name")),
            "{name}: {inputs:?}"
        );
    }
    // Ordinary names are not placeholders.
    let (_, json) = audit_json(&["-f", "examples/seed/"]);
    assert!(
        !json["inputs"].to_string().contains("not a name"),
        "{}",
        json["inputs"]
    );
}

/// Runner entries that share a job namespace give one job target, wherever they stand.
#[test]
fn job_targets_are_listed_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let entry = |name: &str, ns: &str| {
        format!(
            "[[runners]]\n  name = \"{name}\"\n  executor = \"kubernetes\"\n  [runners.kubernetes]\n    namespace = \"{ns}\"\n"
        )
    };
    let text = [entry("a", "ci-a"), entry("b", "ci-b"), entry("c", "ci-a")].concat();
    std::fs::write(&config, text).unwrap();
    let (_, json) = audit_json(&["-f", config.to_str().unwrap()]);
    let jobs: Vec<&str> = json["topologies"][0]["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(jobs, ["ci-a", "ci-b"]);
}

/// An umbrella chart installed by Flux: `spec.values.upstream` holds the runner's values.
#[test]
fn umbrella_values_in_a_gitops_wrapper_need_values_key_and_get_a_hint() {
    let file = "fixtures/real-world/flux-umbrella-helmrelease.yaml";
    let r = run(&["audit", "-o", "json", "-f", file]);
    assert!(
        r.stderr
            .contains("its `upstream:` holds what looks like them")
            && r.stderr.contains("--values-key upstream"),
        "{}",
        r.stderr
    );
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(json["runnerFound"], false);
    let (_, json) = audit_json(&["-f", file, "--values-key", "upstream"]);
    let t = &json["topologies"][0];
    assert_eq!(t["managerNamespace"], "gitlab-runner", "{t}");
    assert_eq!(t["jobs"][0]["namespace"], "ci-jobs", "{t}");
    if let Some(helm) = helm() {
        agree_args(&helm, &["-f", file, "--values-key", "upstream"]);
    }
}
