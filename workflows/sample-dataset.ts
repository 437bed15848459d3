import { subRun } from '../schemas/layout';
import type { ArtifactRef, CheckpointRef } from '../schemas/refs';
import type { RewardSpec } from '../schemas/rewards';
import type { Sampling } from '../schemas/sampling';
import { queues } from './activities';
import { policyRuntime, type PhaseContext } from './phase-input';

/** Rows per rollout activity when a whole dataset is sampled; the chunks run in parallel. */
const ROWS_PER_CHUNK = 32;

/**
 * k samples for every prompt of a dataset from `policy`, verified: the first half of rejection
 * sampling and of distillation. Returns the refs of the rollouts and of their scores, in order.
 */
export async function sampleDataset(
  input: PhaseContext,
  opts: { label: string; policy: CheckpointRef; dataset: string; samplesPerPrompt: number; sampling: Sampling; rewards: RewardSpec },
): Promise<{ rollouts: ArtifactRef[]; rewards: ArtifactRef[] }> {
  const dataset = input.datasets[opts.dataset];
  const { cpu, rollout } = queues(input.deployment);
  const phase = subRun.samples(input.name, opts.label);
  const chunks = Math.ceil(dataset.rows / ROWS_PER_CHUNK);
  const results = await Promise.all(
    Array.from({ length: chunks }, async (_, chunk) => {
      const from = chunk * ROWS_PER_CHUNK;
      const to = Math.min(from + ROWS_PER_CHUNK, dataset.rows);
      const rows = `rows ${from + 1}-${to}`;
      const generated = await rollout.generateRollouts.executeWithOptions({ summary: `${input.name}: ${opts.label} samples ${rows}` }, [
        {
          pipelineId: input.pipelineId,
          phase,
          step: 0,
          shard: chunk,
          shards: chunks,
          policy: opts.policy,
          dataset,
          prompts: { from, to },
          samplesPerPrompt: opts.samplesPerPrompt,
          sampling: opts.sampling,
          runtime: policyRuntime(input),
        },
      ]);
      const verified = await cpu.verifyRollouts.executeWithOptions({ summary: `${input.name}: verify ${opts.label} ${rows}` }, [
        { pipelineId: input.pipelineId, phase, step: chunk, rollouts: [generated.ref], rewards: opts.rewards },
      ]);
      return { rollout: generated.ref, reward: verified.ref };
    }),
  );
  return { rollouts: results.map((r) => r.rollout), rewards: results.map((r) => r.reward) };
}
