import { ApplicationFailure } from '@temporalio/common';

/**
 * Which failures a retry can fix is decided here, once. An error that no retry can fix says so
 * itself with `nonRetryable = true` (the classes below, storage/errors.ts, and engine errors,
 * which keep the flag across the engine thread); `reportedToTemporal` turns such an error into a
 * non-retryable ApplicationFailure, so that Temporal stops retrying it and the workflow sees a
 * final failure with the error's name as its type. Every other failure is retried.
 */

/** An error no retry can fix; its class name is the failure type Temporal records. */
class FinalError extends Error {
  readonly nonRetryable = true;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A checkpoint whose tensors do not fit its model config. */
export class CheckpointShapeError extends FinalError {}

/** Rejection sampling or distillation found not one verified-correct sample to learn from. */
export class NoCorrectSamplesError extends FinalError {}

/** A trainer restored from an earlier checkpoint than its phase expects: the steps in between cannot be replayed in this run. */
export class UnreplayableStepsError extends FinalError {}

/**
 * A training call reached a trainer whose process is shutting down. Not retried there: the
 * phase claims another trainer (workflows/activities.ts knows this name).
 */
export class TrainerLeavingError extends FinalError {}

/** A dataset row or file that cannot be used as it is: the message names the file and line. */
export class BadDataError extends FinalError {}

/** The failure Temporal should see for `err`. */
export function reportedToTemporal(err: unknown): unknown {
  if (err instanceof ApplicationFailure || !(err instanceof Error) || (err as { nonRetryable?: unknown }).nonRetryable !== true) return err;
  const failure = ApplicationFailure.create({ message: err.message, type: err.name, nonRetryable: true });
  failure.stack = err.stack;
  return failure;
}

type Activity = (...args: never[]) => Promise<unknown>;

/** The same activities, their failures reported as `reportedToTemporal` says. */
export function reportingFailures<T extends Record<string, Activity>>(activities: T): T {
  const wrapped: Record<string, Activity> = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = (...args) => activity(...args).catch((err: unknown) => Promise.reject(reportedToTemporal(err)));
  }
  return wrapped as T;
}
