import type { Client } from '@temporalio/client';
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
