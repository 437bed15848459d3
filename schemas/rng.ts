import { z } from 'zod';

const uint32 = z.number().int().min(0).max(0xffffffff);

/**
 * The full state of the engine's random generator (xoshiro128**), as stored in a checkpoint's
 * state.json. Restoring it continues the exact same sequence, so a resumed run samples what an
 * uninterrupted one would have.
 */
export const rngStateSchema = z.strictObject({
  algorithm: z.literal('xoshiro128**'),
  s: z.tuple([uint32, uint32, uint32, uint32]),
});
export type RngState = z.infer<typeof rngStateSchema>;
