//! Workloads, network policies, resource limits and Secrets, reduced to the facts the audit
//! needs. Secret *values* are never read into the model: only names, types and keys.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{LabelSelector, ObjectRef};

/// An environment variable with a literal value, kept only for variables known to hold no
/// secret (the runner's `KUBERNETES_NAMESPACE`, `RUNNER_TAG_LIST`, ...). Other variables are
/// kept by name only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EnvVar {
    /// The name.
    pub name: String,
    /// The literal value, for allow-listed names; `None` otherwise or when it comes from a
    /// reference (`valueFrom`).
    pub value: Option<String>,
}

/// One container of a pod template.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Container {
    /// `name`.
    pub name: String,
    /// `image`.
    pub image: String,
    /// `securityContext.privileged`.
    pub privileged: Option<bool>,
    /// `securityContext.allowPrivilegeEscalation`.
    pub allow_privilege_escalation: Option<bool>,
    /// Whether `resources.limits` sets both `cpu` and `memory`.
    pub has_limits: bool,
    /// Environment variables.
    pub env: Vec<EnvVar>,
}

/// A Pod, or a workload controller's pod template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Workload {
    /// The object (kind Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob or
    /// ReplicationController).
    pub object: ObjectRef,
    /// `serviceAccountName`, or `default` when not set.
    pub service_account: String,
    /// `automountServiceAccountToken` of the pod spec.
    pub automount_token: Option<bool>,
    /// The pod's labels (the template's, for controllers).
    pub labels: BTreeMap<String, String>,
    /// Containers and init containers.
    pub containers: Vec<Container>,
    /// Whether any volume is a `hostPath`.
    pub host_path: bool,
    /// `hostNetwork`, `hostPID` or `hostIPC`.
    pub host_namespaces: bool,
    /// Secrets mounted as volumes (including projected sources).
    pub secret_volumes: Vec<String>,
    /// ConfigMaps mounted as volumes (including projected sources).
    pub config_map_volumes: Vec<String>,
}

impl Workload {
    /// The literal value of environment variable `name` in any container.
    pub fn env(&self, name: &str) -> Option<&str> {
        self.containers
            .iter()
            .flat_map(|c| &c.env)
            .find(|e| e.name == name)
            .and_then(|e| e.value.as_deref())
    }
}

/// A peer in a NetworkPolicy rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum NetworkPeer {
    /// Pods selected by namespace and pod selectors (absent = the policy's own namespace /
    /// all pods).
    Pods {
        /// `namespaceSelector`.
        namespace_selector: Option<LabelSelector>,
        /// `podSelector`.
        pod_selector: Option<LabelSelector>,
    },
    /// An `ipBlock`.
    IpBlock {
        /// `cidr`.
        cidr: String,
        /// `except`.
        except: Vec<String>,
    },
}

/// One ingress or egress rule. No peers means every peer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetworkRule {
    /// `from` / `to`; empty = all sources or destinations.
    pub peers: Vec<NetworkPeer>,
    /// Whether `ports` restricts the rule.
    pub ports_restricted: bool,
}

/// A NetworkPolicy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetworkPolicy {
    /// The object.
    pub object: ObjectRef,
    /// `podSelector`: which pods of its namespace it applies to.
    pub pod_selector: LabelSelector,
    /// Whether it governs ingress (`policyTypes`, defaulted as the API server does:
    /// Ingress always, Egress when egress rules are given).
    pub ingress_type: bool,
    /// Whether it governs egress.
    pub egress_type: bool,
    /// Allowed ingress.
    pub ingress: Vec<NetworkRule>,
    /// Allowed egress.
    pub egress: Vec<NetworkRule>,
}

/// A LimitRange, reduced to whether it gives containers default limits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LimitRange {
    /// The object.
    pub object: ObjectRef,
    /// Whether a `Container` limit sets a default (or max) for `cpu` and `memory`.
    pub container_limits: bool,
}

/// A ResourceQuota, reduced to its hard limits' names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResourceQuota {
    /// The object.
    pub object: ObjectRef,
    /// The resources it limits (`requests.cpu`, `limits.memory`, `pods`, ...).
    pub hard: Vec<String>,
}

/// A Secret, without its data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SecretMeta {
    /// The object.
    pub object: ObjectRef,
    /// `type`.
    pub secret_type: String,
    /// For `kubernetes.io/service-account-token` Secrets, the ServiceAccount it is a token of.
    pub service_account: Option<String>,
    /// The data keys (never the values).
    pub keys: Vec<String>,
    /// The keys of [`SecretMeta::keys`] whose value is empty (`""` or `null`) in both `data`
    /// and `stringData`. Emptiness is all that is kept of a value: a rule may tell whether a
    /// credential is set (the chart's `runner-registration-token`) without ever holding it.
    pub empty_keys: Vec<String>,
}

impl SecretMeta {
    /// Whether the Secret holds `key` with a non-empty value.
    pub fn has_value(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k == key) && !self.empty_keys.iter().any(|k| k == key)
    }
}

/// A ValidatingAdmissionPolicy, reduced to the pod restrictions runnerguard can prove from it:
/// only the exact CEL shapes `runnerguard generate` writes are recognised, anything else
/// proves nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AdmissionPolicy {
    /// The object.
    pub object: ObjectRef,
    /// `failurePolicy` is `Fail` (the default): the API server refuses when it cannot evaluate.
    pub fail_closed: bool,
    /// The namespaces `matchConstraints` selects by `kubernetes.io/metadata.name`; empty when
    /// it selects otherwise (then nothing is proven).
    pub namespaces: Vec<String>,
    /// Whether it matches pod creation (`""`/`pods`/`CREATE`).
    pub pods_create: bool,
    /// `object.spec.serviceAccountName in [...]`: pods run only as one of these.
    pub service_accounts: Option<Vec<String>>,
    /// `request.userInfo.username != 'USER' || object.spec.serviceAccountName == 'SA'`: pods
    /// that USER creates run only as SA.
    pub per_user: Vec<(String, String)>,
    /// Whether `matchConditions` narrow what it applies to (then it proves nothing).
    pub match_conditions: bool,
}

/// A ValidatingAdmissionPolicyBinding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AdmissionBinding {
    /// The object.
    pub object: ObjectRef,
    /// `policyName`.
    pub policy: String,
    /// Whether `validationActions` includes `Deny`.
    pub deny: bool,
    /// The namespaces its `matchResources` selects by `kubernetes.io/metadata.name`; `None`
    /// when it has no `matchResources` (the policy's own constraints apply).
    pub namespaces: Option<Vec<String>>,
    /// Whether `matchResources` narrows otherwise (object selector, resource rules,
    /// exclusions, or a namespace selector of another form), or `paramRef` is set.
    pub narrows: bool,
}
