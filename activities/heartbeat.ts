import { Context, heartbeat } from '@temporalio/activity';

/**
 * Runs a long activity body while heartbeating every second with its latest progress, so that a
 * single long engine call (a generation batch, a big training step) never looks like a dead
 * worker, and a really dead one is noticed within the heartbeat timeout. The engine works on its
 * own thread, so this event loop stays free to send them.
 */
export async function withHeartbeats<T>(work: (progress: (details: unknown) => void) => Promise<T>): Promise<T> {
  let last: unknown;
  const progress = (details: unknown) => {
    last = details;
    heartbeat(details);
  };
  const timer = setInterval(() => heartbeat(last), 1000);
  try {
    return await work(progress);
  } finally {
    clearInterval(timer);
  }
}

/** Stops a long activity at a step boundary once Temporal (or a shutting-down worker) cancelled it. */
export function throwIfCancelled(): void {
  const signal = Context.current().cancellationSignal;
  if (signal.aborted) throw signal.reason ?? new Error('cancelled');
}
