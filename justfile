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

ci:
    bash .ci/run
