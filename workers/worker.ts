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

export interface WorkerGroup {
  workers: Worker[];
  /** Stops polling; trainers hand their phases over after the step under way (see TrainerHost.leave). */
  shutdown(): void;
  /** Frees the engines, once the workers have stopped. */
  close(): Promise<void>;
}

/**
 * The Temporal workers of one process, one per task queue it serves. Orchestration runs workflow
 * code only; cpu and compute run activities. A compute process also serves its own
 * worker-specific queue, where the phases it trains for send their steps.
 */
export async function createWorkers(options: WorkerOptions): Promise<WorkerGroup> {
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
      shutdownGraceTime: options.shutdownGraceTime ?? GRACE_MS,
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
  const shared = await Promise.all(queues);
  const trainerQueue = options.roles.includes('compute') ? await activityWorker(host.queue) : undefined;
  let stopping = false;
  return {
    workers: trainerQueue ? [...shared, trainerQueue] : shared,
    shutdown() {
      if (stopping) return;
      stopping = true;
      host.leave();
      for (const w of shared) w.shutdown();
      // The trainer queue is served a moment longer: a training call sent just before the signal
      // is answered "trainer leaving" at once, and its phase claims another trainer instead of
      // waiting for a timeout on a queue nobody serves.
      if (trainerQueue) void Promise.race([host.idle().then(() => sleep(TRAINER_LINGER_MS)), sleep(GRACE_MS)]).then(() => trainerQueue.shutdown());
    },
    async close() {
      await Promise.all([host.close(), pool.close()]);
    },
  };
}

const TRAINER_LINGER_MS = 2_000;
const GRACE_MS = 120_000;
// Unref'd: the grace timer that loses the race must not keep a stopped process alive for two minutes.
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** The signals that stop a worker process (installRuntime leaves them to us). */
const SHUTDOWN_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2'];

/** Runs the workers until they are shut down (by `group.shutdown()` or a signal), then frees the engines. */
export async function runWorkers(group: WorkerGroup): Promise<void> {
  const shutdown = () => group.shutdown();
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, shutdown);
  try {
    await Promise.all(group.workers.map((w) => w.run()));
  } finally {
    for (const signal of SHUTDOWN_SIGNALS) process.off(signal, shutdown);
    await group.close();
  }
}
