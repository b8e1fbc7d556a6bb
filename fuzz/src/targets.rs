//! The fuzz targets' bodies: each takes libFuzzer's bytes and panics only on a finding.
//!
//! - [`load_manifests`]: the bytes as a `.yaml` and as a `.json` file through
//!   `runnerguard_load::load_str`; an error must be a well-formed diagnostic (place inside the
//!   text, message short and free of control characters); what loads is indexed by the engine
//!   and asked a few questions.
//! - [`load_toml`]: the bytes as a runner `config.toml`.
//! - [`load_values`]: the bytes as a `--values` file, then rendered with the built-in chart
//!   model (`runnerguard_chart::render_inventory` without Helm).
//! - [`authorizer`]: the bytes choose a small set of roles, bindings, an identity and a request;
//!   the engine's answers (`authorize`, `rules_for`, `allowed_subjects`) must equal those of
//!   the slow reference below, written directly from Kubernetes' Go source.
//!
//! This file is also compiled into `crates/runnerguard-cli/tests/fuzz_seeds.rs`, which runs
//! every seed of `fuzz/corpus/` through it; it uses only the workspace's own crates.

use std::path::PathBuf;
use std::sync::Arc;

use runnerguard_chart::{HelmChoice, RenderOptions, render_inventory};
use runnerguard_engine::{Action, Policy, ResourceTarget, Target, UserInfo};
use runnerguard_load::{Error, Input, Loaded, load_inputs, load_str};
use runnerguard_model::{
    Binding, BindingKind, Inventory, Origin, PolicyRule, Role, RoleKind, RoleRef, Subject,
};

/// The longest diagnostic message accepted: the loader promises "at most a few hundred
/// characters" (crates/runnerguard-load/src/error.rs).
const MAX_MESSAGE_CHARS: usize = 1024;

/// The bytes as manifests, named `.yaml` and `.json` (the loader picks its reader by content,
/// the name only labels the diagnostics).
pub fn load_manifests(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for name in ["fuzz.yaml", "fuzz.json"] {
        check_load(&text, load_str(name, &text));
    }
}

/// The bytes as a runner `config.toml`.
pub fn load_toml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check_load(&text, load_str("config.toml", &text));
}

/// The bytes as a Helm values file (`--values FILE`), then rendered with the chart model.
///
/// The file is written to a per-process directory under the system's temporary directory,
/// since values are only read from files.
pub fn load_values(data: &[u8]) {
    let dir = std::env::temp_dir().join(format!("runnerguard-fuzz-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let path: PathBuf = dir.join("values.yaml");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let text = String::from_utf8_lossy(data);
    match load_inputs(&[Input::Values(path.clone())]) {
        Err(e) => check_error(&text, &e),
        Ok(mut loaded) => {
            let options = RenderOptions {
                release_name: None,
                release_namespace: None,
                chart: None,
                chart_version: None,
                helm: HelmChoice::Off,
                merged: vec![Arc::from(path.to_string_lossy().as_ref())],
            };
            // An error is an answer (values the chart refuses); only a panic is a finding.
            if render_inventory(&mut loaded, &options).is_ok() {
                ask(&Policy::new(loaded.inventory));
            }
        }
    }
}

fn check_load(text: &str, result: runnerguard_load::Result<Loaded>) {
    match result {
        Err(e) => check_error(text, &e),
        Ok(loaded) => ask(&Policy::new(loaded.inventory)),
    }
}

/// An error must say something, and each diagnostic must point inside `text` with a short
/// message that has no control characters (they are escaped: issue #9 S1, T1).
fn check_error(text: &str, error: &Error) {
    assert!(!error.to_string().is_empty(), "an error without a message");
    let Error::Invalid(diagnostics, _) = error else {
        return;
    };
    assert!(
        !diagnostics.is_empty(),
        "Error::Invalid without a diagnostic"
    );
    // Lines as YAML counts them: LF, CRLF and a lone CR each end one.
    let bytes = text.as_bytes();
    let breaks = bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count();
    let lines = breaks + 1;
    for d in diagnostics {
        assert!(
            d.line >= 1 && d.column >= 1,
            "diagnostic at {}:{}: {}",
            d.line,
            d.column,
            d.message
        );
        assert!(
            usize::try_from(d.line).is_ok_and(|l| l <= lines),
            "diagnostic at line {} of a {lines}-line text: {}",
            d.line,
            d.message
        );
        assert!(!d.message.is_empty(), "a diagnostic without a message");
        assert!(
            d.message.chars().count() <= MAX_MESSAGE_CHARS,
            "a diagnostic message of {} characters",
            d.message.chars().count()
        );
        assert!(
            !d.message
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t'),
            "a control character in a diagnostic message: {:?}",
            d.message
        );
        assert!(!d.to_string().is_empty());
    }
}

/// A few questions of what was loaded: none may panic.
fn ask(policy: &Policy) {
    let users = [
        UserInfo::impersonated("system:serviceaccount:default:default", &[]),
        UserInfo::impersonated("system:serviceaccount:gitlab-runner:gitlab-runner", &[]),
        UserInfo::anonymous(),
    ];
    let actions = [
        Action::resource("create", "default", "", "pods", "exec", "x"),
        Action::resource("get", "", "", "secrets", "", ""),
        Action::non_resource("get", "/healthz"),
    ];
    for user in &users {
        for action in &actions {
            let decision = policy.authorize(user, action);
            assert_eq!(decision.allowed, !decision.grants.is_empty());
            let _ = policy.near_misses(user, action, 5);
        }
        let _ = policy.rules_for(user, "default");
    }
    let _ = policy.allowed_subjects(&actions[0]);
}

/// Bytes read as a stream of small choices; past the end every choice is the first.
struct Choices<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n.max(1)
    }

    fn pick(&mut self, words: &[&str]) -> String {
        words
            .get(self.below(words.len()))
            .map_or_else(String::new, |w| (*w).to_owned())
    }

    fn list(&mut self, words: &[&str], max: usize) -> Vec<String> {
        let n = self.below(max + 1);
        (0..n).map(|_| self.pick(words)).collect()
    }
}

// Small vocabularies, so that random choices collide often; each holds the edge cases of
// its matcher (`*`, `*/sub`, `pods/*`, a trailing `*` in URLs, case, empty strings).
const VERBS: &[&str] = &["get", "list", "create", "*", "", "Get", "impersonate"];
const GROUPS: &[&str] = &["", "apps", "*", "rbac.authorization.k8s.io", "Apps"];
const RULE_RESOURCES: &[&str] = &[
    "pods",
    "pods/exec",
    "*",
    "*/exec",
    "pods/*",
    "secrets",
    "*/status",
    "*/",
    "",
    "deployments/scale",
    "*/*",
];
const RESOURCES: &[&str] = &["pods", "secrets", "deployments", "*", "", "pods/exec"];
const SUBRESOURCES: &[&str] = &["", "exec", "status", "*", "scale", "/"];
const NAMES: &[&str] = &["", "a", "b", "*"];
const URLS: &[&str] = &[
    "*", "/healthz", "/api/*", "/api", "/a*b", "/api**", "", "/", "**", "/api/v1*",
];
const PATHS: &[&str] = &[
    "/healthz",
    "/api",
    "/api/v1",
    "/a*b",
    "/axb",
    "/",
    "",
    "/api/",
    "/healthz/x",
    "*",
];
const NAMESPACES: &[&str] = &["ns1", "ns2", "ns1:x"];
const REQUEST_NAMESPACES: &[&str] = &["", "ns1", "ns2", "ns1:x"];
const ROLE_NAMES: &[&str] = &["r1", "r2", "r3"];
const REF_KINDS: &[&str] = &["ClusterRole", "Role", "role", ""];
const SUBJECT_KINDS: &[&str] = &["User", "Group", "ServiceAccount", "user", "Other"];
const SUBJECT_NAMES: &[&str] = &[
    "alice",
    "g1",
    "sa",
    "system:authenticated",
    "x:sa",
    "",
    "system:serviceaccount:ns1:sa",
];
const SUBJECT_NAMESPACES: &[&str] = &["", "ns1", "ns2", "ns1:x"];
const USERS: &[&str] = &[
    "alice",
    "bob",
    "system:serviceaccount:ns1:sa",
    "system:serviceaccount:ns2:sa",
    "system:serviceaccount:ns1:x:sa",
    "system:serviceaccount:ns1:sa:x",
    "",
    "g1",
];
const USER_GROUPS: &[&str] = &["g1", "system:authenticated", "alice", ""];

fn rule(c: &mut Choices<'_>) -> PolicyRule {
    PolicyRule {
        verbs: c.list(VERBS, 3),
        api_groups: c.list(GROUPS, 2),
        resources: c.list(RULE_RESOURCES, 3),
        resource_names: c.list(NAMES, 2),
        non_resource_urls: c.list(URLS, 2),
    }
}

fn inventory(c: &mut Choices<'_>) -> Inventory {
    let mut inventory = Inventory::default();
    for _ in 0..c.below(5) {
        let kind = if c.byte().is_multiple_of(2) {
            RoleKind::ClusterRole
        } else {
            RoleKind::Role
        };
        let namespace = match kind {
            RoleKind::ClusterRole => String::new(),
            RoleKind::Role => c.pick(NAMESPACES),
        };
        let name = c.pick(ROLE_NAMES);
        let rules = (0..c.below(4)).map(|_| rule(c)).collect();
        inventory.roles.push(Role {
            kind,
            name,
            namespace,
            labels: std::collections::BTreeMap::new(),
            rules,
            aggregation: None,
            origin: Origin::default(),
        });
    }
    for i in 0..c.below(5) {
        let kind = if c.byte().is_multiple_of(2) {
            BindingKind::ClusterRoleBinding
        } else {
            BindingKind::RoleBinding
        };
        let namespace = match kind {
            BindingKind::ClusterRoleBinding => String::new(),
            BindingKind::RoleBinding => c.pick(NAMESPACES),
        };
        let role_ref = RoleRef {
            api_group: "rbac.authorization.k8s.io".to_owned(),
            kind: c.pick(REF_KINDS),
            name: c.pick(ROLE_NAMES),
        };
        let subjects = (0..c.below(4))
            .map(|_| Subject {
                kind: c.pick(SUBJECT_KINDS),
                api_group: String::new(),
                name: c.pick(SUBJECT_NAMES),
                namespace: c.pick(SUBJECT_NAMESPACES),
            })
            .collect();
        inventory.bindings.push(Binding {
            kind,
            name: format!("b{i}"),
            namespace,
            role_ref,
            subjects,
            origin: Origin::default(),
        });
    }
    inventory
}

fn request(c: &mut Choices<'_>) -> (UserInfo, Action) {
    let user = UserInfo::new(c.pick(USERS), c.list(USER_GROUPS, 2));
    let verb = c.pick(VERBS);
    let namespace = c.pick(REQUEST_NAMESPACES);
    let target = if c.byte().is_multiple_of(3) {
        Target::NonResource {
            path: c.pick(PATHS),
        }
    } else {
        Target::Resource(ResourceTarget {
            api_group: c.pick(GROUPS),
            resource: c.pick(RESOURCES),
            subresource: c.pick(SUBRESOURCES),
            name: c.pick(NAMES),
        })
    };
    (
        user,
        Action {
            verb,
            namespace,
            target,
        },
    )
}

fn case(data: &[u8]) -> (Inventory, UserInfo, Action) {
    let mut c = Choices { data, pos: 0 };
    let inventory = inventory(&mut c);
    let (user, action) = request(&mut c);
    (inventory, user, action)
}

/// Whether the case the bytes choose is allowed (for checking that seeds reach grants).
pub fn authorizer_allows(data: &[u8]) -> bool {
    let (inventory, user, action) = case(data);
    Policy::new(inventory).authorize(&user, &action).allowed
}

/// A grant as the reference can name it: binding, subject, rule and the role's key.
type GrantKey = (usize, usize, usize, (RoleKind, String, String));

/// Roles, bindings, an identity and a request chosen by the bytes: the engine's `authorize`,
/// `rules_for` and `allowed_subjects` must give exactly the reference's answers.
pub fn authorizer(data: &[u8]) {
    let (inventory, user, action) = case(data);
    let reference = Reference {
        roles: inventory.roles.clone(),
        bindings: inventory.bindings.clone(),
    };
    let policy = Policy::new(inventory);

    // Authorize: every allowing rule, in visiting order, and the bindings whose role is missing.
    let decision = policy.authorize(&user, &action);
    let visited = reference.visit(&user, &action.namespace);
    let want_grants: Vec<GrantKey> = visited
        .rules
        .iter()
        .filter(|v| reference_rule_allows(&reference.rule(v), &action))
        .map(|v| (v.binding, v.subject, v.rule, reference.role_key(v.role)))
        .collect();
    let got_grants: Vec<GrantKey> = decision
        .grants
        .iter()
        .map(|g| {
            let r = policy.role(g.role);
            (
                g.binding.index(),
                g.subject_index,
                g.rule_index,
                (r.kind, r.namespace.clone(), r.name.clone()),
            )
        })
        .collect();
    assert_eq!(
        got_grants, want_grants,
        "authorize({user}, {action:?}) grants differ from the reference"
    );
    assert_eq!(decision.allowed, !want_grants.is_empty());
    let got_errors: Vec<usize> = decision.errors.iter().map(|e| e.binding.index()).collect();
    assert_eq!(
        got_errors, visited.errors,
        "authorize: resolve errors differ"
    );

    // RulesFor: every rule of every applicable binding.
    let rules = policy.rules_for(&user, &action.namespace);
    let got_rules: Vec<(usize, usize, usize)> = rules
        .rules
        .iter()
        .map(|r| {
            (
                r.grant.binding.index(),
                r.grant.subject_index,
                r.grant.rule_index,
            )
        })
        .collect();
    let want_rules: Vec<(usize, usize, usize)> = visited
        .rules
        .iter()
        .map(|v| (v.binding, v.subject, v.rule))
        .collect();
    assert_eq!(
        got_rules, want_rules,
        "rules_for differs from the reference"
    );
    let got_errors: Vec<usize> = rules.errors.iter().map(|e| e.binding.index()).collect();
    assert_eq!(
        got_errors, visited.errors,
        "rules_for: resolve errors differ"
    );

    // AllowedSubjects (who can).
    let (subjects, _) = policy.allowed_subjects(&action);
    let got: Vec<Subject> = subjects.into_iter().map(|s| s.subject).collect();
    assert_eq!(
        got,
        reference.allowed_subjects(&action),
        "allowed_subjects({action:?}) differs from the reference"
    );

    // Near misses: never a "miss" without a difference.
    for miss in policy.near_misses(&user, &action, 8) {
        assert!(!miss.mismatches.is_empty(), "a near miss with no mismatch");
    }
}

// ---------------------------------------------------------------------------------------------
// The slow reference: a literal transcription of Kubernetes' RBAC authorizer, on plain lists,
// no index. Sources (kubernetes/kubernetes):
// - pkg/apis/rbac/v1/evaluation_helpers.go: VerbMatches, APIGroupMatches, ResourceMatches,
//   ResourceNameMatches, NonResourceURLMatches;
// - plugin/pkg/auth/authorizer/rbac/rbac.go: RuleAllows;
// - pkg/registry/rbac/validation/rule.go: VisitRulesFor (ClusterRoleBindings, then the
//   request namespace's RoleBindings), appliesTo / appliesToUser, GetRoleReferenceRules;
// - staging/src/k8s.io/apiserver/pkg/authentication/serviceaccount/util.go: MatchesUsername;
// - plugin/pkg/auth/authorizer/rbac/subject_locator.go: AllowedSubjects.
// Roles defined twice are taken from their last definition (a later apply replaces the
// object), which is the engine's documented choice.
// ---------------------------------------------------------------------------------------------

struct Reference {
    roles: Vec<Role>,
    bindings: Vec<Binding>,
}

/// One rule visited: binding, the subject that applied, the role (index in `roles`) and rule.
struct Visit {
    binding: usize,
    subject: usize,
    role: usize,
    rule: usize,
}

#[derive(Default)]
struct Visited {
    rules: Vec<Visit>,
    errors: Vec<usize>,
}

impl Reference {
    fn rule(&self, v: &Visit) -> PolicyRule {
        self.roles[v.role].rules[v.rule].clone()
    }

    fn role_key(&self, role: usize) -> (RoleKind, String, String) {
        let r = &self.roles[role];
        (r.kind, r.namespace.clone(), r.name.clone())
    }

    /// `GetRoleReferenceRules(roleRef, bindingNamespace)`: the role, or an error.
    fn role_ref_rules(&self, role_ref: &RoleRef, namespace: &str) -> Option<usize> {
        let kind = match role_ref.kind.as_str() {
            "Role" => RoleKind::Role,
            "ClusterRole" => RoleKind::ClusterRole,
            // "unsupported role reference kind"
            _ => return None,
        };
        let namespace = if kind == RoleKind::ClusterRole {
            ""
        } else {
            namespace
        };
        self.roles
            .iter()
            .rposition(|r| r.kind == kind && r.namespace == namespace && r.name == role_ref.name)
    }

    /// `VisitRulesFor(user, namespace)`.
    fn visit(&self, user: &UserInfo, namespace: &str) -> Visited {
        let mut out = Visited::default();
        let mut one = |index: usize, binding: &Binding, binding_namespace: &str| {
            let Some(subject) = applies_to(user, &binding.subjects, binding_namespace) else {
                return;
            };
            match self.role_ref_rules(&binding.role_ref, binding_namespace) {
                None => out.errors.push(index),
                Some(role) => {
                    for rule in 0..self.roles[role].rules.len() {
                        out.rules.push(Visit {
                            binding: index,
                            subject,
                            role,
                            rule,
                        });
                    }
                }
            }
        };
        for (i, b) in self.bindings.iter().enumerate() {
            if b.kind == BindingKind::ClusterRoleBinding {
                one(i, b, "");
            }
        }
        if !namespace.is_empty() {
            for (i, b) in self.bindings.iter().enumerate() {
                if b.kind == BindingKind::RoleBinding && b.namespace == namespace {
                    one(i, b, namespace);
                }
            }
        }
        out
    }

    /// `AllowedSubjects(requestAttributes)`: `system:masters`, then the subjects of every
    /// binding whose role allows the request, not deduplicated (upstream returns `subjects`,
    /// not the `dedupedSubjects` it computes).
    fn allowed_subjects(&self, action: &Action) -> Vec<Subject> {
        let mut subjects = vec![Subject {
            kind: "Group".to_owned(),
            api_group: "rbac.authorization.k8s.io".to_owned(),
            name: "system:masters".to_owned(),
            namespace: String::new(),
        }];
        let mut one = |binding: &Binding, binding_namespace: &str| {
            let allows = self
                .role_ref_rules(&binding.role_ref, binding_namespace)
                .is_some_and(|role| {
                    self.roles[role]
                        .rules
                        .iter()
                        .any(|r| reference_rule_allows(r, action))
                });
            if allows {
                subjects.extend(binding.subjects.iter().cloned());
            }
        };
        for b in &self.bindings {
            if b.kind == BindingKind::ClusterRoleBinding {
                one(b, "");
            }
        }
        if !action.namespace.is_empty() {
            for b in &self.bindings {
                if b.kind == BindingKind::RoleBinding && b.namespace == action.namespace {
                    one(b, &action.namespace);
                }
            }
        }
        subjects
    }
}

/// `appliesTo(user, bindingSubjects, namespace)`: the index of the first applying subject.
fn applies_to(user: &UserInfo, subjects: &[Subject], namespace: &str) -> Option<usize> {
    for (i, subject) in subjects.iter().enumerate() {
        let applies = match subject.kind.as_str() {
            "User" => user.name == subject.name,
            "Group" => user.groups.contains(&subject.name),
            "ServiceAccount" => {
                let sa_namespace = if subject.namespace.is_empty() {
                    namespace
                } else {
                    subject.namespace.as_str()
                };
                !sa_namespace.is_empty()
                    && matches_username(sa_namespace, &subject.name, &user.name)
            }
            _ => false,
        };
        if applies {
            return Some(i);
        }
    }
    None
}

/// `serviceaccount.MatchesUsername(namespace, name, username)`.
fn matches_username(namespace: &str, name: &str, username: &str) -> bool {
    let Some(rest) = username.strip_prefix("system:serviceaccount:") else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(namespace) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(':') else {
        return false;
    };
    rest == name
}

/// `RuleAllows(requestAttributes, rule)`.
fn reference_rule_allows(rule: &PolicyRule, action: &Action) -> bool {
    match &action.target {
        Target::Resource(r) => {
            let mut combined = r.resource.clone();
            if !r.subresource.is_empty() {
                combined = format!("{}/{}", r.resource, r.subresource);
            }
            verb_matches(rule, &action.verb)
                && api_group_matches(rule, &r.api_group)
                && resource_matches(rule, &combined, &r.subresource)
                && resource_name_matches(rule, &r.name)
        }
        Target::NonResource { path } => {
            verb_matches(rule, &action.verb) && non_resource_url_matches(rule, path)
        }
    }
}

fn verb_matches(rule: &PolicyRule, requested: &str) -> bool {
    for v in &rule.verbs {
        if v == "*" || v == requested {
            return true;
        }
    }
    false
}

fn api_group_matches(rule: &PolicyRule, requested: &str) -> bool {
    for g in &rule.api_groups {
        if g == "*" || g == requested {
            return true;
        }
    }
    false
}

fn resource_matches(rule: &PolicyRule, combined: &str, subresource: &str) -> bool {
    for r in &rule.resources {
        if r == "*" || r == combined {
            return true;
        }
        if subresource.is_empty() {
            continue;
        }
        if r.len() == subresource.len() + 2 && r.starts_with("*/") && r.ends_with(subresource) {
            return true;
        }
    }
    false
}

fn resource_name_matches(rule: &PolicyRule, requested: &str) -> bool {
    if rule.resource_names.is_empty() {
        return true;
    }
    for n in &rule.resource_names {
        if n == requested {
            return true;
        }
    }
    false
}

fn non_resource_url_matches(rule: &PolicyRule, requested: &str) -> bool {
    for u in &rule.non_resource_urls {
        if u == "*" || u == requested {
            return true;
        }
        if u.ends_with('*') && requested.starts_with(u.trim_end_matches('*')) {
            return true;
        }
    }
    false
}
