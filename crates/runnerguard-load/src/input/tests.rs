//! Reading inputs: later definitions win, defaults are replaced, large lists keep their order.

use super::*;

const SA: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: NAME, namespace: ns}\nautomountServiceAccountToken: AUTO\n";

fn sa(name: &str, auto: &str) -> String {
    SA.replace("NAME", name).replace("AUTO", auto)
}

#[test]
fn later_definitions_win_in_the_first_place() {
    let text = [
        sa("a", "true"),
        sa("b", "true"),
        sa("a", "false"),
        sa("a", "true"),
        sa("c", "false"),
    ]
    .join("---\n");
    let loaded = load_str("f.yaml", &text).unwrap();
    let names: Vec<(&str, Option<bool>)> = loaded
        .inventory
        .service_accounts
        .iter()
        .map(|s| (s.name.as_str(), s.automount_token))
        .collect();
    assert_eq!(
        names,
        [("a", Some(true)), ("b", Some(true)), ("c", Some(false))]
    );
    // The surviving `a` is the fourth document (line 16), not the first.
    assert_eq!(loaded.inventory.service_accounts[0].origin.line, 16);
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "f.yaml:11: ServiceAccount `ns/a` defined again; this definition replaces the one at f.yaml:1",
            "f.yaml:16: ServiceAccount `ns/a` defined again; this definition replaces the one at f.yaml:11",
        ]
    );
}

/// The kinds are deduplicated on two cores; their warnings still come in one order: roles,
/// bindings, ServiceAccounts, Namespaces, each kind in input order.
#[test]
fn warnings_of_replaced_objects_come_in_the_kinds_order() {
    let namespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns}\n";
    let binding = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: ns}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\n";
    let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: ns}\nrules: []\n";
    let text = [
        namespace,
        &sa("a", "true"),
        binding,
        role,
        namespace,
        &sa("a", "true"),
        binding,
        role,
    ]
    .join("---\n");
    let loaded = load_str("f.yaml", &text).unwrap();
    let kinds: Vec<&str> = loaded
        .warnings
        .iter()
        .map(|w| w.message.split_whitespace().next().unwrap_or_default())
        .collect();
    assert_eq!(
        kinds,
        ["Role", "RoleBinding", "ServiceAccount", "Namespace"]
    );
}

#[test]
fn input_replaces_defaults_silently() {
    let mut loaded = load_str(
            "f.yaml",
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: view}\nrules: []\n",
        )
        .unwrap();
    loaded.add_default_policy().unwrap();
    let views: Vec<_> = loaded
        .inventory
        .roles
        .iter()
        .filter(|r| r.name == "view")
        .collect();
    assert_eq!(views.len(), 1);
    assert_eq!(&*views[0].origin.file, "f.yaml");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

/// Merging the defaults looks up only their identities: the outcome is what deduplicating
/// the defaults and the input together leaves, order and warnings included, whether the
/// objects replaced are built in (silently) or a cluster's (warned of).
#[test]
fn merging_defaults_is_deduplicating_them_with_the_input() {
    let input = load_str(
        "f.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: mine}\nrules: []
---
apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: edit}\nrules: []
---
apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: edit, namespace: x}\nrules: []
---
apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: view}\nrules: []
---
apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: system:discovery}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
---
apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: x}
",
    )
    .unwrap();
    let identities = |loaded: &Loaded| -> Vec<String> {
        let inv = &loaded.inventory;
        let roles = inv
            .roles
            .iter()
            .map(|r| format!("{:?} {}/{} {}", r.kind, r.namespace, r.name, r.origin));
        let bindings = inv
            .bindings
            .iter()
            .map(|b| format!("{:?} {}/{} {}", b.kind, b.namespace, b.name, b.origin));
        let accounts = inv
            .service_accounts
            .iter()
            .map(|s| format!("{}/{} {}", s.namespace, s.name, s.origin));
        let warnings = loaded.warnings.iter().map(ToString::to_string);
        roles
            .chain(bindings)
            .chain(accounts)
            .chain(warnings)
            .collect()
    };
    let builtin = crate::default_policy().unwrap();
    let mut cluster = builtin.clone();
    for role in &mut cluster.roles {
        role.origin = Origin::new(Arc::from("cluster:test"), 1, 1);
    }
    for defaults in [builtin, cluster] {
        let mut merged = Loaded {
            inventory: input.inventory.clone(),
            ..Loaded::default()
        };
        merge_defaults(&mut merged, defaults.clone());
        let mut together = Loaded {
            inventory: defaults,
            ..Loaded::default()
        };
        together.inventory.extend(input.inventory.clone());
        dedup(&mut together);
        assert_eq!(identities(&merged), identities(&together));
        assert_eq!(merged.inventory.roles.len(), together.inventory.roles.len());
    }
}

/// Objects placed after loading may repeat one another: a RoleBinding given without a
/// namespace and placed in `team` by `-n team`, beside one given in `team`. Merging the
/// defaults folds them as a later `kubectl apply` would, with a warning.
#[test]
fn objects_repeated_by_placing_them_are_folded_when_the_defaults_come_in() {
    let binding = |namespace: &str, subject: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: b{namespace}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}}\nsubjects: [{{kind: User, name: {subject}}}]\n"
        )
    };
    let text = [binding("", "first"), binding(", namespace: team", "second")].join("---\n");
    let mut loaded = load_str("f.yaml", &text).unwrap();
    assert_eq!(loaded.inventory.bindings.len(), 2);
    loaded.place_unnamespaced("team");
    loaded.add_default_policy().unwrap();
    let team: Vec<_> = loaded
        .inventory
        .bindings
        .iter()
        .filter(|b| b.namespace == "team")
        .collect();
    assert_eq!(team.len(), 1);
    assert_eq!(team[0].subjects[0].name, "second");
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.message.contains("`team/b` defined again")),
        "{:?}",
        loaded.warnings
    );
}

/// Large Lists are read in parallel chunks: order, positions and errors stay exact.
#[test]
fn large_lists_keep_order_and_positions() {
    let item = |i: usize| {
        format!(
            r#"{{"apiVersion":"v1","kind":"ServiceAccount","metadata":{{"name":"sa-{i}","namespace":"ns"}}}}"#
        )
    };
    let items: Vec<String> = (0..5000).map(item).collect();
    let text = format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n{}]}}",
        items.join(",\n")
    );
    let loaded = load_str("big.json", &text).unwrap();
    let sas = &loaded.inventory.service_accounts;
    assert_eq!(sas.len(), 5000);
    assert!(
        sas.iter()
            .enumerate()
            .all(|(i, sa)| sa.name == format!("sa-{i}")
                && usize::try_from(sa.origin.line).unwrap() == 2 + i)
    );

    let mut bad = items;
    bad[4321] = r#"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":7}}"#.to_owned();
    let text = format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n{}]}}",
        bad.join(",\n")
    );
    let Err(Error::Invalid(diagnostics, _)) = load_str("big.json", &text) else {
        panic!("the bad item must be reported");
    };
    assert_eq!(diagnostics.len(), 1);
    assert_eq!((diagnostics[0].line, diagnostics[0].column), (4323, 63));
    assert!(
        diagnostics[0].message.contains("at `metadata.name`"),
        "{}",
        diagnostics[0].message
    );
}
