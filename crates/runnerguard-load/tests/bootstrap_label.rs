//! An object labelled `kubernetes.io/bootstrapping: rbac-defaults` counts as Kubernetes'
//! default policy (and is left out of the audit's findings, as the embedded defaults are) only
//! when it grants no more than the default of its kind and name. The label and name are
//! written by whoever wrote the file, so alone they must not hide a grant (issue #9).

#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail the test on any error"
)]

use runnerguard_load::load_str;

const LABEL: &str = "labels: {kubernetes.io/bootstrapping: rbac-defaults}";

fn binding(name: &str, group: &str) -> String {
    format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: {name}\n  {LABEL}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}\nsubjects:\n- {{kind: Group, apiGroup: rbac.authorization.k8s.io, name: \"{group}\"}}\n"
    )
}

fn builtin(text: &str) -> Vec<(String, bool)> {
    let loaded = load_str("cluster.yaml", text).unwrap();
    let mut out: Vec<(String, bool)> = loaded
        .inventory
        .bindings
        .iter()
        .map(|b| (b.name.clone(), b.origin.is_builtin()))
        .collect();
    out.extend(
        loaded
            .inventory
            .roles
            .iter()
            .map(|r| (r.name.clone(), r.origin.is_builtin())),
    );
    out
}

#[test]
fn the_real_default_counts_as_the_default() {
    assert_eq!(
        builtin(&binding("cluster-admin", "system:masters")),
        [("cluster-admin".to_owned(), true)]
    );
}

#[test]
fn a_widened_default_or_a_lookalike_is_audited_as_written() {
    // The default's name, one subject more.
    let widened = format!(
        "{}- {{kind: Group, apiGroup: rbac.authorization.k8s.io, name: system:serviceaccounts}}\n",
        binding("cluster-admin", "system:masters")
    );
    assert_eq!(builtin(&widened), [("cluster-admin".to_owned(), false)]);
    // A name Kubernetes reserves, and the label, but no such default.
    assert_eq!(
        builtin(&binding("system:evil", "system:authenticated")),
        [("system:evil".to_owned(), false)]
    );
    // A default role with a rule it does not have.
    let role = format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: system:basic-user\n  {LABEL}\nrules:\n- {{apiGroups: [\"\"], resources: [secrets], verbs: [get]}}\n"
    );
    assert_eq!(builtin(&role), [("system:basic-user".to_owned(), false)]);
    // The same role without the label is never a default.
    assert_eq!(
        builtin(&binding("cluster-admin", "system:masters").replace(LABEL, "labels: {}")),
        [("cluster-admin".to_owned(), false)]
    );
}
