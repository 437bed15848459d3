import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { connectWorker } from '../../infra/temporal-connection';
import { temporalEnv } from '../../schemas/environment';
import { ArtifactStore } from '../../storage/artifact-store';
import { installRuntime } from '../../workers/runtime';
import { taskQueue } from '../../workflows/task-queues';

export const FLAKY_MESSAGE = 'reward verifier unavailable';

/**
 * Runs a cpu-queue worker while `fn` runs, whose reward verification fails its first attempt at
 * one GRPO step with a retryable error and then runs the real verifier: a transient fault that
 * Temporal's retry policy absorbs, the way an outage of a verifier service would look. Each test
 * process has task queues of its own (tests/helpers/stack.ts), so no other process's worker can
 * take the attempt that is meant to fail.
 */
export async function withFlakyVerifier<T>(step: number, fn: () => Promise<T>): Promise<T> {
  const activities = createActivities(ArtifactStore.fromEnv());
  const verifyRollouts: typeof activities.verifyRollouts = async (input) => {
    if (input.step === step && Context.current().info.attempt === 1) {
      throw ApplicationFailure.retryable(`${FLAKY_MESSAGE} at ${input.phase} step ${step} (fault injected by the UI test)`, 'VerifierUnavailable');
    }
    return activities.verifyRollouts(input);
  };
  installRuntime('WARN');
  const { namespace, taskQueuePrefix } = temporalEnv();
  const connection = await connectWorker();
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue: taskQueue(taskQueuePrefix, 'cpu', 'cpu'),
    activities: { ...activities, verifyRollouts },
  });
  const running = worker.run();
  try {
    return await fn();
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
}
