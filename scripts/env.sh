# Sourced by the project's scripts: puts a Node >= 22 first on PATH (the cached Node 24 when the
# system one is older) and makes sure node_modules matches package-lock.json.
# shellcheck shell=bash
cutover_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=versions.env
source "$cutover_root/scripts/versions.env"
export CUTOVER_CACHE="${CUTOVER_CACHE:-$HOME/.cache/cutover}"

if ! command -v node >/dev/null || (( $(node -p 'process.versions.node.split(".")[0]') < 22 )); then
  if [[ ! -x "$CUTOVER_CACHE/node/$NODE_VERSION/bin/node" ]]; then
    CUTOVER_TOOLS=node bash "$cutover_root/scripts/install-tools.sh"
  fi
  export PATH="$CUTOVER_CACHE/node/$NODE_VERSION/bin:$PATH"
fi

# npm ci only when the lock file changed since the last install, so a warm start takes no time.
stamp="$cutover_root/node_modules/.cutover-lock-stamp"
if [[ ! -f "$stamp" ]] || ! cmp -s "$cutover_root/package-lock.json" "$stamp"; then
  (cd "$cutover_root" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$cutover_root/package-lock.json" "$stamp"
fi

# The workflow bundle the worker loads (dist/workflow-bundle.js), rebuilt only when the workflow
# sources changed. A failure here is not fatal: the worker then bundles in process and says why.
(cd "$cutover_root" && node scripts/bundle-workflows.ts --if-stale) ||
  echo "warning: could not prebuild the workflow bundle; the worker will bundle in process" >&2
