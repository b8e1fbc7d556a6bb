//! Keys made of several texts from the inputs, kept apart whatever the texts hold.

use std::borrow::Cow;

/// The byte that ends each part of a key.
pub const KEY_SEPARATOR: char = '\0';

/// `part` as a part of a key whose parts each end with [`KEY_SEPARATOR`]: a NUL in it becomes
/// U+0001 U+0001 and a U+0001 becomes U+0001 U+0002, so no part holds the separator and no
/// two different lists of parts make the same key. A part holding neither character (every
/// name Kubernetes accepts) is itself, so keys, and the fingerprints hashed from them, stay
/// those of earlier versions.
///
/// Names from the inputs may hold any character: joined with a bare NUL, the parts
/// (`a<NUL>b`, `c`) and (`a`, `b<NUL>c`) made one key, and a finding about one object could
/// pass for a finding about another.
pub fn key_part(part: &str) -> Cow<'_, str> {
    if !part.contains(['\0', '\u{1}']) {
        return Cow::Borrowed(part);
    }
    let mut escaped = String::with_capacity(part.len() + 2);
    for c in part.chars() {
        match c {
            '\0' => escaped.push_str("\u{1}\u{1}"),
            '\u{1}' => escaped.push_str("\u{1}\u{2}"),
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

/// Appends `part` and the separator to `key` (see [`key_part`]).
pub fn push_key_part(key: &mut String, part: &str) {
    key.push_str(&key_part(part));
    key.push(KEY_SEPARATOR);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(parts: &[&str]) -> String {
        let mut key = String::new();
        for part in parts {
            push_key_part(&mut key, part);
        }
        key
    }

    #[test]
    fn parts_without_the_escaped_characters_are_kept_as_they_are() {
        assert!(matches!(
            key_part("ns-1/name.x"),
            Cow::Borrowed("ns-1/name.x")
        ));
        assert_eq!(key(&["a", "b"]), "a\0b\0");
    }

    #[test]
    fn no_two_lists_of_parts_make_one_key() {
        let lists: [&[&str]; 8] = [
            &["a\0b", "c"],
            &["a", "b\0c"],
            &["a", "b", "c"],
            &["a\u{1}", "\u{1}b"],
            &["a\u{1}\u{1}", "b"],
            &["a\0", "b"],
            &["a", "\0b"],
            &["a\u{1}\u{2}", "b"],
        ];
        let keys: std::collections::HashSet<String> = lists.iter().map(|l| key(l)).collect();
        assert_eq!(keys.len(), lists.len());
        // The separators are the parts' ends, and nothing else.
        for parts in lists {
            assert_eq!(key(parts).matches(KEY_SEPARATOR).count(), parts.len());
        }
    }
}
