import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startPipeline } from '../../cli/pipelines';
import { restartPipeline } from '../../cli/restart';
import { keys, rewardsStep, rolloutShard } from '../../schemas/layout';
import { ArtifactStore, sha256Hex } from '../../storage/artifact-store';
import type { PipelineResult } from '../../workflows/pipeline';
import { PHASES, tinySpec } from '../fixtures/tiny-pipeline';
import { waitUntil } from '../helpers/pipelines';
import { ensureStack } from '../helpers/stack';
import { testClient, withWorkers } from '../helpers/workers';

before(async () => {
  await ensureStack();
});

const ROLES = ['orchestration', 'cpu', 'rollout', 'train'] as const;
const SHARDS = 24;
const rows = Array.from({ length: SHARDS }, (_, i) => ({ prompt: `${i % 8}+${7 - (i % 8)} (${i})`, answer: '7', completion: '<think>7</think><answer>7</answer>' }));
/** One prompt per shard, two shards in flight, five shards per child workflow: 24 shards in 5 parts. */
const fanOut = { promptsPerShard: 1, shardsInFlight: 2, shardsPerPart: 5 };
const spec = tinySpec([{ ...PHASES.sft, dataset: 'many' }, { ...PHASES.rejectionSampling, dataset: 'many', fanOut }], {
  datasets: { many: { kind: 'inline', rows } },
});
const SAMPLES = '1-rejection-sampling.samples';

/** Shards of the sampling run with both rollouts and scores in S3. */
async function sampledShards(store: ArtifactStore, id: string): Promise<number> {
  const rollouts = new Set<number>();
  for await (const { key } of store.list(store.key(keys.rolloutsOfStep(id, SAMPLES, 0)))) rollouts.add(rolloutShard(key)!);
  let done = 0;
  for await (const { key } of store.list(store.key(keys.rewards(id, SAMPLES)))) if (rollouts.has(rewardsStep(key)!)) done++;
  return done;
}

/** Per completed sampling part of a pipeline (runs started after `since`): rollout activities scheduled and the peak pending at once. */
async function parts(id: string, since: Date): Promise<{ scheduled: number; peak: number }[]> {
  const client = await testClient();
  const found: { scheduled: number; peak: number }[] = [];
  for await (const wf of client.workflow.list({ query: `R1Pipeline = '${id}' AND WorkflowType = 'sampleShards' AND ExecutionStatus = 'Completed'` })) {
    if (wf.startTime < since) continue;
    let pending = 0;
    const part = { scheduled: 0, peak: 0 };
    for (const e of (await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()).events ?? []) {
      if (e.activityTaskScheduledEventAttributes) {
        pending++;
        if (e.activityTaskScheduledEventAttributes.activityType?.name === 'generateRollouts') part.scheduled++;
      }
      if (e.activityTaskCompletedEventAttributes || e.activityTaskFailedEventAttributes || e.activityTaskTimedOutEventAttributes) pending--;
      part.peak = Math.max(part.peak, pending);
    }
    found.push(part);
  }
  return found;
}

test('sampling fans out through child workflows with a bounded window; after a failure only the shards not done are sampled, to the same dataset', async (t) => {
  const client = await testClient();
  const store = ArtifactStore.fromEnv();
  const sftDataset = async (id: string) => sha256Hex(await store.getBytes({ uri: store.uri(store.key(keys.dataset(id, '1-rejection-sampling.sft'))) }));

  const reference = `fanout-ref-${randomUUID().slice(0, 8)}`;
  const began = new Date();
  await withWorkers([...ROLES], async () => (await startPipeline(client, spec, reference)).result());
  const referenceParts = await parts(reference, began);
  assert.equal(referenceParts.length, 5, 'five parts of at most five shards');
  assert.equal(referenceParts.reduce((n, p) => n + p.scheduled, 0), SHARDS);
  for (const p of referenceParts) assert.ok(p.peak <= fanOut.shardsInFlight, `at most ${fanOut.shardsInFlight} activities pending, saw ${p.peak}`);

  // The same pipeline, terminated mid-sampling (as a crash or an operator would), then restarted.
  const id = `fanout-${randomUUID().slice(0, 8)}`;
  await withWorkers([...ROLES], async () => {
    const handle = await startPipeline(client, spec, id);
    await waitUntil(async () => (await sampledShards(store, id)) >= 8, 'a third of the shards are sampled', 120_000);
    await handle.terminate('test: a failure mid-sampling');
  });
  const done = await sampledShards(store, id);
  assert.ok(done >= 8 && done < SHARDS, `${done} of ${SHARDS} shards sampled when the pipeline stopped`);

  const restarted = new Date();
  const result: PipelineResult = await withWorkers([...ROLES], async () => (await restartPipeline(client, id)).handle.result());
  assert.equal(result.phases[1].name, '1-rejection-sampling');
  const resumed = await parts(id, restarted);
  assert.equal(resumed.reduce((n, p) => n + p.scheduled, 0), SHARDS - done, 'only the shards not sampled before are sampled again');
  t.diagnostic(`${done} of ${SHARDS} shards sampled when the pipeline was terminated; the restarted run sampled the other ${SHARDS - done}`);
  assert.equal(await sftDataset(id), await sftDataset(reference), 'the same SFT dataset as the uninterrupted run');
});
