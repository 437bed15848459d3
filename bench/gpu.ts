/**
 * The measurements of the GPU device check (bench/gpu.sh runs this, one model per process, and
 * reads the GPU's peak memory around it). For the model named by the first argument, on CUDA:
 *  - SFT and GRPO (dapo) steps, one onnxruntime run per optimizer update (as the trainer runs them
 *    off the GPU) and UPDATES updates in one run (engine/looped.ts), in tokens/s;
 *  - the share of a step spent copying, two ways: what the looped run saves per update, and a
 *    run of a graph that only negates the trained values and both moments (the same 24 bytes per
 *    parameter in and out as a step, next to no compute);
 *  - generation with the KV cache, in tokens/s.
 * Models: `smollm2` (SmolLM2-135M, its GGUF's weights where the file is, random weights of its
 * shape otherwise; batch 8 x 512) and `qwen0.5b` (Qwen2.5-0.5B's shape, random weights; 4 x 1024).
 * GPU_BENCH_DRY=1 runs the same on the CPU with a tiny model, so that all but CUDA is exercised;
 * GPU_BENCH_DEVICE=cpu runs the real shapes on the CPU (2 threads), GPU_BENCH_SEQ=n at n tokens a
 * sequence: the CPU figures to set the GPU's beside.
 */
import { Tensor } from 'onnxruntime-node';
import { createSession, type Device } from '../engine/device';
import { Graph } from '../engine/onnx/builder';
import * as trainer from '../engine/trainer';
import { modelConfigSchema, type ModelConfig } from '../schemas/model';
import { decodeTokensPerSecond } from './decode';
import { QWEN25_05B, SMOLLM2_135M, hasSmolLm2, smolLm2 } from './models';
import { timed } from './timed';
import { trainBatch } from './train-batch';

const DRY = process.env.GPU_BENCH_DRY === '1';
const ON_CPU = DRY || process.env.GPU_BENCH_DEVICE === 'cpu';
/** Optimizer updates per looped run: μ = 2 iterations x 2 mini-batches. */
const UPDATES = Number(process.env.GPU_BENCH_UPDATES ?? 4);
/** Timed repetitions of each figure (the fastest counts, after an untimed first: session creation). */
const REPEATS = Number(process.env.GPU_BENCH_REPEATS ?? 2);
const NEW_TOKENS = DRY ? 8 : 64;

interface Case { name: string; model: ModelConfig; batch: number; seq: number; weights?: () => Record<string, { dims: number[]; data: Float32Array }> }

function benchCase(name: string): Case {
  if (DRY) {
    const model = modelConfigSchema.parse({ vocabSize: 259, hiddenSize: 64, intermediateSize: 128, numLayers: 2, numHeads: 4, numKvHeads: 2, maxSeqLen: 128 });
    return { name: `${name} (dry run: a tiny model on the CPU)`, model, batch: 2, seq: 32 };
  }
  const seq = (n: number) => Number(process.env.GPU_BENCH_SEQ ?? n);
  if (name === 'smollm2') {
    if (hasSmolLm2()) return { name: 'SmolLM2-135M-Instruct (GGUF weights)', ...smolLm2(), batch: 8, seq: seq(512) };
    return { name: 'SmolLM2-135M-shaped (random weights: its GGUF is not on this machine)', model: SMOLLM2_135M, batch: 8, seq: seq(512) };
  }
  if (name === 'qwen0.5b') return { name: 'Qwen2.5-0.5B-shaped (random weights)', model: QWEN25_05B, batch: 4, seq: seq(1024) };
  throw new Error(`bench/gpu: unknown model ${name} (smollm2 or qwen0.5b)`);
}

/** A graph that takes the trained values and both moments and returns each negated: a step's copies without its compute. */
function copyProbe(shapes: Record<string, readonly number[]>): Uint8Array {
  const g = new Graph();
  for (const [name, dims] of Object.entries(shapes)) {
    for (const prefix of ['', 'm.', 'v.']) g.output(g.neg(g.input(prefix + name, 'float32', dims)), `new.${prefix}${name}`);
  }
  return g.toModel();
}

async function main(): Promise<void> {
  const c = benchCase(process.argv[2] ?? 'smollm2');
  const device: Device = ON_CPU ? { kind: 'cpu', threads: 2 } : { kind: 'cuda', deviceId: Number(process.env.GPU_BENCH_DEVICE ?? 0) };
  const { parameters } = await trainer.init({ config: c.model, seed: 1, weights: c.weights?.(), device });
  console.log(`${c.name}: ${(parameters / 1e6).toFixed(1)} M parameters, batch ${c.batch} x ${c.seq}, ${UPDATES} updates per looped run, ${JSON.stringify(device)}`);
  const batch = trainBatch(c.batch, c.seq);
  const report = (what: string, seconds: number, updates: number) =>
    console.log(`  ${what.padEnd(34)} ${((batch.tokens * updates) / seconds).toFixed(0).padStart(8)} tokens/s  (${(seconds / updates).toFixed(3)} s per update)`);

  const sftOne = await timed(REPEATS, () => batch.sftStep());
  report('SFT, one run per update', sftOne, 1);
  const sftLooped = await timed(REPEATS, () => batch.sftStep(UPDATES));
  report(`SFT, ${UPDATES} updates in one run`, sftLooped, UPDATES);

  const grpoStep = await batch.grpoStep();
  const grpoOne = await timed(REPEATS, () => grpoStep());
  report('GRPO (dapo), one run per update', grpoOne, 1);
  const grpoLooped = await timed(REPEATS, () => grpoStep(UPDATES));
  report(`GRPO (dapo), ${UPDATES} updates in one run`, grpoLooped, UPDATES);

  const state = await trainer.exportState();
  const probe = await createSession(copyProbe(Object.fromEntries(Object.entries(state.weights).map(([k, t]) => [k, t.dims]))), device);
  const feeds: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(state.weights)) {
    feeds[name] = new Tensor('float32', t.data, t.dims);
    feeds[`m.${name}`] = new Tensor('float32', state.optimizer.m[name].data, t.dims);
    feeds[`v.${name}`] = new Tensor('float32', state.optimizer.v[name].data, t.dims);
  }
  const copies = await timed(REPEATS, () => probe.run(feeds));
  await probe.release();
  const share = (x: number) => `${(100 * x).toFixed(0)}%`;
  console.log(`  copying, from the looped run:      SFT ${share(1 - sftLooped / UPDATES / sftOne)}, GRPO ${share(1 - grpoLooped / UPDATES / grpoOne)} of a step run alone`);
  console.log(`  copying, weights + moments in/out: ${copies.toFixed(3)} s a run = SFT ${share(copies / sftOne)}, GRPO ${share(copies / grpoOne)} of a step (${((parameters * 24) / 1e9).toFixed(2)} GB each way)`);

  const generation = await decodeTokensPerSecond(c.model, device, { rows: c.batch, newTokens: NEW_TOKENS, useCache: true });
  console.log(`  generation, KV cache:              ${generation.toFixed(0).padStart(8)} tokens/s  (${c.batch} rows x ${NEW_TOKENS} new tokens, greedy)`);
  console.log(`  peak RSS:                          ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
