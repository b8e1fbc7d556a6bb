//! The objects beside RBAC: service accounts, namespaces, pods and the controllers of pod
//! templates, network policies, limits and quotas, secrets, ConfigMaps (with the runner
//! configuration they hold), admission policies, Helm values, and any other kind, kept by
//! reference.

use std::collections::BTreeMap;

use k8s_openapi::Metadata;
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use runnerguard_model::{Namespace, ObjectRef, Origin, OtherObject, ServiceAccount};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{Raw, Sink};
use crate::workload as w;
use crate::yaml::Node;

impl Sink<'_> {
    /// Reads an object of any kind but RBAC's into the inventory.
    pub(super) fn other_object(
        &mut self,
        raw: Raw<'_>,
        api_version: &str,
        kind: &str,
        origin: Origin,
    ) {
        match (api_version, kind) {
            ("v1", "ServiceAccount") => {
                if let Some(sa) = self.typed::<core::ServiceAccount>(raw, "ServiceAccount") {
                    let namespace = self.namespace(raw, &sa.metadata, "ServiceAccount");
                    if let Some(meta) = self.meta(raw, sa.metadata, "ServiceAccount") {
                        self.inventory.service_accounts.push(ServiceAccount {
                            name: meta.0,
                            namespace,
                            automount_token: sa.automount_service_account_token,
                            origin,
                        });
                    }
                }
            }
            ("v1", "Namespace") => {
                if let Some(ns) = self.typed::<core::Namespace>(raw, "Namespace")
                    && let Some(meta) = self.meta(raw, ns.metadata, "Namespace")
                {
                    self.inventory.namespaces.push(Namespace {
                        name: meta.0,
                        labels: meta.1,
                        origin,
                    });
                }
            }
            ("v1", "Pod") => {
                if let Some(pod) = self.typed::<core::Pod>(raw, kind) {
                    let object = self.object_ref(raw, api_version, kind, &pod.metadata, true);
                    let labels = pod.metadata.labels.unwrap_or_default();
                    let workload = w::workload(object, labels, pod.spec);
                    self.inventory.workloads.push(workload);
                }
            }
            ("apps/v1", "Deployment") => {
                self.controller::<apps::Deployment>(raw, api_version, kind, |d| {
                    (d.metadata, Some(d.spec.template))
                });
            }
            ("apps/v1", "StatefulSet") => {
                self.controller::<apps::StatefulSet>(raw, api_version, kind, |d| {
                    (d.metadata, Some(d.spec.template))
                });
            }
            ("apps/v1", "DaemonSet") => {
                self.controller::<apps::DaemonSet>(raw, api_version, kind, |d| {
                    (d.metadata, Some(d.spec.template))
                });
            }
            ("apps/v1", "ReplicaSet") => {
                self.controller::<apps::ReplicaSet>(raw, api_version, kind, |d| {
                    (d.metadata, d.spec.template)
                });
            }
            ("v1", "ReplicationController") => {
                self.controller::<core::ReplicationController>(raw, api_version, kind, |d| {
                    (d.metadata, d.spec.and_then(|s| s.template))
                });
            }
            ("batch/v1", "Job") => self.controller::<batch::Job>(raw, api_version, kind, |d| {
                (d.metadata, d.spec.map(|s| s.template))
            }),
            ("batch/v1", "CronJob") => {
                self.controller::<batch::CronJob>(raw, api_version, kind, |d| {
                    (d.metadata, d.spec.job_template.spec.map(|s| s.template))
                });
            }
            ("networking.k8s.io/v1", "NetworkPolicy") => {
                let read = self.converted(raw, api_version, kind, true, w::network_policy);
                self.inventory.network_policies.extend(read);
            }
            ("v1", "LimitRange") => {
                let read = self.converted(raw, api_version, kind, true, w::limit_range);
                self.inventory.limit_ranges.extend(read);
            }
            ("v1", "ResourceQuota") => {
                let read = self.converted(raw, api_version, kind, true, w::resource_quota);
                self.inventory.resource_quotas.extend(read);
            }
            ("v1", "Secret") => {
                if let Some(s) = self.typed::<w::SecretShape>(raw, kind) {
                    let object = self.object_ref(raw, api_version, kind, s.metadata(), true);
                    self.inventory.secrets.push(w::secret(object, s));
                }
            }
            ("v1", "ConfigMap") => self.config_map(raw, api_version, kind),
            ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy") => {
                let read = self.converted(raw, api_version, kind, false, w::admission_policy);
                self.inventory.admission_policies.extend(read);
            }
            ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding") => {
                let read = self.converted(raw, api_version, kind, false, w::admission_binding);
                self.inventory.admission_bindings.extend(read);
            }
            _ => {
                #[derive(Deserialize)]
                struct Any {
                    #[serde(default)]
                    metadata: ObjectMeta,
                }
                if let Some(any) = self.typed::<Any>(raw, kind) {
                    self.inventory.others.push(OtherObject {
                        object: ObjectRef {
                            api_version: api_version.to_owned(),
                            kind: kind.to_owned(),
                            namespace: any.metadata.namespace.unwrap_or_default(),
                            name: any.metadata.name.unwrap_or_default(),
                            origin,
                        },
                    });
                }
            }
        }
    }

    /// Reads `raw` as `T` and converts it, with a reference to it, by `convert`; `namespaced`
    /// says whether its kind is.
    fn converted<T: DeserializeOwned + Metadata<Ty = ObjectMeta>, U>(
        &mut self,
        raw: Raw<'_>,
        api_version: &str,
        kind: &str,
        namespaced: bool,
        convert: impl FnOnce(ObjectRef, T) -> U,
    ) -> Option<U> {
        let object = self.typed::<T>(raw, kind)?;
        let meta = object.metadata();
        let reference = self.object_ref(raw, api_version, kind, meta, namespaced);
        Some(convert(reference, object))
    }

    /// A workload controller: its pod template's facts.
    pub(super) fn controller<T: DeserializeOwned>(
        &mut self,
        raw: Raw<'_>,
        api_version: &str,
        kind: &str,
        parts: impl FnOnce(T) -> (ObjectMeta, Option<core::PodTemplateSpec>),
    ) {
        let Some(object) = self.typed::<T>(raw, kind) else {
            return;
        };
        let (meta, template) = parts(object);
        let object = self.object_ref(raw, api_version, kind, &meta, true);
        let (labels, spec) = template.map_or((BTreeMap::new(), None), |t| {
            (
                t.metadata.and_then(|m| m.labels).unwrap_or_default(),
                t.spec,
            )
        });
        let workload = w::workload(object, labels, spec);
        self.inventory.workloads.push(workload);
    }

    /// A ConfigMap: kept as an object, and its `config.toml` / `config.template.toml` read as
    /// a runner configuration when it has `[[runners]]`.
    fn config_map(&mut self, raw: Raw<'_>, api_version: &str, kind: &str) {
        let Some(cm) = self.typed::<core::ConfigMap>(raw, kind) else {
            return;
        };
        let object = self.object_ref(raw, api_version, kind, &cm.metadata, true);
        for (key, template) in [("config.toml", false), ("config.template.toml", true)] {
            let Some(toml) = cm.data.as_ref().and_then(|d| d.get(key)) else {
                continue;
            };
            let placement = match raw {
                Raw::Yaml(node) => node
                    .get("data")
                    .and_then(|d| d.get(key))
                    .map(|v| crate::runner::placement_of(self.text, v)),
                Raw::Json(_) => None,
            }
            .unwrap_or(crate::runner::Placement::At {
                line: object.origin.line,
                column: object.origin.column,
            });
            let src = crate::runner::TomlSource {
                file: self.file,
                toml,
                placement,
            };
            let source = runnerguard_model::RunnerConfigSource::ConfigMap {
                namespace: object.namespace.clone(),
                name: object.name.clone(),
                key: key.to_owned(),
            };
            match crate::runner::runner_config(&src, source, template) {
                Ok(Some(config)) => self.inventory.runner_configs.push(config),
                Ok(None) => {}
                Err(e) => self.error(
                    e.at,
                    format!(
                        "invalid TOML in ConfigMap `{}` key `{key}`: {}",
                        object.name, e.message
                    ),
                    None,
                ),
            }
        }
        self.inventory.others.push(OtherObject { object });
    }

    /// A Helm values document for the gitlab-runner chart.
    pub(crate) fn helm_values(&mut self, node: &Node) {
        let (values, error) = crate::runner::helm_values(self.file, self.text, node);
        if let Some(e) = error {
            self.error(
                e.at,
                format!("invalid TOML in `runners.config`: {}", e.message),
                Some("`runners.config` is the runner's config.toml template, as a TOML string"),
            );
        }
        if let Some(config) = &values.runner_config {
            self.inventory.runner_configs.push(config.clone());
        }
        self.inventory.helm_values.push(values);
    }
}
