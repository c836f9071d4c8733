#!/usr/bin/env bash
# Installs what Cattail needs and builds it. Idempotent and quick when everything is present:
# each step checks first. Called by both README commands (`npm run demo`, `npm test`) and CI.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

# Debian packages, by the binary each provides.
declare -A PKG_FOR=(
  [etcd]=etcd-server
  [etcdctl]=etcd-client
  [openssl]=openssl
  [bird]=bird2
  [birdc]=bird2
  [nft]=nftables
  [ip]=iproute2
  [ping]=iputils-ping
)
missing=()
for bin in "${!PKG_FOR[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || missing+=("${PKG_FOR[$bin]}")
done
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

# Node dependencies: npm ci when node_modules is missing or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Build (incremental: tsc -b skips up-to-date projects).
npx --no-install tsc -b
