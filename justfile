# Mirrors .ci/run.
default: ci

fmt:
    cargo fmt --all --check

clippy:
    cargo clippy --workspace --all-targets --locked -- -D warnings

test:
    cargo test --workspace --locked

doc:
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --document-private-items --locked

deny:
    cargo deny check licenses bans sources

bench:
    cargo bench -p runnerguard-engine
    cargo bench -p runnerguard-cli --bench pipeline

# Whole-process time and memory per inventory size (BENCHMARKS.md, issue #13).
growth:
    bash scripts/bench-whole-process.sh growth 1000 10000

# Growth when one input dimension grows 4x: none should grow much more than 4x (issue #13).
dimensions:
    bash scripts/bench-whole-process.sh dimensions

ci:
    bash .ci/run
