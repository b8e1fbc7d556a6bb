//! One document at a time: recognise its kind, unwrap Lists, deserialize through the
//! `k8s-openapi` type and convert to the model.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::api::rbac::v1 as rbac;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use runnerguard_model::{
    Binding, BindingKind, Inventory, Namespace, ObjectRef, Origin, OtherObject, PolicyRule, Role,
    RoleKind, RoleRef, ServiceAccount, Subject,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use rayon::prelude::*;

use crate::json::{Cursor, LineIndex, offset_in};
use crate::yaml::Node;
use crate::{Diagnostic, Warning};

const RBAC_V1: &str = "rbac.authorization.k8s.io/v1";
const RBAC_GROUP: &str = "rbac.authorization.k8s.io/";

/// Lists with at least this many items are read on every core.
const PARALLEL_ITEMS: usize = 4096;

/// A document or List item, in whichever syntax it was written.
#[derive(Clone, Copy)]
pub(crate) enum Raw<'a> {
    Yaml(&'a Node),
    /// The text of one JSON object (a document or a List item).
    Json(&'a str),
}

/// `apiVersion` and `kind` of a document (strings, not empty), and its `items`.
#[derive(Default)]
struct Header<'a> {
    api_version: Option<String>,
    kind: Option<String>,
    items: ItemsOf<'a>,
    is_object: bool,
}

/// An object's `items` (see [`crate::json::Items`] for what each makes of the object).
#[derive(Default)]
enum ItemsOf<'a> {
    #[default]
    Absent,
    Null,
    List(Vec<Raw<'a>>),
    /// Anything else; for YAML, the node, to place a diagnostic.
    Other(Option<&'a Node>),
}

impl<'a> From<crate::json::Items<'a>> for ItemsOf<'a> {
    fn from(items: crate::json::Items<'a>) -> Self {
        use crate::json::Items;
        match items {
            Items::Absent => Self::Absent,
            Items::Null => Self::Null,
            Items::List(v) => Self::List(v.into_iter().map(Raw::Json).collect()),
            Items::Other => Self::Other(None),
        }
    }
}

/// Where a document stands: the top of a stream, or an item of a List.
///
/// The two differ in Kubernetes clients: apimachinery's `unstructuredJSONScheme.decode`
/// reads a top-level object with `items` as a List (an `UnstructuredList`), whose items take
/// the List's `apiVersion` and kind (`decodeToList`); cli-runtime's `FlattenListVisitor`
/// then asks `meta.IsListType` of each item, true when its `items` is an array
/// (`Unstructured.IsList`), and `meta.ExtractList` fails on such an item (an `Unstructured`
/// has no `Items` field): a List inside a List is an error for the whole List.
#[derive(Clone, Copy, PartialEq)]
enum Level {
    Top,
    Item,
}

/// What the objects of one file become.
pub(crate) struct Sink<'s> {
    pub(crate) file: &'s Arc<str>,
    pub(crate) text: &'s str,
    pub(crate) lines: Option<&'s LineIndex>,
    pub(crate) cursor: Cursor,
    pub(crate) inventory: &'s mut Inventory,
    pub(crate) warnings: &'s mut Vec<Warning>,
    pub(crate) diagnostics: &'s mut Vec<Diagnostic>,
    /// Documents without `kind` are Helm values (`--values FILE`), whatever their keys.
    pub(crate) values: bool,
    /// Problems found past [`crate::MAX_DIAGNOSTICS`]: counted, not built (each diagnostic
    /// reads its file's text around the problem; 10,000 of them on one line would read it
    /// 10,000 times).
    pub(crate) dropped: usize,
    /// `--values-key`: values nested under this key of a wrapper's values are the chart's.
    pub(crate) values_key: Option<&'s str>,
}

impl Sink<'_> {
    fn position(&self, raw: Raw<'_>) -> (u32, u32) {
        match raw {
            Raw::Yaml(node) => (node.line, node.column),
            Raw::Json(value) => self.lines.map_or((1, 1), |l| {
                l.position(self.text, offset_in(self.text, value), &self.cursor)
            }),
        }
    }

    fn origin(&self, raw: Raw<'_>) -> Origin {
        let (line, column) = self.position(raw);
        Origin::new(self.file.clone(), line, column)
    }

    pub(crate) fn warn(&mut self, raw: Raw<'_>, message: String) {
        let (line, _) = self.position(raw);
        self.warnings.push(Warning {
            file: self.file.clone(),
            line,
            message,
        });
    }

    fn error(&mut self, at: (u32, u32), message: String, help: Option<&str>) {
        if self.diagnostics.len() >= crate::MAX_DIAGNOSTICS {
            self.dropped += 1;
            return;
        }
        let mut d = Diagnostic::new(self.file, self.text, at, message);
        if let Some(help) = help {
            d = d.with_help(help);
        }
        self.diagnostics.push(d);
    }

    /// The header of `raw`, or `None` after recording why it cannot be read (a repeated key
    /// in a List item).
    fn header<'a>(&mut self, raw: Raw<'a>) -> Option<Header<'a>> {
        let non_empty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_owned);
        match raw {
            Raw::Yaml(node) => Some(Header {
                api_version: non_empty(node.get_str("apiVersion")),
                kind: non_empty(node.get_str("kind")),
                items: match node.get("items") {
                    None => ItemsOf::Absent,
                    Some(items) => match &items.value {
                        crate::yaml::Value::Null => ItemsOf::Null,
                        crate::yaml::Value::Seq(v) => {
                            ItemsOf::List(v.iter().map(Raw::Yaml).collect())
                        }
                        _ => ItemsOf::Other(Some(items)),
                    },
                },
                is_object: node.is_map(),
            }),
            // A top-level JSON document's header comes with it (`json_document`); this is a
            // List item, read whole here: the same members the typed decode reads.
            Raw::Json(value) => match crate::json::read_object(value) {
                Ok(Some(h)) => Some(Header {
                    api_version: non_empty(h.api_version.as_deref()),
                    kind: non_empty(h.kind.as_deref()),
                    items: h.items.into(),
                    is_object: true,
                }),
                Ok(None) => Some(Header::default()),
                Err(e) => {
                    let at = self.json_error_at(raw, &e);
                    self.error(
                        at,
                        format!(
                            "invalid JSON: {}",
                            strip_json_position(&crate::json::message(&e))
                        ),
                        None,
                    );
                    None
                }
            },
        }
    }

    /// The place in the file of an error `serde_json` reports relative to the object `raw`.
    fn json_error_at(&self, raw: Raw<'_>, e: &serde_json::Error) -> (u32, u32) {
        let (base_line, base_col) = self.position(raw);
        let line = u32::try_from(e.line()).unwrap_or(1).max(1);
        let column = u32::try_from(e.column()).unwrap_or(1).max(1);
        if line == 1 {
            (base_line, base_col + column - 1)
        } else {
            (base_line + line - 1, column)
        }
    }

    /// Deserializes `raw` as `T`, or records a diagnostic at the offending value.
    fn typed<T: DeserializeOwned>(&mut self, raw: Raw<'_>, what: &str) -> Option<T> {
        // The fast path first; the path-tracking one only to explain a failure.
        let result = match raw {
            Raw::Yaml(node) => {
                let json = node.to_json();
                T::deserialize(&json).or_else(|_| {
                    serde_path_to_error::deserialize::<_, T>(&json).map_err(|e| {
                        let at = node.locate(e.path());
                        (
                            (at.line, at.column),
                            e.path().to_string(),
                            e.into_inner().to_string(),
                        )
                    })
                })
            }
            Raw::Json(value) => serde_json::from_str::<T>(value).or_else(|_| {
                let mut de = serde_json::Deserializer::from_str(value);
                serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
                    let path = e.path().to_string();
                    let inner = e.into_inner();
                    let at = self.json_error_at(raw, &inner);
                    (at, path, strip_json_position(&crate::json::message(&inner)))
                })
            }),
        };
        match result {
            Ok(v) => Some(v),
            Err((at, path, message)) => {
                let place = if path == "." || path.is_empty() {
                    String::new()
                } else {
                    format!(" at `{path}`")
                };
                // sigs.k8s.io/yaml reads YAML 1.1, so Kubernetes also takes unquoted `no`, `on`,
                // `y` as booleans and refuses them where a string belongs.
                let help = message.starts_with("invalid type: boolean").then_some(
                    "YAML 1.1, which Kubernetes reads, takes unquoted y/n/yes/no/on/off/true/false as booleans: quote the value",
                );
                self.error(at, format!("invalid {what}{place}: {message}"), help);
                None
            }
        }
    }

    /// Reads one top-level document into the inventory. `inherited` is an `apiVersion` and
    /// `kind` to assume when the document has neither (`None` at the top of a stream).
    pub(crate) fn document(&mut self, raw: Raw<'_>, inherited: Option<(&str, &str)>) {
        if let Some(header) = self.header(raw) {
            self.dispatch(raw, header, inherited, Level::Top);
        }
    }

    /// Reads one List item (or an object a wrapper holds) into the inventory. `inherited` is
    /// the `apiVersion` and kind the List gives items that say neither.
    pub(crate) fn item(&mut self, raw: Raw<'_>, inherited: Option<(&str, &str)>) {
        if let Some(header) = self.header(raw) {
            self.dispatch(raw, header, inherited, Level::Item);
        }
    }

    /// Reads a large List's items on every core, in chunks whose results are appended in
    /// input order, so the outcome is the same as reading them one by one.
    fn items_in_parallel(&mut self, items: &[Raw<'_>], inherit: Option<(&str, &str)>) {
        let chunk = items
            .len()
            .div_ceil(rayon::current_num_threads() * 4)
            .max(1);
        let parts: Vec<(Inventory, Vec<Warning>, Vec<Diagnostic>, usize)> = items
            .par_chunks(chunk)
            .map(|part| {
                let mut inventory = Inventory::default();
                let mut warnings = Vec::new();
                let mut diagnostics = Vec::new();
                let mut sink = Sink {
                    file: self.file,
                    text: self.text,
                    lines: self.lines,
                    cursor: Cursor::default(),
                    inventory: &mut inventory,
                    warnings: &mut warnings,
                    diagnostics: &mut diagnostics,
                    values: self.values,
                    dropped: 0,
                    values_key: self.values_key,
                };
                for &item in part {
                    sink.item(item, inherit);
                }
                let dropped = sink.dropped;
                (inventory, warnings, diagnostics, dropped)
            })
            .collect();
        for (inventory, warnings, diagnostics, dropped) in parts {
            self.inventory.extend(inventory);
            self.warnings.extend(warnings);
            self.diagnostics.extend(diagnostics);
            self.dropped += dropped;
        }
    }

    /// Reads a top-level JSON document whose header the splitting pass already read.
    pub(crate) fn json_document(&mut self, doc: crate::json::TopDoc<'_>) {
        if let Some(node) = &doc.yaml {
            self.document(Raw::Yaml(node), None);
            return;
        }
        let raw = Raw::Json(doc.text);
        let header = match doc.header {
            Some(h) => Header {
                api_version: h.api_version.filter(|s| !s.is_empty()),
                kind: h.kind.filter(|s| !s.is_empty()),
                items: h.items.into(),
                is_object: true,
            },
            None => Header::default(),
        };
        self.dispatch(raw, header, None, Level::Top);
    }

    fn dispatch<'a>(
        &mut self,
        raw: Raw<'a>,
        header: Header<'a>,
        inherited: Option<(&str, &str)>,
        level: Level,
    ) {
        if !header.is_object {
            self.warn(
                raw,
                "not a Kubernetes object (not a mapping); skipped".to_owned(),
            );
            return;
        }
        let (api_version, kind) = match (header.api_version, header.kind) {
            (Some(a), Some(k)) => (a, k),
            // apimachinery's `decodeToList` gives the List's apiVersion and kind to an item
            // only when it has neither.
            (None, None) if inherited.is_some() => {
                let (a, k) = inherited.unwrap_or_default();
                (a.to_owned(), k.to_owned())
            }
            (Some(_), None) if inherited.is_some() => {
                self.warn(
                    raw,
                    "List item with `apiVersion` but no `kind`: Kubernetes gives an item the List's kind only when it has neither, so kubectl refuses it; skipped".to_owned(),
                );
                return;
            }
            (_, None) => {
                match raw {
                    Raw::Yaml(node) if self.values || crate::runner::looks_like_values(node) => {
                        self.helm_values(node);
                    }
                    _ => self.warn(
                        raw,
                        "neither a Kubernetes object (no `kind`) nor gitlab-runner chart values (no `gitlabUrl`, `runners`, `rbac`, `runnerToken`); skipped (use --values FILE for values)"
                            .to_owned(),
                    ),
                }
                return;
            }
            (None, Some(k)) => {
                let at = self.position(raw);
                self.error(
                    at,
                    format!("`{k}` object without `apiVersion`"),
                    Some("every Kubernetes object needs `apiVersion` and `kind`"),
                );
                return;
            }
        };
        match (header.items, level) {
            (ItemsOf::Absent, _) | (ItemsOf::Null | ItemsOf::Other(_), Level::Item) => {}
            // Any object with `items` is a List to kubectl, whatever its kind: its items are
            // applied, the object itself is not (issue #9 E5).
            (ItemsOf::List(items), Level::Top) => {
                let item_kind = kind.strip_suffix("List").unwrap_or(&kind);
                let inherit = (!item_kind.is_empty()).then_some((api_version.as_str(), item_kind));
                if items.len() < PARALLEL_ITEMS {
                    for item in items {
                        self.item(item, inherit);
                    }
                } else {
                    self.items_in_parallel(&items, inherit);
                }
                return;
            }
            (ItemsOf::List(_), Level::Item) => {
                let at = self.position(raw);
                self.error(
                    at,
                    format!("{kind} inside a List has `items`, so Kubernetes clients read it as a List in a List, which kubectl and Helm refuse whole (apimachinery's meta.ExtractList cannot read it)"),
                    Some("put the inner items in the outer List, or in a document of their own"),
                );
                return;
            }
            (ItemsOf::Null, Level::Top) => {
                self.warn(
                    raw,
                    format!("{kind} has `items: null`: kubectl reads any object with `items` as a List, here an empty one, and applies nothing of it; skipped"),
                );
                return;
            }
            (ItemsOf::Other(node), Level::Top) => {
                let at = node.map_or_else(|| self.position(raw), |n| (n.line, n.column));
                self.error(
                    at,
                    format!("{kind} has `items` that is not a list: kubectl reads any object with `items` as a List and cannot decode this one"),
                    Some("`items` is a list of objects"),
                );
                return;
            }
        }
        self.object(raw, &api_version, &kind);
    }

    fn object(&mut self, raw: Raw<'_>, api_version: &str, kind: &str) {
        if self.wrapper(raw, api_version, kind) {
            return;
        }
        let origin = self.origin(raw);
        match (api_version, kind) {
            (RBAC_V1, "Role") => {
                if let Some(r) = self.typed::<rbac::Role>(raw, "Role") {
                    let namespace = self.namespace(raw, &r.metadata, "Role");
                    let labelled = bootstrap_labelled(&r.metadata);
                    if let Some(meta) = self.meta(raw, r.metadata, "Role") {
                        let role = Role {
                            kind: RoleKind::Role,
                            name: meta.0,
                            namespace,
                            labels: meta.1,
                            rules: rules(r.rules),
                            aggregation: None,
                            origin,
                        };
                        self.push_role(role, labelled);
                    }
                }
            }
            (RBAC_V1, "ClusterRole") => {
                if let Some(r) = self.typed::<rbac::ClusterRole>(raw, "ClusterRole") {
                    let aggregation = r.aggregation_rule.map(|a| {
                        a.cluster_role_selectors
                            .unwrap_or_default()
                            .into_iter()
                            .map(crate::workload::selector)
                            .collect()
                    });
                    let labelled = bootstrap_labelled(&r.metadata);
                    if let Some(meta) = self.meta(raw, r.metadata, "ClusterRole") {
                        let role = Role {
                            kind: RoleKind::ClusterRole,
                            name: meta.0,
                            namespace: String::new(),
                            labels: meta.1,
                            rules: rules(r.rules),
                            aggregation,
                            origin,
                        };
                        self.push_role(role, labelled);
                    }
                }
            }
            (RBAC_V1, "RoleBinding") => {
                if let Some(b) = self.typed::<rbac::RoleBinding>(raw, "RoleBinding")
                    && self.check_role_ref(raw, &b.role_ref, "RoleBinding")
                    && self.check_subjects(raw, b.subjects.as_deref(), "RoleBinding")
                {
                    let namespace = self.namespace(raw, &b.metadata, "RoleBinding");
                    let labelled = bootstrap_labelled(&b.metadata);
                    if let Some(meta) = self.meta(raw, b.metadata, "RoleBinding") {
                        let binding = Binding {
                            kind: BindingKind::RoleBinding,
                            name: meta.0,
                            namespace,
                            role_ref: role_ref(b.role_ref),
                            subjects: subjects(b.subjects),
                            origin,
                        };
                        self.push_binding(binding, labelled);
                    }
                }
            }
            (RBAC_V1, "ClusterRoleBinding") => {
                if let Some(b) = self.typed::<rbac::ClusterRoleBinding>(raw, "ClusterRoleBinding")
                    && self.check_role_ref(raw, &b.role_ref, "ClusterRoleBinding")
                    && self.check_subjects(raw, b.subjects.as_deref(), "ClusterRoleBinding")
                {
                    let name = b.metadata.name.clone().unwrap_or_default();
                    if b.role_ref.kind != "ClusterRole" {
                        self.warn(raw, format!(
                            "ClusterRoleBinding `{name}` refers to a {}: it grants nothing (the API server refuses such a binding)",
                            b.role_ref.kind
                        ));
                    }
                    for s in b.subjects.iter().flatten() {
                        if s.kind == "ServiceAccount"
                            && s.namespace.as_deref().unwrap_or_default().is_empty()
                        {
                            self.warn(raw, format!(
                                "ClusterRoleBinding `{name}`: ServiceAccount subject `{}` has no namespace and matches nobody (the API server requires one)",
                                s.name
                            ));
                        }
                    }
                    let labelled = bootstrap_labelled(&b.metadata);
                    if let Some(meta) = self.meta(raw, b.metadata, "ClusterRoleBinding") {
                        let binding = Binding {
                            kind: BindingKind::ClusterRoleBinding,
                            name: meta.0,
                            namespace: String::new(),
                            role_ref: role_ref(b.role_ref),
                            subjects: subjects(b.subjects),
                            origin,
                        };
                        self.push_binding(binding, labelled);
                    }
                }
            }
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
                    let w = crate::workload::workload(object, labels, pod.spec);
                    self.inventory.workloads.push(w);
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
                if let Some(np) = self.typed::<net::NetworkPolicy>(raw, kind) {
                    let object = self.object_ref(raw, api_version, kind, &np.metadata, true);
                    let np = crate::workload::network_policy(object, np);
                    self.inventory.network_policies.push(np);
                }
            }
            ("v1", "LimitRange") => {
                if let Some(lr) = self.typed::<core::LimitRange>(raw, kind) {
                    let object = self.object_ref(raw, api_version, kind, &lr.metadata, true);
                    let lr = crate::workload::limit_range(object, lr);
                    self.inventory.limit_ranges.push(lr);
                }
            }
            ("v1", "ResourceQuota") => {
                if let Some(rq) = self.typed::<core::ResourceQuota>(raw, kind) {
                    let object = self.object_ref(raw, api_version, kind, &rq.metadata, true);
                    let rq = crate::workload::resource_quota(object, rq);
                    self.inventory.resource_quotas.push(rq);
                }
            }
            ("v1", "Secret") => {
                if let Some(s) = self.typed::<crate::workload::SecretShape>(raw, kind) {
                    let object = self.object_ref(raw, api_version, kind, s.metadata(), true);
                    let s = crate::workload::secret(object, s);
                    self.inventory.secrets.push(s);
                }
            }
            ("v1", "ConfigMap") => self.config_map(raw, api_version, kind),
            ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy") => {
                use k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicy;
                if let Some(p) = self.typed::<ValidatingAdmissionPolicy>(raw, kind) {
                    let object = self.object_ref(raw, api_version, kind, &p.metadata, false);
                    let p = crate::workload::admission_policy(object, p);
                    self.inventory.admission_policies.push(p);
                }
            }
            ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding") => {
                use k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicyBinding;
                if let Some(b) = self.typed::<ValidatingAdmissionPolicyBinding>(raw, kind) {
                    let object = self.object_ref(raw, api_version, kind, &b.metadata, false);
                    let b = crate::workload::admission_binding(object, b);
                    self.inventory.admission_bindings.push(b);
                }
            }
            (version, "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding")
                if version.starts_with(RBAC_GROUP) =>
            {
                self.warn(
                    raw,
                    format!(
                        "`{version}` {kind} skipped: Kubernetes has served RBAC only as `{RBAC_V1}` since 1.22"
                    ),
                );
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

    /// A reference to a namespaced (`namespaced`) or cluster-scoped object, with the same
    /// namespace defaulting as RBAC objects.
    fn object_ref(
        &mut self,
        raw: Raw<'_>,
        api_version: &str,
        kind: &str,
        meta: &ObjectMeta,
        namespaced: bool,
    ) -> ObjectRef {
        let namespace = if namespaced {
            self.namespace(raw, meta, kind)
        } else {
            String::new()
        };
        ObjectRef {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            namespace,
            name: meta.name.clone().unwrap_or_default(),
            origin: self.origin(raw),
        }
    }

    /// A workload controller: its pod template's facts.
    fn controller<T: DeserializeOwned>(
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
        let w = crate::workload::workload(object, labels, spec);
        self.inventory.workloads.push(w);
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

    /// `roleRef` is required, with a kind and a name (k8s-openapi defaults a missing one to
    /// empty strings; the API server refuses it).
    fn check_role_ref(&mut self, raw: Raw<'_>, role_ref: &rbac::RoleRef, kind: &str) -> bool {
        if role_ref.name.is_empty() || role_ref.kind.is_empty() {
            let at = match raw {
                Raw::Yaml(node) => node
                    .get("roleRef")
                    .map_or((node.line, node.column), |n| (n.line, n.column)),
                Raw::Json(_) => self.position(raw),
            };
            self.error(
                at,
                format!("invalid {kind}: `roleRef` needs `kind` and `name`"),
                Some("roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role or ClusterRole, name: ...}"),
            );
            return false;
        }
        true
    }

    /// Every subject has a name: the API server refuses a binding with a nameless one
    /// (pkg/apis/rbac/validation/validation.go `ValidateRoleBindingSubject`: "name:
    /// Required value"), while k8s-openapi reads a missing name as empty.
    fn check_subjects(
        &mut self,
        raw: Raw<'_>,
        subjects: Option<&[rbac::Subject]>,
        kind: &str,
    ) -> bool {
        let Some(i) = subjects
            .unwrap_or_default()
            .iter()
            .position(|s| s.name.is_empty())
        else {
            return true;
        };
        let at = match raw {
            Raw::Yaml(node) => match node.get("subjects").map(|n| &n.value) {
                Some(crate::yaml::Value::Seq(items)) => items
                    .get(i)
                    .map_or((node.line, node.column), |n| (n.line, n.column)),
                _ => (node.line, node.column),
            },
            Raw::Json(_) => self.position(raw),
        };
        self.error(
            at,
            format!("invalid {kind}: `subjects[{i}]` has no `name`"),
            Some("the API server refuses a subject without a name: give the ServiceAccount, User or Group name"),
        );
        false
    }

    /// The namespace of a namespaced object; without one, `default`, as `kubectl apply`
    /// without `-n` would use on a fresh context.
    fn namespace(&mut self, raw: Raw<'_>, meta: &ObjectMeta, kind: &str) -> String {
        match meta.namespace.as_deref() {
            Some(ns) if !ns.is_empty() => ns.to_owned(),
            _ => {
                let name = meta.name.as_deref().unwrap_or_default();
                self.warn(
                    raw,
                    format!(
                        "{kind} `{name}` has no `metadata.namespace`; read into `default`, as `kubectl apply` without `-n` would (the audit also checks it where else it could land)"
                    ),
                );
                let origin = self.origin(raw);
                self.inventory.unnamespaced.push(origin);
                "default".to_owned()
            }
        }
    }

    /// Kubernetes' own default RBAC as a cluster serves it (`kubectl get -o yaml`,
    /// `snapshot --live`), labelled `kubernetes.io/bootstrapping: rbac-defaults` by the API
    /// server, counts as the embedded default policy does (a `builtin:` origin) only when it
    /// grants no more than the embedded default of its kind and name (`within`:
    /// [`within_default_role`], [`within_default_binding`]). The label and the name are
    /// written by whoever wrote the file: alone they never hide a grant (issue #9), so a
    /// default someone widened, or an object merely labelled and named like one, is audited
    /// as written, with a warning naming it (`what`). The `builtin:` origin replacing
    /// `origin`, if any.
    fn default_origin(
        &mut self,
        origin: &Origin,
        labelled: bool,
        within: impl FnOnce() -> bool,
        what: impl FnOnce() -> String,
    ) -> Option<Origin> {
        // The embedded files themselves are the defaults (and reading them is what builds
        // the policy `within` compares with: asking it here would wait on itself).
        if !labelled || self.file.starts_with("builtin:") {
            return None;
        }
        if !within() {
            let what = what();
            self.warnings.push(Warning {
                file: self.file.clone(),
                line: origin.line,
                message: format!(
                    "{what} is labelled kubernetes.io/bootstrapping: rbac-defaults but grants more than Kubernetes' default of that name, or is none: audited as any other object"
                ),
            });
            return None;
        }
        Some(Origin::new(
            Arc::from(format!("builtin:{}", self.file)),
            origin.line,
            origin.column,
        ))
    }

    fn push_role(&mut self, mut role: Role, labelled: bool) {
        if let Some(origin) = self.default_origin(
            &role.origin,
            labelled,
            || within_default_role(&role),
            || described(role.kind.as_str(), &role.namespace, &role.name),
        ) {
            role.origin = origin;
        }
        self.inventory.roles.push(role);
    }

    fn push_binding(&mut self, mut binding: Binding, labelled: bool) {
        if let Some(origin) = self.default_origin(
            &binding.origin,
            labelled,
            || within_default_binding(&binding),
            || described(binding.kind.as_str(), &binding.namespace, &binding.name),
        ) {
            binding.origin = origin;
        }
        self.inventory.bindings.push(binding);
    }

    /// Name and labels, or a diagnostic when the object has no name.
    fn meta(
        &mut self,
        raw: Raw<'_>,
        meta: ObjectMeta,
        kind: &str,
    ) -> Option<(String, BTreeMap<String, String>)> {
        match meta.name {
            Some(name) if !name.is_empty() => Some((name, meta.labels.unwrap_or_default())),
            _ => {
                let at = self.position(raw);
                self.error(
                    at,
                    format!("{kind} without `metadata.name`"),
                    Some("the API server rejects objects without a name"),
                );
                None
            }
        }
    }
}

/// ``Kind `ns/name` ``, or ``Kind `name` `` for cluster-scoped objects.
fn described(kind: &str, namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        format!("{kind} `{name}`")
    } else {
        format!("{kind} `{namespace}/{name}`")
    }
}

/// Whether the API server labelled the object as part of its default policy.
fn bootstrap_labelled(meta: &ObjectMeta) -> bool {
    meta.labels
        .as_ref()
        .and_then(|l| l.get("kubernetes.io/bootstrapping"))
        .is_some_and(|v| v == "rbac-defaults")
}

/// A role grants no more than the embedded default of its kind and name: a Role or a plain
/// ClusterRole holds only rules the default holds; a ClusterRole that aggregates selects
/// exactly as the default does (its rules are recomputed from the roles it selects, as the
/// aggregation controller does, so what it holds itself does not count).
fn within_default_role(role: &Role) -> bool {
    let Some(defaults) = crate::bootstrap::policy() else {
        return false;
    };
    defaults.roles.iter().any(|d| {
        d.kind == role.kind
            && d.namespace == role.namespace
            && d.name == role.name
            && match (&d.aggregation, &role.aggregation) {
                (Some(want), Some(got)) => want == got,
                (None, None) => role.rules.iter().all(|r| d.rules.contains(r)),
                _ => false,
            }
    })
}

/// A binding grants no more than the embedded default of its kind and name: the same role,
/// and no subject the default does not name.
fn within_default_binding(binding: &Binding) -> bool {
    let Some(defaults) = crate::bootstrap::policy() else {
        return false;
    };
    defaults.bindings.iter().any(|d| {
        d.kind == binding.kind
            && d.namespace == binding.namespace
            && d.name == binding.name
            && d.role_ref == binding.role_ref
            && binding.subjects.iter().all(|s| d.subjects.contains(s))
    })
}

/// `serde_json` appends " at line L column C" relative to the object; the diagnostic places it.
fn strip_json_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn rules(rules: Option<Vec<rbac::PolicyRule>>) -> Vec<PolicyRule> {
    rules
        .unwrap_or_default()
        .into_iter()
        .map(|r| PolicyRule {
            verbs: r.verbs,
            api_groups: r.api_groups.unwrap_or_default(),
            resources: r.resources.unwrap_or_default(),
            resource_names: r.resource_names.unwrap_or_default(),
            non_resource_urls: r.non_resource_urls.unwrap_or_default(),
        })
        .collect()
}

fn role_ref(r: rbac::RoleRef) -> RoleRef {
    RoleRef {
        api_group: r.api_group.unwrap_or_default(),
        kind: r.kind,
        name: r.name,
    }
}

fn subjects(subjects: Option<Vec<rbac::Subject>>) -> Vec<Subject> {
    subjects
        .unwrap_or_default()
        .into_iter()
        .map(|s| Subject {
            kind: s.kind,
            api_group: s.api_group.unwrap_or_default(),
            name: s.name,
            namespace: s.namespace.unwrap_or_default(),
        })
        .collect()
}
