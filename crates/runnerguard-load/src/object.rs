//! One document at a time: recognise its kind, unwrap Lists, deserialize through the
//! `k8s-openapi` type and convert to the model.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::rbac::v1 as k8s_rbac;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use runnerguard_model::{BindingKind, Inventory, ObjectRef, Origin, RoleKind};
use serde::de::DeserializeOwned;

use rayon::prelude::*;

use crate::json::{Cursor, LineIndex, offset_in};
use crate::yaml::Node;
use crate::{Diagnostic, Warning};

mod default_origin;
mod rbac;
mod workloads;

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
            (RBAC_V1, "Role") => self.role::<k8s_rbac::Role>(raw, RoleKind::Role, origin, |r| {
                (r.metadata, r.rules, None)
            }),
            (RBAC_V1, "ClusterRole") => {
                self.role::<k8s_rbac::ClusterRole>(raw, RoleKind::ClusterRole, origin, |r| {
                    (r.metadata, r.rules, r.aggregation_rule)
                });
            }
            (RBAC_V1, "RoleBinding") => {
                self.binding::<k8s_rbac::RoleBinding>(raw, BindingKind::RoleBinding, origin, |b| {
                    (b.metadata, b.role_ref, b.subjects)
                });
            }
            (RBAC_V1, "ClusterRoleBinding") => {
                let kind = BindingKind::ClusterRoleBinding;
                self.binding::<k8s_rbac::ClusterRoleBinding>(raw, kind, origin, |b| {
                    (b.metadata, b.role_ref, b.subjects)
                });
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
            _ => self.other_object(raw, api_version, kind, origin),
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

/// `serde_json` appends " at line L column C" relative to the object; the diagnostic places it.
fn strip_json_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}
