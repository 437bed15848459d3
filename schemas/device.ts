import { z } from 'zod';

export const DEVICE_KINDS = ['cpu', 'cuda'] as const;
export const deviceKindSchema = z.enum(DEVICE_KINDS);
export type DeviceKind = z.infer<typeof deviceKindSchema>;

/**
 * What a pipeline's engines need: the spec's `runtime.device`, one kind for rollouts and training
 * alike, or each its own (`{ rollout: cpu, train: cuda }`: GPU trainers, CPU samplers). It picks
 * the families of task queues they go to, so only workers with that hardware take them.
 */
export const deviceNeedSchema = z.union([deviceKindSchema, z.strictObject({ rollout: deviceKindSchema, train: deviceKindSchema })], {
  error:
    'must be "cpu", "cuda" or { rollout: cpu|cuda, train: cpu|cuda }: what the engines need; a worker\'s own device and threads are set where it starts (r1 worker --device cpu|cuda:N --threads N)',
});
export type DeviceNeed = z.infer<typeof deviceNeedSchema>;

/** Where a worker runs its engines' onnxruntime sessions: its own hardware (`r1 worker --device --threads`). */
export const deviceSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('cpu'),
    /** onnxruntime intra-op threads per engine; onnxruntime picks one per physical core when unset. */
    threads: z.number().int().positive().optional(),
  }),
  z.strictObject({
    kind: z.literal('cuda'),
    deviceId: z.number().int().nonnegative().optional(),
  }),
]);
export type Device = z.infer<typeof deviceSchema>;
