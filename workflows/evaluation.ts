import type { Metrics } from '../schemas/metrics';
import type { EvalSettings } from '../schemas/pipeline-spec';
import type { RewardSpec } from '../schemas/rewards';
import type { CheckpointRef } from '../schemas/refs';
import { queues } from './activities';
import { policyRuntime, type PhaseContext } from './phase-input';

/** Held-out accuracy is the R1 reward without its shaping: answer correct, and format kept. */
export const EVAL_REWARDS: RewardSpec = [
  { name: 'accuracy', weight: 1 },
  { name: 'format', weight: 0 },
];

/** pass@1 over k samples, maj@k, format rate and mean length of `policy` on a held-out set. */
export function evaluatePolicy(input: PhaseContext, policy: CheckpointRef, settings: EvalSettings, label: string, rewards = EVAL_REWARDS): Promise<Metrics> {
  const { rollout } = queues(input.deployment);
  return rollout.evaluate.executeWithOptions({ summary: `${input.name}: evaluate ${label} on ${settings.dataset}` }, [
    {
      policy,
      dataset: input.datasets[settings.dataset],
      samples: settings.samples,
      sampling: settings.sampling,
      rewards,
      // Its own sampling stream: evaluation never draws the samples training drew.
      runtime: policyRuntime(input, input.spec.seed + 7919 * (input.index + 1)),
    },
  ]);
}
