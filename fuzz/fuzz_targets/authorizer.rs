//! `cargo fuzz run authorizer`: see fuzz/README.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runnerguard_fuzz::targets::authorizer(data));
