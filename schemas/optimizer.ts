import { z } from 'zod';

const probability = z.number().min(0).max(1);

/** AdamW and its learning-rate schedule: linear warmup, then cosine decay (engine/schedule.ts). */
export const OptimizerSchema = z.strictObject({
  lr: z.number().positive(),
  warmupSteps: z.number().int().nonnegative().default(0),
  /** Cosine decay to this fraction of lr by the last step. */
  minLrRatio: probability.default(0.1),
  weightDecay: z.number().nonnegative().default(0),
  beta1: probability.default(0.9),
  beta2: probability.default(0.999),
  gradClip: z.number().positive().default(1),
});
export type Optimizer = z.infer<typeof OptimizerSchema>;
