//! A large synthetic cluster inventory for benchmarks and load tests: the library behind the
//! `gen-inventory` binary, for benchmarks that need the inventory in memory.
//!
//! The output is one JSON document of `kind: List` whose items are valid Kubernetes objects:
//! per namespace `ns-<i>` a `Namespace`, three `ServiceAccount`s, two or three `Role`s and
//! [`Options::bindings_per_namespace`] `RoleBinding`s (to those roles or to the default
//! `view`, `edit` and `admin` `ClusterRole`s, for users `user-<k>`, groups `team-<k>` and the
//! namespace's service accounts); plus 50 `ClusterRole`s (some aggregated into `view`/`edit`,
//! some aggregating each other) and 100 `ClusterRoleBinding`s. The default policy is not
//! included: runnerguard embeds it.
//!
//! Items are written compactly, one per line, so that the file stays small and diagnostics
//! point at distinct lines. The same [`Options::seed`] always gives the same bytes.

use std::io::{self, Write};

use serde_json::{Value, json};

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// How many namespaces (`ns-0` ... `ns-<N-1>`).
    pub namespaces: usize,
    /// How many role bindings in each namespace.
    pub bindings_per_namespace: usize,
    /// Seed of the pseudo-random choices; the same seed gives the same output.
    pub seed: u64,
}

impl Default for Options {
    /// The binary's defaults: 10,000 namespaces of 10 role bindings, seed 42.
    fn default() -> Self {
        Self {
            namespaces: 10_000,
            bindings_per_namespace: 10,
            seed: 42,
        }
    }
}

const RBAC_V1: &str = "rbac.authorization.k8s.io/v1";
const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
const CLUSTER_ROLES: usize = 50;
const CLUSTER_ROLE_BINDINGS: usize = 100;
const SERVICE_ACCOUNTS: [&str; 3] = ["default", "deployer", "runner"];
/// The default-policy cluster roles that role bindings refer to, `view` the most often.
const DEFAULT_CLUSTER_ROLES: [&str; 6] = ["view", "view", "view", "edit", "edit", "admin"];

/// xorshift64, seeded through splitmix64 so that small seeds still give varied streams.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Self(if z == 0 { 1 } else { z })
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        let n = u64::try_from(n).unwrap_or(u64::MAX).max(1);
        usize::try_from(self.next() % n).unwrap_or(0)
    }

    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// How many objects of each kind an inventory holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// `Namespace`s (`ns-0` ... `ns-<N-1>`).
    pub namespaces: usize,
    /// `ServiceAccount`s: three per namespace.
    pub service_accounts: usize,
    /// Namespaced `Role`s: two or three per namespace.
    pub roles: usize,
    /// `RoleBinding`s: [`Options::bindings_per_namespace`] per namespace.
    pub role_bindings: usize,
    /// Custom `ClusterRole`s (the default policy's are not written).
    pub cluster_roles: usize,
    /// `ClusterRoleBinding`s.
    pub cluster_role_bindings: usize,
    /// Subjects of all the bindings.
    pub subjects: usize,
}

impl Counts {
    /// How many items the `List` holds.
    pub fn items(&self) -> usize {
        self.namespaces
            + self.service_accounts
            + self.roles
            + self.role_bindings
            + self.cluster_roles
            + self.cluster_role_bindings
    }
}

/// Counts the bytes that pass through.
struct CountingWriter<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += u64::try_from(n).unwrap_or(u64::MAX);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the `List` wrapper and its items, one compact item per line.
struct ListWriter<W: Write> {
    out: CountingWriter<W>,
    first: bool,
}

impl<W: Write> ListWriter<W> {
    fn new(inner: W) -> io::Result<Self> {
        let mut out = CountingWriter { inner, bytes: 0 };
        out.write_all(br#"{"apiVersion":"v1","kind":"List","items":["#)?;
        Ok(Self { out, first: true })
    }

    fn item(&mut self, item: &Value) -> io::Result<()> {
        self.out
            .write_all(if self.first { b"\n" } else { b",\n" })?;
        self.first = false;
        serde_json::to_writer(&mut self.out, item).map_err(io::Error::from)
    }

    fn finish(mut self) -> io::Result<u64> {
        self.out.write_all(b"\n]}\n")?;
        self.out.flush()?;
        Ok(self.out.bytes)
    }
}

/// Sizes of the user and group populations subjects are drawn from.
struct Population {
    users: usize,
    groups: usize,
}

impl Population {
    fn new(namespaces: usize) -> Self {
        Self {
            users: (namespaces / 2).max(10),
            groups: (namespaces / 20).max(5),
        }
    }
}

fn rule(api_groups: &[&str], resources: &[&str], verbs: &[&str]) -> Value {
    json!({ "apiGroups": api_groups, "resources": resources, "verbs": verbs })
}

fn named_rule(api_groups: &[&str], resources: &[&str], names: &[&str], verbs: &[&str]) -> Value {
    json!({
        "apiGroups": api_groups,
        "resources": resources,
        "resourceNames": names,
        "verbs": verbs,
    })
}

const READ: [&str; 3] = ["get", "list", "watch"];
const WRITE: [&str; 7] = [
    "get", "list", "watch", "create", "update", "patch", "delete",
];

/// The rules of the namespaced Role template `name` in namespace number `i`.
fn role_rules(name: &str, i: usize, rng: &mut Rng) -> Vec<Value> {
    match name {
        "pod-reader" => vec![rule(&[""], &["pods", "pods/log"], &READ)],
        "pod-exec" => {
            let mut rules = vec![
                rule(&[""], &["pods"], &["get", "list"]),
                rule(&[""], &["pods/exec"], &["create"]),
            ];
            if rng.chance(30) {
                rules.push(rule(&[""], &["pods/portforward"], &["create"]));
            }
            rules
        }
        "secret-reader" => {
            let mut rules = Vec::new();
            if rng.chance(50) {
                let token = format!("app-{i}-token");
                rules.push(named_rule(
                    &[""],
                    &["secrets"],
                    &[token.as_str(), "tls-cert"],
                    &["get"],
                ));
            } else {
                rules.push(rule(&[""], &["secrets"], &["get", "list"]));
            }
            rules.push(rule(&[""], &["configmaps"], &READ));
            rules
        }
        "deployer" => vec![
            rule(&["apps"], &["deployments", "replicasets"], &WRITE),
            rule(&[""], &["configmaps", "services"], &WRITE),
            rule(&[""], &["pods"], &READ),
        ],
        // "ci-runner"
        _ => vec![
            rule(&[""], &["pods", "pods/log"], &WRITE),
            rule(&[""], &["pods/exec", "pods/attach"], &["create"]),
            rule(&[""], &["secrets"], &["get", "create", "delete"]),
            rule(&["batch"], &["jobs"], &WRITE),
        ],
    }
}

/// One binding subject: a user, a group, or a service account of `namespace` (for a role binding,
/// sometimes written without its namespace, which then defaults to the binding's).
fn subject(rng: &mut Rng, pop: &Population, namespace: &str, in_role_binding: bool) -> Value {
    let roll = rng.below(100);
    if roll < 40 {
        let name = *rng.pick(&SERVICE_ACCOUNTS);
        if in_role_binding && rng.chance(20) {
            json!({ "kind": "ServiceAccount", "name": name })
        } else {
            json!({ "kind": "ServiceAccount", "name": name, "namespace": namespace })
        }
    } else if roll < 75 {
        json!({
            "apiGroup": RBAC_GROUP,
            "kind": "User",
            "name": format!("user-{}", rng.below(pop.users)),
        })
    } else {
        json!({
            "apiGroup": RBAC_GROUP,
            "kind": "Group",
            "name": format!("team-{}", rng.below(pop.groups)),
        })
    }
}

fn write_namespace<W: Write>(
    out: &mut ListWriter<W>,
    counts: &mut Counts,
    rng: &mut Rng,
    pop: &Population,
    i: usize,
    bindings: usize,
) -> io::Result<()> {
    let ns = format!("ns-{i}");
    let mut labels = json!({
        "kubernetes.io/metadata.name": ns,
        "team": format!("team-{}", rng.below(pop.groups)),
    });
    if rng.chance(30) {
        labels["pod-security.kubernetes.io/enforce"] = json!(if rng.chance(50) {
            "restricted"
        } else {
            "baseline"
        });
    }
    out.item(&json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": { "name": ns, "labels": labels },
    }))?;
    counts.namespaces += 1;

    for sa in SERVICE_ACCOUNTS {
        let mut item = json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": { "name": sa, "namespace": ns },
        });
        if sa == "runner" && rng.chance(50) {
            item["automountServiceAccountToken"] = json!(false);
        }
        out.item(&item)?;
        counts.service_accounts += 1;
    }

    let mut roles = vec![
        "pod-reader",
        *rng.pick(&["pod-exec", "deployer", "ci-runner"]),
    ];
    if rng.chance(50) {
        roles.push("secret-reader");
    }
    for name in &roles {
        out.item(&json!({
            "apiVersion": RBAC_V1,
            "kind": "Role",
            "metadata": { "name": name, "namespace": ns },
            "rules": role_rules(name, i, rng),
        }))?;
        counts.roles += 1;
    }

    for j in 0..bindings {
        let role_ref = if rng.chance(60) {
            json!({ "apiGroup": RBAC_GROUP, "kind": "Role", "name": rng.pick(&roles) })
        } else {
            json!({
                "apiGroup": RBAC_GROUP,
                "kind": "ClusterRole",
                "name": rng.pick(&DEFAULT_CLUSTER_ROLES),
            })
        };
        let subjects: Vec<Value> = (0..=rng.below(3))
            .map(|_| subject(rng, pop, &ns, true))
            .collect();
        counts.subjects += subjects.len();
        out.item(&json!({
            "apiVersion": RBAC_V1,
            "kind": "RoleBinding",
            "metadata": { "name": format!("rb-{j}"), "namespace": ns },
            "roleRef": role_ref,
            "subjects": subjects,
        }))?;
        counts.role_bindings += 1;
    }
    Ok(())
}

/// A cluster-wide custom cluster role; its shape depends on `k`.
fn cluster_role(k: usize, rng: &mut Rng) -> Value {
    let name = format!("platform-{k}");
    let group = format!("example{k}.io");
    let group = group.as_str();
    let mut item = json!({
        "apiVersion": RBAC_V1,
        "kind": "ClusterRole",
        "metadata": { "name": name },
    });
    let (labels, rules): (Value, Vec<Value>) = match k % 10 {
        // Aggregated into the default `view` / `edit`, as CRD operators ship them.
        0 => (
            json!({ "rbac.authorization.k8s.io/aggregate-to-view": "true" }),
            vec![rule(&[group], &["widgets", "widgets/status"], &READ)],
        ),
        1 => (
            json!({
                "rbac.authorization.k8s.io/aggregate-to-edit": "true",
                "rbac.authorization.k8s.io/aggregate-to-admin": "true",
            }),
            vec![rule(&[group], &["widgets"], &WRITE)],
        ),
        2 => (
            json!({}),
            vec![
                json!({ "nonResourceURLs": ["/metrics", "/healthz", "/readyz"], "verbs": ["get"] }),
            ],
        ),
        // Aggregating ClusterRoles: empty rules, filled from labelled ones.
        3 => {
            item["aggregationRule"] = json!({
                "clusterRoleSelectors": [
                    { "matchLabels": { "example.com/aggregate-to-monitoring": "true" } },
                ],
            });
            (json!({}), Vec::new())
        }
        4 => (
            json!({ "example.com/aggregate-to-monitoring": "true" }),
            vec![
                rule(&[""], &["pods", "services", "endpoints", "nodes"], &READ),
                rule(&["discovery.k8s.io"], &["endpointslices"], &READ),
            ],
        ),
        5 => (
            json!({}),
            vec![named_rule(
                &[""],
                &["secrets"],
                &["registry-credentials", "ca-bundle"],
                &["get"],
            )],
        ),
        6 => (
            json!({}),
            vec![
                rule(&[""], &["namespaces", "nodes"], &READ),
                rule(&[""], &["persistentvolumes"], &WRITE),
                rule(&["storage.k8s.io"], &["storageclasses"], &READ),
            ],
        ),
        7 => (
            json!({}),
            vec![
                rule(
                    &["apps"],
                    &["deployments", "statefulsets", "daemonsets"],
                    &WRITE,
                ),
                rule(&[""], &["pods"], &["get", "list", "delete"]),
            ],
        ),
        8 => (
            json!({}),
            vec![
                rule(&["batch"], &["jobs", "cronjobs"], &WRITE),
                rule(&[""], &["pods", "pods/log"], &READ),
            ],
        ),
        _ => {
            let mut rules = vec![rule(&[""], &["configmaps"], &READ)];
            if rng.chance(30) {
                rules.push(rule(&[""], &["pods/exec"], &["create"]));
            }
            (json!({}), rules)
        }
    };
    if labels.as_object().is_some_and(|l| !l.is_empty()) {
        item["metadata"]["labels"] = labels;
    }
    if item.get("aggregationRule").is_none() {
        item["rules"] = Value::Array(rules);
    }
    item
}

fn cluster_role_binding(k: usize, rng: &mut Rng, pop: &Population, namespaces: usize) -> Value {
    let roll = rng.below(100);
    let role = if roll < 80 {
        format!("platform-{}", rng.below(CLUSTER_ROLES))
    } else if roll < 97 {
        "view".to_owned()
    } else {
        "cluster-admin".to_owned()
    };
    let subjects: Vec<Value> = (0..=rng.below(2))
        .map(|_| {
            let ns = format!("ns-{}", rng.below(namespaces.max(1)));
            subject(rng, pop, &ns, false)
        })
        .collect();
    json!({
        "apiVersion": RBAC_V1,
        "kind": "ClusterRoleBinding",
        "metadata": { "name": format!("crb-{k}") },
        "roleRef": { "apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role },
        "subjects": subjects,
    })
}

/// Writes the inventory `options` describe to `out`, unbuffered (wrap a file in a
/// [`std::io::BufWriter`]), and returns what it holds and how many bytes were written.
///
/// # Errors
/// Those of `out`.
pub fn write<W: Write>(options: &Options, out: W) -> io::Result<(Counts, u64)> {
    let mut rng = Rng::new(options.seed);
    let pop = Population::new(options.namespaces);
    let mut counts = Counts::default();
    let mut out = ListWriter::new(out)?;

    for k in 0..CLUSTER_ROLES {
        out.item(&cluster_role(k, &mut rng))?;
        counts.cluster_roles += 1;
    }
    for k in 0..CLUSTER_ROLE_BINDINGS {
        let item = cluster_role_binding(k, &mut rng, &pop, options.namespaces);
        counts.subjects += item["subjects"].as_array().map_or(0, Vec::len);
        out.item(&item)?;
        counts.cluster_role_bindings += 1;
    }
    for i in 0..options.namespaces {
        write_namespace(
            &mut out,
            &mut counts,
            &mut rng,
            &pop,
            i,
            options.bindings_per_namespace,
        )?;
    }
    let bytes = out.finish()?;
    Ok((counts, bytes))
}

/// The inventory `options` describe, in memory: the bytes the `gen-inventory` binary writes
/// for the same options, and what they hold. Benchmarks load it as `runnerguard` reads `-f`.
///
/// ```
/// let options = gen_inventory::Options { namespaces: 10, ..gen_inventory::Options::default() };
/// let (json, counts) = gen_inventory::generate(&options);
/// assert_eq!(counts.namespaces, 10);
/// assert!(json.starts_with(br#"{"apiVersion":"v1","kind":"List""#));
/// ```
pub fn generate(options: &Options) -> (Vec<u8>, Counts) {
    let mut json = Vec::new();
    // Writing into a `Vec` cannot fail, nor can serializing a `serde_json::Value` (its map
    // keys are strings). Were it to, the result is an empty inventory with zero counts, which
    // a caller checking the counts sees, rather than a panic.
    match write(options, &mut json) {
        Ok((counts, _)) => (json, counts),
        Err(_) => (Vec::new(), Counts::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_gives_the_bytes_write_writes() {
        let options = Options {
            namespaces: 30,
            bindings_per_namespace: 4,
            seed: 7,
        };
        let mut written = Vec::new();
        let (counts, bytes) = write(&options, &mut written).unwrap();
        let (json, generated) = generate(&options);
        assert_eq!(json, written);
        assert_eq!(generated, counts);
        assert_eq!(bytes, u64::try_from(json.len()).unwrap());
        assert_eq!(counts.namespaces, 30);
        assert_eq!(counts.role_bindings, 120);
        let list: Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(list["items"].as_array().map(Vec::len), Some(counts.items()));
    }
}
