import type { Duration } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../activities';
import { PolicyPool } from '../activities/policy-pool';
import { TrainerHost } from '../activities/trainer-host';
import { ArtifactStore } from '../storage/artifact-store';
import { temporalEnv } from '../schemas/environment';
import { taskQueues, type QueueRole } from '../workflows/task-queues';

export interface WorkerOptions {
  connection: NativeConnection;
  roles: QueueRole[];
  store?: ArtifactStore;
  /** How long in-flight activities get to finish (and checkpoint) when the worker stops. */
  shutdownGraceTime?: Duration;
  /** A prebuilt workflow bundle (tests build one and reuse it); by default the worker bundles workflows/. */
  workflowBundle?: WorkflowBundleWithSourceMap;
}

/**
 * The Temporal workers of one process, one per task queue it serves. Orchestration runs workflow
 * code only; cpu and compute run activities. A compute process also serves its own
 * worker-specific queue, where the phases it trains for send their steps.
 */
export async function createWorkers(options: WorkerOptions): Promise<{ workers: Worker[]; close(): Promise<void> }> {
  const store = options.store ?? ArtifactStore.fromEnv();
  const host = new TrainerHost();
  const pool = new PolicyPool(store);
  const activities = createActivities(store, host, pool);
  const { namespace, taskQueuePrefix } = temporalEnv();
  const names = taskQueues(taskQueuePrefix);
  const activityWorker = (taskQueue: string) =>
    Worker.create({
      connection: options.connection,
      namespace,
      taskQueue,
      activities,
      shutdownGraceTime: options.shutdownGraceTime ?? '2 minutes',
    });

  const queues: Promise<Worker>[] = options.roles.map((role) =>
    role === 'orchestration'
      ? Worker.create({
          connection: options.connection,
          namespace,
          taskQueue: names.orchestration,
          ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
        })
      : activityWorker(names[role]),
  );
  if (options.roles.includes('compute')) queues.push(activityWorker(host.queue));
  const workers = await Promise.all(queues);
  return {
    workers,
    async close() {
      await Promise.all([host.close(), pool.close()]);
    },
  };
}

/** Runs the workers until they are shut down (SIGINT/SIGTERM), then frees the engines. */
export async function runWorkers(group: { workers: Worker[]; close(): Promise<void> }): Promise<void> {
  try {
    await Promise.all(group.workers.map((w) => w.run()));
  } finally {
    await group.close();
  }
}
