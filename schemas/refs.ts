import { z } from 'zod';

export const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256');

/** A pointer to one object in S3 with its content hash: the only form data takes in Temporal payloads. */
export const ArtifactRefSchema = z.object({
  uri: z.string().regex(/^s3:\/\/[^/]+\/.+/, 'must be s3://bucket/key'),
  sha256: Sha256Schema,
  bytes: z.number().int().nonnegative(),
});
export type ArtifactRef = z.infer<typeof ArtifactRefSchema>;

/** A complete checkpoint: the ref of its manifest plus where it sits in the run. */
export const CheckpointRefSchema = ArtifactRefSchema.extend({
  pipelineId: z.string().min(1),
  phase: z.string().min(1),
  step: z.number().int().nonnegative(),
});
export type CheckpointRef = z.infer<typeof CheckpointRefSchema>;
