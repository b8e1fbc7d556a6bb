//! Inputs the fuzz targets (fuzz/, see fuzz/README.md) found to crash the loader, minimised.
//! Each must load to a clear error or to objects, never panic.
//!
//! Each input is also in fuzz/regressions/TARGET/, where the seed test
//! (crates/runnerguard-cli/tests/fuzz_seeds.rs) runs it through the fuzz target's checks. A
//! crash not fixed yet would get an `#[ignore = "open: ..."]` test here and its input in
//! fuzz/regressions/open/TARGET/ (which the seed test skips).

use runnerguard_load::{Error, load_str};

/// Loads `text` as `name`; a panic fails the test with the input named.
fn load_without_panic(
    name: &str,
    text: &str,
) -> runnerguard_load::Result<runnerguard_load::Loaded> {
    std::panic::catch_unwind(|| load_str(name, text))
        .unwrap_or_else(|_| panic!("load_str({name:?}, {text:?}) panicked"))
}

fn assert_invalid_at_line_1(result: runnerguard_load::Result<runnerguard_load::Loaded>) {
    match result {
        Err(Error::Invalid(diagnostics, _)) => {
            assert!(!diagnostics.is_empty());
            assert!(diagnostics.iter().all(|d| d.line == 1 && d.column >= 1));
        }
        Err(other) => panic!("unexpected error: {other}"),
        Ok(_) => panic!("a malformed file loaded"),
    }
}

/// `load_toml`, 94 seconds in: a 12-byte `config.toml` made the diagnostic's redacted snippet
/// (snippet.rs `Scanner::value`) slice `s[10..9]`: after `[`, the scanner is in flow context
/// and `plain_end` of the value after `= ` returns an end before its start. The CLI panicked
/// (`runnerguard audit -f config.toml`, exit 101) instead of exit 2 with the TOML error.
/// Fixed in snippet.rs by a8d7ed6 (a plain value's end is never before its start).
#[test]
fn toml_bracket_then_equals_is_an_error() {
    assert_invalid_at_line_1(load_without_panic("config.toml", "[session= = "));
}

/// The same scanner on the same bytes read as YAML (an unterminated flow sequence).
#[test]
fn yaml_bracket_then_equals_is_an_error() {
    assert_invalid_at_line_1(load_without_panic("x.yaml", "[session= = "));
}

/// `load_manifests`, 15 minutes in: a file whose first line ends in a lone CR (an old Mac line
/// end, a line break for YAML) and a ConfigMap whose `config.toml` is a quoted string with
/// `\n` escapes. The YAML parser counts the CR as a line break; `placement_of` (runner.rs)
/// looked the value's line up with `str::lines`, which does not, found no opening quote there,
/// took the value for a block scalar and added the TOML error's line (2) to the value's: the
/// diagnostic said line 6 of a 5-line file.
#[test]
fn toml_in_a_quoted_value_after_a_lone_cr_stays_on_its_line() {
    let text = "\rapiVersion: v1\nkind: ConfigMap\ndata:\n config.toml: \"\\nn\"";
    match load_without_panic("cm.yaml", text) {
        Err(Error::Invalid(diagnostics, _)) => {
            assert_eq!(diagnostics.len(), 1);
            let d = &diagnostics[0];
            assert!(d.message.contains("invalid TOML"), "{}", d.message);
            // The quoted value is on line 5 (the CR ends line 1), at column 15.
            assert_eq!((d.line, d.column), (5, 15), "{}", d.message);
        }
        Err(other) => panic!("unexpected error: {other}"),
        Ok(_) => panic!("invalid TOML loaded"),
    }
}

/// The same with CRLF line ends (one break each), which `str::lines` and YAML agree on.
#[test]
fn toml_in_a_quoted_value_with_crlf_stays_on_its_line() {
    let text = "apiVersion: v1\r\nkind: ConfigMap\r\ndata:\r\n config.toml: \"\\nn\"\r\n";
    match load_without_panic("cm.yaml", text) {
        Err(Error::Invalid(diagnostics, _)) => {
            assert_eq!((diagnostics[0].line, diagnostics[0].column), (4, 15));
        }
        Err(other) => panic!("unexpected error: {other}"),
        Ok(_) => panic!("invalid TOML loaded"),
    }
}
