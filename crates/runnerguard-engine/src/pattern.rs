//! A request without its namespace and name: a verb on a resource, as rules and escalation
//! edges ask it of the authorizer in each namespace and about each name they look at.

use crate::Action;

/// A name no `resourceNames` list of a real object holds: a request for it is allowed only by
/// rules that allow every name. (Kubernetes object names cannot contain spaces or
/// parentheses; a role that lists this string among its `resourceNames` is read as allowing
/// every name, which over-reports and never hides a grant.)
pub const ANY_NAME: &str = "(any name)";

/// A verb on a resource (or a subresource) of an API group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResourceVerb {
    /// The verb.
    pub verb: &'static str,
    /// The API group; empty for the core group.
    pub group: &'static str,
    /// The resource.
    pub resource: &'static str,
    /// The subresource, or empty.
    pub subresource: &'static str,
}

impl ResourceVerb {
    /// `verb` on `resource` in `group`.
    pub const fn new(verb: &'static str, group: &'static str, resource: &'static str) -> Self {
        Self {
            verb,
            group,
            resource,
            subresource: "",
        }
    }

    /// The same verb on a subresource.
    #[must_use]
    pub const fn sub(self, subresource: &'static str) -> Self {
        Self {
            subresource,
            ..self
        }
    }

    /// The request in `namespace` (empty: cluster-wide) about object `name` (empty: the
    /// collection).
    pub fn action(&self, namespace: &str, name: &str) -> Action {
        Action::resource(
            self.verb,
            namespace,
            self.group,
            self.resource,
            self.subresource,
            name,
        )
    }

    /// `resource` or `resource/subresource`.
    pub fn combined(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.to_owned()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }
}
