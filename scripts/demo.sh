#!/usr/bin/env bash
# The demo: a cluster in a box on this machine (`cattail lab up`): etcd, two Typha replicas, and
# per node Felix, confd and BIRD in a network namespace, with pods wired by the CNI plugin. Then
# the story: every pod reaches every other; a policy denies frontend → backend and the probe
# shows exactly that traffic blocked; the policy is deleted and everything flows again.
#
# The lab keeps running afterwards so you can look around (the script prints how); tear it down
# with `node cli/bin/cattail.js lab down`. CATTAIL_DEMO_ONESHOT=1 tears it down at the end (for
# scripted runs). CATTAIL_DEMO_NODES / CATTAIL_DEMO_PODS / CATTAIL_DEMO_MODE (bgp|vxlan) change
# the size and the mode. Needs root (network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

cattail() { node cli/bin/cattail.js "$@"; }
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
# Policy takes effect within about a second of the write: wait (bounded) until the probe shows
# some blocked pairs (`blocked`) or none (`open`) before printing the table.
wait_for() {
  for _ in $(seq 1 20); do
    n=$(cattail lab probe -o json | node -e 'let s=""; process.stdin.on("data", d => s += d).on("end", () => console.log(JSON.parse(s).results.filter(r => !r.reachable).length))')
    if { [ "$1" = blocked ] && [ "$n" -gt 0 ]; } || { [ "$1" = open ] && [ "$n" -eq 0 ]; }; then return 0; fi
  done
  echo "(the probe did not become $1 within 20 rounds)" >&2
}

nodes=${CATTAIL_DEMO_NODES:-3}
pods=${CATTAIL_DEMO_PODS:-2}
mode=${CATTAIL_DEMO_MODE:-bgp}

if [ -n "${CATTAIL_DEMO_ONESHOT:-}" ]; then
  trap 'echo; echo "(CATTAIL_DEMO_ONESHOT: tearing the lab down)"; node cli/bin/cattail.js lab down || true' EXIT
fi

say cattail lab up --nodes "$nodes" --pods-per-node "$pods" --mode "$mode"
cattail lab up --nodes "$nodes" --pods-per-node "$pods" --mode "$mode"
etcd=$(node -e 'const s = JSON.parse(require("fs").readFileSync(".cattail/lab/demo/state.json", "utf8")); console.log(`http://127.0.0.1:${s.etcd.clientPort}`)')

say cattail lab status
cattail lab status

say "ETCD_ENDPOINTS=$etcd cattail get workloadendpoints -A"
ETCD_ENDPOINTS=$etcd cattail get workloadendpoints -A

say "cattail lab probe    # one real ping per pair of pods"
cattail lab probe

say "cat examples/lab-deny.yaml"
grep -v '^#' examples/lab-deny.yaml
say "ETCD_ENDPOINTS=$etcd cattail apply -f examples/lab-deny.yaml"
ETCD_ENDPOINTS=$etcd cattail apply -f examples/lab-deny.yaml

wait_for blocked
say "cattail lab probe    # frontend → backend is now blocked, nothing else"
cattail lab probe

say "ETCD_ENDPOINTS=$etcd cattail delete -f examples/lab-deny.yaml"
ETCD_ENDPOINTS=$etcd cattail delete -f examples/lab-deny.yaml

wait_for open
say "cattail lab probe    # open again"
cattail lab probe

first_node=$(node -e 'const s = JSON.parse(require("fs").readFileSync(".cattail/lab/demo/state.json", "utf8")); console.log(s.nodes[0].netns)')
first_pod=$(node -e 'const s = JSON.parse(require("fs").readFileSync(".cattail/lab/demo/state.json", "utf8")); const p = s.pods[0]; console.log(p ? p.netns : "")')
last_ip=$(node -e 'const s = JSON.parse(require("fs").readFileSync(".cattail/lab/demo/state.json", "utf8")); const p = s.pods[s.pods.length - 1]; console.log(p ? p.ip : "")')
cat <<EOT

The lab is running. Look around:
  node cli/bin/cattail.js lab status                     # BGP sessions, routes, endpoints, Typha per node (-o json)
  node cli/bin/cattail.js lab probe                      # the reachability matrix (-o json)
  ETCD_ENDPOINTS=$etcd node cli/bin/cattail.js get workloadendpoints -A
  ETCD_ENDPOINTS=$etcd node cli/bin/cattail.js apply -f examples/lab-deny.yaml
  ip netns list | grep ctlab-demo                        # the fabric, the nodes, the pods
  ip netns exec $first_node ip route                     # routes BIRD learned and Felix programmed
  ip netns exec $first_node nft list table inet cattail  # Felix's policy
  birdc -s .cattail/lab/demo/nodes/node-1/bird.ctl show protocols
  ip netns exec $first_pod ping -c1 $last_ip
  ls .cattail/lab/demo/logs/                             # every process's log
Tear it down:
  node cli/bin/cattail.js lab down
EOT
