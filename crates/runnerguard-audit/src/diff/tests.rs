use runnerguard_model::{ObjectRef, Origin};

use super::*;
use crate::RuleMeta;

const META: RuleMeta = RuleMeta {
    id: "RG999",
    name: "example",
    severity: Severity::High,
    summary: "",
    remediation: "",
    docs: "",
};

fn binding(file: &str, line: u32) -> ObjectRef {
    ObjectRef {
        api_version: "rbac.authorization.k8s.io/v1".into(),
        kind: "RoleBinding".into(),
        namespace: "ci".into(),
        name: "b".into(),
        origin: Origin::new(file.into(), line, 1),
    }
}

#[test]
fn line_numbers_after_file_names_are_left_out() {
    assert_eq!(
        without_line_numbers("the [[runners]] entry at values.yaml:11 sets x at c.toml:3:7, ok"),
        "the [[runners]] entry at values.yaml sets x at c.toml, ok"
    );
    // Not a line number: a namespace after `system:serviceaccount:`, a version.
    assert_eq!(
        without_line_numbers("system:serviceaccount:ns1:12ab and 18.9"),
        "system:serviceaccount:ns1:12ab and 18.9"
    );
}

#[test]
fn a_finding_keeps_its_key_when_it_moves_or_is_read_from_the_other_side() {
    let old = Finding::new(&META, "entry at old/values.yaml:11 is wrong")
        .object(binding("old/rbac.yaml", 3));
    let new = Finding::new(&META, "entry at new/values.yaml:40 is wrong")
        .object(binding("new/rbac.yaml", 90));
    assert_eq!(
        finding_key(&old, &["old/".into()]),
        finding_key(&new, &["new/".into()])
    );
    // Another object, another message: another finding.
    let mut other = new.clone();
    std::sync::Arc::make_mut(&mut other.objects[0]).name = "c".into();
    assert_ne!(
        finding_key(&other, &["new/".into()]),
        finding_key(&new, &["new/".into()])
    );
    let reworded = Finding::new(&META, "entry at new/values.yaml:40 is right")
        .object(binding("new/rbac.yaml", 90));
    assert_ne!(
        finding_key(&reworded, &["new/".into()]),
        finding_key(&new, &["new/".into()])
    );
    // ... but about the same object: paired as changed.
    assert_eq!(subject_key(&reworded), subject_key(&new));
}

/// Names may hold NUL, which ends each part of a key: the object in namespace `ci<NUL>x`
/// named `b` and the one in `ci` named `x<NUL>b` are two objects, and two findings.
#[test]
fn names_holding_the_separator_make_different_keys() {
    let finding = |namespace: &str, name: &str| {
        let mut object = binding("rbac.yaml", 3);
        object.namespace = namespace.into();
        object.name = name.into();
        Finding::new(&META, "same words").object(object)
    };
    let (one, other) = (finding("ci\0x", "b"), finding("ci", "x\0b"));
    assert_ne!(finding_key(&one, &[]), finding_key(&other, &[]));
    assert_ne!(subject_key(&one), subject_key(&other));
}

#[test]
fn rules_break_into_permissions_and_group_back_by_resource() {
    let rule = PolicyRule {
        verbs: vec!["get".into(), "list".into()],
        api_groups: vec![String::new()],
        resources: vec!["secrets".into(), "pods".into()],
        resource_names: Vec::new(),
        non_resource_urls: Vec::new(),
    };
    let atoms = breakdown_rule(&rule);
    assert_eq!(atoms.len(), 4);
    assert!(atoms.iter().all(namespaced));
    let one = |group: &str, resource: &str| PolicyRule {
        verbs: vec!["get".into()],
        api_groups: vec![group.into()],
        resources: vec![resource.into()],
        ..PolicyRule::default()
    };
    assert!(!namespaced(&one("", "nodes")), "nodes are cluster-scoped");
    assert!(
        namespaced(&one("example.com", "widgets")),
        "an unknown resource may be namespaced"
    );
    // Grouped back: one rule per resource, with its verbs.
    let policy = Policy::new(runnerguard_model::Inventory::default());
    let none = BTreeSet::new();
    let mut sorted = atoms.clone();
    sorted.sort();
    let r = rights("ci", sorted.iter().map(|a| (a, &none)), &policy);
    let verbs: Vec<(&str, &[String])> = r
        .rules
        .iter()
        .map(|rule| (rule.resources[0].as_str(), rule.verbs.as_slice()))
        .collect();
    assert_eq!(
        verbs,
        [
            ("pods", &["get".to_owned(), "list".to_owned()][..]),
            ("secrets", &["get".to_owned(), "list".to_owned()][..])
        ]
    );
}
