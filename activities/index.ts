import { ArtifactStore } from '../storage/artifact-store';
import { datasetActivities } from './build-dataset';
import { curateActivities } from './curate';
import { modelInitActivities } from './model-init';
import { reportingFailures } from './errors';
import { PolicyPool } from './policy-pool';
import { RecentShards } from './recent-shards';
import { retentionActivities } from './retention';
import { rolloutActivities } from './rollouts';
import { sampledShardActivities } from './sampled-shards';
import { sftActivities } from './train-sft';
import { grpoActivities } from './train-grpo';
import { TrainerHost } from './trainer-host';

/**
 * Every activity of the product, bound to this process's store, trainer host, policy pool and
 * the rollouts it wrote last (which its trainer then reads from memory); their failures reach
 * Temporal as activities/errors.ts decides. Workflows `import type` the result. `claimTrainer`
 * runs on the shared compute queue and answers with this process's own queue, where the phase
 * then sends its training steps.
 */
export function createActivities(store: ArtifactStore, host = new TrainerHost(), pool = new PolicyPool(store)) {
  const recent = new RecentShards();
  return reportingFailures({
    ...datasetActivities(store),
    ...curateActivities(store),
    ...modelInitActivities(store),
    ...rolloutActivities(store, pool, recent),
    ...sampledShardActivities(store),
    ...sftActivities(store, host),
    ...grpoActivities(store, host, pool, recent),
    ...retentionActivities(store),
    async claimTrainer(): Promise<string> {
      return host.queue;
    },
  });
}

export type Activities = ReturnType<typeof createActivities>;
