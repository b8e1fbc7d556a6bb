//! The authorizer: `Authorize` of `plugin/pkg/auth/authorizer/rbac/rbac.go` (is one request
//! allowed, and by which rules), and, beyond Kubernetes, the near misses that say why not.

use runnerguard_model::{Binding, BindingKind, PolicyRule};
use serde::Serialize;

use super::{BindingId, Grant, Policy, ResolveError};
use crate::{Action, Target, UserInfo, rule_allows};

/// The authorizer's answer, with every rule that allows the request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Whether some rule of some applicable binding allows the request.
    pub allowed: bool,
    /// Every allowing rule, in the order Kubernetes visits them (ClusterRoleBindings first).
    pub grants: Vec<Grant>,
    /// Applicable bindings whose roles are missing.
    pub errors: Vec<ResolveError>,
}

/// How a rule fails to allow a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum Mismatch {
    /// The verb is not listed.
    Verb,
    /// The API group is not listed.
    ApiGroup,
    /// The resource (or `resource/subresource`) is not listed.
    Resource,
    /// `resourceNames` restricts the rule and the request's name is not among them.
    ResourceName,
    /// The URL is not listed.
    NonResourceUrl,
    /// The rule speaks of resources and the request of a URL, or the reverse.
    RequestType,
    /// The binding is a RoleBinding in another namespace.
    Namespace,
}

/// A rule the identity holds that would allow the request but for a few differences.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NearMiss {
    /// Where the rule comes from.
    pub grant: Grant,
    /// What differs, at least one thing.
    pub mismatches: Vec<Mismatch>,
}

impl Policy {
    /// The first rule that `allows` among `applicable` bindings (as [`Policy::applicable`]
    /// lists them for the request's namespace): [`Policy::authorize`] without collecting
    /// every grant or recomputing which bindings apply, for callers that ask many questions
    /// of one user. `allows` is [`rule_allows`] of the request, however the caller holds it.
    pub(crate) fn first_grant(
        &self,
        applicable: &[(BindingId, usize)],
        allows: impl Fn(&PolicyRule) -> bool,
    ) -> Option<Grant> {
        applicable.iter().find_map(|&(binding, subject_index)| {
            let role = self.binding_role(binding).ok()?;
            self.role(role)
                .rules
                .iter()
                .position(&allows)
                .map(|rule_index| Grant {
                    binding,
                    subject_index,
                    role,
                    rule_index,
                })
        })
    }

    /// `Authorize`: whether `user` may perform `action`, with every allowing rule.
    pub fn authorize(&self, user: &UserInfo, action: &Action) -> Decision {
        let mut decision = Decision::default();
        for (binding, subject_index) in self.applicable(user, &action.namespace) {
            match self.binding_role(binding) {
                Err(message) => decision.errors.push(ResolveError {
                    binding,
                    message: message.to_owned(),
                }),
                Ok(role) => {
                    for (rule_index, rule) in self.role(role).rules.iter().enumerate() {
                        if rule_allows(rule, action) {
                            decision.grants.push(Grant {
                                binding,
                                subject_index,
                                role,
                                rule_index,
                            });
                        }
                    }
                }
            }
        }
        decision.allowed = !decision.grants.is_empty();
        decision
    }

    /// The rules `user` holds, in any namespace, that come closest to allowing `action`: those
    /// with the fewest differences (verb, group, resource, name, URL, namespace), at most
    /// `limit` of them. Empty when the identity is bound to nothing at all.
    ///
    /// This is not Kubernetes behaviour; it answers "why not?", the question people have when
    /// the authorizer says no.
    pub fn near_misses(&self, user: &UserInfo, action: &Action, limit: usize) -> Vec<NearMiss> {
        self.near_misses_among(user, action, limit, |_| true)
    }

    /// [`Policy::near_misses`] among the rules of the bindings `keep` accepts: the fewest
    /// differences are counted among those only. (Filtering the answer of `near_misses`
    /// instead loses them whenever a rule left out comes closer: every identity's
    /// `system:discovery` rule differs from `get pods` in the request type alone.)
    pub fn near_misses_among(
        &self,
        user: &UserInfo,
        action: &Action,
        limit: usize,
        keep: impl Fn(&Binding) -> bool,
    ) -> Vec<NearMiss> {
        let mut seen: Vec<(bool, BindingId, usize)> = Vec::new();
        for entries in std::iter::once(self.by_user.get(&user.name))
            .chain(user.groups.iter().map(|g| self.by_group.get(g)))
        {
            for e in entries.into_iter().flatten() {
                let id = e.binding;
                let binding = self.binding(id);
                if !keep(binding) {
                    continue;
                }
                seen.push((
                    binding.kind == BindingKind::RoleBinding,
                    id,
                    e.subject as usize,
                ));
            }
        }
        seen.sort_unstable();
        seen.dedup_by_key(|(_, id, _)| *id);

        let mut misses: Vec<NearMiss> = Vec::new();
        for (namespaced, binding, subject_index) in seen {
            let Ok(role) = self.binding_role(binding) else {
                continue;
            };
            let wrong_namespace = namespaced && self.binding(binding).namespace != action.namespace;
            for (rule_index, rule) in self.role(role).rules.iter().enumerate() {
                let mut mismatches = rule_mismatches(rule, action);
                if wrong_namespace {
                    mismatches.push(Mismatch::Namespace);
                }
                if mismatches.is_empty() {
                    continue;
                }
                misses.push(NearMiss {
                    grant: Grant {
                        binding,
                        subject_index,
                        role,
                        rule_index,
                    },
                    mismatches,
                });
            }
        }
        let Some(best) = misses.iter().map(|m| m.mismatches.len()).min() else {
            return misses;
        };
        misses.retain(|m| m.mismatches.len() == best);
        misses.truncate(limit);
        misses
    }
}

/// What keeps `rule` from allowing `action`, namespace aside.
fn rule_mismatches(rule: &PolicyRule, action: &Action) -> Vec<Mismatch> {
    use crate::matcher::{
        api_group_matches, non_resource_url_matches, parts_match, resource_name_matches,
        verb_matches,
    };
    let mut out = Vec::new();
    if !verb_matches(rule, &action.verb) {
        out.push(Mismatch::Verb);
    }
    match &action.target {
        Target::Resource(r) => {
            if rule.resources.is_empty() {
                out.push(Mismatch::RequestType);
                return out;
            }
            if !api_group_matches(rule, &r.api_group) {
                out.push(Mismatch::ApiGroup);
            }
            if !parts_match(rule, &r.resource, &r.subresource) {
                out.push(Mismatch::Resource);
            }
            if !resource_name_matches(rule, &r.name) {
                out.push(Mismatch::ResourceName);
            }
        }
        Target::NonResource { path } => {
            if rule.non_resource_urls.is_empty() {
                out.push(Mismatch::RequestType);
            } else if !non_resource_url_matches(rule, path) {
                out.push(Mismatch::NonResourceUrl);
            }
        }
    }
    out
}
