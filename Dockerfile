# syntax=docker/dockerfile:1
#
# keygate production image.
#
# Three stages: `deps` installs the production dependencies, `build` compiles
# gateway/ and policies/ to plain JavaScript (`npm run build`: running the
# sources through Node's type stripping would keep ~35 MB more resident), and
# the runtime stage copies both onto a distroless base, which has no shell and
# no package manager. The runtime image runs exactly what `npm start` runs:
# `node dist/gateway/cli.js serve`.
#
#   docker build -t keygate .
#   docker run --rm -p 8080:8080 \
#     -v "$PWD/policies.yaml:/etc/keygate/policies.yaml:ro" \
#     -e REDIS_URL -e KEYGATE_MASTER_KEYS -e KEYGATE_JWT_SECRET keygate
#
# Pin both bases by digest in your registry mirror for reproducible builds.

ARG NODE_MAJOR=24

FROM node:${NODE_MAJOR}-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no production dependency needs an install script, and none
# gets to run code at build time.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:${NODE_MAJOR}-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY gateway ./gateway
COPY policies ./policies
RUN npm run build

FROM gcr.io/distroless/nodejs${NODE_MAJOR}-debian12:nonroot AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    KEYGATE_POLICIES=/etc/keygate/policies.yaml \
    KEYGATE_INGRESS=0.0.0.0:8080 \
    KEYGATE_EGRESS=127.0.0.1:8081 \
    KEYGATE_ADMIN=127.0.0.1:9090
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json policies.schema.json ./
COPY --from=build /app/dist ./dist
# The default policy; mount your own read-only over it.
COPY policies.yaml /etc/keygate/policies.yaml
# uid 65532 ("nonroot" in distroless); numeric so `runAsNonRoot` checks pass.
USER 65532:65532
# Only the ingress is published: the egress and admin listeners are loopback-only.
EXPOSE 8080
# Liveness, on the admin listener wherever KEYGATE_ADMIN puts it (a wildcard
# bind is reached on loopback). No shell here, so node itself makes the call.
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
  CMD ["/nodejs/bin/node", "-e", "const a=process.env.KEYGATE_ADMIN||'127.0.0.1:9090',i=a.lastIndexOf(':'),h=a.slice(0,i);fetch('http://'+(['','0.0.0.0','[::]'].includes(h)?'127.0.0.1':h)+':'+a.slice(i+1)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself (no shell in between);
# keygate handles SIGTERM by draining for KEYGATE_DRAIN_TIMEOUT seconds.
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=8", "dist/gateway/cli.js"]
CMD ["serve"]
