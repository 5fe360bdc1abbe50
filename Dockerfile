# Reactive Interaction Gateway image. uWebSockets.js ships glibc binaries only: use a Debian base,
# never Alpine. Node 20 matches the ABI of the bundled uWS binary.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY test ./test
# npm install with the pinned lock file (npm ci rejects its missing foreign-platform optional packages)
RUN npm install --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
USER node
# Public port (SSE, WebSocket, long polling, events) and the internal API (keep it private).
EXPOSE 4000 4010
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.API_HTTP_PORT||4010)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main/index.js"]
