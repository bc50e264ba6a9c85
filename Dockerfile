# syntax=docker/dockerfile:1

# Build: install everything, compile TypeScript, then drop the development packages.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --loglevel=warn
COPY tsconfig.json tsconfig.build.json schema.graphql ./
COPY migrations ./migrations
COPY src ./src
RUN npm run build && npm prune --omit=dev --loglevel=warn

# Run: the compiled JavaScript and production packages only, as the unprivileged node user.
FROM node:24-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# API and worker together by default; pass --mode=api or --mode=worker to run them apart.
ENTRYPOINT ["node", "dist/src/server.js"]
