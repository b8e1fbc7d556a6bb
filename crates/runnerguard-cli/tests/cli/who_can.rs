use super::run;

/// Issue #2: the seed's manager SA through `gitlab-deployer-binding`, and `system:masters`.
#[test]
fn seed_who_can_get_secrets_in_teams() {
    let r = run(&[
        "who-can",
        "get",
        "secrets",
        "-n",
        "teams",
        "-f",
        "examples/seed/",
    ]);
    assert_eq!(r.code, 0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[1].starts_with("Group system:masters"), "{}", r.stdout);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("ServiceAccount gitlab-runner/gitlab-runner")
                && l.contains("RoleBinding teams/gitlab-deployer-binding")
                && l.contains("Role teams/gitlab-deployer")),
        "{}",
        r.stdout
    );
    insta::assert_snapshot!(r.snapshot());
}

#[test]
fn who_can_json_keeps_upstream_order() {
    let r = run(&[
        "who-can",
        "get",
        "secrets",
        "-n",
        "teams",
        "-f",
        "examples/seed/",
        "-o",
        "json",
    ]);
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let subjects = v["subjects"].as_array().unwrap();
    assert_eq!(subjects[0]["subject"]["name"], "system:masters");
    assert!(subjects[0]["grant"].is_null());
    let sa = subjects
        .iter()
        .find(|s| {
            s["subject"]["kind"] == "ServiceAccount" && s["subject"]["name"] == "gitlab-runner"
        })
        .unwrap();
    assert_eq!(
        sa["user"],
        "system:serviceaccount:gitlab-runner:gitlab-runner"
    );
    assert_eq!(sa["grant"]["binding"]["name"], "gitlab-deployer-binding");
    assert_eq!(sa["grant"]["role"]["kind"], "Role");
    // Both seed files bind the same name in `teams`: the later file's binding replaces the
    // earlier one (as a later kubectl apply would), so it appears once.
    assert_eq!(
        subjects
            .iter()
            .filter(|s| s["grant"]["binding"]["name"] == "gitlab-deployer-binding")
            .count(),
        1
    );
}

#[test]
fn nobody_but_masters_for_unbound_request() {
    let r = run(&[
        "who-can",
        "create",
        "pods",
        "--subresource",
        "exec",
        "-n",
        "gitlab-runner",
        "-f",
        "examples/seed/03-final-rbac.yaml",
        "--no-default-roles",
    ]);
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout.lines().count(), 2, "{}", r.stdout);
}

/// Issue #8, point 9: `delete namespaces/gitlab` is a request in namespace `gitlab`, so the
/// subjects of RoleBindings in `gitlab` that grant it are listed.
#[test]
fn who_can_delete_a_namespace_lists_its_role_bindings() {
    let rbac = "fixtures/namespace-requests.yaml";
    let who = |target: &str| {
        run(&[
            "who-can",
            "delete",
            target,
            "-f",
            rbac,
            "--no-default-roles",
        ])
    };
    let r = who("namespaces/gitlab");
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.lines().any(|l| l.starts_with("User alice")
            && l.contains("RoleBinding gitlab/ns-deleter")
            && l.contains("Role gitlab/ns-deleter")),
        "{}",
        r.stdout
    );
    assert_eq!(who("namespaces/default").stdout.lines().count(), 2);
    assert_eq!(who("namespaces").stdout.lines().count(), 2);

    let r = run(&[
        "who-can",
        "delete",
        "namespaces/gitlab",
        "-n",
        "default",
        "-f",
        rbac,
        "-o",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["request"]["namespace"], "gitlab");
    assert!(
        v["subjects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["subject"]["name"] == "alice"
                && s["grant"]["binding"]["name"] == "ns-deleter"),
        "{}",
        r.stdout
    );
}
