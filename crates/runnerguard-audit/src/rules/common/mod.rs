//! What both rule families share: how lists and permissions read in messages, and which
//! permissions name something real.

use std::fmt::Write as _;

use runnerguard_model::{API_RESOURCES, PolicyRule, is_namespaced};

/// `a`, `a and b`, `a, b and c`.
pub(super) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Whether a single permission (one group, one resource) can name something real: `*`
/// anywhere, a group this build does not know (a custom resource), or a resource the group
/// serves. A rule listing `apiGroups: ["", "apps"]` and `resources: ["pods", "deployments"]`
/// also grants `apps` `pods`, which does not exist: such pairs are not worth reporting.
pub(super) fn exists(single: &PolicyRule) -> bool {
    let (Some(group), Some(resource)) = (single.api_groups.first(), single.resources.first())
    else {
        return true;
    };
    if group == "*" || resource.contains('*') {
        return true;
    }
    if !API_RESOURCES.iter().any(|r| r.group == group) {
        return true;
    }
    is_namespaced(group, resource).is_some()
}

/// How a single permission's target reads: `deployments.apps`, `pods/exec`,
/// `deployments.apps/scale`, `secrets "runner-token"`, or a URL.
pub(super) fn target(single: &PolicyRule) -> String {
    if let Some(url) = single.non_resource_urls.first() {
        return url.clone();
    }
    let group = single.api_groups.first().map_or("", String::as_str);
    let resource = single.resources.first().map_or("", String::as_str);
    let (base, sub) = resource.split_once('/').unwrap_or((resource, ""));
    let mut s = base.to_owned();
    if !group.is_empty() {
        s.push('.');
        s.push_str(group);
    }
    if !sub.is_empty() {
        s.push('/');
        s.push_str(sub);
    }
    if !single.resource_names.is_empty() {
        let _ = write!(s, " {:?}", single.resource_names.join(","));
    }
    s
}

/// A compact description of single permissions (as `breakdown_rule` gives them): targets with
/// the same verbs share one entry, e.g. `deployments.apps, cronjobs.batch (get, list, create);
/// secrets (list, watch)`. Order of first appearance, so it follows the role's text.
pub(super) fn describe<'a>(perms: impl IntoIterator<Item = &'a PolicyRule>) -> String {
    describe_at_most(perms, usize::MAX)
}

/// [`describe`], naming at most `max` targets and counting the rest (for messages; the
/// evidence path has them all).
pub(super) fn describe_at_most<'a>(
    perms: impl IntoIterator<Item = &'a PolicyRule>,
    max: usize,
) -> String {
    // Verbs per target, then targets per verb list.
    let mut by_target: Vec<(String, Vec<&str>)> = Vec::new();
    for p in perms {
        let t = target(p);
        let i = if let Some(i) = by_target.iter().position(|(k, _)| *k == t) {
            i
        } else {
            by_target.push((t, Vec::new()));
            by_target.len() - 1
        };
        let v = &mut by_target[i].1;
        for verb in &p.verbs {
            if !v.contains(&verb.as_str()) {
                v.push(verb);
            }
        }
    }
    let more = by_target.len().saturating_sub(max);
    by_target.truncate(max);
    let mut by_verbs: Vec<(Vec<&str>, Vec<String>)> = Vec::new();
    for (t, verbs) in by_target {
        match by_verbs.iter_mut().find(|(v, _)| *v == verbs) {
            Some((_, targets)) => targets.push(t),
            None => by_verbs.push((verbs, vec![t])),
        }
    }
    let mut out = by_verbs
        .into_iter()
        .map(|(verbs, targets)| format!("{} ({})", targets.join(", "), verbs.join(", ")))
        .collect::<Vec<_>>()
        .join("; ");
    if more > 0 {
        let _ = write!(out, "; and {more} more resources (see the evidence)");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{PolicyRule, describe, describe_at_most, exists};

    #[test]
    fn describe_groups_targets_with_equal_verbs() {
        let rules = [
            PolicyRule::resource(&["apps"], &["deployments"], &["get"]),
            PolicyRule::resource(&["batch"], &["cronjobs"], &["get"]),
            PolicyRule::resource(&[""], &["secrets"], &["list"]),
            PolicyRule::resource(&[""], &["secrets"], &["watch"]),
            PolicyRule::resource(&["apps"], &["deployments/scale"], &["patch"]),
        ];
        assert_eq!(
            describe(&rules),
            "deployments.apps, cronjobs.batch (get); secrets (list, watch); deployments.apps/scale (patch)"
        );
        assert_eq!(
            describe_at_most(&rules, 2),
            "deployments.apps, cronjobs.batch (get); and 2 more resources (see the evidence)"
        );
    }

    #[test]
    fn pairs_no_api_serves_are_dropped() {
        let rule = PolicyRule::resource;
        assert!(!exists(&rule(&["apps"], &["pods"], &["get"])));
        assert!(exists(&rule(&["apps"], &["deployments"], &["get"])));
        assert!(exists(&rule(&[""], &["pods/exec"], &["create"])));
        assert!(exists(&rule(&["example.com"], &["widgets"], &["get"])));
        assert!(exists(&rule(&["*"], &["pods"], &["get"])));
        assert!(exists(&rule(&[""], &["*"], &["get"])));
    }
}
