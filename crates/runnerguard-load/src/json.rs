//! JSON documents: one or more top-level values, kept as raw text so that each object can be
//! deserialized straight into its `k8s-openapi` type and placed by its byte offset.

use serde_json::value::RawValue;

/// Maps byte offsets to 1-based line and column.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    /// Line and column (in characters) of byte `offset` of `text`.
    pub(crate) fn position(&self, text: &str, offset: usize) -> (u32, u32) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (to_u32(line), to_u32(column))
    }
}

/// Byte offset of `raw` inside `text` (a slice of it).
pub(crate) fn offset_in(text: &str, raw: &RawValue) -> usize {
    (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize)
}

/// Splits `text` into its top-level JSON values.
pub(crate) fn parse_documents(text: &str) -> Result<Vec<&RawValue>, serde_json::Error> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<&RawValue>()
        .collect()
}

/// Whether `text` looks like JSON rather than YAML (its first non-blank character opens an
/// object or array). YAML flow style would look the same, and is parsed fine as YAML, but
/// JSON input is read much faster by the JSON reader.
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
    fn positions() {
        let t = "{\"a\":\n  [1, {\"b\": 2}]}\n{\"c\": 3}";
        let idx = LineIndex::new(t);
        assert_eq!(idx.position(t, 0), (1, 1));
        assert_eq!(idx.position(t, 8), (2, 3));
        let docs = parse_documents(t).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(idx.position(t, offset_in(t, docs[1])), (3, 1));
    }
}
