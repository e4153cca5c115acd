#!/usr/bin/env bash
# Builds the worker image from the Dockerfile with buildah: no daemon, chroot isolation (no OCI runtime,
# the host's network for `npm ci`), on the base images of scripts/base-image.sh. Layers are cached in
# buildah's storage, so a warm build with the same lockfile reinstalls nothing. Prints the image's name,
# then its size and the build's time on stderr.
#
#   scripts/build-image.sh [NAME:TAG]    default localhost/cutover:<version of package.json>
#
# Run it: buildah from NAME:TAG, then buildah run --isolation chroot CONTAINER -- node client/cli.ts ...
# (test/integration/image.test.ts does, with a worker against the local stack).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
log() { printf '[build-image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

command -v buildah >/dev/null || { log "buildah is not installed: run scripts/install-tools.sh"; exit 1; }
version=$(sed -n 's/^  "version": "\([^"]*\)",$/\1/p' "$root/package.json")
image="${1:-localhost/cutover:$version}"

started=$(date +%s%N)
mapfile -t bases < <(bash "$here/base-image.sh")
[[ ${#bases[@]} -eq 2 ]] || { log "scripts/base-image.sh did not name the two base images"; exit 1; }
based=$(date +%s%N)

# The CA bundle this machine's npm trusts (its cafile, else NODE_EXTRA_CA_CERTS), for `npm ci` in the
# build: the Dockerfile's build secret npm-ca, mounted for that one step and kept in no layer.
ca=$(npm config get cafile 2>/dev/null || true)
[[ -f "$ca" ]] || ca="${NODE_EXTRA_CA_CERTS:-}"
trust=()
if [[ -n "$ca" && -f "$ca" ]]; then trust=(--secret "id=npm-ca,src=$ca"); fi

log "buildah bud $image on ${bases[0]}"
# --format docker keeps the HEALTHCHECK, which the OCI format has no field for.
buildah bud --isolation chroot --layers --format docker --quiet \
  --build-arg "BASE_IMAGE=${bases[0]}" --build-arg "BUILD_IMAGE=${bases[1]}" "${trust[@]}" \
  --label "org.opencontainers.image.version=$version" \
  --file "$root/Dockerfile" --tag "$image" "$root" >/dev/null
finished=$(date +%s%N)

size=$(buildah images --noheading --format '{{.Size}}' "$image")
log "$image: size $size, base ${bases[0]##*:}; base $(((based - started) / 1000000)) ms, build $(((finished - based) / 1000000)) ms"
printf '%s\n' "$image"
