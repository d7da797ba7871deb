#!/usr/bin/env bash
# Starts the whole system locally: emulators, Benchling simulator, ingress and workers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec pnpm start "$@"
