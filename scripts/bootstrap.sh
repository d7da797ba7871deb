#!/usr/bin/env bash
# Installs what a fresh machine lacks: pnpm 10, a Java runtime for DynamoDB Local, PostgreSQL's
# server binaries for the local warehouse, Chromium for the canvas preview's browser test, and the
# workspace's packages. Safe to run again; does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else echo "need root for: $*" >&2; return 1; fi; }

if ! command -v pnpm >/dev/null 2>&1 || ! pnpm --version 2>/dev/null | grep -q '^10\.'; then
  echo "bootstrap: installing pnpm 10" >&2
  npm install -g pnpm@10 >/dev/null 2>&1 || as_root npm install -g pnpm@10
fi

if ! command -v java >/dev/null 2>&1; then
  echo "bootstrap: installing a Java runtime for DynamoDB Local" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null
fi

if ! command -v chromium >/dev/null 2>&1; then
  echo "bootstrap: installing Chromium for the canvas preview test" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# The local stack and the tests run the server binaries themselves (initdb, postgres); the
# package's own cluster and service are not used.
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "bootstrap: installing PostgreSQL for the local Benchling warehouse" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

pnpm install --frozen-lockfile --reporter=silent
