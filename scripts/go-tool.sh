#!/usr/bin/env bash
# Prints the path of a Go-built tool, building it with `go install` first when it is missing.
#   scripts/go-tool.sh k6|cnitool
# `go install` puts binaries in $(go env GOPATH)/bin, which is not on PATH by default; callers
# use the printed path. Idempotent: a tool already built (on PATH or in GOPATH/bin) is reused.
set -euo pipefail

declare -A MODULE=(
  [k6]=go.k6.io/k6@v1.8.1
  [cnitool]=github.com/containernetworking/cni/cnitool@latest
)
tool=${1:?usage: go-tool.sh k6|cnitool}
module=${MODULE[$tool]:-}
[ -n "$module" ] || { echo "go-tool.sh: unknown tool $tool (known: ${!MODULE[*]})" >&2; exit 2; }

if command -v "$tool" >/dev/null 2>&1; then command -v "$tool"; exit 0; fi
gobin=""
for g in go /usr/local/go/bin/go; do
  if command -v "$g" >/dev/null 2>&1; then gobin=$(command -v "$g"); break; fi
done
if [ -z "$gobin" ]; then
  echo "go-tool.sh: $tool is not installed and Go is missing (install Go, then: go install $module)" >&2
  exit 1
fi
bin="$("$gobin" env GOPATH)/bin/$tool"
if [ ! -x "$bin" ]; then
  echo "[setup] building $tool ($module) with go install; this takes a few minutes once" >&2
  "$gobin" install "$module" >&2
fi
echo "$bin"
