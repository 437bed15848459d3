# syntax=docker/dockerfile:1
# The r1 worker images: two targets of one file, built from the repository root.
#
#   docker build -f infra/images/worker.Dockerfile --target worker-cpu  -t r1-worker:cpu  .
#   docker build -f infra/images/worker.Dockerfile --target worker-cuda -t r1-worker:cuda .
#
# worker-cuda adds onnxruntime 1.30.0's CUDA provider libraries the offline way (engine/device.ts):
# copied from infra/images/onnxruntime-cuda/, where infra/images/fetch-onnxruntime-cuda.sh puts
# them on a machine that reaches NuGet. The build itself downloads no provider file.
# The entrypoint is the r1 command under tini, which passes SIGTERM on to it: the worker then
# stops polling, lets its trainers finish their step, commit and hand their phases over, and
# gives in-flight activities 120 s (workers/worker.ts). Give the container longer than that.

ARG NODE_IMAGE=node:20.19.5-bookworm-slim
# CUDA 12 and cuDNN 9: what onnxruntime 1.30.0's CUDA provider is built for.
ARG CUDA_IMAGE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.json ./
# .npmrc skips onnxruntime-node's download step; its CPU binaries ship in the npm package.
RUN npm ci --no-audit --no-fund
COPY schemas schemas
COPY engine engine
COPY rewards rewards
COPY tasks tasks
COPY storage storage
COPY activities activities
COPY workflows workflows
COPY workers workers
COPY cli cli
COPY infra infra
COPY tests tests
COPY bench bench
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --no-audit --no-fund

# The code reward's sandbox (rewards/sandbox.ts) needs bubblewrap, prlimit/setpriv (util-linux)
# and python3; tini forwards signals and reaps the sandboxes' processes. Debian's versions of the
# base image are what is tested, so they are not pinned one by one.
FROM ${NODE_IMAGE} AS worker-cpu
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap util-linux python3 tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
ENV NODE_ENV=production \
    R1_WORKER_DEVICE=cpu \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
USER 1000:1000
EXPOSE 9464
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli/r1.js"]
CMD ["worker"]

FROM ${CUDA_IMAGE} AS worker-cuda
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap util-linux python3 tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --create-home --shell /usr/sbin/nologin r1
COPY --from=build /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Beside onnxruntime-node's binding, where onnxruntime looks for its execution providers.
COPY infra/images/onnxruntime-cuda/libonnxruntime_providers_cuda.so infra/images/onnxruntime-cuda/libonnxruntime_providers_shared.so ./node_modules/onnxruntime-node/bin/napi-v6/linux/x64/
# The same check a worker makes when it starts with a CUDA device: both files where they belong.
RUN node -e "require('/app/dist/engine/device').checkDevice({ kind: 'cuda' })"
ENV NODE_ENV=production \
    R1_WORKER_DEVICE=cuda:0 \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
USER 10001
EXPOSE 9464
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli/r1.js"]
CMD ["worker", "--queues", "rollout,train"]
