import { z } from 'zod';
import { Rng } from '../engine/rng';
import type { DatasetRow } from '../schemas/datasets';

/**
 * The demo's reasoning task: chains of arithmetic on small numbers, written with parentheses so
 * that they read left to right, e.g. `((7+5)*3)-4`. Done in one go, the answer needs every
 * intermediate value held at once; written out step by step (`first 7+5=12 then 12*3=36
 * then 36-4=32`), each step is one small sum a tiny model can learn. The level is the number of
 * operations.
 *
 * Split: a problem is held out when the hash of its prompt says so, whatever the seed or the
 * order of generation, so no training set (pretraining text included) can ever hold a held-out
 * problem.
 */

const count = z.number().int().nonnegative();

export const ChainTaskConfigSchema = z.strictObject({
  seed: count,
  /** Percent of all problems that belong to the held-out split. */
  heldoutPercent: z.number().int().min(1).max(99),
  /** Every value of a chain stays in 0..maxValue: fewer arithmetic facts for a small model to learn. */
  maxValue: z.number().int().min(20).max(99).default(99),
  /** Problems per level (index 0 = one operation) in each set; the sets never share a problem. */
  coldStart: z.array(count),
  /**
   * More cold-start problems per level, whose solutions state the answer without working it out
   * (`<think>at once</think>`), as habits from pretraining text might: the cold-start model then
   * does either, and GRPO has a strategy to find from the reward alone (working the steps out is
   * right far more often), the way R1-Zero came to think at length. Drawn after every other
   * set, so that none of them changes with it.
   */
  direct: z.array(count).default([]),
  prompts: z.array(count),
  heldout: z.array(count),
  /**
   * Prompts for distillation only (the teacher solves them, the student learns the verified
   * solutions), drawn after everything else so that the other sets do not change with it.
   */
  distill: z.array(count).default([]),
  /** Pretraining documents, drawn from these levels (problems may repeat, as in web text). */
  pretrain: z.strictObject({ documents: count, levels: z.array(z.number().int().positive()).min(1), taggedShare: z.number().min(0).max(1) }),
});
export type ChainTaskConfig = z.input<typeof ChainTaskConfigSchema>;

export interface ChainProblem {
  prompt: string;
  answer: string;
  /** One `a<op>b=c` per operation, in order. */
  steps: string[];
  level: number;
}

const OPERATIONS = {
  '+': (a: number, b: number) => a + b,
  '-': (a: number, b: number) => a - b,
  '*': (a: number, b: number) => a * b,
};
type Operation = keyof typeof OPERATIONS;

/**
 * The chain of thought of the cold-start examples: the steps, then the answer in its tag. The
 * words keep the language-consistency reward meaningful: a chain of thought without any scores 0.
 */
export function completionOf(problem: ChainProblem): string {
  return `<think>first ${problem.steps.join(' then ')}</think><answer>${problem.answer}</answer>`;
}

/** A cold-start solution that states the answer at once: the R1 format, no working. */
export function directCompletionOf(problem: ChainProblem): string {
  return `<think>at once</think><answer>${problem.answer}</answer>`;
}

/** Plain prose for pretraining: the same facts, no tags. */
export function statementOf(problem: ChainProblem): string {
  return `${problem.prompt} = ${problem.answer}, since ${problem.steps.join(' then ')}.`;
}

export function isHeldout(prompt: string, heldoutPercent: number): boolean {
  return fnv1a(prompt) % 100 < heldoutPercent;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function randomInt(rng: Rng, from: number, to: number): number {
  return from + Math.floor(rng.next() * (to - from + 1));
}

/** Operands are one digit, so every step is at most a two-digit by one-digit operation. */
export function randomProblem(rng: Rng, level: number, maxValue: number): ChainProblem {
  let value = randomInt(rng, 1, 20);
  let prompt = String(value);
  const steps: string[] = [];
  for (let i = 0; i < level; i++) {
    const operand = randomInt(rng, 2, 9);
    const allowed = (Object.keys(OPERATIONS) as Operation[]).filter((op) => {
      const next = OPERATIONS[op](value, operand);
      return next >= 0 && next <= maxValue;
    });
    // Some operation always fits: '+' keeps small values in range, '-' large ones.
    const op = allowed[Math.floor(rng.next() * allowed.length)];
    const next = OPERATIONS[op](value, operand);
    steps.push(`${value}${op}${operand}=${next}`);
    prompt = i === 0 ? `${prompt}${op}${operand}` : `(${prompt})${op}${operand}`;
    value = next;
  }
  return { prompt, answer: String(value), steps, level };
}

export interface ChainDatasets {
  coldStart: DatasetRow[];
  prompts: DatasetRow[];
  heldout: DatasetRow[];
  pretrain: DatasetRow[];
  distill: DatasetRow[];
}

function row(problem: ChainProblem, completion = completionOf(problem)): DatasetRow {
  return { prompt: problem.prompt, answer: problem.answer, completion };
}

/**
 * Every dataset of the demo from one seed. Train-side sets draw distinct problems from the
 * train split; the held-out set draws from the held-out split. Throws when a level cannot
 * supply the problems asked for. Sets are drawn in a fixed order (held-out, cold start, prompts,
 * pretraining text, distillation prompts, direct cold-start answers): a set never changes when a
 * later one does.
 */
export function generateChainDatasets(input: ChainTaskConfig): ChainDatasets {
  const config = ChainTaskConfigSchema.parse(input);
  const rng = new Rng(config.seed);
  const used = new Set<string>();
  const draw = (counts: number[], heldout: boolean, solve = completionOf): DatasetRow[] => {
    const rows: DatasetRow[] = [];
    counts.forEach((count, index) => {
      for (let found = 0, tries = 0; found < count; tries++) {
        if (tries > 10_000 * count) throw new Error(`level ${index + 1} has too few distinct problems for ${count} more`);
        const problem = randomProblem(rng, index + 1, config.maxValue);
        if (used.has(problem.prompt) || isHeldout(problem.prompt, config.heldoutPercent) !== heldout) continue;
        used.add(problem.prompt);
        rows.push(row(problem, solve(problem)));
        found++;
      }
    });
    return rows;
  };
  const heldout = draw(config.heldout, true);
  const coldStart = draw(config.coldStart, false);
  const prompts = draw(config.prompts, false);

  const pretrain: DatasetRow[] = [];
  const { documents, levels, taggedShare } = config.pretrain;
  while (pretrain.length < documents) {
    const problem = randomProblem(rng, levels[Math.floor(rng.next() * levels.length)], config.maxValue);
    if (isHeldout(problem.prompt, config.heldoutPercent)) continue;
    // A few worked solutions in the answer format, as a web corpus holds some: without them a
    // base model never writes the tags, and R1-Zero's rewards have nothing to reinforce.
    const text = rng.next() < taggedShare ? problem.prompt + completionOf(problem) : statementOf(problem);
    pretrain.push({ text });
  }
  const distill = draw(config.distill, false);
  coldStart.push(...draw(config.direct, false, directCompletionOf));
  return { coldStart, prompts, heldout, pretrain, distill };
}

/** The level of a prompt: its number of operations. */
export function levelOf(prompt: string): number {
  return (prompt.match(/[+\-*]/g) ?? []).length;
}
