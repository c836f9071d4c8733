#!/usr/bin/env bash
# The demo: a local etcd (unless ETCD_ENDPOINTS points at one), the example cluster loaded with
# `cattail apply`, a look at it with `cattail get`, an invalid file refused whole, then Typha
# serving it: a `typha watch` as an agent sees it, the status endpoint, and Typha left running
# until Ctrl-C (CATTAIL_DEMO_ONESHOT=1 stops after the tour, for scripted runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

cattail() { node cli/bin/cattail.js "$@"; }
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

etcd_pid=""
typha_pid=""
cleanup() {
  for pid in $typha_pid $etcd_pid; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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


typha_port=${CATTAIL_DEMO_TYPHA_PORT:-25473}
health_port=${CATTAIL_DEMO_HEALTH_PORT:-29098}
metrics_port=${CATTAIL_DEMO_METRICS_PORT:-29093}
say "cattail typha    # one etcd watch, fanned out to agents (log: .cattail/typha.log)"
TYPHA_ETCDENDPOINTS="$ETCD_ENDPOINTS" TYPHA_SERVERHOST=127.0.0.1 TYPHA_SERVERPORT=$typha_port \
  TYPHA_HEALTHENABLED=true TYPHA_HEALTHHOST=127.0.0.1 TYPHA_HEALTHPORT=$health_port \
  TYPHA_PROMETHEUSMETRICSENABLED=true TYPHA_PROMETHEUSMETRICSHOST=127.0.0.1 TYPHA_PROMETHEUSMETRICSPORT=$metrics_port \
  node cli/bin/cattail.js typha >.cattail/typha.log 2>&1 &
typha_pid=$!
http_get() { node -e 'fetch(process.argv[1]).then(async r => { process.stdout.write(await r.text()); process.exit(r.ok ? 0 : 1) }, () => process.exit(1))' "$1"; }
for _ in $(seq 1 100); do
  http_get "http://127.0.0.1:$health_port/readiness" >/dev/null 2>&1 && break
  kill -0 "$typha_pid" 2>/dev/null || { echo "Typha failed to start: see .cattail/typha.log" >&2; tail -5 .cattail/typha.log >&2; exit 1; }
  sleep 0.1
done
echo "Typha ready: sync ws://127.0.0.1:$typha_port, health http://127.0.0.1:$health_port, metrics http://127.0.0.1:$metrics_port/metrics"

say "cattail typha watch --addr ws://127.0.0.1:$typha_port --syncer bgp --until-in-sync -o json    # what confd would get"
cattail typha watch --addr "ws://127.0.0.1:$typha_port" --syncer bgp --until-in-sync -o json
say "curl http://127.0.0.1:$health_port/status    # (abridged)"
http_get "http://127.0.0.1:$health_port/status" | node -e '
  let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
    const st = JSON.parse(s);
    console.log(JSON.stringify({ serverId: st.serverId, ready: st.ready, revision: st.revision, connections: st.connections,
      cacheKeys: Object.fromEntries(Object.entries(st.cache).map(([k, v]) => [k, v.keys])) }, null, 2));
  });'

echo
echo "Look around while Typha runs:"
echo "  node cli/bin/cattail.js typha watch --addr ws://127.0.0.1:$typha_port --syncer felix      # live deltas"
echo "  ETCD_ENDPOINTS=$ETCD_ENDPOINTS node cli/bin/cattail.js apply -f examples/cluster.yaml   # change something"
echo "  http://127.0.0.1:$health_port/status   http://127.0.0.1:$metrics_port/metrics"
if [ -n "${CATTAIL_DEMO_ONESHOT:-}" ]; then exit 0; fi
echo "Press Ctrl-C to stop Typha and etcd."
wait "$typha_pid"
