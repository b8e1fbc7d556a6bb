//! The engine on a large cluster: 10,000 namespaces of 10 role bindings each.
//!
//! The inventory is built in code (the engine does not depend on the `load` crate, not even
//! for benchmarks), with the shape `tools/gen-inventory` writes: per namespace three service
//! accounts, two or three roles and ten role bindings to those roles or to
//! `view`/`edit`/`admin`, for users, groups and service accounts; plus aggregated default-like
//! cluster roles, 50 custom cluster roles and 100 cluster role bindings.
//!
//! ```text
//! cargo bench -p runnerguard-engine --bench authorize
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use divan::{Bencher, black_box};
use runnerguard_engine::{Action, Policy, UserInfo};
use runnerguard_model::{
    Binding, BindingKind, Inventory, LabelSelector, Namespace, Origin, PolicyRule, Role, RoleKind,
    RoleRef, ServiceAccount, Subject,
};

fn main() {
    // Build both outside any measurement, and check the cases mean what their names say.
    let policy = &*POLICY;
    assert!(policy.authorize(&SA_USER, &ALLOWED).allowed);
    assert!(!policy.authorize(&SA_USER, &DENIED).allowed);
    divan::main();
}

const NAMESPACES: usize = 10_000;
const BINDINGS_PER_NAMESPACE: usize = 10;
const USERS: usize = NAMESPACES / 2;
const GROUPS: usize = NAMESPACES / 20;
const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
const AGGREGATE_PREFIX: &str = "rbac.authorization.k8s.io/aggregate-to-";

static INVENTORY: LazyLock<Inventory> = LazyLock::new(build_inventory);
static POLICY: LazyLock<Policy> = LazyLock::new(|| Policy::new(INVENTORY.clone()));
static SA_USER: LazyLock<UserInfo> =
    LazyLock::new(|| UserInfo::impersonated("system:serviceaccount:ns-5000:deployer", &[]));
/// `deployer` is bound to `pod-reader` in every namespace by `rb-0`.
static ALLOWED: LazyLock<Action> =
    LazyLock::new(|| Action::resource("get", "ns-5000", "", "pods", "", "web-0"));
/// Nothing binds `deployer` beyond `rb-0`, and `pod-reader` does not reach secrets.
static DENIED: LazyLock<Action> =
    LazyLock::new(|| Action::resource("delete", "ns-5000", "", "secrets", "", "db-password"));
static GET_SECRETS: LazyLock<Action> =
    LazyLock::new(|| Action::resource("get", "ns-5000", "", "secrets", "", ""));

#[divan::bench(sample_count = 10, sample_size = 1)]
fn policy_new(bencher: Bencher<'_, '_>) {
    bencher
        .with_inputs(|| INVENTORY.clone())
        .bench_local_values(Policy::new);
}

#[divan::bench]
fn authorize_sa_allowed(bencher: Bencher<'_, '_>) {
    let (policy, user, action) = (&*POLICY, &*SA_USER, &*ALLOWED);
    bencher.bench_local(|| policy.authorize(black_box(user), black_box(action)));
}

#[divan::bench]
fn authorize_sa_denied(bencher: Bencher<'_, '_>) {
    let (policy, user, action) = (&*POLICY, &*SA_USER, &*DENIED);
    bencher.bench_local(|| policy.authorize(black_box(user), black_box(action)));
}

#[divan::bench]
fn allowed_subjects_get_secrets(bencher: Bencher<'_, '_>) {
    let (policy, action) = (&*POLICY, &*GET_SECRETS);
    bencher.bench_local(|| policy.allowed_subjects(black_box(action)));
}

/// xorshift64: deterministic choices without a `rand` dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        usize::try_from(x % u64::try_from(n).unwrap_or(u64::MAX)).unwrap_or(0)
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Appends objects with consecutive origins in one pretend file.
struct Builder {
    inventory: Inventory,
    file: Arc<str>,
    line: u32,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn rule(api_groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        verbs: strings(verbs),
        api_groups: strings(api_groups),
        resources: strings(resources),
        ..PolicyRule::default()
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

const READ: [&str; 3] = ["get", "list", "watch"];
const WRITE: [&str; 7] = [
    "get", "list", "watch", "create", "update", "patch", "delete",
];

impl Builder {
    fn origin(&mut self) -> Origin {
        self.line += 1;
        Origin::new(self.file.clone(), self.line, 1)
    }

    fn cluster_role(
        &mut self,
        name: &str,
        labels: BTreeMap<String, String>,
        rules: Vec<PolicyRule>,
        aggregate_from: Option<&str>,
    ) {
        let origin = self.origin();
        self.inventory.roles.push(Role {
            kind: RoleKind::ClusterRole,
            name: name.to_owned(),
            namespace: String::new(),
            labels,
            rules,
            aggregation: aggregate_from.map(|key| {
                vec![LabelSelector {
                    match_labels: self::labels(&[(key, "true")]),
                    match_expressions: Vec::new(),
                }]
            }),
            origin,
        });
    }

    fn role(&mut self, namespace: &str, name: &str, rules: Vec<PolicyRule>) {
        let origin = self.origin();
        self.inventory.roles.push(Role {
            kind: RoleKind::Role,
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            labels: BTreeMap::new(),
            rules,
            aggregation: None,
            origin,
        });
    }

    fn binding(&mut self, namespace: &str, name: &str, role: (&str, &str), subjects: Vec<Subject>) {
        let origin = self.origin();
        self.inventory.bindings.push(Binding {
            kind: if namespace.is_empty() {
                BindingKind::ClusterRoleBinding
            } else {
                BindingKind::RoleBinding
            },
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            role_ref: RoleRef {
                api_group: RBAC_GROUP.to_owned(),
                kind: role.0.to_owned(),
                name: role.1.to_owned(),
            },
            subjects,
            origin,
        });
    }

    /// A default-policy-like core: `view` → `edit` → `admin` by aggregation, discovery for
    /// every authenticated identity, `cluster-admin` for `system:masters`.
    fn defaults(&mut self) {
        let agg = |to: &str| format!("{AGGREGATE_PREFIX}{to}");
        for (name, to) in [("admin", "admin"), ("edit", "edit"), ("view", "view")] {
            let mut l = labels(&[]);
            if name == "view" {
                l.insert(agg("edit"), "true".to_owned());
            }
            if name == "edit" {
                l.insert(agg("admin"), "true".to_owned());
            }
            self.cluster_role(name, l, Vec::new(), Some(&agg(to)));
        }
        self.cluster_role(
            "system:aggregate-to-view",
            labels(&[(&agg("view"), "true")]),
            vec![
                rule(
                    &[""],
                    &["pods", "pods/log", "configmaps", "services", "endpoints"],
                    &READ,
                ),
                rule(
                    &["apps"],
                    &["deployments", "replicasets", "statefulsets"],
                    &READ,
                ),
                rule(&["batch"], &["jobs", "cronjobs"], &READ),
            ],
            None,
        );
        self.cluster_role(
            "system:aggregate-to-edit",
            labels(&[(&agg("edit"), "true")]),
            vec![
                rule(&[""], &["pods/exec", "pods/attach"], &["create", "get"]),
                rule(
                    &[""],
                    &["pods", "configmaps", "secrets", "services"],
                    &WRITE,
                ),
                rule(
                    &["apps"],
                    &["deployments", "replicasets", "statefulsets"],
                    &WRITE,
                ),
            ],
            None,
        );
        self.cluster_role(
            "system:aggregate-to-admin",
            labels(&[(&agg("admin"), "true")]),
            vec![rule(&[RBAC_GROUP], &["roles", "rolebindings"], &WRITE)],
            None,
        );
        self.cluster_role(
            "cluster-admin",
            labels(&[]),
            vec![
                rule(&["*"], &["*"], &["*"]),
                PolicyRule {
                    verbs: strings(&["*"]),
                    non_resource_urls: strings(&["*"]),
                    ..PolicyRule::default()
                },
            ],
            None,
        );
        self.cluster_role(
            "system:discovery",
            labels(&[]),
            vec![PolicyRule {
                verbs: strings(&["get"]),
                non_resource_urls: strings(&["/api", "/api/*", "/apis", "/apis/*", "/version"]),
                ..PolicyRule::default()
            }],
            None,
        );
        self.cluster_role(
            "system:basic-user",
            labels(&[]),
            vec![rule(
                &["authorization.k8s.io"],
                &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                &["create"],
            )],
            None,
        );
        let group = |name: &str| Subject {
            api_group: RBAC_GROUP.to_owned(),
            ..Subject::new("Group", name)
        };
        self.binding(
            "",
            "cluster-admin",
            ("ClusterRole", "cluster-admin"),
            vec![group("system:masters")],
        );
        for name in ["system:discovery", "system:basic-user"] {
            self.binding(
                "",
                name,
                ("ClusterRole", name),
                vec![group("system:authenticated")],
            );
        }
    }

    /// 50 custom cluster roles (some aggregated into the defaults) and 100 bindings of them.
    fn platform(&mut self, rng: &mut Rng) {
        for k in 0..50 {
            let group = format!("example{k}.io");
            let (l, rules, from) = match k % 5 {
                0 => (
                    labels(&[(&format!("{AGGREGATE_PREFIX}view"), "true")]),
                    vec![rule(&[&group], &["widgets"], &READ)],
                    None,
                ),
                1 => (
                    labels(&[(&format!("{AGGREGATE_PREFIX}edit"), "true")]),
                    vec![rule(&[&group], &["widgets"], &WRITE)],
                    None,
                ),
                2 => (labels(&[]), Vec::new(), Some("example.com/monitoring")),
                3 => (
                    labels(&[("example.com/monitoring", "true")]),
                    vec![rule(&[""], &["pods", "nodes", "endpoints"], &READ)],
                    None,
                ),
                _ => (
                    labels(&[]),
                    vec![
                        rule(&[""], &["namespaces", "nodes"], &READ),
                        rule(&["apps"], &["deployments"], &WRITE),
                    ],
                    None,
                ),
            };
            self.cluster_role(&format!("platform-{k}"), l, rules, from);
        }
        for k in 0..100 {
            let role = if rng.chance(85) {
                format!("platform-{}", rng.below(50))
            } else {
                "view".to_owned()
            };
            let subjects = (0..=rng.below(2))
                .map(|_| {
                    let ns = format!("ns-{}", rng.below(NAMESPACES));
                    random_subject(rng, &ns, false)
                })
                .collect();
            self.binding("", &format!("crb-{k}"), ("ClusterRole", &role), subjects);
        }
    }

    fn namespace(&mut self, i: usize, rng: &mut Rng) {
        let ns = format!("ns-{i}");
        let origin = self.origin();
        self.inventory.namespaces.push(Namespace {
            name: ns.clone(),
            labels: labels(&[("kubernetes.io/metadata.name", &ns)]),
            origin,
        });
        for sa in ["default", "deployer", "runner"] {
            let origin = self.origin();
            self.inventory.service_accounts.push(ServiceAccount {
                name: sa.to_owned(),
                namespace: ns.clone(),
                automount_token: None,
                origin,
            });
        }
        let mut roles = vec!["pod-reader"];
        roles.push(["pod-exec", "ci-runner"][rng.below(2)]);
        if rng.chance(50) {
            roles.push("secret-reader");
        }
        for &name in &roles {
            let rules = match name {
                "pod-reader" => vec![rule(&[""], &["pods", "pods/log"], &READ)],
                "pod-exec" => vec![
                    rule(&[""], &["pods"], &["get", "list"]),
                    rule(&[""], &["pods/exec"], &["create"]),
                ],
                "secret-reader" => vec![
                    PolicyRule {
                        resource_names: vec![format!("app-{i}-token"), "tls-cert".to_owned()],
                        ..rule(&[""], &["secrets"], &["get"])
                    },
                    rule(&[""], &["configmaps"], &READ),
                ],
                _ => vec![
                    rule(&[""], &["pods", "pods/log"], &WRITE),
                    rule(&[""], &["pods/exec", "pods/attach"], &["create"]),
                    rule(&[""], &["secrets"], &["get", "create", "delete"]),
                    rule(&["batch"], &["jobs"], &WRITE),
                ],
            };
            self.role(&ns, name, rules);
        }
        // `rb-0` is the benchmark's known grant; the rest are random.
        self.binding(
            &ns,
            "rb-0",
            ("Role", "pod-reader"),
            vec![Subject::service_account(&ns, "deployer")],
        );
        for j in 1..BINDINGS_PER_NAMESPACE {
            let role = if rng.chance(60) {
                ("Role", roles[rng.below(roles.len())])
            } else {
                (
                    "ClusterRole",
                    ["view", "view", "edit", "admin"][rng.below(4)],
                )
            };
            let subjects = (0..=rng.below(3))
                .map(|_| random_subject(rng, &ns, true))
                .collect();
            self.binding(&ns, &format!("rb-{j}"), role, subjects);
        }
    }
}

/// A user, a group or a service account of `namespace` other than `deployer`.
fn random_subject(rng: &mut Rng, namespace: &str, in_role_binding: bool) -> Subject {
    let roll = rng.below(100);
    if roll < 40 {
        let name = ["default", "runner"][rng.below(2)];
        if in_role_binding && rng.chance(20) {
            Subject::new("ServiceAccount", name)
        } else {
            Subject::service_account(namespace, name)
        }
    } else {
        let (kind, name) = if roll < 75 {
            ("User", format!("user-{}", rng.below(USERS)))
        } else {
            ("Group", format!("team-{}", rng.below(GROUPS)))
        };
        Subject {
            api_group: RBAC_GROUP.to_owned(),
            ..Subject::new(kind, &name)
        }
    }
}

fn build_inventory() -> Inventory {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut b = Builder {
        inventory: Inventory::default(),
        file: Arc::from("bench:inventory.json"),
        line: 1,
    };
    b.defaults();
    b.platform(&mut rng);
    for i in 0..NAMESPACES {
        b.namespace(i, &mut rng);
    }
    b.inventory
}
