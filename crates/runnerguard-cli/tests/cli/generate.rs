use super::run;

fn audit_json(dir: &str) -> (i32, serde_json::Value) {
    let r = run(&["audit", "-f", dir, "-o", "json", "--fail-on", "medium"]);
    (r.code, serde_json::from_str(&r.stdout).unwrap())
}

fn severe(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !matches!(f["severity"].as_str(), Some("info" | "low")))
        .map(|f| format!("{} {}", f["rule"], f["message"]))
        .collect()
}

/// Issue #5: the generated setup passes the project's own audit, default and multi-tenant.
#[test]
fn generated_setups_pass_the_audit() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("default");
    let out = out.to_str().unwrap();
    let r = run(&["generate", "--out", out]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (code, v) = audit_json(out);
    assert_eq!(code, 0, "{:?}", severe(&v));
    assert!(severe(&v).is_empty(), "{:?}", severe(&v));
    assert_eq!(v["topology"]["jobs"][0]["namespace"], "teams");

    let three = tmp.path().join("three");
    let three = three.to_str().unwrap();
    let r = run(&[
        "generate",
        "--config",
        "examples/runnerguard-three-tenants.toml",
        "--out",
        three,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (code, v) = audit_json(three);
    assert_eq!(code, 0, "{:?}", severe(&v));
    assert!(severe(&v).is_empty(), "{:?}", severe(&v));
    assert_eq!(
        v["topologies"].as_array().unwrap().len(),
        3,
        "one topology per tenant"
    );
    // Issue #8: the shared namespaces the example deploys into are not created or relabelled,
    // and INSTALL.md says to check that they exist.
    let ops = std::fs::read_to_string(tmp.path().join("three/ops/namespaces.yaml")).unwrap();
    assert!(!ops.contains("name: monitoring"), "{ops}");
    assert!(!ops.contains("name: ingress"), "{ops}");
    let install = std::fs::read_to_string(tmp.path().join("three/INSTALL.md")).unwrap();
    assert!(
        install.contains("kubectl get namespace monitoring ingress\n"),
        "{install}"
    );
}

#[test]
fn generate_is_deterministic_and_refuses_foreign_files() {
    let a = run(&["generate"]);
    let b = run(&["generate"]);
    assert_eq!(a.code, 0);
    assert_eq!(a.stdout, b.stdout);
    assert!(a.stdout.contains("kind: ValidatingAdmissionPolicy"));
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("teams")).unwrap();
    std::fs::write(tmp.path().join("teams/values.yaml"), "mine: true\n").unwrap();
    let out = tmp.path().to_str().unwrap();
    let r = run(&["generate", "--out", out]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("teams/values.yaml")).unwrap(),
        "mine: true\n"
    );
    assert_eq!(run(&["generate", "--out", out, "--force"]).code, 0);
}

#[test]
fn generate_points_at_install_md_once_per_separator() {
    let tmp = tempfile::tempdir().unwrap();
    let out = format!("{}/", tmp.path().join("setup").display());
    let r = run(&["generate", "--out", &out]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("setup/INSTALL.md"), "{}", r.stderr);
    assert!(!r.stderr.contains("//INSTALL.md"), "{}", r.stderr);
    assert!(tmp.path().join("setup/INSTALL.md").is_file());
}

#[test]
fn config_errors_name_file_line_column() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("runnerguard.toml");
    std::fs::write(
        &cfg,
        "[manager]\nnamespce = \"gitlab-runner\"\n\n[[tenants]]\nname = \"teams\"\nrunner_token = \"glrt-abcdefghijklmnop\"\n",
    )
    .unwrap();
    let r = run(&["generate", "--config", cfg.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "", "nothing generated");
    assert!(r.stderr.contains("runnerguard.toml:2:1"), "{}", r.stderr);
    assert!(r.stderr.contains("runnerguard.toml:6:"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("glrt-abcdefghijklmnop"),
        "the token must not be echoed: {}",
        r.stderr
    );
}

#[test]
fn init_writes_the_commented_default() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("runnerguard.toml");
    let p = path.to_str().unwrap();
    assert_eq!(run(&["init", "--out", p]).code, 0);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with('#'));
    let again = run(&["init", "--out", p]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("exists"), "{}", again.stderr);
    // The template is the default setup.
    let from_file = run(&["generate", "--config", p]);
    let default = run(&["generate"]);
    assert_eq!(from_file.stdout, default.stdout);
    assert_eq!(run(&["init", "--out", "-"]).stdout, text);
}
