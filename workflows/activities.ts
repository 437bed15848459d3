import { ActivityFailure, ApplicationFailure, CancelledFailure, proxyActivities, TimeoutFailure, log, type RetryPolicy } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { taskQueues } from './task-queues';

/**
 * Activity stubs by task queue. Failures that retrying cannot fix (bad data, corrupt or
 * mismatched checkpoints) are named here and fail the phase at once with their message.
 */
export const NON_RETRYABLE = [
  'ChecksumMismatchError',
  'ArtifactNotFoundError',
  'CheckpointShapeError',
  'NoCorrectSamplesError',
  'SpecError',
];

const retry: RetryPolicy = { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE };

/** Where a pipeline's activities run, carried in every workflow's input. */
export interface Deployment {
  /** The deployment's task queues are `<prefix>cpu`, `<prefix>compute`, ... */
  taskQueuePrefix: string;
  /** A worker silent this long (the spec's timeouts.heartbeatSeconds) is taken for dead. */
  heartbeatSeconds: number;
}

/** The shared queues' activities of a deployment. */
export function queues(deployment: Deployment) {
  const heartbeatTimeout = deployment.heartbeatSeconds * 1000;
  const names = taskQueues(deployment.taskQueuePrefix);
  return {
    cpu: proxyActivities<Activities>({ taskQueue: names.cpu, startToCloseTimeout: '30 minutes', heartbeatTimeout, retry }),
    compute: proxyActivities<Activities>({ taskQueue: names.compute, startToCloseTimeout: '2 hours', heartbeatTimeout, retry }),
  };
}

/** Activities of one trainer process, through its own queue. Not retried there: a lost trainer is replaced instead. */
function trainerAt(queue: string, heartbeatTimeout: number) {
  return proxyActivities<Activities>({
    taskQueue: queue,
    startToCloseTimeout: '6 hours',
    // A trainer that stopped polling never picks the task up; claim another instead of waiting.
    scheduleToStartTimeout: Math.max(10, 2 * heartbeatTimeout) * 1000,
    heartbeatTimeout: heartbeatTimeout * 1000,
    retry: { ...retry, maximumAttempts: 1 },
  });
}

/** The trainer process died (timeouts) or was shut down under the step (cancelled by its worker). */
function trainerLost(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  const cause = err.cause;
  return cause instanceof TimeoutFailure || cause instanceof CancelledFailure || (cause instanceof ApplicationFailure && /WORKER_SHUTDOWN|CancelledFailure/.test(`${cause.type} ${cause.message}`));
}

/**
 * The trainer of a phase: steps go to the process that holds its weights in memory. When that
 * process disappears (heartbeat or schedule-to-start timeout), another one is claimed; it
 * restores the latest checkpoint and replays what the call carries, so no step is lost or doubled.
 */
export class Trainer {
  private queue: string | undefined;

  constructor(
    private readonly deployment: Deployment,
    private readonly maxClaims = 10,
  ) {}

  async run<T>(call: (activities: ReturnType<typeof trainerAt>) => Promise<T>): Promise<T> {
    for (let claim = 1; ; claim++) {
      this.queue ??= await queues(this.deployment).compute.claimTrainer.executeWithOptions(
        { summary: 'claim a trainer', startToCloseTimeout: '1 minute' },
        [],
      );
      try {
        return await call(trainerAt(this.queue, this.deployment.heartbeatSeconds));
      } catch (err) {
        if (!trainerLost(err) || claim >= this.maxClaims) throw err;
        log.warn('trainer lost; claiming another', { queue: this.queue, claim });
        this.queue = undefined;
      }
    }
  }

  /** The queue to carry across continue-as-new, so the same process keeps training. */
  get current(): string | undefined {
    return this.queue;
  }

  static resume(queue: string | undefined, deployment: Deployment): Trainer {
    const trainer = new Trainer(deployment);
    trainer.queue = queue;
    return trainer;
  }
}
