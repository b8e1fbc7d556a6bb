//! Requests on Namespaces (issue #8, point 9): `/api/v1/namespaces/NAME` is a request in
//! namespace NAME, so the RoleBindings of NAME apply to it; `/api/v1/namespaces` (list, watch,
//! create) is cluster-wide.
//!
//! The cases are vectors in the style of `vectors/k8s-rbac-vectors.json`, recorded from a real
//! kube-apiserver v1.36.2 (`../shared/k8s`) with kubectl v1.35.2, on the policy [`policy`]
//! builds: each names what Kubernetes answered and how it was asked. They run through
//! [`Action::as_requested`], the one place the engine turns a client's request into the attributes
//! the API server authorizes, and through the answers that share it: `Authorize`,
//! `AllowedSubjects`, `RulesFor` and the escalation search.

use runnerguard_engine::{Action, Escalation, Identity, Policy, Primitive, UserInfo};
use runnerguard_model::{
    Binding, BindingKind, Inventory, Origin, PolicyRule, Role, RoleKind, RoleRef, ServiceAccount,
    Subject,
};

/// One recorded request: who, what, the namespace the client gave (`-n`), and Kubernetes'
/// answer for the request it really makes.
struct Case {
    id: &'static str,
    user: &'static str,
    verb: &'static str,
    /// What `-n` said; the request's namespace does not depend on it.
    given_namespace: &'static str,
    resource: &'static str,
    subresource: &'static str,
    name: &'static str,
    /// The namespace of the request the API server authorizes.
    namespace: &'static str,
    allowed: bool,
    /// What Kubernetes answered, and to what.
    observed: &'static str,
}

const CASES: &[Case] = &[
    Case {
        id: "delete-own-namespace",
        user: "alice",
        verb: "delete",
        given_namespace: "gitlab",
        resource: "namespaces",
        subresource: "",
        name: "gitlab",
        namespace: "gitlab",
        allowed: true,
        observed: "`kubectl auth can-i delete namespaces/gitlab -n gitlab --as alice`: yes; \
                   SubjectAccessReview {delete namespaces gitlab, namespace gitlab}: allowed by \
                   RoleBinding \"ns-deleter/gitlab\"",
    },
    Case {
        id: "delete-own-namespace-without-n",
        user: "alice",
        verb: "delete",
        given_namespace: "default",
        resource: "namespaces",
        subresource: "",
        name: "gitlab",
        namespace: "gitlab",
        allowed: true,
        observed: "`kubectl delete namespace gitlab --as alice --dry-run=server`: deleted. \
                   (`kubectl auth can-i delete namespace/gitlab --as alice` says no: it asks in \
                   the context's namespace, `default`; so does a SubjectAccessReview with no \
                   namespace: not allowed)",
    },
    Case {
        id: "delete-other-namespace",
        user: "alice",
        verb: "delete",
        given_namespace: "gitlab",
        resource: "namespaces",
        subresource: "",
        name: "default",
        namespace: "default",
        allowed: false,
        observed: "`kubectl delete namespace default --as alice --dry-run=server`: Forbidden, \
                   \"cannot delete resource \\\"namespaces\\\" ... in the namespace \\\"default\\\"\"",
    },
    Case {
        id: "get-own-namespace",
        user: "bob",
        verb: "get",
        given_namespace: "default",
        resource: "namespaces",
        subresource: "",
        name: "gitlab",
        namespace: "gitlab",
        allowed: true,
        observed: "`kubectl get namespace gitlab --as bob` (GET /api/v1/namespaces/gitlab): 200",
    },
    Case {
        id: "get-own-namespace-status",
        user: "bob",
        verb: "get",
        given_namespace: "default",
        resource: "namespaces",
        subresource: "status",
        name: "gitlab",
        namespace: "gitlab",
        allowed: true,
        observed: "`kubectl get --raw /api/v1/namespaces/gitlab/status --as bob`: the Namespace",
    },
    Case {
        id: "watch-own-namespace",
        user: "bob",
        verb: "watch",
        given_namespace: "gitlab",
        resource: "namespaces",
        subresource: "",
        name: "gitlab",
        namespace: "",
        allowed: false,
        observed: "`kubectl get namespace gitlab --watch --as bob`: Forbidden, \"cannot watch \
                   resource \\\"namespaces\\\" ... at the cluster scope\" (watched through \
                   /api/v1/namespaces?fieldSelector=metadata.name=gitlab)",
    },
    Case {
        id: "list-own-namespace-by-field-selector",
        user: "bob",
        verb: "list",
        given_namespace: "gitlab",
        resource: "namespaces",
        subresource: "",
        name: "gitlab",
        namespace: "",
        allowed: false,
        observed: "`kubectl get namespaces --field-selector metadata.name=gitlab --as bob`: \
                   Forbidden, \"cannot list resource \\\"namespaces\\\" ... at the cluster scope\"",
    },
    Case {
        id: "list-namespaces",
        user: "bob",
        verb: "list",
        given_namespace: "gitlab",
        resource: "namespaces",
        subresource: "",
        name: "",
        namespace: "",
        allowed: false,
        observed: "`kubectl get namespaces --as bob`: Forbidden, \"cannot list resource \
                   \\\"namespaces\\\" ... at the cluster scope\"",
    },
];

fn rule(verbs: &[&str], resources: &[&str]) -> PolicyRule {
    let v = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect();
    PolicyRule {
        verbs: v(verbs),
        api_groups: vec![String::new()],
        resources: v(resources),
        resource_names: Vec::new(),
        non_resource_urls: Vec::new(),
    }
}

fn role(name: &str, rules: Vec<PolicyRule>) -> Role {
    Role {
        kind: RoleKind::Role,
        name: name.into(),
        namespace: "gitlab".into(),
        labels: std::collections::BTreeMap::default(),
        rules,
        aggregation: None,
        origin: Origin::default(),
    }
}

fn role_binding(ns: &str, role_kind: &str, role: &str, subjects: Vec<Subject>) -> Binding {
    Binding {
        kind: BindingKind::RoleBinding,
        name: role.into(),
        namespace: ns.into(),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: role_kind.into(),
            name: role.into(),
        },
        subjects,
        origin: Origin::default(),
    }
}

/// The manifest the cases were recorded on: in namespace `gitlab`, Role `ns-deleter`
/// (`delete namespaces`) bound to User alice and ServiceAccount gitlab/deployer, and Role
/// `ns-watcher` (`get, list, watch namespaces`; `get, update namespaces/status`) bound to User
/// bob. Added here: User carol may create pods in `gitlab` (and so run as gitlab/deployer), and
/// User dave holds `*` on `*` through a RoleBinding in `gitlab`. The CLI tests read the same
/// manifest, but dave, from `fixtures/namespace-requests.yaml`.
fn policy() -> Policy {
    let inventory = Inventory {
        roles: vec![
            role("ns-deleter", vec![rule(&["delete"], &["namespaces"])]),
            role(
                "ns-watcher",
                vec![
                    rule(&["get", "list", "watch"], &["namespaces"]),
                    rule(&["get", "update"], &["namespaces/status"]),
                ],
            ),
            role("pod-maker", vec![rule(&["create"], &["pods"])]),
            Role {
                kind: RoleKind::ClusterRole,
                namespace: String::new(),
                ..role(
                    "everything",
                    vec![PolicyRule {
                        api_groups: vec!["*".into()],
                        ..rule(&["*"], &["*"])
                    }],
                )
            },
        ],
        bindings: vec![
            role_binding(
                "gitlab",
                "Role",
                "ns-deleter",
                vec![
                    Subject::new("User", "alice"),
                    Subject::service_account("gitlab", "deployer"),
                ],
            ),
            role_binding(
                "gitlab",
                "Role",
                "ns-watcher",
                vec![Subject::new("User", "bob")],
            ),
            role_binding(
                "gitlab",
                "Role",
                "pod-maker",
                vec![Subject::new("User", "carol")],
            ),
            role_binding(
                "gitlab",
                "ClusterRole",
                "everything",
                vec![Subject::new("User", "dave")],
            ),
        ],
        service_accounts: vec![ServiceAccount {
            name: "deployer".into(),
            namespace: "gitlab".into(),
            automount_token: None,
            origin: Origin::default(),
        }],
        ..Inventory::default()
    };
    Policy::new(inventory)
}

fn user(name: &str) -> UserInfo {
    UserInfo::impersonated(name, &[])
}

fn action(c: &Case) -> Action {
    Action::resource(
        c.verb,
        c.given_namespace,
        "",
        c.resource,
        c.subresource,
        c.name,
    )
    .as_requested()
}

/// Every recorded case: the request's namespace, and the authorizer's answer on it.
#[test]
fn recorded_cases() {
    let policy = policy();
    let mut failures = Vec::new();
    for c in CASES {
        let a = action(c);
        let allowed = policy.authorize(&user(c.user), &a).allowed;
        if a.namespace != c.namespace || allowed != c.allowed {
            failures.push(format!(
                "{}: got namespace {:?} allowed {allowed}, want {:?} {} (Kubernetes: {})",
                c.id, a.namespace, c.namespace, c.allowed, c.observed
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `who-can delete namespaces/gitlab` lists the subjects of RoleBindings in `gitlab`.
#[test]
fn allowed_subjects_include_role_bindings_of_the_namespace_itself() {
    let policy = policy();
    let (subjects, errors) = policy.allowed_subjects(
        &Action::resource("delete", "", "", "namespaces", "", "gitlab").as_requested(),
    );
    assert!(errors.is_empty());
    let names: Vec<(&str, &str)> = subjects
        .iter()
        .map(|s| (s.subject.kind.as_str(), s.subject.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("Group", "system:masters"),
            ("User", "alice"),
            ("ServiceAccount", "deployer"),
            ("User", "dave"),
        ]
    );
    // Another Namespace: only system:masters.
    let (subjects, _) = policy.allowed_subjects(
        &Action::resource("delete", "gitlab", "", "namespaces", "", "x").as_requested(),
    );
    assert_eq!(subjects.len(), 1);
}

/// `kubectl auth can-i --list -n gitlab` (a `SelfSubjectRulesReview` in `gitlab`) lists the
/// `namespaces` rules of RoleBindings in `gitlab`: kube-apiserver v1.36.2 printed
/// `namespaces [] [] [delete]` for alice. Elsewhere they are not listed.
#[test]
fn rules_for_the_namespace_list_its_namespace_rules() {
    let policy = policy();
    let listed = |ns: &str| {
        policy
            .rules_for(&user("alice"), ns)
            .rules
            .iter()
            .any(|e| policy.rule(&e.grant).resources == ["namespaces"])
    };
    assert!(listed("gitlab"));
    assert!(!listed("default"));
    assert!(!listed(""));
}

/// The escalation search asks the same question: carol may create pods in `gitlab`, so she
/// may run as gitlab/deployer, which may delete the Namespace `gitlab`; dave's `*` in `gitlab`
/// holds everything in that namespace, the Namespace itself included.
#[test]
fn escalation_reaches_a_namespace_through_its_own_role_bindings() {
    let policy = policy();
    let esc = Escalation::new(&policy);
    let delete_gitlab =
        Action::resource("delete", "default", "", "namespaces", "", "gitlab").as_requested();

    let carol = user("carol");
    assert!(
        !policy.authorize(&carol, &delete_gitlab).allowed,
        "not directly"
    );
    let d = esc.authorize(&carol, &delete_gitlab);
    assert!(d.allowed);
    let via = d.via.expect("a path");
    assert_eq!(
        via.identity,
        Identity::ServiceAccount {
            namespace: "gitlab".into(),
            name: "deployer".into(),
        }
    );
    assert_eq!(via.path[0].primitive, Primitive::CreatePods);

    assert!(
        Escalation::allows_in(
            &policy,
            &Identity::NamespaceAdmin {
                namespace: "gitlab".into()
            },
            &delete_gitlab
        )
        .is_some()
    );
    let dave = user("dave");
    assert!(esc.authorize(&dave, &delete_gitlab).allowed);
    let delete_default =
        Action::resource("delete", "gitlab", "", "namespaces", "", "default").as_requested();
    assert!(!esc.authorize(&dave, &delete_default).allowed);
    assert!(!esc.authorize(&carol, &delete_default).allowed);
}
