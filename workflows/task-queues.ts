/**
 * Task queues by hardware. A worker process serves any set of them (`r1 worker --queues`):
 * orchestration runs workflow code, cpu runs verification and data work, compute runs rollouts
 * and training (GPU workers in production). Names are `<prefix><role>`; the prefix
 * (R1_TASK_QUEUE_PREFIX, default `r1-`) keeps deployments sharing a namespace apart; a pipeline
 * carries its prefix in its input, so its activities stay on its deployment's workers.
 */
export const QUEUE_ROLES = ['orchestration', 'cpu', 'compute'] as const;
export type QueueRole = (typeof QUEUE_ROLES)[number];

export const DEFAULT_TASK_QUEUE_PREFIX = 'r1-';

export function taskQueues(prefix: string): Record<QueueRole, string> {
  return { orchestration: `${prefix}orchestration`, cpu: `${prefix}cpu`, compute: `${prefix}compute` };
}
