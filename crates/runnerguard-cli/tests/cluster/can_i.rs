//! `runnerguard can-i` against the API server's own authorizer: random RBAC scenarios
//! (roles, cluster roles aggregated by the real controller, bindings to users, groups and
//! ServiceAccounts, wildcards, resourceNames, subresources, non-resource URLs,
//! `namespaces/NAME`) are applied to the cluster, and every query is asked of both
//! `runnerguard can-i` (offline, on the same file) and a `SubjectAccessReview`.
//!
//! Seeded and reproducible: `RUNNERGUARD_DIFF_SEED` picks the first scenario's seed (default
//! 1), `RUNNERGUARD_DIFF_SCENARIOS` how many (default 4), `RUNNERGUARD_DIFF_QUERIES` the queries
//! per scenario (default 120). Each scenario's objects, subjects and namespaces carry its seed
//! in their names, so scenarios applied to the same cluster never grant each other anything.

use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Cluster, root};

/// xorshift64*: enough randomness for test data, reproducible from a seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A non-empty random subset, in the slice's order.
    fn subset<T: Clone>(&mut self, items: &[T]) -> Vec<T> {
        loop {
            let out: Vec<T> = items.iter().filter(|_| self.chance(30)).cloned().collect();
            if !out.is_empty() {
                return out;
            }
        }
    }
}

/// A resource type: its API group, plural name, whether it is namespaced, and the TYPE
/// argument `can-i` takes for it.
struct Kind {
    group: &'static str,
    resource: &'static str,
    namespaced: bool,
    arg: &'static str,
}

const KINDS: &[Kind] = &[
    Kind {
        group: "",
        resource: "pods",
        namespaced: true,
        arg: "pods",
    },
    Kind {
        group: "",
        resource: "secrets",
        namespaced: true,
        arg: "secrets",
    },
    Kind {
        group: "",
        resource: "configmaps",
        namespaced: true,
        arg: "configmaps",
    },
    Kind {
        group: "",
        resource: "serviceaccounts",
        namespaced: true,
        arg: "serviceaccounts",
    },
    Kind {
        group: "",
        resource: "namespaces",
        namespaced: false,
        arg: "namespaces",
    },
    Kind {
        group: "",
        resource: "nodes",
        namespaced: false,
        arg: "nodes",
    },
    Kind {
        group: "apps",
        resource: "deployments",
        namespaced: true,
        arg: "deployments.apps",
    },
    Kind {
        group: "batch",
        resource: "jobs",
        namespaced: true,
        arg: "jobs.batch",
    },
    Kind {
        group: "rbac.authorization.k8s.io",
        resource: "roles",
        namespaced: true,
        arg: "roles.rbac.authorization.k8s.io",
    },
    Kind {
        group: "rbac.authorization.k8s.io",
        resource: "clusterroles",
        namespaced: false,
        arg: "clusterroles.rbac.authorization.k8s.io",
    },
    Kind {
        group: "example.com",
        resource: "widgets",
        namespaced: true,
        arg: "widgets.example.com",
    },
];

const SUBRESOURCES: &[&str] = &["exec", "log", "status", "scale", "token"];
const VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];
const NAMES: &[&str] = &["n0", "n1"];
const URLS: &[&str] = &[
    "/healthz", "/logs", "/logs/a", "/api", "/api/v1", "/version", "/metrics",
];

/// One scenario: the objects (a List) and what queries may name.
struct Scenario {
    seed: u64,
    list: Value,
    namespaces: Vec<String>,
    users: Vec<String>,
    groups: Vec<String>,
    service_accounts: Vec<(String, String)>,
    aggregated: Vec<String>,
}

fn rule(rng: &mut Rng, cluster: bool) -> Value {
    if cluster && rng.chance(15) {
        let urls = rng.subset(&["/healthz", "/logs/*", "/api/*", "/version", "*"]);
        let verbs = rng.subset(&["get", "post", "*"]);
        return json!({"nonResourceURLs": urls, "verbs": verbs});
    }
    let groups = rng.subset(&[
        "",
        "apps",
        "batch",
        "rbac.authorization.k8s.io",
        "example.com",
        "*",
    ]);
    let mut resources: Vec<String> = rng
        .subset(&[
            "pods",
            "secrets",
            "configmaps",
            "serviceaccounts",
            "namespaces",
            "nodes",
            "deployments",
            "jobs",
            "roles",
            "clusterroles",
            "widgets",
            "*",
        ])
        .into_iter()
        .map(str::to_owned)
        .collect();
    if rng.chance(30) {
        resources.push(
            (*rng.pick(&[
                "pods/exec",
                "pods/log",
                "*/scale",
                "deployments/scale",
                "serviceaccounts/token",
                "pods/*",
            ]))
            .to_owned(),
        );
    }
    let verbs = if rng.chance(15) {
        vec!["*"]
    } else {
        rng.subset(VERBS)
    };
    let mut r = json!({"apiGroups": groups, "resources": resources, "verbs": verbs});
    if rng.chance(20) {
        r["resourceNames"] = json!(rng.subset(NAMES));
    }
    r
}

fn rules(rng: &mut Rng, cluster: bool) -> Vec<Value> {
    (0..=rng.below(3)).map(|_| rule(rng, cluster)).collect()
}

const RBAC: &str = "rbac.authorization.k8s.io/v1";

fn scenario(seed: u64) -> Scenario {
    let mut rng = Rng::new(seed);
    let p = format!("rg{seed}");
    let namespaces: Vec<String> = (0..3).map(|i| format!("{p}-ns{i}")).collect();
    let users: Vec<String> = (0..3).map(|i| format!("{p}-u{i}")).collect();
    let groups: Vec<String> = (0..2).map(|i| format!("{p}-g{i}")).collect();
    let service_accounts: Vec<(String, String)> = namespaces[..2]
        .iter()
        .flat_map(|ns| (0..2).map(move |i| (ns.clone(), format!("sa{i}"))))
        .collect();
    let mut items = Vec::new();
    for ns in &namespaces {
        items.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
    }
    for (ns, name) in &service_accounts {
        items.push(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}}));
    }
    // Cluster roles, some labelled for the aggregated ones.
    let mut cluster_roles = Vec::new();
    let mut aggregated = Vec::new();
    for a in 0..2 {
        let name = format!("{p}-agg{a}");
        items.push(json!({
            "apiVersion": RBAC, "kind": "ClusterRole",
            "metadata": {"name": name},
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"runnerguard.test/aggregate": format!("{p}-{a}")}}]},
            "rules": [],
        }));
        cluster_roles.push(name.clone());
        aggregated.push(name);
    }
    for c in 0..4 {
        let name = format!("{p}-cr{c}");
        let mut role = json!({"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": name}, "rules": rules(&mut rng, true)});
        if rng.chance(50) {
            role["metadata"]["labels"] =
                json!({"runnerguard.test/aggregate": format!("{p}-{}", rng.below(2))});
        }
        items.push(role);
        cluster_roles.push(name);
    }
    // Roles in the namespaces.
    let mut roles = Vec::new();
    for (i, ns) in namespaces.iter().enumerate() {
        let name = format!("{p}-r{i}");
        items.push(json!({"apiVersion": RBAC, "kind": "Role", "metadata": {"name": name, "namespace": ns}, "rules": rules(&mut rng, false)}));
        roles.push((ns.clone(), name));
    }
    // Subjects a binding may name.
    let mut subjects: Vec<Value> = Vec::new();
    for u in &users {
        subjects.push(json!({"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": u}));
    }
    for g in &groups {
        subjects.push(json!({"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": g}));
    }
    for (ns, name) in &service_accounts {
        subjects.push(json!({"kind": "ServiceAccount", "name": name, "namespace": ns}));
    }
    subjects.push(json!({"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": format!("system:serviceaccounts:{}", namespaces[1])}));
    // The account `system:serviceaccount:NS:NAME` as a User subject is the same identity.
    let (ns0, sa0) = &service_accounts[0];
    subjects.push(json!({"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": format!("system:serviceaccount:{ns0}:{sa0}")}));
    for b in 0..6 {
        let chosen = {
            let n = 1 + rng.below(2);
            (0..n)
                .map(|_| rng.pick(&subjects).clone())
                .collect::<Vec<_>>()
        };
        if rng.chance(35) {
            let role = rng.pick(&cluster_roles).clone();
            items.push(json!({"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": format!("{p}-crb{b}")},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}, "subjects": chosen}));
        } else {
            let ns = rng.pick(&namespaces).clone();
            let role_ref = if rng.chance(50) {
                json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": rng.pick(&cluster_roles)})
            } else if rng.chance(85) {
                let own: Vec<&(String, String)> =
                    roles.iter().filter(|(rns, _)| *rns == ns).collect();
                json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": own[0].1})
            } else {
                // A role that does not exist: the binding grants nothing.
                json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": format!("{p}-missing")})
            };
            items.push(json!({"apiVersion": RBAC, "kind": "RoleBinding", "metadata": {"name": format!("{p}-rb{b}"), "namespace": ns},
                "roleRef": role_ref, "subjects": chosen}));
        }
    }
    Scenario {
        seed,
        list: json!({"apiVersion": "v1", "kind": "List", "items": items}),
        namespaces,
        users,
        groups,
        service_accounts,
        aggregated,
    }
}

/// One question, as `can-i` arguments and as a `SubjectAccessReview` spec.
struct Query {
    args: Vec<String>,
    spec: Value,
}

fn query(rng: &mut Rng, s: &Scenario) -> Query {
    let mut args = Vec::new();
    let (user, groups): (String, Vec<String>) = if rng.chance(30) {
        let (ns, name) = rng.pick(&s.service_accounts);
        (
            format!("system:serviceaccount:{ns}:{name}"),
            vec![
                "system:serviceaccounts".to_owned(),
                format!("system:serviceaccounts:{ns}"),
                "system:authenticated".to_owned(),
            ],
        )
    } else {
        let user = rng.pick(&s.users).clone();
        let mut groups: Vec<String> = s
            .groups
            .iter()
            .filter(|_| rng.chance(40))
            .cloned()
            .collect();
        for g in &groups {
            args.extend(["--as-group".to_owned(), g.clone()]);
        }
        groups.push("system:authenticated".to_owned());
        (user, groups)
    };
    args.extend(["--as".to_owned(), user.clone()]);
    if rng.chance(12) {
        let url = *rng.pick(URLS);
        let verb = *rng.pick(&["get", "post"]);
        args.splice(0..0, [verb.to_owned(), url.to_owned()]);
        return Query {
            args,
            spec: json!({"user": user, "groups": groups, "nonResourceAttributes": {"path": url, "verb": verb}}),
        };
    }
    let kind = rng.pick(KINDS);
    let verb = *rng.pick(VERBS);
    let name = if rng.chance(40) {
        Some(*rng.pick(&["n0", "n1", "n2"]))
    } else {
        None
    };
    let subresource = if rng.chance(20) {
        Some(*rng.pick(SUBRESOURCES))
    } else {
        None
    };
    let mut attributes = json!({"verb": verb, "group": kind.group, "resource": kind.resource});
    let target = match name {
        Some(n) => format!("{}/{n}", kind.arg),
        None => kind.arg.to_owned(),
    };
    if kind.namespaced {
        let ns = rng.pick(&s.namespaces).clone();
        args.extend(["-n".to_owned(), ns.clone()]);
        attributes["namespace"] = json!(ns);
    } else if kind.resource == "namespaces" && rng.chance(60) {
        // `namespaces/NAME`: a request on one Namespace by its path (`get`, `update`,
        // `patch`, `delete` of /api/v1/namespaces/NAME) is made in namespace NAME, so
        // RoleBindings there apply (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go:
        // `if currentParts[0] == "namespaces" { ... requestInfo.Namespace = currentParts[1]`);
        // runnerguard asks that request. Other verbs have no such path (a list by name is
        // `?fieldSelector=metadata.name=NAME` on the collection): cluster-wide.
        let ns = rng.pick(&s.namespaces).clone();
        let target = format!("namespaces/{ns}");
        if ["get", "update", "patch", "delete"].contains(&verb) {
            attributes["namespace"] = json!(ns);
        }
        attributes["name"] = json!(ns);
        if let Some(sub) = subresource {
            args.extend(["--subresource".to_owned(), sub.to_owned()]);
            attributes["subresource"] = json!(sub);
        }
        args.splice(0..0, [verb.to_owned(), target]);
        return Query {
            args,
            spec: json!({"user": user, "groups": groups, "resourceAttributes": attributes}),
        };
    }
    if let Some(n) = name {
        attributes["name"] = json!(n);
    }
    if let Some(sub) = subresource {
        args.extend(["--subresource".to_owned(), sub.to_owned()]);
        attributes["subresource"] = json!(sub);
    }
    args.splice(0..0, [verb.to_owned(), target]);
    Query {
        args,
        spec: json!({"user": user, "groups": groups, "resourceAttributes": attributes}),
    }
}

/// Waits until the controller manager has aggregated every aggregated role of the scenario:
/// their rules equal, as sets, the union of the labelled roles' rules.
fn wait_for_aggregation(cluster: &Cluster, s: &Scenario) {
    let items = s.list["items"].as_array().unwrap();
    let start = Instant::now();
    for (a, name) in s.aggregated.iter().enumerate() {
        let label = format!("rg{}-{a}", s.seed);
        let mut want: Vec<String> = items
            .iter()
            .filter(|o| o["metadata"]["labels"]["runnerguard.test/aggregate"] == json!(label))
            .flat_map(|o| o["rules"].as_array().unwrap().iter().map(Value::to_string))
            .collect();
        want.sort();
        want.dedup();
        loop {
            let out = cluster.kubectl_ok(&["get", "clusterrole", name, "-o", "json"], None);
            let role: Value = serde_json::from_str(&out).unwrap();
            let mut got: Vec<String> = role["rules"]
                .as_array()
                .map(|r| r.iter().map(normalise_rule).collect())
                .unwrap_or_default();
            got.sort();
            got.dedup();
            let want_norm: Vec<String> = {
                let mut w: Vec<String> = want
                    .iter()
                    .map(|r| normalise_rule(&serde_json::from_str(r).unwrap()))
                    .collect();
                w.sort();
                w.dedup();
                w
            };
            if got == want_norm {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "ClusterRole {name} not aggregated after 60 s: has {got:?}, wants {want_norm:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// A rule as the API server returns it: empty lists dropped, keys sorted.
fn normalise_rule(rule: &Value) -> String {
    let mut out = serde_json::Map::new();
    for (k, v) in rule.as_object().unwrap() {
        if v.as_array().is_some_and(|a| !a.is_empty()) {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out).to_string()
}

/// Asks every query of the API server in one kubectl call: a List of `SubjectAccessReview`s,
/// created one by one over one connection. kubectl prints one object per item.
fn reviews(cluster: &Cluster, queries: &[Query]) -> Vec<bool> {
    let items: Vec<Value> = queries
        .iter()
        .map(|q| json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": q.spec}))
        .collect();
    let list = json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string();
    let out = cluster.kubectl_ok(&["create", "-f", "-", "-o", "json"], Some(list.as_bytes()));
    let answers: Vec<bool> = serde_json::Deserializer::from_str(&out)
        .into_iter::<Value>()
        .map(|v| v.unwrap()["status"]["allowed"].as_bool().unwrap_or(false))
        .collect();
    assert_eq!(answers.len(), queries.len(), "one review per query");
    answers
}

/// runnerguard's answer: exit 0 yes, 1 no.
fn runnerguard(file: &std::path::Path, q: &Query, extra: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_runnerguard"))
        .arg("can-i")
        .args(&q.args)
        .args(extra)
        .arg("-f")
        .arg(file)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match out.status.code() {
        Some(0) => (true, text),
        Some(1) => (false, text),
        other => panic!("runnerguard can-i {:?}: exit {other:?}\n{text}", q.args),
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The differential: every disagreement fails the test, with the scenario's seed, the query
/// and runnerguard's explanation.
pub(crate) fn agrees_with_subject_access_reviews(cluster: &Cluster) {
    let first = env_u64("RUNNERGUARD_DIFF_SEED", 1);
    let scenarios = env_u64("RUNNERGUARD_DIFF_SCENARIOS", 4);
    let per_scenario = usize::try_from(env_u64("RUNNERGUARD_DIFF_QUERIES", 120)).unwrap();
    let mut asked = 0;
    let mut allowed = 0;
    let mut who_asked = 0;
    let mut who_allowed = 0;
    let mut disagreements = String::new();
    for seed in first..first + scenarios {
        let s = scenario(seed);
        let file = cluster.scratch().join(format!("scenario-{seed}.json"));
        std::fs::write(&file, serde_json::to_string_pretty(&s.list).unwrap()).unwrap();
        cluster.kubectl_ok(
            &["apply", "--server-side", "-f", file.to_str().unwrap()],
            None,
        );
        wait_for_aggregation(cluster, &s);
        let mut rng = Rng::new(seed ^ 0xA5A5);
        let queries: Vec<Query> = (0..per_scenario).map(|_| query(&mut rng, &s)).collect();
        let truth = reviews(cluster, &queries);
        // runnerguard is a process per query: two at a time, on two cores.
        let half = queries.len().div_ceil(2);
        let answers: Vec<bool> = std::thread::scope(|scope| {
            let workers: Vec<_> = queries
                .chunks(half.max(1))
                .map(|chunk| {
                    let file = &file;
                    scope.spawn(move || {
                        chunk
                            .iter()
                            .map(|q| runnerguard(file, q, &["-q"]).0)
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect()
        });
        let (who, pairs, mismatches) = who_can(
            cluster,
            &s,
            &file,
            &queries[..queries.len().min(WHO_CAN_QUERIES)],
        );
        who_asked += who;
        who_allowed += pairs;
        disagreements.push_str(&mismatches);
        for ((q, &want), &got) in queries.iter().zip(&truth).zip(&answers) {
            asked += 1;
            allowed += usize::from(want);
            if got != want {
                let (_, explained) = runnerguard(&file, q, &["--explain"]);
                let _ = writeln!(
                    disagreements,
                    "seed {seed}: runnerguard can-i {} → {got}, SubjectAccessReview {} → {want}\n{explained}",
                    q.args.join(" "),
                    q.spec
                );
            }
        }
    }
    eprintln!(
        "can-i differential: {asked} queries, {allowed} allowed by the API server; who-can: {who_asked} queries against a review per scenario subject, {who_allowed} (query, subject) pairs allowed"
    );
    assert!(
        disagreements.is_empty(),
        "runnerguard can-i or who-can disagrees with the API server:\n{disagreements}"
    );
    // The queries must exercise both answers, or the comparison proves little.
    assert!(
        allowed > asked / 20 && allowed < asked - asked / 20,
        "{allowed} of {asked} allowed"
    );
}

/// How many of each scenario's queries are also asked as `who-can`.
const WHO_CAN_QUERIES: usize = 40;

/// An identity a binding can name, as the authorizer sees it: `user:NAME` (a
/// ServiceAccount is the user `system:serviceaccount:NS:NAME`) or `group:NAME`.
fn identity(subject: &Value) -> String {
    let name = subject["name"].as_str().unwrap_or_default();
    match subject["kind"].as_str().unwrap_or_default() {
        "ServiceAccount" => format!(
            "user:system:serviceaccount:{}:{name}",
            subject["namespace"].as_str().unwrap_or_default()
        ),
        "Group" => format!("group:{name}"),
        _ => format!("user:{name}"),
    }
}

/// `who-can` for each of `queries` (their request, without the asking identity) against
/// the scenario's subjects: the identities runnerguard lists must be exactly those a
/// `SubjectAccessReview` of each subject alone allows. Returns how many queries were
/// compared, how many (query, subject) pairs the reviews allowed, and the disagreements.
fn who_can(
    cluster: &Cluster,
    s: &Scenario,
    file: &std::path::Path,
    queries: &[Query],
) -> (usize, usize, String) {
    let mut candidates: Vec<(String, Value)> = Vec::new();
    for u in &s.users {
        candidates.push((format!("user:{u}"), json!({"user": u})));
    }
    for (ns, name) in &s.service_accounts {
        let user = format!("system:serviceaccount:{ns}:{name}");
        candidates.push((format!("user:{user}"), json!({"user": user})));
    }
    let groups = s.groups.iter().cloned().chain(std::iter::once(format!(
        "system:serviceaccounts:{}",
        s.namespaces[1]
    )));
    for g in groups {
        // A member of the group alone: a user no binding names.
        candidates.push((
            format!("group:{g}"),
            json!({"user": format!("rg{}-nobody", s.seed), "groups": [g]}),
        ));
    }
    // The request of each query, asked once per candidate.
    let mut reviews_asked: Vec<Query> = Vec::new();
    for q in queries {
        for (_, who) in &candidates {
            let mut spec = q.spec.clone();
            let object = spec.as_object_mut().unwrap();
            object.remove("user");
            object.remove("groups");
            for (k, v) in who.as_object().unwrap() {
                object.insert(k.clone(), v.clone());
            }
            reviews_asked.push(Query {
                args: Vec::new(),
                spec,
            });
        }
    }
    let truth = reviews(cluster, &reviews_asked);
    let pairs = truth.iter().filter(|a| **a).count();
    let mut mismatches = String::new();
    for (i, q) in queries.iter().enumerate() {
        let want: std::collections::BTreeSet<&str> = candidates
            .iter()
            .zip(&truth[i * candidates.len()..(i + 1) * candidates.len()])
            .filter(|(_, allowed)| **allowed)
            .map(|((id, _), _)| id.as_str())
            .collect();
        // The request alone: `can-i`'s arguments without `--as` and `--as-group`.
        let mut args: Vec<&str> = Vec::new();
        let mut rest = q.args.iter();
        while let Some(a) = rest.next() {
            if a == "--as" || a == "--as-group" {
                rest.next();
            } else {
                args.push(a);
            }
        }
        let out = Command::new(env!("CARGO_BIN_EXE_runnerguard"))
            .arg("who-can")
            .args(&args)
            .args(["-o", "json", "-f"])
            .arg(file)
            .current_dir(root())
            .output()
            .unwrap();
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "who-can {args:?}: {e}: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let listed: std::collections::BTreeSet<String> = answer["subjects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| identity(&s["subject"]))
            .filter(|id| candidates.iter().any(|(c, _)| c == id))
            .collect();
        let listed: std::collections::BTreeSet<&str> = listed.iter().map(String::as_str).collect();
        if listed != want {
            let _ = writeln!(
                mismatches,
                "seed {}: runnerguard who-can {} lists {listed:?}, the reviews allow {want:?}",
                s.seed,
                args.join(" ")
            );
        }
    }
    assert!(pairs > 0, "seed {}: no query allowed any subject", s.seed);
    (queries.len(), pairs, mismatches)
}
