use super::{MANAGER, run, run_with_stdin};

/// The seed's Role in `teams` lacks `pods/exec`: the manager cannot run job scripts.
#[test]
fn seed_manager_cannot_exec_in_teams() {
    let r = run(&[
        "can-i",
        "create",
        "pods",
        "--subresource=exec",
        "-n",
        "teams",
        "--as",
        MANAGER,
        "-f",
        "examples/seed/",
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "no\n");
}

#[test]
fn seed_manager_cannot_exec_explained() {
    let r = run(&[
        "can-i",
        "create",
        "pods",
        "--subresource=exec",
        "-n",
        "teams",
        "--as",
        MANAGER,
        "-f",
        "examples/seed/",
        "--explain",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("the rule lists `pods` but not `pods/exec`"),
        "{}",
        r.stdout
    );
    insta::assert_snapshot!(r.snapshot());
}

#[test]
fn seed_manager_can_create_pods_explained() {
    let r = run(&[
        "can-i",
        "create",
        "pods",
        "-n",
        "teams",
        "--as",
        MANAGER,
        "-f",
        "examples/seed/03-final-rbac.yaml",
        "--explain",
    ]);
    assert_eq!(r.code, 0);
    insta::assert_snapshot!(r.snapshot());
}

/// Kubectl's short names and group suffixes resolve to the same request.
#[test]
fn short_names_resolve() {
    for ty in [
        "deploy",
        "deployment",
        "deployments",
        "deployments.apps",
        "Deployment",
    ] {
        let r = run(&[
            "can-i",
            "patch",
            ty,
            "-n",
            "teams",
            "--as",
            MANAGER,
            "-f",
            "examples/seed/03-final-rbac.yaml",
            "-q",
        ]);
        assert_eq!(r.code, 0, "{ty}: {}", r.stderr);
        assert_eq!(r.stdout, "", "-q prints nothing");
    }
    // The seed Role does not name `statefulsets`.
    let r = run(&[
        "can-i",
        "get",
        "sts",
        "-n",
        "teams",
        "--as",
        MANAGER,
        "-f",
        "examples/seed/03-final-rbac.yaml",
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (1, "no\n"));
}

/// A RoleBinding grants only in its own namespace, and `-A` asks for cluster-wide rights.
#[test]
fn namespace_scoping() {
    let base = [
        "can-i",
        "get",
        "secrets",
        "--as",
        MANAGER,
        "-f",
        "examples/seed/03-final-rbac.yaml",
    ];
    let in_teams = run(&[&base[..], &["-n", "teams"]].concat());
    let elsewhere = run(&[&base[..], &["-n", "gitlab-runner"]].concat());
    let all = run(&[&base[..], &["-A"]].concat());
    assert_eq!(in_teams.stdout, "yes\n");
    assert_eq!(elsewhere.stdout, "no\n");
    assert_eq!(all.stdout, "no\n");
}

/// A named object: the seed Role has no resourceNames, so any name is allowed.
#[test]
fn type_slash_name() {
    let r = run(&[
        "can-i",
        "get",
        "secrets/runner-token",
        "-n",
        "teams",
        "--as",
        MANAGER,
        "-f",
        "examples/seed/03-final-rbac.yaml",
    ]);
    assert_eq!(r.stdout, "yes\n");
}

/// A ServiceAccount gets its groups; explicit --as-group replaces them.
#[test]
fn service_account_groups_from_impersonation() {
    let rbac = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: all-sa, namespace: teams}\n\
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\n\
                subjects: [{kind: Group, name: 'system:serviceaccounts:teams'}]\n";
    let sa = [
        "can-i",
        "list",
        "pods",
        "-n",
        "teams",
        "--as",
        "system:serviceaccount:teams:ci",
        "-f",
        "-",
    ];
    assert_eq!(run_with_stdin(&sa, Some(rbac)).stdout, "yes\n");
    let with_group = [&sa[..], &["--as-group", "devs"]].concat();
    assert_eq!(run_with_stdin(&with_group, Some(rbac)).stdout, "no\n");
}

/// Aggregation: `view` bound in `teams` lets read pods but not secrets, as in a real cluster.
#[test]
fn default_roles_are_aggregated() {
    let rbac = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: v, namespace: teams}\n\
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\n\
                subjects: [{kind: User, name: alice}]\n";
    let ask = |verb: &str, ty: &str| {
        run_with_stdin(
            &["can-i", verb, ty, "-n", "teams", "--as", "alice", "-f", "-"],
            Some(rbac),
        )
        .stdout
    };
    assert_eq!(ask("list", "pods"), "yes\n");
    assert_eq!(ask("get", "secrets"), "no\n");
    assert_eq!(ask("watch", "deployments.apps"), "yes\n");
    let off = run_with_stdin(
        &[
            "can-i",
            "list",
            "pods",
            "-n",
            "teams",
            "--as",
            "alice",
            "-f",
            "-",
            "--no-default-roles",
        ],
        Some(rbac),
    );
    assert_eq!(off.stdout, "no\n");
}

#[test]
fn non_resource_urls() {
    // system:discovery and system:public-info-viewer are bound to system:authenticated.
    let r = run(&["can-i", "get", "/healthz", "--as", "bob"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "yes\n"));
    let r = run(&["can-i", "get", "/logs", "--as", "bob"]);
    assert_eq!((r.code, r.stdout.as_str()), (1, "no\n"));
}

#[test]
fn cluster_scoped_resources_ignore_namespace() {
    // A RoleBinding to cluster-admin in `default` does not give nodes.
    let rbac = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: ca, namespace: default}\n\
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n\
                subjects: [{kind: User, name: alice}]\n";
    let r = run_with_stdin(
        &["can-i", "list", "nodes", "--as", "alice", "-f", "-"],
        Some(rbac),
    );
    assert_eq!(r.stdout, "no\n");
    assert!(
        r.stderr
            .contains("Warning: resource 'nodes' is not namespace scoped"),
        "{}",
        r.stderr
    );
    let r = run_with_stdin(
        &["can-i", "list", "pods", "--as", "alice", "-f", "-"],
        Some(rbac),
    );
    assert_eq!(r.stdout, "yes\n");
}

#[test]
fn list_table() {
    let r = run(&[
        "can-i",
        "--list",
        "-n",
        "teams",
        "--as",
        MANAGER,
        "-f",
        "examples/seed/03-final-rbac.yaml",
    ]);
    assert_eq!(r.code, 0);
    insta::assert_snapshot!(r.snapshot());
}

#[test]
fn json_no_with_near_misses() {
    let r = run(&[
        "can-i",
        "create",
        "pods",
        "--subresource=exec",
        "-n",
        "teams",
        "--as",
        MANAGER,
        "-f",
        "examples/seed/03-final-rbac.yaml",
        "-o",
        "json",
    ]);
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["allowed"], false);
    assert_eq!(
        v["nearMisses"][0]["mismatches"],
        serde_json::json!(["resource"])
    );
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn anonymous_by_default() {
    let r = run(&[
        "can-i",
        "get",
        "pods",
        "-f",
        "examples/seed/03-final-rbac.yaml",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("no --as given: asking as system:anonymous"),
        "{}",
        r.stderr
    );
}

#[test]
fn kubectl_argument_errors() {
    for (args, message) in [
        (&["can-i", "get"][..], "you must specify two arguments"),
        (
            &["can-i", "get", "pods", "extra"][..],
            "you must specify two arguments",
        ),
        (
            &["can-i", "--list", "get"][..],
            "list option must be specified with no arguments",
        ),
        (
            &["can-i", "--list", "-A"][..],
            "list option can't be specified",
        ),
        (
            &["can-i", "get", "pods", "--no-headers"][..],
            "--no-headers cannot be set without --list",
        ),
        (
            &["can-i", "get", "/healthz", "--subresource", "x"][..],
            "--subresource can not be used with NonResourceURL",
        ),
        (
            &["can-i", "get", "pods", "--as-group", "g"][..],
            "without impersonating a user",
        ),
    ] {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}");
        assert!(r.stderr.contains(message), "{args:?}: {}", r.stderr);
        assert_eq!(r.stdout, "", "{args:?}");
    }
}

#[test]
fn unknown_verb_and_type_warn() {
    let r = run(&["can-i", "frobnicate", "widgets.example.com", "--as", "bob"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("verb 'frobnicate' is not a known verb"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("the server doesn't have a resource type 'widgets' in group 'example.com'"),
        "{}",
        r.stderr
    );
}

/// Issue #8, point 9: in namespace `gitlab`, `delete namespaces` for alice and `get, list, watch
/// namespaces` for bob (the manifest the requests were checked with on kube-apiserver v1.36.2).
const NAMESPACE_RBAC: &str = "fixtures/namespace-requests.yaml";

/// Issue #8, point 9: `/api/v1/namespaces/gitlab` is a request in namespace `gitlab`, whatever
/// `-n` says, so the RoleBinding there allows `delete namespaces/gitlab`. kube-apiserver v1.36.2
/// deleted it for alice (`kubectl delete namespace gitlab --as alice --dry-run=server`) and
/// refused `default` ("in the namespace \"default\"").
#[test]
fn a_namespace_by_name_is_asked_in_itself() {
    let ask = |args: &[&str]| {
        run(&[
            &["can-i"][..],
            args,
            &["--as", "alice", "-f", NAMESPACE_RBAC],
        ]
        .concat())
    };
    for n in [&["-n", "gitlab"][..], &["-n", "teams"], &[], &["-A"]] {
        let r = ask(&[&["delete", "namespaces/gitlab"][..], n].concat());
        assert_eq!((r.code, r.stdout.as_str()), (0, "yes\n"), "-n {n:?}");
        assert!(
            r.stderr.contains(
                "Warning: resource 'namespaces' is not namespace scoped: asking in namespace 'gitlab'"
            ),
            "{}",
            r.stderr
        );
    }
    // `ns` resolves like kubectl's short name.
    assert_eq!(ask(&["delete", "ns/gitlab"]).stdout, "yes\n");
    let r = ask(&["delete", "namespaces/default", "-n", "gitlab"]);
    assert_eq!((r.code, r.stdout.as_str()), (1, "no\n"));
    // Without a name the request is on the collection, cluster-wide.
    let r = ask(&["delete", "namespaces", "-n", "gitlab"]);
    assert_eq!((r.code, r.stdout.as_str()), (1, "no\n"));
    assert!(r.stderr.contains("asking cluster-wide"), "{}", r.stderr);

    let r = ask(&["delete", "namespaces/gitlab", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["request"]["namespace"], "gitlab");
    assert_eq!(v["request"]["name"], "gitlab");
    assert_eq!(v["grants"][0]["binding"]["name"], "ns-deleter");
}

/// kubectl lists or watches one Namespace through the collection
/// (`fieldSelector=metadata.name=gitlab`), cluster-wide: kube-apiserver v1.36.2 refused bob
/// `kubectl get namespace gitlab --watch` ("at the cluster scope") and allowed the `get`.
#[test]
fn a_named_watch_of_a_namespace_is_cluster_wide() {
    let ask = |verb: &str| {
        run(&[
            "can-i",
            verb,
            "namespaces/gitlab",
            "--as",
            "bob",
            "-f",
            NAMESPACE_RBAC,
        ])
    };
    assert_eq!(ask("get").stdout, "yes\n");
    assert_eq!(ask("watch").stdout, "no\n");
    assert_eq!(ask("list").stdout, "no\n");
}

/// `--explain` says why a RoleBinding in `gitlab` does not reach Namespace `default`.
#[test]
fn explain_names_the_namespace_a_namespace_request_is_in() {
    let r = run(&[
        "can-i",
        "delete",
        "namespaces/default",
        "-n",
        "gitlab",
        "--as",
        "alice",
        "-f",
        NAMESPACE_RBAC,
        "--explain",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains(
            "namespace: the RoleBinding is in namespace \"gitlab\"; a request on Namespace \"default\" is made in \"default\" itself"
        ),
        "{}",
        r.stdout
    );
}

/// `--list -n gitlab` is kubectl's `SelfSubjectRulesReview` in `gitlab`: it lists the
/// RoleBinding's `namespaces` rule, as kube-apiserver v1.36.2 did
/// (`namespaces  []  []  [delete]`).
#[test]
fn list_shows_namespace_rules_of_the_namespace() {
    let list = |ns: &str| {
        run(&[
            "can-i",
            "--list",
            "-n",
            ns,
            "--as",
            "alice",
            "-f",
            NAMESPACE_RBAC,
        ])
    };
    let r = list("gitlab");
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["namespaces", "[]", "[]", "[delete]"]),
        "{}",
        r.stdout
    );
    assert!(!list("default").stdout.contains("namespaces "));
}
