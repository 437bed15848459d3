/**
 * Weighted composition of the rewards in a spec: reward = sum of weight * value.
 *
 * A reward that throws, returns a non-finite value or misses its deadline scores 0 with the cause
 * as its reason; the sample and the batch are still scored. The deadline stops waiting, it cannot
 * interrupt synchronous work: synchronous rewards bound themselves (math equivalence has its own
 * timeout) and a late code reward's sandboxes still end at their own wall limits.
 */
import type { RewardEntry, RewardName, RewardSpec, SampleScore, ScoreSample } from '../schemas/rewards';
import { accuracyReward } from './accuracy';
import { codeReward } from './code';
import { formatReward } from './format';
import { languageReward } from './language';
import { overlongReward } from './length';
import { createLimit } from './limit';

export interface RewardResult {
  value: number;
  reason: string;
  /** true: the trainer should leave this sample out of the loss. */
  mask?: boolean;
}

export type RewardFunctions = {
  [N in RewardName]: (sample: ScoreSample, entry: Extract<RewardEntry, { name: N }>) => RewardResult | Promise<RewardResult>;
};

function required<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new Error(`sample has no ${field}`);
  return value;
}

export const REWARD_FUNCTIONS: RewardFunctions = {
  accuracy: (sample, e) =>
    accuracyReward(sample.response, required(sample.gold, 'gold'), { sources: e.sources, relTol: e.relTol, absTol: e.absTol, timeoutMs: e.timeoutMs }),
  format: (sample) => formatReward(sample.response),
  language: (sample, e) => languageReward(sample.response, e.language),
  overlong: (sample, e) => overlongReward(sample, e),
  code: (sample, e) => codeReward(sample.response, required(sample.tests, 'tests'), e),
};

const DEFAULT_TIMEOUT_MS: Record<RewardName, number> = {
  accuracy: 5_000,
  format: 5_000,
  language: 5_000,
  overlong: 5_000,
  code: 120_000,
};

async function runReward(sample: ScoreSample, entry: RewardEntry, rewards: RewardFunctions): Promise<RewardResult> {
  // TypeScript cannot pair rewards[entry.name] with its own entry type; the table's type guarantees it.
  const reward = rewards[entry.name] as (sample: ScoreSample, entry: RewardEntry) => RewardResult | Promise<RewardResult>;
  const timeoutMs = entry.timeoutMs ?? DEFAULT_TIMEOUT_MS[entry.name];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const result = await Promise.race([Promise.resolve().then(() => reward(sample, entry)), deadline]);
    if (!Number.isFinite(result.value)) return { value: 0, reason: `returned a non-finite value (${result.value})` };
    return result;
  } catch (error) {
    return { value: 0, reason: `error: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    clearTimeout(timer);
  }
}

export async function scoreSample(sample: ScoreSample, spec: RewardSpec, rewards: RewardFunctions = REWARD_FUNCTIONS): Promise<SampleScore> {
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
  rewards: RewardFunctions = REWARD_FUNCTIONS,
): Promise<SampleScore[]> {
  const slot = createLimit(concurrency);
  return Promise.all(samples.map((sample) => slot(() => scoreSample(sample, spec, rewards))));
}
