//! JSON documents: one or more top-level values, kept as raw text so that each object can be
//! deserialized straight into its `k8s-openapi` type and placed by its byte offset.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// Maps byte offsets to 1-based line and column.
///
/// Objects are placed in increasing offset order, so each reader keeps a [`Cursor`] with its
/// last answer and counts the next column from there: placing every item of a one-line,
/// 50 MB List stays linear.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

/// The last offset a reader asked for, its line index and its 0-based character column.
pub(crate) type Cursor = Cell<(usize, usize, usize)>;

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr_newlines(text));
        Self { starts }
    }

    /// Line and column (in characters) of byte `offset` of `text`.
    pub(crate) fn position(&self, text: &str, offset: usize, cursor: &Cursor) -> (u32, u32) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1) - 1;
        let start = self.starts[line];
        let (last_offset, last_line, last_column) = cursor.get();
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
}

fn memchr_newlines(text: &str) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1)
}

/// Byte offset of `raw` inside `text` (a slice of it).
pub(crate) fn offset_in(text: &str, raw: &str) -> usize {
    (raw.as_ptr() as usize).saturating_sub(text.as_ptr() as usize)
}

/// A document's `apiVersion` and `kind` (when strings), and a List's items as raw text.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct DocHeader<'a> {
    pub(crate) api_version: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) items: Option<Vec<&'a str>>,
}

/// A top-level JSON value: its text and, when it is an object, its header.
pub(crate) struct TopDoc<'a> {
    pub(crate) text: &'a str,
    pub(crate) header: Option<DocHeader<'a>>,
}

/// Splits `text` into its top-level JSON values, reading each one's header and a List's
/// items in the same pass (a 50 MB List is scanned once here, once by the typed pass).
pub(crate) fn parse_documents(text: &str) -> Result<Vec<TopDoc<'_>>, serde_json::Error> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Top<'_>>();
    let mut docs = Vec::new();
    loop {
        let start = stream.byte_offset();
        let Some(top) = stream.next() else {
            return Ok(docs);
        };
        let top = top?;
        let end = stream.byte_offset();
        docs.push(TopDoc {
            text: text.get(start..end).unwrap_or_default().trim_start(),
            header: top.0,
        });
    }
}

/// A top-level value, seen only for its header.
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
        let mut strings = true;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "apiVersion" | "kind" => {
                    let value = map.next_value::<serde_json::Value>()?;
                    let slot = if key == "kind" {
                        &mut header.kind
                    } else {
                        &mut header.api_version
                    };
                    match value {
                        serde_json::Value::String(s) => *slot = Some(s),
                        _ => strings = false,
                    }
                }
                "items" => header.items = map.next_value::<Items<'de>>()?.0,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Top(strings.then_some(header)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
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

/// `items`: a list of raw items, or anything else (then not a List's items).
struct Items<'a>(Option<Vec<&'a str>>);

impl<'de> serde::Deserialize<'de> for Items<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Items<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items<'de>, A::Error> {
                let mut items = Vec::new();
                while let Some(raw) = seq.next_element::<&'de RawValue>()? {
                    items.push(raw.get());
                }
                Ok(Items(Some(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Items<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Items(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Items<'de>, E> {
                Ok(Items(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Items<'de>, E> {
                Ok(Items(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Items<'de>, E> {
                Ok(Items(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Items<'de>, E> {
                Ok(Items(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Items<'de>, E> {
                Ok(Items(None))
            }
            fn visit_unit<E>(self) -> Result<Items<'de>, E> {
                Ok(Items(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// Whether `text` looks like JSON rather than YAML (its first non-blank character opens an
/// object or array). YAML flow style would look the same, and is parsed fine as YAML, but
/// JSON input is read much faster by the JSON reader.
pub(crate) fn looks_like_json(text: &str) -> bool {
    matches!(text.trim_start().as_bytes().first(), Some(b'{' | b'['))
}

/// `apiVersion` and `kind` of a JSON object, read only as far as needed.
///
/// Objects as kubectl and most tools write them start with these two keys, so stopping once
/// both are known saves scanning every object twice (the typed pass reads it all anyway).
/// `None` when the text is not an object or either value is not a string.
pub(crate) fn quick_header(raw: &str) -> Option<(Option<String>, Option<String>)> {
    use std::cell::RefCell;

    use serde::Deserializer as _;
    use serde::de;

    const STOP: &str = "runnerguard: header complete";

    struct HeaderVisitor<'c>(&'c RefCell<(Option<String>, Option<String>)>);

    impl<'de> Visitor<'de> for HeaderVisitor<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                match key.as_ref() {
                    "apiVersion" => self.0.borrow_mut().0 = Some(map.next_value::<String>()?),
                    "kind" => self.0.borrow_mut().1 = Some(map.next_value::<String>()?),
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                let done = {
                    let h = self.0.borrow();
                    h.0.is_some() && h.1.is_some()
                };
                if done {
                    return Err(de::Error::custom(STOP));
                }
            }
            Ok(())
        }
    }

    let found = RefCell::new((None, None));
    let mut de = serde_json::Deserializer::from_str(raw);
    match de.deserialize_map(HeaderVisitor(&found)) {
        Ok(()) => Some(found.into_inner()),
        Err(e) if e.to_string().starts_with(STOP) => Some(found.into_inner()),
        Err(_) => None,
    }
}

pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_with_headers_and_items() {
        let t = "{\"kind\":\"List\",\"apiVersion\":\"v1\",\"items\":[{\"a\":1}, {\"b\":[2]}]}\n [3] {\"kind\":7} {\"items\":{\"x\":1}}";
        let docs = parse_documents(t).unwrap();
        assert_eq!(docs.len(), 4);
        let h = docs[0].header.as_ref().unwrap();
        assert_eq!(h.kind.as_deref(), Some("List"));
        assert_eq!(h.items.as_deref(), Some(&["{\"a\":1}", "{\"b\":[2]}"][..]));
        assert_eq!(docs[1].text, "[3]");
        assert!(docs[1].header.is_none());
        assert!(docs[2].header.is_none(), "non-string kind");
        assert_eq!(docs[3].header.as_ref().unwrap().items, None);
    }

    #[test]
    fn header_stops_early_but_reads_anywhere() {
        let h = quick_header(r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"x"}}"#);
        assert_eq!(h, Some((Some("v1".into()), Some("Namespace".into()))));
        let h = quick_header(r#"{"metadata":{"kind":"no"},"kind":"Role","x":[1]}"#);
        assert_eq!(h, Some((None, Some("Role".into()))));
        assert_eq!(quick_header(r#"{"kind":5}"#), None);
        assert_eq!(quick_header("[1]"), None);
        // An escaped key is still recognised.
        let h = quick_header(r#"{"\u006bind":"Role","apiVersion":"v1"}"#);
        assert_eq!(h, Some((Some("v1".into()), Some("Role".into()))));
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
