import { z } from 'zod';

const probability = z.number().min(0).max(1);

/** AdamW and its learning-rate schedule: linear warmup, then cosine decay (engine/schedule.ts). */
export const OptimizerSchema = z.strictObject({
  lr: z.number().positive(),
  warmupSteps: z.number().int().nonnegative().default(0),
  /** Cosine decay to this fraction of lr by the last step. */
  minLrRatio: probability.default(0.1),
  weightDecay: z.number().nonnegative().default(0),
  /** Below 1: Adam divides by 1 - beta^t. */
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  gradClip: z.number().positive().default(1),
});
export type Optimizer = z.infer<typeof OptimizerSchema>;
