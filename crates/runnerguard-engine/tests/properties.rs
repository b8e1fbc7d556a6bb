//! Property tests: laws the authorizer must obey for any policy, checked on random small
//! policies drawn from a tiny alphabet so that matches and near-matches are frequent.

use proptest::prelude::*;
use std::collections::BTreeSet;

use runnerguard_engine::{Action, Escalation, Identity, Policy, UserInfo, rule_allows};
use runnerguard_model::{
    Binding, BindingKind, Inventory, Origin, PolicyRule, Role, RoleKind, RoleRef, Subject,
};

const VERBS: &[&str] = &["get", "list", "create", "*"];
const GROUPS: &[&str] = &["", "apps", "*"];
const RESOURCES: &[&str] = &["pods", "pods/exec", "secrets", "*", "*/exec", "pods/*"];
const NAMES: &[&str] = &["a", "b"];
const NAMESPACES: &[&str] = &["ns1", "ns2"];
const USERS: &[&str] = &["alice", "bob", "system:serviceaccount:ns1:sa"];
const USER_GROUPS: &[&str] = &["devs", "ops", "system:serviceaccounts:ns1"];

fn pick(options: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(options).prop_map(str::to_owned)
}

fn some_of(options: &'static [&'static str], max: usize) -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(pick(options), 0..=max)
}

fn rule() -> impl Strategy<Value = PolicyRule> {
    (
        some_of(VERBS, 2),
        some_of(GROUPS, 2),
        some_of(RESOURCES, 2),
        prop_oneof![3 => Just(Vec::new()), 1 => some_of(NAMES, 1)],
    )
        .prop_map(
            |(verbs, api_groups, resources, resource_names)| PolicyRule {
                verbs,
                api_groups,
                resources,
                resource_names,
                non_resource_urls: Vec::new(),
            },
        )
}

fn subject() -> impl Strategy<Value = Subject> {
    prop_oneof![
        pick(USERS).prop_map(|u| Subject::new("User", &u)),
        pick(USER_GROUPS).prop_map(|g| Subject::new("Group", &g)),
        Just(Subject::service_account("ns1", "sa")),
        // An SA subject with no namespace: takes a RoleBinding's namespace.
        Just(Subject::new("ServiceAccount", "sa")),
    ]
}

fn role(
    kind: RoleKind,
    namespace: &'static str,
    name: &'static str,
) -> impl Strategy<Value = Role> {
    proptest::collection::vec(rule(), 0..3).prop_map(move |rules| Role {
        kind,
        name: name.to_owned(),
        namespace: namespace.to_owned(),
        labels: std::collections::BTreeMap::default(),
        rules,
        aggregation: None,
        origin: Origin::default(),
    })
}

fn binding() -> impl Strategy<Value = Binding> {
    (
        prop::bool::ANY,
        pick(NAMESPACES),
        prop_oneof![
            Just(("Role", "r")),
            Just(("ClusterRole", "c")),
            Just(("ClusterRole", "missing"))
        ],
        proptest::collection::vec(subject(), 1..3),
    )
        .prop_map(|(cluster, namespace, (kind, name), subjects)| Binding {
            kind: if cluster {
                BindingKind::ClusterRoleBinding
            } else {
                BindingKind::RoleBinding
            },
            name: String::new(),
            namespace: if cluster { String::new() } else { namespace },
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".to_owned(),
                kind: kind.to_owned(),
                name: name.to_owned(),
            },
            subjects,
            origin: Origin::default(),
        })
}

fn inventory() -> impl Strategy<Value = Inventory> {
    (
        role(RoleKind::Role, "ns1", "r"),
        role(RoleKind::Role, "ns2", "r"),
        role(RoleKind::ClusterRole, "", "c"),
        proptest::collection::vec(binding(), 0..6),
    )
        .prop_map(|(r1, r2, c, bindings)| Inventory {
            roles: vec![r1, r2, c],
            bindings,
            ..Inventory::default()
        })
}

/// Like [`inventory`], with up to 24 bindings: a subject then has entries in both namespaces
/// and cluster-wide, which the policy's index sorts by scope.
fn larger_inventory() -> impl Strategy<Value = Inventory> {
    (inventory(), proptest::collection::vec(binding(), 0..24)).prop_map(|(mut inv, more)| {
        inv.bindings.extend(more);
        inv
    })
}

/// The grants of `action` for `user` by a scan of every binding, in Kubernetes' visiting
/// order (`VisitRulesFor`: ClusterRoleBindings, then the RoleBindings of the request's
/// namespace, each in input order, with its first applying subject and every rule of its
/// role that allows): (binding, subject, rule) indexes.
fn scanned_grants(policy: &Policy, user: &UserInfo, action: &Action) -> Vec<(usize, usize, usize)> {
    let cluster = policy
        .bindings_with_ids()
        .filter(|(_, b)| b.kind == BindingKind::ClusterRoleBinding);
    let namespaced = policy.bindings_with_ids().filter(|(_, b)| {
        b.kind == BindingKind::RoleBinding
            && !action.namespace.is_empty()
            && b.namespace == action.namespace
    });
    let mut out = Vec::new();
    for (id, b) in cluster.chain(namespaced) {
        let Some(subject) = runnerguard_engine::applies_to(user, &b.subjects, &b.namespace) else {
            continue;
        };
        let Ok(role) = policy.binding_role(id) else {
            continue;
        };
        for (i, rule) in policy.role(role).rules.iter().enumerate() {
            if rule_allows(rule, action) {
                out.push((id.index(), subject, i));
            }
        }
    }
    out
}

fn action() -> impl Strategy<Value = Action> {
    (
        pick(&["get", "list", "create"]),
        prop_oneof![pick(NAMESPACES), Just(String::new())],
        pick(&["", "apps"]),
        pick(&["pods", "secrets"]),
        pick(&["", "exec"]),
        pick(&["", "a", "b"]),
    )
        .prop_map(|(verb, ns, group, resource, sub, name)| {
            Action::resource(&verb, &ns, &group, &resource, &sub, &name)
        })
}

fn user() -> impl Strategy<Value = UserInfo> {
    (pick(USERS), some_of(USER_GROUPS, 2)).prop_map(|(name, groups)| UserInfo { name, groups })
}

proptest! {
    /// A rule with `*` verbs, groups and resources allows every resource request.
    #[test]
    fn star_rule_allows_everything(action in action()) {
        let star = PolicyRule {
            verbs: vec!["*".into()],
            api_groups: vec!["*".into()],
            resources: vec!["*".into()],
            ..PolicyRule::default()
        };
        prop_assert!(rule_allows(&star, &action));
    }

    /// An empty list matches nothing: a rule without verbs allows nothing.
    #[test]
    fn rule_without_verbs_allows_nothing(mut r in rule(), action in action()) {
        r.verbs.clear();
        prop_assert!(!rule_allows(&r, &action));
    }

    /// RBAC only allows: adding a binding never turns an allow into a deny.
    #[test]
    fn adding_a_binding_is_monotonic(inv in inventory(), extra in binding(), user in user(), action in action()) {
        let before = Policy::new(inv.clone()).authorize(&user, &action).allowed;
        let mut more = inv;
        more.bindings.push(extra);
        let after = Policy::new(more).authorize(&user, &action).allowed;
        prop_assert!(!before || after);
    }

    /// Order does not matter: reversing the bindings gives the same answer.
    #[test]
    fn binding_order_is_irrelevant(inv in inventory(), user in user(), action in action()) {
        let forward = Policy::new(inv.clone()).authorize(&user, &action).allowed;
        let mut reversed = inv;
        reversed.bindings.reverse();
        prop_assert_eq!(forward, Policy::new(reversed).authorize(&user, &action).allowed);
    }

    /// Each grant really allows: its rule matches and its binding names the user.
    #[test]
    fn grants_are_sound(inv in inventory(), user in user(), action in action()) {
        let policy = Policy::new(inv);
        let decision = policy.authorize(&user, &action);
        prop_assert_eq!(decision.allowed, !decision.grants.is_empty());
        for g in &decision.grants {
            prop_assert!(rule_allows(policy.rule(g), &action));
            let b = policy.binding(g.binding);
            let applies = runnerguard_engine::applies_to(&user, &b.subjects, &b.namespace);
            prop_assert_eq!(applies, Some(g.subject_index));
            if b.kind == BindingKind::RoleBinding {
                prop_assert_eq!(&b.namespace, &action.namespace);
            }
        }
    }

    /// The indexed authorizer finds exactly the grants a scan of every binding finds, in
    /// Kubernetes' visiting order (the index finds a namespace's entries by bisection).
    #[test]
    fn grants_are_those_of_a_scan_in_visiting_order(
        inv in larger_inventory(),
        user in user(),
        action in action(),
    ) {
        let policy = Policy::new(inv);
        let found: Vec<(usize, usize, usize)> = policy
            .authorize(&user, &action)
            .grants
            .iter()
            .map(|g| (g.binding.index(), g.subject_index, g.rule_index))
            .collect();
        prop_assert_eq!(found, scanned_grants(&policy, &user, &action));
    }

    /// The indexed authorizer and the scanning subject locator agree: a user is allowed if
    /// and only if who-can lists a subject that applies to it.
    #[test]
    fn authorizer_and_subject_locator_agree(inv in inventory(), user in user(), action in action()) {
        let policy = Policy::new(inv);
        let allowed = policy.authorize(&user, &action).allowed;
        let (subjects, _) = policy.allowed_subjects(&action);
        let listed = subjects.iter().any(|s| {
            s.grant.as_ref().is_some_and(|g| {
                let b = policy.binding(g.binding);
                runnerguard_engine::applies_to(&user, std::slice::from_ref(&s.subject), &b.namespace).is_some()
            })
        });
        prop_assert_eq!(allowed, listed);
    }

    /// Who-can split by scope (RG114 asks the ClusterRoleBindings once for many namespaces):
    /// the answer without a namespace, then the namespace's RoleBindings, is the answer.
    #[test]
    fn allowed_subjects_are_the_cluster_part_then_the_role_bindings(
        inv in inventory(),
        action in action(),
    ) {
        let policy = Policy::new(inv);
        let mut anywhere = action.clone();
        anywhere.namespace = String::new();
        let (mut split, mut errors) = policy.allowed_subjects(&anywhere);
        let (here, here_errors) = policy.allowed_subjects_by_role_bindings(&action);
        split.extend(here);
        errors.extend(here_errors);
        let (whole, whole_errors) = policy.allowed_subjects(&action);
        prop_assert_eq!(split, whole);
        prop_assert_eq!(errors, whole_errors);
    }

    /// `reachable` (the fast path of `paths --all-service-accounts`) finds exactly the
    /// identities `reach` finds, with or without the scopes prepared first.
    #[test]
    fn reachable_is_reach_without_paths(inv in inventory(), user in user()) {
        let policy = Policy::new(inv);
        let expected: BTreeSet<Identity> = Escalation::new(&policy)
            .reach(&user)
            .into_iter()
            .skip(1)
            .map(|r| r.identity)
            .collect();
        let plain: BTreeSet<Identity> = Escalation::new(&policy).reachable(&user).into_iter().collect();
        prop_assert_eq!(&plain, &expected);
        let prepared = Escalation::new(&policy);
        prepared.prepare(std::slice::from_ref(&user));
        let prepared: BTreeSet<Identity> = prepared.reachable(&user).into_iter().collect();
        prop_assert_eq!(&prepared, &expected);
    }
}
