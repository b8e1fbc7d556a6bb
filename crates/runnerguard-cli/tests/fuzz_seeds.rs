//! The fuzz targets' bodies (fuzz/src/targets.rs) on every seed of fuzz/corpus/ and every
//! input of fuzz/regressions/: the fuzz crate builds with libFuzzer only under `cargo fuzz`,
//! so this test keeps its code compiling, and its checks holding on the seeds, in every
//! `cargo test`. See fuzz/README.md.

#[allow(
    unreachable_pub,
    dead_code,
    reason = "the module is the fuzz crate's public API, included here as a test module"
)]
#[path = "../../../fuzz/src/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};

fn inputs(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.is_file());
    files.sort();
    files
}

fn run(target: &str, body: fn(&[u8])) {
    let seeds = inputs(&format!("corpus/{target}"));
    assert!(!seeds.is_empty(), "no seeds in fuzz/corpus/{target}");
    let regressions = inputs(&format!("regressions/{target}"));
    for path in seeds.iter().chain(&regressions) {
        let data =
            std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let outcome = std::panic::catch_unwind(|| body(&data));
        assert!(outcome.is_ok(), "{target} panicked on {}", path.display());
    }
}

#[test]
fn load_manifests_seeds() {
    run("load_manifests", targets::load_manifests);
}

#[test]
fn load_toml_seeds() {
    run("load_toml", targets::load_toml);
}

#[test]
fn load_values_seeds() {
    run("load_values", targets::load_values);
}

#[test]
fn authorizer_seeds() {
    run("authorizer", targets::authorizer);
}

/// The authorizer target is not vacuous: the hand-made seeds (a `*` ClusterRole bound to a
/// user, a RoleBinding of a Role with `*/exec` to a ServiceAccount without a namespace, a
/// `/api/*` URL bound to `system:authenticated`) each build a policy that allows their request.
#[test]
fn authorizer_hand_seeds_are_allowed() {
    let hand: Vec<PathBuf> = inputs("corpus/authorizer")
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("hand-"))
        })
        .collect();
    assert_eq!(hand.len(), 3);
    for path in &hand {
        assert!(
            targets::authorizer_allows(&std::fs::read(path).unwrap()),
            "{} is not allowed",
            path.display()
        );
    }
}
