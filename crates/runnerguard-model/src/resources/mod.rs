//! The built-in Kubernetes resources, and how `kubectl auth can-i` turns a resource argument
//! (`po`, `deploy`, `Deployment`, `deployments.apps`, `deployments.v1.apps`, `netpol`, ...) into
//! the API group and plural resource name that RBAC matches against.
//!
//! [`API_RESOURCES`] is what `kubectl api-resources` lists on a plain cluster (no CRDs, no
//! aggregated API servers, only the API versions enabled by default): every resource that some
//! release from Kubernetes 1.33 to 1.37 serves in a stable version, with its preferred version. A
//! few of them only exist in the later releases of that range (their entries say since when); on
//! an older cluster kubectl would not know them, but a name that resolves to them cannot mean
//! anything else.
//!
//! Sources: group, version, plural, kind and scope come from the `Resource` impls of the
//! `k8s-openapi` 0.29 crate (`v1_33` to `v1_37`); singular names, short names and the order of
//! the groups come from the Kubernetes discovery documents (`api/discovery/*.json` in
//! `kubernetes/kubernetes`) and the `ShortNames()` methods of `pkg/registry/**/storage/storage.go`.
//!
//! [`resolve_resource`] follows kubectl's `can-i` (`CanIOptions.resourceFor`) and the mapper
//! kubectl builds from discovery (a short-name expander around a priority-ordered mapper); its
//! documentation lists the rules and the one place where runnerguard parts from kubectl on
//! purpose.

use serde::Serialize;

/// One built-in resource type, as `kubectl api-resources` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ApiResource {
    /// API group; empty for the core (legacy `/api/v1`) group.
    pub group: &'static str,
    /// Preferred version of the group (the version `kubectl api-resources` prints).
    pub version: &'static str,
    /// Plural resource name, the one RBAC rules use (`deployments`).
    pub resource: &'static str,
    /// Singular name from discovery (`deployment`; note `endpoints` for `Endpoints`).
    pub singular: &'static str,
    /// Kind (`Deployment`).
    pub kind: &'static str,
    /// Short names from discovery (`deploy`), in the order the API server lists them.
    pub short_names: &'static [&'static str],
    /// Whether objects of this type live in a namespace.
    pub namespaced: bool,
}

mod table;

pub use table::API_RESOURCES;

/// Group versions a plain cluster serves besides each group's preferred version. Only
/// `autoscaling/v1` (`HorizontalPodAutoscaler`) qualifies: the beta versions of newer APIs are off
/// by default, and the older betas have been removed.
const SERVED_NON_PREFERRED: &[(&str, &str)] = &[("autoscaling", "v1")];

/// What a resource argument names: the API group and plural resource an RBAC check uses, and the
/// built-in type it resolved to, if any.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ResolvedResource {
    /// API group; empty for the core group.
    pub group: String,
    /// Plural resource name for a built-in; for anything else, the argument up to its first `.`,
    /// as given.
    pub resource: String,
    /// The built-in type the argument resolved to; `None` when it is not a built-in (a custom
    /// resource, a typo, `*`, or a pseudo-resource such as `users`).
    pub known: Option<&'static ApiResource>,
}

/// Resolves a `kubectl auth can-i` resource argument (`po`, `deploy`, `Deployment`,
/// `deployments.apps`, `deployments.v1.apps`, `rolebindings.rbac.authorization.k8s.io`, ...) to
/// the group and plural resource an RBAC check uses.
///
/// `arg` is the part before any `/` (kubectl splits `resource/name` first; subresources are a
/// separate flag). The rules, as kubectl applies them on a plain cluster:
///
/// - `*` stays `*` in the core group, as in kubectl.
/// - The argument is lowercased, so a kind (`Deployment`, `CronJob`) works through its singular
///   name: for every built-in the singular is the lowercased kind. Kinds are also compared
///   directly, which for built-ins changes nothing.
/// - `NAME.VERSION.GROUP` (two or more dots) is tried first: NAME as plural, singular or kind
///   needs GROUP exactly and a VERSION the cluster serves (the preferred one, or `autoscaling/v1`);
///   a short name only needs GROUP (or a group starting with GROUP) and any VERSION, because
///   kubectl's short-name expansion drops the version (`deploy.v1beta1.apps` resolves,
///   `deployments.v1beta1.apps` does not).
/// - Otherwise `NAME.GROUP` (or a bare `NAME`, meaning any group): a plural, singular or kind
///   in GROUP wins, then a short name in GROUP, then a short name and then a plural, singular or
///   kind in a group that starts with GROUP (kubectl's prefix rule: `storageclass.storage`,
///   `deploy.app`).
/// - Ties go to the first resource in [`API_RESOURCES`], which is kubectl's priority order: the
///   core group first, then the groups in discovery order. So `events`, `event`, `Event` and `ev`
///   mean core `events`; `events.events.k8s.io` (or `ev.events.k8s.io`) selects the other one.
///   Full names are always preferred to short names (`ev` only counts if no resource is named
///   `ev`).
///
/// Anything else is not a built-in. kubectl then warns that the server has no such resource and
/// sends the whole argument, as typed, as the resource in the core group. runnerguard instead
/// assumes a custom resource it cannot see: the part before the first `.` becomes the resource and
/// the rest the group, both as given (not lowercased), with `known` set to `None`.
/// `widgets.example.com` gives group `example.com`, resource `widgets` (kubectl's warning names
/// the same pair: "the server doesn't have a resource type 'widgets' in group 'example.com'").
/// A version is not stripped: `widgets.v1.example.com` gives group `v1.example.com`.
pub fn resolve_resource(arg: &str) -> ResolvedResource {
    if arg == "*" {
        return ResolvedResource {
            group: String::new(),
            resource: arg.to_owned(),
            known: None,
        };
    }

    let lower = arg.to_lowercase();
    let mut found = None;
    // schema.ParseResourceArg: with two or more dots, try RESOURCE.VERSION.GROUP first.
    if let [resource, version, group] = lower.splitn(3, '.').collect::<Vec<_>>()[..] {
        found = resource_for(resource, version, group);
    }
    if found.is_none() {
        let (resource, group) = lower.split_once('.').unwrap_or((&lower, ""));
        found = resource_for(resource, "", group);
    }

    if let Some(known) = found {
        return ResolvedResource {
            group: known.group.to_owned(),
            resource: known.resource.to_owned(),
            known: Some(known),
        };
    }
    let (resource, group) = arg.split_once('.').unwrap_or((arg, ""));
    ResolvedResource {
        group: group.to_owned(),
        resource: resource.to_owned(),
        known: None,
    }
}

/// Whether the built-in `resource` of `group` is namespaced; `None` when it is not a built-in.
///
/// `resource` is the plural name as RBAC writes it (`pods`, `deployments`), compared exactly; a
/// subresource (`pods/log`) is stripped first, as subresources share their parent's scope.
pub fn is_namespaced(group: &str, resource: &str) -> Option<bool> {
    let base = resource.split_once('/').map_or(resource, |(base, _)| base);
    API_RESOURCES
        .iter()
        .find(|r| r.group == group && r.resource == base)
        .map(|r| r.namespaced)
}

/// kubectl's `ResourceFor` for a (lowercased) partial group/version/resource: the short-name
/// expander first, then the priority mapper over discovery.
fn resource_for(resource: &str, version: &str, group: &str) -> Option<&'static ApiResource> {
    if resource.is_empty() {
        return None;
    }
    let in_group = |r: &ApiResource| group.is_empty() || r.group == group;

    // shortcutExpander: no expansion when a full name matches in the (exact) group.
    let full_name_hit = API_RESOURCES
        .iter()
        .any(|r| in_group(r) && names_match(r, resource));
    if !full_name_hit {
        let short = |r: &ApiResource| r.short_names.contains(&resource);
        if let Some(r) = API_RESOURCES.iter().find(|r| in_group(r) && short(r)) {
            return Some(r);
        }
        if !group.is_empty()
            && let Some(r) = API_RESOURCES
                .iter()
                .find(|r| r.group.starts_with(group) && short(r))
        {
            return Some(r);
        }
    }

    // The priority mapper over each group version's DefaultRESTMapper.
    let served = |r: &ApiResource| {
        r.version == version || SERVED_NON_PREFERRED.contains(&(r.group, version))
    };
    let mut candidates = API_RESOURCES.iter().filter(|r| names_match(r, resource));
    match (group.is_empty(), version.is_empty()) {
        (true, true) => candidates.next(),
        (true, false) => candidates.find(|r| served(r)),
        (false, false) => candidates.find(|r| r.group == group && served(r)),
        (false, true) => API_RESOURCES
            .iter()
            .find(|r| r.group == group && names_match(r, resource))
            .or_else(|| candidates.find(|r| r.group.starts_with(group))),
    }
}

/// Whether `name` (lowercased) is the plural, singular or kind of `r`.
fn names_match(r: &ApiResource, name: &str) -> bool {
    r.resource == name || r.singular == name || r.kind.eq_ignore_ascii_case(name)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn gr(arg: &str) -> (String, String, bool) {
        let r = resolve_resource(arg);
        (r.group, r.resource, r.known.is_some())
    }

    fn known(group: &str, resource: &str) -> (String, String, bool) {
        (group.to_owned(), resource.to_owned(), true)
    }

    fn unknown(group: &str, resource: &str) -> (String, String, bool) {
        (group.to_owned(), resource.to_owned(), false)
    }

    #[test]
    fn pods_by_every_name() {
        for arg in ["po", "pods", "pod", "Pod", "PODS", "pods.", "po."] {
            assert_eq!(gr(arg), known("", "pods"), "{arg}");
        }
    }

    #[test]
    fn deployments_by_every_name() {
        for arg in [
            "deploy",
            "deployment",
            "deployments",
            "Deployment",
            "deployments.apps",
            "deployment.apps",
            "deploy.apps",
            "deployments.v1.apps",
            "Deployment.v1.apps",
            "deploy.v1.apps",
        ] {
            assert_eq!(gr(arg), known("apps", "deployments"), "{arg}");
        }
    }

    #[test]
    fn short_names() {
        assert_eq!(gr("cj"), known("batch", "cronjobs"));
        assert_eq!(gr("sa"), known("", "serviceaccounts"));
        assert_eq!(gr("netpol"), known("networking.k8s.io", "networkpolicies"));
        assert_eq!(
            gr("crd"),
            known("apiextensions.k8s.io", "customresourcedefinitions")
        );
        assert_eq!(
            gr("crds"),
            known("apiextensions.k8s.io", "customresourcedefinitions")
        );
        assert_eq!(gr("pvc"), known("", "persistentvolumeclaims"));
        assert_eq!(gr("hpa"), known("autoscaling", "horizontalpodautoscalers"));
        assert_eq!(
            gr("csr"),
            known("certificates.k8s.io", "certificatesigningrequests")
        );
        assert_eq!(gr("pc"), known("scheduling.k8s.io", "priorityclasses"));
        assert_eq!(gr("quota"), known("", "resourcequotas"));
        assert_eq!(gr("limits"), known("", "limitranges"));
        assert_eq!(
            gr("vac"),
            known("storage.k8s.io", "volumeattributesclasses")
        );
    }

    #[test]
    fn events_prefer_the_core_group() {
        for arg in ["events", "event", "Event", "ev"] {
            assert_eq!(gr(arg), known("", "events"), "{arg}");
        }
        for arg in [
            "events.events.k8s.io",
            "ev.events.k8s.io",
            "events.v1.events.k8s.io",
        ] {
            assert_eq!(gr(arg), known("events.k8s.io", "events"), "{arg}");
        }
    }

    #[test]
    fn full_group_names() {
        assert_eq!(
            gr("rolebindings.rbac.authorization.k8s.io"),
            known("rbac.authorization.k8s.io", "rolebindings")
        );
        assert_eq!(
            gr("RoleBinding.rbac.authorization.k8s.io"),
            known("rbac.authorization.k8s.io", "rolebindings")
        );
        assert_eq!(
            gr("clusterroles.v1.rbac.authorization.k8s.io"),
            known("rbac.authorization.k8s.io", "clusterroles")
        );
        assert_eq!(
            gr("subjectaccessreviews.authorization.k8s.io"),
            known("authorization.k8s.io", "subjectaccessreviews")
        );
    }

    #[test]
    fn group_prefixes() {
        assert_eq!(
            gr("storageclass.storage"),
            known("storage.k8s.io", "storageclasses")
        );
        assert_eq!(gr("deploy.app"), known("apps", "deployments"));
        assert_eq!(
            gr("hpa.autoscal"),
            known("autoscaling", "horizontalpodautoscalers")
        );
    }

    #[test]
    fn versions() {
        // Both served autoscaling versions work, with any name.
        for arg in [
            "horizontalpodautoscalers.v1.autoscaling",
            "horizontalpodautoscalers.v2.autoscaling",
            "hpa.v1.autoscaling",
        ] {
            assert_eq!(
                gr(arg),
                known("autoscaling", "horizontalpodautoscalers"),
                "{arg}"
            );
        }
        // A version the cluster does not serve fails for a full name ...
        assert_eq!(
            gr("deployments.v1beta1.apps"),
            unknown("v1beta1.apps", "deployments")
        );
        // ... but not for a short name, whose expansion drops the version.
        assert_eq!(gr("deploy.v1beta1.apps"), known("apps", "deployments"));
    }

    #[test]
    fn unknown_names_are_kept_as_given() {
        assert_eq!(gr("widgets.example.com"), unknown("example.com", "widgets"));
        assert_eq!(gr("Widgets.Example.com"), unknown("Example.com", "Widgets"));
        assert_eq!(
            gr("widgets.v1.example.com"),
            unknown("v1.example.com", "widgets")
        );
        assert_eq!(gr("users"), unknown("", "users"));
        assert_eq!(gr("pods.v1"), unknown("v1", "pods"));
        assert_eq!(gr("deployments.batch"), unknown("batch", "deployments"));
        // discovery's singular for Endpoints is "endpoints", so "endpoint" is not a name.
        assert_eq!(gr("endpoint"), unknown("", "endpoint"));
        assert_eq!(gr("*"), unknown("", "*"));
        assert_eq!(gr(""), unknown("", ""));
        assert_eq!(resolve_resource("widgets.example.com").known, None);
    }

    #[test]
    fn known_points_into_the_table() {
        let r = resolve_resource("sts");
        let known = r.known.expect("statefulsets is built in");
        assert_eq!(known.kind, "StatefulSet");
        assert_eq!(known.version, "v1");
        assert!(known.namespaced);
    }

    #[test]
    fn namespaced() {
        assert_eq!(is_namespaced("", "nodes"), Some(false));
        assert_eq!(is_namespaced("", "secrets"), Some(true));
        assert_eq!(is_namespaced("", "pods/log"), Some(true));
        assert_eq!(is_namespaced("", "namespaces/finalize"), Some(false));
        assert_eq!(
            is_namespaced("rbac.authorization.k8s.io", "clusterroles"),
            Some(false)
        );
        assert_eq!(is_namespaced("apps", "deployments/scale"), Some(true));
        assert_eq!(is_namespaced("apps", "pods"), None);
        assert_eq!(is_namespaced("example.com", "widgets"), None);
        assert_eq!(is_namespaced("", "*"), None);
    }

    #[test]
    fn table_is_consistent() {
        let mut seen = HashSet::new();
        for r in API_RESOURCES {
            assert!(seen.insert((r.group, r.resource)), "duplicate {r:?}");
            assert_eq!(r.singular, r.kind.to_ascii_lowercase(), "{r:?}");
            assert!(r.version.starts_with('v'), "{r:?}");
            for name in [r.resource, r.singular].iter().chain(r.short_names) {
                assert_eq!(*name, name.to_ascii_lowercase(), "{r:?}");
                assert!(!name.contains('.') && !name.is_empty(), "{r:?}");
            }
        }
        // The core group comes first, and each group is contiguous.
        assert_eq!(API_RESOURCES.first().map(|r| r.group), Some(""));
        let mut groups: Vec<&str> = API_RESOURCES.iter().map(|r| r.group).collect();
        groups.dedup();
        let distinct: HashSet<&str> = groups.iter().copied().collect();
        assert_eq!(groups.len(), distinct.len(), "{groups:?}");
        // Short names are unique except `ev`, shared by both Event types.
        let mut shorts = HashSet::new();
        for r in API_RESOURCES {
            for s in r.short_names {
                assert!(shorts.insert(*s) || *s == "ev", "short name {s} twice");
            }
        }
        // A name never resolves away from its own entry (other than to core events).
        for r in API_RESOURCES {
            for name in [r.resource, r.singular, r.kind] {
                let qualified = format!("{name}.{}", r.group);
                let arg = if r.group.is_empty() {
                    name
                } else {
                    qualified.as_str()
                };
                assert_eq!(resolve_resource(arg).known, Some(r), "{arg}");
            }
        }
    }
}
