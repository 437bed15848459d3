import * as fs from 'node:fs';
import * as path from 'node:path';
import { InferenceSession } from 'onnxruntime-node';
import { deviceSchema, type Device } from '../schemas/device';
import { optimisedSession, sessionCacheDir } from './session-cache';
import type { NamedTensors } from './tensors';

export type { Device };

/**
 * Files the CUDA execution provider loads from beside onnxruntime-node's binding. The npm package
 * ships only the CPU binaries; a GPU image adds these two, of the same onnxruntime version (1.30.0):
 *  - run onnxruntime-node's install script with the CUDA flavour while building the image (the
 *    environment variable overrides this repo's .npmrc `onnxruntime-node-install=skip`):
 *      ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js
 *    It downloads Microsoft.ML.OnnxRuntime.Gpu.Linux from NuGet into the binding folder; or
 *  - copy libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so from that NuGet
 *    package (runtimes/linux-x64/native/) or the matching onnxruntime GPU release into
 *    node_modules/onnxruntime-node/bin/napi-v6/linux/x64/.
 * The CUDA 12 runtime and cuDNN 9 libraries must also be on the loader path.
 */
export const CUDA_PROVIDER_FILES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];

/**
/**
 * Creates an onnxruntime session for a serialized ONNX model on the given device. On the CPU the
 * optimised model is cached in `cacheDir` (session-cache.ts), so only the first engine to build a
 * graph on this machine pays for optimising it. `arena: false` returns a run's memory when it
 * ends instead of keeping it for the next run (CPU only): for sessions whose runs are few and
 * light on kernels, where memory matters more than page faults. `initializers`: the data of the
 * model's external constants (Graph.external), by name, each passed as an in-memory external data
 * file of that name, so no size limit of protobuf applies. onnxruntime copies them when the
 * session is made (to the GPU; on the CPU into memory of its own, so they are held twice). Such a
 * session is not cached: its optimised model would hold the data (a whole base model per entry),
 * which the cache's key, the model's bytes, does not cover.
 */
export async function createSession(
  model: Uint8Array, device: Device, opts: { arena?: boolean; cacheDir?: string; initializers?: NamedTensors } = {},
): Promise<InferenceSession> {
  const d = deviceSchema.parse(device);
  const externalData = opts.initializers && Object.entries(opts.initializers).map(([path, t]) => ({
    path,
    data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
  }));
  if (d.kind === 'cpu') {
    const options = { ...cpuSessionOptions(d.threads), ...(opts.arena === false && { enableCpuMemArena: false }) };
    if (externalData) return InferenceSession.create(model, { ...options, externalData });
    return (await optimisedSession(model, options, opts.cacheDir ?? sessionCacheDir(), onnxruntimeVersion())).session;
  }
  checkDevice(d);
  try {
    return await InferenceSession.create(model, { executionProviders: [{ name: 'cuda', deviceId: d.deviceId ?? 0 }], ...(externalData && { externalData }) });
  } catch (err) {
    throw new Error(`could not start onnxruntime's CUDA execution provider (device ${d.deviceId ?? 0}): ${(err as Error).message}`, { cause: err });
  }
}

/**
 * onnxruntime's graph optimisers (level 'all', 1.30) that change none of the engine's graphs:
 * they look for patterns our float32 graphs never hold (quantisation, convolutions, GELU,
 * LayerNorm, fused attention), yet each walks the whole graph, twice at its level. Off, SmolLM2's
 * SFT-step session took 3.4-3.9 s to create instead of 6.8-7.0, and the optimised graph is the
 * same, byte for byte (tests/engine/session-options.test.ts checks that for every graph kind);
 * the ten that do change our graphs stay on.
 */
export const IDLE_OPTIMIZERS = [
  'AttentionFusion', 'BiasDropoutFusion', 'BiasGeluFusion', 'BiasSkipLayerNormFusion',
  'BiasSoftmaxFusion', 'ConstantSharing', 'ConvActivationFusion', 'ConvAddActivationFusion',
  'DoubleQDQPairsRemover', 'DynamicQuantizeMatMulFusion', 'EmbedLayerNormFusion',
  'EnsureUniqueDQForNodeUnit', 'FastGeluFusion', 'FreeDimensionOverrideTransformer',
  'FuseFp16InitializerToFp32NodeTransformer', 'GatherToSliceFusion', 'GeluFusionL1',
  'GeluFusionL2', 'GemmActivationFusion', 'GroupQueryAttentionFusion',
  'GroupQueryAttentionPreNormFusion', 'LayerNormFusionL1', 'LayerNormFusionL2',
  'Level2_RuleBasedTransformer', 'MatMulActivationFusion', 'MatMulIntegerToFloatFusion',
  'MatMulNBitsFusion', 'NchwcTransformer', 'NhwcTransformer', 'QDQFinalCleanupTransformer',
  'QDQPropagationTransformer', 'QDQS8ToU8Transformer', 'QDQSelectorActionTransformer',
  'ReshapeFusion', 'SkipLayerNormFusion', 'SliceConcatToSpaceToDepthFusion',
  'TransposeOptimizer_CPUExecutionProvider', 'WeightBiasQuantization', 'WhereDummyDq',
];

/** The engine's CPU session options, with `threads` intra-op threads (onnxruntime's choice when unset). */
export function cpuSessionOptions(threads: number | undefined): InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    // onnxruntime-node rejects an intraOpNumThreads that is present but undefined.
    ...(threads !== undefined && { intraOpNumThreads: threads }),
    // By default idle pool threads spin between ops. The engine shares its cores with the
    // Temporal worker, rollout workers and reward sandboxes; under that contention spinning
    // threads take the cores from the threads with work, and a step ran 1.3-3x slower.
    extra: {
      session: { intra_op: { allow_spinning: '0' } },
      optimization: { disable_specified_optimizers: IDLE_OPTIMIZERS.join(';') },
    },
    // The memory pattern gives every run one fresh block for all its activations, so each run
    // page-faults its way through them again (a 32 MB attention-score add took 35 ms instead
    // of 8). Without it, tensors come from the arena, whose pages stay mapped between runs.
    enableMemPattern: false,
  };
}

/**
 * Throws when this machine cannot run engines on `device`, naming what is missing: a worker
 * checks its device when it starts, rather than at its first session.
 */
export function checkDevice(device: Device): void {
  if (device.kind === 'cpu') return;
  // onnxruntime would fail with a bare "Failed to load shared library"; name what is missing instead.
  const missing = CUDA_PROVIDER_FILES.filter((f) => !fs.existsSync(path.join(bindingDir(), f)));
  if (missing.length > 0) {
    throw new Error(
      `CUDA device requested, but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing from ${bindingDir()}. ` +
        `The onnxruntime-node package ships CPU binaries only; add them while building the image with ` +
        `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js, or copy both provider libraries of ` +
        `onnxruntime ${onnxruntimeVersion()} there (see engine/device.ts).`,
    );
  }
}

/** The folder holding onnxruntime_binding.node, where onnxruntime looks for provider libraries. */
function bindingDir(): string {
  const pkgDir = path.dirname(require.resolve('onnxruntime-node/package.json'));
  return path.join(pkgDir, 'bin', 'napi-v6', process.platform, process.arch);
}

/** The onnxruntime-node package's version: the engine build. */
export function onnxruntimeVersion(): string {
  return (require('onnxruntime-node/package.json') as { version: string }).version;
}
