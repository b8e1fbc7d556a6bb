#!/usr/bin/env bash
# Whole-process benchmarks: runnerguard on generated inputs (BENCHMARKS.md).
#
# Usage:
#   scripts/bench-whole-process.sh [NAMESPACES] [BINDINGS_PER_NAMESPACE]
#       can-i and who-can on one generated inventory (default 10000 x 10), with hyperfine
#       (2 warm-ups, 10 runs) when it is installed, else 5 runs each with /usr/bin/time.
#   scripts/bench-whole-process.sh growth [NAMESPACES...]          (default 1000 10000 30000)
#       Per inventory size (10 role bindings per namespace): Python's bare `json.load` of the
#       file, then `audit -o json`, `can-i`, `who-can` and `paths --all-service-accounts`,
#       each a whole process; a Markdown table of wall and user seconds, peak memory and the
#       ratio of wall time to `json.load` measured in the same run.
#   scripts/bench-whole-process.sh runners [N...]                  (default 10000 100000)
#       `audit -o json` of a runner config.toml with N [[runners]] (scripts/gen-runners.py).
#   scripts/bench-whole-process.sh dimensions
#       `audit -o json` of inventories that grow one dimension 4x (scripts/gen-dimensions.py):
#       ClusterRoleBindings, subjects of a binding, ServiceAccounts of a namespace, aggregated
#       ClusterRoles, ServiceAccounts that may become one another, rules of a role, namespaces
#       one subject is bound in; the growth column should stay near 4 (and was 14 and 46 for
#       two of them, issue #13).
#   scripts/bench-whole-process.sh jobs [N...]                     (default 1000 3000)
#       `audit -o json` of the 10000-namespace inventory with a config.toml whose N [[runners]]
#       run jobs in N of its namespaces (`gen-runners.py jobs`): growth in job namespaces.
#
# Each cell of the growth and runners tables is the median of RUNS runs (default 3; the wall,
# user and memory medians are taken separately). Generated inputs are kept in target/bench and
# reused. Needs bash, python3, /usr/bin/time and coreutils (hyperfine optional); builds with
# `cargo build --release -p runnerguard-cli -p gen-inventory` first. Exit status 1 of
# runnerguard is an answer (findings; can-i's "no"), not a failure; 2 and above stop the script.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
out=target/bench
mkdir -p "$out"
cargo build --release -q -p runnerguard-cli -p gen-inventory
rg=./target/release/runnerguard
runs=${RUNS:-3}
bindings=10

# Generates the inventory of $1 namespaces x $2 bindings into target/bench unless it is there;
# prints its path.
inventory() {
    local file="$out/inventory-${1}x${2}.json"
    if [[ ! -s $file ]]; then
        echo "generating $file" >&2
        ./target/release/gen-inventory --namespaces "$1" --bindings-per-namespace "$2" \
            --out "$file.tmp" >&2
        mv "$file.tmp" "$file"
    fi
    echo "$file"
}

# Generates the config.toml of shape $1 (`scripts/gen-runners.py runners|jobs`) with $2
# entries into target/bench unless it is there; prints its path.
runner_config() {
    local file="$out/${1}-${2}.toml"
    if [[ ! -s $file ]]; then
        echo "generating $file" >&2
        python3 scripts/gen-runners.py "$1" "$2" --out "$file.tmp"
        mv "$file.tmp" "$file"
    fi
    echo "$file"
}

# Runs a command once under /usr/bin/time, its stdout to /dev/null; prints "WALL USER KB".
once() {
    local times errors rc=0
    times=$(mktemp)
    errors=$(mktemp)
    /usr/bin/time -f '%e %U %M' -o "$times" "$@" >/dev/null 2>"$errors" || rc=$?
    if ((rc > 1)); then
        echo "failed with exit status $rc: $*" >&2
        cat "$errors" >&2
        rm -f "$times" "$errors"
        exit 1
    fi
    # With a non-zero exit, time writes "Command exited with non-zero status 1" first.
    tail -n 1 "$times"
    rm -f "$times" "$errors"
}

# The median of the numbers on standard input, one a line (the lower one of an even count).
median() {
    local values
    values=$(sort -g)
    sed -n "$((($(wc -l <<<"$values") + 1) / 2))p" <<<"$values"
}

# Runs a command $runs times; prints the medians "WALL USER KB".
cell() {
    local samples="" i
    for ((i = 0; i < runs; i++)); do
        samples+=$(once "$@")$'\n'
    done
    samples=${samples%$'\n'}
    echo "$(cut -d' ' -f1 <<<"$samples" | median)" \
        "$(cut -d' ' -f2 <<<"$samples" | median)" \
        "$(cut -d' ' -f3 <<<"$samples" | median)"
}

# One table row: SIZE LABEL WALL USER KB [BASE_WALL] (the ratio column only with a base).
row() {
    python3 - "$@" <<'EOF'
import sys
size, label, wall, user, kb = sys.argv[1:6]
cells = [f"{int(size):,}", f"`{label}`", f"{float(wall):.2f}", f"{float(user):.2f}",
         f"{int(kb) / 1024:.0f}"]
if len(sys.argv) > 6:
    base = float(sys.argv[6])
    cells.append(f"{float(wall) / base:.1f}" if base > 0 else "n/a")
print("| " + " | ".join(cells) + " |", flush=True)
EOF
}

commit_line() {
    if command -v git >/dev/null 2>&1 && git rev-parse --git-dir >/dev/null 2>&1; then
        local dirty=""
        git diff --quiet HEAD -- 2>/dev/null || dirty=", with uncommitted changes"
        echo "Commit $(git rev-parse --short HEAD)$dirty; $runs runs a cell (medians); $(nproc) cores."
    fi
}

growth() {
    local sizes=("$@")
    ((${#sizes[@]})) || sizes=(1000 10000 30000)
    local files=()
    for n in "${sizes[@]}"; do
        files+=("$(inventory "$n" "$bindings")")
    done
    commit_line
    echo
    echo "| namespaces | command | wall s | user s | peak MB | × json.load |"
    echo "|---|---|---|---|---|---|"
    local i n inv base wall user kb label result
    for i in "${!sizes[@]}"; do
        n=${sizes[$i]}
        inv=${files[$i]}
        echo "measuring $n namespaces ($inv)" >&2
        result=$(cell python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$inv")
        read -r wall user kb <<<"$result"
        base=$wall
        row "$n" "python3 json.load" "$wall" "$user" "$kb" "$base"
        local commands=(
            "audit -o json -f INV"
            "can-i get pods -n ns-5 --as user-3 -f INV"
            "who-can get secrets -n ns-5 -f INV"
            "paths --all-service-accounts -f INV"
        )
        for label in "${commands[@]}"; do
            local args
            read -r -a args <<<"${label//INV/$inv}"
            result=$(cell "$rg" "${args[@]}")
            read -r wall user kb <<<"$result"
            row "$n" "runnerguard $label" "$wall" "$user" "$kb" "$base"
        done
    done
    echo
    for inv in "${files[@]}"; do
        echo "- \`$inv\`: $(stat -c %s "$inv") bytes"
    done
}

runners() {
    local counts=("$@")
    ((${#counts[@]})) || counts=(10000 100000)
    local files=() n file
    for n in "${counts[@]}"; do
        files+=("$(runner_config runners "$n")")
    done
    commit_line
    echo
    echo "| [[runners]] | command | wall s | user s | peak MB |"
    echo "|---|---|---|---|---|"
    local i wall user kb result
    for i in "${!counts[@]}"; do
        echo "measuring ${counts[$i]} runners (${files[$i]})" >&2
        result=$(cell "$rg" audit -o json -f "${files[$i]}")
        read -r wall user kb <<<"$result"
        row "${counts[$i]}" "runnerguard audit -o json -f runners-${counts[$i]}.toml" \
            "$wall" "$user" "$kb"
    done
    echo
    for file in "${files[@]}"; do
        echo "- \`$file\`: $(stat -c %s "$file") bytes"
    done
}

jobs() {
    local counts=("$@")
    ((${#counts[@]})) || counts=(1000 3000)
    local inv files=() n
    inv=$(inventory 10000 "$bindings")
    for n in "${counts[@]}"; do
        files+=("$(runner_config jobs "$n")")
    done
    commit_line
    echo
    echo "| job namespaces | command | wall s | user s | peak MB |"
    echo "|---|---|---|---|---|"
    local i wall user kb result
    for i in "${!counts[@]}"; do
        echo "measuring ${counts[$i]} job namespaces (${files[$i]})" >&2
        result=$(cell "$rg" audit -o json -f "$inv" -f "${files[$i]}")
        read -r wall user kb <<<"$result"
        row "${counts[$i]}" "runnerguard audit -o json -f inventory-10000x10.json -f jobs-${counts[$i]}.toml" \
            "$wall" "$user" "$kb"
    done
}

dimensions() {
    commit_line
    echo
    echo "| dimension | N | wall s | peak MB | 4N | wall s | peak MB | growth (4× input) |"
    echo "|---|---|---|---|---|---|---|---|"
    local dim n file small large
    for dim in crbs:2000 subjects:5000 sas:2000 aggregated:500 sasgroups:2500 rules:500 bound:2000; do
        n=${dim#*:}
        dim=${dim%%:*}
        for size in "$n" "$((4 * n))"; do
            file="$out/dimension-$dim-$size.json"
            [[ -s $file ]] || python3 scripts/gen-dimensions.py "$dim" "$size" >"$file"
        done
        echo "measuring $dim" >&2
        small=$(cell "$rg" audit -o json -f "$out/dimension-$dim-$n.json")
        large=$(cell "$rg" audit -o json -f "$out/dimension-$dim-$((4 * n)).json")
        python3 - "$dim" "$n" $small $large <<'EOF2'
import sys
dim, n, w1, _, k1, w2, _, k2 = sys.argv[1:]
n = int(n)
print(f"| {dim} | {n:,} | {float(w1):.2f} | {int(k1) / 1024:.0f} | {4 * n:,} | {float(w2):.2f} | "
      f"{int(k2) / 1024:.0f} | {float(w2) / max(float(w1), 0.01):.1f} |", flush=True)
EOF2
    done
}

case ${1:-} in
dimensions)
    shift
    dimensions
    exit
    ;;
jobs)
    shift
    jobs "$@"
    exit
    ;;
growth)
    shift
    growth "$@"
    exit
    ;;
runners)
    shift
    runners "$@"
    exit
    ;;
esac

namespaces=${1:-10000}
bindings=${2:-10}
inventory="$out/inventory-${namespaces}x${bindings}.json"
./target/release/gen-inventory --namespaces "$namespaces" --bindings-per-namespace "$bindings" --out "$inventory"
ls -l "$inventory"
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
