//! Escalation analysis on small policies built in code: the cases issue #4 names.

use runnerguard_engine::{Action, Escalation, Identity, Policy, Primitive, UserInfo};
use runnerguard_model::{
    Binding, BindingKind, Inventory, Origin, PolicyRule, Role, RoleKind, RoleRef, ServiceAccount,
    Subject,
};

fn rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> PolicyRule {
    let v = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect();
    PolicyRule {
        verbs: v(verbs),
        api_groups: v(groups),
        resources: v(resources),
        resource_names: v(names),
        non_resource_urls: Vec::new(),
    }
}

fn role(kind: RoleKind, ns: &str, name: &str, rules: Vec<PolicyRule>) -> Role {
    Role {
        kind,
        name: name.into(),
        namespace: ns.into(),
        labels: std::collections::BTreeMap::default(),
        rules,
        aggregation: None,
        origin: Origin::default(),
    }
}

fn bind(kind: BindingKind, ns: &str, role_kind: &str, role: &str, subject: Subject) -> Binding {
    Binding {
        kind,
        name: format!("{role}-binding"),
        namespace: ns.into(),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: role_kind.into(),
            name: role.into(),
        },
        subjects: vec![subject],
        origin: Origin::default(),
    }
}

fn sa(ns: &str, name: &str) -> ServiceAccount {
    ServiceAccount {
        name: name.into(),
        namespace: ns.into(),
        automount_token: None,
        origin: Origin::default(),
    }
}

fn sa_user(ns: &str, name: &str) -> UserInfo {
    UserInfo::impersonated(&format!("system:serviceaccount:{ns}:{name}"), &[])
}

fn sa_id(ns: &str, name: &str) -> Identity {
    Identity::ServiceAccount {
        namespace: ns.into(),
        name: name.into(),
    }
}

/// A job SA that may create pods in `teams`, where another SA may read Secrets in
/// `gitlab-runner`: two steps to the runner's Secrets.
#[test]
fn pod_creation_then_secret_read_is_two_steps() {
    let inv = Inventory {
        roles: vec![
            role(
                RoleKind::Role,
                "teams",
                "pod-maker",
                vec![rule(&["create"], &[""], &["pods"], &[])],
            ),
            role(
                RoleKind::Role,
                "gitlab-runner",
                "secret-reader",
                vec![rule(&["get"], &[""], &["secrets"], &[])],
            ),
        ],
        bindings: vec![
            bind(
                BindingKind::RoleBinding,
                "teams",
                "Role",
                "pod-maker",
                Subject::service_account("teams", "ci-job"),
            ),
            bind(
                BindingKind::RoleBinding,
                "gitlab-runner",
                "Role",
                "secret-reader",
                Subject::service_account("teams", "deployer"),
            ),
        ],
        service_accounts: vec![sa("teams", "ci-job"), sa("teams", "deployer")],
        ..Inventory::default()
    };
    let policy = Policy::new(inv);
    let esc = Escalation::new(&policy);
    let job = sa_user("teams", "ci-job");
    let action = Action::resource("get", "gitlab-runner", "", "secrets", "", "runner-token");
    assert!(!policy.authorize(&job, &action).allowed, "not directly");
    let d = esc.authorize(&job, &action);
    assert!(d.allowed);
    let via = d.via.unwrap();
    assert_eq!(via.identity, sa_id("teams", "deployer"));
    assert_eq!(via.path.len(), 1, "one edge: create pods in teams");
    assert_eq!(via.path[0].primitive, Primitive::CreatePods);
    assert!(d.grant.is_some());
}

#[test]
fn bind_and_create_rolebindings_gives_cluster_admin_in_the_namespace() {
    let inv = Inventory {
        roles: vec![
            role(
                RoleKind::ClusterRole,
                "",
                "cluster-admin",
                vec![rule(&["*"], &["*"], &["*"], &[])],
            ),
            role(
                RoleKind::ClusterRole,
                "",
                "binder",
                vec![
                    rule(
                        &["bind"],
                        &["rbac.authorization.k8s.io"],
                        &["clusterroles"],
                        &[],
                    ),
                    rule(
                        &["create"],
                        &["rbac.authorization.k8s.io"],
                        &["rolebindings"],
                        &[],
                    ),
                ],
            ),
        ],
        bindings: vec![bind(
            BindingKind::RoleBinding,
            "teams",
            "ClusterRole",
            "binder",
            Subject::new("User", "alice"),
        )],
        ..Inventory::default()
    };
    let policy = Policy::new(inv);
    let reach = Escalation::new(&policy).reach(&UserInfo::impersonated("alice", &[]));
    let admin = reach
        .iter()
        .find(|r| {
            r.identity
                == Identity::NamespaceAdmin {
                    namespace: "teams".into(),
                }
        })
        .expect("cluster-admin in teams through a RoleBinding");
    assert_eq!(admin.path[0].primitive, Primitive::Bind);
    assert_eq!(admin.path[0].permissions.len(), 2);
    assert!(
        !reach.iter().any(|r| r.identity == Identity::ClusterAdmin),
        "only in teams"
    );
}

#[test]
fn impersonating_groups_and_users_reaches_system_masters() {
    let inv = Inventory {
        roles: vec![role(
            RoleKind::ClusterRole,
            "",
            "impersonator",
            vec![rule(&["impersonate"], &[""], &["groups", "users"], &[])],
        )],
        bindings: vec![bind(
            BindingKind::ClusterRoleBinding,
            "",
            "ClusterRole",
            "impersonator",
            Subject::new("User", "mallory"),
        )],
        ..Inventory::default()
    };
    let policy = Policy::new(inv);
    let reach = Escalation::new(&policy).reach(&UserInfo::impersonated("mallory", &[]));
    let masters = reach
        .iter()
        .find(|r| {
            r.identity
                == Identity::Group {
                    name: "system:masters".into(),
                }
        })
        .unwrap();
    assert_eq!(masters.path[0].primitive, Primitive::Impersonate);
    let admin = reach
        .iter()
        .find(|r| r.identity == Identity::ClusterAdmin)
        .unwrap();
    assert_eq!(admin.path.len(), 2);
    assert_eq!(admin.path[1].primitive, Primitive::Superuser);
}

/// The API server refuses to impersonate groups without a user: `impersonate groups` alone
/// is no edge.
#[test]
fn impersonating_groups_alone_is_refused() {
    let inv = Inventory {
        roles: vec![role(
            RoleKind::ClusterRole,
            "",
            "impersonator",
            vec![rule(&["impersonate"], &[""], &["groups"], &[])],
        )],
        bindings: vec![bind(
            BindingKind::ClusterRoleBinding,
            "",
            "ClusterRole",
            "impersonator",
            Subject::new("User", "mallory"),
        )],
        ..Inventory::default()
    };
    let policy = Policy::new(inv);
    let reach = Escalation::new(&policy).reach(&UserInfo::impersonated("mallory", &[]));
    assert_eq!(reach.len(), 1, "{reach:?}");
}

/// `resourceNames` never match list/watch, and a named get matches only that Secret.
#[test]
fn resource_names_without_list_give_no_secret_edge() {
    let inv = Inventory {
        roles: vec![role(
            RoleKind::Role,
            "teams",
            "one-secret",
            vec![rule(&["get"], &[""], &["secrets"], &["app-config"])],
        )],
        bindings: vec![bind(
            BindingKind::RoleBinding,
            "teams",
            "Role",
            "one-secret",
            Subject::new("User", "bob"),
        )],
        service_accounts: vec![sa("teams", "deployer")],
        ..Inventory::default()
    };
    let policy = Policy::new(inv);
    let reach = Escalation::new(&policy).reach(&UserInfo::impersonated("bob", &[]));
    assert_eq!(reach.len(), 1, "only bob himself: {reach:?}");
}

/// Token requests by name reach exactly the ServiceAccounts the authorizer allows: names
/// that no rule lists are not asked (issue #13), a rule without names allows all, a rule of
/// another verb or resource none. Checked against `Policy::authorize` for each.
#[test]
fn token_requests_reach_the_named_service_accounts_only() {
    // `default` is always there.
    let accounts = ["api", "db", "default", "web", "worker"];
    let cases: [(Vec<PolicyRule>, &[&str]); 4] = [
        (
            vec![rule(
                &["create"],
                &[""],
                &["serviceaccounts/token"],
                &["web", "nope"],
            )],
            &["web"],
        ),
        (
            vec![
                rule(&["create"], &[""], &["serviceaccounts/token"], &["db"]),
                rule(&["create"], &[""], &["*/token"], &["worker"]),
            ],
            &["db", "worker"],
        ),
        (
            vec![rule(&["create"], &[""], &["serviceaccounts/token"], &[])],
            &["api", "db", "default", "web", "worker"],
        ),
        (
            vec![
                rule(&["get"], &[""], &["serviceaccounts/token"], &["web"]),
                rule(&["create"], &[""], &["serviceaccounts"], &["api"]),
            ],
            &[],
        ),
    ];
    for (rules, expected) in cases {
        let inv = Inventory {
            roles: vec![role(RoleKind::Role, "teams", "minter", rules.clone())],
            bindings: vec![bind(
                BindingKind::RoleBinding,
                "teams",
                "Role",
                "minter",
                Subject::new("User", "bob"),
            )],
            service_accounts: accounts.iter().map(|n| sa("teams", n)).collect(),
            ..Inventory::default()
        };
        let policy = Policy::new(inv);
        let bob = UserInfo::impersonated("bob", &[]);
        let reached: Vec<Identity> = Escalation::new(&policy)
            .reach(&bob)
            .into_iter()
            .map(|r| r.identity)
            .filter(|i| matches!(i, Identity::ServiceAccount { .. }))
            .collect();
        let want: Vec<Identity> = expected.iter().map(|n| sa_id("teams", n)).collect();
        assert_eq!(reached, want, "{rules:?}");
        for name in accounts {
            let mint = Action::resource("create", "teams", "", "serviceaccounts", "token", name);
            assert_eq!(
                policy.authorize(&bob, &mint).allowed,
                expected.contains(&name),
                "{name}: {rules:?}"
            );
        }
    }
}

/// `pods/*` is literal in RBAC: no exec, no edge.
#[test]
fn pods_star_gives_no_edge() {
    let inv = Inventory {
        roles: vec![role(
            RoleKind::Role,
            "teams",
            "star",
            vec![rule(&["create", "get"], &[""], &["pods/*"], &[])],
        )],
        bindings: vec![bind(
            BindingKind::RoleBinding,
            "teams",
            "Role",
            "star",
            Subject::new("User", "bob"),
        )],
        service_accounts: vec![sa("teams", "deployer")],
        ..Inventory::default()
    };
    let policy = Policy::new(inv);
    let reach = Escalation::new(&policy).reach(&UserInfo::impersonated("bob", &[]));
    assert_eq!(reach.len(), 1, "{reach:?}");
}

/// Exec reaches the ServiceAccounts of the pods that are there, when pods were read.
#[test]
fn exec_reaches_the_pods_service_accounts() {
    use runnerguard_model::{ObjectRef, Workload};
    let pod = Workload {
        object: ObjectRef {
            api_version: "v1".into(),
            kind: "Pod".into(),
            namespace: "teams".into(),
            name: "app".into(),
            origin: Origin::default(),
        },
        service_account: "app-sa".into(),
        automount_token: None,
        labels: std::collections::BTreeMap::default(),
        containers: Vec::new(),
        host_path: false,
        host_namespaces: false,
        secret_volumes: Vec::new(),
        config_map_volumes: Vec::new(),
    };
    let inv = Inventory {
        roles: vec![role(
            RoleKind::Role,
            "teams",
            "exec",
            vec![rule(&["create"], &[""], &["pods/exec"], &[])],
        )],
        bindings: vec![bind(
            BindingKind::RoleBinding,
            "teams",
            "Role",
            "exec",
            Subject::new("User", "bob"),
        )],
        service_accounts: vec![sa("teams", "other")],
        workloads: vec![pod],
        ..Inventory::default()
    };
    let policy = Policy::new(inv);
    let reach = Escalation::new(&policy).reach(&UserInfo::impersonated("bob", &[]));
    let ids: Vec<&Identity> = reach.iter().map(|r| &r.identity).collect();
    assert!(ids.contains(&&sa_id("teams", "app-sa")));
    assert!(!ids.contains(&&sa_id("teams", "other")), "{ids:?}");
}

/// The default `edit` role (aggregated from its parts) in `teams` is every ServiceAccount of
/// `teams`, and nothing beyond.
#[test]
fn edit_in_a_namespace_is_every_service_account_there() {
    let edit = vec![
        rule(
            &[
                "create", "delete", "get", "list", "patch", "update", "watch",
            ],
            &[""],
            &["pods", "secrets"],
            &[],
        ),
        rule(
            &["create"],
            &[""],
            &["pods/exec", "pods/attach", "serviceaccounts/token"],
            &[],
        ),
        rule(&["impersonate"], &[""], &["serviceaccounts"], &[]),
    ];
    let inv = Inventory {
        roles: vec![role(RoleKind::ClusterRole, "", "edit", edit)],
        bindings: vec![bind(
            BindingKind::RoleBinding,
            "teams",
            "ClusterRole",
            "edit",
            Subject::new("Group", "devs"),
        )],
        service_accounts: vec![sa("teams", "a"), sa("teams", "b"), sa("other", "c")],
        ..Inventory::default()
    };
    let policy = Policy::new(inv);
    let reach =
        Escalation::new(&policy).reach(&UserInfo::impersonated("dev", &["devs".to_owned()]));
    let mut ids: Vec<String> = reach
        .iter()
        .skip(1)
        .map(|r| r.identity.to_string())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "ServiceAccount teams/a",
            "ServiceAccount teams/b",
            "ServiceAccount teams/default"
        ]
    );
}

fn object(kind: &str, name: &str) -> runnerguard_model::ObjectRef {
    runnerguard_model::ObjectRef {
        api_version: "admissionregistration.k8s.io/v1".into(),
        kind: kind.into(),
        namespace: String::new(),
        name: name.into(),
        origin: Origin::default(),
    }
}

/// An admission policy that pins pods to ServiceAccounts cuts pod edges, unless it narrows
/// itself (matchConditions) or the subject may remove it.
#[test]
fn admission_pins_cut_pod_edges_only_when_sound() {
    use runnerguard_model::{AdmissionBinding, AdmissionPolicy};
    // `delete_binding`: the names bob may delete the binding by (empty: any), or `None`.
    let build = |match_conditions: bool, delete_binding: Option<&[&str]>| {
        let mut bindings = vec![
            bind(
                BindingKind::RoleBinding,
                "teams",
                "Role",
                "maker",
                Subject::new("User", "bob"),
            ),
            bind(
                BindingKind::RoleBinding,
                "teams",
                "Role",
                "strong",
                Subject::service_account("teams", "powerful"),
            ),
        ];
        if delete_binding.is_some() {
            bindings.push(bind(
                BindingKind::ClusterRoleBinding,
                "",
                "ClusterRole",
                "unpinner",
                Subject::new("User", "bob"),
            ));
        }
        let inv = Inventory {
            roles: vec![
                role(
                    RoleKind::Role,
                    "teams",
                    "maker",
                    vec![rule(&["create"], &[""], &["pods"], &[])],
                ),
                role(
                    RoleKind::Role,
                    "teams",
                    "strong",
                    vec![rule(&["*"], &[""], &["secrets"], &[])],
                ),
                role(
                    RoleKind::ClusterRole,
                    "",
                    "unpinner",
                    vec![rule(
                        &["delete"],
                        &["admissionregistration.k8s.io"],
                        &["validatingadmissionpolicybindings"],
                        delete_binding.unwrap_or_default(),
                    )],
                ),
            ],
            bindings,
            service_accounts: vec![sa("teams", "ci-job"), sa("teams", "powerful")],
            admission_policies: vec![AdmissionPolicy {
                object: object("ValidatingAdmissionPolicy", "pin"),
                fail_closed: true,
                namespaces: vec!["teams".into()],
                pods_create: true,
                service_accounts: Some(vec!["ci-job".into()]),
                per_user: Vec::new(),
                match_conditions,
            }],
            admission_bindings: vec![AdmissionBinding {
                object: object("ValidatingAdmissionPolicyBinding", "pin"),
                policy: "pin".into(),
                deny: true,
                namespaces: None,
                narrows: false,
            }],
            ..Inventory::default()
        };
        let policy = Policy::new(inv);
        let reached: Vec<Identity> = Escalation::new(&policy)
            .reach(&UserInfo::impersonated("bob", &[]))
            .into_iter()
            .map(|r| r.identity)
            .collect();
        reached.contains(&sa_id("teams", "powerful"))
    };
    assert!(
        !build(false, None),
        "pinned: pods in teams run only as ci-job"
    );
    assert!(
        build(true, None),
        "matchConditions: the policy may not apply"
    );
    assert!(build(false, Some(&[])), "bob may delete the binding");
    assert!(
        build(false, Some(&["pin"])),
        "bob may delete the binding by its name"
    );
    assert!(
        !build(false, Some(&["other"])),
        "bob may delete another binding only"
    );
}
