# syntax=docker/dockerfile:1
# NeverMissCall's image: one image, two roles (NMC_ROLE=api|worker|all), against an external
# Postgres (DATABASE_URL). docker-compose.yml runs one api and one worker on Postgres.

# Build stage: every dependency, to build the web app (web/ → web/dist).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/check-engines.mjs scripts/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:web

# Runtime stage: production dependencies only, a non-root user, TypeScript run by Node's own type
# stripping (no build step for the server), and the built web app.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    NMC_DATA_DIR=/var/lib/nevermisscall \
    LOG_FORMAT=json
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/check-engines.mjs scripts/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/src ./src
# Strip the sources' types once, here, into node_modules/.cache (the app's user cannot write there).
RUN node --import ./src/boot/stripped-typescript.mjs -e 0
COPY --from=build /app/web ./web
RUN mkdir -p /var/lib/nevermisscall && chown node:node /var/lib/nevermisscall
USER node
EXPOSE 3000
# Ready means the database answers and the workers run (GET /readyz), not only that HTTP listens.
HEALTHCHECK --interval=10s --timeout=3s --start-period=40s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/readyz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node is PID 1's only child (exec form, no shell): docker stop's SIGTERM reaches the app, which
# stops HTTP, then the workers, then its connections, within the 10 s docker waits.
STOPSIGNAL SIGTERM
CMD ["node", "--max-semi-space-size=2", "--import", "./src/boot/stripped-typescript.mjs", "src/main.ts"]
