import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ensureStack } from '../helpers/stack';
import { testClient, withWorkers } from '../helpers/workers';
import { startPipeline } from '../../cli/pipelines';
import { ArtifactStore } from '../../storage/artifact-store';
import { listCheckpoints } from '../../storage/checkpoints';
import type { PipelineResult } from '../../workflows/pipeline';
import { PHASES, tinySpec } from '../fixtures/tiny-pipeline';

before(async () => {
  await ensureStack();
});

test('a long GRPO phase continues as new without losing its step, policy, checkpoint or pending steps', async () => {
  const id = `can-${randomUUID().slice(0, 8)}`;
  // Checkpoints every 3 steps but a new run every 2: runs end with steps pending since the last
  // checkpoint, which the next run must carry over. Two updates of two mini-batches per step.
  const grpo = { ...PHASES.grpo, steps: 5, shards: 1, checkpointEvery: 3, continueAsNewEvery: 2, grpo: { ...PHASES.grpo.grpo, iterations: 2, miniBatches: 2 } };
  const client = await testClient();
  const result = await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => {
    const handle = await startPipeline(client, tinySpec([PHASES.sft, grpo]), id);
    return (await handle.result()) as PipelineResult;
  });

  const runs: string[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${id}/1-grpo'` })) runs.push(wf.status.name);
  assert.deepEqual(runs.sort(), ['COMPLETED', 'CONTINUED_AS_NEW', 'CONTINUED_AS_NEW']);

  const store = ArtifactStore.fromEnv();
  assert.deepEqual((await listCheckpoints(store, id, '1-grpo')).map((c) => c.step), [3, 5]);
  assert.deepEqual((await listCheckpoints(store, id, '1-grpo.policy')).map((c) => c.step), [1, 2, 3, 4, 5]);
  assert.equal(result.phases[1].checkpoint.step, 5);
  assert.equal(result.phases[1].metrics.updates, 4, 'optimizer updates in the last step');
  // One trainer served all three runs: the queue was carried, so no restore was needed.
  const trainers = new Set<string>();
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${id}/1-grpo'` })) {
    const history = await client.workflow.getHandle(`${id}/1-grpo`, wf.runId).fetchHistory();
    for (const e of history.events ?? []) {
      const a = e.activityTaskScheduledEventAttributes;
      if (a?.activityType?.name === 'trainGrpoStep') trainers.add(a.taskQueue!.name!);
    }
  }
  assert.equal(trainers.size, 1);
});
