import { z } from 'zod';

/** How completions are sampled: one object from the spec to the engine's generate(). */
export const SamplingSchema = z.strictObject({
  maxNewTokens: z.number().int().positive(),
  temperature: z.number().nonnegative().default(1),
  topP: z.number().gt(0).max(1).default(1),
  topK: z.number().int().nonnegative().default(0),
});
export type Sampling = z.infer<typeof SamplingSchema>;
