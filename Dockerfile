# One image for the worker, the CLI and the simulators (the compose stack picks the command).
FROM node:20-bookworm-slim
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends openssl ca-certificates && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY sim ./sim
COPY bin ./bin
COPY examples ./examples
COPY deploy ./deploy
RUN npm ci --no-audit --no-fund && npm prune --omit=dev
ENV NODE_ENV=production
# V8 flags of src/worker-settings.ts WORKER_V8_FLAGS (a test checks they match).
ENTRYPOINT ["node", "--max-semi-space-size=2", "bin/audit-spike.js"]
CMD ["worker"]
