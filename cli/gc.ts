import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { RetentionSchema, type Retention } from '../schemas/retention';
import type { ArtifactStore } from '../storage/artifact-store';
import { applyRetention, describeRetention, storedBytes } from '../storage/retention';
import { pipelineInput } from './pipelines';

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * `r1 gc <id> [--keep-last K] [--keep-every N] [--dry-run]`: applies a retention to a pipeline's
 * checkpoints in S3, the spec's unless flags give one. While the pipeline runs, each run keeps its
 * newest policy snapshot (a rollout may be sampling from it); once it is closed, none.
 */
export async function runGc(client: Client, store: ArtifactStore, id: string, flags: { keepLast?: string; keepEvery?: string; dryRun?: boolean }): Promise<number> {
  const running = await client.workflow
    .getHandle(id)
    .describe()
    .then((d) => d.status.name === 'RUNNING', (err: unknown) => {
      if (err instanceof WorkflowNotFoundError) return false; // the history is gone; the checkpoints are not
      throw err;
    });
  let retention: Retention | undefined;
  if (flags.keepLast !== undefined || flags.keepEvery !== undefined) {
    const parsed = RetentionSchema.safeParse({
      ...(flags.keepLast !== undefined && { keepLast: Number(flags.keepLast) }),
      ...(flags.keepEvery !== undefined && { keepEvery: Number(flags.keepEvery) }),
    });
    if (!parsed.success) {
      console.error(`r1 gc: ${parsed.error.issues.map((i) => `--${String(i.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`).join('; ')}`);
      return 2;
    }
    retention = parsed.data;
  } else {
    retention = await pipelineInput(client, id).then((input) => input.spec.retention, () => undefined);
  }
  if (!retention) {
    console.error(`r1 gc: pipeline ${id} has no retention in its spec: give one (--keep-last K [--keep-every N])`);
    return 2;
  }
  const before = await storedBytes(store, id);
  const result = await applyRetention(store, id, retention, { finished: () => !running, dryRun: flags.dryRun });
  const after = flags.dryRun ? { ...before, liveBytes: before.liveBytes - result.deletedBytes } : await storedBytes(store, id);
  console.log(`${id}: kept ${describeRetention(retention)}${running ? ' (running: each run keeps its newest policy snapshot)' : ''}`);
  console.log(`${flags.dryRun ? 'would retire' : 'retired'} ${result.retired.length} checkpoints, ${mb(result.deletedBytes)}`);
  console.log(`S3 under pipelines/${id}/: ${mb(before.liveBytes)} before, ${mb(after.liveBytes)} after (${after.retiredCheckpoints} checkpoints retired in all, ${mb(after.retiredBytes)} of their files deleted)`);
  return 0;
}
