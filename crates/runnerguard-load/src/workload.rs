//! Pods, workload controllers, NetworkPolicies, LimitRanges, ResourceQuotas and Secrets:
//! from their `k8s-openapi` types to the facts the audit needs.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector as K8sSelector, ObjectMeta};
use runnerguard_model::{
    Container, EnvVar, LabelSelector, LabelSelectorRequirement, LimitRange, NetworkPeer,
    NetworkPolicy, NetworkRule, ObjectRef, ResourceQuota, SecretMeta, Workload,
};
use serde::Deserialize;
use serde::de::IgnoredAny;

/// Environment variables whose literal values are configuration, not secrets: the ones the
/// gitlab-runner chart sets on the manager. Every other variable is kept by name only, so no
/// token or password set as a literal can reach a report.
const PLAIN_ENV: &[&str] = &[
    "CI_SERVER_URL",
    "KUBERNETES_ALLOW_PRIVILEGE_ESCALATION",
    "KUBERNETES_BEARER_TOKEN_OVERWRITE_ALLOWED",
    "KUBERNETES_IMAGE",
    "KUBERNETES_NAMESPACE",
    "KUBERNETES_NAMESPACE_OVERWRITE_ALLOWED",
    "KUBERNETES_NODE_SELECTOR_OVERWRITE_ALLOWED",
    "KUBERNETES_NODE_TOLERATIONS_OVERWRITE_ALLOWED",
    "KUBERNETES_POD_ANNOTATIONS_OVERWRITE_ALLOWED",
    "KUBERNETES_POD_LABELS_OVERWRITE_ALLOWED",
    "KUBERNETES_PRIVILEGED",
    "KUBERNETES_SERVICE_ACCOUNT",
    "KUBERNETES_SERVICE_ACCOUNT_OVERWRITE_ALLOWED",
    "REGISTER_LOCKED",
    "RUNNER_EXECUTOR",
    "RUNNER_NAME",
    "RUNNER_TAG_LIST",
];

/// Converts `k8s-openapi`'s selector.
pub(crate) fn selector(s: K8sSelector) -> LabelSelector {
    LabelSelector {
        match_labels: s.match_labels.unwrap_or_default(),
        match_expressions: s
            .match_expressions
            .unwrap_or_default()
            .into_iter()
            .map(|e| LabelSelectorRequirement {
                key: e.key,
                operator: e.operator,
                values: e.values.unwrap_or_default(),
            })
            .collect(),
    }
}

/// The facts of a pod spec, for a Pod or a controller's template.
pub(crate) fn workload(
    object: ObjectRef,
    labels: BTreeMap<String, String>,
    spec: Option<core::PodSpec>,
) -> Workload {
    let spec = spec.unwrap_or_default();
    let mut secret_volumes = Vec::new();
    let mut config_map_volumes = Vec::new();
    let mut host_path = false;
    for v in spec.volumes.iter().flatten() {
        host_path |= v.host_path.is_some();
        if let Some(s) = v.secret.as_ref().and_then(|s| s.secret_name.clone()) {
            secret_volumes.push(s);
        }
        if let Some(c) = &v.config_map {
            config_map_volumes.push(c.name.clone());
        }
        for source in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
            if let Some(s) = &source.secret {
                secret_volumes.push(s.name.clone());
            }
            if let Some(c) = &source.config_map {
                config_map_volumes.push(c.name.clone());
            }
        }
    }
    let containers = spec
        .init_containers
        .into_iter()
        .flatten()
        .chain(spec.containers)
        .map(container)
        .collect();
    Workload {
        object,
        service_account: spec
            .service_account_name
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".to_owned()),
        automount_token: spec.automount_service_account_token,
        labels,
        containers,
        host_path,
        host_namespaces: spec.host_network == Some(true)
            || spec.host_pid == Some(true)
            || spec.host_ipc == Some(true),
        secret_volumes,
        config_map_volumes,
    }
}

fn container(c: core::Container) -> Container {
    let limits = c.resources.and_then(|r| r.limits).unwrap_or_default();
    let sc = c.security_context.unwrap_or_default();
    Container {
        name: c.name,
        image: c.image.unwrap_or_default(),
        privileged: sc.privileged,
        allow_privilege_escalation: sc.allow_privilege_escalation,
        has_limits: limits.contains_key("cpu") && limits.contains_key("memory"),
        env: c
            .env
            .unwrap_or_default()
            .into_iter()
            .map(|e| EnvVar {
                value: if PLAIN_ENV.contains(&e.name.as_str()) {
                    e.value
                } else {
                    None
                },
                name: e.name,
            })
            .collect(),
    }
}

/// A NetworkPolicy; `policyTypes` defaulted as the API server defaults it
/// (pkg/apis/networking/v1 defaults: Ingress always, Egress when egress rules exist).
pub(crate) fn network_policy(object: ObjectRef, np: net::NetworkPolicy) -> NetworkPolicy {
    let spec = np.spec.unwrap_or_default();
    let (ingress_type, egress_type) = match &spec.policy_types {
        Some(types) if !types.is_empty() => (
            types.iter().any(|t| t == "Ingress"),
            types.iter().any(|t| t == "Egress"),
        ),
        _ => (true, spec.egress.is_some()),
    };
    let ingress = spec.ingress.into_iter().flatten();
    let egress = spec.egress.into_iter().flatten();
    NetworkPolicy {
        object,
        pod_selector: spec.pod_selector.map(selector).unwrap_or_default(),
        ingress_type,
        egress_type,
        ingress: ingress.map(|r| network_rule(r.ports, r.from)).collect(),
        egress: egress.map(|r| network_rule(r.ports, r.to)).collect(),
    }
}

/// An ingress or egress rule: whether it names ports, and the peers it allows.
fn network_rule(
    ports: Option<Vec<net::NetworkPolicyPort>>,
    peers: Option<Vec<net::NetworkPolicyPeer>>,
) -> NetworkRule {
    NetworkRule {
        ports_restricted: ports.is_some_and(|p| !p.is_empty()),
        peers: peers
            .unwrap_or_default()
            .into_iter()
            .map(|p| match p.ip_block {
                Some(b) => NetworkPeer::IpBlock {
                    cidr: b.cidr,
                    except: b.except.unwrap_or_default(),
                },
                None => NetworkPeer::Pods {
                    namespace_selector: p.namespace_selector.map(selector),
                    pod_selector: p.pod_selector.map(selector),
                },
            })
            .collect(),
    }
}

/// A LimitRange: does it give containers cpu and memory limits?
pub(crate) fn limit_range(object: ObjectRef, lr: core::LimitRange) -> LimitRange {
    let container_limits = lr
        .spec
        .map(|s| s.limits)
        .unwrap_or_default()
        .into_iter()
        .filter(|item| item.type_ == "Container")
        .any(|item| {
            let has = |m: &Option<BTreeMap<String, _>>| {
                m.as_ref()
                    .is_some_and(|m| m.contains_key("cpu") && m.contains_key("memory"))
            };
            has(&item.default) || has(&item.max)
        });
    LimitRange {
        object,
        container_limits,
    }
}

/// A ResourceQuota's hard limits.
pub(crate) fn resource_quota(object: ObjectRef, rq: core::ResourceQuota) -> ResourceQuota {
    ResourceQuota {
        object,
        hard: rq
            .spec
            .and_then(|s| s.hard)
            .map(|h| h.into_keys().collect())
            .unwrap_or_default(),
    }
}

/// A Secret as read: metadata, type, the *names* of its keys and whether each value is
/// empty. The values are never decoded or held.
#[derive(Deserialize)]
pub(crate) struct SecretShape {
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(rename = "type")]
    secret_type: Option<String>,
    data: Option<BTreeMap<String, Emptiness>>,
    #[serde(rename = "stringData")]
    string_data: Option<BTreeMap<String, Emptiness>>,
}

/// Whether a Secret value is empty: the only thing read of it. The value passes through the
/// visitor and is dropped there, never stored (issue #8: RG108 needs to know whether
/// `runner-registration-token` is set, and no output may ever show a token).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Emptiness(bool);

impl<'de> Deserialize<'de> for Emptiness {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Emptiness;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a Secret value")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Emptiness, E> {
                Ok(Emptiness(v.is_empty()))
            }

            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Emptiness, E> {
                Ok(Emptiness(v.is_empty()))
            }

            fn visit_unit<E: serde::de::Error>(self) -> Result<Emptiness, E> {
                Ok(Emptiness(true))
            }

            fn visit_none<E: serde::de::Error>(self) -> Result<Emptiness, E> {
                Ok(Emptiness(true))
            }

            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Emptiness, D::Error> {
                Emptiness::deserialize(d)
            }

            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Emptiness, E> {
                Ok(Emptiness(false))
            }

            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Emptiness, E> {
                Ok(Emptiness(false))
            }

            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Emptiness, E> {
                Ok(Emptiness(false))
            }

            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Emptiness, E> {
                Ok(Emptiness(false))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Emptiness, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Emptiness(false))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Emptiness, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Emptiness(false))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl SecretShape {
    /// The Secret's metadata.
    pub(crate) fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }
}

/// The Secret's facts.
pub(crate) fn secret(object: ObjectRef, s: SecretShape) -> SecretMeta {
    // `stringData` is merged over `data` by the API server: its value wins.
    let mut merged: BTreeMap<String, Emptiness> = s.data.unwrap_or_default();
    merged.extend(s.string_data.unwrap_or_default());
    // One pass, cloning only the (few) empty keys' names.
    let mut keys = Vec::with_capacity(merged.len());
    let mut empty_keys = Vec::new();
    for (key, Emptiness(empty)) in merged {
        if empty {
            empty_keys.push(key.clone());
        }
        keys.push(key);
    }
    SecretMeta {
        empty_keys,
        object,
        secret_type: s.secret_type.unwrap_or_else(|| "Opaque".to_owned()),
        service_account: s
            .metadata
            .annotations
            .and_then(|mut a| a.remove("kubernetes.io/service-account.name")),
        keys,
    }
}

/// What a ValidatingAdmissionPolicy proves about pods. Only the exact CEL shapes
/// `runnerguard generate` writes are recognised (whitespace aside): an expression this does
/// not understand proves nothing, so the escalation analysis stays conservative.
pub(crate) fn admission_policy(
    object: ObjectRef,
    p: k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicy,
) -> runnerguard_model::AdmissionPolicy {
    let spec = p.spec.unwrap_or_default();
    let fail_closed = spec.failure_policy.as_deref().is_none_or(|f| f == "Fail");
    let constraints = spec.match_constraints.unwrap_or_default();
    let namespaces = constraints
        .namespace_selector
        .map(|s| metadata_name_selector(&s))
        .unwrap_or_default();
    let pods_create = constraints.resource_rules.iter().flatten().any(|r| {
        let has = |v: &Option<Vec<String>>, want: &str| {
            v.as_ref()
                .is_some_and(|v| v.iter().any(|x| x == want || x == "*"))
        };
        has(&r.api_groups, "") && has(&r.resources, "pods") && has(&r.operations, "CREATE")
    });
    let mut service_accounts = None;
    let mut per_user = Vec::new();
    for v in spec.validations.iter().flatten() {
        let e: String = v
            .expression
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(list) = e
            .strip_prefix(
                "has(object.spec.serviceAccountName) && object.spec.serviceAccountName in [",
            )
            .and_then(|r| r.strip_suffix(']'))
        {
            let names: Option<Vec<String>> = list.split(',').map(|n| quoted(n.trim())).collect();
            service_accounts = names;
        } else if let Some((user, sa)) = e
            .strip_prefix("request.userInfo.username != ")
            .and_then(|r| r.split_once(" || object.spec.serviceAccountName == "))
            && let (Some(user), Some(sa)) = (quoted(user), quoted(sa))
        {
            per_user.push((user, sa));
        }
    }
    runnerguard_model::AdmissionPolicy {
        object,
        fail_closed,
        namespaces,
        pods_create,
        service_accounts,
        per_user,
        match_conditions: spec.match_conditions.is_some_and(|c| !c.is_empty()),
    }
}

/// A ValidatingAdmissionPolicyBinding.
pub(crate) fn admission_binding(
    object: ObjectRef,
    b: k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicyBinding,
) -> runnerguard_model::AdmissionBinding {
    let spec = b.spec;
    let (namespaces, narrows) = match &spec.match_resources {
        None => (None, false),
        Some(m) => {
            let namespaces = m.namespace_selector.as_ref().map(metadata_name_selector);
            let other = m.object_selector.is_some()
                || m.resource_rules.as_ref().is_some_and(|r| !r.is_empty())
                || m.exclude_resource_rules
                    .as_ref()
                    .is_some_and(|r| !r.is_empty())
                || namespaces.as_ref().is_some_and(Vec::is_empty);
            (namespaces, other)
        }
    };
    runnerguard_model::AdmissionBinding {
        object,
        policy: spec.policy_name,
        deny: spec.validation_actions.iter().any(|a| a == "Deny"),
        namespaces,
        narrows: narrows || spec.param_ref.is_some(),
    }
}

/// The namespaces a selector picks by `kubernetes.io/metadata.name` (which the API server
/// sets on every namespace to its name); empty when it selects any other way.
fn metadata_name_selector(s: &K8sSelector) -> Vec<String> {
    const KEY: &str = "kubernetes.io/metadata.name";
    let labels = s.match_labels.clone().unwrap_or_default();
    let exprs = s.match_expressions.clone().unwrap_or_default();
    match (labels.len(), exprs.as_slice()) {
        (1, []) => labels.get(KEY).cloned().into_iter().collect(),
        (0, [e]) if e.key == KEY && e.operator == "In" => e.values.clone().unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// `'name'` or `"name"` without its quotes.
fn quoted(s: &str) -> Option<String> {
    let inner = s
        .strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .or_else(|| s.strip_prefix('"').and_then(|r| r.strip_suffix('"')))?;
    (!inner.is_empty() && !inner.contains(['\'', '"', '\\'])).then(|| inner.to_owned())
}

#[cfg(test)]
mod tests {
    use super::quoted;

    #[test]
    fn quoted_names() {
        assert_eq!(quoted("'ci-job'").as_deref(), Some("ci-job"));
        assert_eq!(quoted("\"ci-job\"").as_deref(), Some("ci-job"));
        assert_eq!(quoted("ci-job"), None);
        assert_eq!(quoted("'a' + 'b'"), None);
    }

    /// Issue #8: of a Secret's values only emptiness is kept; `stringData` wins over `data`.
    #[test]
    fn secret_values_are_reduced_to_emptiness() {
        let yaml = r#"
apiVersion: v1
kind: Secret
metadata: {name: gitlab-runner, namespace: gitlab-runner}
data:
  runner-registration-token: R1IxMzQ4OTQxLXZhbHVlLW5ldmVyLXJlYWQ=
  runner-token: ""
  overridden: c2VjcmV0
  nothing: null
stringData:
  overridden: ""
  plain: GR1348941-value-never-read
"#;
        let loaded = crate::load_str("secret.yaml", yaml).unwrap();
        let s = &loaded.inventory.secrets[0];
        assert_eq!(
            s.keys,
            [
                "nothing",
                "overridden",
                "plain",
                "runner-registration-token",
                "runner-token"
            ]
        );
        assert_eq!(s.empty_keys, ["nothing", "overridden", "runner-token"]);
        assert!(s.has_value("runner-registration-token"));
        assert!(s.has_value("plain"));
        assert!(!s.has_value("runner-token"));
        assert!(!s.has_value("absent"));
        let everything = format!("{:?}", loaded.inventory);
        for value in [
            "R1IxMzQ4OTQxLXZhbHVlLW5ldmVyLXJlYWQ",
            "GR1348941-value-never-read",
            "c2VjcmV0",
        ] {
            assert!(!everything.contains(value), "{value} kept: {everything}");
        }
    }
}
