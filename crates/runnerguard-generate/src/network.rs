//! Namespaces with Pod Security labels, NetworkPolicies, and the job namespace's LimitRange
//! and ResourceQuota.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use k8s_openapi::api::core::v1::{
    LimitRange, LimitRangeItem, LimitRangeSpec, Namespace, ResourceQuota, ResourceQuotaSpec,
};
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::config::{PodSecurityLevel, Tenant};
use crate::quantity::{self, Kind};
use crate::render::{Docs, meta, strings};
use crate::{Config, GenerateError};

/// The cloud metadata address (AWS, GCP, Azure, `OpenStack` and others), and AWS's IPv6 one.
const METADATA_V4: &str = "169.254.169.254/32";
const METADATA_V6: &str = "fd00:ec2::254/128";
/// The label the API server sets on every namespace to its name.
pub(crate) const NAME_LABEL: &str = "kubernetes.io/metadata.name";

fn namespace(name: &str, level: PodSecurityLevel, tenant: Option<&str>) -> Namespace {
    let mut metadata = meta(name, None, tenant);
    if let Some(labels) = metadata.labels.as_mut() {
        for mode in ["enforce", "audit", "warn"] {
            labels.insert(
                format!("pod-security.kubernetes.io/{mode}"),
                level.as_str().to_owned(),
            );
        }
    }
    Namespace {
        metadata,
        ..Namespace::default()
    }
}

pub(crate) fn manager_namespace(config: &Config) -> Result<String, GenerateError> {
    let mut docs = Docs::new(
        "manager/namespace.yaml",
        "The runner managers' namespace: Pod Security `restricted` (the chart's manager pod, with\n\
         the values' podSecurityContext, meets it). No job runs here and no Role is bound here.",
    );
    docs.push(&namespace(
        &config.manager_namespace,
        PodSecurityLevel::Restricted,
        None,
    ))?;
    Ok(docs.finish())
}

/// The tenant's job namespace, and its deploy namespaces marked `create = true` not written
/// yet (by an earlier tenant: several tenants may deploy into one namespace). Its other
/// deploy namespaces are not the setup's: writing them would relabel an existing namespace
/// (issue #8), so they only get RBAC, and INSTALL.md says they must exist.
pub(crate) fn tenant_namespaces<'a>(
    t: &'a Tenant,
    done: &mut BTreeSet<&'a str>,
) -> Result<String, GenerateError> {
    let path = format!("{}/namespaces.yaml", t.name);
    let level = t.pod_security.as_str();
    let mut what = if t.created_deploy_namespaces.is_empty() {
        format!(
            "Tenant `{}`'s job namespace, Pod Security `{level}` enforced.",
            t.name
        )
    } else {
        format!(
            "Tenant `{}`'s namespaces, Pod Security `{level}` enforced: the job namespace, then the\n\
             deploy namespaces it creates (`create = true`).",
            t.name
        )
    };
    let existing: Vec<String> = t
        .deploy_namespaces
        .iter()
        .filter(|ns| !t.creates_namespace(ns))
        .map(|ns| format!("`{ns}`"))
        .collect();
    if !existing.is_empty() {
        let _ = write!(
            what,
            "\nNot created here: {}. These deploy namespaces are not the setup's: it neither\n\
             creates nor labels them, only adds RBAC there (they must exist: see INSTALL.md).",
            existing.join(", ")
        );
    }
    let mut docs = Docs::new(&path, &what);
    for ns in t.created_namespaces() {
        if done.insert(ns) {
            docs.push(&namespace(ns, t.pod_security, Some(&t.name)))?;
        }
    }
    Ok(docs.finish())
}

fn selector(labels: &[(&str, &str)]) -> LabelSelector {
    LabelSelector {
        match_labels: Some(
            labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ),
        ..LabelSelector::default()
    }
}

pub(crate) fn manager_network_policy(config: &Config) -> Result<String, GenerateError> {
    let mut docs = Docs::new(
        "manager/network-policy.yaml",
        "Nothing may connect into the manager namespace: every pod there is selected for ingress\n\
         and no ingress is allowed. (The managers only connect out: to GitLab and the API server.)",
    );
    docs.push(&deny_all_ingress(&config.manager_namespace, None))?;
    Ok(docs.finish())
}

pub(crate) fn job_network_policy(t: &Tenant) -> Result<String, GenerateError> {
    let path = format!("{}/network-policy.yaml", t.name);
    let deploys_here = t.deploy_namespaces.contains(&t.job_namespace);
    let mut docs = Docs::new(
        &path,
        &format!(
            "Egress of every pod in job namespace `{}`: DNS, and any address except the cloud\n\
             metadata service (169.254.169.254, fd00:ec2::254), which hands out the node's cloud\n\
             credentials.{}",
            t.job_namespace,
            if deploys_here {
                ""
            } else {
                " No ingress: nothing needs to connect to job pods."
            }
        ),
    );
    let dns_port = |protocol: &str| NetworkPolicyPort {
        port: Some(IntOrString::Int(53)),
        protocol: Some(protocol.to_owned()),
        end_port: None,
    };
    let block = |cidr: &str, except: &str| NetworkPolicyPeer {
        ip_block: Some(IPBlock {
            cidr: cidr.to_owned(),
            except: Some(vec![except.to_owned()]),
        }),
        ..NetworkPolicyPeer::default()
    };
    docs.push(&NetworkPolicy {
        metadata: meta("job-egress", Some(&t.job_namespace), Some(&t.name)),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(strings(&["Egress"])),
            ingress: None,
            egress: Some(vec![
                NetworkPolicyEgressRule {
                    to: Some(vec![NetworkPolicyPeer {
                        namespace_selector: Some(selector(&[(NAME_LABEL, "kube-system")])),
                        pod_selector: Some(selector(&[("k8s-app", "kube-dns")])),
                        ip_block: None,
                    }]),
                    ports: Some(vec![dns_port("UDP"), dns_port("TCP")]),
                },
                NetworkPolicyEgressRule {
                    to: Some(vec![
                        block("0.0.0.0/0", METADATA_V4),
                        block("::/0", METADATA_V6),
                    ]),
                    ports: None,
                },
            ]),
        }),
    })?;
    if !deploys_here {
        docs.push(&deny_all_ingress(&t.job_namespace, Some(&t.name)))?;
    }
    Ok(docs.finish())
}

/// Every pod of `namespace` selected for ingress, and no ingress allowed.
fn deny_all_ingress(namespace: &str, tenant: Option<&str>) -> NetworkPolicy {
    NetworkPolicy {
        metadata: meta("deny-all-ingress", Some(namespace), tenant),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(strings(&["Ingress"])),
            ingress: None,
            egress: None,
        }),
    }
}

fn quantities(items: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Quantity((*v).to_owned())))
        .collect()
}

/// The largest of several quantities, as written.
fn largest<'a>(values: &[&'a str], kind: Kind) -> &'a str {
    values
        .iter()
        .copied()
        .max_by_key(|v| quantity::parse(v, kind).unwrap_or(0))
        .unwrap_or("0")
}

pub(crate) fn job_limits(t: &Tenant) -> Result<String, GenerateError> {
    let path = format!("{}/limits.yaml", t.name);
    let r = &t.resources;
    let mut docs = Docs::new(
        &path,
        &format!(
            "Bounds for job namespace `{}`: every container gets the build container's requests and\n\
             limits unless it sets its own, none may exceed the largest configured limit, and the\n\
             namespace as a whole is capped.",
            t.job_namespace
        ),
    );
    let max_cpu = largest(
        &[
            &r.build.cpu_limit,
            &r.helper.cpu_limit,
            &r.service.cpu_limit,
        ],
        Kind::Cpu,
    );
    let max_memory = largest(
        &[
            &r.build.memory_limit,
            &r.helper.memory_limit,
            &r.service.memory_limit,
        ],
        Kind::Memory,
    );
    docs.push(&LimitRange {
        metadata: meta("job-containers", Some(&t.job_namespace), Some(&t.name)),
        spec: Some(LimitRangeSpec {
            limits: vec![LimitRangeItem {
                type_: "Container".to_owned(),
                default: Some(quantities(&[
                    ("cpu", &r.build.cpu_limit),
                    ("memory", &r.build.memory_limit),
                ])),
                default_request: Some(quantities(&[
                    ("cpu", &r.build.cpu_request),
                    ("memory", &r.build.memory_request),
                ])),
                max: Some(quantities(&[("cpu", max_cpu), ("memory", max_memory)])),
                ..LimitRangeItem::default()
            }],
        }),
    })?;
    let q = &t.quota;
    let pods = q.pods.to_string();
    docs.push(&ResourceQuota {
        metadata: meta("job-namespace", Some(&t.job_namespace), Some(&t.name)),
        spec: Some(ResourceQuotaSpec {
            hard: Some(quantities(&[
                ("pods", &pods),
                ("requests.cpu", &q.requests_cpu),
                ("requests.memory", &q.requests_memory),
                ("limits.cpu", &q.limits_cpu),
                ("limits.memory", &q.limits_memory),
            ])),
            ..ResourceQuotaSpec::default()
        }),
        ..ResourceQuota::default()
    })?;
    Ok(docs.finish())
}
