import { z } from 'zod';
import { CheckpointRefSchema, Sha256Schema } from './refs';
import { MetricsSchema } from './metrics';

export const ManifestFileSchema = z.object({
  name: z.string().min(1),
  key: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  sha256: Sha256Schema,
});
export type ManifestFile = z.infer<typeof ManifestFileSchema>;

/** Who wrote a checkpoint: the Temporal coordinates, for audit. */
export const ProducerSchema = z.object({
  workflowId: z.string(),
  runId: z.string(),
  activity: z.string(),
  attempt: z.number().int().positive().optional(),
});
export type Producer = z.infer<typeof ProducerSchema>;

/**
 * The last object written for a checkpoint. A checkpoint exists only once its manifest does;
 * every file it lists was written (and hashed) before it.
 */
export const CheckpointManifestSchema = z.object({
  formatVersion: z.literal(1),
  pipelineId: z.string().min(1),
  phase: z.string().min(1),
  step: z.number().int().nonnegative(),
  files: z.array(ManifestFileSchema).min(1),
  parent: CheckpointRefSchema.nullable(),
  producer: ProducerSchema,
  createdAt: z.string().datetime(),
  metrics: MetricsSchema,
});
export type CheckpointManifest = z.infer<typeof CheckpointManifestSchema>;
