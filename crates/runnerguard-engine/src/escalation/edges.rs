//! The edges as data: the permission patterns that turn one identity into another, as a table
//! ([`EDGES`]) of the requests that grant each one and what it reaches. `discover.rs` walks it.
//!
//! Every request is asked of the exact authorizer, so `resourceNames`, subresources and
//! wildcards are honoured (`pods/*` gives no edge: it is literal). The table's order is the
//! order of the edges found, and so of the shortest paths the search returns: do not sort it.

use super::Primitive;
use runnerguard_model::PolicyRule;

use crate::matcher::rule_allows_resource;
use crate::{ANY_NAME, Action, ResourceVerb};

const RBAC: &str = "rbac.authorization.k8s.io";
pub(super) const ADMISSION: &str = "admissionregistration.k8s.io";
const CERTIFICATES: &str = "certificates.k8s.io";

/// The name a [`Request`] asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Name {
    /// None: a request on the collection (`create`, `list`, `watch`).
    None,
    /// A name no `resourceNames` list holds: allowed only by rules that allow every name.
    Any,
    /// This name.
    Exact(&'static str),
    /// The name of each object the edge goes through (a Secret, a ServiceAccount, a role, a
    /// user), given when the request is asked.
    Each,
}

/// One request an edge rests on, in the scope the edge is looked for in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Request {
    verb: ResourceVerb,
    name: Name,
}

impl Request {
    /// `verb` on the collection of `resource` in `group` (empty for the core group).
    pub(super) const fn new(
        verb: &'static str,
        group: &'static str,
        resource: &'static str,
    ) -> Self {
        Self {
            verb: ResourceVerb::new(verb, group, resource),
            name: Name::None,
        }
    }

    /// The same request on a subresource.
    pub(super) const fn sub(self, subresource: &'static str) -> Self {
        Self {
            verb: self.verb.sub(subresource),
            ..self
        }
    }

    /// The same request naming an object: [`Name::Any`], [`Name::Exact`] or [`Name::Each`].
    pub(super) const fn name(self, name: Name) -> Self {
        Self { name, ..self }
    }

    /// The request in `namespace` (empty: cluster-wide); `object` is the name asked about for
    /// [`Name::Each`].
    pub(super) fn action(&self, namespace: &str, object: &str) -> Action {
        self.verb.action(namespace, self.object_name(object))
    }

    /// The name asked about, `object` for [`Name::Each`].
    fn object_name<'a>(&self, object: &'a str) -> &'a str {
        match self.name {
            Name::None => "",
            Name::Any => ANY_NAME,
            Name::Exact(name) => name,
            Name::Each => object,
        }
    }

    /// Whether `rule` allows the request about `object` ([`Request::action`]'s
    /// [`rule_allows`](crate::rule_allows), the namespace being the bindings' business),
    /// without building the action.
    pub(super) fn allowed_by(&self, rule: &PolicyRule, object: &str) -> bool {
        let v = &self.verb;
        rule_allows_resource(
            rule,
            v.verb,
            v.group,
            v.resource,
            v.subresource,
            self.object_name(object),
        )
    }
}

/// `create pods`.
pub(super) const CREATE_PODS: Request = Request::new("create", "", "pods");
/// `get secrets` of any name.
pub(super) const GET_ANY_SECRET: Request = Request::new("get", "", "secrets").name(Name::Any);
/// `create serviceaccounts/token` for any ServiceAccount.
pub(super) const ANY_TOKEN: Request = Request::new("create", "", "serviceaccounts")
    .sub("token")
    .name(Name::Any);

/// Where an edge is looked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scope {
    /// In each namespace where the subject has RoleBindings, and cluster-wide.
    Everywhere,
    /// Cluster-wide only (ClusterRoleBindings).
    Cluster,
    /// In namespaces only.
    Namespace,
}

impl Scope {
    pub(super) fn includes(self, ns: &str) -> bool {
        match self {
            Self::Everywhere => true,
            Self::Cluster => ns.is_empty(),
            Self::Namespace => !ns.is_empty(),
        }
    }
}

/// The identities an edge leads to.
#[derive(Clone, Copy, Debug)]
pub(super) enum Reaches {
    /// Every permission in scope: namespace-admin in a namespace, cluster-admin cluster-wide.
    ScopeAdmin,
    /// cluster-admin.
    ClusterAdmin,
    /// The kubelet API of the nodes.
    Node,
    /// Group `system:masters`.
    SystemMasters,
    /// Every ServiceAccount of the namespace (every one of every namespace cluster-wide).
    ServiceAccounts,
    /// The ServiceAccounts of the pods read in the namespace; every one when none were read.
    PodServiceAccounts,
    /// The ServiceAccounts of the token Secrets read in the namespace; every one when none
    /// were read.
    TokenSecretOwners,
    /// The ServiceAccount of each token Secret read, for which `request` ([`Name::Each`]: the
    /// Secret's name) is allowed.
    EachTokenSecret { request: Request },
    /// Each ServiceAccount of the namespace for which `request` ([`Name::Each`]: its name) is
    /// allowed.
    EachServiceAccount { request: Request },
    /// The rights of each Role of the namespace.
    RolesOfNamespace,
    /// The rights of each role named by the subject's own `bind` rules that `bind` (on
    /// `cluster_roles` or `roles`, [`Name::Each`]) allows.
    NamedRoles {
        cluster_roles: Request,
        roles: Request,
    },
    /// The users and groups `users` and `groups` ([`Name::Each`]) allow: every user and group
    /// the inputs name when any name is allowed, otherwise the names of the subject's own
    /// `impersonate` rules. A group also needs some user (or `service_accounts`) impersonated.
    UsersAndGroups {
        users: Request,
        groups: Request,
        service_accounts: Request,
    },
}

/// What finding an edge means for the rows below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Then {
    /// Look for the next edges too.
    Next,
    /// Skip the following rows of the same primitive: they are narrower forms of this one.
    SkipKind,
    /// Stop: the subject holds everything in scope, nothing else is worth listing.
    Stop,
}

/// One kind of edge: the requests that grant it and what it reaches.
#[derive(Clone, Copy, Debug)]
pub(super) struct Edge {
    pub(super) primitive: Primitive,
    pub(super) scope: Scope,
    /// Requests that must all be allowed, each a list of alternatives: the first one allowed
    /// is the evidence, so the order is the order of preference.
    pub(super) requires: &'static [&'static [Request]],
    pub(super) reaches: Reaches,
    pub(super) note: Option<&'static str>,
    pub(super) then: Then,
}

impl Edge {
    /// An edge with no note, after which the next rows are looked for too ([`Then::Next`]).
    #[expect(
        clippy::large_types_passed_by_value,
        reason = "called only to build the static table, at compile time"
    )]
    const fn new(
        primitive: Primitive,
        scope: Scope,
        requires: &'static [&'static [Request]],
        reaches: Reaches,
    ) -> Self {
        Self {
            primitive,
            scope,
            requires,
            reaches,
            note: None,
            then: Then::Next,
        }
    }

    /// The same edge with a note on each step it gives.
    const fn note(self, note: &'static str) -> Self {
        Self {
            note: Some(note),
            ..self
        }
    }

    /// The same edge with what finding it means for the rows below it.
    const fn then(self, then: Then) -> Self {
        Self { then, ..self }
    }
}

/// The workload controllers whose pod template runs as any ServiceAccount: `create` (no name)
/// or `update`/`patch` (any name), per resource in this order.
const fn workloads() -> [Request; 21] {
    const RESOURCES: [(&str, &str); 7] = [
        ("apps", "deployments"),
        ("apps", "replicasets"),
        ("apps", "statefulsets"),
        ("apps", "daemonsets"),
        ("batch", "jobs"),
        ("batch", "cronjobs"),
        ("", "replicationcontrollers"),
    ];
    let mut out = [CREATE_PODS; 21];
    let mut i = 0;
    while i < RESOURCES.len() {
        let (group, resource) = RESOURCES[i];
        out[3 * i] = Request::new("create", group, resource);
        out[3 * i + 1] = Request::new("update", group, resource).name(Name::Any);
        out[3 * i + 2] = Request::new("patch", group, resource).name(Name::Any);
        i += 1;
    }
    out
}

const WORKLOADS: [Request; 21] = workloads();

/// The edges, in the order they are looked for (knowledge/k8s-rbac.md, "What turns one
/// identity into another"; sources: PaloAltoNetworks/rbac-police `lib/*.rego`, DataDog/KubeHound
/// `pkg/kubehound/graph/edge/*.go`). The kubernetes/kubernetes source each edge's semantics
/// come from is named on its row.
pub(super) static EDGES: &[Edge] = &[
    // `*` on `*` (evaluation_helpers.go: `VerbMatches`, `APIGroupMatches`, `ResourceMatches`).
    Edge::new(
        Primitive::Everything,
        Scope::Everywhere,
        &[&[Request::new("*", "*", "*")]],
        Reaches::ScopeAdmin,
    )
    .then(Then::Stop),
    // A pod names its ServiceAccount; admission only checks that it exists
    // (plugin/pkg/admission/serviceaccount/admission.go).
    Edge::new(
        Primitive::CreatePods,
        Scope::Everywhere,
        &[&[CREATE_PODS]],
        Reaches::ServiceAccounts,
    ),
    // The controllers create the template's pods with their own credentials
    // (pkg/controller/{deployment,replicaset,statefulset,daemon,job,cronjob,replication}).
    Edge::new(
        Primitive::Workloads,
        Scope::Everywhere,
        &[&WORKLOADS],
        Reaches::ServiceAccounts,
    ),
    // pkg/registry/core/pod/rest/subresources.go (`ExecREST`, `AttachREST`: `create` on the
    // subresource), pkg/registry/core/pod/storage/storage.go (`EphemeralContainersREST`).
    Edge::new(
        Primitive::ExecPods,
        Scope::Everywhere,
        &[&[
            Request::new("create", "", "pods")
                .sub("exec")
                .name(Name::Any),
            Request::new("create", "", "pods")
                .sub("attach")
                .name(Name::Any),
            Request::new("update", "", "pods").name(Name::Any),
            Request::new("patch", "", "pods").name(Name::Any),
            Request::new("patch", "", "pods")
                .sub("ephemeralcontainers")
                .name(Name::Any),
            Request::new("update", "", "pods")
                .sub("ephemeralcontainers")
                .name(Name::Any),
        ]],
        Reaches::PodServiceAccounts,
    ),
    // Legacy token Secrets (pkg/controller/serviceaccount/tokens_controller.go): `list`/`watch`
    // (no name) or `get` of any name reads every Secret ...
    Edge::new(
        Primitive::ReadSecrets,
        Scope::Everywhere,
        &[&[
            Request::new("list", "", "secrets"),
            Request::new("watch", "", "secrets"),
            GET_ANY_SECRET,
        ]],
        Reaches::TokenSecretOwners,
    )
    .then(Then::SkipKind),
    // ... otherwise `get` reads the token Secrets it names.
    Edge::new(
        Primitive::ReadSecrets,
        Scope::Everywhere,
        &[],
        Reaches::EachTokenSecret {
            request: Request::new("get", "", "secrets").name(Name::Each),
        },
    ),
    // The token controller fills in a Secret of type `kubernetes.io/service-account-token`
    // for the ServiceAccount it names (tokens_controller.go).
    Edge::new(
        Primitive::WriteSecrets,
        Scope::Everywhere,
        &[&[
            Request::new("create", "", "secrets"),
            Request::new("update", "", "secrets").name(Name::Any),
        ]],
        Reaches::ServiceAccounts,
    ),
    // pkg/registry/core/serviceaccount/storage/token.go (`TokenREST.Create`): any name ...
    Edge::new(
        Primitive::TokenRequest,
        Scope::Everywhere,
        &[&[ANY_TOKEN]],
        Reaches::ServiceAccounts,
    )
    .then(Then::SkipKind),
    // ... or the named ones.
    Edge::new(
        Primitive::TokenRequest,
        Scope::Everywhere,
        &[],
        Reaches::EachServiceAccount {
            request: Request::new("create", "", "serviceaccounts")
                .sub("token")
                .name(Name::Each),
        },
    ),
    // `bind` on a role plus `create` on bindings in scope: the role's rights there
    // (pkg/registry/rbac/escalation_check.go `BindingAuthorized`, asked in the binding's
    // namespace). Granted cluster-wide, `bind` plus `create rolebindings` binds cluster-admin in
    // every namespace with a RoleBinding: every ServiceAccount.
    Edge::new(
        Primitive::Bind,
        Scope::Cluster,
        &[&[BIND_ANY_CLUSTER_ROLE], &[CREATE_ROLE_BINDINGS]],
        Reaches::ServiceAccounts,
    )
    .note("binds ClusterRole cluster-admin in every namespace"),
    // `bind` on any Role of the namespace: each of them.
    Edge::new(
        Primitive::Bind,
        Scope::Namespace,
        &[
            &[Request::new("bind", RBAC, "roles").name(Name::Any)],
            &[CREATE_ROLE_BINDINGS],
        ],
        Reaches::RolesOfNamespace,
    ),
    // Any ClusterRole: cluster-admin exists in every cluster.
    Edge::new(
        Primitive::Bind,
        Scope::Cluster,
        &[&[BIND_ANY_CLUSTER_ROLE], &[CREATE_CLUSTER_ROLE_BINDINGS]],
        Reaches::ScopeAdmin,
    )
    .note("binds ClusterRole cluster-admin")
    .then(Then::SkipKind),
    Edge::new(
        Primitive::Bind,
        Scope::Namespace,
        &[&[BIND_ANY_CLUSTER_ROLE], &[CREATE_ROLE_BINDINGS]],
        Reaches::ScopeAdmin,
    )
    .note("binds ClusterRole cluster-admin")
    .then(Then::SkipKind),
    // Otherwise only the roles named in the subject's own `bind` rules.
    Edge::new(
        Primitive::Bind,
        Scope::Cluster,
        &[&[CREATE_CLUSTER_ROLE_BINDINGS]],
        NAMED_ROLES,
    ),
    Edge::new(
        Primitive::Bind,
        Scope::Namespace,
        &[&[CREATE_ROLE_BINDINGS]],
        NAMED_ROLES,
    ),
    // `escalate` plus writing roles: any permission in scope (escalation_check.go
    // `EscalationAllowed`, `RoleEscalationAuthorized`).
    Edge::new(
        Primitive::Escalate,
        Scope::Cluster,
        &[
            &[Request::new("escalate", RBAC, "clusterroles").name(Name::Any)],
            &[
                Request::new("create", RBAC, "clusterroles"),
                Request::new("update", RBAC, "clusterroles").name(Name::Any),
            ],
        ],
        Reaches::ScopeAdmin,
    )
    .note(ESCALATE_NOTE),
    Edge::new(
        Primitive::Escalate,
        Scope::Namespace,
        &[
            &[Request::new("escalate", RBAC, "roles").name(Name::Any)],
            &[
                Request::new("create", RBAC, "roles"),
                Request::new("update", RBAC, "roles").name(Name::Any),
            ],
        ],
        Reaches::ScopeAdmin,
    )
    .note(ESCALATE_NOTE),
    // Users and groups (staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation.go).
    Edge::new(
        Primitive::Impersonate,
        Scope::Cluster,
        &[],
        Reaches::UsersAndGroups {
            users: Request::new("impersonate", "", "users").name(Name::Each),
            groups: Request::new("impersonate", "", "groups").name(Name::Each),
            service_accounts: IMPERSONATE_ANY_SERVICE_ACCOUNT,
        },
    ),
    // ServiceAccounts: any name ...
    Edge::new(
        Primitive::Impersonate,
        Scope::Everywhere,
        &[&[IMPERSONATE_ANY_SERVICE_ACCOUNT]],
        Reaches::ServiceAccounts,
    )
    .then(Then::SkipKind),
    // ... or the named ones.
    Edge::new(
        Primitive::Impersonate,
        Scope::Everywhere,
        &[],
        Reaches::EachServiceAccount {
            request: Request::new("impersonate", "", "serviceaccounts").name(Name::Each),
        },
    ),
    // The kubelet authorizes exec, attach and port-forward as `nodes/proxy`
    // (pkg/kubelet/server/auth.go `GetRequestAttributes`).
    Edge::new(
        Primitive::NodeProxy,
        Scope::Cluster,
        &[&[
            Request::new("get", "", "nodes")
                .sub("proxy")
                .name(Name::Any),
            Request::new("create", "", "nodes")
                .sub("proxy")
                .name(Name::Any),
        ]],
        Reaches::Node,
    ),
    // Webhooks and mutating policies see and rewrite what is admitted
    // (staging/src/k8s.io/apiserver/pkg/admission/plugin/webhook, .../plugin/policy/mutating).
    Edge::new(
        Primitive::AdmissionControl,
        Scope::Cluster,
        &[&[
            Request::new("create", ADMISSION, "mutatingwebhookconfigurations").name(Name::Any),
            Request::new("update", ADMISSION, "mutatingwebhookconfigurations").name(Name::Any),
            Request::new("patch", ADMISSION, "mutatingwebhookconfigurations").name(Name::Any),
            Request::new("create", ADMISSION, "validatingwebhookconfigurations").name(Name::Any),
            Request::new("update", ADMISSION, "validatingwebhookconfigurations").name(Name::Any),
            Request::new("patch", ADMISSION, "validatingwebhookconfigurations").name(Name::Any),
            Request::new("create", ADMISSION, "mutatingadmissionpolicies").name(Name::Any),
            Request::new("update", ADMISSION, "mutatingadmissionpolicies").name(Name::Any),
            Request::new("create", ADMISSION, "mutatingadmissionpolicybindings").name(Name::Any),
            Request::new("update", ADMISSION, "mutatingadmissionpolicybindings").name(Name::Any),
        ]],
        Reaches::ClusterAdmin,
    )
    .note(WEBHOOK_NOTE),
    // Create, approve (pkg/registry/certificates/certificates/strategy.go, the `approval`
    // subresource) and be allowed the signer: its name, or `<domain>/*`
    // (plugin/pkg/admission/certificates/util.go `IsAuthorizedForSignerName`).
    Edge::new(
        Primitive::CsrApproval,
        Scope::Cluster,
        &[
            &[Request::new(
                "create",
                CERTIFICATES,
                "certificatesigningrequests",
            )],
            &[
                Request::new("update", CERTIFICATES, "certificatesigningrequests")
                    .sub("approval")
                    .name(Name::Any),
            ],
            &[
                Request::new("approve", CERTIFICATES, "signers")
                    .name(Name::Exact("kubernetes.io/kube-apiserver-client")),
                Request::new("approve", CERTIFICATES, "signers")
                    .name(Name::Exact("kubernetes.io/*")),
            ],
        ],
        Reaches::SystemMasters,
    )
    .note(CSR_NOTE),
];

/// `bind` on any ClusterRole.
const BIND_ANY_CLUSTER_ROLE: Request = Request::new("bind", RBAC, "clusterroles").name(Name::Any);
/// `create rolebindings`.
const CREATE_ROLE_BINDINGS: Request = Request::new("create", RBAC, "rolebindings");
/// `create clusterrolebindings`.
const CREATE_CLUSTER_ROLE_BINDINGS: Request = Request::new("create", RBAC, "clusterrolebindings");

/// The roles named by the subject's own `bind` rules.
const NAMED_ROLES: Reaches = Reaches::NamedRoles {
    cluster_roles: Request::new("bind", RBAC, "clusterroles").name(Name::Each),
    roles: Request::new("bind", RBAC, "roles").name(Name::Each),
};

const ESCALATE_NOTE: &str = "a role written this way grants through any binding to it (an existing one, or a new one with `bind`)";

const WEBHOOK_NOTE: &str = "a mutating webhook sees every object admitted, Secrets included, and can rewrite pods to run as anything";

const CSR_NOTE: &str = "a client certificate can name any user and group, system:masters included";

const IMPERSONATE_ANY_SERVICE_ACCOUNT: Request =
    Request::new("impersonate", "", "serviceaccounts").name(Name::Any);

/// The requirements of [`EDGES`] as numbers: each distinct request asked about no object, and
/// for each edge, each requirement's alternatives as indexes of those requests. A role's
/// answers to all of them are then worked out once ([`RoleAnswers`]).
pub(super) struct Requirements {
    /// Each distinct request of the edges' requirements.
    pub(super) requests: Vec<Request>,
    /// For each edge (in [`EDGES`]' order), each requirement's alternatives.
    pub(super) of_edge: Vec<Vec<Vec<usize>>>,
}

/// [`EDGES`]' requirements, numbered once.
pub(super) static REQUIREMENTS: std::sync::LazyLock<Requirements> =
    std::sync::LazyLock::new(|| {
        let mut requests: Vec<Request> = Vec::new();
        let of_edge = EDGES
            .iter()
            .map(|edge| {
                edge.requires
                    .iter()
                    .map(|alternatives| {
                        alternatives
                            .iter()
                            .map(|r| {
                                requests
                                    .iter()
                                    .position(|known| known == r)
                                    .unwrap_or_else(|| {
                                        requests.push(*r);
                                        requests.len() - 1
                                    })
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        Requirements { requests, of_edge }
    });

/// For each role of a policy, the first of its rules that allows each of [`REQUIREMENTS`]'
/// requests, worked out when the role is first asked about: a role bound in many places
/// (`edit`, `admin`, a team's shared role) was asked the same questions for each subject of
/// each namespace (`paths --all-service-accounts` on 10,000 namespaces; issue #13).
pub(super) struct RoleAnswers {
    /// By the role's index; per request, the rule's index, or [`RoleAnswers::NONE`] (two
    /// bytes each: the tables of 20,000 roles are kept for the whole audit).
    answers: Vec<std::sync::OnceLock<Box<[u16]>>>,
}

impl RoleAnswers {
    /// No rule of the role allows the request.
    const NONE: u16 = u16::MAX;

    /// Room for the answers of `roles` roles.
    pub(super) fn new(roles: usize) -> Self {
        Self {
            answers: std::iter::repeat_with(std::sync::OnceLock::new)
                .take(roles)
                .collect(),
        }
    }

    /// The index of the first rule of `rules` (those of role `role`) that allows request
    /// `request` of [`REQUIREMENTS`], as [`Request::allowed_by`] answers about no object.
    pub(super) fn first_rule(
        &self,
        role: usize,
        rules: &[PolicyRule],
        request: usize,
    ) -> Option<usize> {
        let requests = &REQUIREMENTS.requests;
        let first = |r: &Request| rules.iter().position(|rule| r.allowed_by(rule, ""));
        let Some(slot) = self.answers.get(role) else {
            // Not a role of this policy: asked directly.
            return first(&requests[request]);
        };
        let answers = slot.get_or_init(|| {
            requests
                .iter()
                .map(|r| first(r).map_or(Self::NONE, |i| u16::try_from(i).unwrap_or(Self::NONE)))
                .collect()
        });
        match answers[request] {
            // A rule past u16::MAX - 1 (a role of 65,535 rules) is looked for again.
            Self::NONE if rules.len() >= Self::NONE as usize => first(&requests[request]),
            Self::NONE => None,
            i => Some(i as usize),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule_allows;

    /// Asking in parts ([`Request::allowed_by`]) answers as [`rule_allows`] of the action the
    /// request builds, for every request of the table and rules that tell them apart.
    #[test]
    fn requests_asked_in_parts_answer_as_their_actions() {
        let named = |mut rule: PolicyRule, names: &[&str]| {
            rule.resource_names = names.iter().map(|&n| n.to_owned()).collect();
            rule
        };
        let mut rules = vec![
            PolicyRule::resource(&["*"], &["*"], &["*"]),
            PolicyRule::resource(&[""], &["pods", "pods/exec"], &["create", "get"]),
            PolicyRule::resource(&[""], &["serviceaccounts/token"], &["create"]),
            PolicyRule::resource(&["*"], &["*/token", "*/approval"], &["*"]),
            PolicyRule::resource(&[RBAC], &["clusterroles", "roles"], &["bind", "escalate"]),
            PolicyRule::resource(&[ADMISSION], &["*"], &["create", "update", "patch"]),
            PolicyRule::resource(&[CERTIFICATES], &["signers"], &["approve", "sign"]),
            PolicyRule::resource(&["apps"], &["deployments"], &["create"]),
            PolicyRule::resource(&[""], &["pods/*"], &["*"]),
        ];
        let rules_without_names = rules.len();
        for i in 0..rules_without_names {
            rules.push(named(rules[i].clone(), &["a", ANY_NAME, ""]));
        }
        let mut asked = 0;
        for request in EDGES
            .iter()
            .flat_map(|e| {
                e.requires
                    .iter()
                    .flat_map(|alternatives| alternatives.iter())
            })
            .chain([&CREATE_PODS, &GET_ANY_SECRET, &ANY_TOKEN])
        {
            for rule in &rules {
                for object in ["", "a", "b"] {
                    assert_eq!(
                        request.allowed_by(rule, object),
                        rule_allows(rule, &request.action("ns", object)),
                        "{request:?} {object:?} {rule:?}"
                    );
                    asked += 1;
                }
            }
        }
        assert!(asked > 1000, "{asked}");
    }

    /// A role's numbered answers are the first rule allowing each requirement, for roles
    /// asked in any order, and every requirement of every edge has its number.
    #[test]
    fn role_answers_are_the_first_allowing_rule() {
        let roles: Vec<Vec<PolicyRule>> = vec![
            vec![PolicyRule::resource(&["*"], &["*"], &["*"])],
            vec![
                PolicyRule::resource(&["apps"], &["deployments"], &["get"]),
                PolicyRule::resource(&[""], &["pods"], &["create"]),
                PolicyRule::resource(&["", "apps"], &["*"], &["create"]),
            ],
            vec![
                PolicyRule::resource(&[""], &["serviceaccounts/token"], &["create"]),
                PolicyRule::resource(&[RBAC], &["clusterroles"], &["bind", "escalate"]),
            ],
            Vec::new(),
        ];
        let answers = RoleAnswers::new(roles.len());
        let requests = &REQUIREMENTS.requests;
        let mut found = 0;
        for role in [2, 0, 3, 1, 2] {
            for (i, request) in requests.iter().enumerate() {
                let first = roles[role]
                    .iter()
                    .position(|rule| request.allowed_by(rule, ""));
                assert_eq!(
                    answers.first_rule(role, &roles[role], i),
                    first,
                    "{request:?}"
                );
                found += usize::from(first.is_some_and(|r| r > 0));
            }
        }
        assert!(found > 2, "some answers are past the first rule: {found}");
        for (edge, numbered) in EDGES.iter().zip(&REQUIREMENTS.of_edge) {
            let named: Vec<Vec<Request>> = numbered
                .iter()
                .map(|alternatives| alternatives.iter().map(|&i| requests[i]).collect())
                .collect();
            let written: Vec<Vec<Request>> = edge.requires.iter().map(|a| a.to_vec()).collect();
            assert_eq!(named, written, "{edge:?}");
        }
        assert_eq!(REQUIREMENTS.of_edge.len(), EDGES.len());
        // A first allowing rule past what a table entry holds is still found.
        let mut many = vec![PolicyRule::resource(&["apps"], &["deployments"], &["get"]); 70_000];
        many.push(PolicyRule::resource(&["*"], &["*"], &["*"]));
        let answers = RoleAnswers::new(1);
        assert_eq!(answers.first_rule(0, &many, 0), Some(70_000));
    }

    /// A requirement is asked with no object: naming "each object" there would ask about the
    /// empty name, which only collection rules allow.
    #[test]
    fn requirements_name_no_object() {
        for edge in EDGES {
            for request in edge
                .requires
                .iter()
                .flat_map(|alternatives| alternatives.iter())
            {
                assert_ne!(request.name, Name::Each, "{edge:?}");
            }
        }
    }

    /// `SkipKind` skips narrower rows of the same primitive: one must follow, or it is a typo
    /// for `Next`.
    #[test]
    fn skip_kind_rows_have_a_narrower_row_after_them() {
        for (i, edge) in EDGES.iter().enumerate() {
            if edge.then == Then::SkipKind {
                assert!(
                    EDGES[i + 1..].iter().any(|e| e.primitive == edge.primitive),
                    "{edge:?}"
                );
            }
        }
    }

    #[test]
    fn requests_name_what_they_ask_about() {
        let token = Request::new("create", "", "serviceaccounts")
            .sub("token")
            .name(Name::Each);
        let action = token.action("ci", "runner");
        assert_eq!(
            action,
            Action::resource("create", "ci", "", "serviceaccounts", "token", "runner")
        );
        assert_eq!(
            GET_ANY_SECRET.action("ci", "ignored"),
            Action::resource("get", "ci", "", "secrets", "", ANY_NAME)
        );
        assert_eq!(
            CREATE_PODS.action("", "ignored"),
            Action::resource("create", "", "", "pods", "", "")
        );
    }
}
