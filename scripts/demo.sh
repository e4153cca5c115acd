#!/usr/bin/env bash
# The main job on a fresh machine: install the tools, start the local stack of real parts and run the
# demo on it. Pass --keep to leave the stack up afterwards for exploring.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$cutover_root"
bash scripts/install-tools.sh
exec node scripts/demo.ts "$@"
