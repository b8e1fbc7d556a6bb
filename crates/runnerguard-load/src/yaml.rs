//! YAML documents as a tree that remembers where every node starts.
//!
//! `serde-saphyr` parses (under a budget) into [`Node`]s; each object is then converted to a
//! `serde_json::Value` and deserialized into its `k8s-openapi` type. When that fails, the
//! error's path (`rules[0].verbs`) is walked back through the tree to report the exact line
//! and column of the offending value.

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::options::{DuplicateKeyPolicy, MergeKeyPolicy};
use serde_saphyr::{Budget, Options, Spanned};

use crate::limits;

/// A YAML node and its 1-based line and column.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) value: Value,
}

/// A YAML value. Mapping keys are kept as nodes so non-string keys can be reported.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned: Spanned<Value> = Spanned::deserialize(d)?;
        Ok(Node {
            line: u32::try_from(spanned.referenced.line()).unwrap_or(u32::MAX),
            column: u32::try_from(spanned.referenced.column()).unwrap_or(u32::MAX),
            value: spanned.value,
        })
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::UInt(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(node) = seq.next_element::<Node>()? {
            items.push(node);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

/// A YAML syntax or budget error, with its place.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) message: String,
}

impl SyntaxError {
    fn at(node: &Node, message: String) -> Self {
        Self {
            line: node.line,
            column: node.column,
            message,
        }
    }
}

/// Parses every document of `text` as Kubernetes clients read it. Empty and null documents
/// are skipped.
///
/// kubectl and Helm read YAML with sigs.k8s.io/yaml, which decodes with go.yaml.in/yaml/v2
/// (`yaml.Unmarshal`, yaml.go `YAMLToJSON`) and converts the result to JSON. This parser
/// differs from yaml.v2 on repeated keys and merge keys, so those are settled here, on the
/// tree every later step reads (docs/input-semantics.md):
/// - a key repeated in a mapping, whatever its tag or quoting, is refused (yaml.v2 keeps the
///   last silently, decode.go `setMapIndex`);
/// - `<<` merge keys are applied in document order, each overwriting what came before, as
///   yaml.v2's decode.go `mapping()` and `merge()` do (not the YAML spec's "explicit keys
///   win");
/// - a quoted or tagged `<<`, which yaml.v2 takes as an ordinary key (`isMerge`), and keys
///   that sigs.k8s.io/yaml cannot turn into JSON (`convertToJSONableObject`: null, mapping
///   or sequence keys) are refused.
///
/// The budget grows with the input: a YAML node takes at least two bytes of text, so
/// `nodes <= 250k + 4 × bytes` lets every honest file through while an alias bomb, whose
/// nodes outnumber its bytes by orders of magnitude, stops early.
pub(crate) fn parse_documents(text: &str) -> Result<Vec<Node>, SyntaxError> {
    // The parser recurses once per level of nesting, with frames of tens of kilobytes in a
    // debug build: a document at the depth limit would overflow a 2 MiB thread stack (rayon's
    // workers, test threads). It runs on a thread whose stack fits the limit.
    let depth = limits::MAX_DEPTH.get();
    let stack = (2 << 20) + depth.saturating_mul(STACK_PER_LEVEL);
    std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .name("runnerguard-yaml".to_owned())
            .stack_size(stack)
            .spawn_scoped(scope, || parse_and_resolve(text))
        {
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                Err(SyntaxError {
                    line: 1,
                    column: 1,
                    message: "the YAML parser failed on this input (a bug: please report it)"
                        .to_owned(),
                })
            }),
            // No thread to be had: parse here (within limits on the main thread's 8 MiB).
            Err(_) => parse_and_resolve(text),
        }
    })
}

/// Stack reserved per level of nesting (address space only: pages are used as touched).
const STACK_PER_LEVEL: usize = 64 << 10;

fn parse_and_resolve(text: &str) -> Result<Vec<Node>, SyntaxError> {
    let mut docs = parse_raw(text, MergeKeyPolicy::AsOrdinary)?;
    for doc in &mut docs {
        resolve(doc)?;
    }
    // Only a second reading, in which real merge keys are expanded, tells a quoted `<<` from
    // a merge key; it is needed only when the text has `<<` at all.
    if memchr::memmem::find(text.as_bytes(), b"<<").is_some() {
        for doc in &parse_raw(text, MergeKeyPolicy::Merge)? {
            if let Some(key) = literal_merge_key(doc) {
                return Err(SyntaxError::at(
                    key,
                    "a quoted or tagged `<<` key: yaml.v2 (kubectl, Helm) reads it as an ordinary key named `<<`, not as a merge key; write a plain `<<` to merge, or rename the key".to_owned(),
                ));
            }
        }
    }
    Ok(docs)
}

/// Parses `text` under the budget, keeping repeated keys (and, with
/// [`MergeKeyPolicy::AsOrdinary`], `<<` entries) for [`resolve`] to judge.
fn parse_raw(text: &str, merge_keys: MergeKeyPolicy) -> Result<Vec<Node>, SyntaxError> {
    let len = text.len();
    let mut budget = Budget::default();
    budget.max_nodes = 250_000 + len.saturating_mul(4);
    budget.max_events = 1_000_000 + len.saturating_mul(8);
    budget.max_documents = 1_024 + len / 8;
    budget.max_depth = limits::MAX_DEPTH.get();
    budget.max_total_scalar_bytes = limits::MAX_SCALAR_BYTES.get();
    let mut options = Options::default();
    options.budget = Some(budget.clone());
    options.duplicate_keys = DuplicateKeyPolicy::PassThrough;
    options.merge_keys = merge_keys;
    serde_saphyr::from_multiple_with_options::<Node>(text, options).map_err(|e| {
        let (line, column) = e.location().map_or((1, 1), |l| {
            (
                u32::try_from(l.line()).unwrap_or(u32::MAX).max(1),
                u32::try_from(l.column()).unwrap_or(u32::MAX).max(1),
            )
        });
        let message = budget_message(&e, &budget)
            .unwrap_or_else(|| strip_location(&e.without_snippet().to_string()));
        SyntaxError {
            line,
            column,
            message,
        }
    })
}

/// A budget breach in words: which limit, and how to raise it when it can be raised.
fn budget_message(e: &serde_saphyr::Error, budget: &Budget) -> Option<String> {
    let mut e = e;
    while let serde_saphyr::Error::WithSnippet { error, .. }
    | serde_saphyr::Error::AliasError { error, .. } = e
    {
        e = error;
    }
    let serde_saphyr::Error::Budget { breach, .. } = e else {
        return None;
    };
    let expansion = "the document expands, through aliases (`*name`), far beyond its size; over runnerguard's budget of 250,000 nodes plus 4 per byte of input (an alias bomb?)";
    Some(match breach {
        BudgetBreach::ScalarBytes { total_scalar_bytes } => format!(
            "more than {} bytes of keys and values in this file ({total_scalar_bytes} read so far); set {}=BYTES to raise the limit (default {})",
            budget.max_total_scalar_bytes,
            limits::MAX_SCALAR_BYTES.env,
            limits::MAX_SCALAR_BYTES.default
        ),
        BudgetBreach::Depth { .. } => format!(
            "nested deeper than {} levels of mappings and sequences; set {}=LEVELS to raise the limit (default {}, at most {})",
            budget.max_depth,
            limits::MAX_DEPTH.env,
            limits::MAX_DEPTH.default,
            limits::MAX_DEPTH.ceiling
        ),
        BudgetBreach::Documents { .. } => format!(
            "more than {} documents (`---`) for the size of the file",
            budget.max_documents
        ),
        BudgetBreach::MergeKeys { .. } => format!(
            "more than {} merge keys (`<<`)",
            budget.max_merge_keys
        ),
        BudgetBreach::Nodes { .. }
        | BudgetBreach::Events { .. }
        | BudgetBreach::Aliases { .. }
        | BudgetBreach::Anchors { .. }
        | BudgetBreach::AliasAnchorRatio { .. } => expansion.to_owned(),
        _ => "the YAML exceeds one of the parser's safety limits (input size, key length or nesting of flow collections)".to_owned(),
    })
}

/// serde-saphyr appends " at line L, column C" to messages; the diagnostic says that itself.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains("column") => message[..i].to_owned(),
        _ => message.to_owned(),
    }
}

/// Applies yaml.v2's mapping rules to every mapping under `node`, innermost first (a merge
/// source is then already resolved when it is merged).
fn resolve(node: &mut Node) -> Result<(), SyntaxError> {
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().try_for_each(resolve),
        Value::Map(entries) => {
            for (key, value) in entries.iter_mut() {
                check_key(key)?;
                resolve(value)?;
            }
            check_repeats(entries)?;
            if entries.iter().any(|(k, _)| is_merge_key(k)) {
                merge(entries)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// sigs.k8s.io/yaml turns string, integer, float and boolean keys into JSON strings and
/// refuses the rest (`convertToJSONableObject`); yaml.v2 itself refuses mapping and sequence
/// keys (decode.go `mapping()`: "invalid map key").
fn check_key(key: &Node) -> Result<(), SyntaxError> {
    let what = match key.value {
        Value::Null => "a null key (`~`, `null` or nothing)",
        Value::Seq(_) => "a sequence as a key",
        Value::Map(_) => "a mapping as a key",
        _ => return Ok(()),
    };
    Err(SyntaxError::at(
        key,
        format!("{what}: Kubernetes clients (sigs.k8s.io/yaml) cannot read it"),
    ))
}

/// Whether `key` is `<<`. After [`parse_raw`] with [`MergeKeyPolicy::AsOrdinary`], a quoted
/// `"<<"` looks the same; [`parse_documents`] refuses those separately.
fn is_merge_key(key: &Node) -> bool {
    matches!(&key.value, Value::String(s) if s == "<<")
}

/// Refuses a key written twice in one mapping (merge keys aside). Keys compare as the JSON
/// strings Kubernetes sees, so `kind` and `!x kind`, `1` and `"1"` are the same key.
fn check_repeats(entries: &[(Node, Node)]) -> Result<(), SyntaxError> {
    let keys = entries.iter().map(|(k, _)| k).filter(|k| !is_merge_key(k));
    let repeated = if entries.len() <= 16 {
        let keys: Vec<&Node> = keys.collect();
        keys.iter().enumerate().find_map(|(i, later)| {
            let text = later.key_text();
            keys[..i]
                .iter()
                .find(|earlier| earlier.key_text() == text)
                .map(|earlier| (*earlier, *later))
        })
    } else {
        let mut seen: HashMap<Cow<'_, str>, &Node> = HashMap::with_capacity(entries.len());
        keys.into_iter()
            .find_map(|key| match seen.entry(key.key_text()) {
                Entry::Occupied(e) => Some((*e.get(), key)),
                Entry::Vacant(e) => {
                    e.insert(key);
                    None
                }
            })
    };
    match repeated {
        None => Ok(()),
        Some((earlier, later)) => Err(SyntaxError::at(
            later,
            format!(
                "duplicate key `{}` (first at line {}, column {}): kubectl and Helm would silently keep this last one; runnerguard refuses the ambiguity, remove one (a tag such as `!x` or quotes do not make a key different)",
                later.key_text(),
                earlier.line,
                earlier.column
            ),
        )),
    }
}

/// Applies the mapping's `<<` entries where they stand, as yaml.v2 does (decode.go
/// `mapping()` calls `merge()` in document order, and `merge()` sets every key of its source
/// over what the mapping already holds; a list of sources is applied last to first, so its
/// first source wins). Keys after a `<<` then overwrite merged ones in turn.
fn merge(entries: &mut Vec<(Node, Node)>) -> Result<(), SyntaxError> {
    let mut out: Vec<(Node, Node)> = Vec::with_capacity(entries.len());
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut set = |key: Node, value: Node| match index.entry(key.key_text().into_owned()) {
        Entry::Occupied(e) => out[*e.get()] = (key, value),
        Entry::Vacant(e) => {
            e.insert(out.len());
            out.push((key, value));
        }
    };
    for (key, value) in std::mem::take(entries) {
        if !is_merge_key(&key) {
            set(key, value);
            continue;
        }
        let want_map = |at: &Node| {
            SyntaxError::at(
                at,
                "a merge key `<<` takes a mapping or a list of mappings".to_owned(),
            )
        };
        let sources = match value.value {
            Value::Map(source) => vec![source],
            Value::Seq(items) => {
                let mut sources = Vec::with_capacity(items.len());
                for item in items.into_iter().rev() {
                    match item.value {
                        Value::Map(source) => sources.push(source),
                        _ => return Err(want_map(&item)),
                    }
                }
                sources
            }
            _ => return Err(want_map(&value)),
        };
        for source in sources {
            for (k, v) in source {
                set(k, v);
            }
        }
    }
    *entries = out;
    Ok(())
}

/// The first key spelled `<<` left in a tree parsed with merge keys expanded: a quoted or
/// tagged one.
fn literal_merge_key(node: &Node) -> Option<&Node> {
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        match &node.value {
            Value::Seq(items) => stack.extend(items),
            Value::Map(entries) => {
                for (k, v) in entries {
                    if is_merge_key(k) {
                        return Some(k);
                    }
                    stack.push(v);
                }
            }
            _ => {}
        }
    }
    None
}

impl Node {
    /// The value under `key` in a mapping.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(&k.value, Value::String(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string under `key`, if it is one.
    pub(crate) fn get_str(&self, key: &str) -> Option<&str> {
        match &self.get(key)?.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this node is a mapping.
    pub(crate) fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    /// The node at a `serde_path_to_error` path, or the deepest node on the way.
    pub(crate) fn locate(&self, path: &serde_path_to_error::Path) -> &Node {
        use serde_path_to_error::Segment;
        let mut node = self;
        for segment in path {
            let next = match (segment, &node.value) {
                (Segment::Seq { index }, Value::Seq(items)) => items.get(*index),
                (Segment::Map { key }, Value::Map(_)) => node.get(key),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node
    }

    /// The JSON value Kubernetes would see (sigs.k8s.io/yaml converts YAML to JSON first).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::UInt(u) => J::from(*u),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::String(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.key_text().into_owned(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// This node as a JSON object key, as sigs.k8s.io/yaml writes it.
    fn key_text(&self) -> Cow<'_, str> {
        match &self.value {
            Value::String(s) => Cow::Borrowed(s),
            Value::Null => Cow::Borrowed("null"),
            Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Value::Int(i) => Cow::Owned(i.to_string()),
            Value::UInt(u) => Cow::Owned(u.to_string()),
            Value::Float(f) => Cow::Owned(f.to_string()),
            Value::Seq(_) | Value::Map(_) => Cow::Borrowed(""),
        }
    }
}

#[cfg(test)]
mod tests;
