# syntax=docker/dockerfile:1
ARG NODE=node:22
FROM ${NODE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci && npm install -g typescript pnpm@9
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm install @org/private-lib
FROM deps AS build
COPY . .
RUN npm run build
FROM node:22-alpine
RUN apk add --no-cache tini=0.19.0-r3 curl
COPY --from=build /src/dist /app
USER node
HEALTHCHECK CMD curl -f http://localhost:3000/ || exit 1
ENTRYPOINT ["/sbin/tini", "--"]
CMD ["node", "/app/index.js"]
