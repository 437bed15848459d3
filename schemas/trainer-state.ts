import { z } from 'zod';
import { LoraSchema } from './lora';
import { rngStateSchema } from './rng';

/**
 * state.json of a trainer checkpoint (beside model.safetensors and, when the optimizer is saved,
 * optimizer.safetensors). Written and read by engine/checkpoint.ts.
 */
export const trainerStateFileSchema = z.strictObject({
  format: z.literal('r1-trainer-state/1'),
  /** The model config, as the model's own schema (schemas/model.ts) parses it. */
  config: z.unknown(),
  /** AdamW steps taken; present exactly when optimizer.safetensors is. */
  optimizerStep: z.number().int().nonnegative().optional(),
  rng: rngStateSchema.optional(),
  /** A LoRA phase's settings; its adapters are in adapter_model.safetensors. */
  lora: LoraSchema.optional(),
  /** Whatever else a phase needs to resume (data cursor, ...), kept opaque here. */
  extra: z.record(z.string(), z.unknown()).optional(),
});
export type TrainerStateFile = z.infer<typeof trainerStateFileSchema>;
