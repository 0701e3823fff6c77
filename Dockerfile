# Leasehold: a two-stage build. The builder compiles better-sqlite3 and the TypeScript; the
# runtime image has only production dependencies and runs as an unprivileged user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# The install runs the `prepare` script, which compiles src/ to dist/: copy the sources first.
# `npm install` rather than `npm ci`: see .ci/run (the lock cannot list every platform's optional binaries).
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm install --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
RUN groupadd --system leasehold \
 && useradd --system --gid leasehold --home-dir /data --shell /usr/sbin/nologin leasehold \
 && mkdir -p /data \
 && chown leasehold:leasehold /data \
 && chmod 0700 /data
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
COPY --chown=root:root migrations ./migrations
COPY --chown=root:root deploy/leasehold.hcl /etc/leasehold/leasehold.hcl
USER leasehold
VOLUME ["/data"]
EXPOSE 8200
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["server", "-config=/etc/leasehold/leasehold.hcl"]
