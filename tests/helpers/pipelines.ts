import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { progressQuery, type Progress } from '../../workflows/messages';

/** Polls a pipeline's `progress` query until `until` holds; the first queries may come before its first workflow task. */
export async function waitForProgress(client: Client, id: string, until: (p: Progress) => boolean, timeoutMs = 60_000): Promise<Progress> {
  const deadline = Date.now() + timeoutMs;
  let last: Progress | undefined;
  while (Date.now() < deadline) {
    last = await client.workflow.getHandle(id).query(progressQuery).catch(() => last);
    if (last && until(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${id}: progress never got there; last seen ${JSON.stringify(last)}`);
}

export async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Ends a pipeline a failed test left running: its phases would otherwise go on claiming the
 * trainers of the next test's workers, on the shared task queues.
 */
export async function terminateIfRunning(handle: WorkflowHandle): Promise<void> {
  try {
    if ((await handle.describe()).status.name === 'RUNNING') await handle.terminate('test cleanup');
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}
