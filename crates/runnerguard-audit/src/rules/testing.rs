//! A small harness for the rules' unit tests: manifests from a string, a topology given
//! outright, a runner version's executor table.

use runnerguard_engine::Policy;

use runnerguard_model::ObjectRef;

use crate::{ChartKeys, Context, Evidence, Finding, GrantPath, JobTarget, Rule, Topology};

/// One job target: ServiceAccount `ci-job` in namespace `teams`, its token not mounted.
pub(super) const JOBS: &[(&str, &str, Option<bool>)] = &[("teams", "ci-job", Some(false))];

/// The findings of `rule` on `yaml` with the manager `gitlab-runner/gitlab-runner` and
/// job targets `(namespace, service account, automount)`, for runner 18.9.
pub(super) fn run(
    rule: &dyn Rule,
    yaml: &str,
    jobs: &[(&str, &str, Option<bool>)],
) -> Vec<Finding> {
    run_with(rule, yaml, "", jobs, "18.9")
}

/// [`run`] with a runner `config.toml` (when not empty) and a runner version.
pub(super) fn run_with(
    rule: &dyn Rule,
    yaml: &str,
    config_toml: &str,
    jobs: &[(&str, &str, Option<bool>)],
    version: &str,
) -> Vec<Finding> {
    with_context(yaml, config_toml, jobs, version, |cx| {
        let mut out = Vec::new();
        rule.check(cx, &mut out);
        out
    })
}

/// What `f` makes of the context [`run_with`] gives a rule.
pub(super) fn with_context<T>(
    yaml: &str,
    config_toml: &str,
    jobs: &[(&str, &str, Option<bool>)],
    version: &str,
    f: impl FnOnce(&Context<'_>) -> T,
) -> T {
    let mut loaded = runnerguard_load::load_str("test.yaml", yaml).unwrap();
    if !config_toml.is_empty() {
        let config = runnerguard_load::load_str("config.toml", config_toml).unwrap();
        loaded.inventory.extend(config.inventory);
    }
    loaded.add_default_policy().unwrap();
    let policy = Policy::new(loaded.inventory);
    let topology = Topology {
        manager_namespace: "gitlab-runner".to_owned(),
        manager_service_account: "gitlab-runner".to_owned(),
        jobs: jobs
            .iter()
            .map(|(ns, sa, automount)| JobTarget {
                namespace: (*ns).to_owned(),
                service_account: (*sa).to_owned(),
                automount_token: *automount,
            })
            .collect(),
        evidence: Vec::new(),
        values: None,
    };
    let tables = crate::executor::permission_tables().unwrap();
    let table = crate::executor::table_for(&tables, version.parse().unwrap()).unwrap();
    let chart = ChartKeys::for_version("0.86.0").unwrap();
    f(&Context::new(&policy, &topology, &table, &chart))
}

/// A Role `name` in `namespace` with `rules` (each a YAML flow mapping) and a RoleBinding of
/// the same name giving it to `subject` (a YAML flow mapping).
pub(super) fn bound_role(namespace: &str, name: &str, rules: &[&str], subject: &str) -> String {
    let rules: String = rules.iter().map(|r| ["- ", r, "\n"].concat()).collect();
    format!(
        "apiVersion: rbac.authorization.k8s.io/v1\n\
         kind: Role\n\
         metadata: {{name: {name}, namespace: {namespace}}}\n\
         rules:\n{rules}---\n\
         apiVersion: rbac.authorization.k8s.io/v1\n\
         kind: RoleBinding\n\
         metadata: {{name: {name}, namespace: {namespace}}}\n\
         subjects: [{subject}]\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {name}}}\n"
    )
}

/// The registered rule with `id`: how one rule's test runs another rule without importing
/// it (a rule file imports no other rule file).
pub(super) fn rule_by_id(id: &str) -> &'static dyn Rule {
    *super::ALL
        .iter()
        .find(|r| r.meta().id == id)
        .unwrap_or_else(|| panic!("no rule {id}"))
}

/// The texts of every fact in `f`'s evidence, nested ones included, in order (the wording of
/// grants and objects is the report crate's: tests look at those as data).
pub(super) fn facts(f: &Finding) -> Vec<&str> {
    fn walk<'a>(evidence: &'a [Evidence], out: &mut Vec<&'a str>) {
        for e in evidence {
            match e {
                Evidence::Fact { text, under } => {
                    out.push(text);
                    walk(under, out);
                }
                Evidence::Object(o) => walk(&o.under, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(&f.evidence, &mut out);
    out
}

/// Every object `f`'s evidence names, nested evidence included, in order: the binding and
/// role of each grant (and the role an aggregated rule comes from), objects.
pub(super) fn objects(f: &Finding) -> Vec<&ObjectRef> {
    fn grant<'a>(g: &'a GrantPath, out: &mut Vec<&'a ObjectRef>) {
        out.push(&g.binding);
        out.push(&g.role);
        if let Some(from) = &g.aggregated_from {
            out.push(&from.role);
        }
    }
    fn walk<'a>(evidence: &'a [Evidence], out: &mut Vec<&'a ObjectRef>) {
        for e in evidence {
            match e {
                Evidence::Grant(g) => grant(g, out),
                Evidence::Escalation(s) => {
                    for p in &s.permissions {
                        grant(&p.grant, out);
                    }
                }
                Evidence::Object(o) => {
                    out.push(&o.object);
                    walk(&o.under, out);
                }
                Evidence::Fact { under, .. } => walk(under, out),
                Evidence::Setting(_) | Evidence::Rule(_) => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(&f.evidence, &mut out);
    out
}
