import type { Retention } from '../schemas/retention';
import type { ArtifactStore } from '../storage/artifact-store';
import { applyRetention } from '../storage/retention';
import { withHeartbeats } from './heartbeat';

export function retentionActivities(store: ArtifactStore) {
  return {
    /**
     * The spec's retention over some runs of a pipeline (a phase's checkpoints and policy
     * snapshots), as its workflow goes; `finished`: the phase is done.
     */
    applyRetention: (input: { pipelineId: string; runs: string[]; retention: Retention; finished: boolean }): Promise<{ retired: number; deletedBytes: number }> =>
      withHeartbeats(async () => {
        const result = await applyRetention(store, input.pipelineId, input.retention, { runs: input.runs, finished: () => input.finished });
        return { retired: result.retired.length, deletedBytes: result.deletedBytes };
      }),
  };
}
