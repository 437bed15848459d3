import type { Duration } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, CancelledFailure, proxyActivities, sleep, TimeoutFailure, log, type RetryPolicy } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DeviceNeed } from '../schemas/device';
import type { TrainerReply } from '../schemas/training';
import { taskQueue } from './task-queues';

/**
 * Activity stubs by task queue. Whether a failure is worth retrying is the activity's to say
 * (activities/errors.ts): bad data and corrupt or mismatched checkpoints arrive non-retryable and
 * fail the phase at once with their message; anything else is retried with this backoff.
 */
const RETRY = { initialMs: 1000, backoff: 2, maximumMs: 30_000, attempts: 5 };
const retry: RetryPolicy = { initialInterval: RETRY.initialMs, backoffCoefficient: RETRY.backoff, maximumInterval: RETRY.maximumMs, maximumAttempts: RETRY.attempts };

/** Where a pipeline's activities run, carried in every workflow's input. */
export interface Deployment {
  /** The deployment's task queues are `<prefix>cpu`, `<prefix>rollout-cuda`, ... (task-queues.ts) */
  taskQueuePrefix: string;
  /** What the pipeline's engines need (the spec's runtime.device): picks the rollout and train queues. */
  device: DeviceNeed;
  /** A worker silent this long (the spec's timeouts.heartbeatSeconds) is taken for dead. */
  heartbeatSeconds: number;
}

/** The shared queues' activities of a deployment: data and verification; rollouts; trainer claims and models (trainer machines have the memory). */
export function queues(deployment: Deployment) {
  const heartbeatTimeout = deployment.heartbeatSeconds * 1000;
  const on = (role: 'cpu' | 'rollout' | 'train', startToCloseTimeout: Duration) =>
    proxyActivities<Activities>({ taskQueue: taskQueue(deployment.taskQueuePrefix, role, deployment.device), startToCloseTimeout, heartbeatTimeout, retry });
  return { cpu: on('cpu', '30 minutes'), rollout: on('rollout', '2 hours'), train: on('train', '2 hours') };
}

/**
 * Activities of one trainer process, through its own queue. Temporal does not retry them: a lost
 * trainer is replaced (`Trainer.run`), which Temporal's retries, aimed at the same queue, cannot do.
 */
function trainerAt(queue: string, heartbeatTimeout: number) {
  return proxyActivities<Activities>({
    taskQueue: queue,
    startToCloseTimeout: '6 hours',
    // A live trainer picks its task up at once (it polls whatever it is doing); one that stopped
    // polling never will: claim another instead of waiting.
    scheduleToStartTimeout: Math.max(5, heartbeatTimeout) * 1000,
    heartbeatTimeout: heartbeatTimeout * 1000,
    retry: { ...retry, maximumAttempts: 1 },
  });
}

/** A failure its activity reported as worth retrying: the trainer is alive, a dependency failed (S3, say). */
function retryable(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && !err.cause.nonRetryable;
}

/** The trainer process died (timeouts), was shut down under the step (cancelled by its worker), or is leaving (activities/errors.ts). */
function trainerLost(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  const cause = err.cause;
  return cause instanceof TimeoutFailure || cause instanceof CancelledFailure || (cause instanceof ApplicationFailure && /TrainerLeavingError|WORKER_SHUTDOWN|CancelledFailure/.test(`${cause.type} ${cause.message}`));
}

/**
 * The trainer of a phase: steps go to the process that holds its weights in memory. When that
 * process disappears (heartbeat or schedule-to-start timeout), another one is claimed; it
 * restores the latest checkpoint and replays what the call carries, so no step is lost or doubled.
 * A retryable failure is retried on the same trainer with the shared queues' backoff.
 */
export class Trainer {
  private queue: string | undefined;

  constructor(
    private readonly deployment: Deployment,
    private readonly maxClaims = 10,
  ) {}

  async run<T extends TrainerReply>(call: (activities: ReturnType<typeof trainerAt>) => Promise<T>): Promise<T> {
    let claim = 1;
    let attempt = 1;
    for (;;) {
      this.queue ??= await queues(this.deployment).train.claimTrainer.executeWithOptions({ summary: 'claim a trainer', startToCloseTimeout: '1 minute' }, []);
      try {
        const reply = await call(trainerAt(this.queue, this.deployment.heartbeatSeconds));
        if (reply.trainerLeaving) this.queue = undefined;
        return reply;
      } catch (err) {
        if (trainerLost(err) && claim < this.maxClaims) {
          log.warn('trainer lost; claiming another', { queue: this.queue, claim });
          this.queue = undefined;
          claim++;
        } else if (!trainerLost(err) && retryable(err) && attempt < RETRY.attempts) {
          log.warn('training call failed; retrying on the same trainer', { queue: this.queue, attempt, error: String(err) });
          await sleep(Math.min(RETRY.maximumMs, RETRY.initialMs * RETRY.backoff ** (attempt - 1)));
          attempt++;
        } else {
          throw err;
        }
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
