import type { RewardEntry, ScoreSample } from '../schemas/rewards';
import { accuracyReward } from './accuracy';
import { formatReward } from './format';
import { languageReward } from './language';
import { overlongReward } from './length';

export interface RewardResult {
  value: number;
  reason: string;
  /** true: the trainer should leave this sample out of the loss. */
  mask?: boolean;
}

/** The rewards that only compute (no processes, no I/O): they run on the deadline pool's threads. */
export type CpuRewardName = Exclude<RewardEntry['name'], 'code'>;

export type CpuRewardFunctions = {
  [N in CpuRewardName]: (sample: ScoreSample, entry: Extract<RewardEntry, { name: N }>) => RewardResult;
};

export function required<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new Error(`sample has no ${field}`);
  return value;
}

export const CPU_REWARDS: CpuRewardFunctions = {
  accuracy: (sample, e) =>
    accuracyReward(sample.response, required(sample.gold, 'gold'), { sources: e.sources, relTol: e.relTol, absTol: e.absTol, timeoutMs: e.timeoutMs }),
  format: (sample) => formatReward(sample.response),
  language: (sample, e) => languageReward(sample.response, e.language),
  overlong: (sample, e) => overlongReward(sample, e),
};

export function isCpuReward(entry: RewardEntry): entry is Extract<RewardEntry, { name: CpuRewardName }> {
  return entry.name in CPU_REWARDS;
}

/** One CPU reward on one sample: the task the pool's workers run. */
export function runCpuReward({ sample, entry }: { sample: ScoreSample; entry: Extract<RewardEntry, { name: CpuRewardName }> }): RewardResult {
  // TypeScript cannot pair CPU_REWARDS[entry.name] with its own entry type; the table's type guarantees it.
  const reward = CPU_REWARDS[entry.name] as (sample: ScoreSample, entry: RewardEntry) => RewardResult;
  return reward(sample, entry);
}
