//! The HTML page: escaped, self-contained, deterministic, bounded; the matrix answers as the
//! authorizer does, and the graph is laid out whatever its shape.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;

use runnerguard_audit::{Evidence, Finding, JobTarget, RuleMeta, Severity, Topology};
use runnerguard_engine::{Identity, Policy, Primitive, Step};
use runnerguard_model::{ObjectRef, Origin};

use super::graph::{Drawing, MAX_NODES};
use super::matrix::MAX_NAMESPACES;
use super::*;

const META: RuleMeta = RuleMeta {
    id: "RG999",
    name: "example-rule",
    severity: Severity::High,
    summary: "an example",
    remediation: "do the right thing",
    docs: "",
};

fn policy(yaml: &str) -> Policy {
    let mut loaded = runnerguard_load::load_str("rbac.yaml", yaml).unwrap();
    loaded.add_default_policy().unwrap();
    Policy::new(loaded.inventory)
}

fn topology(manager: (&str, &str), jobs: &[(&str, &str)]) -> Topology {
    Topology {
        manager_namespace: manager.0.into(),
        manager_service_account: manager.1.into(),
        jobs: jobs
            .iter()
            .map(|(ns, sa)| JobTarget {
                namespace: (*ns).into(),
                service_account: (*sa).into(),
                automount_token: Some(false),
            })
            .collect(),
        evidence: Vec::new(),
        values: None,
    }
}

fn page(policy: &Policy, topologies: &[Topology], findings: &[Finding]) -> String {
    let report = Report {
        topologies,
        findings,
        fail_on: Severity::High,
        runner_version: "18.9".into(),
        chart_version: "0.86.0".into(),
        inputs: &[],
        unreadable: &[],
    };
    let mut out = Vec::new();
    html(&mut out, &report, policy).unwrap();
    String::from_utf8(out).unwrap()
}

/// The tag names in `page`, each once (`<x`, `</x`, `<!x`).
fn tags(page: &str) -> BTreeSet<String> {
    page.split('<')
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '!'))
                .collect::<String>()
                .trim_start_matches('/')
                .to_ascii_lowercase()
        })
        .collect()
}

/// What the page itself writes: nothing else may appear as a tag.
const OUR_TAGS: &[&str] = &[
    "!doctype", "a", "b", "body", "br", "code", "defs", "details", "div", "footer", "g", "h1",
    "h2", "h3", "head", "header", "html", "li", "marker", "meta", "nav", "ol", "p", "path", "rect",
    "section", "span", "style", "summary", "svg", "table", "tbody", "td", "text", "th", "thead",
    "title", "tr", "tspan", "ul", "wbr",
];

/// A manager that may bind cluster-admin in its namespace and create pods in `teams`, where a
/// deployer ServiceAccount holds rights: a graph with a strong node, a bound role and a
/// plain step.
const ESCALATING: &str = r#"
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer, namespace: teams}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: runner, namespace: gitlab-runner}
rules:
- apiGroups: [""]
  resources: [pods, pods/exec, secrets]
  verbs: [get, list, create]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [rolebindings]
  verbs: [create]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [clusterroles]
  verbs: [bind]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: runner, namespace: gitlab-runner}
subjects: [{kind: ServiceAccount, name: gitlab-runner, namespace: gitlab-runner}]
roleRef: {kind: Role, name: runner, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pods, namespace: teams}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: pods, namespace: teams}
subjects: [{kind: ServiceAccount, name: gitlab-runner, namespace: gitlab-runner}]
roleRef: {kind: Role, name: pods, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: deployer}
subjects: [{kind: ServiceAccount, name: deployer, namespace: teams}]
roleRef: {kind: ClusterRole, name: edit, apiGroup: rbac.authorization.k8s.io}
"#;

fn escalating() -> (Policy, Vec<Topology>) {
    (
        policy(ESCALATING),
        vec![topology(
            ("gitlab-runner", "gitlab-runner"),
            &[("ci", "default")],
        )],
    )
}

#[test]
fn the_page_is_self_contained_and_inert() {
    let (policy, topologies) = escalating();
    let text = page(&policy, &topologies, &[]);
    assert!(text.starts_with("<!DOCTYPE html>"));
    assert!(text.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    ));
    for banned in [
        "http:",
        "https:",
        "//",
        "src=",
        "<script",
        "<link",
        "<img",
        "@import",
        "@font-face",
    ] {
        assert!(!text.contains(banned), "`{banned}` in the page");
    }
    // The one `url(...)` is the arrowhead marker in the page itself; links are to sections.
    assert_eq!(
        text.matches("url(").count(),
        text.matches("url(#rg-arrow)").count()
    );
    for href in text.split("href=\"").skip(1) {
        assert!(href.starts_with('#'), "{href:.40}");
    }
    let unknown: Vec<String> = tags(&text)
        .into_iter()
        .filter(|t| !OUR_TAGS.contains(&t.as_str()))
        .collect();
    assert!(unknown.is_empty(), "{unknown:?}");
}

#[test]
fn hostile_names_are_escaped_everywhere() {
    let evil = "<script>alert(1)</script>\"'&\u{202e}\x1b[2K";
    // Names Kubernetes would refuse, but a file can hold: a manifest, values or a finding
    // quoting them must not open a tag or an attribute in the page.
    let quoted = serde_json::to_string(evil).unwrap();
    let yaml = format!(
        r"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: {quoted}, namespace: gitlab-runner}}
subjects: [{{kind: ServiceAccount, name: {quoted}, namespace: gitlab-runner}}]
roleRef: {{kind: ClusterRole, name: cluster-admin, apiGroup: rbac.authorization.k8s.io}}
"
    );
    let policy = policy(&yaml);
    let topologies = [topology(
        ("gitlab-runner", evil),
        &[(evil, "<img src=x onerror=alert(1)>")],
    )];
    let finding = Finding::new(&META, format!("User {evil} holds `*` on `*`"))
        .object(ObjectRef {
            api_version: "rbac.authorization.k8s.io/v1".into(),
            kind: "ClusterRoleBinding".into(),
            namespace: String::new(),
            name: evil.into(),
            origin: Origin::new(format!("{evil}.yaml").into(), 1, 1),
        })
        .location(evil, Origin::new("values.yaml".into(), 7, 3))
        .evidence(Evidence::fact(format!("fact about {evil}")))
        .remediation(format!("remove {evil}"));
    let text = page(&policy, &topologies, &[finding]);

    let unknown: Vec<String> = tags(&text)
        .into_iter()
        .filter(|t| !OUR_TAGS.contains(&t.as_str()))
        .collect();
    assert!(unknown.is_empty(), "input became tags: {unknown:?}");
    for raw in ["<script", "<img", "\u{202e}", "\x1b", "onerror=alert(1)>"] {
        assert!(!text.contains(raw), "{raw:?} reached the page");
    }
    let shown = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;\\u{202e}\\u{1b}[2K";
    // In the finding (message, object, location, evidence, fix), the setup, the matrix rows
    // and titles, and the graph's nodes and steps.
    assert!(text.matches(shown).count() >= 10, "{text}");
    assert!(text.contains("&lt;img src=x onerror=alert(1)&gt;"));
    // The manager, bound to cluster-admin in its namespace by the hostile binding: the
    // matrix's title names the binding, escaped.
    assert!(
        text.contains(
            "<td class=\"yes hi\" title=\"allowed: bind roles.rbac.authorization.k8s.io in namespace &quot;gitlab-runner&quot;&#10;RoleBinding gitlab-runner/&lt;script&gt;"
        ),
        "{text}"
    );
}

#[test]
fn the_matrix_answers_as_the_authorizer() {
    let (policy, topologies) = escalating();
    let text = page(&policy, &topologies, &[]);
    let matrix = &text[text.find("id=\"matrix\"").unwrap()..text.find("id=\"graph\"").unwrap()];
    // Cluster-wide, then the manager's and the jobs' namespaces, then where the manager holds
    // a RoleBinding.
    let headings = [
        "<h3>Cluster-wide <span class=\"n\">(ClusterRoleBindings)</span></h3>",
        "<h3>Namespace <code>ci</code> <span class=\"n\">(jobs)</span></h3>",
        "<h3>Namespace <code>gitlab-runner</code> <span class=\"n\">(manager)</span></h3>",
        "<h3>Namespace <code>teams</code> <span class=\"n\">(bound here)</span></h3>",
    ];
    let at: Vec<usize> = headings
        .iter()
        .map(|h| {
            matrix
                .find(h)
                .unwrap_or_else(|| panic!("{h} not in {matrix}"))
        })
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
    // The cells of `who`'s row in the table under `heading`, or None without a row.
    let row = |who: &str, heading: &str| -> Option<Vec<&str>> {
        let table = &matrix[matrix.find(heading).unwrap()..];
        let table = &table[..table.find("</table>").unwrap()];
        let start = table.find(&format!("<code>{who}</code>"))?;
        let row = &table[start..table[start..].find("</tr>").unwrap() + start];
        Some(
            row.split("<td class=\"")
                .skip(1)
                .map(|c| &c[..c.find('"').unwrap()])
                .collect(),
        )
    };
    let manager = "gitlab-runner/gitlab-runner";
    // pods create, pods/exec, get secrets, list secrets, configmaps, token, rolebindings,
    // bind/escalate: coloured by what they give.
    assert_eq!(
        row(manager, headings[2]).unwrap(),
        [
            "yes md", "yes md", "yes hi", "yes hi", "no", "no", "yes hi", "yes hi"
        ]
    );
    assert_eq!(row(manager, headings[1]).unwrap(), ["no"; 8]);
    assert_eq!(row("ci/default", headings[1]).unwrap(), ["no"; 8]);
    assert_eq!(
        row(manager, headings[3]).unwrap(),
        ["yes md", "no", "no", "no", "no", "no", "no", "no"]
    );
    // Where only a binding of the manager applies, the jobs' row is not shown.
    assert_eq!(row("ci/default", headings[3]), None);
    assert_eq!(row(manager, headings[0]).unwrap(), ["no"; 6]);
    // The cell says which binding, role and rule allow it.
    assert!(
        matrix.contains(
            "title=\"allowed: create pods in namespace &quot;teams&quot;&#10;RoleBinding teams/pods (rbac.yaml:"
        ),
        "{matrix}"
    );
    assert!(
        matrix.contains("title=\"denied: get configmaps in namespace &quot;gitlab-runner&quot;\"")
    );
}

#[test]
fn the_graph_draws_each_step_with_its_request() {
    let (policy, topologies) = escalating();
    let text = page(&policy, &topologies, &[]);
    let graph = &text[text.find("id=\"graph\"").unwrap()..];
    let svg = &graph[graph.find("<svg").unwrap()..graph.find("</svg>").unwrap()];
    // The manager (a start), cluster-admin's rights bound by the manager, the deployer it can
    // run pods as, and the deployer's `edit` rights reach further.
    for node in [
        "<g class=\"node start\"><title>ServiceAccount gitlab-runner/gitlab-runner (runner manager)</title>",
        "<g class=\"node start\"><title>ServiceAccount ci/default (job pods)</title>",
        "<title>ServiceAccount teams/deployer</title>",
        "<g class=\"node strong\"><title>every permission in namespace `gitlab-runner`</title>",
    ] {
        assert!(svg.contains(node), "{node} not in\n{svg}");
    }
    assert!(svg.contains(">create pods<"), "{svg}");
    assert!(
        svg.contains(">bind clusterroles + create rolebindings<"),
        "{svg}"
    );
    // Edges run between the nodes: every path has an arrowhead and a title.
    let edges = svg.matches("<path class=\"edge\"").count();
    assert!(edges >= 3, "{svg}");
    assert_eq!(
        svg.matches("marker-end=\"url(#rg-arrow)\"").count()
            + svg.matches("marker-start=\"url(#rg-arrow)\"").count(),
        edges
    );
    // The steps as text, worded as `paths` words them.
    assert!(graph.contains(
        "may create pods, which can run as any ServiceAccount of the namespace → ServiceAccount teams/deployer"
    ), "{graph}");
    // Laid out: nodes are not all at one place.
    let xs: BTreeSet<&str> = svg
        .split("<rect x=\"")
        .skip(1)
        .map(|r| &r[..r.find('"').unwrap()])
        .collect();
    assert!(xs.len() >= 2, "{xs:?}");
}

#[test]
fn the_page_is_deterministic() {
    let (policy, topologies) = escalating();
    let a = page(&policy, &topologies, &[]);
    let (policy, topologies) = escalating();
    assert_eq!(a, page(&policy, &topologies, &[]));
}

#[test]
fn the_graph_is_bounded_and_says_what_it_left_out() {
    // The manager may create pods in `wide`, where 150 ServiceAccounts live.
    let mut yaml = String::from(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: pods, namespace: wide}\nrules: [{apiGroups: [\"\"], resources: [pods], verbs: [create]}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: pods, namespace: wide}\nsubjects: [{kind: ServiceAccount, name: gitlab-runner, namespace: gitlab-runner}]\nroleRef: {kind: Role, name: pods, apiGroup: rbac.authorization.k8s.io}\n",
    );
    for i in 0..150 {
        write!(
            yaml,
            "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: sa-{i:03}, namespace: wide}}\n"
        )
        .unwrap();
    }
    let policy = policy(&yaml);
    let topologies = [topology(
        ("gitlab-runner", "gitlab-runner"),
        &[("ci", "job")],
    )];
    let text = page(&policy, &topologies, &[]);
    let nodes = text.matches("<g class=\"node").count();
    assert_eq!(nodes, MAX_NODES, "{text}");
    // 151 reachable (150 and `default`), 58 drawn beside the two starts.
    assert!(
        text.contains("Not everything fits: 93 more reachable identities are not drawn"),
        "{text}"
    );
}

#[test]
fn the_matrix_is_bounded_and_says_what_it_left_out() {
    let mut yaml = String::from(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader}\nrules: [{apiGroups: [\"\"], resources: [configmaps], verbs: [get]}]\n",
    );
    for i in 0..70 {
        write!(
            yaml,
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: r, namespace: ns-{i:02}}}\nsubjects: [{{kind: ServiceAccount, name: gitlab-runner, namespace: gitlab-runner}}]\nroleRef: {{kind: ClusterRole, name: reader, apiGroup: rbac.authorization.k8s.io}}\n"
        )
        .unwrap();
    }
    let policy = policy(&yaml);
    let topologies = [topology(
        ("gitlab-runner", "gitlab-runner"),
        &[("ci", "job")],
    )];
    let text = page(&policy, &topologies, &[]);
    let shown: BTreeSet<&str> = text
        .split("<h3>Namespace <code>")
        .skip(1)
        .map(|s| &s[..s.find('<').unwrap()])
        .collect();
    assert_eq!(shown.len(), MAX_NAMESPACES);
    assert!(shown.contains("ci") && shown.contains("gitlab-runner") && shown.contains("ns-00"));
    // 2 runner namespaces and 48 of the 70: 22 left out, the first named.
    assert!(
        text.contains("22 more namespaces of these runners or with their RoleBindings are not shown (the matrix shows 50): <code>ns-48</code>"),
        "{text}"
    );
    assert!(text.contains(" and 12 more.</p>"));
}

#[test]
fn without_a_runner_the_page_says_so() {
    let policy = policy(ESCALATING);
    let finding = Finding::new(&META, "something").severity(Severity::Low);
    let text = page(&policy, &[], &[finding]);
    assert!(text.contains("The inputs hold no GitLab Runner"));
    assert!(text.contains("No runner identity to ask about"));
    assert!(text.contains("No runner identity to start from"));
    assert!(text.contains("<span class=\"verdict\">passes</span>"));
    assert!(text.contains("<li class=\"sev low\"><b>1</b> low</li>"));
}

#[test]
fn an_incomplete_audit_fails_and_names_what_was_not_read() {
    let policy = policy("");
    let unreadable = ["bad.yaml:1:1: <oops>".to_owned()];
    let report = Report {
        topologies: &[],
        findings: &[],
        fail_on: Severity::High,
        runner_version: "18.9".into(),
        chart_version: "0.86.0".into(),
        inputs: &[],
        unreadable: &unreadable,
    };
    let mut out = Vec::new();
    html(&mut out, &report, &policy).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("<span class=\"verdict\">incomplete</span>"));
    assert!(text.contains("<code>bad.yaml:1:1: &lt;oops&gt;</code>"));
}

/// A tiny deterministic generator (no crate for it): the layout must not panic on any shape.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(self.0 >> 33).unwrap() % n
    }
}

#[test]
fn any_graph_within_the_bounds_is_laid_out() {
    let mut rng = Lcg(11);
    for round in 0..40 {
        let nodes = 2 + rng.next(MAX_NODES - 1);
        let mut drawing = Drawing::default();
        for i in 0..nodes {
            let identity = match rng.next(4) {
                0 => Identity::NamespaceAdmin {
                    namespace: format!("ns-{i}"),
                },
                _ => Identity::ServiceAccount {
                    namespace: "x".repeat(1 + rng.next(30)),
                    name: format!("sa-{i}"),
                },
            };
            drawing.push_node(&identity);
        }
        for _ in 0..=rng.next(2 * nodes) {
            let (from, to) = (rng.next(nodes), rng.next(nodes));
            if from == to {
                continue;
            }
            drawing.push_edge(
                from,
                to,
                [
                    "create pods",
                    "get secrets",
                    "bind clusterroles + create rolebindings",
                ][rng.next(3)],
                Step {
                    primitive: Primitive::CreatePods,
                    permissions: Arc::from([]),
                    to: Identity::ClusterAdmin,
                    note: None,
                },
            );
        }
        let svg = drawing.svg();
        assert_eq!(
            svg.matches("<g class=\"node").count(),
            nodes,
            "round {round}"
        );
        assert!(
            !svg.contains("NaN") && !svg.contains("inf"),
            "round {round}: {svg}"
        );
    }
}

#[test]
fn many_runners_show_whole_runners_first() {
    // 20 runners, each a manager and one job ServiceAccount of its own: 40 identities.
    let topologies: Vec<Topology> = (0..20)
        .map(|i| {
            topology(
                (&format!("m-{i:02}"), "runner"),
                &[(&format!("j-{i:02}"), "job")],
            )
        })
        .collect();
    let subjects = super::matrix::Subjects::of(&topologies);
    assert_eq!(subjects.list.len(), super::matrix::MAX_SUBJECTS);
    assert_eq!(subjects.left_out, 40 - super::matrix::MAX_SUBJECTS);
    // Runner after runner: a manager, then its jobs.
    assert_eq!(subjects.list[0].namespace, "m-00");
    assert_eq!(subjects.list[0].roles, ["runner manager (runner 1)"]);
    assert_eq!(subjects.list[1].namespace, "j-00");
    assert_eq!(subjects.list[1].roles, ["job pods (runner 1)"]);
    // Only the namespaces of the runners shown (15 of them).
    assert_eq!(subjects.runner_namespaces.len(), 30);
    assert!(!subjects.runner_namespaces.contains_key("m-15"));
    let page = page(&policy(""), &topologies, &[]);
    assert!(page.contains("10 more runner ServiceAccounts are not shown (the matrix shows 30)"));
    // In a runner's namespace, only that runner's rows.
    let section = &page[page.find("<h3>Namespace <code>j-03</code>").unwrap()..];
    let table = &section[..section.find("</table>").unwrap()];
    assert_eq!(table.matches("<span class=\"role\">").count(), 2, "{table}");
}

/// A diff page of `comparison` between two sides with no objects and no runner.
fn diff_page(comparison: &runnerguard_audit::diff::Comparison) -> String {
    let old = policy("");
    let new = policy("");
    let report = |topologies| Report {
        topologies,
        findings: &[],
        fail_on: Severity::High,
        runner_version: "18.9".into(),
        chart_version: "0.86.0".into(),
        inputs: &[],
        unreadable: &[],
    };
    let (old_report, new_report) = (report(&[]), report(&[]));
    let d = crate::DiffReport {
        old_label: "old/",
        new_label: "new/",
        old: &old_report,
        new: &new_report,
        old_policy: &old,
        new_policy: &new,
        comparison,
        fail_on: Severity::High,
    };
    let mut out = Vec::new();
    diff_html(&mut out, &d).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn the_diff_page_is_bounded_and_says_what_it_left_out() {
    use runnerguard_audit::diff::{Comparison, Rights, SubjectChange};
    use runnerguard_engine::Reached;
    use runnerguard_model::PolicyRule;

    let sa = |i: usize| Identity::ServiceAccount {
        namespace: "teams".into(),
        name: format!("sa-{i:03}"),
    };
    // 250 resources in one scope, and 30 identities newly reachable.
    let wide = Rights {
        namespace: "gitlab-runner".into(),
        rules: (0..250)
            .map(|i| PolicyRule {
                verbs: vec!["get".into()],
                api_groups: vec![String::new()],
                resources: vec![format!("things{i:03}")],
                ..PolicyRule::default()
            })
            .collect(),
        bindings: Vec::new(),
    };
    let reached: Vec<Reached> = (0..30)
        .map(|i| Reached {
            identity: sa(500 + i),
            path: Vec::new(),
        })
        .collect();
    // 120 subjects gain: the first the wide rights, each the same small rights.
    let mut subjects = vec![SubjectChange {
        identity: sa(0),
        gained: vec![wide],
        lost: Vec::new(),
        reach_gained: reached,
        reach_lost: Vec::new(),
    }];
    for i in 1..120 {
        subjects.push(SubjectChange {
            identity: sa(i),
            gained: vec![Rights {
                namespace: String::new(),
                rules: vec![PolicyRule {
                    verbs: vec!["list".into()],
                    api_groups: vec![String::new()],
                    resources: vec!["secrets".into()],
                    ..PolicyRule::default()
                }],
                bindings: Vec::new(),
            }],
            lost: Vec::new(),
            reach_gained: Vec::new(),
            reach_lost: Vec::new(),
        });
    }
    let comparison = Comparison {
        subjects,
        ..Comparison::default()
    };
    let text = diff_page(&comparison);
    assert_eq!(text.matches("<div class=\"subject\">").count(), 100);
    assert!(
        text.contains("20 more subjects are not shown here (this page shows 100)"),
        "{text}"
    );
    // 10 rows shown, 190 folded, 50 left out.
    assert!(text.contains("<summary>190 more rows</summary>"));
    assert!(text.contains("50 more rows are not shown here (this page shows 200)"));
    assert_eq!(text.matches("<tr><td><code>things").count(), 200);
    // 20 paths, 10 more named.
    assert_eq!(
        text.matches("<span class=\"n\">in 0 steps</span>").count(),
        20
    );
    assert!(text.contains("Can now become also: <code>ServiceAccount teams/sa-520</code>"));
    // The same rights of the 119 others: one table, then named.
    assert_eq!(
        text.matches(
            "cluster-wide the same 1 permission as <a href=\"#r1\">ServiceAccount teams/sa-001</a>"
        )
        .count(),
        98
    );
    // No runner: the graph says so, and the page passes.
    assert!(text.contains("No runner identity to start from"));
    assert!(text.contains("<span class=\"verdict\">passes</span>"));
    assert!(text.contains("No runner found."));
}
