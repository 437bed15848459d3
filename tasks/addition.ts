import { z } from 'zod';
import { Rng } from '../engine/rng';
import type { DatasetRow } from '../schemas/datasets';

/**
 * The task of `r1 demo --preset smol`: sums of two numbers, asked in words, for a small real
 * model in its own chat format (SmolLM2-135M-Instruct adds small numbers right some of the time).
 * The answer goes in `\boxed{}`, where the accuracy reward looks for it; the cold-start
 * completions show that form once, as R1's cold start does for its format.
 */
export const AdditionTaskConfigSchema = z.strictObject({
  seed: z.number().int().nonnegative(),
  /** Operands are drawn from 1..maxOperand. */
  maxOperand: z.number().int().min(2).max(9999),
  coldStart: z.number().int().nonnegative(),
  prompts: z.number().int().positive(),
  heldout: z.number().int().positive(),
});
export type AdditionTaskConfig = z.infer<typeof AdditionTaskConfigSchema>;

export interface AdditionDatasets {
  coldStart: DatasetRow[];
  prompts: DatasetRow[];
  heldout: DatasetRow[];
}

export const additionPrompt = (a: number, b: number) => `What is ${a} + ${b}?`;
export const additionCompletion = (a: number, b: number) => `${a} + ${b} = ${a + b}. The answer is \\boxed{${a + b}}.`;

/** Distinct problems for the three sets: no held-out problem is ever trained on. */
export function generateAdditionDatasets(config: AdditionTaskConfig): AdditionDatasets {
  const total = config.coldStart + config.prompts + config.heldout;
  if (total > config.maxOperand * config.maxOperand) throw new Error(`${total} distinct problems do not exist with operands up to ${config.maxOperand}`);
  const rng = new Rng(config.seed);
  const seen = new Set<string>();
  const rows: DatasetRow[] = [];
  while (rows.length < total) {
    const a = 1 + Math.floor(rng.next() * config.maxOperand);
    const b = 1 + Math.floor(rng.next() * config.maxOperand);
    if (seen.has(`${a}+${b}`)) continue;
    seen.add(`${a}+${b}`);
    rows.push({ prompt: additionPrompt(a, b), answer: String(a + b), completion: additionCompletion(a, b) });
  }
  return {
    coldStart: rows.slice(0, config.coldStart),
    prompts: rows.slice(config.coldStart, config.coldStart + config.prompts),
    heldout: rows.slice(config.coldStart + config.prompts),
  };
}
