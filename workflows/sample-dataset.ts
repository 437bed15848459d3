import { executeChild } from '@temporalio/workflow';
import type { SampledRun } from '../schemas/datasets';
import { samplingWorkflowId, subRun } from '../schemas/layout';
import type { FanOut } from '../schemas/pipeline-spec';
import type { CheckpointRef } from '../schemas/refs';
import type { RewardSpec } from '../schemas/rewards';
import type { Sampling } from '../schemas/sampling';
import { queues } from './activities';
import { policyRuntime, type PhaseContext } from './phase-input';
import { R1Phase, R1Pipeline } from './search-attributes';

export interface SampleOptions {
  label: string;
  policy: CheckpointRef;
  dataset: string;
  samplesPerPrompt: number;
  sampling: Sampling;
  rewards: RewardSpec;
  fanOut: FanOut;
}

/**
 * k samples for every prompt of a dataset from `policy`, verified: the first half of rejection
 * sampling and of distillation. The dataset is cut into shards of `fanOut.promptsPerShard`
 * prompts, the shards into parts of `fanOut.shardsPerPart`, and each part is a child workflow run
 * one after the other; so a phase over millions of prompts keeps every history small and never has
 * more than `fanOut.shardsInFlight` activities pending. Shards land at fixed keys of the run
 * (schemas/layout.ts), where the next step reads them: a phase restarted after a failure samples
 * only the shards that are not there yet.
 */
export async function sampleDataset(input: PhaseContext, opts: SampleOptions): Promise<SampledRun> {
  const rows = input.datasets[opts.dataset].rows;
  const shards = Math.ceil(rows / opts.fanOut.promptsPerShard);
  for (let from = 0, part = 0; from < shards; from += opts.fanOut.shardsPerPart, part++) {
    const to = Math.min(shards, from + opts.fanOut.shardsPerPart);
    await executeChild(sampleShards, {
      workflowId: samplingWorkflowId(input.pipelineId, input.name, opts.label, part),
      args: [{ context: input, opts, shards: { from, to } }],
      typedSearchAttributes: [
        { key: R1Pipeline, value: input.pipelineId },
        { key: R1Phase, value: input.name },
      ],
      staticSummary: `${input.name}: ${opts.label} samples, shards ${from + 1}-${to} of ${shards}`,
    });
  }
  return { phase: subRun.samples(input.name, opts.label), shards };
}

export interface SampleShardsInput {
  context: PhaseContext;
  opts: SampleOptions;
  /** Shard numbers [from, to). */
  shards: { from: number; to: number };
}

/** One part of a fan-out: its shards not sampled yet, at most `shardsInFlight` at a time, each sampled then verified. */
export async function sampleShards({ context: input, opts, shards }: SampleShardsInput): Promise<void> {
  const { cpu, rollout } = queues(input.deployment);
  const dataset = input.datasets[opts.dataset];
  const phase = subRun.samples(input.name, opts.label);
  const done = new Set(
    await cpu.findSampledShards.executeWithOptions({ summary: `${input.name}: ${opts.label} shards already sampled` }, [
      { pipelineId: input.pipelineId, phase, from: shards.from, to: shards.to },
    ]),
  );
  const todo: number[] = [];
  for (let s = shards.from; s < shards.to; s++) if (!done.has(s)) todo.push(s);

  const sampleShard = async (shard: number) => {
    const from = shard * opts.fanOut.promptsPerShard;
    const to = Math.min(from + opts.fanOut.promptsPerShard, dataset.rows);
    const rows = `rows ${from + 1}-${to}`;
    const generated = await rollout.generateRollouts.executeWithOptions({ summary: `${input.name}: ${opts.label} samples ${rows}` }, [
      {
        pipelineId: input.pipelineId,
        phase,
        step: 0,
        shard,
        shards: Math.ceil(dataset.rows / opts.fanOut.promptsPerShard),
        policy: opts.policy,
        dataset,
        prompts: { from, to },
        samplesPerPrompt: opts.samplesPerPrompt,
        sampling: opts.sampling,
        runtime: policyRuntime(input),
      },
    ]);
    await cpu.verifyRollouts.executeWithOptions({ summary: `${input.name}: verify ${opts.label} ${rows}` }, [
      { pipelineId: input.pipelineId, phase, step: shard, rollouts: [generated.ref], rewards: opts.rewards },
    ]);
  };
  // A window: each lane takes the next shard when its last one is verified.
  let next = 0;
  const lane = async () => {
    while (next < todo.length) await sampleShard(todo[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(opts.fanOut.shardsInFlight, todo.length) }, lane));
}
