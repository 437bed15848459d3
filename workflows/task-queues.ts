import type { DeviceKind, DeviceNeed } from '../schemas/device';

/**
 * Task queues by role. A worker process serves any set of roles (`r1 worker --queues`):
 * orchestration runs workflow code, cpu runs verification and data work, rollout samples from
 * policies and train runs the trainers, so rollout and trainer machines scale apart. Rollout and
 * train queues come in one family per device kind (`<prefix>rollout-cuda`, `<prefix>train-cpu`):
 * a worker serves its own device's family, and a pipeline's rollouts and training each go to the
 * family its spec needs for them (`runtime.device`). The prefix (R1_TASK_QUEUE_PREFIX, default `r1-`) keeps deployments
 * sharing a namespace apart; a pipeline carries its prefix in its input, so its activities stay
 * on its deployment's workers.
 */
export const QUEUE_ROLES = ['orchestration', 'cpu', 'rollout', 'train'] as const;
export type QueueRole = (typeof QUEUE_ROLES)[number];

/** The queue of `role` in a deployment, for work that needs `device` (only rollout and train queues depend on it). */
export function taskQueue(prefix: string, role: QueueRole, device: DeviceNeed): string {
  return role === 'rollout' || role === 'train' ? `${prefix}${role}-${kindFor(device, role)}` : `${prefix}${role}`;
}

function kindFor(need: DeviceNeed, role: 'rollout' | 'train'): DeviceKind {
  return typeof need === 'string' ? need : need[role];
}
