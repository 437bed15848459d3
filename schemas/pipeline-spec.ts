import { z } from 'zod';
import { modelConfigSchema } from './model';
import { deviceSchema } from './device';
import { chatTemplateNameSchema } from './chat-template';
import { CodeTestSchema, RewardSpecSchema } from './rewards';
import { verifyOnOf } from './verify-on';

/**
 * The pipeline spec: what a user writes (YAML or JSON) and `r1 start` validates before anything
 * runs. Every type the product uses for a run is inferred from here.
 */

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const probability = z.number().min(0).max(1);

/** Ids become workflow ids and S3 key segments, so they stay plain. */
export const PipelineIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit');

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

export const OptimizerSchema = z.strictObject({
  lr: z.number().positive(),
  warmupSteps: nonNegativeInt.default(0),
  /** Cosine decay to this fraction of lr by the last step. */
  minLrRatio: probability.default(0.1),
  weightDecay: z.number().nonnegative().default(0),
  beta1: probability.default(0.9),
  beta2: probability.default(0.999),
  gradClip: z.number().positive().default(1),
});

export type Optimizer = z.infer<typeof OptimizerSchema>;

const trainingLoop = {
  steps: positiveInt,
  batchSize: positiveInt,
  optimizer: OptimizerSchema,
  checkpointEvery: positiveInt.default(50),
};

const sampling = {
  maxNewTokens: positiveInt,
  temperature: z.number().nonnegative().default(1),
  topP: z.number().gt(0).max(1).default(1),
  topK: nonNegativeInt.default(0),
};

/** A phase reads dataset names declared under `datasets`. */
const datasetName = z.string().min(1);

const EvalSettingsSchema = z.strictObject({
  dataset: datasetName,
  /** Samples per prompt: pass@1 is averaged over them and maj@k votes among them. */
  samples: positiveInt.default(4),
  ...sampling,
});

export const PretrainPhaseSchema = z.strictObject({
  kind: z.literal('pretrain'),
  dataset: datasetName,
  ...trainingLoop,
});

export const SftPhaseSchema = z.strictObject({
  kind: z.literal('sft'),
  dataset: datasetName,
  ...trainingLoop,
  eval: EvalSettingsSchema.optional(),
});

export const GrpoPhaseSchema = z.strictObject({
  kind: z.literal('grpo'),
  dataset: datasetName,
  steps: positiveInt,
  promptsPerStep: positiveInt,
  groupSize: z.number().int().min(2),
  /** Rollout activities per step; prompts are split evenly across them. */
  shards: positiveInt.default(1),
  ...sampling,
  optimizer: OptimizerSchema,
  epsLow: z.number().positive().default(0.2),
  epsHigh: z.number().positive().default(0.28),
  beta: z.number().nonnegative().default(0),
  lossAggregation: z.enum(['grpo', 'dapo', 'dr_grpo']).default('dapo'),
  scaleRewards: z.enum(['group', 'batch', 'none']).default('group'),
  /** Drop groups whose rewards are all equal (they carry no gradient). */
  dynamicSampling: z.boolean().default(false),
  /**
   * Policy updates on each batch of rollouts (μ in DeepSeekMath's GRPO, TRL's num_iterations).
   * Rollouts are the expensive part; after the first update the clip keeps the rest close.
   */
  iterations: positiveInt.default(1),
  /** Optimizer steps per update: the batch is split into this many mini-batches. */
  miniBatches: positiveInt.default(1),
  rewards: RewardSpecSchema,
  /**
   * Where each step's rollouts are scored: `rollout` inside the rollout activity that sampled them
   * (no extra activity per step), `cpu` in a verification activity on the CPU queue (where the code
   * sandbox lives). By default `cpu` when a code reward is in the spec, `rollout` otherwise.
   */
  verifyOn: z.enum(['rollout', 'cpu']).optional(),
  /**
   * Colocated rollouts (verl's hybrid engine): the trainer samples each next step's rollouts
   * itself, with the weights it just made, in the same activity as the training step. One
   * activity and one workflow task per step instead of two, for a single compute worker; rollout
   * workers are then not used. Needs `shards: 1` and scoring in the rollout activity.
   */
  colocate: z.boolean().default(false),
  checkpointEvery: positiveInt.default(10),
  evalEvery: nonNegativeInt.default(0),
  eval: EvalSettingsSchema.optional(),
  /** Steps per workflow run before continue-as-new; by default, when Temporal suggests it. */
  continueAsNewEvery: positiveInt.optional(),
}).superRefine((p, ctx) => {
  if (!p.colocate) return;
  if (p.shards !== 1) ctx.addIssue({ code: 'custom', path: ['colocate'], message: `the trainer samples colocated rollouts alone: shards must be 1, not ${p.shards}` });
  if (verifyOnOf(p) === 'cpu') ctx.addIssue({ code: 'custom', path: ['colocate'], message: 'colocated rollouts are scored where they are sampled: not with verifyOn cpu (the default with a code reward)' });
});

export const RejectionSamplingPhaseSchema = z.strictObject({
  kind: z.literal('rejection-sampling'),
  dataset: datasetName,
  samplesPerPrompt: positiveInt,
  ...sampling,
  rewards: RewardSpecSchema,
  /** Correct samples kept per prompt after deduplication. */
  keepPerPrompt: positiveInt.default(1),
  /** Optional general (non-reasoning) SFT data mixed in, as a share of the final dataset. */
  general: z.strictObject({ dataset: datasetName, share: probability }).optional(),
  /** R1 retrains the base model (the last pretraining result, else the starting model); `current` fine-tunes the RL checkpoint instead. */
  sftFrom: z.enum(['base', 'current']).default('base'),
  sft: z.strictObject(trainingLoop),
  eval: EvalSettingsSchema.optional(),
});

export const ModelSourceSchema = z.union([
  /** A new model with random weights (the demo's tiny base models). */
  z.strictObject({ config: modelConfigSchema, seed: nonNegativeInt.default(0) }),
  /** An existing checkpoint: the manifest of a committed checkpoint. */
  z.strictObject({ checkpoint: z.string().regex(/^s3:\/\/[^/]+\/.+\/manifest\.json$/, 'must be the s3:// uri of a manifest.json') }),
]);

export const DistillPhaseSchema = z.strictObject({
  kind: z.literal('distill'),
  dataset: datasetName,
  samplesPerPrompt: positiveInt,
  ...sampling,
  rewards: RewardSpecSchema,
  /**
   * The student: a pretrained small model (`{ checkpoint }`, as R1 was distilled into Qwen2.5 and
   * Llama checkpoints), or a new one with random weights (`{ config }`) that learns only from the
   * teacher's solutions.
   */
  student: ModelSourceSchema,
  sft: z.strictObject(trainingLoop),
  eval: EvalSettingsSchema,
});

export const EvalPhaseSchema = z.strictObject({
  kind: z.literal('eval'),
  ...EvalSettingsSchema.shape,
  rewards: RewardSpecSchema,
});

export const PhaseSchema = z.discriminatedUnion('kind', [
  PretrainPhaseSchema,
  SftPhaseSchema,
  GrpoPhaseSchema,
  RejectionSamplingPhaseSchema,
  DistillPhaseSchema,
  EvalPhaseSchema,
]);
export type Phase = z.infer<typeof PhaseSchema>;
export type PhaseKind = Phase['kind'];

export const TokenizerSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('byte') }),
  /** A Hugging Face tokenizer.json, read by the workers from this path. */
  z.strictObject({ kind: z.literal('hf'), path: z.string().min(1) }),
]);

export const PipelineSpecSchema = z
  .strictObject({
    id: PipelineIdSchema.optional(),
    description: z.string().optional(),
    seed: nonNegativeInt.default(0),
    model: ModelSourceSchema,
    tokenizer: TokenizerSchema.default({ kind: 'byte' }),
    chatTemplate: chatTemplateNameSchema.default('r1'),
    datasets: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'dataset names are letters, digits, "_" or "-"'), DatasetSourceSchema),
    /** Run in order. A spec without phases only prepares and stores its datasets. */
    phases: z.array(PhaseSchema),
    compute: z.strictObject({ device: deviceSchema }).default({ device: { kind: 'cpu' } }),
    timeouts: z
      .strictObject({
        /** A trainer or rollout worker silent this long is taken for dead and replaced. */
        heartbeatSeconds: positiveInt.default(30),
      })
      .default({ heartbeatSeconds: 30 }),
  })
  .superRefine((spec, ctx) => {
    const declared = new Set(Object.keys(spec.datasets));
    spec.phases.forEach((phase, i) => {
      const uses: [string, string | undefined][] = [
        ['dataset', phase.dataset],
        ['eval.dataset', 'eval' in phase && phase.eval && 'dataset' in phase.eval ? phase.eval.dataset : undefined],
        ['general.dataset', phase.kind === 'rejection-sampling' ? phase.general?.dataset : undefined],
      ];
      for (const [field, name] of uses) {
        if (name !== undefined && !declared.has(name)) {
          ctx.addIssue({ code: 'custom', path: ['phases', i, ...field.split('.')], message: `dataset "${name}" is not declared under datasets` });
        }
      }
    });
  });
export type PipelineSpec = z.infer<typeof PipelineSpecSchema>;
export type PipelineSpecInput = z.input<typeof PipelineSpecSchema>;
