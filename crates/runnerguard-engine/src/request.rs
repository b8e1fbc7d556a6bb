//! What is being asked: an identity, a verb, a namespace and a target.

use std::fmt;

use runnerguard_model::{service_account_groups, split_service_account_user};
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

    #[test]
    fn anonymous_gets_unauthenticated() {
        assert_eq!(UserInfo::anonymous().groups, ["system:unauthenticated"]);
    }
}
