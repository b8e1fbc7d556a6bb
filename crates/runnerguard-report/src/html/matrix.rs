//! The access matrix: what the runner's identities (each topology's manager ServiceAccount and
//! job ServiceAccounts) may do, per namespace, on the resources that decide what a job or a
//! stolen manager token can reach. Every cell is the engine's answer
//! ([`Policy::authorize`]), as `runnerguard can-i` gives it, with the grant that decided it
//! as the cell's title.
//!
//! Bounded for large inventories: at most [`MAX_SUBJECTS`] identities and
//! [`MAX_NAMESPACES`] namespaces (the manager and job namespaces first, then those where the
//! identities hold a RoleBinding), each cut said on the page. A table per namespace (a column
//! per check), so no table is wider than a screen.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

use runnerguard_audit::{GrantPath, Topology};
use runnerguard_engine::{Action, Policy, UserInfo};
use runnerguard_model::service_account_user;

use super::Html;
use crate::evidence;

/// At most this many identities (rows).
pub(super) const MAX_SUBJECTS: usize = 30;
/// At most this many namespaces.
pub(super) const MAX_NAMESPACES: usize = 50;

/// An identity the matrix and the graph ask about: a ServiceAccount of a topology.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Subject {
    /// Its namespace.
    pub(super) namespace: String,
    /// Its name.
    pub(super) name: String,
    /// What it is to the runner: `runner manager`, `job pods` (with the runner's number when
    /// there are several).
    pub(super) roles: Vec<String>,
}

impl Subject {
    /// How the API server sees its token.
    pub(super) fn user(&self) -> UserInfo {
        UserInfo::impersonated(&service_account_user(&self.namespace, &self.name), &[])
    }
}

/// The identities of the topologies, each once: each runner's manager, then its job
/// ServiceAccounts, runner after runner; and the namespaces the shown ones run in.
#[derive(Debug, Default)]
pub(super) struct Subjects {
    /// The identities shown, at most [`MAX_SUBJECTS`].
    pub(super) list: Vec<Subject>,
    /// How many more there were.
    pub(super) left_out: usize,
    /// The manager and job namespaces of the runners shown, each with what it is to them and
    /// the subjects (indexes into `list`) of those runners.
    pub(super) runner_namespaces: BTreeMap<String, RunnerNamespace>,
}

/// A manager or job namespace.
#[derive(Debug, Default)]
pub(super) struct RunnerNamespace {
    /// A manager runs here.
    pub(super) manager: bool,
    /// Jobs run here.
    pub(super) jobs: bool,
    /// The subjects of the runners that run here.
    pub(super) subjects: BTreeSet<usize>,
}

impl RunnerNamespace {
    /// What the namespace is to the runner.
    pub(super) fn role(&self) -> &'static str {
        match (self.manager, self.jobs) {
            (true, true) => "manager and jobs",
            (true, false) => "manager",
            _ => "jobs",
        }
    }
}

impl Subjects {
    pub(super) fn of(topologies: &[Topology]) -> Self {
        let several = topologies.len() > 1;
        let role = |what: &str, i: usize| {
            if several {
                format!("{what} (runner {})", i + 1)
            } else {
                what.to_owned()
            }
        };
        let mut list: Vec<Subject> = Vec::new();
        let mut index: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        // Every subject, shown or not.
        let mut seen: BTreeSet<(&str, &str)> = BTreeSet::new();
        let mut runner_namespaces: BTreeMap<String, RunnerNamespace> = BTreeMap::new();
        for (i, t) in topologies.iter().enumerate() {
            let accounts = std::iter::once((
                t.manager_namespace.as_str(),
                t.manager_service_account.as_str(),
                role("runner manager", i),
            ))
            .chain(t.jobs.iter().map(|j| {
                (
                    j.namespace.as_str(),
                    j.service_account.as_str(),
                    role("job pods", i),
                )
            }));
            // The subjects of this runner that are shown.
            let mut mine = BTreeSet::new();
            for (namespace, name, role) in accounts {
                if let Some(&k) = index.get(&(namespace, name)) {
                    if !list[k].roles.contains(&role) {
                        list[k].roles.push(role);
                    }
                    mine.insert(k);
                    continue;
                }
                if !seen.insert((namespace, name)) {
                    continue;
                }
                if list.len() < MAX_SUBJECTS {
                    index.insert((namespace, name), list.len());
                    mine.insert(list.len());
                    list.push(Subject {
                        namespace: namespace.to_owned(),
                        name: name.to_owned(),
                        roles: vec![role],
                    });
                }
            }
            if mine.is_empty() {
                continue;
            }
            let places = std::iter::once((&t.manager_namespace, true))
                .chain(t.jobs.iter().map(|j| (&j.namespace, false)));
            for (namespace, manager) in places {
                let ns = runner_namespaces.entry(namespace.clone()).or_default();
                ns.subjects.extend(&mine);
                if manager {
                    ns.manager = true;
                } else {
                    ns.jobs = true;
                }
            }
        }
        Self {
            left_out: seen.len() - list.len(),
            list,
            runner_namespaces,
        }
    }
}

/// How much an allowed cell matters: its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Risk {
    /// Reads credentials or grants rights: red.
    High,
    /// Runs code as someone (what the executor needs in job namespaces): amber.
    Medium,
    /// Reads configuration: blue.
    Low,
}

impl Risk {
    fn class(self) -> &'static str {
        match self {
            Self::High => "hi",
            Self::Medium => "md",
            Self::Low => "lo",
        }
    }
}

/// One column: a resource and verb, allowed when any of its requests is.
struct Check {
    resource: &'static str,
    verb: &'static str,
    risk: Risk,
    /// `(verb, API group, resource, subresource)`.
    requests: &'static [(&'static str, &'static str, &'static str, &'static str)],
}

const RBAC: &str = "rbac.authorization.k8s.io";

/// The checks in each namespace.
const NAMESPACED: &[Check] = &[
    Check {
        resource: "pods",
        verb: "create",
        risk: Risk::Medium,
        requests: &[("create", "", "pods", "")],
    },
    Check {
        resource: "pods/exec",
        verb: "create",
        risk: Risk::Medium,
        requests: &[("create", "", "pods", "exec")],
    },
    Check {
        resource: "secrets",
        verb: "get",
        risk: Risk::High,
        requests: &[("get", "", "secrets", "")],
    },
    Check {
        resource: "secrets",
        verb: "list",
        risk: Risk::High,
        requests: &[("list", "", "secrets", "")],
    },
    Check {
        resource: "configmaps",
        verb: "get",
        risk: Risk::Low,
        requests: &[("get", "", "configmaps", "")],
    },
    Check {
        resource: "serviceaccounts/token",
        verb: "create",
        risk: Risk::High,
        requests: &[("create", "", "serviceaccounts", "token")],
    },
    Check {
        resource: "rolebindings",
        verb: "create",
        risk: Risk::High,
        requests: &[("create", RBAC, "rolebindings", "")],
    },
    Check {
        resource: "(cluster)roles",
        verb: "bind, escalate",
        risk: Risk::High,
        requests: &[
            ("bind", RBAC, "roles", ""),
            ("bind", RBAC, "clusterroles", ""),
            ("escalate", RBAC, "roles", ""),
            ("escalate", RBAC, "clusterroles", ""),
        ],
    },
];

/// The checks cluster-wide: only ClusterRoleBindings apply.
const CLUSTER: &[Check] = &[
    Check {
        resource: "*",
        verb: "* (cluster-admin)",
        risk: Risk::High,
        requests: &[("*", "*", "*", "")],
    },
    Check {
        resource: "secrets",
        verb: "list, all namespaces",
        risk: Risk::High,
        requests: &[("list", "", "secrets", "")],
    },
    Check {
        resource: "pods",
        verb: "create, all namespaces",
        risk: Risk::Medium,
        requests: &[("create", "", "pods", "")],
    },
    Check {
        resource: "clusterrolebindings",
        verb: "create",
        risk: Risk::High,
        requests: &[("create", RBAC, "clusterrolebindings", "")],
    },
    Check {
        resource: "users, groups, serviceaccounts",
        verb: "impersonate",
        risk: Risk::High,
        requests: &[
            ("impersonate", "", "users", ""),
            ("impersonate", "", "groups", ""),
            ("impersonate", "", "serviceaccounts", ""),
        ],
    },
    Check {
        resource: "nodes/proxy",
        verb: "get, create",
        risk: Risk::High,
        requests: &[
            ("get", "", "nodes", "proxy"),
            ("create", "", "nodes", "proxy"),
        ],
    },
];

/// The namespaces shown, and how many more there were.
struct Columns {
    /// Each namespace, what it is to the runner, and the subjects (indexes) its table shows.
    namespaces: Vec<(String, &'static str, BTreeSet<usize>)>,
    left_out: Vec<String>,
}

impl Columns {
    /// The manager and job namespaces, with their runners' subjects; then the namespaces
    /// where a subject holds a RoleBinding; each group sorted, at most [`MAX_NAMESPACES`] in
    /// all. A subject bound in a namespace has a row there.
    fn of(policy: &Policy, subjects: &Subjects, users: &[UserInfo]) -> Self {
        let mut bound: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
        for (i, user) in users.iter().enumerate() {
            let (namespaces, _) = policy.binding_scopes(user);
            for ns in namespaces {
                bound.entry(ns.to_owned()).or_default().insert(i);
            }
        }
        let mut all: Vec<(String, &'static str, BTreeSet<usize>)> = Vec::new();
        for (ns, runner) in &subjects.runner_namespaces {
            let mut rows = runner.subjects.clone();
            if let Some(b) = bound.remove(ns) {
                rows.extend(b);
            }
            all.push((ns.clone(), runner.role(), rows));
        }
        all.extend(bound.into_iter().map(|(ns, rows)| (ns, "bound here", rows)));
        let left_out = all
            .split_off(all.len().min(MAX_NAMESPACES))
            .into_iter()
            .map(|(ns, _, _)| ns)
            .collect();
        Self {
            namespaces: all,
            left_out,
        }
    }
}

/// The cell of `user` for `check` in `namespace` (empty: cluster-wide): whether allowed, and
/// why as its title, escaped (the request and its grant, or the requests nothing grants).
fn cell(policy: &Policy, user: &UserInfo, check: &Check, namespace: &str) -> (bool, String) {
    for (verb, group, resource, sub) in check.requests {
        let action = Action::resource(verb, namespace, group, resource, sub, "");
        let decision = policy.authorize(user, &action);
        if let Some(grant) = decision.grants.first() {
            let path = evidence::grant_line(&GrantPath::new(policy, grant));
            return (
                true,
                format!("allowed: {}&#10;{}", Html(&action), Html(&path)),
            );
        }
    }
    let asked: Vec<String> = check
        .requests
        .iter()
        .map(|(verb, group, resource, sub)| {
            Action::resource(verb, namespace, group, resource, sub, "").to_string()
        })
        .collect();
    (false, format!("denied: {}", Html(asked.join("; "))))
}

/// Writes the matrix section.
pub(super) fn write(out: &mut String, policy: &Policy, subjects: &Subjects) -> fmt::Result {
    out.push_str("<section class=\"card\" id=\"matrix\">\n<h2>Access matrix</h2>\n");
    if subjects.list.is_empty() {
        out.push_str(
            "<p class=\"note\">No runner identity to ask about: the inputs hold no runner.</p>\n</section>\n",
        );
        return Ok(());
    }
    out.push_str(
        "<p class=\"note\">What the runner's ServiceAccounts may do, as the API server's RBAC \
         authorizer decides it for their tokens (groups included): cluster-wide, in the manager and \
         job namespaces, and in each namespace where one of them holds a RoleBinding. Hover a cell \
         for the binding, role and rule. An allowed cell's colour says what it gives: \
         <span class=\"legend\"><span class=\"hi\">credentials or rights</span>\
         <span class=\"md\">runs code as a ServiceAccount</span>\
         <span class=\"lo\">reads configuration</span></span></p>\n",
    );
    let users: Vec<UserInfo> = subjects.list.iter().map(Subject::user).collect();
    let columns = Columns::of(policy, subjects, &users);
    let every: Vec<usize> = (0..users.len()).collect();

    out.push_str("<h3>Cluster-wide <span class=\"n\">(ClusterRoleBindings)</span></h3>\n");
    table(out, policy, subjects, &users, &every, "", CLUSTER)?;
    for (ns, role, rows) in &columns.namespaces {
        writeln!(
            out,
            "<h3>Namespace <code>{}</code> <span class=\"n\">({role})</span></h3>",
            Html(ns),
        )?;
        let rows: Vec<usize> = rows.iter().copied().collect();
        table(out, policy, subjects, &users, &rows, ns, NAMESPACED)?;
    }
    if subjects.left_out > 0 {
        writeln!(
            out,
            "<p class=\"note\">{} more runner ServiceAccount{} not shown (the matrix shows {MAX_SUBJECTS}); \
             <code>runnerguard can-i --list --as system:serviceaccount:NAMESPACE:NAME</code> answers for any.</p>",
            subjects.left_out,
            if subjects.left_out == 1 {
                " is"
            } else {
                "s are"
            }
        )?;
    }
    if !columns.left_out.is_empty() {
        let shown: Vec<String> = columns
            .left_out
            .iter()
            .take(10)
            .map(|ns| format!("<code>{}</code>", Html(ns)))
            .collect();
        let more = columns.left_out.len() - shown.len();
        writeln!(
            out,
            "<p class=\"note\">{} more namespace{} of these runners or with their RoleBindings {} not \
             shown (the matrix shows {MAX_NAMESPACES}): {}{}.</p>",
            columns.left_out.len(),
            if columns.left_out.len() == 1 { "" } else { "s" },
            if columns.left_out.len() == 1 {
                "is"
            } else {
                "are"
            },
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        )?;
    }
    out.push_str("</section>\n");
    Ok(())
}

/// One table: a row per subject of `rows`, a column per check, asked in `namespace`.
fn table(
    out: &mut String,
    policy: &Policy,
    subjects: &Subjects,
    users: &[UserInfo],
    rows: &[usize],
    namespace: &str,
    checks: &[Check],
) -> fmt::Result {
    out.push_str(
        "<div class=\"matrix-wrap\"><table class=\"matrix\">\n<thead>\n<tr><th class=\"who\">ServiceAccount</th>",
    );
    for c in checks {
        // Break long resource names after a slash or comma, not mid-word.
        let resource = c.resource.replace('/', "/<wbr>").replace(", ", ",<wbr> ");
        write!(
            out,
            "<th class=\"check\"><code>{resource}</code><br>{}</th>",
            c.verb
        )?;
    }
    out.push_str("</tr>\n</thead>\n<tbody>\n");
    for &i in rows {
        let s = &subjects.list[i];
        write!(
            out,
            "<tr><th class=\"who\"><code>{}/{}</code><span class=\"role\">{}</span></th>",
            Html(&s.namespace),
            Html(&s.name),
            Html(s.roles.join(", "))
        )?;
        for c in checks {
            let (allowed, why) = cell(policy, &users[i], c, namespace);
            if allowed {
                write!(
                    out,
                    "<td class=\"yes {}\" title=\"{why}\">yes</td>",
                    c.risk.class(),
                )?;
            } else {
                write!(out, "<td class=\"no\" title=\"{why}\">no</td>")?;
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table></div>\n");
    Ok(())
}
