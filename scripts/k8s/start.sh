#!/usr/bin/env bash
# Copied from ../shared/k8s/start.sh (scripts/k8s/PROVENANCE.md); changed only where the
# binaries come from when KUBEBUILDER_ASSETS is not set.
# start.sh DIR — start a loopback-only Kubernetes control plane:
#   etcd + kube-apiserver (+ kube-controller-manager unless NO_KCM=1)
# All listeners are on 127.0.0.1 with free ports. Writes DIR/kubeconfig (admin, system:masters,
# client cert), DIR/admin.token (bearer token, also system:masters), DIR/env (ports, PIDs).
# Env knobs:
#   K8S_BIN   dir with kube-apiserver / kube-controller-manager / etcd (default: $KUBEBUILDER_ASSETS if it
#             holds kube-apiserver, else the binaries of bin/*.xz unpacked by unpack.sh into a cache folder)
#   ETCD_BIN  etcd binary (default: $K8S_BIN/etcd if present, else /usr/bin/etcd from Debian etcd-server)
#   NO_KCM=1  do not start kube-controller-manager
#   APISERVER_EXTRA_ARGS  more kube-apiserver flags, space-separated (the tests' audit log)
#   READY_TIMEOUT seconds to wait for /readyz (default 180)
set -euo pipefail

DIR=${1:?usage: start.sh DIR}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -z "${K8S_BIN:-}" ]]; then
  if [[ -n "${KUBEBUILDER_ASSETS:-}" && -x $KUBEBUILDER_ASSETS/kube-apiserver ]]; then K8S_BIN=$KUBEBUILDER_ASSETS
  elif [[ -x $HERE/unpack.sh ]]; then K8S_BIN=$("$HERE/unpack.sh")
  else echo "set KUBEBUILDER_ASSETS to a folder holding kube-apiserver and etcd (e.g. the output of ../shared/k8s/unpack.sh, or setup-envtest's)" >&2; exit 1; fi
fi
if [[ -z "${ETCD_BIN:-}" ]]; then
  if [[ -x $K8S_BIN/etcd ]]; then ETCD_BIN=$K8S_BIN/etcd; else ETCD_BIN=$(command -v etcd || true); fi
fi
APISERVER=$K8S_BIN/kube-apiserver
KCM=$K8S_BIN/kube-controller-manager
READY_TIMEOUT=${READY_TIMEOUT:-180}
[[ -x $APISERVER ]] || { echo "missing $APISERVER" >&2; exit 1; }
[[ -n $ETCD_BIN && -x $ETCD_BIN ]] || { echo "no etcd binary (set ETCD_BIN or apt-get install etcd-server)" >&2; exit 1; }

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
if [[ -f $DIR/pids/kube-apiserver.pid ]] && kill -0 "$(cat "$DIR/pids/kube-apiserver.pid")" 2>/dev/null; then
  echo "already running in $DIR (run stop.sh $DIR first)" >&2; exit 1
fi
mkdir -p "$DIR"/{pki,logs,pids}
T0=$(date +%s.%N)

# ---------- free loopback ports ----------
read -r ETCD_PORT ETCD_PEER_PORT API_PORT KCM_PORT < <(python3 - <<'EOF'
import socket
socks = []
for _ in range(4):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()
EOF
)

# ---------- PKI (openssl) ----------
P=$DIR/pki
if [[ ! -f $P/ca.crt ]]; then
  (
    cd "$P"
    exec >"$DIR/logs/pki.log" 2>&1
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -keyout ca.key -out ca.crt -subj "/CN=runnerguard-test-ca"
    # serving cert for kube-apiserver
    cat > apiserver.ext <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
EOF
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' > client.ext
    mk() { # name subject extfile
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -out "$1.crt" -extfile "$3"
      rm -f "$1.csr"
    }
    mk apiserver "/CN=kube-apiserver" apiserver.ext
    mk admin "/O=system:masters/CN=kubernetes-admin" client.ext
    mk kube-controller-manager "/CN=system:kube-controller-manager" client.ext
    # service-account token signing key pair
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
  )
  # static bearer token for the admin (token,user,uid,"group1,group2")
  TOKEN=$(openssl rand -hex 24)
  echo "$TOKEN" > "$DIR/admin.token"
  echo "$TOKEN,kubernetes-admin-token,admin-token-uid,\"system:masters\"" > "$P/tokens.csv"
  chmod 600 "$P"/*.key "$P/tokens.csv" "$DIR/admin.token"
fi

T_PKI=$(date +%s.%N)
SERVER=https://127.0.0.1:$API_PORT
kubeconfig() { # file user cert key
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $SERVER
    certificate-authority-data: $(base64 -w0 < "$P/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(base64 -w0 < "$3")
    client-key-data: $(base64 -w0 < "$4")
contexts:
- name: $2@local
  context: {cluster: local, user: $2}
current-context: $2@local
EOF
  chmod 600 "$1"
}
kubeconfig "$DIR/kubeconfig" admin "$P/admin.crt" "$P/admin.key"
kubeconfig "$DIR/kcm.kubeconfig" system:kube-controller-manager "$P/kube-controller-manager.crt" "$P/kube-controller-manager.key"

# ---------- etcd ----------
ETCD_ARGS=(--name default --data-dir "$DIR/etcd-data"
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT"
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT")
if "$ETCD_BIN" --help 2>&1 | grep -q -- 'unsafe-no-fsync'; then ETCD_ARGS+=(--unsafe-no-fsync); fi
if "$ETCD_BIN" --version 2>&1 | grep -q mini-etcd; then ETCD_ARGS+=(--log-level error); else
  ETCD_ARGS+=(--initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT"
    --initial-cluster "default=http://127.0.0.1:$ETCD_PEER_PORT" --logger zap --log-level warn)
fi
nohup "$ETCD_BIN" "${ETCD_ARGS[@]}" >"$DIR/logs/etcd.log" 2>&1 </dev/null &
echo $! > "$DIR/pids/etcd.pid"

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$ETCD_PORT/health" >/dev/null 2>&1 && break
  kill -0 "$(cat "$DIR/pids/etcd.pid")" 2>/dev/null || { echo "etcd died:" >&2; tail -20 "$DIR/logs/etcd.log" >&2; exit 1; }
  sleep 0.2
done
T_ETCD=$(date +%s.%N)

# ---------- kube-apiserver ----------
nohup "$APISERVER" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" \
  --client-ca-file="$P/ca.crt" --token-auth-file="$P/tokens.csv" \
  --authorization-mode=Node,RBAC \
  --enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,NodeRestriction,DefaultStorageClass,ResourceQuota,MutatingAdmissionWebhook,ValidatingAdmissionPolicy,ValidatingAdmissionWebhook \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range=10.0.0.0/24 \
  --endpoint-reconciler-type=none \
  --allow-privileged=true --profiling=false --v=1 \
  ${APISERVER_EXTRA_ARGS:-} \
  >"$DIR/logs/kube-apiserver.log" 2>&1 </dev/null &
echo $! > "$DIR/pids/kube-apiserver.pid"

READY=0
for _ in $(seq 1 $((READY_TIMEOUT * 4))); do
  if [[ "$(curl -sS --max-time 2 --cacert "$P/ca.crt" -H "Authorization: Bearer $(cat "$DIR/admin.token")" "$SERVER/readyz" 2>/dev/null)" == ok ]]; then READY=1; break; fi
  kill -0 "$(cat "$DIR/pids/kube-apiserver.pid")" 2>/dev/null || { echo "kube-apiserver died:" >&2; tail -30 "$DIR/logs/kube-apiserver.log" >&2; exit 1; }
  sleep 0.25
done
T_API=$(date +%s.%N)
[[ $READY == 1 ]] || { echo "kube-apiserver not ready after ${READY_TIMEOUT}s; see $DIR/logs/kube-apiserver.log" >&2; exit 1; }

# ---------- kube-controller-manager ----------
if [[ "${NO_KCM:-0}" != 1 && -x $KCM ]]; then
  nohup "$KCM" \
    --kubeconfig="$DIR/kcm.kubeconfig" \
    --authentication-kubeconfig="$DIR/kcm.kubeconfig" --authorization-kubeconfig="$DIR/kcm.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
    --service-account-private-key-file="$P/sa.key" --root-ca-file="$P/ca.crt" \
    --use-service-account-credentials=true --authentication-skip-lookup=true \
    --cluster-signing-cert-file="$P/ca.crt" --cluster-signing-key-file="$P/ca.key" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --leader-elect=false --profiling=false --v=1 \
    >"$DIR/logs/kube-controller-manager.log" 2>&1 </dev/null &
  echo $! > "$DIR/pids/kube-controller-manager.pid"
  for _ in $(seq 1 240); do
    curl -ksS --max-time 2 "https://127.0.0.1:$KCM_PORT/healthz" 2>/dev/null | grep -qx ok && break
    kill -0 "$(cat "$DIR/pids/kube-controller-manager.pid")" 2>/dev/null || { echo "kube-controller-manager died:" >&2; tail -30 "$DIR/logs/kube-controller-manager.log" >&2; exit 1; }
    sleep 0.25
  done
  # wait (bounded) until the clusterrole-aggregation controller has filled admin/edit/view
  for _ in $(seq 1 240); do
    curl -sS --max-time 2 --cacert "$P/ca.crt" -H "Authorization: Bearer $(cat "$DIR/admin.token")" \
      "$SERVER/apis/rbac.authorization.k8s.io/v1/clusterroles/view" 2>/dev/null |
      python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get("rules") else 1)' 2>/dev/null && break
    sleep 0.25
  done
fi
T_END=$(date +%s.%N)

cat > "$DIR/env" <<EOF
SERVER=$SERVER
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
API_PORT=$API_PORT
KCM_PORT=$KCM_PORT
ETCD_BIN=$ETCD_BIN
ETCD_PID=$(cat "$DIR/pids/etcd.pid")
APISERVER_PID=$(cat "$DIR/pids/kube-apiserver.pid")
KCM_PID=$(cat "$DIR/pids/kube-controller-manager.pid" 2>/dev/null || true)
EOF
printf 'ready: pki %.1fs, etcd +%.1fs, apiserver /readyz +%.1fs, controller-manager + aggregated admin/edit/view +%.1fs, total %.1fs\n' \
  "$(echo "$T_PKI - $T0" | bc)" "$(echo "$T_ETCD - $T_PKI" | bc)" "$(echo "$T_API - $T_ETCD" | bc)" "$(echo "$T_END - $T_API" | bc)" "$(echo "$T_END - $T0" | bc)"
echo "kubeconfig: $DIR/kubeconfig"
echo "server: $SERVER   token: $DIR/admin.token   ca: $P/ca.crt"
for c in etcd kube-apiserver kube-controller-manager; do
  [[ -f $DIR/pids/$c.pid ]] && echo "pid $c: $(cat "$DIR/pids/$c.pid")"
done
exit 0
