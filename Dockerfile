# syntax=docker/dockerfile:1
#
# otel-audit sidecar image.
#
#   docker build -t registry.example.com/otel-audit:0.1.0 .
#   docker run --rm -p 4318:4318 -v $PWD/otel-audit.yaml:/etc/otel-audit/config.yaml:ro \
#     -v otel-audit-data:/var/lib/otel-audit registry.example.com/otel-audit:0.1.0
#
# The config must listen on a non-loopback address (with tls, auth or insecure: true) to be reachable
# from outside the container; collector-config/gateway.yaml is one. The Helm chart in helm/otel-audit
# mounts its generated config at /etc/otel-audit/config/config.yaml and passes it with --config.
#
# Stages: build (compile the TypeScript), deps (the sidecar's production dependencies, pinned by
# package-lock.json, plus the compiled files), runtime (small base, non-root, nothing else).
# test/helm/dockerfile.test.ts checks that every path copied here exists after `npm run build`.
#
# The audit trail tools `otel-audit query` and `otel-audit report` need @otel-audit/trail with DuckDB
# (about 70 MB), so the image leaves them out unless built with them:
#   docker build --build-arg TRAIL_TOOLS=true -t registry.example.com/otel-audit-tools:0.1.0 .
# `otel-audit verify` and `keygen` are always there (they need no extra package).

ARG NODE_IMAGE=node:20-bookworm
ARG NODE_RUNTIME_IMAGE=node:20-bookworm-slim
ARG TRAIL_TOOLS=false

# ---- build --------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Manifests first, so that `npm ci` is cached until a dependency changes. npm ci checks the lockfile
# against every workspace's package.json, so all of them are needed.
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY packages/semconv/package.json packages/semconv/
COPY packages/sdk/package.json packages/sdk/
COPY packages/sidecar/package.json packages/sidecar/
COPY packages/trail/package.json packages/trail/
COPY packages/sap-audit-logging/package.json packages/sap-audit-logging/
COPY examples/basic-app/package.json examples/basic-app/
COPY test/package.json test/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY packages/semconv packages/semconv
COPY packages/sidecar packages/sidecar
COPY packages/trail packages/trail
# `npm run build` is `tsc -b`; given the sidecar's and the trail tools' projects it builds them and
# what they reference (semconv), not the SDK, the examples or the test suites.
RUN npm run build -- packages/sidecar packages/trail

# ---- deps ---------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
ARG TRAIL_TOOLS
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/semconv/package.json packages/semconv/
COPY packages/sdk/package.json packages/sdk/
COPY packages/sidecar/package.json packages/sidecar/
COPY packages/trail/package.json packages/trail/
COPY packages/sap-audit-logging/package.json packages/sap-audit-logging/
COPY examples/basic-app/package.json examples/basic-app/
COPY test/package.json test/
# Only the sidecar workspace and its production dependencies (with TRAIL_TOOLS=true also the trail
# tools and DuckDB). The workspace dependency @otel-audit/semconv is installed as the link
# node_modules/@otel-audit/semconv -> packages/semconv; packages/sidecar/node_modules holds versions
# that differ from the hoisted ones (e.g. ajv).
RUN npm ci --omit=dev --workspace=@otel-audit/sidecar \
       $(if [ "$TRAIL_TOOLS" = true ]; then echo --workspace=@otel-audit/trail; fi) \
       --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force \
  && rm -rf packages/sdk packages/sap-audit-logging examples test
COPY --from=build /src/packages/semconv/dist/src packages/semconv/dist/src
COPY --from=build /src/packages/sidecar/dist/src packages/sidecar/dist/src
COPY --from=build /src/packages/trail/dist/src packages/trail/dist/src
RUN if [ "$TRAIL_TOOLS" != true ]; then rm -rf packages/trail node_modules/@otel-audit/trail node_modules/@duckdb; fi

# ---- runtime ------------------------------------------------------------------------------------
FROM ${NODE_RUNTIME_IMAGE} AS runtime
LABEL org.opencontainers.image.title="otel-audit" \
      org.opencontainers.image.description="Receives audit events as OpenTelemetry log records and delivers them without loss to SAP Audit Log Service, Splunk HEC and files" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="0.1.0"
ENV NODE_ENV=production
# The image's own user, uid/gid 10001 (the Helm chart's securityContext uses the same ids).
RUN groupadd --system --gid 10001 otel-audit \
  && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/otel-audit --no-create-home \
       --shell /usr/sbin/nologin otel-audit \
  && mkdir -p /var/lib/otel-audit /etc/otel-audit \
  && chown 10001:10001 /var/lib/otel-audit \
  && chmod 0750 /var/lib/otel-audit
# Application files belong to root and are read-only for the process.
COPY --from=deps /app /app
# `otel-audit <command>` on the PATH (kubectl exec ... -- otel-audit replay --config ...).
RUN chmod 0755 /app/packages/sidecar/dist/src/cli/main.js \
  && ln -s /app/packages/sidecar/dist/src/cli/main.js /usr/local/bin/otel-audit
# The spool and the audit files: mount a volume here. Relative paths in a config resolve here.
WORKDIR /var/lib/otel-audit
USER 10001:10001
# OTLP/gRPC, OTLP/HTTP, and /metrics /healthz /readyz (service.telemetry.address).
EXPOSE 4317 4318 8888
# node runs as PID 1: otel-audit handles SIGTERM itself (stops receiving, drains up to
# service.shutdown_timeout, exits 0).
ENTRYPOINT ["node", "/app/packages/sidecar/dist/src/cli/main.js"]
CMD ["run", "--config", "/etc/otel-audit/config.yaml"]
