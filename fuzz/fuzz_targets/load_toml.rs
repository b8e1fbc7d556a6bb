//! `cargo fuzz run load_toml`: see fuzz/README.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runnerguard_fuzz::targets::load_toml(data));
