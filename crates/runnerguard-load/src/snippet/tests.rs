//! Redaction and windowing of diagnostic snippets: sensitive keys, secret data, long lines, messages.

use std::fmt::Write as _;

use super::redact::sensitive_key;
use super::*;

fn hidden(text: &str, line: u32, column: u32) -> String {
    Snippet::new("f", text, line, column).text().to_owned()
}

#[test]
fn serde_values_are_dropped_from_messages() {
    assert_eq!(
        message(r#"invalid type: string "glrt-CANARY\"x", expected a sequence"#),
        "invalid type: string, expected a sequence"
    );
    assert_eq!(
        message(r#"invalid value: string "hunter2", expected one of"#),
        "invalid value: string, expected one of"
    );
    assert_eq!(
        message("unknown variant `Foo`, expected `A` or `B`"),
        "unknown variant `Foo`, expected `A` or `B`"
    );
    assert_eq!(
        message("unknown variant `glpat-CANARY`, expected `A`"),
        "unknown variant `<redacted>`, expected `A`"
    );
    assert_eq!(
        message(&format!(
            "unknown variant `{}`, expected `A`",
            "x".repeat(41)
        )),
        "unknown variant `<redacted>`, expected `A`"
    );
    // Long names stay: they say which object.
    let sa = "system:serviceaccount:gitlab-runner:gitlab-runner-with-a-long-name";
    assert_eq!(
        message(&format!("ClusterRoleBinding `{sa}` refers to a Role")),
        format!("ClusterRoleBinding `{sa}` refers to a Role")
    );
    assert_eq!(
        message("cannot fetch https://user:pw@example.com/x"),
        "cannot fetch https://<redacted>@example.com/x"
    );
    assert_eq!(message("a\u{1b}[2Kb\r"), "a\\u{1b}[2Kb\\r");
    let long = message(&"x ".repeat(100_000));
    assert!(long.chars().count() <= MAX_MESSAGE + 8, "{}", long.len());
}

/// The fuzzer's first find (`[session= = `: a plain value's end computed before its
/// start), and a sweep of short inputs made of the characters the scanner reacts to:
/// building a window or cleaning a message never panics.
#[test]
fn the_scanner_never_panics() {
    for text in ["[session= = ", "{a= =", "- token: =", "x: [= =", "\"k\"= ="] {
        for column in 1..=14 {
            let _ = Snippet::new("f", text, 1, column);
        }
    }
    let alphabet: Vec<char> = "[]{}\"'=:#|>-&!,\\ \t\n\rtoken:dataé\u{1b}glrt-//@x"
        .chars()
        .collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..40_000 {
        let len = usize::try_from(next() % 24).unwrap_or(0);
        let text: String = (0..len)
            .map(|_| alphabet[usize::try_from(next()).unwrap_or(0) % alphabet.len()])
            .collect();
        let line = u32::try_from(next() % 5).unwrap_or(0);
        let column = u32::try_from(next() % 30).unwrap_or(0);
        let w = Snippet::new("f", &text, line, column);
        assert!(w.label() <= w.text().len());
        let _ = message(&text);
    }
}

#[test]
fn line_starts() {
    let text = "a\nbb\n\nc".repeat(20_000);
    let naive = |n: usize| {
        if n == 1 {
            Some(0)
        } else {
            text.match_indices('\n').nth(n - 2).map(|(i, _)| i + 1)
        }
    };
    for n in [
        1, 2, 3, 4, 5, 6_000, 16_385, 16_386, 59_999, 60_000, 60_001, 60_002,
    ] {
        assert_eq!(line_start(text.as_bytes(), n), naive(n), "line {n}");
    }
}

#[test]
fn char_offsets_count_characters() {
    for s in [
        "",
        "a",
        "é",
        "aé",
        "éa",
        "a\u{10000}b",
        "\u{10000}\u{10000}é",
    ] {
        for n in 0..6 {
            let naive = s.char_indices().nth(n).map_or(s.len(), |(i, _)| i);
            assert_eq!(char_offset(s, n), naive, "{s:?} {n}");
        }
    }
    let s = format!("{}é{}", "a".repeat(70_000), "b".repeat(70_000));
    assert_eq!(char_offset(&s, 10), 10);
    assert_eq!(char_offset(&s, 70_000), 70_000);
    assert_eq!(char_offset(&s, 70_001), 70_002);
    assert_eq!(char_offset(&s, 1 << 30), s.len());
    let t = "é".repeat(200_000);
    assert_eq!(char_offset(&t, 199_999), 399_998);
    assert_eq!(char_offset(&t, 200_000), t.len());
}

#[test]
fn sensitive_keys() {
    for k in [
        "token",
        "runner_token",
        "runnerRegistrationToken",
        "password",
        "SecretKey",
        "AccessKey",
        "\"data\"",
        "stringData",
        "kubectl.kubernetes.io/last-applied-configuration",
        "--registration-token",
    ] {
        assert!(sensitive_key(k), "{k}");
    }
    for k in [
        "name",
        "kind",
        "secretName",
        "automountServiceAccountToken",
        "url",
    ] {
        assert!(!sensitive_key(k), "{k}");
    }
}

#[test]
fn yaml_secret_data_is_hidden_by_indentation() {
    let text = "apiVersion: v1\nkind: Secret\ndata:\n  a: Q0FOQVJZ\n  b: Q0FOQVJZMg==\nmetadata:\n  name: [oops\n";
    let w = hidden(text, 7, 9);
    assert!(!w.contains("Q0FO"), "{w}");
    assert!(
        w.contains("  a: <redacted>") || w.contains("  b: <redacted>"),
        "{w}"
    );
    assert!(w.contains("name: [oops"), "{w}");
}

#[test]
fn toml_and_json_values() {
    let w = hidden(
        "[[runners]]\n  token = \"s3cret\"\n  url = \"https://u:p@h/\"\n  executor = [\n",
        4,
        14,
    );
    assert!(!w.contains("s3cret") && !w.contains("u:p"), "{w}");
    assert!(w.contains("executor = ["), "{w}");
    let w = hidden(
        r#"{"kind":"Secret","stringData":{"k":"s3cret"},"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"x\":\"s3cret\"}"},"name":5}}"#,
        1,
        150,
    );
    assert!(!w.contains("s3cret"), "{w}");
}

#[test]
fn block_scalars_and_env_values() {
    let w = hidden(
        "spec:\n  password: first\n    s3cret\n# password: s3cret\nx: [\n",
        5,
        4,
    );
    assert!(!w.contains("s3cret"), "{w}");
    let text = "metadata:\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: |\n      {\"token\":\"s3cret\"}\n  name: [\nspec:\n  env:\n  - name: RUNNER_TOKEN\n    value: s3cret\n  - x: [\n";
    assert!(!hidden(text, 5, 9).contains("s3cret"));
    assert!(!hidden(text, 10, 8).contains("s3cret"));
}

/// An error far into a long line: the line is cut around it, its start not read, and
/// it ends the window (the line is not searched to its end).
#[test]
fn long_lines_are_cut_around_the_error() {
    let text = format!(
        "data:\n  a: {}s3cret{}\n  b: s3cret\nx: [\n",
        "A".repeat(10_000),
        "B".repeat(1_000)
    );
    let w = hidden(&text, 2, 10_050);
    assert!(!w.contains("s3cret") && !w.contains("AAA"), "{w}");
    assert!(w.lines().all(|l| l.chars().count() <= WIDTH + 2), "{w}");
    assert!(w.starts_with("data:\n…"), "{w}");
    assert!(!w.contains("x: ["), "{w}");
}

#[test]
fn unknown_parents_hide_values() {
    // The window's parents are beyond the lookback: it could be inside `data:`.
    let mut text = String::from("kind: Secret\ndata:\n");
    for i in 0..LOOKBACK_LINES + 10 {
        writeln!(text, "  k{i}: czNjcmV0").unwrap();
    }
    text.push_str("  bad: [\n");
    let line = u32::try_from(LOOKBACK_LINES + 13).unwrap_or(u32::MAX);
    let w = hidden(&text, line, 8);
    assert!(!w.contains("czNj"), "{w}");
}
