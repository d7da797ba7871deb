# syntax=docker/dockerfile:1.7
# One image recipe, two targets: `--target ingress` (the default, last stage) and `--target worker`.
# The build stage bundles each service into dist/<service>/main.mjs (scripts/bundle.sh); the runtime
# stages hold node, tini and those bundles only: no package manager, no node_modules tree beyond
# the native addons the bundle script copies, no dev dependencies, no sources.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0 CI=true
# pnpm 10 from the npm registry (corepack needs to download from elsewhere, which a locked-down builder may not reach).
RUN npm install -g pnpm@10
# Dependencies first, from the lockfile alone, so a source change does not refetch them.
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json .npmrc ./
RUN pnpm fetch
COPY . .
RUN pnpm install --frozen-lockfile --offline --reporter=silent
RUN bash scripts/bundle.sh dist

FROM ${NODE_IMAGE} AS runtime
# tini is PID 1: it forwards SIGTERM to node and reaps zombies, so shutdown hooks run.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
# Owned by root, run as `node`: the app cannot rewrite its own code.
COPY --from=build /src/dist ./dist
USER node
ENTRYPOINT ["/usr/bin/tini", "--"]

FROM runtime AS worker
# Export ZIPs are spooled here, never held in memory; ECS mounts task storage on /tmp.
ENV WORKER_TMP_DIR=/tmp/benchling-packager
# No HTTP port: a stuck worker's jobs come back through SQS visibility and lease expiry, and ECS
# replaces a worker whose process exits.
HEALTHCHECK NONE
# Node options as in packages/shared/src/node-options.ts (WORKER_NODE_OPTIONS): a test holds them equal.
CMD ["node", "--enable-source-maps", "--max-semi-space-size=8", "--expose-gc", "dist/worker/main.mjs"]

FROM runtime AS ingress
ENV PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--enable-source-maps", "dist/ingress/main.mjs"]
