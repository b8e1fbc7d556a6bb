//! The bodies of runnerguard's fuzz targets, as plain functions.
//!
//! The `fuzz_targets/*.rs` binaries hand libFuzzer's bytes to these functions; the CLI crate's
//! `tests/fuzz_seeds.rs` includes the same module and runs every seed of `corpus/` through it,
//! so the targets build and hold on the seeds in every `cargo test`, without libFuzzer.

#![forbid(unsafe_code)]

pub mod targets;
