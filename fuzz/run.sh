#!/usr/bin/env bash
# Builds one fuzz target and runs it: fuzz/run.sh TARGET [SECONDS] [libFuzzer options...]
#
# TARGET is load_manifests, load_toml, load_values or authorizer; SECONDS defaults to 1800.
# New inputs go to fuzz/work/TARGET (ignored by git), the seeds stay in fuzz/corpus/TARGET,
# crashes land in fuzz/artifacts/TARGET. SANITIZER=address builds with AddressSanitizer, which
# needs RUSTC_BOOTSTRAP=1 on a stable toolchain (set here for this build only); the default,
# none, builds on stable as it is (the code is safe Rust: the fuzzers look for panics, stack
# overflows, hangs, memory blow-ups and wrong answers, and debug assertions are on).
set -euo pipefail
cd "$(dirname "$0")/.."

target="${1:?usage: fuzz/run.sh TARGET [SECONDS] [libFuzzer options...]}"
seconds="${2:-1800}"
shift
[[ $# -gt 0 ]] && shift
sanitizer="${SANITIZER:-none}"

export PATH="$PWD/target/tools/bin:$PATH"
command -v cargo-fuzz >/dev/null 2>&1 || bash scripts/install-fuzz.sh

if [[ "$sanitizer" == none ]]; then
    cargo fuzz build --sanitizer none --debug-assertions "$target"
else
    RUSTC_BOOTSTRAP=1 cargo fuzz build --sanitizer "$sanitizer" --debug-assertions "$target"
fi

case "$target" in
    load_manifests | load_values) dict=(-dict=fuzz/yaml_json.dict) ;;
    load_toml) dict=(-dict=fuzz/toml.dict) ;;
    *) dict=() ;;
esac
triple="$(rustc -vV | sed -n 's/^host: //p')"
mkdir -p "fuzz/work/$target" "fuzz/artifacts/$target"
exec nice -n 10 "fuzz/target/$triple/release/$target" "fuzz/work/$target" "fuzz/corpus/$target" \
    "${dict[@]}" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
    -artifact_prefix="fuzz/artifacts/$target/" -print_final_stats=1 "$@"
