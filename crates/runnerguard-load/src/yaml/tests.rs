//! The YAML reader: documents and positions, and the inputs it refuses (aliases, depth, keys).

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
    assert!(e.message.contains("through aliases"), "{}", e.message);
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

fn json(text: &str) -> Vec<String> {
    parse_documents(text)
        .unwrap()
        .iter()
        .map(|d| d.to_json().to_string())
        .collect()
}

fn refused(text: &str) -> SyntaxError {
    parse_documents(text).err().unwrap()
}

/// Issue #9 E3: a tag or quotes do not make a key different.
#[test]
fn repeated_keys_are_refused_however_written() {
    for (text, at) in [
        ("kind: A\nkind: B\n", (2, 1)),
        // A tagged key is placed at its text, after the tag.
        ("kind: A\n!x kind: B\n", (2, 4)),
        ("kind: A\n\"kind\": B\n", (2, 1)),
        ("a:\n  b: 1\n  !!str b: 2\n", (3, 9)),
        ("1: a\n\"1\": b\n", (2, 1)),
    ] {
        let e = refused(text);
        assert_eq!((e.line, e.column), at, "{text:?}");
        assert!(e.message.starts_with("duplicate key `"), "{}", e.message);
        assert!(e.message.contains("(first at line "), "{}", e.message);
    }
    // Keys that differ stay apart, in a large mapping too.
    let mut many = String::new();
    for i in 0..40 {
        writeln!(many, "k{i}: {i}").unwrap();
    }
    assert_eq!(
        parse_documents(&many).unwrap()[0]
            .to_json()
            .as_object()
            .unwrap()
            .len(),
        40
    );
    let e = refused(&format!("{many}!x k7: 0\n"));
    assert_eq!((e.line, e.column), (41, 4));
    assert!(
        e.message.contains("`k7` (first at line 8, column 1)"),
        "{}",
        e.message
    );
}

/// Issue #9 E4: `<<` in document order, as yaml.v2's `mapping()` and `merge()`.
#[test]
fn merge_keys_apply_in_document_order() {
    // After an explicit key, the merge overwrites it (the YAML spec would keep `A`).
    assert_eq!(
        json("kind: A\n<<: {kind: B, x: 1}\n"),
        [r#"{"kind":"B","x":1}"#]
    );
    // Before it, the explicit key overwrites the merge.
    assert_eq!(
        json("<<: {kind: B, x: 1}\nkind: A\n"),
        [r#"{"kind":"A","x":1}"#]
    );
    // A list of sources: the first source wins.
    assert_eq!(
        json("<<: [{a: 1}, {a: 2, b: 2}]\nc: 1\n"),
        [r#"{"a":1,"b":2,"c":1}"#]
    );
    // Aliases, nested merges, `!!merge`.
    assert_eq!(
        json("base: &b {r: {name: view}}\nx: {r: {name: admin}, <<: *b}\n"),
        [r#"{"base":{"r":{"name":"view"}},"x":{"r":{"name":"view"}}}"#]
    );
    assert_eq!(json("a: {!!merge <<: {k: 1}}\n"), [r#"{"a":{"k":1}}"#]);
    let e = refused("a: 1\n<<: 5\n");
    assert!(e.message.contains("takes a mapping"), "{}", e.message);
    assert_eq!((e.line, e.column), (2, 5));
}

/// yaml.v2 merges only on a plain `<<` (`isMerge`); a quoted one would be a plain key.
#[test]
fn quoted_merge_keys_are_refused() {
    for text in ["a: 1\n\"<<\": {a: 2}\n", "x:\n  '<<': {a: 2}\n"] {
        let e = refused(text);
        assert!(e.message.contains("quoted or tagged `<<`"), "{}", e.message);
    }
    let e = refused("a: 1\n\"<<\": {a: 2}\n");
    assert_eq!((e.line, e.column), (2, 1));
    // `<<` inside a value is nothing special.
    assert_eq!(json("s: \"cat <<EOF\"\n"), [r#"{"s":"cat <<EOF"}"#]);
}

#[test]
fn keys_json_cannot_hold_are_refused() {
    for text in ["~: 1\n", "? [a]\n: 1\n", "? {a: 1}\n: 1\n"] {
        let e = refused(text);
        assert!(
            e.message.contains("as a key") || e.message.contains("null key"),
            "{}",
            e.message
        );
    }
}

#[test]
fn deep_nesting_names_its_limit() {
    let y = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let e = refused(&y);
    assert!(e.message.contains("RUNNERGUARD_MAX_DEPTH"), "{}", e.message);
    assert!(!e.message.contains("Depth {"), "{}", e.message);
}
