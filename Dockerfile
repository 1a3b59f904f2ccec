# syntax=docker/dockerfile:1
# webfilter image: multi-stage build, runs as the non-root "node" user on the current Node LTS.
#   docker build -t webfilter .
#   docker run -d --name webfilter -p 53:53/udp -p 53:53/tcp \
#     -v /srv/webfilter/config:/etc/webfilter -v /srv/webfilter/data:/var/lib/webfilter webfilter
# Docker lets containers bind ports below 1024 without root (net.ipv4.ip_unprivileged_port_start=0).

FROM node:24-bookworm-slim AS build
WORKDIR /src
# Toolchain for native modules that compile from source.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production WEBFILTER_CONFIG=/etc/webfilter/webfilter.yaml
WORKDIR /opt/webfilter
COPY package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY config/webfilter.yaml /etc/webfilter/webfilter.yaml
COPY blocklists /etc/webfilter/blocklists
RUN mkdir -p /var/lib/webfilter && chown node:node /var/lib/webfilter
USER node
EXPOSE 53/udp 53/tcp
VOLUME ["/var/lib/webfilter"]
STOPSIGNAL SIGTERM
# --max-semi-space-size=8: a 16 MB young generation for the daemon (systemd/webfilter.service says why).
ENTRYPOINT ["node", "--max-semi-space-size=8", "/opt/webfilter/dist/cli.js"]
CMD ["serve", "--config", "/etc/webfilter/webfilter.yaml"]
