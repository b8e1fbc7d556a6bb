#!/usr/bin/env bash
# Whole-process benchmark: runnerguard on a generated inventory (BENCHMARKS.md).
# Usage: scripts/bench-whole-process.sh [NAMESPACES] [BINDINGS_PER_NAMESPACE]
set -euo pipefail
cd "$(dirname "$0")/.."
namespaces=${1:-10000}
bindings=${2:-10}
out=target/bench
mkdir -p "$out"
cargo build --release -q -p runnerguard-cli -p gen-inventory
inventory="$out/inventory-${namespaces}x${bindings}.json"
./target/release/gen-inventory --namespaces "$namespaces" --bindings-per-namespace "$bindings" --out "$inventory"
ls -l "$inventory"
rg=./target/release/runnerguard
commands=(
    "$rg can-i get pods -n ns-5000 --as user-3 -f $inventory"
    "$rg can-i get secrets -n ns-5000 --as system:serviceaccount:ns-5000:deployer -f $inventory"
    "$rg who-can get secrets -n ns-5000 -f $inventory"
)
if command -v hyperfine >/dev/null 2>&1; then
    # can-i exits 1 for "no": that is an answer, not a failure.
    hyperfine --warmup 2 --runs 10 -i "${commands[@]}"
else
    for c in "${commands[@]}"; do
        echo "$c"
        for _ in 1 2 3 4 5; do /usr/bin/time -f "%e s wall, %M KB max RSS" $c >/dev/null || true; done
    done
fi
/usr/bin/time -f "peak memory: %M KB" "$rg" can-i get pods -n ns-5000 --as user-3 -f "$inventory" >/dev/null || true
