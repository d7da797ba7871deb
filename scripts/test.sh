#!/usr/bin/env bash
# The one test command: installs what is missing, then type-checks, lints (Biome, lines ≤ 140) and runs every suite
# (unit, integration and end-to-end against real local servers, fault injection, infra).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
pnpm test
