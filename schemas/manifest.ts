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

/** The engine that made a checkpoint's weights, as measured on its thread (engine/environment.ts). */
export const EngineEnvironmentSchema = z.object({
  /** The onnxruntime-node package version: the engine build. */
  onnxruntime: z.string(),
  executionProvider: z.enum(['cpu', 'cuda']),
  /** Intra-op threads as the spec set them; null: unset, onnxruntime runs one per physical core. */
  intraOpThreads: z.number().int().positive().nullable(),
  cpu: z.object({
    model: z.string(),
    /** The widest vector instructions onnxruntime's CPU kernels (MLAS) pick on this CPU: AVX-512F, AVX2+FMA3, AVX, SSE2, NEON. */
    isa: z.string(),
    /** Logical CPUs this process may run on. */
    cores: z.number().int().positive(),
  }),
  /** On CUDA: the device (nvidia-smi's view; `unknown` where it is not installed). */
  gpu: z.object({ deviceId: z.number().int().nonnegative(), name: z.string(), driver: z.string(), cuda: z.string() }).nullable(),
});
export type EngineEnvironment = z.infer<typeof EngineEnvironmentSchema>;

/** What produced a checkpoint: code, engine build, hardware and settings (schemas/provenance.ts prints it). */
export const ProducerEnvironmentSchema = z.object({
  /** This product's package version and git commit; commit and modified are null where git cannot tell (a deployed image). */
  product: z.object({ version: z.string(), commit: z.string().nullable(), modified: z.boolean().nullable() }),
  node: z.string(),
  /** Null for weights made without onnxruntime (a new model's random weights, in TypeScript from its seed). */
  engine: EngineEnvironmentSchema.nullable(),
  /** SHA-256 of the spec settings that made it (cli/spec-file.ts specHashes); null when its pipeline was started before they were recorded. */
  specHash: Sha256Schema.nullable(),
  /** Why a rerun with the same seed and spec may not give the same bits (more than one thread, GPU kernels); empty when nothing here stands in the way. */
  warnings: z.array(z.string()),
});
export type ProducerEnvironment = z.infer<typeof ProducerEnvironmentSchema>;

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
  /** Absent in manifests written before environments were recorded: those still load. */
  environment: ProducerEnvironmentSchema.optional(),
  createdAt: z.string().datetime(),
  metrics: MetricsSchema,
});
export type CheckpointManifest = z.infer<typeof CheckpointManifestSchema>;
