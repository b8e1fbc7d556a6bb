//! What a change does: two audited versions of a setup compared, as a reviewer of a merge
//! request needs it. Per subject, the permissions gained and lost (directly, by namespace,
//! with the bindings that give them) and the identities it can newly become (with the path);
//! the findings the change adds and resolves; whether the topology moved; and, what fails a
//! change outright, any new way from a job identity into its manager's namespace.
//!
//! Findings are matched by [`finding_key`]: rule, objects (without where they were read),
//! settings and message without line numbers or the side's own path prefix, so that a
//! finding that only moved, or was read from `old/` instead of `new/`, is the same finding.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use runnerguard_engine::{
    BindingId, Escalation, Identity, Policy, Reached, UserInfo, breakdown_rule,
};
use runnerguard_model::{
    BindingKind, ObjectRef, PolicyRule, is_namespaced, push_key_part, service_account_user,
};

use crate::{Finding, Severity, Topology};

/// One side of a comparison: what was read and what the audit found in it.
#[derive(Clone, Copy, Debug)]
pub struct Side<'a> {
    /// Everything read, indexed.
    pub policy: &'a Policy,
    /// The audit's findings.
    pub findings: &'a [Finding],
    /// The runner topologies.
    pub topologies: &'a [Topology],
    /// The side's own path prefixes (`old/`, `new/`), left out when findings are matched.
    pub prefixes: &'a [String],
}

/// What changed between two sides.
#[derive(Debug, Default)]
pub struct Comparison {
    /// Each subject whose permissions or reach changed, sorted.
    pub subjects: Vec<SubjectChange>,
    /// Findings of the new side the old one did not have (or had at a lower severity).
    pub new_findings: Vec<Finding>,
    /// Findings of the old side the new one no longer has.
    pub resolved_findings: Vec<Finding>,
    /// Findings of both sides about the same objects and settings whose message or
    /// severity changed (the old, then the new): an RB005 graded higher because its subject
    /// now reaches more.
    pub changed_findings: Vec<(Finding, Finding)>,
    /// Whether the runner topologies differ.
    pub topology_changed: bool,
    /// Each job identity that gains a way into its manager's namespace.
    pub into_manager: Vec<JobReach>,
}

impl Comparison {
    /// Whether the change should not merge: it adds a finding at or above `fail_on`, or
    /// opens a way from a job identity into a manager namespace.
    pub fn fails(&self, fail_on: Severity) -> bool {
        !self.into_manager.is_empty()
            || self.new_findings.iter().any(|f| f.severity >= fail_on)
            || self.worsened(fail_on).next().is_some()
    }

    /// The changed findings that became more severe and are now at or above `fail_on`.
    pub fn worsened(&self, fail_on: Severity) -> impl Iterator<Item = &(Finding, Finding)> {
        self.changed_findings
            .iter()
            .filter(move |(old, new)| new.severity > old.severity && new.severity >= fail_on)
    }
}

/// How one subject's access changed.
#[derive(Debug)]
pub struct SubjectChange {
    /// The subject.
    pub identity: Identity,
    /// Permissions it holds now and did not, by scope.
    pub gained: Vec<Rights>,
    /// Permissions it held and no longer does, by scope.
    pub lost: Vec<Rights>,
    /// Identities it can now become, each with the new side's shortest path.
    pub reach_gained: Vec<Reached>,
    /// Identities it could become and no longer can.
    pub reach_lost: Vec<Identity>,
}

/// Permissions in one scope, with the bindings (of the side that holds them) giving them.
#[derive(Debug, PartialEq, Eq)]
pub struct Rights {
    /// The namespace; empty for cluster-wide (ClusterRoleBindings).
    pub namespace: String,
    /// The permissions: one rule per resource (and name) or URL, with its verbs, sorted.
    pub rules: Vec<PolicyRule>,
    /// The bindings that give them, sorted.
    pub bindings: Vec<ObjectRef>,
}

/// A job identity's new way into its manager's namespace.
#[derive(Debug)]
pub struct JobReach {
    /// The job pods' ServiceAccount.
    pub job: Identity,
    /// The manager's namespace.
    pub manager_namespace: String,
    /// What it may now do there directly (namespaced resources, any binding).
    pub rights: Vec<Rights>,
    /// Identities it can now become that reach into that namespace, with paths.
    pub reach: Vec<Reached>,
}

/// Compares two sides.
pub fn compare(old: &Side<'_>, new: &Side<'_>) -> Comparison {
    let old_escalation = Escalation::new(old.policy);
    let new_escalation = Escalation::new(new.policy);
    let mut identities: BTreeSet<Identity> = BTreeSet::new();
    for side in [old, new] {
        identities.extend(
            side.policy
                .subjects()
                .iter()
                .filter_map(Identity::of_subject),
        );
        for t in side.topologies {
            identities.insert(service_account(
                &t.manager_namespace,
                &t.manager_service_account,
            ));
            for j in &t.jobs {
                identities.insert(service_account(&j.namespace, &j.service_account));
            }
        }
    }
    let mut subjects = Vec::new();
    for identity in identities {
        let Some(user) = identity.user_info() else {
            continue;
        };
        // Most subjects of a change hold the same rules through the same bindings on both
        // sides: compared as borrowed grants first, broken into permissions only when not.
        let (held_before, held_after) =
            (held_rules(old.policy, &user), held_rules(new.policy, &user));
        let (gained, lost) = if grants(old.policy, &held_before) == grants(new.policy, &held_after)
        {
            (Vec::new(), Vec::new())
        } else {
            let before = direct(&held_before);
            let after = direct(&held_after);
            (
                difference(&after, &before, new.policy),
                difference(&before, &after, old.policy),
            )
        };
        let was: BTreeSet<Identity> = old_escalation.reachable(&user).into_iter().collect();
        let is: BTreeSet<Identity> = new_escalation.reachable(&user).into_iter().collect();
        let reach_lost: Vec<Identity> = was.difference(&is).cloned().collect();
        let reach_gained: Vec<Reached> = if is.is_subset(&was) {
            Vec::new()
        } else {
            new_escalation
                .reach(&user)
                .into_iter()
                .skip(1)
                .filter(|r| !was.contains(&r.identity))
                .collect()
        };
        if gained.is_empty() && lost.is_empty() && reach_gained.is_empty() && reach_lost.is_empty()
        {
            continue;
        }
        subjects.push(SubjectChange {
            identity,
            gained,
            lost,
            reach_gained,
            reach_lost,
        });
    }
    let into_manager = into_manager(old, new, &old_escalation, &new_escalation);
    let (new_findings, resolved_findings, changed_findings) = findings(old, new);
    Comparison {
        subjects,
        new_findings,
        resolved_findings,
        changed_findings,
        topology_changed: topologies(old.topologies) != topologies(new.topologies),
        into_manager,
    }
}

fn service_account(namespace: &str, name: &str) -> Identity {
    Identity::ServiceAccount {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
    }
}

/// One permission: a rule with one API group, resource, verb and at most one name, or one
/// URL and verb ([`breakdown_rule`]'s pieces).
type Atom = PolicyRule;

/// Whether permission `atom` can be about an object in a namespace: a namespaced resource,
/// or one the built-in table does not know (a custom resource, `*`), which may be.
fn namespaced(atom: &Atom) -> bool {
    match (atom.api_groups.first(), atom.resources.first()) {
        (Some(group), Some(resource)) => is_namespaced(group, resource) != Some(false),
        _ => false,
    }
}

/// Every permission `user` holds, by scope (a namespace through its RoleBindings, `""`
/// through ClusterRoleBindings), each with the bindings that give it.
type Held = BTreeMap<String, HashMap<Atom, BTreeSet<BindingId>>>;

/// One rule `user` holds: the scope (a namespace through its RoleBindings, `""` through
/// ClusterRoleBindings), the binding giving it, and the rule.
struct HeldRule<'p> {
    scope: &'p str,
    binding: BindingId,
    rule: &'p PolicyRule,
}

/// Every rule `user` holds, where its bindings apply.
fn held_rules<'p>(policy: &'p Policy, user: &UserInfo) -> Vec<HeldRule<'p>> {
    let mut out = Vec::new();
    let (namespaces, cluster) = policy.binding_scopes(user);
    let scopes = namespaces
        .into_iter()
        .map(|ns| (ns, BindingKind::RoleBinding))
        .chain(cluster.then_some(("", BindingKind::ClusterRoleBinding)));
    for (scope, kind) in scopes {
        for entry in policy.rules_for(user, scope).rules {
            if policy.binding(entry.grant.binding).kind == kind {
                out.push(HeldRule {
                    scope,
                    binding: entry.grant.binding,
                    rule: policy.rule(&entry.grant),
                });
            }
        }
    }
    out
}

/// `held` as what can be compared across two policies: (scope, binding namespace and name,
/// rule), sorted, each once. Equal on two sides, the permissions are equal too.
fn grants<'p>(
    policy: &'p Policy,
    held: &[HeldRule<'p>],
) -> Vec<(&'p str, &'p str, &'p str, &'p PolicyRule)> {
    let mut out: Vec<_> = held
        .iter()
        .map(|h| {
            let b = policy.binding(h.binding);
            (h.scope, b.namespace.as_str(), b.name.as_str(), h.rule)
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The permissions of `held`, by scope, each with the bindings that give it.
fn direct(held: &[HeldRule<'_>]) -> Held {
    let mut out = Held::new();
    for h in held {
        let atoms = out.entry(h.scope.to_owned()).or_default();
        for atom in breakdown_rule(h.rule) {
            atoms.entry(atom).or_default().insert(h.binding);
        }
    }
    out
}

/// What `a` holds and `b` does not, by scope, with `a`'s bindings (of `policy`).
fn difference(a: &Held, b: &Held, policy: &Policy) -> Vec<Rights> {
    let mut out = Vec::new();
    for (scope, atoms) in a {
        let other = b.get(scope);
        let mut only: Vec<(&Atom, &BTreeSet<BindingId>)> = atoms
            .iter()
            .filter(|(atom, _)| other.is_none_or(|o| !o.contains_key(*atom)))
            .collect();
        if only.is_empty() {
            continue;
        }
        only.sort_by(|x, y| x.0.cmp(y.0));
        out.push(rights(scope, only, policy));
    }
    out
}

fn rights<'a>(
    scope: &str,
    atoms: impl IntoIterator<Item = (&'a Atom, &'a BTreeSet<BindingId>)>,
    policy: &Policy,
) -> Rights {
    // One rule per resource (and name) or URL, with its verbs: what a reader compares.
    let mut by_resource: BTreeMap<(&str, &str, &str), Vec<String>> = BTreeMap::new();
    let mut by_url: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut bindings: BTreeSet<BindingId> = BTreeSet::new();
    for (atom, by) in atoms {
        let verb = atom.verbs.concat();
        match (
            atom.api_groups.first(),
            atom.resources.first(),
            atom.non_resource_urls.first(),
        ) {
            (Some(group), Some(resource), _) => {
                let name = atom.resource_names.first().map_or("", String::as_str);
                by_resource
                    .entry((group, resource, name))
                    .or_default()
                    .push(verb);
            }
            (_, _, Some(url)) => by_url.entry(url).or_default().push(verb),
            _ => {}
        }
        bindings.extend(by);
    }
    let resources = by_resource
        .into_iter()
        .map(|((group, resource, name), verbs)| PolicyRule {
            verbs,
            api_groups: vec![group.to_owned()],
            resources: vec![resource.to_owned()],
            resource_names: if name.is_empty() {
                Vec::new()
            } else {
                vec![name.to_owned()]
            },
            non_resource_urls: Vec::new(),
        });
    let urls = by_url.into_iter().map(|(url, verbs)| PolicyRule {
        verbs,
        non_resource_urls: vec![url.to_owned()],
        ..PolicyRule::default()
    });
    let mut bindings: Vec<ObjectRef> = bindings
        .into_iter()
        .map(|b| policy.binding(b).object_ref())
        .collect();
    bindings
        .sort_by(|a, b| (&a.kind, &a.namespace, &a.name).cmp(&(&b.kind, &b.namespace, &b.name)));
    bindings.dedup_by(|a, b| a.kind == b.kind && a.namespace == b.namespace && a.name == b.name);
    Rights {
        namespace: scope.to_owned(),
        rules: resources.chain(urls).collect(),
        bindings,
    }
}

/// What `user` may do to objects in `namespace` through any binding: its RoleBindings there
/// and, for namespaced resources, its ClusterRoleBindings.
fn in_namespace(
    policy: &Policy,
    user: &UserInfo,
    namespace: &str,
) -> HashMap<Atom, BTreeSet<BindingId>> {
    let mut atoms: HashMap<Atom, BTreeSet<BindingId>> = HashMap::new();
    for entry in policy.rules_for(user, namespace).rules {
        for atom in breakdown_rule(policy.rule(&entry.grant)) {
            if namespaced(&atom) {
                atoms.entry(atom).or_default().insert(entry.grant.binding);
            }
        }
    }
    atoms
}

/// Whether `identity` is in `namespace` or above it: acting as it reaches objects there.
fn inside(identity: &Identity, namespace: &str, policy: &Policy) -> bool {
    match identity {
        Identity::ServiceAccount { namespace: ns, .. }
        | Identity::NamespaceAdmin { namespace: ns } => ns == namespace,
        Identity::BoundRole { scope, .. } => scope.is_empty() || scope == namespace,
        Identity::AnyServiceAccount | Identity::Node | Identity::ClusterAdmin => true,
        Identity::User { .. } | Identity::Group { .. } => identity
            .user_info()
            .is_some_and(|u| !in_namespace(policy, &u, namespace).is_empty()),
    }
}

/// For each job identity of the new side's topologies: what it may newly do in its
/// manager's namespace, and the identities inside it that it can newly become.
fn into_manager(
    old: &Side<'_>,
    new: &Side<'_>,
    old_escalation: &Escalation<'_>,
    new_escalation: &Escalation<'_>,
) -> Vec<JobReach> {
    let mut seen: BTreeSet<(String, String, String)> = BTreeSet::new();
    let mut out = Vec::new();
    for t in new.topologies {
        let manager = &t.manager_namespace;
        for j in &t.jobs {
            if !seen.insert((
                j.namespace.clone(),
                j.service_account.clone(),
                manager.clone(),
            )) {
                continue;
            }
            let user = UserInfo::impersonated(
                &service_account_user(&j.namespace, &j.service_account),
                &[],
            );
            let before = in_namespace(old.policy, &user, manager);
            let after = in_namespace(new.policy, &user, manager);
            let gained: Vec<(&Atom, &BTreeSet<BindingId>)> = {
                let mut g: Vec<_> = after
                    .iter()
                    .filter(|(a, _)| !before.contains_key(*a))
                    .collect();
                g.sort_by(|x, y| x.0.cmp(y.0));
                g
            };
            let was: BTreeSet<Identity> = old_escalation
                .reachable(&user)
                .into_iter()
                .filter(|i| inside(i, manager, old.policy))
                .collect();
            let reach: Vec<Reached> = new_escalation
                .reach(&user)
                .into_iter()
                .skip(1)
                .filter(|r| !was.contains(&r.identity) && inside(&r.identity, manager, new.policy))
                .collect();
            if gained.is_empty() && reach.is_empty() {
                continue;
            }
            let rights = if gained.is_empty() {
                Vec::new()
            } else {
                vec![self::rights(manager, gained, new.policy)]
            };
            out.push(JobReach {
                job: service_account(&j.namespace, &j.service_account),
                manager_namespace: manager.clone(),
                rights,
                reach,
            });
        }
    }
    out
}

/// A topology as what defines it: manager namespace and ServiceAccount, and the job
/// namespaces with their ServiceAccounts, sorted.
type Shape = (String, String, Vec<(String, String)>);

/// The topologies as what defines them, order aside.
fn topologies(topologies: &[Topology]) -> BTreeSet<Shape> {
    topologies
        .iter()
        .map(|t| {
            let mut jobs: Vec<(String, String)> = t
                .jobs
                .iter()
                .map(|j| (j.namespace.clone(), j.service_account.clone()))
                .collect();
            jobs.sort();
            (
                t.manager_namespace.clone(),
                t.manager_service_account.clone(),
                jobs,
            )
        })
        .collect()
}

/// The new side's findings the old did not have, the old side's the new no longer has, and
/// the pairs of the two that are about the same objects and settings but say something else
/// (or at another severity), each in its side's order.
fn findings(
    old: &Side<'_>,
    new: &Side<'_>,
) -> (Vec<Finding>, Vec<Finding>, Vec<(Finding, Finding)>) {
    // Each side's keys, once: a finding of `a` is matched by one of `b` with its key.
    let old_keys: Vec<String> = old
        .findings
        .iter()
        .map(|f| keyed(f, old.prefixes))
        .collect();
    let new_keys: Vec<String> = new
        .findings
        .iter()
        .map(|f| keyed(f, new.prefixes))
        .collect();
    let unmatched = |a: &[String], b: &[String]| -> Vec<usize> {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for k in b {
            *counts.entry(k).or_default() += 1;
        }
        a.iter()
            .enumerate()
            .filter(|(_, k)| match counts.get_mut(k.as_str()) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            })
            .map(|(i, _)| i)
            .collect()
    };
    let added = unmatched(&new_keys, &old_keys);
    let gone = unmatched(&old_keys, &new_keys);
    // What is left on both sides is paired by what it is about: rule, objects, settings.
    let mut left: HashMap<String, Vec<usize>> = HashMap::new();
    for &i in gone.iter().rev() {
        left.entry(subject_key(&old.findings[i]))
            .or_default()
            .push(i);
    }
    let mut new_findings = Vec::new();
    let mut changed = Vec::new();
    let mut paired: BTreeSet<usize> = BTreeSet::new();
    for i in added {
        let f = &new.findings[i];
        match left.get_mut(&subject_key(f)).and_then(Vec::pop) {
            Some(o) => {
                paired.insert(o);
                changed.push((old.findings[o].clone(), f.clone()));
            }
            None => new_findings.push(f.clone()),
        }
    }
    let resolved = gone
        .into_iter()
        .filter(|i| !paired.contains(i))
        .map(|i| old.findings[i].clone())
        .collect();
    (new_findings, resolved, changed)
}

/// [`finding_key`] and the severity: the same finding at another severity has changed.
fn keyed(f: &Finding, prefixes: &[String]) -> String {
    let mut key = finding_key(f, prefixes);
    push_key_part(&mut key, f.severity.as_str());
    key
}

/// What a finding is about, message aside: rule, the object to change (the first; the
/// others are evidence, which a change may add to) and settings.
fn subject_key(f: &Finding) -> String {
    let mut key = String::new();
    push_key_part(&mut key, f.rule);
    for o in f.objects.iter().take(1) {
        for part in [&o.api_version, &o.kind, &o.namespace, &o.name] {
            push_key_part(&mut key, part);
        }
    }
    for l in &f.locations {
        push_key_part(&mut key, &l.what);
    }
    key
}

/// What identifies a finding across two versions of the inputs: the rule, the objects (kind,
/// namespace, name: not where they were read), the settings' keys, and the message without
/// line numbers or any of `prefixes` (the side's own paths).
pub fn finding_key(f: &Finding, prefixes: &[String]) -> String {
    let mut message = without_line_numbers(&f.message);
    for p in prefixes.iter().filter(|p| !p.is_empty()) {
        message = message.replace(p.as_str(), "");
    }
    let mut key = String::with_capacity(message.len() + 64);
    push_key_part(&mut key, f.rule);
    push_key_part(&mut key, &message);
    for o in &f.objects {
        for part in [&o.api_version, &o.kind, &o.namespace, &o.name] {
            push_key_part(&mut key, part);
        }
    }
    for l in &f.locations {
        push_key_part(&mut key, &l.what);
    }
    key
}

/// `text` with every `:LINE` and `:LINE:COLUMN` after a file name taken out: a `:` followed
/// by digits that end at a word boundary, preceded by a character of a file name.
pub fn without_line_numbers(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b':' && i > 0 && is_name_byte(bytes[i - 1]) {
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let end = i + 1 + digits;
            let boundary = bytes
                .get(end)
                .is_none_or(|b| !b.is_ascii_alphanumeric() && *b != b'_' && *b != b'-');
            if digits > 0 && boundary {
                i = end;
                continue;
            }
        }
        let ch_len = text[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&text[i..i + ch_len]);
        i += ch_len;
    }
    out
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/' | b']')
}

#[cfg(test)]
mod tests;
