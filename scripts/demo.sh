#!/usr/bin/env bash
# The demo: a local etcd (unless ETCD_ENDPOINTS points at one), the example cluster loaded with
# `cattail apply`, a look at it with `cattail get`, and an invalid file refused whole.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

cattail() { node cli/bin/cattail.js "$@"; }
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

etcd_pid=""
cleanup() { [ -n "$etcd_pid" ] && kill "$etcd_pid" 2>/dev/null && wait "$etcd_pid" 2>/dev/null; true; }
trap cleanup EXIT

if [ -z "${ETCD_ENDPOINTS:-}" ]; then
  data=.cattail/etcd
  mkdir -p "$data"
  port=${CATTAIL_DEMO_ETCD_PORT:-23790}
  etcd --name cattail-demo --data-dir "$data" \
    --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
    --listen-peer-urls "http://127.0.0.1:$((port + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((port + 1))" \
    --initial-cluster "cattail-demo=http://127.0.0.1:$((port + 1))" >.cattail/etcd.log 2>&1 &
  etcd_pid=$!
  export ETCD_ENDPOINTS="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    etcdctl --endpoints "$ETCD_ENDPOINTS" endpoint health >/dev/null 2>&1 && break
    kill -0 "$etcd_pid" 2>/dev/null || { echo "etcd failed to start: see .cattail/etcd.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "local etcd at $ETCD_ENDPOINTS (data in $data, log in .cattail/etcd.log)"
fi

say cattail apply -f examples/cluster.yaml
cattail apply -f examples/cluster.yaml
say cattail get nodes
cattail get nodes
say cattail get ippools -o wide
cattail get ippools -o wide
say cattail get networkpolicies -A
cattail get networkpolicies -A
say cattail get globalnetworkpolicy security.deny-blocklist -o yaml
cattail get globalnetworkpolicy security.deny-blocklist -o yaml
say cattail get workloadendpoints -n shop
cattail get workloadendpoints -n shop
say "cattail selector test 'app == \"web\" && !has(canary)' --labels-json '{\"app\":\"web\"}'"
cattail selector test 'app == "web" && !has(canary)' --labels-json '{"app":"web"}'
say "cattail apply -f examples/invalid.yaml    # refused whole: nothing is written"
cattail apply -f examples/invalid.yaml || echo "(exit code $?)"
say "etcdctl get --prefix --keys-only /calico/resources/v3/projectcalico.org/ippools"
etcdctl --endpoints "$ETCD_ENDPOINTS" get --prefix --keys-only /calico/resources/v3/projectcalico.org/ippools

echo
echo "Try: ETCD_ENDPOINTS=$ETCD_ENDPOINTS npx cattail get <kind>  (while the demo's etcd runs;"
echo "     it stops when this script ends: run your own etcd and set ETCD_ENDPOINTS to keep it)"
