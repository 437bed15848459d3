/**
 * Task queues by hardware. A worker process serves any set of them (`r1 worker --queues`):
 * orchestration runs workflow code, cpu runs verification and data work, compute runs rollouts
 * and training (GPU workers in production).
 */
export const TASK_QUEUES = {
  orchestration: 'r1-orchestration',
  cpu: 'r1-cpu',
  compute: 'r1-compute',
} as const;

export type QueueRole = keyof typeof TASK_QUEUES;
