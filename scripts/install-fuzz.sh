#!/usr/bin/env bash
# Installs cargo-fuzz (pinned) into target/tools (or $1) for the fuzz targets in fuzz/.
#
# Fuzzing is a manual, long-running job (see fuzz/README.md); it is not part of .ci/run.
# cargo-fuzz comes from crates.io through `cargo install --locked`, nothing else is downloaded.
# Idempotent: an installed cargo-fuzz of the pinned version is left alone. An already installed
# one of that version in ~/.cargo/bin is also accepted.
set -euo pipefail
cd "$(dirname "$0")/.."

root="${1:-target/tools}"
want="0.13.2"

for bin in "$root/bin/cargo-fuzz" "${CARGO_HOME:-$HOME/.cargo}/bin/cargo-fuzz"; do
    if [[ -x "$bin" ]] && "$bin" fuzz --version 2>/dev/null | grep -q " ${want}\$"; then
        echo "cargo-fuzz ${want} already at ${bin}"
        exit 0
    fi
done

cargo install --locked --root "$root" "cargo-fuzz@${want}"
"$root/bin/cargo-fuzz" fuzz --version
echo "add $(cd "$root/bin" && pwd) to PATH to run 'cargo fuzz'"
