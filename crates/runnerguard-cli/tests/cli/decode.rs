//! Input is read as kubectl and Helm read it (issue #9 E1-E5, C2 and the decoding messages):
//! each evasion file, added to the generated setup, makes `audit` find the binding it hides
//! or refuse the file naming the key, never pass.

use super::*;

const ROLE_REF_ADMIN: &str =
    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}";
const ROLE_REF_VIEW: &str =
    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}";
const SUBJECTS: &str =
    "subjects: [{kind: ServiceAccount, name: gitlab-runner, namespace: gitlab-runner}]";
const ADMIN_JSON: &str = r#""roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"ServiceAccount","name":"gitlab-runner","namespace":"gitlab-runner"}]"#;

/// `audit` of the generated default setup with `file` added as `name`.
fn audit_with(name: &str, file: &str) -> Run {
    audit_with_env(name, file, &[])
}

fn audit_with_env(name: &str, file: &str, env: &[(&str, &str)]) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    let setup = tmp.path().join("setup");
    let setup_str = setup.to_str().unwrap();
    let r = run(&["generate", "--out", setup_str]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::write(setup.join(name), file).unwrap();
    run_env(&["audit", "-f", setup_str], env)
}

fn run_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_runnerguard"));
    command
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("RUNNERGUARD_HELM")
        .env("PATH", "");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The audit found the cluster-admin binding `binding`.
fn finds_admin_binding(r: &Run, binding: &str) {
    assert_eq!(r.code, 1, "{}", r.snapshot());
    assert!(
        r.stdout
            .lines()
            .any(|l| l.contains("RB001") && l.contains(&format!("ClusterRoleBinding {binding} "))),
        "{}",
        r.snapshot()
    );
}

/// The audit refused the file, naming `what` (a key) at `place` (`file:line:column`).
fn refuses(r: &Run, place: &str, what: &str) {
    assert!(r.code == 1 || r.code == 2, "{}", r.snapshot());
    // Diagnostics are wrapped to the terminal's width: join their lines.
    let all: Vec<String> = format!("{}{}", r.stdout, r.stderr)
        .lines()
        .map(|l| {
            l.trim_start()
                .trim_start_matches(['│', '×'])
                .trim()
                .to_owned()
        })
        .collect();
    let all = all.join(" ");
    let found = all.match_indices(place).any(|(i, _)| {
        all[i..]
            .chars()
            .take(400)
            .collect::<String>()
            .contains(what)
    });
    assert!(found, "want `{place}` with `{what}`:\n{}", r.snapshot());
    assert!(!all.contains("panicked"), "{}", r.snapshot());
}

#[test]
fn e1_json_list_item_with_kind_twice_is_refused() {
    let file = format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n{{\"kind\":\"Widget\",\"apiVersion\":\"example.com/v1\",\"metadata\":{{\"name\":\"evil\"}},{ADMIN_JSON},\n\"kind\":\"ClusterRoleBinding\",\"apiVersion\":\"rbac.authorization.k8s.io/v1\"}}]}}\n"
    );
    let r = audit_with("evil.json", &file);
    refuses(&r, "evil.json:3:6", "duplicate key `kind`");
}

#[test]
fn e2_non_string_first_kind_is_refused() {
    let file = format!(
        "{{\"kind\":5,\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"metadata\":{{\"name\":\"evil\"}},{ADMIN_JSON},\n\"kind\":\"ClusterRoleBinding\"}}\n"
    );
    let r = audit_with("evil.json", &file);
    refuses(&r, "evil.json:2:6", "duplicate key `kind`");
}

#[test]
fn e3_tagged_keys_are_refused() {
    let file = format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Widget\nmetadata: {{name: evil}}\n{ROLE_REF_ADMIN}\n{SUBJECTS}\n!x kind: ClusterRoleBinding\n"
    );
    refuses(
        &audit_with("evil.yaml", &file),
        "evil.yaml:6:4",
        "duplicate key `kind`",
    );
    let file = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: decoy, namespace: default}}\nitems: []\n!x items:\n- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRoleBinding\n  metadata: {{name: evil}}\n  {ROLE_REF_ADMIN}\n  {SUBJECTS}\n"
    );
    refuses(
        &audit_with("evil.yaml", &file),
        "evil.yaml:5:4",
        "duplicate key `items`",
    );
    // In values: a second, tagged `rbac` asking for cluster-wide access.
    let file = "gitlabUrl: https://gitlab.example.com/\nrbac: {create: true}\n!x rbac: {create: true, clusterWideAccess: true}\n";
    refuses(
        &audit_with("more-values.yaml", file),
        "more-values.yaml:3:4",
        "duplicate key `rbac`",
    );
}

#[test]
fn e4_merge_key_after_an_explicit_key_overwrites_it() {
    let file = format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: evil}}\n{ROLE_REF_VIEW}\n{SUBJECTS}\n<<: {{{ROLE_REF_ADMIN}}}\n"
    );
    finds_admin_binding(&audit_with("evil.yaml", &file), "evil");
    let file = format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Widget\nmetadata: {{name: evil}}\n{ROLE_REF_ADMIN}\n{SUBJECTS}\n<<: {{kind: ClusterRoleBinding}}\n"
    );
    finds_admin_binding(&audit_with("evil.yaml", &file), "evil");
    // A quoted `<<` is an ordinary key to yaml.v2: refused, it cannot be told apart.
    let file = format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: evil}}\n{ROLE_REF_ADMIN}\n{SUBJECTS}\n\"<<\": {{{ROLE_REF_VIEW}}}\n"
    );
    refuses(
        &audit_with("evil.yaml", &file),
        "evil.yaml:6:1",
        "quoted or tagged `<<`",
    );
}

#[test]
fn e5_any_object_with_items_is_a_list() {
    let file = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: innocent, namespace: default}}\nitems:\n- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRoleBinding\n  metadata: {{name: evil}}\n  {ROLE_REF_ADMIN}\n  {SUBJECTS}\n"
    );
    finds_admin_binding(&audit_with("evil.yaml", &file), "evil");
    let file = format!(
        "{{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRoleBinding\",\"metadata\":{{\"name\":\"decoy\"}},\"roleRef\":{{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":\"view\"}},\n\"items\":[{{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRoleBinding\",\"metadata\":{{\"name\":\"evil\"}},{ADMIN_JSON}}}]}}\n"
    );
    finds_admin_binding(&audit_with("evil.json", &file), "evil");
}

/// kubectl reads a flow mapping at the start of a file as YAML; it was refused as JSON.
#[test]
fn flow_mapping_at_the_start_is_yaml() {
    let file = format!(
        "{{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {{name: flow}},\n {ROLE_REF_ADMIN},\n {SUBJECTS}}}\n"
    );
    finds_admin_binding(&audit_with("flow.yaml", &file), "flow");
}

/// Issue #9 C2: Lists nested 12,000 deep, alone and inside a List read in parallel.
#[test]
fn deeply_nested_lists_are_refused_without_a_crash() {
    let depth = 12_000;
    let nested = format!(
        "{}{{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{{\"name\":\"x\"}}}}{}",
        "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[".repeat(depth),
        "]}".repeat(depth)
    );
    let r = audit_with("deep.json", &nested);
    refuses(&r, "deep.json:1:", "inside a List has `items`");

    let item = r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"n"}}"#;
    let mut items = vec![item.to_owned(); 5000];
    items[4500] = nested[..nested.len()].to_owned();
    let wide = format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n{}]}}",
        items.join(",\n")
    );
    let started = std::time::Instant::now();
    let r = audit_with("wide.json", &wide);
    refuses(&r, "wide.json:4502:1", "inside a List has `items`");
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
}

/// The YAML budget is said in words, with the variable that raises it.
#[test]
fn scalar_budget_names_its_limit() {
    let file = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big, namespace: default}}\ndata: {{a: \"{}\"}}\n",
        "x".repeat(5000)
    );
    let r = audit_with_env(
        "big.yaml",
        &file,
        &[("RUNNERGUARD_MAX_SCALAR_BYTES", "1000")],
    );
    refuses(&r, "big.yaml:", "RUNNERGUARD_MAX_SCALAR_BYTES");
    assert!(!r.stdout.contains("ScalarBytes {"), "{}", r.snapshot());
    assert!(!r.stderr.contains("ScalarBytes {"), "{}", r.snapshot());
    // Raised, the same file is read.
    let r = audit_with_env(
        "big.yaml",
        &file,
        &[("RUNNERGUARD_MAX_SCALAR_BYTES", "100000")],
    );
    assert_eq!(r.code, 0, "{}", r.snapshot());
}

/// The API server refuses a subject without a name (`ValidateRoleBindingSubject`).
#[test]
fn subject_without_a_name_is_refused() {
    let file = format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: noname, namespace: teams}}\n{ROLE_REF_VIEW}\nsubjects:\n- {{kind: ServiceAccount, namespace: teams}}\n"
    );
    refuses(
        &audit_with("noname.yaml", &file),
        "noname.yaml:6:3",
        "`subjects[0]` has no `name`",
    );
}
