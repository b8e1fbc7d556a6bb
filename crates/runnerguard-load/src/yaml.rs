//! YAML documents as a tree that remembers where every node starts.
//!
//! `serde-saphyr` parses (under a budget) into [`Node`]s; each object is then converted to a
//! `serde_json::Value` and deserialized into its `k8s-openapi` type. When that fails, the
//! error's path (`rules[0].verbs`) is walked back through the tree to report the exact line
//! and column of the offending value.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Budget, Options, Spanned};

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

/// Parses every document of `text`. Empty and null documents are skipped.
///
/// The budget grows with the input: a YAML node takes at least two bytes of text, so
/// `nodes <= 250k + 4 × bytes` lets every honest file through while an alias bomb, whose
/// nodes outnumber its bytes by orders of magnitude, stops early.
pub(crate) fn parse_documents(text: &str) -> Result<Vec<Node>, SyntaxError> {
    let len = text.len();
    let mut budget = Budget::default();
    budget.max_nodes = 250_000 + len.saturating_mul(4);
    budget.max_events = 1_000_000 + len.saturating_mul(8);
    budget.max_documents = 1_024 + len / 8;
    budget.max_depth = 128;
    let mut options = Options::default();
    options.budget = Some(budget);
    serde_saphyr::from_multiple_with_options::<Node>(text, options).map_err(|e| {
        let (line, column) = e.location().map_or((1, 1), |l| {
            (
                u32::try_from(l.line()).unwrap_or(u32::MAX).max(1),
                u32::try_from(l.column()).unwrap_or(u32::MAX).max(1),
            )
        });
        SyntaxError {
            line,
            column,
            message: strip_location(&e.without_snippet().to_string()),
        }
    })
}

/// serde-saphyr appends " at line L, column C" to messages; the diagnostic says that itself.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains("column") => message[..i].to_owned(),
        _ => message.to_owned(),
    }
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
                    .map(|(k, v)| (k.key_string(), v.to_json()))
                    .collect(),
            ),
        }
    }

    fn key_string(&self) -> String {
        match &self.value {
            Value::String(s) => s.clone(),
            Value::Null => "null".to_owned(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::UInt(u) => u.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Seq(_) | Value::Map(_) => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    #[test]
    fn documents_and_positions() {
        let docs = parse_documents("# c\na: 1\n---\n---\nkind: X\nl: [x, y]\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!((docs[0].line, docs[0].column), (2, 1));
        let l = docs[1].get("l").unwrap();
        assert_eq!((l.line, l.column), (6, 4));
        assert_eq!(docs[1].get_str("kind"), Some("X"));
    }

    #[test]
    fn syntax_error_has_place() {
        let e = parse_documents("kind: X\n  foo: [1, 2\n").err().unwrap();
        assert_eq!((e.line, e.column), (2, 6));
        assert!(!e.message.contains("at line"), "{}", e.message);
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut y = String::from("a: &a [x,x,x,x,x,x,x,x,x]\n");
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for w in names.windows(2) {
            let refs = vec![format!("*{}", w[0]); 9].join(",");
            writeln!(y, "{}: &{} [{refs}]", w[1], w[1]).unwrap();
        }
        let e = parse_documents(&y).err().unwrap();
        assert!(e.message.contains("budget"), "{}", e.message);
    }

    /// serde-saphyr places a block scalar at its first content line and indentation, which
    /// is what `runner::placement_of` relies on.
    #[test]
    fn block_scalars_start_at_their_content() {
        let docs = parse_documents("a:\n  config: |\n    x = 1\n    y = 2\n").unwrap();
        let c = docs[0].get("a").unwrap().get("config").unwrap();
        assert_eq!((c.line, c.column), (3, 5));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let y = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse_documents(&y).is_err());
    }
}
