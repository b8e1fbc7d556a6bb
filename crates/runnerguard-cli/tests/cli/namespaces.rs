//! Namespace-less namespaced objects are checked where they could land (issue #9 E7).
//!
//! A Role or RoleBinding without `metadata.namespace` goes wherever it is applied:
//! `kubectl apply -n NS`, Helm's release namespace, Argo CD's destination. Read only into
//! `default`, a grant of the runner manager's Secrets to the jobs passed a critical gate.

use serde_json::Value;

use super::run;

/// A Role reading Secrets and its RoleBinding to the generated setup's job ServiceAccount,
/// neither naming a namespace.
const UNNAMESPACED: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: ci-read-config
rules:
  - apiGroups: [""]
    resources: ["secrets"]
    verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: ci-read-config
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ci-read-config}
subjects:
  - kind: ServiceAccount
    name: ci-job
    namespace: teams
"#;

/// The generated default setup with the file above added.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("setup");
    let r = run(&["generate", "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::write(out.join("zz-unnamespaced.yaml"), UNNAMESPACED).unwrap();
    dir
}

fn audit(dir: &tempfile::TempDir, extra: &[&str]) -> (i32, Value) {
    let setup = dir.path().join("setup");
    let mut args = vec![
        "audit",
        "-o",
        "json",
        "--fail-on",
        "critical",
        "-f",
        setup.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let r = run(&args);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    (r.code, serde_json::from_str(&r.stdout).unwrap())
}

/// Whether a finding of `rule` names the manager namespace `gitlab-runner`.
fn reaches_manager(json: &Value) -> bool {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "RG104" && f["message"].as_str().unwrap().contains("`gitlab-runner`"))
}

#[test]
fn unnamespaced_grants_are_checked_in_every_namespace_they_could_land_in() {
    let dir = setup();
    let (code, json) = audit(&dir, &[]);
    assert!(reaches_manager(&json), "{json}");
    assert_eq!(code, 1, "a critical gate must fail");
    let inputs = json["inputs"].to_string();
    assert!(
        inputs.contains("Role `ci-read-config`")
            && inputs.contains("name no namespace: checked in `default`, `gitlab-runner`, `teams`")
            && inputs.contains("give -n NAMESPACE"),
        "{inputs}"
    );
}

#[test]
fn namespace_flag_places_them_as_kubectl_apply_n_does() {
    let dir = setup();
    // Applied into the manager's namespace: the jobs read its Secrets.
    let (code, json) = audit(&dir, &["-n", "gitlab-runner"]);
    assert!(reaches_manager(&json), "{json}");
    assert_eq!(code, 1);
    // Applied into the job namespace: nothing reaches the manager, and no guessing note.
    let (code, json) = audit(&dir, &["--namespace", "teams"]);
    assert!(!reaches_manager(&json), "{json}");
    assert_eq!(code, 0, "{}", json["findings"]);
    assert!(!json["inputs"].to_string().contains("name no namespace"));
    // Only the namespace-less objects move: the generated ones keep theirs.
    assert_eq!(json["topologies"][0]["managerNamespace"], "gitlab-runner");
}

#[test]
fn without_a_runner_they_stay_in_default_and_the_report_asks_for_n() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rbac.yaml");
    std::fs::write(&file, UNNAMESPACED).unwrap();
    let r = run(&["audit", "-o", "json", "-f", file.to_str().unwrap()]);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        json["inputs"]
            .to_string()
            .contains("checked in `default` only, where `kubectl apply` without -n puts them; give -n NAMESPACE"),
        "{}",
        json["inputs"]
    );
}

/// Placed by `-n`, a RoleBinding without a namespace replaces the one of the same name given
/// in that namespace, as a later `kubectl apply -n` would, with or without the default
/// policy: the replaced binding's grant (token requests, RB006) is gone and the replacement
/// is warned of.
#[test]
fn a_binding_placed_by_n_replaces_the_one_of_its_name_with_or_without_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rbac.yaml");
    let binding = |namespace: &str, subject: &str, role: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: x{namespace}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}\nsubjects: [{{kind: ServiceAccount, name: {subject}, namespace: team}}]\n"
        )
    };
    let text = [
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: token-maker}\nrules: [{apiGroups: [''], resources: [serviceaccounts/token], verbs: [create]}]\n".to_owned(),
        binding(", namespace: team", "first", "token-maker"),
        binding("", "second", "token-maker"),
    ]
    .join("---\n");
    std::fs::write(&file, text).unwrap();
    for extra in [&[][..], &["--no-default-roles"][..]] {
        let mut args = vec![
            "audit",
            "-o",
            "json",
            "-n",
            "team",
            "-f",
            file.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let r = run(&args);
        assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
        assert!(
            r.stderr.contains("RoleBinding `team/x` defined again"),
            "{extra:?}: {}",
            r.stderr
        );
        let json: Value = serde_json::from_str(&r.stdout).unwrap();
        let messages = json["findings"].to_string();
        assert!(messages.contains("team/second"), "{extra:?}: {messages}");
        assert!(!messages.contains("team/first"), "{extra:?}: {messages}");
    }
}
