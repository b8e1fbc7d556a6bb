use super::run;

#[test]
fn two_step_path_to_the_runner_secrets() {
    let r = run(&[
        "paths",
        "--as",
        "system:serviceaccount:teams:ci-job",
        "-f",
        "fixtures/escalation/two-step.yaml",
        "--to",
        "get secrets -n gitlab-runner",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!(r.snapshot());
}

#[test]
fn not_reachable_exits_1() {
    let r = run(&[
        "paths",
        "--as",
        "bob",
        "-f",
        "fixtures/escalation/resource-names.yaml",
        "--to",
        "get secrets -n teams",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.starts_with("no:"), "{}", r.stdout);
}

#[test]
fn bind_reaches_cluster_admin_in_the_namespace_only() {
    let r = run(&[
        "paths",
        "--as",
        "alice",
        "-f",
        "fixtures/escalation/bind.yaml",
        "-o",
        "json",
    ]);
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let ids: Vec<String> = v["reached"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["description"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        ids.contains(&"every permission in namespace `teams`".to_owned()),
        "{ids:?}"
    );
    assert!(
        !ids.iter().any(|i| i.contains("cluster (cluster-admin)")),
        "{ids:?}"
    );
    assert_eq!(v["reached"][0]["path"][0]["primitive"], "bind");
}

#[test]
fn impersonating_groups_reaches_system_masters() {
    let r = run(&[
        "paths",
        "--as",
        "mallory",
        "-f",
        "fixtures/escalation/impersonate.yaml",
        "--to",
        "delete nodes",
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("Group system:masters"), "{}", r.stdout);
}

#[test]
fn resource_names_and_pods_star_give_no_edge() {
    let r = run(&[
        "paths",
        "--as",
        "bob",
        "-f",
        "fixtures/escalation/resource-names.yaml",
    ]);
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout, "bob can become no other identity\n");
}

/// Issue #4: the seed's first answer plus a job pod; the default ServiceAccount of `teams`
/// reaches nothing.
#[test]
fn seed_default_service_account_reaches_nothing() {
    let r = run(&[
        "paths",
        "--as",
        "system:serviceaccount:teams:default",
        "-f",
        "examples/seed/01-first-answer-rbac.yaml",
        "-f",
        "fixtures/escalation/job-pod.yaml",
    ]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout,
        "system:serviceaccount:teams:default can become no other identity\n"
    );
    // The manager's ServiceAccount, bound in both namespaces, becomes the job pod's.
    let r = run(&[
        "paths",
        "--as",
        "system:serviceaccount:gitlab-runner:gitlab-runner",
        "-f",
        "examples/seed/01-first-answer-rbac.yaml",
        "-f",
        "fixtures/escalation/job-pod.yaml",
        "-o",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let ids: Vec<&str> = v["reached"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["description"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"ServiceAccount gitlab-runner/default"),
        "{ids:?}"
    );
    assert!(ids.contains(&"ServiceAccount teams/default"), "{ids:?}");
}

/// The default `edit` role in `teams` is every ServiceAccount of `teams`, and no more.
#[test]
fn edit_is_every_service_account_of_its_namespace() {
    let r = run(&[
        "paths",
        "--as",
        "dev",
        "--as-group",
        "devs",
        "-f",
        "fixtures/escalation/edit.yaml",
        "-o",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let mut ids: Vec<&str> = v["reached"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["description"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        [
            "ServiceAccount teams/ci-job",
            "ServiceAccount teams/default",
            "ServiceAccount teams/deployer"
        ]
    );
}

#[test]
fn can_i_and_who_can_effective() {
    let base = ["-f", "fixtures/escalation/two-step.yaml"];
    let plain = run(&[
        &[
            "can-i",
            "get",
            "secrets",
            "-n",
            "gitlab-runner",
            "--as",
            "system:serviceaccount:teams:ci-job",
        ][..],
        &base,
    ]
    .concat());
    assert_eq!((plain.code, plain.stdout.as_str()), (1, "no\n"));
    let eff = run(&[
        &[
            "can-i",
            "get",
            "secrets",
            "-n",
            "gitlab-runner",
            "--as",
            "system:serviceaccount:teams:ci-job",
            "--effective",
            "--explain",
        ][..],
        &base,
    ]
    .concat());
    assert_eq!(eff.code, 0);
    assert!(eff.stdout.starts_with("yes\n"), "{}", eff.stdout);
    assert!(
        eff.stdout.contains("as ServiceAccount teams/deployer"),
        "{}",
        eff.stdout
    );
    let who = run(&[
        &[
            "who-can",
            "get",
            "secrets",
            "-n",
            "gitlab-runner",
            "--effective",
        ][..],
        &base,
    ]
    .concat());
    assert_eq!(who.code, 0);
    assert!(
        who.stdout.contains("ServiceAccount teams/ci-job"),
        "{}",
        who.stdout
    );
    assert!(
        who.stdout.contains("ServiceAccount teams/deployer"),
        "{}",
        who.stdout
    );
}

/// Issue #8, point 9: carol may create pods in `gitlab`, where ServiceAccount gitlab/deployer
/// is granted `delete namespaces` by a RoleBinding: she reaches `delete namespaces/gitlab`, a
/// request in namespace `gitlab`, and not `delete namespaces/default`.
#[test]
fn a_namespace_is_reached_through_its_own_role_bindings() {
    let to = |permission: &str| {
        run(&[
            "paths",
            "--as",
            "carol",
            "-f",
            "fixtures/namespace-requests.yaml",
            "--to",
            permission,
        ])
    };
    let r = to("delete namespaces/gitlab");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("carol reaches `delete namespaces named \"gitlab\" in namespace \"gitlab\"` as ServiceAccount gitlab/deployer"),
        "{}",
        r.stdout
    );
    let r = to("delete namespaces/default -n gitlab");
    assert_eq!(r.code, 1, "{}", r.stdout);
}
