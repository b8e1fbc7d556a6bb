//! From `-f` arguments to an inventory: find the files, read them, collect every problem.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use runnerguard_model::Inventory;

use crate::json::{self, LineIndex};
use crate::object::{Raw, Sink};
use crate::{Diagnostic, Error, Result, Warning, yaml};

/// One `-f` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A file, or a directory searched recursively for `*.yaml`, `*.yml` and `*.json`.
    Path(PathBuf),
    /// Standard input (`-f -`).
    Stdin,
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
}

/// Reads every input. All malformed documents are reported together in
/// [`Error::Invalid`]; nothing is returned when any is malformed.
pub fn load_inputs(inputs: &[Input]) -> Result<Loaded> {
    let mut loaded = Loaded::default();
    let mut diagnostics = Vec::new();
    for input in inputs {
        match input {
            Input::Stdin => {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|e| Error::Io {
                        path: "-".to_owned(),
                        message: e.to_string(),
                    })?;
                load_text(&Arc::from("-"), text, &mut loaded, &mut diagnostics);
            }
            Input::Path(path) => {
                let files = manifest_files(path)?;
                for file in files {
                    let bytes = std::fs::read(&file).map_err(|e| io_error(&file, &e))?;
                    let name: Arc<str> = Arc::from(file.display().to_string());
                    match String::from_utf8(bytes) {
                        Ok(text) => load_text(&name, text, &mut loaded, &mut diagnostics),
                        Err(e) => {
                            let text: Arc<str> = Arc::from("");
                            let valid = e.utf8_error().valid_up_to();
                            let before = &e.as_bytes()[..valid];
                            let line = before.split(|&b| b == b'\n').count();
                            let column = valid
                                - before
                                    .iter()
                                    .rposition(|&b| b == b'\n')
                                    .map_or(0, |i| i + 1)
                                + 1;
                            diagnostics.push(Diagnostic::new(
                                &name,
                                &text,
                                (json::to_u32(line), json::to_u32(column)),
                                "not UTF-8 text: manifests must be UTF-8 YAML or JSON".to_owned(),
                            ));
                            loaded.files += 1;
                        }
                    }
                }
            }
        }
    }
    if !diagnostics.is_empty() {
        return Err(Error::Invalid(diagnostics));
    }
    dedup(&mut loaded);
    Ok(loaded)
}

/// Reads manifests from a string, as if from a file named `name`.
pub fn load_str(name: &str, text: &str) -> Result<Loaded> {
    let mut loaded = Loaded::default();
    let mut diagnostics = Vec::new();
    load_text(
        &Arc::from(name),
        text.to_owned(),
        &mut loaded,
        &mut diagnostics,
    );
    if !diagnostics.is_empty() {
        return Err(Error::Invalid(diagnostics));
    }
    dedup(&mut loaded);
    Ok(loaded)
}

fn load_text(
    name: &Arc<str>,
    text: String,
    loaded: &mut Loaded,
    diagnostics: &mut Vec<Diagnostic>,
) {
    loaded.files += 1;
    let text: Arc<str> = Arc::from(text);
    if json::looks_like_json(&text) {
        let lines = LineIndex::new(&text);
        match json::parse_documents(&text) {
            Ok(docs) => {
                let mut sink = Sink {
                    file: name,
                    text: &text,
                    lines: Some(&lines),
                    inventory: &mut loaded.inventory,
                    warnings: &mut loaded.warnings,
                    diagnostics,
                };
                for doc in docs {
                    sink.document(Raw::Json(doc), None);
                }
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
                    &text,
                    (line, column),
                    format!("invalid JSON: {message}"),
                ));
            }
        }
        return;
    }
    match yaml::parse_documents(&text) {
        Ok(docs) => {
            let mut sink = Sink {
                file: name,
                text: &text,
                lines: None,
                inventory: &mut loaded.inventory,
                warnings: &mut loaded.warnings,
                diagnostics,
            };
            for doc in &docs {
                sink.document(Raw::Yaml(doc), None);
            }
        }
        Err(e) => diagnostics.push(Diagnostic::new(
            name,
            &text,
            (e.line, e.column),
            format!("invalid YAML: {}", e.message),
        )),
    }
}

fn io_error(path: &Path, e: &std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// The files behind one path: the file itself, or the manifests under a directory, sorted,
/// without following symlinked directories (which could loop).
fn manifest_files(path: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| io_error(&dir, &e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&dir, &e))?;
            let p = entry.path();
            let kind = entry.file_type().map_err(|e| io_error(&p, &e))?;
            if kind.is_dir() {
                stack.push(p);
            } else if is_manifest(&p) && std::fs::metadata(&p).is_ok_and(|m| m.is_file()) {
                files.push(p);
            }
        }
    }
    if files.is_empty() {
        return Err(Error::Empty {
            path: path.display().to_string(),
        });
    }
    files.sort();
    Ok(files)
}

fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// Later objects with the same kind, namespace and name replace earlier ones, in the earlier
/// one's place, as a later `kubectl apply` of the same object would. Each replacement is a
/// warning, except a replacement of a built-in default role or binding, which is the point of
/// giving one.
fn dedup(loaded: &mut Loaded) {
    fn run<T>(
        items: &mut Vec<T>,
        key: impl Fn(&T) -> (String, String, String),
        origin: impl Fn(&T) -> &runnerguard_model::Origin,
        warnings: &mut Vec<Warning>,
    ) {
        let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
        let mut out: Vec<T> = Vec::with_capacity(items.len());
        for item in items.drain(..) {
            let k = key(&item);
            if let Some(&i) = seen.get(&k) {
                let earlier = origin(&out[i]);
                if !earlier.is_builtin() {
                    let later = origin(&item);
                    let ns = if k.1.is_empty() {
                        String::new()
                    } else {
                        format!("{}/", k.1)
                    };
                    warnings.push(Warning {
                        file: later.file.clone(),
                        line: later.line,
                        message: format!(
                            "{} `{ns}{}` defined again; this definition replaces the one at {earlier}",
                            k.0, k.2
                        ),
                    });
                }
                out[i] = item;
            } else {
                seen.insert(k, out.len());
                out.push(item);
            }
        }
        *items = out;
    }
    let inv = &mut loaded.inventory;
    let w = &mut loaded.warnings;
    run(
        &mut inv.roles,
        |r| {
            (
                r.kind.as_str().to_owned(),
                r.namespace.clone(),
                r.name.clone(),
            )
        },
        |r| &r.origin,
        w,
    );
    run(
        &mut inv.bindings,
        |b| {
            (
                b.kind.as_str().to_owned(),
                b.namespace.clone(),
                b.name.clone(),
            )
        },
        |b| &b.origin,
        w,
    );
    run(
        &mut inv.service_accounts,
        |s| {
            (
                "ServiceAccount".to_owned(),
                s.namespace.clone(),
                s.name.clone(),
            )
        },
        |s| &s.origin,
        w,
    );
    run(
        &mut inv.namespaces,
        |n| ("Namespace".to_owned(), String::new(), n.name.clone()),
        |n| &n.origin,
        w,
    );
}

/// Appends `defaults` before `loaded`'s objects and deduplicates again, so that input objects
/// replace built-in ones of the same identity.
pub(crate) fn merge_defaults(loaded: &mut Loaded, defaults: Inventory) {
    let mut inventory = defaults;
    inventory.extend(std::mem::take(&mut loaded.inventory));
    loaded.inventory = inventory;
    dedup(loaded);
}
