//! kubectl's side of a question: how `kubectl auth can-i` turns `VERB TYPE[/NAME]` into the
//! request the API server authorizes ([`RequestArgs::build`], with the warnings kubectl gives),
//! and how `--list` breaks down, compacts and sorts the rules it prints ([`list_rows`]).
//!
//! Sources, in kubernetes/kubectl: `pkg/cmd/auth/cani.go` (`Complete`, `Validate`,
//! `printStatus`), `pkg/util/rbac/rbac.go` (`CompactRules`) and `pkg/describe/describe.go`
//! (`CombineResourceGroup`). Library code: the warnings are returned, the caller prints them.

use std::collections::BTreeMap;
use std::fmt;

use runnerguard_model::{PolicyRule, resolve_resource};

use crate::{Action, breakdown_rule};

/// The verbs `kubectl auth can-i` knows for resources (cani.go `resourceVerbs`, with `approve`,
/// `sign` and `escalate` added in Kubernetes 1.31).
const RESOURCE_VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "use",
    "bind",
    "impersonate",
    "approve",
    "sign",
    "escalate",
    "*",
];

/// The verbs kubectl knows for non-resource URLs (cani.go `nonResourceURLVerbs`).
const NON_RESOURCE_VERBS: &[&str] = &[
    "get", "put", "post", "head", "options", "delete", "patch", "*",
];

/// The resource names kubectl passes through without warning (cani.go
/// `nonStandardResourceNames`, plus the impersonation resources of authentication.k8s.io).
const NON_STANDARD_RESOURCES: &[&str] = &["users", "groups", "uids", "userextras"];

/// The arguments of `kubectl auth can-i VERB TYPE[/NAME] | NONRESOURCEURL`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestArgs<'a> {
    /// `VERB`.
    pub verb: &'a str,
    /// `TYPE[/NAME]`, or a non-resource URL (starting with `/`).
    pub target: &'a str,
    /// The namespace the request is made in (empty for none, as with `-A`).
    pub namespace: &'a str,
    /// `-A`: kubectl does not warn about unknown verbs then.
    pub all_namespaces: bool,
    /// `--subresource`.
    pub subresource: Option<&'a str>,
}

/// A request built from kubectl's arguments, with what kubectl would warn about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Built {
    /// The request the API server authorizes.
    pub action: Action,
    /// kubectl's warnings (and runnerguard's about where it asks), in the order given.
    pub warnings: Vec<Warning>,
}

/// Something kubectl warns about; the request is asked anyway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warning {
    /// A verb kubectl does not know for this kind of request.
    UnknownVerb {
        /// The verb.
        verb: String,
    },
    /// A resource type that is not built in (used as given).
    UnknownResource {
        /// The resource, as given up to its first `.`.
        resource: String,
        /// The group, empty for none.
        group: String,
    },
    /// A built-in cluster-scoped resource asked about with a namespace: where the request is
    /// asked instead.
    ClusterScoped {
        /// The resource.
        resource: String,
        /// Its group, empty for the core group.
        group: String,
        /// The namespace the API server puts the request in (a Namespace addressed by name);
        /// `None`: cluster-wide.
        asked_in: Option<String>,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownVerb { verb } => write!(f, "verb '{verb}' is not a known verb"),
            Self::UnknownResource { resource, group } if group.is_empty() => write!(
                f,
                "the server doesn't have a resource type '{resource}' (not a built-in kind; used as given)"
            ),
            Self::UnknownResource { resource, group } => write!(
                f,
                "the server doesn't have a resource type '{resource}' in group '{group}' (not a built-in kind; used as given)"
            ),
            Self::ClusterScoped {
                resource,
                group,
                asked_in,
            } => {
                write!(f, "resource '{resource}' is not namespace scoped")?;
                if !group.is_empty() {
                    write!(f, " in group '{group}'")?;
                }
                match asked_in {
                    Some(ns) => write!(
                        f,
                        ": asking in namespace '{ns}', as the API server does for a request on Namespace '{ns}' (RoleBindings there apply)"
                    ),
                    None => {
                        f.write_str(": asking cluster-wide, where only ClusterRoleBindings apply")
                    }
                }
            }
        }
    }
}

/// Arguments kubectl refuses, with its messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// `--subresource` with a non-resource URL.
    SubresourceWithUrl,
    /// `/NAME` without a type.
    MissingType {
        /// The argument as given.
        target: String,
    },
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SubresourceWithUrl => {
                f.write_str("--subresource can not be used with NonResourceURL")
            }
            Self::MissingType { target } => write!(
                f,
                "you must specify a resource type before `/` in `{target}`"
            ),
        }
    }
}

impl std::error::Error for RequestError {}

impl RequestArgs<'_> {
    /// Builds the request as kubectl's `can-i` parses its arguments (cani.go `Complete` and
    /// `Validate`): resource names, short names, kinds, `resource.group`,
    /// `resource.version.group`, subresources and non-resource URLs.
    ///
    /// One deliberate difference: kubectl sends `-n` (or the context's namespace) whatever the
    /// resource, so for a built-in cluster-scoped resource (nodes, namespaces, clusterroles, ...)
    /// a RoleBinding in that namespace can make it answer "yes" to a request the API server
    /// would never allow, and "no" to `delete namespaces/NAME` that a RoleBinding in NAME
    /// allows. Here the namespace is the one of the request the API server authorizes
    /// ([`Action::as_requested`]): none for a cluster-scoped resource, so only
    /// ClusterRoleBindings count, except that a Namespace addressed by name is in itself (issue
    /// #8, point 9).
    pub fn build(&self) -> Result<Built, RequestError> {
        let Self {
            verb,
            target,
            namespace,
            all_namespaces,
            subresource,
        } = *self;
        let subresource = subresource.unwrap_or_default();
        let mut warnings = Vec::new();
        if target.starts_with('/') {
            if !subresource.is_empty() {
                return Err(RequestError::SubresourceWithUrl);
            }
            if !NON_RESOURCE_VERBS.contains(&verb) {
                warnings.push(Warning::UnknownVerb {
                    verb: verb.to_owned(),
                });
            }
            return Ok(Built {
                action: Action::non_resource(verb, target),
                warnings,
            });
        }
        let (type_arg, name) = target.split_once('/').unwrap_or((target, ""));
        if type_arg.is_empty() {
            return Err(RequestError::MissingType {
                target: target.to_owned(),
            });
        }
        let resolved = resolve_resource(type_arg);
        if resolved.known.is_none() && !NON_STANDARD_RESOURCES.contains(&resolved.resource.as_str())
        {
            warnings.push(Warning::UnknownResource {
                resource: resolved.resource.clone(),
                group: resolved.group.clone(),
            });
        }
        if !all_namespaces && !RESOURCE_VERBS.contains(&verb) {
            warnings.push(Warning::UnknownVerb {
                verb: verb.to_owned(),
            });
        }
        let action = Action::resource(
            verb,
            namespace,
            &resolved.group,
            &resolved.resource,
            subresource,
            name,
        )
        .as_requested();
        if let Some(known) = resolved.known
            && !known.namespaced
        {
            // kubectl warns unless `-A` (cani.go); runnerguard also says where it asks instead.
            // Said with `-A` too when the request is in a namespace: kubectl would ask
            // cluster-wide and answer differently.
            let asked_in = (!action.namespace.is_empty()).then(|| action.namespace.clone());
            if asked_in.is_some() || !namespace.is_empty() {
                warnings.push(Warning::ClusterScoped {
                    resource: known.resource.to_owned(),
                    group: known.group.to_owned(),
                    asked_in,
                });
            }
        }
        Ok(Built { action, warnings })
    }
}

/// One row of `kubectl auth can-i --list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListRow {
    /// `resource.group/subresource` (describe.go `CombineResourceGroup`).
    pub resources: String,
    /// The non-resource URLs, as Go prints a slice.
    pub non_resource_urls: String,
    /// The resource names, as Go prints a slice.
    pub resource_names: String,
    /// The verbs, as Go prints a slice.
    pub verbs: String,
}

impl ListRow {
    /// The header kubectl prints above the rows.
    pub const HEADER: [&'static str; 4] =
        ["Resources", "Non-Resource URLs", "Resource Names", "Verbs"];

    /// The row's cells, in [`ListRow::HEADER`]'s order.
    pub fn into_cells(self) -> [String; 4] {
        [
            self.resources,
            self.non_resource_urls,
            self.resource_names,
            self.verbs,
        ]
    }
}

/// The rows `kubectl auth can-i --list` prints for `rules` (cani.go `printStatus`): each rule
/// broken down ([`breakdown_rule`]), compacted (rbac.go `CompactRules`) and sorted as
/// `SortableRuleSlice` sorts them.
pub fn list_rows<'a>(rules: impl IntoIterator<Item = &'a PolicyRule>) -> Vec<ListRow> {
    let broken: Vec<PolicyRule> = rules.into_iter().flat_map(breakdown_rule).collect();
    let mut compact = compact_rules(broken);
    compact.sort_by_cached_key(go_rule_string);
    compact
        .iter()
        .map(|r| ListRow {
            resources: combine_resource_group(&r.resources, &r.api_groups),
            non_resource_urls: go_list(&r.non_resource_urls),
            resource_names: go_list(&r.resource_names),
            verbs: go_list(&r.verbs),
        })
        .collect()
}

/// kubectl's `rbacutil.CompactRules`: simple rules (one group, one resource, at most one name,
/// no URLs) with the same group, resource and name are merged by appending verbs (not
/// deduplicated); other rules are kept as they are.
fn compact_rules(rules: Vec<PolicyRule>) -> Vec<PolicyRule> {
    let mut simple: BTreeMap<(String, String, bool, String), usize> = BTreeMap::new();
    let mut out: Vec<PolicyRule> = Vec::new();
    for rule in rules {
        let key = match (
            &rule.api_groups[..],
            &rule.resources[..],
            &rule.resource_names[..],
        ) {
            ([group], [resource], names)
                if names.len() <= 1 && rule.non_resource_urls.is_empty() =>
            {
                (
                    group.clone(),
                    resource.clone(),
                    !names.is_empty(),
                    names.first().cloned().unwrap_or_default(),
                )
            }
            _ => {
                out.push(rule);
                continue;
            }
        };
        if let Some(merged) = simple.get(&key).and_then(|&i| out.get_mut(i)) {
            merged.verbs.extend(rule.verbs);
        } else {
            simple.insert(key, out.len());
            out.push(rule);
        }
    }
    out
}

/// Go's `%v` of a string slice: `[a b]`.
fn go_list(v: &[String]) -> String {
    format!("[{}]", v.join(" "))
}

/// `PolicyRule.String()` from k8s.io/api (generated.pb.go), the sort key kubectl uses.
fn go_rule_string(r: &PolicyRule) -> String {
    format!(
        "&PolicyRule{{Verbs:{},APIGroups:{},Resources:{},ResourceNames:{},NonResourceURLs:{},}}",
        go_list(&r.verbs),
        go_list(&r.api_groups),
        go_list(&r.resources),
        go_list(&r.resource_names),
        go_list(&r.non_resource_urls)
    )
}

/// kubectl's `describe.CombineResourceGroup`: `resource.group/subresource`, no suffix for the
/// core group; empty for non-resource rules.
fn combine_resource_group(resources: &[String], groups: &[String]) -> String {
    let Some(resource) = resources.first() else {
        return String::new();
    };
    let (base, sub) = match resource.split_once('/') {
        Some((b, s)) => (b, Some(s)),
        None => (resource.as_str(), None),
    };
    let mut s = base.to_owned();
    if let Some(g) = groups.first()
        && !g.is_empty()
    {
        s.push('.');
        s.push_str(g);
    }
    if let Some(sub) = sub {
        s.push('/');
        s.push_str(sub);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Target;

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> PolicyRule {
        let v = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect();
        PolicyRule {
            verbs: v(verbs),
            api_groups: v(groups),
            resources: v(resources),
            resource_names: v(names),
            non_resource_urls: Vec::new(),
        }
    }

    fn build(verb: &str, target: &str, namespace: &str) -> Result<Built, RequestError> {
        RequestArgs {
            verb,
            target,
            namespace,
            ..RequestArgs::default()
        }
        .build()
    }

    #[test]
    fn compaction_appends_verbs_without_dedup() {
        let rules = vec![
            rule(&["get"], &[""], &["pods"], &[]),
            rule(&["list"], &[""], &["pods"], &[]),
            rule(&["get"], &[""], &["pods"], &[]),
            rule(&["get"], &[""], &["pods"], &["p1"]),
        ];
        let c = compact_rules(rules);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].verbs, ["get", "list", "get"]);
        assert_eq!(c[1].resource_names, ["p1"]);
    }

    #[test]
    fn resource_group_column() {
        let s = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            combine_resource_group(&s(&["deployments/scale"]), &s(&["apps"])),
            "deployments.apps/scale"
        );
        assert_eq!(combine_resource_group(&s(&["pods"]), &s(&[""])), "pods");
        assert_eq!(combine_resource_group(&s(&["*"]), &s(&["*"])), "*.*");
        assert_eq!(combine_resource_group(&[], &[]), "");
    }

    #[test]
    fn list_rows_are_sorted_as_kubectl_sorts_them() {
        let rules = [
            rule(&["list", "get"], &[""], &["secrets", "pods"], &[]),
            rule(&["get"], &["apps"], &["deployments/scale"], &[]),
        ];
        let rows: Vec<[String; 4]> = list_rows(&rules)
            .into_iter()
            .map(ListRow::into_cells)
            .collect();
        assert_eq!(
            rows,
            [
                ["deployments.apps/scale", "[]", "[]", "[get]"],
                ["pods", "[]", "[]", "[list get]"],
                ["secrets", "[]", "[]", "[list get]"],
            ]
            .map(|r| r.map(str::to_owned))
        );
    }

    #[test]
    fn short_names_and_groups_resolve() {
        let built = build("get", "deploy/web", "ci").unwrap();
        assert!(built.warnings.is_empty(), "{:?}", built.warnings);
        let Target::Resource(r) = &built.action.target else {
            panic!("a resource request: {:?}", built.action);
        };
        assert_eq!(
            (r.api_group.as_str(), r.resource.as_str(), r.name.as_str()),
            ("apps", "deployments", "web")
        );
        assert_eq!(built.action.namespace, "ci");
    }

    #[test]
    fn unknown_verbs_and_resources_are_warnings() {
        let built = build("frob", "widgets.example.com", "ci").unwrap();
        assert_eq!(
            built.warnings,
            [
                Warning::UnknownResource {
                    resource: "widgets".to_owned(),
                    group: "example.com".to_owned(),
                },
                Warning::UnknownVerb {
                    verb: "frob".to_owned(),
                },
            ]
        );
        assert_eq!(
            built.warnings[0].to_string(),
            "the server doesn't have a resource type 'widgets' in group 'example.com' (not a built-in kind; used as given)"
        );
        // `-A` silences the verb warning, as in kubectl.
        let all = RequestArgs {
            verb: "frob",
            target: "pods",
            all_namespaces: true,
            ..RequestArgs::default()
        };
        assert!(all.build().unwrap().warnings.is_empty());
    }

    #[test]
    fn cluster_scoped_resources_say_where_they_are_asked() {
        let nodes = build("get", "nodes", "ci").unwrap();
        assert_eq!(nodes.action.namespace, "");
        assert_eq!(
            nodes
                .warnings
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [
                "resource 'nodes' is not namespace scoped: asking cluster-wide, where only ClusterRoleBindings apply"
            ]
        );
        let ns = build("delete", "namespaces/ci", "").unwrap();
        assert_eq!(ns.action.namespace, "ci");
        assert_eq!(
            ns.warnings,
            [Warning::ClusterScoped {
                resource: "namespaces".to_owned(),
                group: String::new(),
                asked_in: Some("ci".to_owned()),
            }]
        );
        // Cluster-wide with no namespace given: nothing to warn about.
        assert!(build("get", "nodes", "").unwrap().warnings.is_empty());
    }

    #[test]
    fn non_resource_urls_and_refusals() {
        let built = build("get", "/healthz", "ci").unwrap();
        assert!(matches!(built.action.target, Target::NonResource { .. }));
        assert_eq!(built.action.namespace, "");
        let with_sub = RequestArgs {
            verb: "get",
            target: "/healthz",
            subresource: Some("status"),
            ..RequestArgs::default()
        };
        assert_eq!(with_sub.build(), Err(RequestError::SubresourceWithUrl));
        assert_eq!(build("get", "/x", "").map(|b| b.warnings), Ok(Vec::new()));
        assert_eq!(
            build("get", "", "ci").map(|b| b.action),
            Err(RequestError::MissingType {
                target: String::new()
            })
        );
    }
}
