# syntax=docker/dockerfile:1
# The Cutover worker image. Node runs the TypeScript sources directly (type stripping): there is no
# build step, so the image is the production dependencies plus the runtime folders, owned by root and
# run as the unprivileged `node` user (uid 1000).
#
# Debian slim rather than Alpine: the Temporal SDK's native core bridge ships glibc builds only.
#
#   docker build -t cutover:0.1.0 .
#   docker run --rm -e TEMPORAL_ADDRESS=... -e PROMETHEUS_URL=... cutover:0.1.0

FROM node:24-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-slim
ENV NODE_ENV=production
# Outside a cluster the worker serves /metrics on 127.0.0.1 only; in a container that would be unreachable.
ENV CUTOVER_METRICS_ADDRESS=0.0.0.0
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
USER node
# /metrics, /healthz and /readyz
EXPOSE 8080
# Kubernetes uses the liveness and readiness probes of deploy/worker.yaml instead; this is for
# `docker run` and compose. The slim image has no curl: Node's fetch asks.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "client/cli.ts"]
CMD ["worker"]
