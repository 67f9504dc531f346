# syntax=docker/dockerfile:1
# Sluice: one image for every role (`sluice start --roles <role>`).
# The embedding model is not baked in: mount it at /models, or let an init step run
# `sluice models pull` into a shared volume (infra/k8s does).

FROM node:20.20-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node's install script downloads CUDA binaries; the CPU provider ships in
# the package (see .npmrc). patch-package runs as postinstall and needs patches/.
COPY package.json package-lock.json .npmrc ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/build-ui.ts ./scripts/
COPY ui ./ui
# Compiles src/ into dist/ and the dashboard into ui/dist/.
RUN npm run build && npm prune --omit=dev

FROM node:20.20-bookworm-slim
ENV NODE_ENV=production \
    SLUICE_HTTP_HOST=0.0.0.0 \
    SLUICE_HTTP_PORT=8080 \
    SLUICE_OPS_PORT=9090 \
    SLUICE_MODELS_DIR=/models \
    LOG_FORMAT=json
WORKDIR /app
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/ui/dist ./ui/dist
COPY --chown=root:root package.json ./
COPY --chown=root:root drizzle ./drizzle
# The code is root's and read-only to the process; it runs as the image's `node` user.
USER node
EXPOSE 8080 9090
# Every role answers on the ops port, the api role's too.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.SLUICE_OPS_PORT || 9090) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["start"]
