//! The requests an RB rule asks the engine about, and which input bindings allow them.

use std::collections::HashMap;

use runnerguard_engine::{ANY_NAME, Action, BindingId, Grant, ResourceVerb, RoleId, rule_allows};
use runnerguard_model::PolicyRule;

use super::{Groups, Scope, input_bindings};
use crate::Context;

/// A request a rule asks the engine about; the namespace comes from the binding and the
/// name from the rule's `resourceNames`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Probe {
    /// The verb on its resource.
    pub(super) request: ResourceVerb,
    /// Whether the request carries a namespace, so that a RoleBinding can grant it.
    pub(super) namespaced: bool,
    /// Whether the request names an object, so that `resourceNames` can restrict it.
    pub(super) named: bool,
}

impl Probe {
    /// A namespaced request without a name (create, list, watch).
    pub(super) const fn new(
        verb: &'static str,
        group: &'static str,
        resource: &'static str,
        subresource: &'static str,
    ) -> Self {
        Self {
            request: ResourceVerb::new(verb, group, resource).sub(subresource),
            namespaced: true,
            named: false,
        }
    }

    /// The same request without a namespace (a cluster-scoped resource, or a check the
    /// API server makes without one): only ClusterRoleBindings grant it.
    pub(super) const fn cluster(self) -> Self {
        Self {
            namespaced: false,
            ..self
        }
    }

    /// The same request naming an object (get, update, patch, delete, subresources).
    pub(super) const fn named(self) -> Self {
        Self {
            named: true,
            ..self
        }
    }

    /// The request in `namespace` on the object `name`.
    pub(super) fn action(&self, namespace: &str, name: &str) -> Action {
        let namespace = if self.namespaced { namespace } else { "" };
        self.request.action(namespace, name)
    }

    /// The request for any object: no name, or for a named request a name no object has
    /// (so that only a rule without `resourceNames` allows it).
    pub(super) fn any(&self) -> Action {
        self.action("", if self.named { ANY_NAME } else { "" })
    }

    /// The request as a single permission, restricted to `names` when not empty (the
    /// shape `describe` reads).
    pub(super) fn perm(&self, names: &[String]) -> PolicyRule {
        PolicyRule {
            verbs: vec![self.request.verb.to_owned()],
            api_groups: vec![self.request.group.to_owned()],
            resources: vec![self.request.combined()],
            resource_names: names.to_vec(),
            ..PolicyRule::default()
        }
    }
}

/// What a rule allows of a request: any object, or only some names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Reach {
    /// Any object (for an unnamed request: the request itself).
    Any,
    /// Only these objects (`resourceNames`).
    Names(Vec<String>),
}

impl Reach {
    /// The names it is restricted to; empty for any.
    pub(super) fn names(&self) -> &[String] {
        match self {
            Self::Any => &[],
            Self::Names(n) => n,
        }
    }
}

/// What `rule` allows of `probe`, as the engine's matcher answers it (the namespace is not
/// a rule's business: which bindings apply decides it). `any` is the probe's request for
/// any object ([`Probe::any`]), built once by the caller.
pub(super) fn reach(rule: &PolicyRule, probe: &Probe, any: &Action) -> Option<Reach> {
    if rule_allows(rule, any) {
        return Some(Reach::Any);
    }
    if !probe.named {
        return None;
    }
    let names: Vec<String> = rule
        .resource_names
        .iter()
        .filter(|n| rule_allows(rule, &probe.action("", n)))
        .cloned()
        .collect();
    (!names.is_empty()).then_some(Reach::Names(names))
}

/// One request an input binding's role allows in the binding's scope.
#[derive(Clone, Debug)]
pub(super) struct Hit {
    /// The binding.
    pub(super) binding: BindingId,
    /// Its role.
    pub(super) role: RoleId,
    /// The allowing rule.
    pub(super) rule_index: usize,
    /// The request.
    pub(super) probe: Probe,
    /// What of it the rule allows.
    pub(super) reach: Reach,
}

impl Hit {
    /// The grant, for the binding's subject `subject_index`.
    pub(super) fn grant(&self, subject_index: usize) -> Grant {
        Grant {
            binding: self.binding,
            subject_index,
            role: self.role,
            rule_index: self.rule_index,
        }
    }
}

/// [`input_hits`], grouped by subject and scope (cluster-wide or one namespace).
///
/// Runs of whole bindings are grouped on every core and merged in order, which groups as
/// one pass over the bindings would (100,000 bindings of 200,000 subjects: issue #13).
pub(super) fn hits_by_scope(cx: &Context<'_>, probes: &[Probe]) -> Groups<Scope> {
    grouped(cx, &input_hits(cx, probes), BINDINGS_PER_PART)
}

/// [`hits_by_scope`] of `hits`, in parts of `per_part` bindings.
fn grouped(cx: &Context<'_>, hits: &[Hit], per_part: usize) -> Groups<Scope> {
    use rayon::prelude::*;
    // `input_hits` lists a binding's hits together.
    let bindings: Vec<&[Hit]> = hits.chunk_by(|a, b| a.binding == b.binding).collect();
    let parts: Vec<Groups<Scope>> = bindings
        .par_chunks(per_part)
        .map(|part| {
            let mut groups = Groups::default();
            for hits in part {
                let scope = Scope::of(cx.policy.binding(hits[0].binding));
                groups.add_hits(cx, hits, &scope);
            }
            groups
        })
        .collect();
    parts
        .into_iter()
        .reduce(|mut groups, later| {
            groups.absorb(later);
            groups
        })
        .unwrap_or_default()
}

/// How many bindings [`hits_by_scope`] groups per part: enough that merging the parts costs
/// little beside grouping them.
const BINDINGS_PER_PART: usize = 8192;

/// Every `probes` request that an input binding's role allows where the binding applies
/// (a RoleBinding never grants a request without a namespace). Per binding and request:
/// the first rule allowing any object, else every rule allowing some names.
pub(super) fn input_hits(cx: &Context<'_>, probes: &[Probe]) -> Vec<Hit> {
    let anys: Vec<Action> = probes.iter().map(Probe::any).collect();
    // Many bindings share a role: what a role allows is worked out once.
    let mut by_role: HashMap<RoleId, Vec<Vec<(usize, Reach)>>> = HashMap::new();
    let mut out = Vec::new();
    for (binding, b) in input_bindings(cx) {
        let Ok(role) = cx.policy.binding_role(binding) else {
            continue;
        };
        let scope = Scope::of(b);
        let per_probe = by_role.entry(role).or_insert_with(|| {
            let rules = &cx.policy.role(role).rules;
            probes
                .iter()
                .zip(&anys)
                .map(|(probe, any)| {
                    let reaches: Vec<(usize, Reach)> = rules
                        .iter()
                        .enumerate()
                        .filter_map(|(i, r)| reach(r, probe, any).map(|x| (i, x)))
                        .collect();
                    match reaches.iter().find(|(_, r)| *r == Reach::Any) {
                        Some(first) => vec![first.clone()],
                        None => reaches,
                    }
                })
                .collect()
        });
        for (probe, reaches) in probes.iter().zip(per_probe.iter()) {
            if !probe.namespaced && scope != Scope::Cluster {
                continue;
            }
            out.extend(reaches.iter().map(|(rule_index, reach)| Hit {
                binding,
                role,
                rule_index: *rule_index,
                probe: *probe,
                reach: reach.clone(),
            }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::{Probe, Reach, Scope, grouped, input_hits, reach};
    use crate::rules::testing::{JOBS, with_context};

    /// Grouped in parts of one binding and merged, the hits group as in one pass: the same
    /// groups, grants and permissions in the same order, each permission once. The bindings
    /// give one group the same permissions through several roles and bindings.
    #[test]
    fn grouping_in_parts_is_grouping_in_one_pass() {
        // kind, name and namespace, subjects, role.
        let bindings = [
            (
                "RoleBinding",
                "a, namespace: apps",
                "{kind: Group, name: web}, {kind: ServiceAccount, name: ci}",
                "ClusterRole, name: edit",
            ),
            (
                "RoleBinding",
                "b, namespace: apps",
                "{kind: Group, name: web}",
                "Role, name: deployer",
            ),
            (
                "RoleBinding",
                "c, namespace: apps",
                "{kind: ServiceAccount, name: ci}, {kind: Group, name: web}",
                "ClusterRole, name: admin",
            ),
            (
                "ClusterRoleBinding",
                "d",
                "{kind: Group, name: web}",
                "ClusterRole, name: edit",
            ),
        ];
        let mut yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: apps}
rules:
- {apiGroups: ["apps"], resources: ["deployments"], verbs: ["create", "update"]}
- {apiGroups: [""], resources: ["pods"], verbs: ["create"]}
"#
        .to_owned();
        for (kind, name, subjects, role) in bindings {
            let _ = write!(
                yaml,
                "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata: {{name: {name}}}\nsubjects: [{subjects}]\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: {role}}}\n"
            );
        }
        let probes = [
            Probe::new("create", "", "pods", ""),
            Probe::new("create", "apps", "deployments", ""),
            Probe::new("update", "apps", "deployments", "").named(),
        ];
        let (one_pass, in_parts) = with_context(&yaml, "", JOBS, "18.9", |cx| {
            let hits = input_hits(cx, &probes);
            let shown = |per_part| {
                grouped(cx, &hits, per_part)
                    .into_iter()
                    .map(|(subject, scope, group)| {
                        let grants: Vec<_> = group
                            .grants
                            .iter()
                            .map(|g| (g.binding, g.subject_index, g.rule_index))
                            .collect();
                        let perms: Vec<_> = group.perm_rules().cloned().collect();
                        (subject, scope, grants, perms)
                    })
                    .collect::<Vec<_>>()
            };
            (shown(usize::MAX), shown(1))
        });
        assert_eq!(one_pass, in_parts);
        // Group web, in `apps` and cluster-wide; ServiceAccount apps/ci in `apps`.
        assert_eq!(one_pass.len(), 3, "{one_pass:#?}");
        let (_, _, grants, perms) = one_pass
            .iter()
            .find(|(s, scope, ..)| s.name == "web" && *scope == Scope::Namespace("apps".into()))
            .unwrap_or_else(|| panic!("{one_pass:#?}"));
        let mut bindings: Vec<_> = grants.iter().map(|g| g.0).collect();
        bindings.dedup();
        assert_eq!(bindings.len(), 3, "{grants:?}");
        for (i, p) in perms.iter().enumerate() {
            assert!(!perms[..i].contains(p), "{p:?} twice in {perms:#?}");
        }
    }

    #[test]
    fn resource_names_are_asked_of_the_matcher() {
        let rule = runnerguard_model::PolicyRule {
            verbs: vec!["create".into()],
            api_groups: vec![String::new()],
            resources: vec!["serviceaccounts/token".into()],
            resource_names: vec!["deployer".into()],
            ..Default::default()
        };
        let probe = Probe::new("create", "", "serviceaccounts", "token").named();
        assert_eq!(
            reach(&rule, &probe, &probe.any()),
            Some(Reach::Names(vec!["deployer".into()]))
        );
        let any = runnerguard_model::PolicyRule {
            resource_names: Vec::new(),
            ..rule
        };
        assert_eq!(reach(&any, &probe, &probe.any()), Some(Reach::Any));
        // `pods/*` is literal: it allows no subresource.
        let literal = runnerguard_model::PolicyRule {
            resources: vec!["serviceaccounts/*".into()],
            ..any
        };
        assert_eq!(reach(&literal, &probe, &probe.any()), None);
    }
}
