#!/usr/bin/env bash
# Copied unchanged from ../shared/k8s/stop.sh (scripts/k8s/PROVENANCE.md).
# stop.sh DIR — stop the processes started by start.sh DIR, by PID (controller-manager, apiserver, etcd).
set -uo pipefail
DIR=${1:?usage: stop.sh DIR}
for c in kube-controller-manager kube-apiserver etcd; do
  f=$DIR/pids/$c.pid
  [[ -f $f ]] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; echo "killed $c ($pid) with SIGKILL"; else echo "stopped $c ($pid)"; fi
  else
    echo "$c ($pid) not running"
  fi
  rm -f "$f"
done
