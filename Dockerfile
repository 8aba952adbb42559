# The service image: Node 20 with the embedded stores' native modules built in.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
ENV NODE_ENV=production PORT=4000 DATA_DIR=/data
VOLUME /data
EXPOSE 4000
CMD ["npm", "start"]
