import { z } from 'zod';
import { modelConfigSchema } from './model';
import { DatasetSourceSchema, type S3DatasetSource } from './datasets';
import { GrpoConfigSchema } from './grpo';
import { LoraSchema } from './lora';
import { OptimizerSchema } from './optimizer';
import { RetentionSchema } from './retention';
import { RewardSpecSchema } from './rewards';
import { RuntimeSchema } from './runtime';
import { SamplingSchema } from './sampling';
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

const trainingLoop = {
  steps: positiveInt,
  batchSize: positiveInt,
  optimizer: OptimizerSchema,
  checkpointEvery: positiveInt.default(50),
};

/** A phase reads dataset names declared under `datasets`. */
const datasetName = z.string().min(1);

const EvalSettingsSchema = z.strictObject({
  dataset: datasetName,
  /** Samples per prompt: pass@1 is averaged over them and maj@k votes among them. */
  samples: positiveInt.default(4),
  sampling: SamplingSchema,
});
export type EvalSettings = z.infer<typeof EvalSettingsSchema>;

export const PretrainPhaseSchema = z.strictObject({
  kind: z.literal('pretrain'),
  dataset: datasetName,
  ...trainingLoop,
});

/**
 * A fine-tuning phase's `lora`: train low-rank adapters of the named projections on frozen weights
 * instead of every weight (PEFT's LoraConfig). A property of how the phase trains, as TRL takes a
 * peft_config per trainer; what the phase hands on (rollouts, eval, the next phase, export) is
 * the merged model.
 */
const loraOption = { lora: LoraSchema.optional() };

export const SftPhaseSchema = z.strictObject({
  kind: z.literal('sft'),
  dataset: datasetName,
  ...trainingLoop,
  ...loraOption,
  eval: EvalSettingsSchema.optional(),
});

export const GrpoPhaseSchema = z.strictObject({
  kind: z.literal('grpo'),
  dataset: datasetName,
  steps: positiveInt,
  promptsPerStep: positiveInt,
  /** Rollout activities per step; prompts are split evenly across them. */
  shards: positiveInt.default(1),
  sampling: SamplingSchema,
  grpo: GrpoConfigSchema,
  optimizer: OptimizerSchema,
  ...loraOption,
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

/**
 * How a phase that samples a whole dataset fans out (workflows/sample-dataset.ts): prompts per
 * rollout activity (a shard), shards in flight at once (Temporal allows 2,000 pending activities
 * in one workflow), and shards per child workflow (its history grows by about 6.3 events and
 * 3.2 KB a shard; Temporal warns at 10,240 events or 10 MB and ends a run at 51,200 or 50 MB).
 */
export const FanOutSchema = z.strictObject({
  promptsPerShard: positiveInt.default(32),
  shardsInFlight: positiveInt.max(1000).default(64),
  shardsPerPart: positiveInt.max(1500).default(500),
});
export type FanOut = z.infer<typeof FanOutSchema>;

export const RejectionSamplingPhaseSchema = z.strictObject({
  kind: z.literal('rejection-sampling'),
  dataset: datasetName,
  samplesPerPrompt: positiveInt,
  sampling: SamplingSchema,
  rewards: RewardSpecSchema,
  /** Correct samples kept per prompt after deduplication. */
  keepPerPrompt: positiveInt.default(1),
  /** Optional general (non-reasoning) SFT data mixed in, as a share of the final dataset. */
  general: z.strictObject({ dataset: datasetName, share: probability }).optional(),
  /** R1 retrains the base model (the last pretraining result, else the starting model); `current` fine-tunes the RL checkpoint instead. */
  sftFrom: z.enum(['base', 'current']).default('base'),
  sft: z.strictObject(trainingLoop),
  eval: EvalSettingsSchema.optional(),
  fanOut: FanOutSchema.default(FanOutSchema.parse({})),
});

export const ModelSourceSchema = z.union([
  /** A new model with random weights (the demo's tiny base models). */
  z.strictObject({ config: modelConfigSchema, seed: nonNegativeInt.default(0) }),
  /** An existing checkpoint: the manifest of a committed checkpoint. */
  z.strictObject({ checkpoint: z.string().regex(/^s3:\/\/[^/]+\/.+\/manifest\.json$/, 'must be the s3:// uri of a manifest.json') }),
]);
export type ModelSource = z.infer<typeof ModelSourceSchema>;

export const DistillPhaseSchema = z.strictObject({
  kind: z.literal('distill'),
  dataset: datasetName,
  samplesPerPrompt: positiveInt,
  sampling: SamplingSchema,
  rewards: RewardSpecSchema,
  /**
   * The student: a pretrained small model (`{ checkpoint }`, as R1 was distilled into Qwen2.5 and
   * Llama checkpoints), or a new one with random weights (`{ config }`) that learns only from the
   * teacher's solutions.
   */
  student: ModelSourceSchema,
  sft: z.strictObject(trainingLoop),
  eval: EvalSettingsSchema,
  fanOut: FanOutSchema.default(FanOutSchema.parse({})),
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

export const PipelineSpecSchema = z
  .strictObject({
    id: PipelineIdSchema.optional(),
    description: z.string().optional(),
    seed: nonNegativeInt.default(0),
    model: ModelSourceSchema,
    runtime: RuntimeSchema.default(RuntimeSchema.parse({})),
    datasets: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'dataset names are letters, digits, "_" or "-"'), DatasetSourceSchema),
    /** Run in order. A spec without phases only prepares and stores its datasets. */
    phases: z.array(PhaseSchema),
    /** What to keep in S3 as the pipeline goes (schemas/retention.ts); without it, everything. */
    retention: RetentionSchema.optional(),
    timeouts: z
      .strictObject({
        /**
         * A trainer or rollout worker silent this long is taken for dead and replaced. Workers
         * heartbeat every second from the event loop, which the engine never blocks (it runs on
         * threads of its own).
         */
        heartbeatSeconds: positiveInt.default(10),
      })
      .default({ heartbeatSeconds: 10 }),
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

/**
 * A spec as its pipeline receives it: the client (cli/datasets.ts) has uploaded the inline
 * datasets, so only refs travel through Temporal.
 */
export type StoredSpec = Omit<PipelineSpec, 'datasets'> & { datasets: Record<string, S3DatasetSource> };
export type PipelineSpecInput = z.input<typeof PipelineSpecSchema>;
