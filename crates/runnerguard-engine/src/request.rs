//! What is being asked: an identity, a verb, a namespace and a target.

use std::fmt;

use runnerguard_model::{is_namespaced, service_account_groups, split_service_account_user};
use serde::Serialize;

/// An authenticated identity: a user name and the groups authentication gave it.
///
/// Groups come from authentication, never from RBAC; [`UserInfo::impersonated`] adds the ones
/// the API server adds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct UserInfo {
    /// The user name (`system:serviceaccount:<ns>:<name>` for a ServiceAccount).
    pub name: String,
    /// The groups, exactly as authentication gives them.
    pub groups: Vec<String>,
}

/// `system:authenticated`, the group every authenticated request carries.
const ALL_AUTHENTICATED: &str = "system:authenticated";
/// `system:unauthenticated`, the group of anonymous requests.
const ALL_UNAUTHENTICATED: &str = "system:unauthenticated";
/// `system:anonymous`, the anonymous user.
const ANONYMOUS: &str = "system:anonymous";

impl UserInfo {
    /// A user with exactly these groups.
    pub fn new(
        name: impl Into<String>,
        groups: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            name: name.into(),
            groups: groups.into_iter().map(Into::into).collect(),
        }
    }

    /// The identity the API server builds when a request impersonates `user` with `groups`
    /// (`kubectl --as USER --as-group GROUP...`).
    ///
    /// As staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation.go does:
    /// a ServiceAccount user name given no groups gets `system:serviceaccounts` and
    /// `system:serviceaccounts:<ns>`; then a non-anonymous user gets `system:authenticated`
    /// unless the groups already hold it or `system:unauthenticated`, and `system:anonymous`
    /// gets `system:unauthenticated` unless already present.
    pub fn impersonated(user: &str, groups: &[String]) -> Self {
        let mut all: Vec<String> = groups.to_vec();
        if groups.is_empty()
            && let Some((namespace, _)) = split_service_account_user(user)
        {
            all.extend(service_account_groups(namespace));
        }
        if user == ANONYMOUS {
            if !all.iter().any(|g| g == ALL_UNAUTHENTICATED) {
                all.push(ALL_UNAUTHENTICATED.to_owned());
            }
        } else if !all
            .iter()
            .any(|g| g == ALL_AUTHENTICATED || g == ALL_UNAUTHENTICATED)
        {
            all.push(ALL_AUTHENTICATED.to_owned());
        }
        Self {
            name: user.to_owned(),
            groups: all,
        }
    }

    /// The anonymous identity (`system:anonymous`, group `system:unauthenticated`).
    pub fn anonymous() -> Self {
        Self::impersonated(ANONYMOUS, &[])
    }
}

impl fmt::Display for UserInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        if !self.groups.is_empty() {
            write!(f, " (groups: {})", self.groups.join(", "))?;
        }
        Ok(())
    }
}

/// A request on a resource (`get pods`, `create pods/exec`, `get secrets/runner-token`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct ResourceTarget {
    /// The API group; empty for the core group.
    pub api_group: String,
    /// The resource (plural, lowercase as the API serves it), e.g. `pods`.
    pub resource: String,
    /// The subresource, e.g. `exec`; empty for none.
    pub subresource: String,
    /// The object's name; empty for list, watch, create and deletecollection.
    pub name: String,
}

/// What a request is about: a resource, or a non-resource URL such as `/healthz`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Target {
    /// A resource request.
    Resource(ResourceTarget),
    /// A non-resource request.
    NonResource {
        /// The URL path, e.g. `/healthz`.
        path: String,
    },
}

/// A verb on a target in a namespace: the `authorizer.Attributes` minus the user.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Action {
    /// The verb (`get`, `list`, `create`, ...), matched exactly.
    pub verb: String,
    /// The namespace; empty for cluster-scoped and non-resource requests, and for `-A`.
    pub namespace: String,
    /// What the verb applies to.
    pub target: Target,
}

impl Action {
    /// A resource action.
    pub fn resource(
        verb: &str,
        namespace: &str,
        api_group: &str,
        resource: &str,
        subresource: &str,
        name: &str,
    ) -> Self {
        Self {
            verb: verb.to_owned(),
            namespace: namespace.to_owned(),
            target: Target::Resource(ResourceTarget {
                api_group: api_group.to_owned(),
                resource: resource.to_owned(),
                subresource: subresource.to_owned(),
                name: name.to_owned(),
            }),
        }
    }

    /// This action as the API server authorizes it when a client (kubectl, client-go) performs
    /// it: a resource action built by [`Action::resource`] with the `-n` namespace gets the
    /// namespace the request's URL puts it in (issue #8, point 9):
    ///
    /// - A Namespace addressed by its own URL (`get`, `update`, `patch`, `delete` or any verb
    ///   but the collection ones, list, watch, create and deletecollection, on `namespaces/NAME`
    ///   or its `status` and `finalize` subresources) is in namespace NAME, whatever the
    ///   action's namespace is, so the RoleBindings of NAME apply to it: the request goes to
    ///   `/api/v1/namespaces/NAME`, and the API server's request info resolver takes the part
    ///   after `namespaces/` as the request's namespace (see `request_namespace` in the source).
    /// - Any other request on a built-in cluster-scoped resource (`nodes`, `clusterroles`,
    ///   `list namespaces`, ...) has no namespace: its URL has none, so only
    ///   ClusterRoleBindings apply.
    /// - Everything else (namespaced and unknown resources, non-resource URLs) is unchanged.
    ///
    /// [`Action::resource`] alone takes the attributes as given, as a `SubjectAccessReview` or
    /// the API server's own internal checks (the `bind` check on a ClusterRole in a
    /// RoleBinding's namespace, impersonation) do; use it alone for those.
    #[must_use]
    pub fn as_requested(mut self) -> Self {
        if let Target::Resource(r) = &self.target {
            let namespace = request_namespace(
                &self.verb,
                &self.namespace,
                &r.api_group,
                &r.resource,
                &r.name,
            );
            if namespace != self.namespace {
                self.namespace = namespace.to_owned();
            }
        }
        self
    }

    /// A non-resource action, e.g. `get /healthz`.
    pub fn non_resource(verb: &str, path: &str) -> Self {
        Self {
            verb: verb.to_owned(),
            namespace: String::new(),
            target: Target::NonResource {
                path: path.to_owned(),
            },
        }
    }
}

/// The verbs of requests made on a collection URL (`/api/v1/namespaces`), never on one
/// object's path, whatever name the question gives: a create has no name in its URL, and
/// kubectl lists or watches one object (`kubectl get ns NAME -w`) through the collection with
/// `fieldSelector=metadata.name=NAME`.
const COLLECTION_VERBS: &[&str] = &["list", "watch", "create", "deletecollection"];

/// The namespace of the request the API server authorizes when a client performs `verb` on
/// the resource `resource` of `api_group` named `name`, given `namespace` (`-n`): see
/// [`Action::as_requested`].
///
/// For a Namespace, Kubernetes' request info resolver
/// (staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go, `NewRequestInfo`, read at
/// v1.36.2) takes the namespace from the URL before it knows the resource:
///
/// ```go
/// // URL forms: /namespaces/{namespace}/{kind}/*, where parts are adjusted to be relative to kind
/// if currentParts[0] == "namespaces" {
///     if len(currentParts) > 1 {
///         requestInfo.Namespace = currentParts[1]
///         // if there is another step after the namespace name and it is not a known namespace subresource
///         // move currentParts to include it as a resource in its own right
///         if len(currentParts) > 2 && !namespaceSubresources.Has(currentParts[2]) {
///             currentParts = currentParts[2:]
/// ```
///
/// with `namespaceSubresources` = `status`, `finalize`. So `/api/v1/namespaces/NAME` and
/// `/api/v1/namespaces/NAME/{status,finalize}` are requests on resource `namespaces`, name
/// NAME, in namespace NAME, and the RBAC authorizer visits the RoleBindings of NAME
/// (`VisitRulesFor`). `/api/v1/namespaces` (list, watch, create, deletecollection; a named list
/// or watch goes there with `fieldSelector=metadata.name=NAME`) has no namespace.
///
/// Checked against kube-apiserver v1.36.2: a user granted `delete namespaces` by a RoleBinding
/// in `gitlab` may `kubectl delete namespace gitlab` and not `default`; one granted `get, list,
/// watch namespaces` there may `kubectl get namespace gitlab` but not `kubectl get namespace
/// gitlab --watch` (forbidden "at the cluster scope"). The deprecated
/// `/api/v1/watch/namespaces/NAME` path would be in NAME; kubectl does not use it.
fn request_namespace<'a>(
    verb: &str,
    namespace: &'a str,
    api_group: &str,
    resource: &str,
    name: &'a str,
) -> &'a str {
    if api_group.is_empty()
        && resource == "namespaces"
        && !name.is_empty()
        && !COLLECTION_VERBS.contains(&verb)
    {
        return name;
    }
    if is_namespaced(api_group, resource) == Some(false) {
        return "";
    }
    namespace
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Target::NonResource { path } => write!(f, "{} {path}", self.verb),
            Target::Resource(r) => {
                write!(f, "{} {}", self.verb, r.resource)?;
                if !r.api_group.is_empty() {
                    write!(f, ".{}", r.api_group)?;
                }
                if !r.subresource.is_empty() {
                    write!(f, "/{}", r.subresource)?;
                }
                if !r.name.is_empty() {
                    write!(f, " named {:?}", r.name)?;
                }
                if self.namespace.is_empty() {
                    f.write_str(" cluster-wide")
                } else {
                    write!(f, " in namespace {:?}", self.namespace)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_account_impersonation_gets_sa_groups() {
        let u = UserInfo::impersonated("system:serviceaccount:teams:ci", &[]);
        assert_eq!(
            u.groups,
            [
                "system:serviceaccounts",
                "system:serviceaccounts:teams",
                "system:authenticated"
            ]
        );
    }

    #[test]
    fn explicit_groups_replace_sa_groups() {
        let u = UserInfo::impersonated("system:serviceaccount:teams:ci", &["devs".to_owned()]);
        assert_eq!(u.groups, ["devs", "system:authenticated"]);
    }

    #[test]
    fn unauthenticated_group_suppresses_authenticated() {
        let u = UserInfo::impersonated("bob", &["system:unauthenticated".to_owned()]);
        assert_eq!(u.groups, ["system:unauthenticated"]);
        let u = UserInfo::impersonated("bob", &["system:authenticated".to_owned()]);
        assert_eq!(u.groups, ["system:authenticated"]);
    }

    /// Issue #8, point 9: `/api/v1/namespaces/NAME` is in namespace NAME, whatever `-n` says.
    #[test]
    fn a_namespace_addressed_by_name_is_in_itself() {
        for verb in ["get", "update", "patch", "delete", "*"] {
            for given in ["teams", "gitlab", ""] {
                let a =
                    Action::resource(verb, given, "", "namespaces", "", "gitlab").as_requested();
                assert_eq!(a.namespace, "gitlab", "{verb} with -n {given:?}");
            }
        }
        for sub in ["status", "finalize"] {
            let a = Action::resource("update", "default", "", "namespaces", sub, "gitlab")
                .as_requested();
            assert_eq!(a.namespace, "gitlab", "namespaces/{sub}");
        }
        // The name and the rest of the request are untouched.
        assert_eq!(
            Action::resource("delete", "default", "", "namespaces", "", "gitlab").as_requested(),
            Action::resource("delete", "gitlab", "", "namespaces", "", "gitlab")
        );
    }

    /// Collection requests (`/api/v1/namespaces`) have no namespace, named or not.
    #[test]
    fn namespace_collection_requests_are_cluster_wide() {
        for verb in ["list", "watch", "create", "deletecollection"] {
            assert_eq!(
                request_namespace(verb, "gitlab", "", "namespaces", "gitlab"),
                ""
            );
            assert_eq!(request_namespace(verb, "gitlab", "", "namespaces", ""), "");
        }
        assert_eq!(
            request_namespace("delete", "gitlab", "", "namespaces", ""),
            ""
        );
    }

    #[test]
    fn other_resources_keep_or_drop_the_namespace_by_scope() {
        // Cluster-scoped built-ins: no namespace, even when named.
        assert_eq!(request_namespace("get", "teams", "", "nodes", "n1"), "");
        assert_eq!(
            request_namespace(
                "bind",
                "teams",
                "rbac.authorization.k8s.io",
                "clusterroles",
                "x"
            ),
            ""
        );
        // Namespaced built-ins and unknown resources keep it.
        assert_eq!(request_namespace("get", "teams", "", "pods", "p"), "teams");
        assert_eq!(
            request_namespace("get", "teams", "apps", "deployments", ""),
            "teams"
        );
        assert_eq!(
            request_namespace("get", "teams", "example.com", "widgets", "w"),
            "teams"
        );
        // Only the core group's `namespaces` is a Namespace.
        assert_eq!(
            request_namespace("delete", "teams", "example.com", "namespaces", "gitlab"),
            "teams"
        );
    }

    #[test]
    fn anonymous_gets_unauthenticated() {
        assert_eq!(UserInfo::anonymous().groups, ["system:unauthenticated"]);
    }
}
