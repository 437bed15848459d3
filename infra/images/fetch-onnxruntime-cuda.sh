#!/usr/bin/env bash
# Puts onnxruntime 1.30.0's CUDA provider libraries into infra/images/onnxruntime-cuda/, where the
# worker-cuda image takes them from (infra/images/worker.Dockerfile). Run it once, on a machine
# that reaches NuGet, from a checkout with `npm ci` done: onnxruntime-node's own install step
# fetches its CUDA 12 package (Microsoft.ML.OnnxRuntime.Gpu.Linux, runtimes/linux-x64/native/) into
# its binding folder, and the two files the CUDA provider needs are copied from there.
set -euo pipefail
cd "$(dirname "$0")/../.."

binding=node_modules/onnxruntime-node/bin/napi-v6/linux/x64
version=$(node -p "require('onnxruntime-node/package.json').version")
[ "$version" = 1.30.0 ] || { echo "onnxruntime-node is $version here; the images pin 1.30.0" >&2; exit 1; }

ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js
mkdir -p infra/images/onnxruntime-cuda
for lib in libonnxruntime_providers_cuda.so libonnxruntime_providers_shared.so; do
  cp "$binding/$lib" infra/images/onnxruntime-cuda/
done
sha256sum infra/images/onnxruntime-cuda/*.so
