import { z } from 'zod';

export const LossAggregationSchema = z.enum(['grpo', 'dapo', 'dr_grpo']);
export type LossAggregation = z.infer<typeof LossAggregationSchema>;

export const ScaleRewardsSchema = z.enum(['group', 'batch', 'none']);
export type ScaleRewards = z.infer<typeof ScaleRewardsSchema>;

/**
 * The GRPO algorithm's settings (DESIGN.md, "GRPO, precisely"), one object from the spec to the
 * engine's GRPO update (engine/grpo.ts), as TRL passes its GRPOConfig. A new knob goes here, into
 * the engine and into a test, and nowhere else. The defaults are ours; the README states them.
 */
export const GrpoConfigSchema = z.strictObject({
  /** Samples per prompt (G): each prompt's rewards are compared within its group. */
  groupSize: z.number().int().min(2),
  /** Clip range [1 - epsLow, 1 + epsHigh] of the probability ratio (DAPO's clip-higher). */
  epsLow: z.number().positive().lt(1).default(0.2),
  epsHigh: z.number().positive().default(0.28),
  /** Weight of the k3 KL to the reference policy. */
  beta: z.number().nonnegative().default(0),
  lossAggregation: LossAggregationSchema.default('dapo'),
  /** Advantages divided by the std of the group, of the batch, or not at all (Dr. GRPO). */
  scaleRewards: ScaleRewardsSchema.default('group'),
  /** Drop groups whose rewards are all equal (they carry no gradient). */
  dynamicSampling: z.boolean().default(false),
  /**
   * Policy updates on each batch of rollouts (μ in DeepSeekMath's GRPO, TRL's num_iterations).
   * Rollouts are the expensive part; after the first update the clip keeps the rest close.
   */
  iterations: z.number().int().positive().default(1),
  /** Optimizer steps per update: the batch is split into this many mini-batches. */
  miniBatches: z.number().int().positive().default(1),
});
export type GrpoConfig = z.infer<typeof GrpoConfigSchema>;
