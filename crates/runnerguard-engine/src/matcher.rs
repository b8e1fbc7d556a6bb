//! The rule matchers, one for one with Kubernetes'
//! `pkg/apis/rbac/v1/evaluation_helpers.go` and `plugin/pkg/auth/authorizer/rbac/rbac.go`.
//!
//! Matching is exact and case-sensitive; `*` is the only wildcard. An empty list matches nothing,
//! except `resourceNames`, where empty means any name.

use runnerguard_model::PolicyRule;

use crate::{Action, Target};

/// `*`: every verb, group, resource or URL (`rbacv1.VerbAll`, `APIGroupAll`, `ResourceAll`,
/// `NonResourceAll` all have this value).
const ALL: &str = "*";

/// `VerbMatches`: the rule lists `*` or exactly `verb`.
pub fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    rule.verbs.iter().any(|v| v == ALL || v == verb)
}

/// `APIGroupMatches`: the rule lists `*` or exactly `group`.
pub fn api_group_matches(rule: &PolicyRule, group: &str) -> bool {
    rule.api_groups.iter().any(|g| g == ALL || g == group)
}

/// `ResourceMatches`: `*` matches everything, subresources included; otherwise the rule must
/// list the combined `resource/subresource` exactly, or `*/subresource` for a subresource
/// request. `pods/*` is literal: it matches no real request.
pub fn resource_matches(rule: &PolicyRule, combined: &str, subresource: &str) -> bool {
    any_resource(rule, subresource, |r| r == combined)
}

/// [`resource_matches`] of `resource` and `subresource` (empty: none) given apart, without
/// building the combined string: a rule's entry is compared with it in parts.
pub(crate) fn parts_match(rule: &PolicyRule, resource: &str, subresource: &str) -> bool {
    any_resource(rule, subresource, |r| {
        if subresource.is_empty() {
            return r == resource;
        }
        r.strip_prefix(resource)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|rest| rest == subresource)
    })
}

/// Whether some entry of the rule's `resources` is `*`, is the request's resource
/// (`is_request`), or is `*/subresource` for a subresource request.
fn any_resource(rule: &PolicyRule, subresource: &str, is_request: impl Fn(&str) -> bool) -> bool {
    rule.resources.iter().any(|r| {
        r == ALL
            || is_request(r)
            // `len(ruleResource) == len(requestedSubresource)+2 && HasPrefix("*/") &&
            // HasSuffix(requestedSubresource)`: exactly `*/<subresource>`.
            || (!subresource.is_empty()
                && r.strip_prefix("*/").is_some_and(|s| s == subresource))
    })
}

/// `ResourceNameMatches`: an empty list allows any name; otherwise the requested name must be
/// listed. A request without a name (list, watch, create) only matches a list holding `""`.
pub fn resource_name_matches(rule: &PolicyRule, name: &str) -> bool {
    rule.resource_names.is_empty() || rule.resource_names.iter().any(|n| n == name)
}

/// `NonResourceURLMatches`: `*`, an exact match, or a prefix match when the rule ends in `*`
/// (all trailing `*` trimmed, as `strings.TrimRight` does). A `*` elsewhere is literal.
pub fn non_resource_url_matches(rule: &PolicyRule, path: &str) -> bool {
    rule.non_resource_urls.iter().any(|u| {
        u == ALL || u == path || (u.ends_with('*') && path.starts_with(u.trim_end_matches('*')))
    })
}

/// Whether `rule` allows `action` for some object name: [`rule_allows`] without the
/// `resourceNames` test (whether `action`'s own name is listed is not asked).
pub(crate) fn rule_allows_some_name(rule: &PolicyRule, action: &Action) -> bool {
    match &action.target {
        Target::Resource(r) => {
            verb_matches(rule, &action.verb)
                && api_group_matches(rule, &r.api_group)
                && parts_match(rule, &r.resource, &r.subresource)
        }
        Target::NonResource { .. } => rule_allows(rule, action),
    }
}

/// [`rule_allows`] for the resource request `verb` on `resource`/`subresource` (empty: none)
/// in `group`, object `name` (empty: the collection), given in parts: a caller asking many
/// questions builds an [`Action`] only for those allowed (issue #13).
pub(crate) fn rule_allows_resource(
    rule: &PolicyRule,
    verb: &str,
    group: &str,
    resource: &str,
    subresource: &str,
    name: &str,
) -> bool {
    verb_matches(rule, verb)
        && api_group_matches(rule, group)
        && resource_name_matches(rule, name)
        && parts_match(rule, resource, subresource)
}

/// `RuleAllows` (plugin/pkg/auth/authorizer/rbac/rbac.go): whether one rule allows `action`.
/// The namespace is not the rule's business; which bindings apply decides it.
pub fn rule_allows(rule: &PolicyRule, action: &Action) -> bool {
    match &action.target {
        // The same conjunction as Kubernetes', the cheap tests first (the escalation
        // analysis asks every rule of `edit` and `admin` dozens of questions).
        Target::Resource(r) => rule_allows_resource(
            rule,
            &action.verb,
            &r.api_group,
            &r.resource,
            &r.subresource,
            &r.name,
        ),
        Target::NonResource { path } => {
            verb_matches(rule, &action.verb) && non_resource_url_matches(rule, path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parts compared one by one are `ResourceMatches` of the combined string, which
    /// Kubernetes builds: every entry shape against every request shape.
    #[test]
    fn resources_in_parts_match_as_the_combined_string_does() {
        let entries = [
            "*",
            "pods",
            "pods/exec",
            "pods/exe",
            "pods/exec/x",
            "pods/",
            "podsx/exec",
            "*/exec",
            "*/",
            "*/*",
            "pods/*",
            "exec",
            "/exec",
            "",
            "pods/exec/",
            "p/exec",
        ];
        let requests = [
            ("pods", ""),
            ("pods", "exec"),
            ("pods", "exe"),
            ("pod", "sexec"),
            ("pods/exec", ""),
            ("", "exec"),
            ("", ""),
            ("podsx", "exec"),
        ];
        for entry in entries {
            let rule = PolicyRule::resource(&[""], &[entry], &["get"]);
            for (resource, subresource) in requests {
                let combined = if subresource.is_empty() {
                    resource.to_owned()
                } else {
                    format!("{resource}/{subresource}")
                };
                assert_eq!(
                    parts_match(&rule, resource, subresource),
                    resource_matches(&rule, &combined, subresource),
                    "{entry:?} against {resource:?} / {subresource:?}"
                );
            }
        }
    }

    #[test]
    fn pods_star_is_literal() {
        let r = PolicyRule::resource(&[""], &["pods/*"], &["*"]);
        assert!(!rule_allows(
            &r,
            &Action::resource("create", "ns", "", "pods", "exec", "p")
        ));
        assert!(!rule_allows(
            &r,
            &Action::resource("get", "ns", "", "pods", "", "")
        ));
    }

    #[test]
    fn star_slash_subresource_matches_any_parent() {
        let r = PolicyRule::resource(&["*"], &["*/scale"], &["get"]);
        assert!(rule_allows(
            &r,
            &Action::resource("get", "ns", "apps", "deployments", "scale", "")
        ));
        assert!(!rule_allows(
            &r,
            &Action::resource("get", "ns", "apps", "deployments", "", "")
        ));
        assert!(!rule_allows(
            &r,
            &Action::resource("get", "ns", "apps", "deployments", "status", "")
        ));
    }

    #[test]
    fn resource_names_do_not_match_unnamed_requests() {
        let mut r = PolicyRule::resource(&[""], &["secrets"], &["get", "list"]);
        r.resource_names = vec!["runner-token".into()];
        assert!(rule_allows(
            &r,
            &Action::resource("get", "ns", "", "secrets", "", "runner-token")
        ));
        assert!(!rule_allows(
            &r,
            &Action::resource("list", "ns", "", "secrets", "", "")
        ));
        assert!(!rule_allows(
            &r,
            &Action::resource("get", "ns", "", "secrets", "", "other")
        ));
    }

    #[test]
    fn non_resource_prefix() {
        let mut r = PolicyRule::resource(&[], &[], &["get"]);
        r.non_resource_urls = vec!["/apis/*".into()];
        assert!(rule_allows(&r, &Action::non_resource("get", "/apis/apps")));
        assert!(!rule_allows(&r, &Action::non_resource("get", "/apis")));
        r.non_resource_urls = vec!["/a*b".into()];
        assert!(!rule_allows(&r, &Action::non_resource("get", "/axb")));
        assert!(rule_allows(&r, &Action::non_resource("get", "/a*b")));
    }
}
