//! What the RB rules share: which bindings count (those from the inputs, never Kubernetes'
//! own defaults), subjects as the authorizer resolves them, the requests a rule asks the
//! engine about ([`Probe`]), findings grouped by subject and primitive ([`Groups`]), the
//! ServiceAccounts a subject can become and which of them is strongest ([`Accounts`]),
//! and the wording of scopes, bindings and evidence.
//!
//! Every RBAC question goes to the engine: [`rule_allows`](runnerguard_engine::rule_allows)
//! for one rule and one request, `Policy::authorize` for an identity, `Policy::rules_for` for
//! what it holds. Names from `resourceNames` are only used to ask the matcher about those
//! names.
//!
//! These helpers are private to the family: its rules, child modules, see them; the RG
//! rules do not.

// What the rules share, by topic; scopes, bindings and subjects are in this file.
mod accounts;
mod groups;
mod probe;

// The rules, one file each (its id on its first line).
mod admission_webhook_write;
mod broad_group_grant;
mod cluster_admin_binding;
mod csr_approval;
mod dangling_role_ref;
mod escalation_verb;
mod node_proxy;
mod pod_create_assumes_service_accounts;
mod secrets_readable;
mod token_request;
mod wildcard_rule;

pub(super) use admission_webhook_write::AdmissionWebhookWrite;
pub(super) use broad_group_grant::BroadGroupGrant;
pub(super) use cluster_admin_binding::ClusterAdminBinding;
pub(super) use csr_approval::CsrApproval;
pub(super) use dangling_role_ref::DanglingRoleRef;
pub(super) use escalation_verb::EscalationVerb;
pub(super) use node_proxy::NodeProxy;
pub(super) use pod_create_assumes_service_accounts::PodCreateAssumesServiceAccounts;
pub(super) use secrets_readable::SecretsReadable;
pub(super) use token_request::TokenRequest;
pub(super) use wildcard_rule::WildcardRule;

use std::fmt;

use runnerguard_engine::{BindingId, Policy, UserInfo};
use runnerguard_model::{
    Binding, BindingKind, PolicyRule, Subject, SubjectKind, service_account_user,
};

pub(crate) use self::accounts::Accounts;
use self::accounts::{strongest_evidence, strongest_text};
use self::groups::{Group, Groups, evidence, phrase, targets, through};
use self::probe::{Hit, Probe, hits_by_scope, input_hits};
use crate::Context;

/// Where a binding grants its role: everywhere (a ClusterRoleBinding) or in one namespace.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Scope {
    /// A ClusterRoleBinding: every namespace, and cluster-scoped resources.
    Cluster,
    /// A RoleBinding: its namespace.
    Namespace(String),
}

impl Scope {
    /// The scope of `binding`.
    fn of(binding: &Binding) -> Self {
        match binding.kind {
            BindingKind::ClusterRoleBinding => Self::Cluster,
            BindingKind::RoleBinding => Self::Namespace(binding.namespace.clone()),
        }
    }

    /// The namespace a request in this scope carries: empty cluster-wide.
    fn namespace(&self) -> &str {
        match self {
            Self::Cluster => "",
            Self::Namespace(ns) => ns,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cluster => f.write_str("cluster-wide"),
            Self::Namespace(ns) => write!(f, "in namespace `{ns}`"),
        }
    }
}

/// The bindings read from the inputs: Kubernetes' default bindings are in every cluster and
/// are never reported (a user binding to a default *role* is).
fn input_bindings<'p>(cx: &Context<'p>) -> impl Iterator<Item = (BindingId, &'p Binding)> + 'p {
    let policy: &'p Policy = cx.policy;
    policy
        .bindings_with_ids()
        .filter(|(_, b)| !b.origin.is_builtin())
}

/// A binding's subject as the authorizer resolves it: a ServiceAccount's empty namespace
/// taken from the RoleBinding; the ignored `apiGroup`, and a User's or Group's namespace,
/// dropped. `None` for subjects that match nobody (unknown kinds, a ServiceAccount without
/// namespace in a ClusterRoleBinding).
fn resolved_subject(subject: &Subject, binding: &Binding) -> Option<Subject> {
    let kind = SubjectKind::parse(&subject.kind)?;
    if kind == SubjectKind::ServiceAccount {
        let (ns, name) = resolved_service_account(subject, binding)?;
        return Some(Subject::service_account(ns, name));
    }
    Some(Subject::new(kind.as_str(), &subject.name))
}

/// The namespace and name of a ServiceAccount subject as [`resolved_subject`] resolves it,
/// borrowed; `None` for other subjects and for those that match nobody.
fn resolved_service_account<'b>(
    subject: &'b Subject,
    binding: &'b Binding,
) -> Option<(&'b str, &'b str)> {
    if SubjectKind::parse(&subject.kind)? != SubjectKind::ServiceAccount {
        return None;
    }
    let ns = match (subject.namespace.as_str(), binding.kind) {
        ("", BindingKind::RoleBinding) => binding.namespace.as_str(),
        ("", BindingKind::ClusterRoleBinding) => return None,
        (ns, _) => ns,
    };
    Some((ns, &subject.name))
}

/// The identity the API server builds for a resolved subject: a ServiceAccount's user
/// with its groups; a user with `system:authenticated`; a member of a group (and of
/// `system:authenticated`, unless the group is `system:unauthenticated`).
fn identity(subject: &Subject) -> Option<UserInfo> {
    match SubjectKind::parse(&subject.kind)? {
        SubjectKind::ServiceAccount => Some(UserInfo::impersonated(
            &service_account_user(&subject.namespace, &subject.name),
            &[],
        )),
        SubjectKind::User => Some(UserInfo::impersonated(&subject.name, &[])),
        SubjectKind::Group => {
            let mut groups = vec![subject.name.clone()];
            if subject.name != "system:unauthenticated" && subject.name != "system:authenticated" {
                groups.push("system:authenticated".to_owned());
            }
            Some(UserInfo::new("", groups))
        }
    }
}

/// Who a group stands for when authentication gives it to everyone of a kind:
/// `system:authenticated`, `system:unauthenticated`, `system:serviceaccounts` and
/// `system:serviceaccounts:<namespace>`. `None` for any other group.
fn everyone_group(name: &str) -> Option<String> {
    match name {
        "system:authenticated" => {
            Some("every authenticated user: every person and every ServiceAccount token".to_owned())
        }
        "system:unauthenticated" => {
            Some("anonymous requests: anyone who can reach the API server".to_owned())
        }
        "system:serviceaccounts" => {
            Some("every ServiceAccount of every namespace: any pod's token".to_owned())
        }
        _ => name
            .strip_prefix("system:serviceaccounts:")
            .filter(|ns| !ns.is_empty())
            .map(|ns| format!("every ServiceAccount of namespace `{ns}`: any pod's token there")),
    }
}

/// The `*`/`*`/`*` rule: what `cluster-admin` holds.
fn star_rule() -> PolicyRule {
    PolicyRule::resource(&["*"], &["*"], &["*"])
}
