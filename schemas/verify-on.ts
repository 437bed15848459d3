import type { RewardSpec } from './rewards';

/**
 * Where a GRPO phase scores its rollouts: its `verifyOn` when set, otherwise on the CPU queue
 * (where the code sandbox lives) when a code reward is in the spec, else in the rollout activity.
 * Free of zod, so that workflow code can call it.
 */
export function verifyOnOf(phase: { verifyOn?: 'rollout' | 'cpu'; rewards: RewardSpec }): 'rollout' | 'cpu' {
  return phase.verifyOn ?? (phase.rewards.some((r) => r.name === 'code') ? 'cpu' : 'rollout');
}
