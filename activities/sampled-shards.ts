import { keys, rewardsStep, rolloutShard } from '../schemas/layout';
import type { ArtifactStore } from '../storage/artifact-store';
import { withHeartbeats } from './heartbeat';

export function sampledShardActivities(store: ArtifactStore) {
  return {
    /**
     * The shards in [from, to) of a sampling run (workflows/sample-dataset.ts) whose rollouts and
     * scores are both in S3: a restarted phase does not sample them again. Scores are written
     * after their rollouts, so a shard with both is complete.
     */
    findSampledShards: (input: { pipelineId: string; phase: string; from: number; to: number }): Promise<number[]> =>
      withHeartbeats(async () => {
        const sampled = new Set<number>();
        for await (const { key } of store.list(store.key(keys.rolloutsOfStep(input.pipelineId, input.phase, 0)))) {
          const shard = rolloutShard(key);
          if (shard !== null && shard >= input.from && shard < input.to) sampled.add(shard);
        }
        const done: number[] = [];
        for await (const { key } of store.list(store.key(keys.rewards(input.pipelineId, input.phase)))) {
          const shard = rewardsStep(key);
          if (shard !== null && sampled.has(shard)) done.push(shard);
        }
        return done.sort((a, b) => a - b);
      }),
  };
}
