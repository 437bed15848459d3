/**
 * `npm run bench:engine`: engine throughput on CPU. Prints figures, asserts nothing.
 * For each config: SFT and GRPO train-step tokens/s, greedy generation tokens/s with and without
 * the KV cache, and peak RSS; SmolLM2-135M-Instruct with its real weights (the GGUF setup
 * fetches) among them. When `python3 -c "import torch"` works (set PYTHONPATH to where torch is
 * installed, or BENCH_PYTHON to a venv's python), bench/torch_reference.py times the same model
 * shapes in PyTorch eager on CPU with the same threads, and the ratio is printed. Then the model
 * import/export figures of model-io.ts (BENCH_LARGE=0 leaves out the 6 GB round trip; BENCH_CONFIG
 * picks configs by name; SmolLM2 at batch 8 x 512 runs only as BENCH_CONFIG=T=512, alone, so its peak RSS is its own),
 * and sampling at V=152k beside a decode step (sampling.ts; BENCH_ONLY=sampling runs only that).
 * Each config starts with its cold start: first generation, SFT and GRPO step of a new process
 * beside steady ones, with an empty and a filled optimised-model cache (first-step.ts;
 * BENCH_ONLY=first-step runs only those).
 * BENCH_CONFIG=LoRA runs only LoRA beside the full fine-tune on SmolLM2 (lora.ts).
 * BENCH_RECOMPUTE=attention|layers and BENCH_MICRO_BATCH=n set the trainer's `runtime.memory`
 * (what the backward pass recomputes, micro-batches) where a config does not set its own; a config's peak RSS is its
 * own only when it runs alone, so compare settings in separate runs (BENCH_ONLY=train leaves out
 * generation, sampling and model-io).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as trainer from '../engine/trainer';
import type { NamedTensors } from '../engine/tensors';
import { toolPath } from '../infra/local/tools';
import { modelConfigSchema, type ModelConfig } from '../schemas/model';
import { decodeTokensPerSecond } from './decode';
import { benchFirstStep } from './first-step';
import { benchLora } from './lora';
import { benchModelIo } from './model-io';
import { QWEN25_05B, smolLm2 } from './models';
import { benchSampling } from './sampling';
import { seconds, timed } from './timed';
import { PROMPT_LEN, trainBatch, type TrainBatch } from './train-batch';
import { MemorySchema, type Memory } from '../schemas/runtime';

const THREADS = Number(process.env.BENCH_THREADS ?? 2);
/** BENCH_ONLY=generate times generation alone (quicker, for comparing decode changes). */
const ONLY_GENERATE = process.env.BENCH_ONLY === 'generate';
/** BENCH_ONLY=sampling runs only the sampling case. */
const ONLY_SAMPLING = process.env.BENCH_ONLY === 'sampling';
/** BENCH_ONLY=first-step runs only the first-vs-steady figures (first-step.ts) of each config. */
const ONLY_FIRST_STEP = process.env.BENCH_ONLY === 'first-step';
/** BENCH_ONLY=train times the train steps alone (no generation, sampling or model-io): for comparing memory settings. */
const ONLY_TRAIN = process.env.BENCH_ONLY === 'train';
const MEMORY = MemorySchema.parse({
  ...(process.env.BENCH_RECOMPUTE && { recompute: process.env.BENCH_RECOMPUTE }),
  ...(process.env.BENCH_MICRO_BATCH && { microBatchSize: Number(process.env.BENCH_MICRO_BATCH) }),
});

interface BenchConfig {
  name: string;
  model: ModelConfig;
  batch: number;
  seq: number;
  newTokens: number;
  /** Rows for generation without the cache, which recomputes every prefix (quadratic). */
  noCacheBatch: number;
  /**
   * Timed train steps per figure, of which the fastest counts (see timed). On a shared machine a
   * neighbour's burst can cover a few consecutive steps, so short steps get many tries.
   */
  steps: number;
  /** Real weights (SmolLM2's); random ones otherwise. */
  weights?: () => NamedTensors;
  /** The GGUF file those real weights come from, for the first-step processes. */
  gguf?: string;
  /** Runs only when BENCH_CONFIG names it: its 12+ GB do not fit beside the other configs' on a shared 24 GB machine. */
  onlyWhenNamed?: boolean;
  /** Its own trainer memory settings, over those of BENCH_RECOMPUTE / BENCH_MICRO_BATCH. */
  memory?: Partial<Memory>;
  /** Only the GRPO step (a 0.5B model's SFT step and generation would add many minutes). */
  grpoOnly?: boolean;
}

const model = (d: number, layers: number, heads: number) =>
  modelConfigSchema.parse({ vocabSize: 259, hiddenSize: d, intermediateSize: 4 * d, numLayers: layers, numHeads: heads, numKvHeads: heads, maxSeqLen: 512 });

const CONFIGS: BenchConfig[] = [
  { name: 'tiny (d=64, 2 layers, 4 heads)', model: model(64, 2, 4), batch: 4, seq: 64, newTokens: 256, noCacheBatch: 4, steps: 20 },
  { name: 'small (d=256, 4 layers, 8 heads)', model: model(256, 4, 8), batch: 16, seq: 256, newTokens: 256, noCacheBatch: 2, steps: 6 },
  { name: 'SmolLM2-135M-Instruct (real weights: d=576, 30 layers, 9/3 heads, vocab 49,152)', ...smolLm2(), batch: 8, seq: 128, newTokens: 64, noCacheBatch: 0, steps: 3 },
  // The yardstick for memory (issue #15); BENCH_CONFIG=T=512 runs it alone, so its peak RSS is its own.
  { name: 'SmolLM2-135M-Instruct at T=512 (real weights)', ...smolLm2(), batch: 8, seq: 512, newTokens: 64, noCacheBatch: 0, steps: 2, onlyWhenNamed: true },
  // Issue #15's 0.5B goal: a GRPO step at B=4 T=1024 within 20 GB, layers recomputed. In
  // micro-batches of 1, which hold weights and moments once (trainer.ts, trainStep), its
  // two steps peaked at 16.1 GB; fused, a step passed 19.5 GB. It needs ~17 GB free.
  {
    name: 'Qwen2.5-0.5B-shaped (random weights: d=896, 24 layers, 14/2 heads, vocab 151,936)',
    model: QWEN25_05B,
    batch: 4, seq: 1024, newTokens: 0, noCacheBatch: 0, steps: 1, onlyWhenNamed: true, memory: { recompute: 'layers', microBatchSize: 1 }, grpoOnly: true,
  },
];

function torchReference(cfg: BenchConfig): Record<string, number> | undefined {
  const script = path.resolve('bench', 'torch_reference.py'); // npm runs scripts from the package root
  const args = JSON.stringify({ model: cfg.model, batch: cfg.batch, seq: cfg.seq, newTokens: cfg.newTokens, promptLen: PROMPT_LEN, steps: cfg.steps, threads: THREADS });
  // The engine's pool threads sleep when idle (device.ts); PyTorch's OpenMP threads spin unless
  // told otherwise, which on a shared machine made it up to 10x slower. Same policy for both.
  const env = { OMP_WAIT_POLICY: 'PASSIVE', ...process.env };
  const r = spawnSync(process.env.BENCH_PYTHON ?? 'python3', [script, args], { encoding: 'utf8', timeout: 600_000, env });
  if (r.status !== 0) {
    console.log(`  PyTorch reference not run: ${(r.stderr || r.error?.message || '').trim().split('\n').at(-1)}`);
    return undefined;
  }
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, number>;
}

async function main(): Promise<void> {
  console.log(`engine benchmark: onnxruntime-node CPU, ${THREADS} intra-op threads, float32; PyTorch with OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY ?? 'PASSIVE'}`);
  // BENCH_CONFIG=SmolLM2 times only the configs whose name has that text (BENCH_CONFIG=none: only model-io).
  const named = process.env.BENCH_CONFIG;
  if (named === 'LoRA') return benchLora(THREADS);
  for (const cfg of ONLY_SAMPLING ? [] : CONFIGS.filter((c) => (named ? c.name.includes(named) : !c.onlyWhenNamed))) {
    const memory = { ...MEMORY, ...cfg.memory };
    console.log(`\n${cfg.name}, batch ${cfg.batch} x seq ${cfg.seq}, memory ${JSON.stringify(memory)}`);
    // First, while this process holds no model: each case runs in processes of its own.
    if (!ONLY_GENERATE && !ONLY_TRAIN && !cfg.grpoOnly) benchFirstStep({ model: cfg.model, gguf: cfg.gguf, batch: cfg.batch, seq: cfg.seq, newTokens: cfg.newTokens, threads: THREADS, steps: Math.min(cfg.steps, 3), memory });
    if (ONLY_FIRST_STEP) continue;
    const { parameters } = await trainer.init({ config: cfg.model, seed: 1, weights: cfg.weights?.(), device: { kind: 'cpu', threads: THREADS }, memory });
    console.log(`  parameters: ${(parameters / 1e6).toFixed(2)} M`);
    const batch = trainBatch(cfg.batch, cfg.seq);
    const figures: Record<string, number> = {};

    if (cfg.grpoOnly) {
      await grpoOnly(cfg, batch);
      continue;
    }
    if (!ONLY_GENERATE) {
      figures.sft = batch.tokens / (await timed(cfg.steps, batch.sftStep));
      figures.grpo = batch.tokens / (await timed(cfg.steps, await batch.grpoStep()));
    }
    if (!ONLY_TRAIN) figures.generateCached = await decodeTokensPerSecond(cfg.model, { kind: 'cpu', threads: THREADS }, { rows: cfg.batch, newTokens: cfg.newTokens, useCache: true });
    if (!ONLY_TRAIN && cfg.noCacheBatch > 0) figures.generateUncached = await decodeTokensPerSecond(cfg.model, { kind: 'cpu', threads: THREADS }, { rows: cfg.noCacheBatch, newTokens: cfg.newTokens, useCache: false });

    if (!ONLY_GENERATE) {
      console.log(`  SFT step:                ${figures.sft.toFixed(0)} tokens/s`);
      console.log(`  GRPO step (dapo):        ${figures.grpo.toFixed(0)} tokens/s`);
    }
    if (figures.generateCached) console.log(`  generation, KV cache:    ${figures.generateCached.toFixed(0)} tokens/s (${cfg.batch} rows x ${cfg.newTokens} new tokens)`);
    if (figures.generateUncached) {
      console.log(`  generation, no cache:    ${figures.generateUncached.toFixed(0)} tokens/s (${cfg.noCacheBatch} rows x ${cfg.newTokens} new tokens)`);
      console.log(`  KV cache vs recomputation: ${(figures.generateCached / figures.generateUncached).toFixed(1)}x tokens/s`);
    }
    console.log(`  peak RSS so far:         ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);

    const torch = ONLY_GENERATE ? undefined : torchReference(cfg);
    if (torch) {
      for (const k of ['sft', 'grpo', 'generateCached'] as const) {
        if (figures[k] === undefined) continue;
        console.log(`  PyTorch eager ${k}: ${torch[k].toFixed(0)} tokens/s; engine / PyTorch = ${(figures[k] / torch[k]).toFixed(2)}`);
      }
      console.log(`  PyTorch peak RSS:        ${torch.peakRssMiB.toFixed(0)} MiB`);
    }
  }
  if (!ONLY_GENERATE && !ONLY_TRAIN && !ONLY_FIRST_STEP) await benchSampling(THREADS);
  if (!ONLY_GENERATE && !ONLY_SAMPLING && !ONLY_TRAIN && !ONLY_FIRST_STEP) await benchModelIo(toolPath('smollm2'), { large: process.env.BENCH_LARGE !== '0' });
}

/** A config's GRPO step alone: the first step (graphs built, sessions made) and a steady one, and peak RSS. */
async function grpoOnly(cfg: BenchConfig, batch: TrainBatch): Promise<void> {
  const step = await batch.grpoStep();
  const first = await seconds(step);
  let steady = Infinity;
  for (let i = 0; i < cfg.steps; i++) steady = Math.min(steady, await seconds(step));
  console.log(`  GRPO step (dapo):        first ${first.toFixed(1)} s, steady ${steady.toFixed(1)} s (${(batch.tokens / steady).toFixed(0)} tokens/s)`);
  console.log(`  peak RSS:                ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
