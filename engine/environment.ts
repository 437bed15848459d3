import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import type { Device } from '../schemas/device';
import type { EngineEnvironment } from '../schemas/manifest';
import { onnxruntimeVersion } from './device';

/**
 * What an engine runs on, for the manifest of every checkpoint it makes: the onnxruntime build,
 * the execution provider and its threads, the CPU and the instruction set its kernels use, the GPU.
 * Floating-point results depend on each of these, so a checkpoint is comparable bit for bit only
 * with one made in the same environment.
 */
export function engineEnvironment(device: Device): EngineEnvironment {
  return {
    onnxruntime: onnxruntimeVersion(),
    executionProvider: device.kind,
    intraOpThreads: device.kind === 'cpu' ? (device.threads ?? null) : null,
    cpu: cpu(),
    gpu: device.kind === 'cuda' ? gpu(device.deviceId ?? 0) : null,
  };
}

/** Why an engine in this environment may not repeat its results bit for bit; empty when nothing stands in the way. */
export function reproducibilityWarnings(engine: EngineEnvironment): string[] {
  if (engine.executionProvider === 'cuda') {
    return ['GPU kernels: onnxruntime does not promise the same floating-point order from one CUDA run to the next'];
  }
  const threads = engine.intraOpThreads;
  if (threads === null && engine.cpu.cores > 1) {
    return [`intra-op threads unset: onnxruntime runs one per physical core (up to ${engine.cpu.cores} here), and threads add their partial sums in a varying order; start the worker with --threads 1 (R1_WORKER_THREADS=1)`];
  }
  if (threads !== null && threads > 1) {
    return [`${threads} intra-op threads add their partial sums in a varying order; start the worker with --threads 1 (R1_WORKER_THREADS=1)`];
  }
  return [];
}

let cpuOnce: EngineEnvironment['cpu'] | undefined;

function cpu(): EngineEnvironment['cpu'] {
  cpuOnce ??= { model: os.cpus()[0]?.model.trim() || 'unknown', isa: instructionSet(process.arch, cpuFlags()), cores: os.availableParallelism() };
  return cpuOnce;
}

/** The CPU's feature flags as Linux lists them (`flags` on x86, `Features` on Arm); empty elsewhere. */
function cpuFlags(): Set<string> {
  try {
    const line = /^(?:flags|Features)\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return new Set(line ? line[1].trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}

/**
 * The kernels onnxruntime's MLAS picks for float32 on this CPU, in its order of preference
 * (onnxruntime/core/mlas/lib/platform.cpp): AVX-512F over AVX2 with FMA3 over AVX over SSE2 on
 * x86-64; NEON on 64-bit Arm. Each sums in its own order, so their results differ in the last bits.
 */
export function instructionSet(arch: string, flags: ReadonlySet<string>): string {
  if (arch === 'arm64') return 'NEON';
  if (arch !== 'x64' || flags.size === 0) return 'unknown';
  if (flags.has('avx512f')) return 'AVX-512F';
  if (flags.has('avx2') && flags.has('fma')) return 'AVX2+FMA3';
  if (flags.has('avx')) return 'AVX';
  return 'SSE2';
}

/** The GPU as nvidia-smi names it; `unknown` fields where nvidia-smi is missing or fails. */
function gpu(deviceId: number): NonNullable<EngineEnvironment['gpu']> {
  // nvidia-smi numbers every GPU of the machine; CUDA only those in CUDA_VISIBLE_DEVICES.
  const id = process.env.CUDA_VISIBLE_DEVICES?.split(',')[deviceId]?.trim() || String(deviceId);
  const smi = (args: string[]) => execFileSync('nvidia-smi', args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const [name, driver] = smi(['--query-gpu=name,driver_version', '--format=csv,noheader', `--id=${id}`]).trim().split(/\s*,\s*/);
    // The CUDA version the driver supports, from nvidia-smi's banner.
    const cuda = /CUDA Version:\s*([\d.]+)/.exec(smi([]))?.[1] ?? 'unknown';
    return { deviceId, name: name || 'unknown', driver: driver || 'unknown', cuda };
  } catch {
    return { deviceId, name: 'unknown', driver: 'unknown', cuda: 'unknown' };
  }
}
