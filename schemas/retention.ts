import { z } from 'zod';

/**
 * What a pipeline keeps in S3: the spec's `retention`, which the workflow applies as it goes and
 * `r1 gc` applies on demand. Without it nothing is deleted. With it, policy snapshots (the full
 * weights GRPO publishes for its rollouts every step) are deleted once no rollout can need them:
 * all but the newest while the phase runs, all once it is done. Of every run's checkpoints these
 * are kept: the newest (a finished phase's final checkpoint, a running one's resume point), the
 * last `keepLast` and those at multiples of `keepEvery` steps; without `keepLast`, all of them.
 * A deleted checkpoint's manifest stays as `manifest.retired.json`, so its lineage can be audited.
 */
export const RetentionSchema = z
  .strictObject({
    keepLast: z.number().int().positive().optional(),
    keepEvery: z.number().int().positive().optional(),
  })
  .refine((r) => r.keepEvery === undefined || r.keepLast !== undefined, {
    message: 'keepEvery keeps checkpoints that keepLast would delete: set keepLast too (without it every checkpoint is kept)',
    path: ['keepEvery'],
  });
export type Retention = z.infer<typeof RetentionSchema>;
