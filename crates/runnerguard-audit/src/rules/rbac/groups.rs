//! Findings-to-be grouped by subject and primitive, and how their grants read.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use foldhash::fast::RandomState as Fast;

use runnerguard_engine::{BindingId, Grant};
use runnerguard_model::{PolicyRule, Subject};

use super::{Hit, resolved_subject};
use crate::rules::common::and_list;
use crate::{Context, Finding, qualified};

/// What one subject holds of one primitive: the grants, and the single permissions.
#[derive(Clone, Debug, Default)]
pub(super) struct Group {
    /// The grants, in the order found, without repeats.
    pub(super) grants: Vec<Grant>,
    /// The single permissions (one verb, one resource), without repeats; shared between
    /// the groups that hold the same one (a 10k-namespace inventory has 60,000 groups of up
    /// to 22 permissions each).
    pub(super) perms: Vec<Arc<PolicyRule>>,
}

/// Findings-to-be, grouped by subject and primitive `K`: one finding each, listing the
/// bindings that give it. Iterates sorted by subject, then by key.
pub(super) struct Groups<K> {
    /// Hashed while collecting (inventories have 100k bindings); sorted once at the end.
    map: HashMap<(Subject, K), Group, Fast>,
    /// Each permission once, shared by the groups holding it.
    interned: HashMap<PolicyRule, Arc<PolicyRule>, Fast>,
}

impl<K> Default for Groups<K> {
    fn default() -> Self {
        Self {
            map: HashMap::default(),
            interned: HashMap::default(),
        }
    }
}

impl<K: Ord + Hash> Groups<K> {
    /// Records that `subject` holds primitive `key` through `grant`, with the single
    /// permission `perm` when there is one to show (kept once for all groups).
    pub(super) fn add(
        &mut self,
        subject: Subject,
        key: K,
        grant: Grant,
        perm: Option<&PolicyRule>,
    ) {
        let perm = perm.map(|p| self.intern(p));
        self.map
            .entry((subject, key))
            .or_default()
            .add(grant, perm.as_ref());
    }

    /// The shared copy of `perm`.
    fn intern(&mut self, perm: &PolicyRule) -> Arc<PolicyRule> {
        if let Some(p) = self.interned.get(perm) {
            return Arc::clone(p);
        }
        let p = Arc::new(perm.clone());
        self.interned.insert(perm.clone(), Arc::clone(&p));
        p
    }

    /// Records `hit` under `key` for every subject of its binding that matches someone.
    pub(super) fn add_hit(&mut self, cx: &Context<'_>, hit: &Hit, key: &K)
    where
        K: Clone,
    {
        self.add_hits(cx, std::slice::from_ref(hit), key);
    }

    /// Records `hits`, all of one binding, under `key` for every subject of the binding that
    /// matches someone: the subjects resolved and their groups found once for all the hits
    /// (a binding to `edit` has 22 hits of RB005's probes), each group getting the hits in
    /// order, as [`Groups::add_hit`] of each would.
    pub(super) fn add_hits(&mut self, cx: &Context<'_>, hits: &[Hit], key: &K)
    where
        K: Clone,
    {
        let Some(first) = hits.first() else {
            return;
        };
        debug_assert!(hits.iter().all(|h| h.binding == first.binding));
        let b = cx.policy.binding(first.binding);
        let perms: Vec<Arc<PolicyRule>> = hits
            .iter()
            .map(|h| self.intern(&h.probe.perm(h.reach.names())))
            .collect();
        for (i, s) in b.subjects.iter().enumerate() {
            if let Some(subject) = resolved_subject(s, b) {
                let group = self.map.entry((subject, key.clone())).or_default();
                for (hit, perm) in hits.iter().zip(&perms) {
                    group.add(hit.grant(i), Some(perm));
                }
            }
        }
    }

    /// Adds the groups of `later`, collected from bindings after this one's, as if they
    /// had been added here: each group's grants and permissions follow those it has, without
    /// repeats, its permissions interned anew.
    pub(super) fn absorb(&mut self, later: Self) {
        for (key, group) in later.map {
            let perms: Vec<Arc<PolicyRule>> = group.perms.iter().map(|p| self.intern(p)).collect();
            let into = self.map.entry(key).or_default();
            for grant in group.grants {
                into.add(grant, None);
            }
            for perm in &perms {
                into.add_perm(perm);
            }
        }
    }
}

impl Group {
    /// The single permissions, as rules.
    pub(super) fn perm_rules(&self) -> impl Iterator<Item = &PolicyRule> {
        self.perms.iter().map(|p| &**p)
    }

    /// Adds `grant` unless the group has one of the same binding and rule, and `perm` unless
    /// it has it already: `perm` is interned ([`Groups::intern`]), so the same permission is
    /// the same pointer.
    fn add(&mut self, grant: Grant, perm: Option<&Arc<PolicyRule>>) {
        if !self
            .grants
            .iter()
            .any(|a| a.binding == grant.binding && a.rule_index == grant.rule_index)
        {
            self.grants.push(grant);
        }
        if let Some(p) = perm {
            self.add_perm(p);
        }
    }

    /// Adds interned `perm` unless the group has it.
    fn add_perm(&mut self, perm: &Arc<PolicyRule>) {
        if !self.perms.iter().any(|q| Arc::ptr_eq(q, perm)) {
            self.perms.push(Arc::clone(perm));
        }
    }
}

impl<K: Ord> IntoIterator for Groups<K> {
    type Item = (Subject, K, Group);
    type IntoIter = std::vec::IntoIter<(Subject, K, Group)>;

    fn into_iter(self) -> Self::IntoIter {
        let mut all: Vec<(Subject, K, Group)> =
            self.map.into_iter().map(|((s, k), g)| (s, k, g)).collect();
        all.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        all.into_iter()
    }
}

/// The distinct bindings of `grants` with their roles:
/// `RoleBinding teams/ci (ClusterRole edit) and ClusterRoleBinding ops (ClusterRole admin)`.
pub(super) fn through(cx: &Context<'_>, grants: &[Grant]) -> String {
    let mut seen: Vec<BindingId> = Vec::new();
    let mut parts = Vec::new();
    for g in grants {
        if seen.contains(&g.binding) {
            continue;
        }
        seen.push(g.binding);
        let b = cx.policy.binding(g.binding);
        let r = cx.policy.role(g.role);
        parts.push(format!(
            "{} {} ({} {})",
            b.kind,
            qualified(&b.namespace, &b.name),
            r.kind,
            r.name
        ));
    }
    and_list(&parts)
}

/// Adds the evidence of `grants` to `f`: per binding, each allowing rule once (a reporter
/// names the binding and role once above their rules); and the binding and role objects.
pub(super) fn evidence(cx: &Context<'_>, mut f: Finding, grants: &[Grant]) -> Finding {
    let mut bindings: Vec<BindingId> = Vec::new();
    for g in grants {
        if !bindings.contains(&g.binding) {
            bindings.push(g.binding);
        }
    }
    for b in bindings {
        let mut rules: Vec<usize> = Vec::new();
        for g in grants.iter().filter(|g| g.binding == b) {
            if !rules.contains(&g.rule_index) {
                rules.push(g.rule_index);
                f = f.grant(cx, g);
            }
        }
    }
    f
}

/// Whether the grants of `group` on `resource` reach any object, else the names they reach;
/// `None` when they do not touch `resource`.
pub(super) fn targets(group: &Group, resource: &str) -> Option<(bool, Vec<String>)> {
    let perms: Vec<&PolicyRule> = group
        .perm_rules()
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
