//! JSON documents: one or more top-level values, kept as raw text so that each object can be
//! deserialized straight into its `k8s-openapi` type and placed by its byte offset.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// Maps byte offsets to 1-based line and column: the one line index of the workspace (the
/// loader's inputs, and `runnerguard.toml` through runnerguard-config).
///
/// Objects are placed in increasing offset order, so each reader keeps a [`Cursor`] with its
/// last answer and counts the next column from there: placing every item of a one-line,
/// 50 MB List stays linear.
pub struct LineIndex {
    starts: Vec<usize>,
}

/// The last offset a reader asked for, its line index and its 0-based character column.
pub type Cursor = Cell<(usize, usize, usize)>;

impl LineIndex {
    /// The index of `text`'s line starts.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr_newlines(text));
        Self { starts }
    }

    /// Line and column (in characters) of byte `offset` of `text` (the text indexed). A
    /// fresh [`Cursor`] (`Cursor::default()`) gives exact answers in any order.
    pub fn position(&self, text: &str, offset: usize, cursor: &Cursor) -> (u32, u32) {
        let (last_offset, last_line, last_column) = cursor.get();
        let line = self.line_of(offset, last_line);
        let start = self.starts[line];
        let (from, base) = if last_line == line && last_offset <= offset {
            (last_offset, last_column)
        } else {
            (start, 0)
        };
        let column = base
            + text
                .get(from..offset)
                .map_or(offset - from, |s| s.chars().count());
        cursor.set((offset, line, column));
        (to_u32(line + 1), to_u32(column + 1))
    }

    /// The index of the line holding byte `offset`, searched outwards from line `near`:
    /// readers ask for places close to the last one, and a search of the whole index per
    /// place missed the cache on every step (100,000 runner entries, 1.5 million settings;
    /// issue #13).
    fn line_of(&self, offset: usize, near: usize) -> usize {
        let starts = &self.starts;
        // `starts[0]` is 0: every offset is at or after it.
        let Some(&at) = starts.get(near).filter(|_| near > 0) else {
            return starts.partition_point(|&s| s <= offset).max(1) - 1;
        };
        let (mut lo, mut hi) = (near, near);
        let mut step = 1;
        if at <= offset {
            // Forward until a line starts after `offset`: it is in `lo..hi`.
            loop {
                hi = lo.saturating_add(step).min(starts.len());
                if hi == starts.len() || starts[hi] > offset {
                    break;
                }
                lo = hi;
                step *= 2;
            }
        } else {
            // Back until a line starts at or before it.
            loop {
                lo = hi.saturating_sub(step);
                if starts[lo] <= offset {
                    break;
                }
                hi = lo;
                step *= 2;
            }
        }
        lo + starts[lo..hi].partition_point(|&s| s <= offset) - 1
    }
}

fn memchr_newlines(text: &str) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1)
}

/// Byte offset of `raw` inside `text` (a slice of it).
pub(crate) fn offset_in(text: &str, raw: &str) -> usize {
    (raw.as_ptr() as usize).saturating_sub(text.as_ptr() as usize)
}

/// What an object's `items` makes of it. apimachinery's `unstructuredJSONScheme.decode`
/// (pkg/apis/meta/v1/unstructured/helpers.go) reads any object whose `items` is not absent
/// as a list: a JSON `null` there is a `json.RawMessage("null")`, not nil, so it is an empty
/// list; anything but an array then fails `decodeToList`.
#[derive(Debug, Default, PartialEq)]
pub(crate) enum Items<'a> {
    /// No `items` key.
    #[default]
    Absent,
    /// `items: null`.
    Null,
    /// An array: each item's text.
    List(Vec<&'a str>),
    /// Any other value.
    Other,
}

/// A JSON object's `apiVersion` and `kind` (when strings) and its `items`, read in the same
/// pass that refuses repeated keys, so they are the members the typed decode sees too.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct DocHeader<'a> {
    pub(crate) api_version: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) items: Items<'a>,
}

/// A top-level JSON value: its text and, when it is an object, its header.
#[derive(Debug)]
pub(crate) struct TopDoc<'a> {
    pub(crate) text: &'a str,
    pub(crate) header: Option<DocHeader<'a>>,
    /// A document of the stream's YAML rest, when it had to be read as YAML (see
    /// [`StreamError::yaml`]); `text` and `header` are then empty.
    pub(crate) yaml: Option<crate::yaml::Node>,
}

/// Why a JSON stream could not be read.
#[derive(Debug)]
pub(crate) struct StreamError {
    error: serde_json::Error,
    /// When the rest was read as YAML instead, as kubectl would, and that failed too: its
    /// message and place (kubectl then reports the JSON error).
    ///
    /// apimachinery's `YAMLOrJSONDecoder.Decode` (pkg/util/yaml/decoder.go) tries JSON for a
    /// stream that starts with `{`, and switches to YAML when JSON fails after at most one
    /// document: `{kind: Role, ...}` is a YAML flow mapping, not broken JSON.
    yaml: Option<(String, u32, u32)>,
}

impl StreamError {
    /// 1-based line of the error.
    pub(crate) fn line(&self) -> usize {
        self.error.line()
    }

    /// 1-based column of the error.
    pub(crate) fn column(&self) -> usize {
        self.error.column()
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // serde_json ends its message with the place, which the diagnostic gives itself:
        // the YAML attempt goes before it.
        let text = message(&self.error);
        let (text, place) = text
            .rfind(" at line ")
            .map_or((text.as_str(), ""), |i| text.split_at(i));
        f.write_str(text)?;
        if let Some((yaml, line, column)) = &self.yaml {
            write!(
                f,
                "; read as YAML instead (as kubectl does), it fails at line {line}, column {column}: {yaml}"
            )?;
        }
        f.write_str(place)
    }
}

/// `serde_json`'s message, with its fixed nesting limit said in words.
pub(crate) fn message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if text.starts_with("recursion limit exceeded") {
        return format!(
            "nested deeper than {MAX_JSON_DEPTH} levels of objects and arrays (the JSON reader's fixed limit, per object; List items count from the item){}",
            text.strip_prefix("recursion limit exceeded")
                .unwrap_or_default()
        );
    }
    text
}

/// `serde_json`'s nesting limit (not configurable without its `unbounded_depth` feature).
pub(crate) const MAX_JSON_DEPTH: usize = 128;

/// Splits `text` into its top-level JSON values, reading each object's header and refusing
/// repeated keys at any depth, in one pass (a List's items are kept as text, each read when
/// its turn comes by [`read_object`]).
///
/// When kubectl would read the rest of the stream as YAML (see [`StreamError::yaml`]), so does
/// this: the YAML documents follow the JSON ones, as [`TopDoc::yaml`].
pub(crate) fn parse_documents(text: &str) -> Result<Vec<TopDoc<'_>>, StreamError> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Top<'_>>();
    let mut docs = Vec::new();
    loop {
        let start = stream.byte_offset();
        let Some(top) = stream.next() else {
            return Ok(docs);
        };
        let top = match top {
            Ok(top) => top,
            Err(error) => {
                let as_yaml = docs.len() <= 1
                    && matches!(
                        error.classify(),
                        serde_json::error::Category::Syntax | serde_json::error::Category::Eof
                    )
                    && !error.to_string().starts_with("recursion limit exceeded");
                if !as_yaml {
                    return Err(StreamError { error, yaml: None });
                }
                // The rest, read as YAML where it stands: what came before is blanked, so
                // lines and columns stay those of the file.
                let blanked: String = text
                    .get(..start)
                    .unwrap_or_default()
                    .chars()
                    .map(|c| if c == '\n' { '\n' } else { ' ' })
                    .chain(text.get(start..).unwrap_or_default().chars())
                    .collect();
                return match crate::yaml::parse_documents(&blanked) {
                    Ok(yaml) => {
                        docs.extend(yaml.into_iter().map(|node| TopDoc {
                            text: "",
                            header: None,
                            yaml: Some(node),
                        }));
                        Ok(docs)
                    }
                    Err(e) => Err(StreamError {
                        error,
                        yaml: Some((e.message, e.line, e.column)),
                    }),
                };
            }
        };
        let end = stream.byte_offset();
        docs.push(TopDoc {
            text: text.get(start..end).unwrap_or_default().trim_start(),
            header: top.0,
            yaml: None,
        });
    }
}

/// The header of one JSON object (a List item), refusing repeated keys anywhere in it.
/// `Ok(None)` when `raw` is not an object. Errors are placed relative to `raw`.
pub(crate) fn read_object(raw: &str) -> Result<Option<DocHeader<'_>>, serde_json::Error> {
    use serde::Deserialize as _;
    let mut de = serde_json::Deserializer::from_str(raw);
    let top = Top::deserialize(&mut de)?;
    de.end()?;
    Ok(top.0)
}

/// A top-level value, seen for its header.
struct Top<'a>(Option<DocHeader<'a>>);

impl<'de> serde::Deserialize<'de> for Top<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TopVisitor)
    }
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top<'de>, A::Error> {
        let mut header = DocHeader::default();
        let mut keys = Keys::default();
        while let Some(Key(key)) = map.next_key()? {
            keys.insert::<A::Error>(key.clone())?;
            match key.as_ref() {
                "apiVersion" => header.api_version = map.next_value::<Text>()?.0,
                "kind" => header.kind = map.next_value::<Text>()?.0,
                "items" => header.items = map.next_value::<ItemsOf<'de>>()?.0,
                _ => {
                    map.next_value::<Checked>()?;
                }
            }
        }
        Ok(Top(Some(header)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top<'de>, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Top(None))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Top<'de>, E> {
        Ok(Top(None))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Top<'de>, E> {
        Ok(Top(None))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Top<'de>, E> {
        Ok(Top(None))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Top<'de>, E> {
        Ok(Top(None))
    }
    fn visit_str<E>(self, _: &str) -> Result<Top<'de>, E> {
        Ok(Top(None))
    }
    fn visit_unit<E>(self) -> Result<Top<'de>, E> {
        Ok(Top(None))
    }
}

/// The keys of one object so far: a repeated one is an error naming it.
///
/// sigs.k8s.io/json, which Kubernetes clients decode with, keeps the last of repeated keys
/// silently; runnerguard refuses them (docs/input-semantics.md), as it does in YAML.
#[derive(Default)]
struct Keys<'de> {
    small: Vec<Cow<'de, str>>,
    large: std::collections::HashSet<Cow<'de, str>>,
}

impl<'de> Keys<'de> {
    fn insert<E: serde::de::Error>(&mut self, key: Cow<'de, str>) -> Result<(), E> {
        let small = self.large.is_empty() && self.small.len() < 16;
        if !small && !self.small.is_empty() {
            self.large.extend(self.small.drain(..));
        }
        let repeated = if small {
            self.small.contains(&key)
        } else {
            self.large.contains(&key)
        };
        if repeated {
            return Err(E::custom(format_args!(
                "duplicate key `{key}`: kubectl and Helm would silently keep the last one; runnerguard refuses the ambiguity, remove one"
            )));
        }
        if small {
            self.small.push(key);
        } else {
            self.large.insert(key);
        }
        Ok(())
    }
}

/// An object's key, borrowed from the text unless it has escapes. (`Cow<str>`'s own
/// `Deserialize` always copies: a String for every key of a 47 MB inventory, issue #13;
/// `#[serde(borrow)]` borrows.)
#[derive(serde::Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq, Eq, Hash))]
struct Key<'a>(#[serde(borrow)] Cow<'a, str>);

/// Any JSON value, walked to refuse repeated keys in its objects.
struct Checked;

impl<'de> serde::Deserialize<'de> for Checked {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        let mut keys = Keys::default();
        while let Some(Key(key)) = map.next_key()? {
            keys.insert::<A::Error>(key)?;
            map.next_value::<Checked>()?;
        }
        Ok(Checked)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }
}

/// A string, or (checked and dropped) any other value.
struct Text(Option<String>);

impl<'de> serde::Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Text, E> {
                Ok(Text(Some(v.to_owned())))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Text, A::Error> {
                CheckedVisitor.visit_map(map).map(|_| Text(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Text, A::Error> {
                CheckedVisitor.visit_seq(seq).map(|_| Text(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_unit<E>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// `items`: an array's elements as raw text (each checked when read), or what else it is.
struct ItemsOf<'a>(Items<'a>);

impl<'de> serde::Deserialize<'de> for ItemsOf<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ItemsOf<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ItemsOf<'de>, A::Error> {
                let mut items = Vec::new();
                while let Some(raw) = seq.next_element::<&'de RawValue>()? {
                    items.push(raw.get());
                }
                Ok(ItemsOf(Items::List(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ItemsOf<'de>, A::Error> {
                CheckedVisitor.visit_map(map).map(|_| ItemsOf(Items::Other))
            }
            fn visit_bool<E>(self, _: bool) -> Result<ItemsOf<'de>, E> {
                Ok(ItemsOf(Items::Other))
            }
            fn visit_i64<E>(self, _: i64) -> Result<ItemsOf<'de>, E> {
                Ok(ItemsOf(Items::Other))
            }
            fn visit_u64<E>(self, _: u64) -> Result<ItemsOf<'de>, E> {
                Ok(ItemsOf(Items::Other))
            }
            fn visit_f64<E>(self, _: f64) -> Result<ItemsOf<'de>, E> {
                Ok(ItemsOf(Items::Other))
            }
            fn visit_str<E>(self, _: &str) -> Result<ItemsOf<'de>, E> {
                Ok(ItemsOf(Items::Other))
            }
            fn visit_unit<E>(self) -> Result<ItemsOf<'de>, E> {
                Ok(ItemsOf(Items::Null))
            }
        }
        d.deserialize_any(V)
    }
}

/// Whether `text` looks like JSON rather than YAML (its first non-blank character opens an
/// object or array). YAML flow style looks the same: when it does not parse as JSON,
/// [`parse_documents`] reads it as YAML, as kubectl does.
pub(crate) fn looks_like_json(text: &str) -> bool {
    matches!(text.trim_start().as_bytes().first(), Some(b'{' | b'['))
}

pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_with_headers_and_items() {
        let t = "{\"kind\":\"List\",\"apiVersion\":\"v1\",\"items\":[{\"a\":1}, {\"b\":[2]}]}\n [3] {\"kind\":7} {\"items\":{\"x\":1}} {\"items\":null}";
        let docs = parse_documents(t).unwrap();
        assert_eq!(docs.len(), 5);
        let h = docs[0].header.as_ref().unwrap();
        assert_eq!(h.kind.as_deref(), Some("List"));
        assert_eq!(h.items, Items::List(vec!["{\"a\":1}", "{\"b\":[2]}"]));
        assert_eq!(docs[1].text, "[3]");
        assert!(docs[1].header.is_none());
        assert_eq!(
            docs[2].header.as_ref().unwrap().kind,
            None,
            "non-string kind"
        );
        assert_eq!(docs[3].header.as_ref().unwrap().items, Items::Other);
        assert_eq!(docs[4].header.as_ref().unwrap().items, Items::Null);
    }

    #[test]
    fn headers_read_anywhere_in_the_object() {
        let h = read_object(r#"{"metadata":{"kind":"no"},"kind":"Role","x":[1]}"#).unwrap();
        assert_eq!(h.unwrap().kind.as_deref(), Some("Role"));
        assert!(read_object("[1]").unwrap().is_none());
        // An escaped key is still recognised.
        let h = read_object(r#"{"\u006bind":"Role","apiVersion":"v1"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(
            (h.api_version.as_deref(), h.kind.as_deref()),
            (Some("v1"), Some("Role"))
        );
    }

    /// An object's keys are borrowed from the text, or copied when escapes make the text
    /// differ from the key.
    #[test]
    fn keys_are_borrowed_unless_escaped() {
        let keys: std::collections::HashMap<Key<'_>, u8> =
            serde_json::from_str(r#"{"kind":1,"\u0062":2}"#).unwrap();
        let mut borrowed: Vec<(&str, bool)> = keys
            .keys()
            .map(|k| (k.0.as_ref(), matches!(k.0, Cow::Borrowed(_))))
            .collect();
        borrowed.sort_unstable();
        assert_eq!(borrowed, [("b", false), ("kind", true)]);
    }

    /// Issue #9 E1, E2: a repeated key, at any depth and whatever its first value, is refused
    /// with its place, in documents and in List items.
    #[test]
    fn repeated_keys_are_refused() {
        // Placed at the repeated key's closing quote.
        for (text, column) in [
            (
                r#"{"kind":"Widget","apiVersion":"v1","kind":"ClusterRoleBinding"}"#,
                41,
            ),
            (r#"{"kind":5,"kind":"ClusterRoleBinding"}"#, 16),
            (r#"{"\u006bind":"A","kind":"B"}"#, 23),
            (r#"{"a":{"b":[{"c":1,"c":2}]}}"#, 21),
            // Below the top, keys are borrowed from the text unless escaped: either way equal.
            (r#"{"a":{"\u0062":1,"b":2}}"#, 20),
            (r#"{"a":{"b":1,"\u0062":2}}"#, 20),
        ] {
            let e = read_object(text).unwrap_err();
            assert_eq!((e.line(), e.column()), (1, column), "{text}");
            assert!(e.to_string().starts_with("duplicate key `"), "{e}");
            let e = parse_documents(text).unwrap_err();
            assert_eq!((e.line(), e.column()), (1, column), "{text}");
            assert!(
                e.yaml.is_none(),
                "a repeated key is not a reason to read YAML"
            );
        }
        // Items are read whole here and checked one by one later.
        let list = r#"{"kind":"List","items":[{"kind":"A","kind":"B"}]}"#;
        assert_eq!(parse_documents(list).unwrap().len(), 1);
        // Many keys: the set takes over from the list.
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        let text = format!("{{{}}}", many.join(","));
        assert!(read_object(&text).is_ok());
        let text = format!("{{{},\"k3\":0}}", many.join(","));
        assert!(read_object(&text).unwrap_err().to_string().contains("`k3`"));
    }

    /// kubectl reads a stream that fails as JSON within its first two documents as YAML.
    #[test]
    fn flow_yaml_is_not_json() {
        let docs = parse_documents("{kind: Role, apiVersion: v1}").unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].yaml.as_ref().unwrap().get_str("kind"), Some("Role"));
        // One JSON document, then YAML: each where it stands.
        let docs = parse_documents("{\"a\":1}\nkind: Role\nx: [1]\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].text, "{\"a\":1}");
        let x = docs[1].yaml.as_ref().unwrap().get("x").unwrap();
        assert_eq!((x.line, x.column), (3, 4));
        // After two JSON documents, the stream is JSON.
        let e = parse_documents("{\"a\":1} {\"b\":2} {c: 3}").unwrap_err();
        assert!(e.yaml.is_none());
        // Neither: the JSON error, with what YAML said.
        let e = parse_documents("{\"a\": [1,}").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("; read as YAML instead"), "{text}");
        // serde_json's place stays at the end, where the loader cuts it off.
        assert!(text.ends_with(" at line 1 column 10"), "{text}");
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let e = parse_documents(&deep).unwrap_err();
        assert!(e.yaml.is_none());
        assert!(e.to_string().starts_with("nested deeper than 128"), "{e}");
    }

    #[test]
    fn positions() {
        let t = "{\"a\":\n  [1, {\"b\": 2}]}\n{\"c\": 3}";
        let idx = LineIndex::new(t);
        let c = Cursor::default();
        assert_eq!(idx.position(t, 0, &c), (1, 1));
        assert_eq!(idx.position(t, 8, &c), (2, 3));
        let docs = parse_documents(t).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(idx.position(t, offset_in(t, docs[1].text), &c), (3, 1));
        // Going back still answers right.
        assert_eq!(idx.position(t, 8, &c), (2, 3));
    }

    /// Places asked in any order, near and far from the last one, with one cursor: each is
    /// where counting lines and characters from the start puts it.
    #[test]
    fn positions_in_any_order_are_exact() {
        let mut t = String::new();
        for i in 0..300 {
            t.push_str(&"é".repeat(i % 7));
            t.push_str(&"x".repeat(i % 11));
            t.push('\n');
        }
        let counted = |offset: usize| {
            let before = &t[..offset];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap().chars().count() + 1;
            (u32::try_from(line).unwrap(), u32::try_from(column).unwrap())
        };
        let idx = LineIndex::new(&t);
        let c = Cursor::default();
        let mut x: usize = 7;
        for _ in 0..5000 {
            // Small steps either way, and now and then a jump.
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let last = c.get().0;
            let mut offset = if x.is_multiple_of(5) {
                (x >> 33) % (t.len() + 1)
            } else {
                (last + (x >> 33) % 64).saturating_sub(32).min(t.len())
            };
            while !t.is_char_boundary(offset) {
                offset -= 1;
            }
            assert_eq!(idx.position(&t, offset, &c), counted(offset), "at {offset}");
        }
    }

    #[test]
    fn columns_count_characters_along_one_line() {
        let t = "[\"é\", \"é\", 1]";
        let idx = LineIndex::new(t);
        let c = Cursor::default();
        assert_eq!(idx.position(t, 1, &c), (1, 2));
        assert_eq!(idx.position(t, 7, &c), (1, 7));
        assert_eq!(idx.position(t, 13, &c), (1, 12));
    }
}
