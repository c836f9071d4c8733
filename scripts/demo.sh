#!/usr/bin/env bash
# The demo: a cluster in a box on this machine (`cattail lab up`): etcd, two Typha replicas, and
# per node Felix, confd and BIRD in a network namespace, with pods wired by the CNI plugin. Then
# the story: every pod reaches every other; a policy denies frontend → backend and the probe
# shows exactly that traffic blocked; the policy is deleted and everything flows again.
#
# The lab keeps running afterwards so you can look around (the script prints how); tear it down
# with `node cli/bin/cattail.js lab down`. CATTAIL_DEMO_ONESHOT=1 tears it down at the end (for
# scripted runs). CATTAIL_DEMO_NODES / CATTAIL_DEMO_PODS / CATTAIL_DEMO_MODE (bgp|vxlan) change
# the size and the mode. CATTAIL_DEMO_DATASTORE=kubernetes runs it on a real kube-apiserver
# (pods are Pods, and the policy is a Kubernetes NetworkPolicy applied with kubectl). Needs root
# (network namespaces).
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
datastore=${CATTAIL_DEMO_DATASTORE:-etcdv3}

if [ -n "${CATTAIL_DEMO_ONESHOT:-}" ]; then
  trap 'echo; echo "(CATTAIL_DEMO_ONESHOT: tearing the lab down)"; node cli/bin/cattail.js lab down || true' EXIT
fi

say cattail lab up --nodes "$nodes" --pods-per-node "$pods" --mode "$mode" --datastore "$datastore"
cattail lab up --nodes "$nodes" --pods-per-node "$pods" --mode "$mode" --datastore "$datastore"
etcd=$(node -e 'const s = JSON.parse(require("fs").readFileSync(".cattail/lab/demo/state.json", "utf8")); console.log(`http://127.0.0.1:${s.etcd.clientPort}`)')
kubeconfig=$PWD/.cattail/lab/demo/kube/kubeconfig
if [ "$datastore" = kubernetes ]; then
  # The CLI as calicoctl: DATASTORE_TYPE and KUBECONFIG.
  calico_env=(DATASTORE_TYPE=kubernetes "KUBECONFIG=$kubeconfig")
  policy=examples/lab-deny-k8s.yaml
else
  calico_env=("ETCD_ENDPOINTS=$etcd")
  policy=examples/lab-deny.yaml
fi

say cattail lab status
cattail lab status

if [ "$datastore" = kubernetes ]; then
  say "cattail lab kubectl -- get pods -A -o wide"
  cattail lab kubectl -- get pods -A -o wide
fi
say "${calico_env[*]} cattail get workloadendpoints -A"
env "${calico_env[@]}" node cli/bin/cattail.js get workloadendpoints -A

say "cattail lab probe    # one real ping per pair of pods"
cattail lab probe

say "cat $policy"
grep -v '^#' "$policy"
if [ "$datastore" = kubernetes ]; then
  say "cattail lab kubectl -- apply -f $policy"
  cattail lab kubectl -- apply -f "$policy"
else
  say "${calico_env[*]} cattail apply -f $policy"
  env "${calico_env[@]}" node cli/bin/cattail.js apply -f "$policy"
fi

wait_for blocked
say "cattail lab probe    # frontend → backend is now blocked, nothing else"
cattail lab probe

if [ "$datastore" = kubernetes ]; then
  say "cattail lab kubectl -- delete -f $policy"
  cattail lab kubectl -- delete -f "$policy"
else
  say "${calico_env[*]} cattail delete -f $policy"
  env "${calico_env[@]}" node cli/bin/cattail.js delete -f "$policy"
fi

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
  ${calico_env[*]} node cli/bin/cattail.js get workloadendpoints -A
  ${calico_env[*]} node cli/bin/cattail.js get networkpolicies -A
  node cli/bin/cattail.js lab kubectl -- get pods -A -o wide   # (--datastore kubernetes)
  ip netns list | grep ctlab-demo                        # the fabric, the nodes, the pods
  ip netns exec $first_node ip route                     # routes BIRD learned and Felix programmed
  ip netns exec $first_node nft list table inet cattail  # Felix's policy
  birdc -s .cattail/lab/demo/nodes/node-1/bird.ctl show protocols
  ip netns exec $first_pod ping -c1 $last_ip
  ls .cattail/lab/demo/logs/                             # every process's log
Tear it down:
  node cli/bin/cattail.js lab down
EOT
