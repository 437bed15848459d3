/**
 * The synthetic batch the engine benches train on (bench/engine.ts, first-step.ts, lora.ts,
 * gpu.ts) and the SFT and GRPO (dapo) steps they time on it, through the trainer module of this
 * process.
 */
import * as trainer from '../engine/trainer';
import { OptimizerSchema } from '../schemas/optimizer';

/** Prompt tokens of each sequence: the loss trains on the rest. */
export const PROMPT_LEN = 16;

/** A constant learning rate: every step is the schedule's first and last. */
const hp = { optimizer: OptimizerSchema.parse({ lr: 1e-4, weightDecay: 0.01, minLrRatio: 1 }), step: 1, totalSteps: 1 };

/** `n` sequences of `len` byte-range tokens from a seeded LCG: the same batch in every run. */
export function randomSequences(n: number, len: number, seed: number): Int32Array[] {
  let x = seed;
  const next = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % 256);
  return Array.from({ length: n }, () => Int32Array.from({ length: len }, next));
}

export interface TrainBatch {
  sequences: Int32Array[];
  mask: Uint8Array[];
  tokens: number;
  /** The SFT step on this batch; with `looped`, that many steps on it in one run (trainer.sftSteps). */
  sftStep: (looped?: number) => Promise<unknown>;
  /**
   * The GRPO step on this batch (with `looped`, as sftStep), its old log-probs taken under the
   * policy now (their own graph: call this outside what is timed, after the SFT steps as a phase would).
   */
  grpoStep: () => Promise<(looped?: number) => Promise<unknown>>;
}

export function trainBatch(batch: number, seq: number): TrainBatch {
  const sequences = randomSequences(batch, seq, 1);
  const mask = sequences.map((s) => Uint8Array.from(s, (_, j) => (j >= PROMPT_LEN ? 1 : 0)));
  return {
    sequences,
    mask,
    tokens: batch * seq,
    sftStep: (looped) => {
      const step = { batch: { sequences, lossMask: mask }, at: hp };
      return looped === undefined ? trainer.sftStep(step.batch, hp) : trainer.sftSteps(Array(looped).fill(step));
    },
    grpoStep: async () => {
      const old = await trainer.logprobs(sequences);
      const advantages = Float32Array.from(sequences, (_, i) => (i % 2 ? 1 : -1));
      const loss = { aggregation: 'dapo' as const, scalars: { epsLow: 0.2, epsHigh: 0.28, beta: 0.04, maxLen: 1 } };
      const step = { batch: { sequences, completionMask: mask, oldLogprobs: old, refLogprobs: old, advantages }, at: hp };
      return (looped) => (looped === undefined ? trainer.grpoStep(step.batch, loss, hp) : trainer.grpoSteps(Array(looped).fill(step), loss));
    },
  };
}
