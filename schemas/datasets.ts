import { z } from 'zod';
import { ArtifactRefSchema } from './refs';
import { CodeTestSchema } from './rewards';

/** One training or evaluation example. Which fields a phase needs depends on the phase. */
export const DatasetRowSchema = z.object({
  /** The question (SFT, GRPO, rejection sampling, distillation, eval). */
  prompt: z.string().optional(),
  /** The gold answer the verifier checks against. */
  answer: z.string().optional(),
  /** A full target response (`<think>...</think><answer>...</answer>`) for SFT. */
  completion: z.string().optional(),
  /** Plain text for pretraining. */
  text: z.string().optional(),
  /** Test cases for code tasks. */
  tests: z.array(CodeTestSchema).optional(),
});
export type DatasetRow = z.infer<typeof DatasetRowSchema>;

export const DatasetSourceSchema = z.discriminatedUnion('kind', [
  /** Rows written in the spec itself: handy for tests and tiny runs. */
  z.strictObject({ kind: z.literal('inline'), rows: z.array(DatasetRowSchema).min(1) }),
  /** A JSONL file already in the bucket. */
  z.strictObject({ kind: z.literal('s3'), uri: z.string().regex(/^s3:\/\/[^/]+\/.+/, 'must be s3://bucket/key') }),
]);
export type DatasetSource = z.infer<typeof DatasetSourceSchema>;
export type S3DatasetSource = Extract<DatasetSource, { kind: 's3' }>;

/** A dataset in S3 (JSONL, one row per line) as phases receive it. */
export const DatasetRefSchema = ArtifactRefSchema.extend({ rows: z.number().int().nonnegative() });
export type DatasetRef = z.infer<typeof DatasetRefSchema>;

/** Rejection sampling's (and distillation's) filter: which samples become the SFT set. */
/** A sampling run (workflows/sample-dataset.ts): the rollouts and scores of shards 0..shards-1 of `phase`, at their keys in schemas/layout.ts. */
export interface SampledRun {
  phase: string;
  shards: number;
}

export interface CurateInput {
  pipelineId: string;
  /** The dataset's name in storage (schemas/layout.ts). */
  name: string;
  prompts: DatasetRef;
  /** The samples to choose from: a sampling run's shards at their fixed keys. */
  samples: SampledRun;
  keepPerPrompt: number;
  general?: { dataset: DatasetRef; share: number };
  seed: number;
}

export interface CuratedDataset extends DatasetRef {
  /** Correct samples kept (the rest of `rows` is general data). */
  kept: number;
  promptsWithAny: number;
}
