//! From `-f` arguments to an inventory: find the files, read them, collect every problem.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use runnerguard_model::{Binding, BindingKind, Inventory, Origin, Role};

use crate::json::{self, LineIndex};
use crate::object::{Raw, Sink};
use crate::{Diagnostic, Error, Result, Warning, yaml};

mod dedup;
mod files;

use dedup::dedup;
pub(crate) use dedup::merge_defaults;
pub(crate) use files::{is_manifest, too_large};
use files::{manifest_files, read_capped, read_file};

/// One `-f` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A file, or a directory searched recursively for `*.yaml`, `*.yml` and `*.json`.
    Path(PathBuf),
    /// Standard input (`-f -`).
    Stdin,
    /// A Helm values file for the gitlab-runner chart (`--values FILE`): documents without
    /// `kind` are read as values whatever their keys.
    Values(PathBuf),
    /// A file's bytes read elsewhere (a file at a git revision), read as a file named `name`
    /// would be: `*.toml` as a runner configuration, anything else as manifests; bytes that
    /// are not UTF-8 are a problem of that input, as for a file.
    Bytes {
        /// The name it is shown under, in origins and problems.
        name: String,
        /// The contents.
        bytes: Vec<u8>,
    },
}

/// How a text is to be read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// YAML or JSON manifests; values files recognised by their keys.
    Manifests,
    /// Helm values.
    Values,
    /// A runner `config.toml`.
    Toml,
}

impl Input {
    /// `-` is standard input; anything else a path.
    pub fn parse(arg: &str) -> Self {
        if arg == "-" {
            Self::Stdin
        } else {
            Self::Path(PathBuf::from(arg))
        }
    }
}

/// How to read the inputs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadOptions {
    /// Values nested under this top-level key are the chart's values (an umbrella chart's
    /// subchart alias, such as Big Bang's `upstream:`): `--values-key`.
    pub values_key: Option<String>,
    /// Keep going past inputs that cannot be read: their problems go to
    /// [`Loaded::unreadable`] instead of failing the load, unless nothing at all was read.
    pub keep_going: bool,
}

impl LoadOptions {
    /// Values under `key` (see [`LoadOptions::values_key`]).
    #[must_use]
    pub fn values_key(mut self, key: Option<String>) -> Self {
        self.values_key = key;
        self
    }

    /// Keep going past unreadable inputs (see [`LoadOptions::keep_going`]).
    #[must_use]
    pub fn keep_going(mut self, yes: bool) -> Self {
        self.keep_going = yes;
        self
    }
}

/// At most this many problems are kept; the rest are counted ([`Loaded::more_problems`]).
/// 10,000 malformed documents must not make 10,000 reports (or hold 10,000 snippets).
pub const MAX_DIAGNOSTICS: usize = 100;

/// What loading produced.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The objects, in input order, later duplicates replacing earlier ones in place.
    pub inventory: Inventory,
    /// Things noticed that did not stop loading (skipped documents, assumed namespaces,
    /// replaced duplicates).
    pub warnings: Vec<Warning>,
    /// How many files (and stdin) were read.
    pub files: usize,
    /// With [`LoadOptions::keep_going`]: the problems of inputs that could not be read, in
    /// input order, at most [`MAX_DIAGNOSTICS`]. What the audit saw is then incomplete.
    pub unreadable: Vec<Diagnostic>,
    /// Problems found beyond the [`MAX_DIAGNOSTICS`] kept.
    pub more_problems: usize,
}

impl Loaded {
    /// Whether nothing at all was read: no object, no values, no runner configuration.
    pub fn is_empty(&self) -> bool {
        self.inventory.is_empty()
    }

    /// Folds objects of the same kind, namespace and name into one, the later replacing the
    /// earlier in its place with a warning, as loading does: for objects that came to repeat
    /// one another after loading (placed in a namespace, rendered from a chart). Adding the
    /// default policy ([`Loaded::add_default_policy`]) does this too.
    pub fn deduplicate(&mut self) {
        dedup(self);
    }

    /// Puts the namespaced objects read without a namespace into `namespace`, as
    /// `kubectl apply -n NAMESPACE` (or Helm's release namespace) would.
    pub fn place_unnamespaced(&mut self, namespace: &str) {
        let origins = std::mem::take(&mut self.inventory.unnamespaced);
        if origins.is_empty() {
            return;
        }
        let set: std::collections::HashSet<&Origin> = origins.iter().collect();
        let inv = &mut self.inventory;
        let place = |ns: &mut String, origin: &Origin| {
            if ns == DEFAULT_NAMESPACE && set.contains(origin) {
                namespace.clone_into(ns);
            }
        };
        for r in &mut inv.roles {
            place(&mut r.namespace, &r.origin);
        }
        for b in &mut inv.bindings {
            place(&mut b.namespace, &b.origin);
        }
        for s in &mut inv.service_accounts {
            place(&mut s.namespace, &s.origin);
        }
        let objects = inv
            .workloads
            .iter_mut()
            .map(|w| &mut w.object)
            .chain(inv.network_policies.iter_mut().map(|n| &mut n.object))
            .chain(inv.limit_ranges.iter_mut().map(|l| &mut l.object))
            .chain(inv.resource_quotas.iter_mut().map(|q| &mut q.object))
            .chain(inv.secrets.iter_mut().map(|s| &mut s.object))
            .chain(inv.others.iter_mut().map(|o| &mut o.object));
        for o in objects {
            place(&mut o.namespace, &o.origin);
        }
    }

    /// Copies the Roles and RoleBindings read without a namespace into each of `namespaces`
    /// as well, where one of the same name is not already given, and returns the names of
    /// the objects copied (`Role x (file:line)`).
    ///
    /// Only grants are copied: a copy can only add rights, so an object that could land in a
    /// runner's namespace is judged there, and nothing is hidden by guessing wrong. Objects
    /// that restrict (NetworkPolicies, admission policies) stay where they were read.
    pub fn spread_unnamespaced(&mut self, namespaces: &[String]) -> Vec<String> {
        let origins = &self.inventory.unnamespaced;
        if origins.is_empty() {
            return Vec::new();
        }
        let set: std::collections::HashSet<&Origin> = origins.iter().collect();
        let inv = &self.inventory;
        let unplaced = |ns: &str, origin: &Origin| ns == DEFAULT_NAMESPACE && set.contains(origin);
        let roles: Vec<Role> = inv
            .roles
            .iter()
            .filter(|r| unplaced(&r.namespace, &r.origin))
            .cloned()
            .collect();
        let bindings: Vec<Binding> = inv
            .bindings
            .iter()
            .filter(|b| unplaced(&b.namespace, &b.origin))
            .cloned()
            .collect();
        let mut named: Vec<String> = roles
            .iter()
            .map(|r| format!("{} `{}` ({})", r.kind.as_str(), r.name, r.origin))
            .chain(
                bindings
                    .iter()
                    .map(|b| format!("{} `{}` ({})", b.kind.as_str(), b.name, b.origin)),
            )
            .collect();
        named.dedup();
        let taken_role = |ns: &str, name: &str, kind| {
            inv.roles
                .iter()
                .any(|r| r.namespace == ns && r.name == name && r.kind == kind)
        };
        let taken_binding = |ns: &str, name: &str| {
            inv.bindings
                .iter()
                .any(|b| b.namespace == ns && b.name == name && b.kind == BindingKind::RoleBinding)
        };
        let mut new_roles = Vec::new();
        let mut new_bindings = Vec::new();
        for ns in namespaces
            .iter()
            .filter(|ns| ns.as_str() != DEFAULT_NAMESPACE)
        {
            for r in roles.iter().filter(|r| !taken_role(ns, &r.name, r.kind)) {
                let mut copy = r.clone();
                copy.namespace.clone_from(ns);
                new_roles.push(copy);
            }
            for b in bindings.iter().filter(|b| !taken_binding(ns, &b.name)) {
                let mut copy = b.clone();
                copy.namespace.clone_from(ns);
                new_bindings.push(copy);
            }
        }
        self.inventory.roles.extend(new_roles);
        self.inventory.bindings.extend(new_bindings);
        named
    }
}

/// Where `kubectl apply` without `-n` puts a namespaced object that names no namespace.
const DEFAULT_NAMESPACE: &str = "default";

/// Reads every input. All malformed documents are reported together in
/// [`Error::Invalid`]; nothing is returned when any is malformed.
pub fn load_inputs(inputs: &[Input]) -> Result<Loaded> {
    load_inputs_with(inputs, &LoadOptions::default())
}

/// Reads every input as `options` say.
///
/// Without [`LoadOptions::keep_going`], any malformed document fails the load with all
/// problems in [`Error::Invalid`]. With it, the problems are kept in [`Loaded::unreadable`]
/// and the rest is returned; the load still fails when nothing at all could be read.
/// A path that does not exist, a directory without manifests and empty stdin always fail:
/// those are mistakes in the command, not in a file.
pub fn load_inputs_with(inputs: &[Input], options: &LoadOptions) -> Result<Loaded> {
    let mut loaded = Loaded::default();
    let mut diagnostics = Vec::new();
    for input in inputs {
        match input {
            Input::Stdin => {
                let bytes = read_capped(std::io::stdin().lock(), Path::new("-"))?;
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    return Err(Error::EmptyStdin);
                }
                let name: Arc<str> = Arc::from("-");
                load_bytes(
                    &name,
                    &bytes,
                    Mode::Manifests,
                    options,
                    &mut loaded,
                    &mut diagnostics,
                );
            }
            Input::Bytes { name, bytes } => {
                let name: Arc<str> = Arc::from(name.as_str());
                let mode = mode_of(&name);
                load_bytes(&name, bytes, mode, options, &mut loaded, &mut diagnostics);
            }
            Input::Path(path) | Input::Values(path) => {
                let files = manifest_files(path)?;
                for file in files {
                    let mode = if matches!(input, Input::Values(_)) {
                        Mode::Values
                    } else if file.extension().is_some_and(|e| e == "toml") {
                        Mode::Toml
                    } else {
                        Mode::Manifests
                    };
                    let bytes = read_file(&file)?;
                    let name: Arc<str> = Arc::from(file.display().to_string());
                    load_bytes(&name, &bytes, mode, options, &mut loaded, &mut diagnostics);
                }
            }
        }
        cap(&mut diagnostics, &mut loaded.more_problems);
    }
    if !diagnostics.is_empty() {
        if !options.keep_going || loaded.is_empty() {
            return Err(Error::Invalid(diagnostics, loaded.more_problems));
        }
        loaded.unreadable = diagnostics;
    }
    dedup(&mut loaded);
    Ok(loaded)
}

/// Keeps the first [`MAX_DIAGNOSTICS`] problems and counts the others.
fn cap(diagnostics: &mut Vec<Diagnostic>, more: &mut usize) {
    if diagnostics.len() > MAX_DIAGNOSTICS {
        *more += diagnostics.len() - MAX_DIAGNOSTICS;
        diagnostics.truncate(MAX_DIAGNOSTICS);
    }
}

/// Where a file stops being UTF-8.
/// Reads `bytes` named `name` as `mode` says, or records that they are not UTF-8.
fn load_bytes(
    name: &Arc<str>,
    bytes: &[u8],
    mode: Mode,
    options: &LoadOptions,
    loaded: &mut Loaded,
    diagnostics: &mut Vec<Diagnostic>,
) {
    match std::str::from_utf8(bytes) {
        Ok(text) => load_text(name, text, mode, options, loaded, diagnostics),
        Err(e) => {
            diagnostics.push(not_utf8(name, bytes, e));
            loaded.files += 1;
        }
    }
}

/// Where `bytes` stop being UTF-8 (`e`).
fn not_utf8(name: &Arc<str>, bytes: &[u8], e: std::str::Utf8Error) -> Diagnostic {
    let valid = e.valid_up_to();
    let before = &bytes[..valid];
    let line = before.split(|&b| b == b'\n').count();
    let column = valid
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    // The valid part is shown (redacted as any window), up to where the bytes stop being text.
    let text = std::str::from_utf8(before).unwrap_or_default();
    Diagnostic::new(
        name,
        text,
        (json::to_u32(line), json::to_u32(column)),
        "not UTF-8 text: manifests must be UTF-8 YAML or JSON".to_owned(),
    )
}

/// Reads manifests from a string, as if from a file named `name`.
pub fn load_str(name: &str, text: &str) -> Result<Loaded> {
    let mut loaded = Loaded::default();
    let mut diagnostics = Vec::new();
    let mode = mode_of(name);
    load_text(
        &Arc::from(name),
        text,
        mode,
        &LoadOptions::default(),
        &mut loaded,
        &mut diagnostics,
    );
    if !diagnostics.is_empty() {
        return Err(Error::Invalid(diagnostics, loaded.more_problems));
    }
    dedup(&mut loaded);
    Ok(loaded)
}

/// How a text named `name` is read: `*.toml` as a runner configuration, else as manifests.
fn mode_of(name: &str) -> Mode {
    if Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
    {
        Mode::Toml
    } else {
        Mode::Manifests
    }
}

fn load_text(
    name: &Arc<str>,
    text: &str,
    mode: Mode,
    options: &LoadOptions,
    loaded: &mut Loaded,
    diagnostics: &mut Vec<Diagnostic>,
) {
    loaded.files += 1;
    if mode == Mode::Toml {
        load_toml(name, text, loaded, diagnostics);
        return;
    }
    if mode == Mode::Manifests && json::looks_like_json(text) {
        let lines = LineIndex::new(text);
        match json::parse_documents(text) {
            Ok(docs) => {
                let mut sink = Sink {
                    file: name,
                    text,
                    lines: Some(&lines),
                    cursor: json::Cursor::default(),
                    inventory: &mut loaded.inventory,
                    warnings: &mut loaded.warnings,
                    diagnostics,
                    values: false,
                    dropped: 0,
                    values_key: options.values_key.as_deref(),
                };
                for doc in docs {
                    sink.json_document(doc);
                }
                let dropped = sink.dropped;
                loaded.more_problems += dropped;
            }
            Err(e) => {
                let line = json::to_u32(e.line()).max(1);
                let column = json::to_u32(e.column()).max(1);
                let message = e.to_string();
                let message = message
                    .rfind(" at line ")
                    .map_or(message.as_str(), |i| &message[..i]);
                diagnostics.push(Diagnostic::new(
                    name,
                    text,
                    (line, column),
                    format!("invalid JSON: {message}"),
                ));
            }
        }
        return;
    }
    match yaml::parse_documents(text) {
        Ok(docs) => {
            let mut sink = Sink {
                file: name,
                text,
                lines: None,
                cursor: json::Cursor::default(),
                inventory: &mut loaded.inventory,
                warnings: &mut loaded.warnings,
                diagnostics,
                values: mode == Mode::Values,
                dropped: 0,
                values_key: options.values_key.as_deref(),
            };
            for doc in &docs {
                match nested_values(doc, options.values_key.as_deref()) {
                    Nested::Under(values) => {
                        let was = std::mem::replace(&mut sink.values, true);
                        sink.document(Raw::Yaml(values), None);
                        sink.values = was;
                    }
                    Nested::Hint(key) => sink.warn(
                        Raw::Yaml(doc),
                        format!(
                            "`{key}:` holds what looks like gitlab-runner chart values (an umbrella chart's subchart alias?); skipped: give --values-key {key} to read them"
                        ),
                    ),
                    Nested::No => sink.document(Raw::Yaml(doc), None),
                }
            }
            let dropped = sink.dropped;
            loaded.more_problems += dropped;
        }
        Err(e) => diagnostics.push(Diagnostic::new(
            name,
            text,
            (e.line, e.column),
            format!("invalid YAML: {}", e.message),
        )),
    }
}

/// Whether a document holds the chart's values under a key.
enum Nested<'a> {
    /// Under `--values-key`.
    Under(&'a yaml::Node),
    /// Not asked for, but a key's mapping looks like runner values: name the key.
    Hint(String),
    No,
}

fn nested_values<'a>(doc: &'a yaml::Node, values_key: Option<&str>) -> Nested<'a> {
    if doc.get("kind").is_some() {
        return Nested::No;
    }
    if let Some(key) = values_key {
        return match doc.get(key) {
            Some(values) if values.is_map() => Nested::Under(values),
            _ => Nested::No,
        };
    }
    if crate::runner::looks_like_values(doc) {
        return Nested::No;
    }
    let yaml::Value::Map(entries) = &doc.value else {
        return Nested::No;
    };
    entries
        .iter()
        .find_map(|(k, v)| match &k.value {
            yaml::Value::String(key) if crate::runner::surely_values(v) => {
                Some(Nested::Hint(key.clone()))
            }
            _ => None,
        })
        .unwrap_or(Nested::No)
}

/// A runner `config.toml`; other TOML files are skipped with a warning.
fn load_toml(name: &Arc<str>, text: &str, loaded: &mut Loaded, diagnostics: &mut Vec<Diagnostic>) {
    let src = crate::runner::TomlSource {
        file: name,
        toml: text,
        placement: crate::runner::Placement::File,
    };
    match crate::runner::runner_config(&src, runnerguard_model::RunnerConfigSource::File, false) {
        Ok(Some(config)) => loaded.inventory.runner_configs.push(config),
        Ok(None) => loaded.warnings.push(Warning {
            file: name.clone(),
            line: 0,
            message: "not a GitLab Runner config.toml (no `[[runners]]`); skipped".to_owned(),
        }),
        Err(e) => diagnostics.push(Diagnostic::new(
            name,
            text,
            e.at,
            format!("invalid TOML: {}", e.message),
        )),
    }
}

#[cfg(test)]
mod tests;
