//! Inputs the fuzz targets (fuzz/, see fuzz/README.md) found to crash the loader, minimised.
//! Each must load to a clear error or to objects, never panic.
//!
//! A test marked `#[ignore = "open: ..."]` is a crash not fixed yet (its input is also in
//! fuzz/regressions/open/); fixing it means removing the `ignore` and moving the input file
//! from fuzz/regressions/open/TARGET/ to fuzz/regressions/TARGET/, where the seed test
//! (crates/runnerguard-cli/tests/fuzz_seeds.rs) runs it through the fuzz target's checks.

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
        Err(Error::Invalid(diagnostics)) => {
            assert!(!diagnostics.is_empty());
            assert!(diagnostics.iter().all(|d| d.line == 1 && d.column >= 1));
        }
        Err(other) => panic!("unexpected error: {other}"),
        Ok(_) => panic!("a malformed file loaded"),
    }
}

/// `load_toml`, 4.5 minutes in: a 12-byte `config.toml` made the diagnostic's redacted snippet
/// (snippet.rs `Scanner::value`) slice `s[10..9]`: after `[`, the scanner is in flow context
/// and `plain_end` of the value after `= ` returns an end before its start. The CLI panicked
/// (`runnerguard audit -f config.toml`, exit 101) instead of exit 2 with the TOML error.
#[test]
#[ignore = "open: snippet.rs Scanner::value panics (slice start past end); fuzz/regressions/open/"]
fn toml_bracket_then_equals_is_an_error() {
    assert_invalid_at_line_1(load_without_panic("config.toml", "[session= = "));
}

/// The same scanner on the same bytes read as YAML (an unterminated flow sequence).
#[test]
#[ignore = "open: snippet.rs Scanner::value panics (slice start past end); fuzz/regressions/open/"]
fn yaml_bracket_then_equals_is_an_error() {
    assert_invalid_at_line_1(load_without_panic("x.yaml", "[session= = "));
}
