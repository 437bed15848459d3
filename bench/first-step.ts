/**
 * Cold start, for `npm run bench:engine`: the first generation, SFT step and GRPO step of a new
 * engine beside a steady one, each in a fresh process (a trainer start or a new rollout engine),
 * twice: with an empty optimised-model cache (the first engine on a machine), then with the cache
 * the first process filled (every later one). The first of each includes building its graph and
 * creating its session. Run as a script, it is that child process and prints its figures as JSON.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openGguf } from '../engine/gguf-model';
import { readWeights } from '../engine/model-source';
import * as trainer from '../engine/trainer';
import { seconds } from './timed';
import { PROMPT_LEN, trainBatch } from './train-batch';
import type { ModelConfig } from '../schemas/model';
import type { Memory } from '../schemas/runtime';

export interface FirstStepCase {
  model: ModelConfig;
  /** A GGUF file to take the weights from; random weights otherwise. */
  gguf?: string;
  batch: number;
  seq: number;
  newTokens: number;
  threads: number;
  /** Steady steps timed after the first; the fastest counts, as in the rest of the bench. */
  steps: number;
  /** The trainer's memory settings (BENCH_MICRO_BATCH, BENCH_RECOMPUTE): micro-batches make a step run the gradient and apply graphs. */
  memory: Memory;
}

const KINDS = ['generation', 'sft', 'grpo'] as const;
type Figures = Record<(typeof KINDS)[number], { first: number; steady: number }>;

/** Runs the case in two fresh processes (empty cache, then the cache the first filled) and prints both. */
export function benchFirstStep(c: FirstStepCase): void {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-bench-session-cache-'));
  try {
    for (const label of ['empty cache', 'cache filled by the process before'] as const) {
      const r = spawnSync(process.execPath, [__filename, JSON.stringify(c)], {
        encoding: 'utf8', timeout: 1_800_000, env: { ...process.env, R1_SESSION_CACHE: cache }, maxBuffer: 1 << 24,
      });
      if (r.status !== 0) throw new Error(`first-step child failed: ${(r.stderr || r.error?.message || '').trim()}`);
      const figures = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Figures;
      console.log(`  first vs steady, new process, ${label}:`);
      for (const k of KINDS) {
        const { first, steady } = figures[k];
        console.log(`    ${k.padEnd(10)} first ${first.toFixed(2)} s, steady ${steady.toFixed(2)} s, first / steady ${(first / steady).toFixed(2)}`);
      }
    }
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
}

async function firstAndSteady(steps: number, f: () => Promise<unknown>): Promise<{ first: number; steady: number }> {
  const first = await seconds(f);
  let steady = Infinity;
  for (let i = 0; i < steps; i++) steady = Math.min(steady, await seconds(f));
  return { first, steady };
}

/** The child: a rollout engine's order (generation), then a trainer's (SFT, then GRPO). */
async function child(c: FirstStepCase): Promise<Figures> {
  // A real model's weights and tokenizer, as a rollout engine or trainer gets them from its checkpoint.
  const source = c.gguf ? openGguf(c.gguf) : undefined;
  try {
    const real = source && { weights: readWeights(source), assets: source.assets };
    await trainer.init({ config: c.model, seed: 1, ...real, device: { kind: 'cpu', threads: c.threads }, memory: c.memory });
  } finally {
    source?.close();
  }
  const batch = trainBatch(c.batch, c.seq);
  const prompts = batch.sequences.map((s) => s.slice(0, PROMPT_LEN));

  // Sampled with a fixed seed: every call makes the same tokens, so first and steady do the same work.
  const generation = await firstAndSteady(c.steps, () => trainer.generate(prompts, { maxNewTokens: c.newTokens, temperature: 1, seed: 7 }));
  const sft = await firstAndSteady(c.steps, batch.sftStep);
  const grpo = await firstAndSteady(c.steps, await batch.grpoStep());
  return { generation, sft, grpo };
}

if (require.main === module) {
  child(JSON.parse(process.argv[2]) as FirstStepCase).then(
    (figures) => console.log(JSON.stringify(figures)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
