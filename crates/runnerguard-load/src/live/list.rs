//! Listing one kind: its collection, every page, retried; what the audit needs of each item.

use std::time::Duration;

use kube::Client;
use kube::api::ListParams;
use kube::core::Request;
use serde_json::{Map, Value};

use super::LiveOptions;

/// How a kind is listed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Read {
    Full,
    /// Metadata only (`PartialObjectMetadataList`).
    Metadata,
}

/// One kind to list: its collection's path, and what its items are.
pub(super) struct Collection {
    /// `api/v1` or `apis/GROUP/VERSION`.
    prefix: &'static str,
    plural: &'static str,
    kind: &'static str,
    /// Plural, for people.
    pub(super) name: &'static str,
    namespaced: bool,
    read: Read,
}

const fn kind(
    prefix: &'static str,
    plural: &'static str,
    kind: &'static str,
    name: &'static str,
    namespaced: bool,
) -> Collection {
    Collection {
        prefix,
        plural,
        kind,
        name,
        namespaced,
        read: Read::Full,
    }
}

const RBAC: &str = "apis/rbac.authorization.k8s.io/v1";
const ADMISSION: &str = "apis/admissionregistration.k8s.io/v1";

/// Every kind the file loader turns into the model (object.rs), in a fixed order: the List
/// is the same for the same cluster.
pub(super) const KINDS: &[Collection] = &[
    kind("api/v1", "namespaces", "Namespace", "Namespaces", false),
    kind(RBAC, "clusterroles", "ClusterRole", "ClusterRoles", false),
    kind(
        RBAC,
        "clusterrolebindings",
        "ClusterRoleBinding",
        "ClusterRoleBindings",
        false,
    ),
    kind(RBAC, "roles", "Role", "Roles", true),
    kind(RBAC, "rolebindings", "RoleBinding", "RoleBindings", true),
    kind(
        "api/v1",
        "serviceaccounts",
        "ServiceAccount",
        "ServiceAccounts",
        true,
    ),
    kind(
        ADMISSION,
        "validatingadmissionpolicies",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicies",
        false,
    ),
    kind(
        ADMISSION,
        "validatingadmissionpolicybindings",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingAdmissionPolicyBindings",
        false,
    ),
    kind(
        "apis/apps/v1",
        "deployments",
        "Deployment",
        "Deployments",
        true,
    ),
    kind(
        "apis/apps/v1",
        "statefulsets",
        "StatefulSet",
        "StatefulSets",
        true,
    ),
    kind(
        "apis/apps/v1",
        "daemonsets",
        "DaemonSet",
        "DaemonSets",
        true,
    ),
    kind(
        "apis/apps/v1",
        "replicasets",
        "ReplicaSet",
        "ReplicaSets",
        true,
    ),
    kind(
        "api/v1",
        "replicationcontrollers",
        "ReplicationController",
        "ReplicationControllers",
        true,
    ),
    kind("apis/batch/v1", "jobs", "Job", "Jobs", true),
    kind("apis/batch/v1", "cronjobs", "CronJob", "CronJobs", true),
    kind("api/v1", "pods", "Pod", "Pods", true),
    kind(
        "apis/networking.k8s.io/v1",
        "networkpolicies",
        "NetworkPolicy",
        "NetworkPolicies",
        true,
    ),
    kind("api/v1", "limitranges", "LimitRange", "LimitRanges", true),
    kind(
        "api/v1",
        "resourcequotas",
        "ResourceQuota",
        "ResourceQuotas",
        true,
    ),
    kind("api/v1", "configmaps", "ConfigMap", "ConfigMaps", true),
    Collection {
        read: Read::Metadata,
        ..kind("api/v1", "secrets", "Secret", "Secrets", true)
    },
];

/// The `apiVersion` of a kind: `v1` for the core group, else `GROUP/VERSION`.
fn api_version(k: &Collection) -> &'static str {
    k.prefix.strip_prefix("apis/").unwrap_or("v1")
}

/// The kinds whose items a controller the audit also reads makes from its pod template, and
/// those controllers: such an item (ReplicaSets of a Deployment, Pods of a ReplicaSet, Jobs of
/// a CronJob) repeats the template, and would repeat every finding about it. Any other owner
/// reference (a RoleBinding naming a Deployment its controller) is anyone's to write and hides
/// nothing.
const CONTROLLERS: &[(&str, &[&str])] = &[
    ("ReplicaSet", &["Deployment"]),
    (
        "Pod",
        &[
            "ReplicaSet",
            "StatefulSet",
            "DaemonSet",
            "ReplicationController",
            "Job",
        ],
    ),
    ("Job", &["CronJob"]),
];

/// The annotations kept on a Secret: which ServiceAccount a token belongs to. Any other may
/// hold a copy of the data (`kubectl.kubernetes.io/last-applied-configuration` does).
const SECRET_ANNOTATIONS: &[&str] = &[
    "kubernetes.io/service-account.name",
    "kubernetes.io/service-account.uid",
];

const SA_TOKEN: &str = "kubernetes.io/service-account-token";

/// What one kind's list came to.
pub(super) enum Listed {
    Items(Vec<Value>),
    Forbidden(String),
    NotServed,
}

/// Lists one kind, every page. `Err` is a transport failure after retries: the API server is
/// not answering, and nothing else will be read either.
pub(super) async fn list_kind(
    client: &Client,
    k: &Collection,
    options: &LiveOptions,
) -> Result<Listed, String> {
    let path = match (&options.namespace, k.namespaced) {
        (Some(ns), true) => format!("/{}/namespaces/{ns}/{}", k.prefix, k.plural),
        _ => format!("/{}/{}", k.prefix, k.plural),
    };
    let mut items = match pages(client, &path, None, k.read, options).await? {
        Paged::Items(items) => items,
        Paged::Refused(404, _) => return Ok(Listed::NotServed),
        Paged::Refused(code, message) => {
            return Ok(Listed::Forbidden(format!("{code}: {message}")));
        }
    };
    let mut tokens = Vec::new();
    if k.read == Read::Metadata {
        // The type is not metadata; the one type the audit reads (which Secrets are
        // ServiceAccount tokens) is learnt from a second list filtered on it.
        let selector = format!("type={SA_TOKEN}");
        match pages(client, &path, Some(&selector), k.read, options).await? {
            Paged::Items(t) => tokens = t,
            Paged::Refused(code, message) => {
                return Ok(Listed::Forbidden(format!("{code}: {message}")));
            }
        }
    }
    let token_uids: std::collections::HashSet<&str> = tokens
        .iter()
        .filter_map(|t| t.pointer("/metadata/uid").and_then(Value::as_str))
        .collect();
    let mut out = Vec::with_capacity(items.len());
    for item in &mut items {
        if owned_by_controller(k.kind, item) {
            continue;
        }
        let Value::Object(object) = item else {
            continue;
        };
        let mut clean = Map::new();
        clean.insert("apiVersion".to_owned(), Value::from(api_version(k)));
        clean.insert("kind".to_owned(), Value::from(k.kind));
        if let Some(Value::Object(mut meta)) = object.remove("metadata") {
            meta.remove("managedFields");
            if let Some(Value::Object(annotations)) = meta.get_mut("annotations") {
                annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
                if k.read == Read::Metadata {
                    annotations.retain(|key, _| SECRET_ANNOTATIONS.contains(&key.as_str()));
                }
                if annotations.is_empty() {
                    meta.remove("annotations");
                }
            }
            let uid = meta.get("uid").and_then(Value::as_str).unwrap_or_default();
            let token = !uid.is_empty() && token_uids.contains(&uid);
            clean.insert("metadata".to_owned(), Value::Object(meta));
            if token {
                clean.insert("type".to_owned(), Value::from(SA_TOKEN));
            }
        }
        if k.read == Read::Full {
            // Everything but the status, which the audit never reads.
            for (key, value) in std::mem::take(object) {
                if !matches!(key.as_str(), "apiVersion" | "kind" | "status") {
                    clean.insert(key, value);
                }
            }
        }
        out.push(Value::Object(clean));
    }
    Ok(Listed::Items(out))
}

/// Whether a workload controller the audit also reads made this object, of kind `kind`.
fn owned_by_controller(kind: &str, item: &Value) -> bool {
    let Some((_, controllers)) = CONTROLLERS.iter().find(|(k, _)| *k == kind) else {
        return false;
    };
    item.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|owners| {
            owners.iter().any(|o| {
                o.get("controller").and_then(Value::as_bool) == Some(true)
                    && o.get("kind")
                        .and_then(Value::as_str)
                        .is_some_and(|owner| controllers.contains(&owner))
            })
        })
}

/// A paginated list's outcome.
enum Paged {
    Items(Vec<Value>),
    /// The API server's refusal: its status code and message.
    Refused(u16, String),
}

/// Every page of `path` (`limit`/`continue`).
async fn pages(
    client: &Client,
    path: &str,
    fields: Option<&str>,
    read: Read,
    options: &LiveOptions,
) -> Result<Paged, String> {
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut params = ListParams::default().limit(options.page_size);
        if let Some(fields) = fields {
            params = params.fields(fields);
        }
        if let Some(t) = &token {
            params = params.continue_token(t);
        }
        let page = match get(client, path, &params, read, options).await? {
            Ok(page) => page,
            Err((code, message)) => return Ok(Paged::Refused(code, message)),
        };
        let Value::Object(mut page) = page else {
            return Ok(Paged::Refused(0, "the answer is not a list".to_owned()));
        };
        if let Some(Value::Array(page_items)) = page.remove("items") {
            items.extend(page_items);
        }
        token = page
            .get("metadata")
            .and_then(|m| m.get("continue"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        if token.is_none() {
            return Ok(Paged::Items(items));
        }
    }
}

/// One GET, retried with exponential backoff after a 429, a 5xx, a timeout or a transport
/// failure. The outer `Err` is a transport failure after the retries; the inner one the API
/// server's refusal (status code and message).
async fn get(
    client: &Client,
    path: &str,
    params: &ListParams,
    read: Read,
    options: &LiveOptions,
) -> Result<Result<Value, (u16, String)>, String> {
    let builder = Request::new(path);
    let mut attempt = 0;
    loop {
        let request = match read {
            Read::Full => builder.list(params),
            Read::Metadata => builder.list_metadata(params),
        }
        .map_err(|e| e.to_string())?;
        let outcome = tokio::time::timeout(options.timeout, client.request::<Value>(request)).await;
        let failure = match outcome {
            Ok(Ok(value)) => return Ok(Ok(value)),
            Ok(Err(kube::Error::Api(status))) => {
                let retry = status.code == 429 || status.code >= 500;
                if !retry || attempt >= options.retries {
                    let message = if status.message.is_empty() {
                        status.reason.clone()
                    } else {
                        status.message.clone()
                    };
                    return Ok(Err((status.code, message)));
                }
                format!("{}: {}", status.code, status.message)
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {} s", options.timeout.as_secs_f32()),
        };
        if attempt >= options.retries {
            return Err(failure);
        }
        attempt += 1;
        // 200 ms, 400 ms, 800 ms, ...: a busy API server gets room, a run stays short.
        let backoff = Duration::from_millis(200) * 2u32.saturating_pow(attempt - 1);
        tokio::time::sleep(backoff.min(Duration::from_secs(5))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_objects_are_left_to_their_controller() {
        let pod = serde_json::json!({"metadata": {"ownerReferences": [
            {"kind": "ReplicaSet", "controller": true, "name": "x"}
        ]}});
        assert!(owned_by_controller("Pod", &pod));
        let foreign = serde_json::json!({"metadata": {"ownerReferences": [
            {"kind": "Node", "controller": true, "name": "x"}
        ]}});
        assert!(!owned_by_controller("Pod", &foreign));
        assert!(!owned_by_controller(
            "Pod",
            &serde_json::json!({"metadata": {}})
        ));
        // Only what the controller makes from its template: a grant naming a Deployment its
        // controller is still read, and so is a Pod claiming a Deployment directly.
        let by_deployment = serde_json::json!({"metadata": {"ownerReferences": [
            {"kind": "Deployment", "controller": true, "name": "x"}
        ]}});
        assert!(owned_by_controller("ReplicaSet", &by_deployment));
        assert!(!owned_by_controller("RoleBinding", &by_deployment));
        assert!(!owned_by_controller("Pod", &by_deployment));
    }

    #[test]
    fn api_versions_follow_the_path() {
        let versions: Vec<&str> = KINDS.iter().map(api_version).collect();
        assert_eq!(versions[0], "v1");
        assert_eq!(versions[1], "rbac.authorization.k8s.io/v1");
        assert!(versions.contains(&"apps/v1"));
        assert!(versions.contains(&"admissionregistration.k8s.io/v1"));
    }
}
