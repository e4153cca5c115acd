# syntax=docker/dockerfile:1
# The Cutover worker image. Node runs the TypeScript sources directly (type stripping): there is no
# build step, so the image is the production dependencies plus the runtime folders, owned by root and
# run as the unprivileged `node` user (uid 1000).
#
# Debian rather than Alpine: the Temporal SDK's native core bridge ships glibc builds only.
#
#   docker build -t cutover:0.1.0 .                       # on node:24-slim
#   scripts/build-image.sh                                # buildah, on a base made here (scripts/base-image.sh)
#   docker run --rm -e TEMPORAL_ADDRESS=... -e PROMETHEUS_URL=... cutover:0.1.0
#
# BASE_IMAGE runs the worker; BUILD_IMAGE, which also needs npm, installs the dependencies. Both default to
# Node's official image; scripts/build-image.sh passes a Debian minbase root with Node from the npm registry.
ARG BASE_IMAGE=node:24-slim
ARG BUILD_IMAGE=node:24-slim

FROM ${BUILD_IMAGE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
# The optional build secret npm-ca is a CA bundle for npm to trust besides Node's own, where a
# TLS-inspecting proxy sits in front of the registry (scripts/build-image.sh passes the builder's); a
# secret mount is there for this step only and in no layer. Then only what runs on this platform: the
# SDK's core bridge ships a native module for five platforms (about 28 MB each) and its Rust sources;
# type declarations and source maps are never loaded.
RUN --mount=type=secret,id=npm-ca \
  if [ -s /run/secrets/npm-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca; fi \
  && npm ci --omit=dev --no-audit --no-fund && npm cache clean --force \
  && bridge=node_modules/@temporalio/core-bridge \
  && target="$(node -p "require('./$bridge/common.js').getPrebuiltTargetName()")" \
  && test -f "$bridge/releases/$target/index.node" \
  && find "$bridge/releases" -mindepth 1 -maxdepth 1 ! -name "$target" -exec rm -rf {} + \
  && rm -rf "$bridge/sdk-core" "$bridge/src" "$bridge/bridge-macros" "$bridge/Cargo.toml" "$bridge/Cargo.lock" \
  && find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete

FROM ${BASE_IMAGE}
ENV NODE_ENV=production
# Outside a cluster the worker serves /metrics on 127.0.0.1 only; in a container that would be unreachable.
ENV CUTOVER_METRICS_ADDRESS=0.0.0.0
# Two glibc malloc arenas instead of 8 per core: the Temporal Core's threads otherwise each grow an arena,
# and the worker's RSS climbs with rollouts in flight while its heap stays flat (README, Scale).
ENV MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json ./
COPY canary ./canary
COPY analysis ./analysis
COPY resources ./resources
COPY workflows ./workflows
COPY activities ./activities
COPY client ./client
COPY worker ./worker
COPY deploy/crds ./deploy/crds
# The command line's defaults for TEMPORAL_ADDRESS, PROMETHEUS_URL and KUBECONFIG.
COPY stack/endpoints.ts stack/tools.ts ./stack/
# The workflow code bundled once, here, rather than by webpack at every start of every replica; the worker
# checks the bundle's key against the sources beside it and bundles in process only if they differ.
# (swc, the bundler's compiler, copies its native module to ~/.cache: gone in the same step.)
COPY scripts/bundle-workflows.ts ./scripts/
RUN node scripts/bundle-workflows.ts && rm -rf /root/.cache
USER node
# /metrics, /healthz and /readyz
EXPOSE 8080
# Kubernetes uses the chart's liveness and readiness probes instead; this is for `docker run` and
# compose. The image has no curl: Node's fetch asks.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "client/cli.ts"]
CMD ["worker"]
