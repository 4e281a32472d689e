# twin serve in a container (compose.yaml, docs/deploy.md): the viewer built with Node, then twin
# installed with its C++ core. Not built in this project's CI (no container engine there).
FROM node:20-bookworm AS viewer
WORKDIR /src/viewer-web
COPY viewer-web/package.json viewer-web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY viewer-web/ ./
RUN npm run build

FROM python:3.11-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends libeigen3-dev libusb-1.0-0 libgomp1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
COPY --from=viewer /src/viewer-web/dist viewer-web/dist
RUN pip install --no-cache-dir "setuptools>=77" wheel pybind11 && pip install --no-cache-dir . && rm -rf /src
WORKDIR /
EXPOSE 8765
CMD ["twin", "serve", "--help"]
