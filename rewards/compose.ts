/**
 * Weighted composition of the rewards in a spec: reward = sum of weight * value.
 *
 * A reward that throws, returns a non-finite value or misses its deadline scores 0 with the cause
 * as its reason; the sample and the batch are still scored.
 *
 * Deadlines are hard: the rewards that only compute (accuracy, format, language, overlong) run
 * on a pool of worker threads (deadline-pool.ts), and a worker past the deadline is terminated,
 * synchronous work included. The code reward runs here: its one synchronous step, finding the
 * program, is a single linear scan of the response, and at the deadline its sandboxes are killed.
 * Reward functions passed in by a caller (tests) run on this thread, where the deadline only
 * stops waiting.
 */
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import type { RewardEntry, RewardName, RewardSpec, SampleScore, ScoreSample } from '../schemas/rewards';
import { codeReward } from './code';
import { CPU_REWARDS, isCpuReward, required, runCpuReward, type RewardResult } from './cpu-rewards';
import { DeadlinePool } from './deadline-pool';
import { createLimit } from './limit';

export type { RewardResult } from './cpu-rewards';

export type RewardFunctions = {
  [N in RewardName]: (
    sample: ScoreSample,
    entry: Extract<RewardEntry, { name: N }>,
    signal: AbortSignal,
  ) => RewardResult | Promise<RewardResult>;
};

export const REWARD_FUNCTIONS: RewardFunctions = {
  ...CPU_REWARDS,
  code: (sample, e, signal) => codeReward(sample.response, required(sample.tests, 'tests'), { ...e, signal }),
};

const DEFAULT_TIMEOUT_MS: Record<RewardName, number> = {
  accuracy: 5_000,
  format: 5_000,
  language: 5_000,
  overlong: 5_000,
  code: 120_000,
};

type CpuTask = Parameters<typeof runCpuReward>[0];
let pool: DeadlinePool<CpuTask, RewardResult> | undefined;

/** The shared pool, started on first use: one thread per core, at most 8. */
function rewardPool(): DeadlinePool<CpuTask, RewardResult> {
  pool ??= new DeadlinePool(path.join(__dirname, 'reward-worker.js'), Math.min(availableParallelism(), 8));
  return pool;
}

/** Runs `work` until it settles or the deadline passes; then the signal aborts and the result is a timeout error. */
async function withDeadline(timeoutMs: number, work: (signal: AbortSignal) => Promise<RewardResult>): Promise<RewardResult> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function runReward(sample: ScoreSample, entry: RewardEntry, rewards: RewardFunctions | undefined): Promise<RewardResult> {
  const timeoutMs = entry.timeoutMs ?? DEFAULT_TIMEOUT_MS[entry.name];
  try {
    let result: RewardResult;
    if (rewards === undefined && isCpuReward(entry)) {
      result = await rewardPool().run({ sample, entry }, timeoutMs);
    } else {
      // TypeScript cannot pair the table's function with its own entry type; the table's type guarantees it.
      const reward = (rewards ?? REWARD_FUNCTIONS)[entry.name] as (sample: ScoreSample, entry: RewardEntry, signal: AbortSignal) => RewardResult | Promise<RewardResult>;
      result = await withDeadline(timeoutMs, async (signal) => reward(sample, entry, signal));
    }
    if (!Number.isFinite(result.value)) return { value: 0, reason: `returned a non-finite value (${result.value})` };
    return result;
  } catch (error) {
    return { value: 0, reason: `error: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * Scores one sample with every reward of the spec. `rewards` replaces the built-in reward
 * functions (then all run on this thread); leave it out to get the built-ins under hard deadlines.
 */
export async function scoreSample(sample: ScoreSample, spec: RewardSpec, rewards?: RewardFunctions): Promise<SampleScore> {
  const results = await Promise.all(spec.map((entry) => runReward(sample, entry, rewards)));
  const score: SampleScore = { reward: 0, breakdown: {}, mask: false };
  spec.forEach((entry, i) => {
    const { value, reason, mask } = results[i];
    score.reward += entry.weight * value;
    score.breakdown[entry.name] = { value, weight: entry.weight, reason };
    score.mask ||= mask === true;
  });
  return score;
}

/** Scores samples with at most `concurrency` in flight; results keep the input order. */
export function scoreBatch(
  samples: ScoreSample[],
  spec: RewardSpec,
  { concurrency = 8 }: { concurrency?: number } = {},
  rewards?: RewardFunctions,
): Promise<SampleScore[]> {
  const slot = createLimit(concurrency);
  return Promise.all(samples.map((sample) => slot(() => scoreSample(sample, spec, rewards))));
}
