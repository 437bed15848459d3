import type { Duration } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../activities';
import { ArtifactStore } from '../storage/artifact-store';
import { temporalEnv } from '../schemas/environment';
import { TASK_QUEUES, type QueueRole } from '../workflows/task-queues';

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
 * One Temporal worker per queue role, all in this process. The orchestration worker runs
 * workflow code only; cpu and compute workers run activities only.
 */
export async function createWorkers(options: WorkerOptions): Promise<Worker[]> {
  const store = options.store ?? ArtifactStore.fromEnv();
  const activities = createActivities(store);
  const namespace = temporalEnv().namespace;
  return Promise.all(
    options.roles.map((role) =>
      role === 'orchestration'
        ? Worker.create({
            connection: options.connection,
            namespace,
            taskQueue: TASK_QUEUES.orchestration,
            ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
          })
        : Worker.create({
            connection: options.connection,
            namespace,
            taskQueue: TASK_QUEUES[role],
            activities,
            shutdownGraceTime: options.shutdownGraceTime ?? '2 minutes',
          }),
    ),
  );
}

/** Runs the workers until one fails or the process is asked to stop (SIGINT/SIGTERM). */
export async function runWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.run()));
}
