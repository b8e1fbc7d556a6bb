//! Objects that carry chart values or other objects: Argo CD `Application`
//! (`spec.source(s).helm.valuesObject`, `.values`, `.parameters`), Flux `HelmRelease`
//! (`spec.values`), OpenShift `Template` (`objects`). GitOps repositories hold runner setups in
//! these shapes; reading past them is the difference between an audit and an audit of nothing.

use crate::object::{Raw, Sink};
use crate::yaml::{self, Node, Value};

impl Sink<'_> {
    /// Reads `raw` when it is a wrapper; `false` when it is not one.
    pub(crate) fn wrapper(&mut self, raw: Raw<'_>, api_version: &str, kind: &str) -> bool {
        let is_argo = api_version.starts_with("argoproj.io/") && kind == "Application";
        let is_flux = api_version.starts_with("helm.toolkit.fluxcd.io/") && kind == "HelmRelease";
        let is_template = (api_version == "template.openshift.io/v1" || api_version == "v1")
            && kind == "Template";
        if !(is_argo || is_flux || is_template) {
            return false;
        }
        let owned;
        let node = match raw {
            Raw::Yaml(node) => node,
            // JSON is YAML: re-read the object as YAML (positions are then relative to it).
            Raw::Json(text) => match yaml::parse_documents(text) {
                Ok(mut docs) if docs.len() == 1 => {
                    owned = docs.remove(0);
                    &owned
                }
                _ => return false,
            },
        };
        let name = format!(
            "{}{}",
            node.get("metadata")
                .and_then(|m| m.get_str("namespace"))
                .map(|n| format!("{n}/"))
                .unwrap_or_default(),
            node.get("metadata")
                .and_then(|m| m.get_str("name"))
                .unwrap_or_default()
        );
        if is_argo {
            self.argo_application(raw, node, &name);
        } else if is_flux {
            self.flux_helm_release(raw, node, &name);
        } else {
            self.openshift_template(raw, node, &name);
        }
        true
    }

    fn argo_application(&mut self, raw: Raw<'_>, node: &Node, name: &str) {
        let Some(spec) = node.get("spec") else { return };
        let destination = spec
            .get("destination")
            .and_then(|d| d.get_str("namespace"))
            .map(str::to_owned);
        let mut sources: Vec<&Node> = spec.get("source").into_iter().collect();
        if let Some(Node {
            value: Value::Seq(items),
            ..
        }) = spec.get("sources")
        {
            sources.extend(items.iter());
        }
        let mut found = false;
        let mut hint = String::new();
        for source in sources {
            let chart = source.get_str("chart").unwrap_or_default();
            let path = source.get_str("path").unwrap_or_default();
            let Some(helm) = source.get("helm") else {
                continue;
            };
            let is_runner = chart == "gitlab-runner" || path.contains("gitlab-runner");
            let hints = runnerguard_model::ReleaseHints {
                wrapper: Some(format!("Argo CD Application `{name}`")),
                chart_version: source
                    .get_str("targetRevision")
                    .filter(|_| !chart.is_empty())
                    .map(str::to_owned),
                release_name: helm.get_str("releaseName").map(str::to_owned),
                release_namespace: destination.clone(),
            };
            let before = self.inventory.helm_values.len();
            if let Some(values) = helm.get("valuesObject") {
                self.wrapped_values(values, is_runner, &hints);
            } else if let Some(values) = helm.get("values") {
                self.wrapped_values_text(raw, values, is_runner, &hints);
            } else if is_runner {
                self.wrapped_values(&empty_map(helm), true, &hints);
            }
            let added = self.inventory.helm_values.len() > before;
            found |= added;
            if !added && hint.is_empty() {
                hint = nested_hint(helm.get("valuesObject"));
            }
            if added
                && let Some(Node {
                    value: Value::Seq(params),
                    ..
                }) = helm.get("parameters")
            {
                let index = self.inventory.helm_values.len() - 1;
                apply_parameters(&mut self.inventory.helm_values[index], params);
            }
            if added && helm.get("valueFiles").is_some() {
                self.warn(raw, format!(
                    "Argo CD Application `{name}`: `helm.valueFiles` live in the chart's repository and are not read; give them with --values"
                ));
            }
        }
        if !found {
            self.warn(
                raw,
                format!(
                    "Argo CD Application `{name}` holds no gitlab-runner chart values; skipped{hint}"
                ),
            );
        }
    }

    fn flux_helm_release(&mut self, raw: Raw<'_>, node: &Node, name: &str) {
        let Some(spec) = node.get("spec") else { return };
        let chart_spec = spec.get("chart").and_then(|c| c.get("spec"));
        let chart = chart_spec
            .and_then(|c| c.get_str("chart"))
            .unwrap_or_default();
        let hints = runnerguard_model::ReleaseHints {
            wrapper: Some(format!("Flux HelmRelease `{name}`")),
            chart_version: chart_spec
                .and_then(|c| c.get_str("version"))
                .map(str::to_owned),
            release_name: spec.get_str("releaseName").map(str::to_owned),
            release_namespace: spec
                .get_str("targetNamespace")
                .or_else(|| node.get("metadata").and_then(|m| m.get_str("namespace")))
                .map(str::to_owned),
        };
        let is_runner = chart.contains("gitlab-runner");
        let before = self.inventory.helm_values.len();
        match spec.get("values") {
            Some(values) => self.wrapped_values(values, is_runner, &hints),
            None if is_runner => self.wrapped_values(&empty_map(spec), true, &hints),
            None => {}
        }
        if self.inventory.helm_values.len() == before {
            let hint = nested_hint(spec.get("values"));
            self.warn(
                raw,
                format!(
                    "Flux HelmRelease `{name}` holds no gitlab-runner chart values; skipped{hint}"
                ),
            );
        } else if spec.get("valuesFrom").is_some() {
            self.warn(raw, format!(
                "Flux HelmRelease `{name}`: `valuesFrom` (ConfigMaps, Secrets) is not read; the audit sees `spec.values` only"
            ));
        }
    }

    fn openshift_template(&mut self, raw: Raw<'_>, node: &Node, name: &str) {
        let Some(Node {
            value: Value::Seq(objects),
            ..
        }) = node.get("objects")
        else {
            self.warn(
                raw,
                format!("OpenShift Template `{name}` has no `objects`; skipped"),
            );
            return;
        };
        if node.get("parameters").is_some() {
            self.warn(raw, format!(
                "OpenShift Template `{name}`: its objects are read as written; `${{PARAMETER}}` references are not substituted"
            ));
        }
        for object in objects {
            self.item(Raw::Yaml(object), None);
        }
    }

    /// Values in a wrapper: read when the wrapper installs the gitlab-runner chart or the
    /// values look like its values.
    fn wrapped_values(
        &mut self,
        values: &Node,
        is_runner: bool,
        hints: &runnerguard_model::ReleaseHints,
    ) {
        // `--values-key`: the chart's values sit under an umbrella chart's alias.
        let values = match self.values_key.and_then(|k| values.get(k)) {
            Some(nested) if nested.is_map() => nested,
            _ => values,
        };
        if !values.is_map() || !(is_runner || crate::runner::looks_like_values(values)) {
            return;
        }
        self.helm_values(values);
        if let Some(v) = self.inventory.helm_values.last_mut() {
            v.release = hints.clone();
        }
    }

    /// Values written as a YAML string (`helm.values: |`), placed in the file.
    fn wrapped_values_text(
        &mut self,
        raw: Raw<'_>,
        value: &Node,
        is_runner: bool,
        hints: &runnerguard_model::ReleaseHints,
    ) {
        let Value::String(text) = &value.value else {
            return;
        };
        match yaml::parse_documents(text) {
            Ok(mut docs) if !docs.is_empty() => {
                let mut doc = docs.remove(0);
                let quoted = matches!(
                    crate::runner::placement_of(self.text, value),
                    crate::runner::Placement::At { .. }
                );
                shift(&mut doc, value.line, value.column, quoted);
                self.wrapped_values(&doc, is_runner, hints);
            }
            Ok(_) => {}
            Err(e) => self.warn(
                raw,
                format!(
                    "values string in the wrapper is not valid YAML ({}); skipped",
                    e.message
                ),
            ),
        }
    }
}

/// `; its `KEY:` holds what looks like them: give --values-key KEY` when a key of `values`
/// holds what is surely the chart's values (an umbrella chart's alias), else nothing.
fn nested_hint(values: Option<&Node>) -> String {
    let Some(crate::yaml::Value::Map(entries)) = values.map(|v| &v.value) else {
        return String::new();
    };
    entries
        .iter()
        .find_map(|(k, v)| match &k.value {
            crate::yaml::Value::String(key) if crate::runner::surely_values(v) => Some(format!(
                "; its `{key}:` holds what looks like them (an umbrella chart's subchart alias?): give --values-key {key}"
            )),
            _ => None,
        })
        .unwrap_or_default()
}

/// An empty values mapping placed at `at`.
fn empty_map(at: &Node) -> Node {
    Node {
        line: at.line,
        column: at.column,
        value: Value::Map(Vec::new()),
    }
}

/// Moves a node parsed from a block scalar to its place in the file.
fn shift(node: &mut Node, line: u32, column: u32, quoted: bool) {
    if quoted {
        node.line = line;
        node.column = column;
    } else {
        node.line += line.saturating_sub(1);
        node.column += column.saturating_sub(1);
    }
    match &mut node.value {
        Value::Seq(items) => items
            .iter_mut()
            .for_each(|i| shift(i, line, column, quoted)),
        Value::Map(entries) => {
            for (k, v) in entries {
                shift(k, line, column, quoted);
                shift(v, line, column, quoted);
            }
        }
        _ => {}
    }
}

/// Argo CD `helm.parameters` (`--set name=value`) applied over the values document.
fn apply_parameters(values: &mut runnerguard_model::HelmValues, params: &[Node]) {
    let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(&values.document) else {
        return;
    };
    for p in params {
        let (Some(name), Some(value)) = (p.get_str("name"), p.get("value")) else {
            continue;
        };
        let text = match &value.value {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            _ => continue,
        };
        // `--set` typing (strvals): true/false and integers are typed unless `forceString`.
        let force = matches!(
            p.get("forceString").map(|f| &f.value),
            Some(Value::Bool(true))
        );
        let typed = if force {
            serde_json::Value::String(text)
        } else if text == "true" || text == "false" {
            serde_json::Value::Bool(text == "true")
        } else if let Ok(i) = text.parse::<i64>() {
            serde_json::Value::from(i)
        } else {
            serde_json::Value::String(text)
        };
        let mut cur = &mut doc;
        let parts: Vec<&str> = name.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            if !cur.is_object() {
                *cur = serde_json::Value::Object(serde_json::Map::new());
            }
            let map = cur
                .as_object_mut()
                .unwrap_or_else(|| unreachable!("made an object above"));
            if i + 1 == parts.len() {
                map.insert((*part).to_owned(), typed.clone());
                break;
            }
            cur = map
                .entry((*part).to_owned())
                .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        }
    }
    values.document = doc.to_string();
}
