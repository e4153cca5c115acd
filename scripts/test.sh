#!/usr/bin/env bash
# The whole test suite on a fresh machine: tools, dependencies, lint, types, unit and integration
# tests against a real Temporal dev server, a real KWOK cluster and a real Prometheus.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$cutover_root"
bash scripts/install-tools.sh
npm test
