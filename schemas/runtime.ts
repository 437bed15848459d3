import { z } from 'zod';
import { chatTemplateNameSchema } from './chat-template';
import { deviceNeedSchema } from './device';

export const TokenizerSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('byte') }),
  /** A Hugging Face tokenizer.json, read by the workers from this path. */
  z.strictObject({ kind: z.literal('hf'), path: z.string().min(1) }),
]);
export type TokenizerSpec = z.infer<typeof TokenizerSchema>;

/** How a pipeline's engines read and write text, and what they run on: the spec's `runtime`. */
export const RuntimeSchema = z.strictObject({
  /** How a prompt is wrapped before the model sees it. */
  chatTemplate: chatTemplateNameSchema.default('r1'),
  tokenizer: TokenizerSchema.default({ kind: 'byte' }),
  /** The hardware its rollouts and training need; which GPU and how many threads is each worker's own setting. */
  device: deviceNeedSchema.default('cpu'),
});
export type Runtime = z.infer<typeof RuntimeSchema>;

/**
 * What every engine of a phase is started with, travelling whole from the workflow to the engine:
 * the spec's runtime and the phase's seed, which orders its data and seeds its random generator.
 */
export interface PolicyRuntime extends Runtime {
  seed: number;
}
