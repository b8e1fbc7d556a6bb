//! How bindings, roles, rules and misses are named in human output and in JSON.
//!
//! Bindings, roles, grants and escalation steps are worded by the report crate
//! ([`runnerguard_report::evidence`]), as the audit's evidence is: these are thin wrappers
//! that resolve engine ids into that evidence.
//!
//! The human forms (`binding`, `qualified`, `subject`, `grant_path`, `mismatch`,
//! `step_lines`) show names and file names escaped ([`Escaped`]): they are input, and a name
//! holding ESC or a newline must not rewrite the terminal (issue #9, T1). The JSON forms
//! carry them exactly.

use runnerguard_audit::{EscalationStep, GrantPath};
use runnerguard_engine::{Action, Grant, Mismatch, Policy, Target};
use runnerguard_model::{Binding, PolicyRule, Subject};
use runnerguard_report::{Escaped, escape, evidence};
use serde_json::{Value, json};

/// `RoleBinding teams/deployer (file:line)`.
pub(crate) fn binding(b: &Binding) -> String {
    escape(&evidence::object(&b.object_ref())).into_owned()
}

/// `ns/name`, or `name` without a namespace, escaped.
pub(crate) fn qualified(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        escape(name).into_owned()
    } else {
        format!("{}/{}", Escaped(namespace), Escaped(name))
    }
}

/// `binding → role → rule N: {...}` with the aggregation source when there is one.
pub(crate) fn grant_path(policy: &Policy, grant: &Grant) -> String {
    escape(&evidence::grant_line(&GrantPath::new(policy, grant))).into_owned()
}

/// A subject as a person reads it, escaped; a ServiceAccount's empty namespace is resolved
/// against the binding's, as the authorizer does.
pub(crate) fn subject(s: &Subject, binding_namespace: &str) -> String {
    if s.kind == "ServiceAccount" {
        let ns = if s.namespace.is_empty() {
            binding_namespace
        } else {
            &s.namespace
        };
        if ns.is_empty() {
            return format!(
                "ServiceAccount {} (no namespace: matches nobody)",
                Escaped(&s.name)
            );
        }
        return format!("ServiceAccount {}/{}", Escaped(ns), Escaped(&s.name));
    }
    format!("{} {}", Escaped(&s.kind), Escaped(&s.name))
}

/// Why one rule does not allow the action, one sentence per difference, escaped (it quotes
/// the rule and the request).
pub(crate) fn mismatch(m: Mismatch, rule: &PolicyRule, b: &Binding, action: &Action) -> String {
    escape(&mismatch_text(m, rule, b, action)).into_owned()
}

fn mismatch_text(m: Mismatch, rule: &PolicyRule, b: &Binding, action: &Action) -> String {
    let list = |v: &[String]| {
        let items: Vec<String> = v.iter().map(|s| format!("{s:?}")).collect();
        format!("[{}]", items.join(", "))
    };
    match (m, &action.target) {
        (Mismatch::Verb, _) => format!(
            "verb: the rule allows {} but not `{}`",
            list(&rule.verbs),
            action.verb
        ),
        (Mismatch::ApiGroup, Target::Resource(r)) => format!(
            "API group: the rule covers {} but not {:?}{}",
            list(&rule.api_groups),
            r.api_group,
            if r.api_group.is_empty() {
                " (the core group)"
            } else {
                ""
            }
        ),
        (Mismatch::Resource, Target::Resource(r)) => {
            let combined = if r.subresource.is_empty() {
                r.resource.clone()
            } else {
                format!("{}/{}", r.resource, r.subresource)
            };
            if !r.subresource.is_empty() && rule.resources.contains(&r.resource) {
                format!(
                    "resource: the rule lists `{}` but not `{combined}`; a subresource must be listed itself (`{combined}`, or `*/{}` for any resource)",
                    r.resource, r.subresource
                )
            } else if rule
                .resources
                .iter()
                .any(|x| *x == format!("{}/*", r.resource))
            {
                format!(
                    "resource: `{}/*` is literal in RBAC and matches no request; list `{combined}`",
                    r.resource
                )
            } else {
                format!(
                    "resource: the rule lists {} but not `{combined}`",
                    list(&rule.resources)
                )
            }
        }
        (Mismatch::ResourceName, Target::Resource(r)) => {
            if r.name.is_empty() {
                format!(
                    "name: the rule is limited to resourceNames {}, which never match a request without a name (list, watch, create, deletecollection)",
                    list(&rule.resource_names)
                )
            } else {
                format!(
                    "name: {:?} is not among the rule's resourceNames {}",
                    r.name,
                    list(&rule.resource_names)
                )
            }
        }
        (Mismatch::NonResourceUrl, Target::NonResource { path }) => format!(
            "URL: {path:?} is not matched by {} (a trailing `*` matches by prefix; `*` elsewhere is literal)",
            list(&rule.non_resource_urls)
        ),
        (Mismatch::RequestType, Target::Resource(_)) => {
            "type: the rule is about non-resource URLs, the request about a resource".to_owned()
        }
        (Mismatch::RequestType, Target::NonResource { .. }) => {
            "type: the rule is about resources, the request about a non-resource URL".to_owned()
        }
        (Mismatch::Namespace, target) => {
            // A request on a Namespace is in a namespace only when it names one, and then in
            // that one (issue #8, point 9): say so, it is not what `-n` suggests.
            let on_namespaces = matches!(
                target,
                Target::Resource(r) if r.api_group.is_empty() && r.resource == "namespaces"
            );
            if action.namespace.is_empty() {
                let by_name = if on_namespaces {
                    " (only get, update, patch and delete of one Namespace by name are made in a namespace: that one)"
                } else {
                    ""
                };
                format!(
                    "namespace: a RoleBinding grants only inside its namespace ({:?}); this request is cluster-wide{by_name}",
                    b.namespace
                )
            } else if on_namespaces {
                format!(
                    "namespace: the RoleBinding is in namespace {:?}; a request on Namespace {ns:?} is made in {ns:?} itself",
                    b.namespace,
                    ns = action.namespace
                )
            } else {
                format!(
                    "namespace: the RoleBinding is in namespace {:?}; it grants nothing in {:?}",
                    b.namespace, action.namespace
                )
            }
        }
        (m, _) => format!("{m:?}"),
    }
}

/// A grant in JSON: the audit's grant evidence (binding, role, rule index, the rule, where an
/// aggregated rule was written), objects written as everywhere, and the subject that matched.
pub(crate) fn grant_json(policy: &Policy, grant: &Grant) -> Value {
    let mut v = json!(GrantPath::new(policy, grant));
    v["subject"] = json!(
        policy
            .binding(grant.binding)
            .subjects
            .get(grant.subject_index)
    );
    v
}

/// The request in JSON.
pub(crate) fn action_json(action: &Action) -> Value {
    match &action.target {
        Target::Resource(r) => json!({
            "verb": action.verb,
            "namespace": action.namespace,
            "group": r.api_group,
            "resource": r.resource,
            "subresource": r.subresource,
            "name": r.name,
        }),
        Target::NonResource { path } => json!({
            "verb": action.verb,
            "nonResourceURL": path,
        }),
    }
}

/// One escalation step, as lines: what the subject may do, and the grant of each permission.
pub(crate) fn step_lines(policy: &Policy, step: &runnerguard_engine::Step) -> Vec<String> {
    evidence::escalation_lines(&EscalationStep::new(policy, step))
        .into_iter()
        .map(|l| format!("{:indent$}{}", "", Escaped(&l.text), indent = 2 * l.depth))
        .collect()
}

/// An escalation step in JSON.
pub(crate) fn step_json(policy: &Policy, step: &runnerguard_engine::Step) -> Value {
    json!({
        "primitive": step.primitive,
        "description": step.primitive.describe(),
        "permissions": step.permissions.iter().map(|p| json!({
            "request": action_json(&p.action),
            "grant": grant_json(policy, &p.grant),
        })).collect::<Vec<_>>(),
        "to": step.to,
        "note": step.note,
    })
}

/// A reached identity in JSON.
pub(crate) fn reached_json(policy: &Policy, r: &runnerguard_engine::Reached) -> Value {
    json!({
        "identity": r.identity,
        "description": r.identity.to_string(),
        "path": r.path.iter().map(|s| step_json(policy, s)).collect::<Vec<_>>(),
    })
}

/// A path's steps, numbered, one line per binding → role → rule under each step.
pub(crate) fn write_path(
    w: &mut dyn std::io::Write,
    policy: &runnerguard_engine::Policy,
    r: &runnerguard_engine::Reached,
) -> std::io::Result<()> {
    for (i, step) in r.path.iter().enumerate() {
        for (j, line) in step_lines(policy, step).iter().enumerate() {
            if j == 0 {
                writeln!(w, "  {}. {line}", i + 1)?;
            } else {
                writeln!(w, "     {line}")?;
            }
        }
    }
    Ok(())
}

/// The bindings whose role could not be resolved, as JSON (`errors` of can-i and who-can).
pub(crate) fn errors_json(
    policy: &Policy,
    errors: &[runnerguard_engine::ResolveError],
) -> Vec<Value> {
    errors
        .iter()
        .map(|e| {
            let b = policy.binding(e.binding);
            json!({
                "binding": b.object_ref(),
                "message": e.message,
            })
        })
        .collect()
}
