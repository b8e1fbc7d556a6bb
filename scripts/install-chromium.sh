#!/usr/bin/env bash
# Installs Debian's `chromium` package when no `chromium` is on PATH, and prints its path.
#
# The HTML report's test (crates/runnerguard-cli/tests/cli/html.rs) renders the seed audit's
# page in headless Chromium: a screenshot and the rendered DOM. Tests find the browser through
# RUNNERGUARD_CHROMIUM; .ci/run sets it to what this script prints (the last line of its output).
#
# Debian's package from Debian's archive, through apt-get (no browser download of its own).
# Needs root, or sudo without a password. Idempotent: an installed chromium is left alone.
set -euo pipefail

if path="$(command -v chromium 2>/dev/null)"; then
    echo "$path"
    exit 0
fi

as_root=()
if [[ "$(id -u)" != 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install-chromium.sh: chromium is not installed, and installing it needs root or sudo" >&2
        exit 1
    fi
    as_root=(sudo -n)
fi

export DEBIAN_FRONTEND=noninteractive
# Output goes to stderr: stdout is the path alone, for `$(bash scripts/install-chromium.sh)`.
"${as_root[@]}" apt-get update -q >&2
"${as_root[@]}" apt-get install -y -q --no-install-recommends chromium >&2

path="$(command -v chromium)"
"$path" --version >&2
echo "$path"
