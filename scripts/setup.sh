#!/usr/bin/env bash
# Installs what Cattail needs and builds it. Idempotent and quick when everything is present:
# each step checks first. Called by both README commands (`npm run demo`, `npm test`) and CI.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

# Debian packages, by the binary each provides. debootstrap, strip and runc are for the image
# (image/): its base rootfs, the stripped Node, and running the built image in its test.
declare -A PKG_FOR=(
  [etcd]=etcd-server
  [etcdctl]=etcd-client
  [openssl]=openssl
  [bird]=bird2
  [birdc]=bird2
  [nft]=nftables
  [ip]=iproute2
  [ping]=iputils-ping
  [debootstrap]=debootstrap
  [runc]=runc
  [strip]=binutils
  [containerd]=containerd
  [ctr]=containerd
)
# And by a file that is not a command on PATH: the kubernetes lab engine's CNI plugins (loopback
# for every pod, bridge and host-local for its default CNI) and the static busybox its workload
# image is made of (Debian's dynamic `busybox` would not run in an image without libc).
declare -A PKG_FOR_FILE=(
  [/usr/lib/cni/loopback]=containernetworking-plugins
  [/usr/lib/cni/bridge]=containernetworking-plugins
  [/usr/lib/cni/host-local]=containernetworking-plugins
)
missing=()
for bin in "${!PKG_FOR[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || missing+=("${PKG_FOR[$bin]}")
done
for file in "${!PKG_FOR_FILE[@]}"; do
  [ -x "$file" ] || missing+=("${PKG_FOR_FILE[$file]}")
done
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || missing+=(busybox-static)
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | sed '/^$/d')
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
    exit 1
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Go-built tools the tests use: k6 (load-test smoke) and cnitool (a real CNI client for the
# plugin's tests). Built once into $(go env GOPATH)/bin; a machine without Go gets a warning here
# and those tests fail with the same message.
for tool in k6 cnitool; do
  bash scripts/go-tool.sh "$tool" >/dev/null || log "warning: $tool is unavailable; the tests that need it will fail"
done

# The Kubernetes binaries: kube-apiserver and kubectl for the Kubernetes-datastore tests
# (datastore/src/testing/kube-apiserver.ts), and kube-scheduler, kube-controller-manager and
# kubelet for the kubernetes lab engine (lab/src/kube-cluster.ts). Kubernetes publishes no
# Go-installable commands (`go install k8s.io/kubernetes/cmd/...@v1.30.14` fails: its go.mod
# replaces the k8s.io/* staging modules with local paths, which `go install` refuses), so
# tools/kube is a small module that requires k8s.io/kubernetes and replaces each staging module
# with its published v0.x twin; its go.sum is committed. The version comes from that go.mod
# alone. The binaries are cached outside the repo, keyed by version, so every worktree and every
# later run reuses them; .tools/bin links to them. The first build of all five takes ~25
# CPU-minutes, fills ~1 GB of module cache and ~3 GB of Go build cache, and leaves ~450 MB of
# binaries; later runs only check that the binaries are there (a cache holding only some of
# them, e.g. from before the lab engine, is rebuilt whole: the shared packages come from Go's
# build cache).
KUBE_COMMANDS=(kube-apiserver kubectl kube-scheduler kube-controller-manager kubelet)
kube_tools() {
  local version cache gobin tmp minor cmd complete=1 pkgs=()
  version=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' tools/kube/go.mod)
  [ -n "$version" ] || { log "tools/kube/go.mod requires no k8s.io/kubernetes"; return 1; }
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/cattail/kube-$version"
  for cmd in "${KUBE_COMMANDS[@]}"; do
    [ -x "$cache/$cmd" ] || complete=0
    pkgs+=("k8s.io/kubernetes/cmd/$cmd")
  done
  if [ "$complete" -eq 0 ]; then
    gobin=$(command -v go || command -v /usr/local/go/bin/go || true)
    [ -n "$gobin" ] || { log "Go is missing: ${KUBE_COMMANDS[*]} $version cannot be built"; return 1; }
    log "building ${KUBE_COMMANDS[*]} $version (once per machine: ~25 CPU-minutes)"
    minor=${version#v1.}
    minor=${minor%%.*}
    local ldflags="" pkg
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
    done
    mkdir -p "$(dirname "$cache")"
    tmp=$(mktemp -d "$cache.partial.XXXXXX")
    chmod 755 "$tmp"
    # One `go build` for all commands: they share most packages, so each compiles once.
    # GOTOOLCHAIN=local: the go.mod's go line (1.22, kubernetes' own, which also fixes the
    # GODEBUG defaults) is older than any Go we run, and no other toolchain may be fetched.
    # GOWORK=off: an enclosing go.work must not change the module graph. The default
    # -mod=readonly is enough, because go.mod and go.sum are complete. CGO_ENABLED=0 also for
    # the kubelet: it then has no cgo-only extras (none the lab uses) and runs anywhere.
    if ! (cd tools/kube && GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 "$gobin" build -trimpath -ldflags "${ldflags# }" \
      -o "$tmp/" "${pkgs[@]}"); then
      rm -rf "$tmp"
      return 1
    fi
    rm -rf "$cache"
    mv "$tmp" "$cache"
  fi
  mkdir -p .tools/bin
  for cmd in "${KUBE_COMMANDS[@]}"; do
    ln -sfn "$cache/$cmd" ".tools/bin/$cmd"
  done
}
kube_tools || log "warning: the Kubernetes binaries are unavailable; the tests that need them will fail"

# The kubernetes lab engine's pod sandbox program (tools/pause: a static Go program, its image is
# this one file), cached outside the repo keyed by the hash of its source; .tools/bin links to it.
pause_tool() {
  local hash cache gobin
  hash=$(cat tools/pause/go.mod tools/pause/main.go | sha256sum | cut -c1-16)
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/cattail/pause-$hash"
  if [ ! -x "$cache/cattail-pause" ]; then
    gobin=$(command -v go || command -v /usr/local/go/bin/go || true)
    [ -n "$gobin" ] || { log "Go is missing: tools/pause cannot be built"; return 1; }
    log "building tools/pause"
    mkdir -p "$cache"
    (cd tools/pause && GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 "$gobin" build -trimpath -ldflags=-s -o "$cache/cattail-pause.tmp" .) || return 1
    mv "$cache/cattail-pause.tmp" "$cache/cattail-pause"
  fi
  mkdir -p .tools/bin
  ln -sfn "$cache/cattail-pause" .tools/bin/cattail-pause
}
pause_tool || log "warning: cattail-pause is unavailable; the kubernetes lab engine will fail"

# The CNI shim (tools/cni-shim: the `cattail-cni` the runtime executes, a static Go client of
# `cattail cni-daemon`), cached outside the repo keyed by the hash of its source; .tools/bin
# links to it and the image build copies it from there. -buildid= and -trimpath: two builds of
# one source are byte-identical, so the image's digests stay reproducible.
cni_shim_tool() {
  local hash cache gobin
  hash=$(cat tools/cni-shim/go.mod tools/cni-shim/main.go | sha256sum | cut -c1-16)
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/cattail/cni-shim-$hash"
  if [ ! -x "$cache/cattail-cni-shim" ]; then
    gobin=$(command -v go || command -v /usr/local/go/bin/go || true)
    [ -n "$gobin" ] || { log "Go is missing: tools/cni-shim cannot be built"; return 1; }
    log "building tools/cni-shim"
    mkdir -p "$cache"
    (cd tools/cni-shim && GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 "$gobin" build -trimpath -ldflags "-s -w -buildid=" \
      -o "$cache/cattail-cni-shim.tmp" .) || return 1
    mv "$cache/cattail-cni-shim.tmp" "$cache/cattail-cni-shim"
  fi
  mkdir -p .tools/bin
  ln -sfn "$cache/cattail-cni-shim" .tools/bin/cattail-cni-shim
}
cni_shim_tool || log "warning: cattail-cni-shim is unavailable; the CNI daemon tests and the image build will fail"

# helm for the chart's tests (helm/test/). Built with `go install` of the pinned version (the
# issue asked for v3.22.0, but this machine's Go module list marks v3.22.0 as served yet not
# approved for use: v3.21.4 is the newest accepted one), its version stamped in with -ldflags
# as Helm's own Makefile does, into a cache outside the repo keyed by version; .tools/bin links
# to it. About 3 CPU-minutes once per machine; later runs only check that the binary is there.
HELM_MODULE=helm.sh/helm/v3/cmd/helm
HELM_VERSION=v3.21.4
helm_tool() {
  local cache gobin tmp
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/cattail/helm-$HELM_VERSION"
  if [ ! -x "$cache/helm" ]; then
    gobin=$(command -v go || command -v /usr/local/go/bin/go || true)
    [ -n "$gobin" ] || { log "Go is missing: helm $HELM_VERSION cannot be built"; return 1; }
    log "building helm $HELM_VERSION with go install (once per machine)"
    mkdir -p "$(dirname "$cache")"
    tmp=$(mktemp -d "$cache.partial.XXXXXX")
    chmod 755 "$tmp"
    if ! GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOBIN="$tmp" "$gobin" install -trimpath \
      -ldflags "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "$HELM_MODULE@$HELM_VERSION"; then
      rm -rf "$tmp"
      return 1
    fi
    rm -rf "$cache"
    mv "$tmp" "$cache"
  fi
  mkdir -p .tools/bin
  ln -sfn "$cache/helm" .tools/bin/helm
}
helm_tool || log "warning: helm is unavailable; the chart's tests will fail"

# Node dependencies: npm ci when node_modules is missing or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Build (incremental: tsc -b skips up-to-date projects).
npx --no-install tsc -b
