# The service image: Node 20 with the embedded stores' native modules built in.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# The service runs as the image's unprivileged `node` user and owns only its data directory.
RUN mkdir -p /data && chown node:node /data
USER node
ENV NODE_ENV=production PORT=4000 DATA_DIR=/data
VOLUME /data
EXPOSE 4000
# node itself is PID 1's command (no npm or shell in between), so SIGTERM and SIGINT reach the service.
CMD ["node", "--import", "tsx", "src/main.ts"]
