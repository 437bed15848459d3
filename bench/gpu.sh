#!/usr/bin/env bash
# The GPU device check of issue #15: on a machine with an NVIDIA GPU, SFT and GRPO steps (one
# onnxruntime run per optimizer update, and several updates in one looped run) and generation on
# CUDA for SmolLM2-135M and a Qwen2.5-0.5B shape, with tokens/s, the share of a step spent copying
# and the peak GPU memory (bench/gpu.ts measures; this script checks the machine and reads
# nvidia-smi). It installs nothing: what it needs must be on the machine or travel with the checkout.
#
#   bench/gpu.sh                  run it (GPU_BENCH_MODELS="smollm2 qwen0.5b" by default)
#   GPU_BENCH_DRY=1 bench/gpu.sh  the same on the CPU with a tiny model: everything but CUDA
#   GPU_BENCH_DEVICE=cpu bench/gpu.sh   the real shapes on the CPU (GPU_BENCH_SEQ=n: n tokens a sequence)
#   bench/gpu.sh pack             make .gpu/bundle.tar.xz (git-ignored, ~40 MB): Node, the built
#                                 dist/ and the node_modules the bench loads, for a machine that has
#                                 none of them (a device machine gets the checkout without ignored
#                                 files: carry .gpu). When the bundle is there, every run uses it.
#
# What CUDA needs beyond the bundle (the script names what is missing and stops): onnxruntime's two
# CUDA provider libraries of the binding's version (1.30.0), found beside the binding, in
# R1_ORT_CUDA_DIR, in infra/images/onnxruntime-cuda/ (infra/images/fetch-onnxruntime-cuda.sh) or in
# a Python onnxruntime-gpu of the same version; and the CUDA runtime and cuDNN libraries they link
# (CUDA 12 and cuDNN 9 for the NuGet build), on the loader path or in Python's nvidia-* packages.
# Other knobs: GPU_BENCH_UPDATES (updates per looped run, 4), GPU_BENCH_REPEATS (2),
# GPU_BENCH_TIMEOUT (seconds per model, 270), GPU_BENCH_DEVICE (0), SmolLM2's GGUF from
# R1_SMOLLM2_GGUF (random weights of its shape without it).
set -euo pipefail
cd "$(dirname "$0")/.."

bundle=.gpu/bundle.tar.xz
dry=${GPU_BENCH_DRY:-0}
# No GPU wanted: no nvidia-smi, CUDA provider or GPU memory.
cpu=$dry; [ "${GPU_BENCH_DEVICE:-}" = cpu ] && cpu=1

if [ "${1:-}" = pack ]; then
  [ -f dist/bench/gpu.js ] || { echo "bench/gpu.sh pack: build first (npx tsc -p tsconfig.json)" >&2; exit 1; }
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  # What the bench loads, read off a dry run's module cache: its compiled files and their packages.
  GPU_BENCH_DRY=1 GPU_BENCH_REPEATS=1 node -e "
    const fs = require('node:fs');
    process.on('exit', () => fs.writeFileSync('$stage/loaded', Object.keys(require.cache).join('\n')));
    require('./dist/bench/gpu.js');" >/dev/null
  root=$PWD
  sed -n "s|^$root/||p" "$stage/loaded" | grep -v '^node_modules/' >"$stage/files"
  sed -n "s|^$root/\(node_modules/\(@[^/]*/\)\?[^/]*\)/.*|\1|p" "$stage/loaded" | sort -u >"$stage/packages"
  mkdir -p "$stage/r1"
  cp "$(command -v node)" "$stage/r1/node"
  cp package.json "$stage/r1/"
  tar -cf - -T "$stage/files" | tar -xf - -C "$stage/r1"
  # onnxruntime-node ships binaries for every platform; the device machine is Linux x86-64.
  tar -cf - --exclude='node_modules/onnxruntime-node/bin/napi-v6/darwin' --exclude='node_modules/onnxruntime-node/bin/napi-v6/win32' \
    --exclude='node_modules/onnxruntime-node/bin/napi-v6/linux/arm64' -T "$stage/packages" | tar -xf - -C "$stage/r1"
  git rev-parse --short HEAD >"$stage/r1/COMMIT"
  mkdir -p .gpu
  tar -C "$stage" -cf - r1 | xz -T0 -6 >"$bundle"
  echo "$bundle: $(du -h "$bundle" | cut -f1), $(wc -l <"$stage/files") compiled files and $(wc -l <"$stage/packages") packages, commit $(cat "$stage/r1/COMMIT")"
  exit 0
fi

# The runtime: the bundle where there is one, else this checkout (built) and its node.
if [ -f "$bundle" ]; then
  app=${GPU_BENCH_DIR:-/tmp/r1-gpu}
  rm -rf "$app" && mkdir -p "$app"
  xz -dc "$bundle" | tar -xf - -C "$app"
  app=$app/r1
  node=$app/node
  echo "runtime: $bundle (commit $(cat "$app/COMMIT"))"
else
  app=$PWD
  node=$(command -v node || true)
  [ -n "$node" ] || { echo "no node on this machine: run 'bench/gpu.sh pack' where there is one and bring .gpu along" >&2; exit 2; }
  [ -f dist/bench/gpu.js ] || { echo "dist/bench/gpu.js is missing: build first (npx tsc -p tsconfig.json), or bring a bundle (bench/gpu.sh pack)" >&2; exit 2; }
  echo "runtime: this checkout (commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
fi
echo "node $("$node" --version), onnxruntime-node $("$node" -p "require('$app/node_modules/onnxruntime-node/package.json').version")"

if [ "$cpu" != 1 ]; then
  command -v nvidia-smi >/dev/null || { echo "no nvidia-smi: not a machine with an NVIDIA GPU (GPU_BENCH_DRY=1 runs the check on the CPU)" >&2; exit 2; }
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  binding=$app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64
  version=$("$node" -p "require('$app/node_modules/onnxruntime-node/package.json').version")
  providers="libonnxruntime_providers_shared.so libonnxruntime_providers_cuda.so"
  # A Python onnxruntime(-gpu) of the same version ships the same two libraries in its capi folder.
  pyort=$(python3 -c "import onnxruntime as o, os; print(os.path.join(os.path.dirname(o.__file__), 'capi') if o.__version__ == '$version' else '')" 2>/dev/null || true)
  for lib in $providers; do
    [ -e "$binding/$lib" ] && continue
    for dir in "${R1_ORT_CUDA_DIR:-}" infra/images/onnxruntime-cuda "$pyort"; do
      if [ -n "$dir" ] && [ -f "$dir/$lib" ]; then ln -s "$(cd "$dir" && pwd)/$lib" "$binding/$lib"; echo "CUDA provider: $dir/$lib"; break; fi
    done
    [ -e "$binding/$lib" ] || { echo "missing $lib (onnxruntime $version): put it in R1_ORT_CUDA_DIR or infra/images/onnxruntime-cuda/ (infra/images/fetch-onnxruntime-cuda.sh, where NuGet is reachable)" >&2; exit 3; }
  done
  # CUDA and cuDNN libraries that pip packages hold (nvidia-cublas-cu12, nvidia-cudnn-cu12, ...).
  nvlibs=$(python3 -c "import nvidia, os; r = list(nvidia.__path__)[0]; print(':'.join(os.path.join(r, d, 'lib') for d in sorted(os.listdir(r)) if os.path.isdir(os.path.join(r, d, 'lib'))))" 2>/dev/null || true)
  export LD_LIBRARY_PATH=${nvlibs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  missing=$(ldd "$binding/libonnxruntime_providers_cuda.so" | awk '/not found/ { print $1 }' | tr '\n' ' ')
  [ -z "$missing" ] || { echo "the CUDA provider cannot load, missing: $missing(CUDA 12 + cuDNN 9 for onnxruntime $version's NuGet build)" >&2; exit 3; }
fi

status=0
for model in ${GPU_BENCH_MODELS:-smollm2 qwen0.5b}; do
  echo
  sampler=
  if [ "$cpu" != 1 ]; then
    base=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -i "${GPU_BENCH_DEVICE:-0}")
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -i "${GPU_BENCH_DEVICE:-0}" -lms 200 >"/tmp/r1-gpu-mem.$$" &
    sampler=$!
  fi
  rc=0
  GPU_BENCH_DRY=$dry timeout "${GPU_BENCH_TIMEOUT:-270}" "$node" "$app/dist/bench/gpu.js" "$model" || rc=$?
  [ $rc = 0 ] || { echo "  $model: stopped with status $rc$([ $rc = 124 ] && echo ' (GPU_BENCH_TIMEOUT)')"; status=1; }
  if [ -n "$sampler" ]; then
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    peak=$(sort -n "/tmp/r1-gpu-mem.$$" | tail -1)
    rm -f "/tmp/r1-gpu-mem.$$"
    echo "  peak GPU memory:                   ${peak} MiB (${base} MiB in use before)"
  else
    echo "  peak GPU memory:                   none (on the CPU)"
  fi
done
exit $status
