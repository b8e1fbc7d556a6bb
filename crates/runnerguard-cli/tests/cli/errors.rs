use std::fmt::Write as _;

use super::{run, run_with_stdin};

#[test]
fn malformed_yaml_names_file_line_column() {
    let r = run_with_stdin(
        &["can-i", "get", "pods", "--as", "bob", "-f", "-"],
        Some("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: [oops\n"),
    );
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("-:"), "{}", r.stderr);
    insta::assert_snapshot!(r.snapshot());
}

#[test]
fn wrong_type_points_at_the_value() {
    let r = run_with_stdin(
        &["who-can", "get", "pods", "-f", "-"],
        Some(
            "kind: Role\napiVersion: rbac.authorization.k8s.io/v1\nmetadata: {name: r, namespace: ns1}\nrules:\n- verbs: get\n  resources: [pods]\n",
        ),
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("-:5:10: invalid Role at `rules[0].verbs`"),
        "{}",
        r.stderr
    );
}

#[test]
fn every_bad_document_is_reported() {
    let text = "kind: Role\napiVersion: rbac.authorization.k8s.io/v1\nmetadata: {namespace: ns1}\n---\n\
                kind: RoleBinding\napiVersion: rbac.authorization.k8s.io/v1\nmetadata: {name: b, namespace: ns1}\nsubjects: []\n";
    let r = run_with_stdin(&["who-can", "get", "pods", "-f", "-"], Some(text));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("-:1:1: Role without `metadata.name`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("-:5:1: invalid RoleBinding: `roleRef` needs `kind` and `name`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("2 malformed inputs"), "{}", r.stderr);
}

#[test]
fn bad_json_names_line_and_column() {
    let r = run_with_stdin(
        &["who-can", "get", "pods", "-f", "-"],
        Some(
            "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n  {\"kind\": \"Namespace\", \"apiVersion\": \"v1\", \"metadata\": {\"name\": 5}}]}\n",
        ),
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("-:2:"), "{}", r.stderr);
    assert!(
        r.stderr.contains("invalid Namespace at `metadata.name`"),
        "{}",
        r.stderr
    );
}

#[test]
fn missing_file() {
    let r = run(&["who-can", "get", "pods", "-f", "no/such/file.yaml"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("cannot read `no/such/file.yaml`"),
        "{}",
        r.stderr
    );
}

#[test]
fn alias_bomb_fails_fast() {
    let mut y = String::from("a: &a [x,x,x,x,x,x,x,x,x]\n");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let refs = vec![format!("*{}", w[0]); 9].join(",");
        writeln!(y, "{}: &{} [{refs}]", w[1], w[1]).unwrap();
    }
    let r = run_with_stdin(&["who-can", "get", "pods", "-f", "-"], Some(&y));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("budget"), "{}", r.stderr);
}

#[test]
fn non_objects_are_skipped_with_a_warning() {
    let r = run_with_stdin(
        &["who-can", "get", "pods", "-n", "teams", "-f", "-"],
        Some("foo: bar\n---\n- 1\n"),
    );
    assert_eq!(r.code, 0);
    assert!(
        r.stderr.contains(
            "-:1: neither a Kubernetes object (no `kind`) nor gitlab-runner chart values"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("-:3: not a Kubernetes object (not a mapping)"),
        "{}",
        r.stderr
    );
}

/// Kubernetes reads YAML 1.1 booleans (sigs.k8s.io/yaml on go-yaml v2): an unquoted `no` is
/// `false`, and the API server refuses it where a string belongs. So does runnerguard, with a hint.
#[test]
fn yaml_1_1_booleans_are_booleans() {
    let r = run_with_stdin(
        &["who-can", "get", "pods", "-f", "-"],
        Some("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: no\n"),
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("-:4:9: invalid Namespace at `metadata.name`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("quote"), "{}", r.stderr);
}
