import { z } from 'zod';
import type { DatasetRef, DatasetRow } from './datasets';
import type { Metrics } from './metrics';
import type { ArtifactRef, CheckpointRef } from './refs';
import { ScoreSampleSchema, type RewardSpec, type ScoreSample } from './rewards';
import type { PolicyRuntime } from './runtime';
import type { Sampling } from './sampling';

/** What the rewards check a response against: the reference fields of a score sample. */
export const ReferenceSchema = z.object({ gold: ScoreSampleSchema.shape.gold, tests: ScoreSampleSchema.shape.tests });
export type Reference = z.infer<typeof ReferenceSchema>;

/** A dataset row's reference, under the names the rewards read (the row's `answer` is the gold). */
export function referenceOf(row: DatasetRow): Reference {
  return { gold: row.answer, tests: row.tests };
}

/** One sampled completion, as stored in rollouts/<phase>/step-N/shard-K.jsonl (schemas/layout.ts). */
export const RolloutSchema = z.object({
  /** The dataset row it answers, and which of that row's samples it is. */
  row: z.number().int().nonnegative(),
  sample: z.number().int().nonnegative(),
  reference: ReferenceSchema,
  promptTokens: z.array(z.number().int()),
  tokens: z.array(z.number().int()),
  /** Behaviour log-probs, one per completion token. */
  logprobs: z.array(z.number()),
  text: z.string(),
  finishReason: z.enum(['eos', 'stop', 'length']),
});
export type Rollout = z.infer<typeof RolloutSchema>;

/** What the rewards score for a rollout: its text, its row's reference and its length. */
export function scoreSampleOf(rollout: Rollout): ScoreSample {
  return { response: rollout.text, ...rollout.reference, completionTokens: rollout.tokens.length, truncated: rollout.finishReason === 'length' };
}

/** Which prompts a rollout request samples. */
export type PromptSelection =
  /** This step's prompts, chosen by (seed, step) and split evenly over the shards (GRPO). */
  | { perStep: number }
  /** The dataset rows [from, to) (rejection sampling and distillation walk the whole set). */
  | { from: number; to: number };

/** One rollout activity: samples for one shard of prompts, stored (and, with `rewards`, scored) in S3. */
export interface RolloutRequest {
  pipelineId: string;
  /** The storage name of the sampling run: a phase, or one of its sub-runs (schemas/layout.ts). */
  phase: string;
  step: number;
  shard: number;
  shards: number;
  policy: CheckpointRef;
  dataset: DatasetRef;
  prompts: PromptSelection;
  samplesPerPrompt: number;
  sampling: Sampling;
  runtime: PolicyRuntime;
  /** When set, the shard is also scored where it was sampled (GRPO's `verifyOn: rollout`). */
  rewards?: RewardSpec;
}

/** A file of scores and the metrics of what it scored. */
export interface ScoredShard {
  ref: ArtifactRef;
  metrics: Metrics;
}

export interface RolloutResult {
  ref: ArtifactRef;
  samples: number;
  meanLength: number;
  /** The shard's scores, when the request asked for them. */
  scored?: ScoredShard;
  timings: Metrics;
}

/** Scores every rollout of a step (or chunk) on the CPU queue, where the code sandbox lives. */
export interface VerifyRequest {
  pipelineId: string;
  phase: string;
  step: number;
  rollouts: ArtifactRef[];
  rewards: RewardSpec;
}

/** Held-out evaluation of a policy: k samples per prompt over a whole dataset. */
export interface EvaluateRequest {
  policy: CheckpointRef;
  dataset: DatasetRef;
  samples: number;
  sampling: Sampling;
  rewards: RewardSpec;
  runtime: PolicyRuntime;
}
