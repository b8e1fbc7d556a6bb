//! What several rules share: the runner configurations that decide job pods, and wording.

use runnerguard_model::{Origin, PolicyRule, RunnerEntry, Setting};

use super::rb001_cluster_admin_binding::rbac::Group;
use crate::Context;

/// Where job-pod settings come from: a `[[runners]]` entry, or the chart's default
/// `runners.config` when values set none.
pub(crate) struct Source<'a> {
    pub(super) name: String,
    /// What `at` points at.
    pub(super) what: &'static str,
    pub(super) settings: &'a [Setting],
    pub(super) at: Origin,
    pub(super) namespace: Option<&'a str>,
}

/// Every [`Source`], in order: rules ask through [`Context::sources`], which works this out
/// once for every setup.
pub(crate) fn sources<'a>(cx: &Context<'a>) -> Vec<Source<'a>> {
    let objects: &'a runnerguard_model::Inventory = cx.policy.objects();
    let mut out = Vec::new();
    for entry in objects.runner_configs.iter().flat_map(|c| &c.runners) {
        if entry.executor.as_deref().is_some_and(|e| e != "kubernetes") {
            continue;
        }
        out.push(Source {
            name: entry_name(entry),
            what: "[runners.kubernetes]",
            settings: &entry.kubernetes,
            at: entry
                .kubernetes_origin
                .clone()
                .unwrap_or_else(|| entry.origin.clone()),
            namespace: entry
                .kube("namespace")
                .and_then(|s| s.value.as_str())
                .filter(|n| !n.is_empty()),
        });
    }
    // No runner configuration read at all: values without `runners.config` get the chart's
    // default one, which sets `namespace` and `image` only: no limits, no security flags.
    if objects.runner_configs.is_empty() {
        for values in &objects.helm_values {
            if values.get("runners.config").is_some() {
                continue;
            }
            out.push(Source {
                name: "the chart's default `runners.config` (the values set none)".to_owned(),
                what: "values without `runners.config` (the chart's default applies)",
                settings: &[],
                at: values.origin.clone(),
                namespace: values
                    .get("runners.jobNamespace")
                    .and_then(|s| s.value.as_str())
                    .filter(|n| !n.is_empty()),
            });
        }
    }
    out
}

/// How a `[[runners]]` entry is named in messages: by its name, else by where it is.
pub(super) fn entry_name(entry: &RunnerEntry) -> String {
    match &entry.name {
        Some(n) => format!("runner `{n}`"),
        None => format!("the [[runners]] entry at {}", entry.origin),
    }
}

/// `a`, `a and b`, `a, b and c`.
pub(super) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Whether the grants of `group` on `resource` reach any object, else the names they reach;
/// `None` when they do not touch `resource`.
pub(super) fn targets(group: &Group, resource: &str) -> Option<(bool, Vec<String>)> {
    let perms: Vec<&PolicyRule> = group
        .perms
        .iter()
        .filter(|p| p.resources.first().is_some_and(|r| r == resource))
        .collect();
    if perms.is_empty() {
        return None;
    }
    if perms.iter().any(|p| p.resource_names.is_empty()) {
        return Some((true, Vec::new()));
    }
    let mut names: Vec<String> = perms
        .iter()
        .flat_map(|p| p.resource_names.iter().cloned())
        .collect();
    names.sort();
    names.dedup();
    Some((false, names))
}

/// `any group`, `group `a``, `groups `a` and `b``.
pub(super) fn phrase(any: bool, names: &[String], singular: &str, plural: &str) -> String {
    if any {
        format!("any {singular}")
    } else {
        let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        let kind = if names.len() == 1 { singular } else { plural };
        format!("{kind} {}", and_list(&quoted))
    }
}
