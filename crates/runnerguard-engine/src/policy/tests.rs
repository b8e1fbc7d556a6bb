//! The policy's own indexes.

use runnerguard_model::{Binding, Inventory, Origin, PolicyRule, Role, RoleRef, Subject};

use super::*;
use crate::{Action, UserInfo};

fn role(namespace: &str, name: &str) -> Role {
    Role {
        kind: RoleKind::Role,
        name: name.into(),
        namespace: namespace.into(),
        labels: std::collections::BTreeMap::default(),
        rules: vec![PolicyRule {
            verbs: vec!["get".into()],
            api_groups: vec![String::new()],
            resources: vec!["secrets".into()],
            resource_names: Vec::new(),
            non_resource_urls: Vec::new(),
        }],
        aggregation: None,
        origin: Origin::default(),
    }
}

fn binding(namespace: &str, role: &str) -> Binding {
    Binding {
        kind: BindingKind::RoleBinding,
        name: "b".into(),
        namespace: namespace.into(),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: role.into(),
        },
        subjects: vec![Subject {
            kind: "User".into(),
            api_group: "rbac.authorization.k8s.io".into(),
            name: "u".into(),
            namespace: String::new(),
        }],
        origin: Origin::default(),
    }
}

/// A binding finds the Role of its own namespace by name, whatever characters names hold: a
/// separator between namespace and name in the index's keys let a Role of another namespace
/// answer (`a<NUL>b`/`c` for `a`/`b<NUL>c`).
#[test]
fn a_binding_resolves_only_the_role_of_its_own_namespace() {
    let get_secrets = Action::resource("get", "a", "", "secrets", "", "");
    let policy = |roles: Vec<Role>| {
        Policy::new(Inventory {
            roles,
            bindings: vec![binding("a", "b\0c")],
            ..Inventory::default()
        })
    };
    let elsewhere = policy(vec![role("a\0b", "c")]);
    assert!(elsewhere.binding_role(BindingId::new(0)).is_err());
    assert!(
        !elsewhere
            .authorize(&UserInfo::impersonated("u", &[]), &get_secrets)
            .allowed
    );
    let own = policy(vec![role("a", "b\0c")]);
    assert!(own.binding_role(BindingId::new(0)).is_ok());
    assert!(
        own.authorize(&UserInfo::impersonated("u", &[]), &get_secrets)
            .allowed
    );
}
