import { parentPort } from 'node:worker_threads';
import { serveTasks } from '../../rewards/deadline-pool';

/** The worker of deadline-pool.test.ts: tasks that spin forever, busy-wait a while, or throw. */
export type BlockingTask = { kind: 'spin' } | { kind: 'busy'; ms: number; value: number } | { kind: 'throw'; message: string };

serveTasks(parentPort!, (task: BlockingTask) => {
  if (task.kind === 'throw') throw new Error(task.message);
  const until = task.kind === 'spin' ? Infinity : performance.now() + task.ms;
  while (performance.now() < until); // synchronous: only terminating the thread can stop it
  return task.kind === 'busy' ? task.value : null;
});
