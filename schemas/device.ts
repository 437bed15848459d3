import { z } from 'zod';

/** Where a worker runs the engine's onnxruntime sessions. */
export const deviceSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('cpu'),
    /** onnxruntime intra-op threads; onnxruntime picks one per physical core when unset. */
    threads: z.number().int().positive().optional(),
  }),
  z.strictObject({
    kind: z.literal('cuda'),
    deviceId: z.number().int().nonnegative().optional(),
  }),
]);
export type Device = z.infer<typeof deviceSchema>;
