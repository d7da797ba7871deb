#!/usr/bin/env bash
# Builds the deployable bundles the Dockerfile copies: dist/ingress/main.mjs and dist/worker/main.mjs,
# each with the production code it imports, plus native addons in dist/<service>/node_modules.
# Usage: bash scripts/bundle.sh [outDir]   (default dist)
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx infra/bundle/main.ts "${1:-dist}"
