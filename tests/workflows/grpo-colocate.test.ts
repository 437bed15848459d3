import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { ensureStack } from '../helpers/stack';
import { testClient, withWorkers } from '../helpers/workers';
import { startPipeline } from '../../cli/pipelines';
import { validateSpec } from '../../cli/spec-file';
import { ArtifactStore } from '../../storage/artifact-store';
import { listCheckpoints, readManifest } from '../../storage/checkpoints';
import { PHASES, tinySpec } from '../fixtures/tiny-pipeline';

before(async () => {
  await ensureStack();
});

// One rollout shard, one engine thread (bit-for-bit runs), a new workflow run every 2 steps.
const grpo = { ...PHASES.grpo, steps: 5, shards: 1, checkpointEvery: 2, continueAsNewEvery: 2 };
const spec = (colocate: boolean) => tinySpec([PHASES.sft, { ...grpo, colocate }], { runtime: { chatTemplate: 'plain' } });

/** The content hash of each step's published policy weights. */
async function policyHashes(store: ArtifactStore, id: string): Promise<string[]> {
  const hashes: string[] = [];
  for (const c of await listCheckpoints(store, id, '1-grpo.policy')) {
    const manifest = await readManifest(store, { uri: store.uri(c.manifestKey) });
    hashes.push(`${c.step}:${manifest.files.map((f) => f.sha256).join(',')}`);
  }
  return hashes;
}

/** Activities of the GRPO phase, over all its runs, by type. */
async function activityCounts(client: Client, id: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${id}/1-grpo'` })) {
    const history = await client.workflow.getHandle(`${id}/1-grpo`, wf.runId).fetchHistory();
    for (const e of history.events ?? []) {
      const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
      if (name) counts[name] = (counts[name] ?? 0) + 1;
    }
  }
  return counts;
}

test('colocated rollouts: the trainer samples each next step, one activity per step, same policies as separate rollouts', async () => {
  const client = await testClient();
  const store = ArtifactStore.fromEnv();
  const [separate, colocated] = [`sep-${randomUUID().slice(0, 8)}`, `colo-${randomUUID().slice(0, 8)}`];
  await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => {
    await (await startPipeline(client, spec(false), separate)).result();
    await (await startPipeline(client, spec(true), colocated)).result();
  });

  // Three runs (steps 1-2, 3-4, 5): the phase samples step 1, the trainer every later step, its
  // rollouts for the next run carried over continue-as-new.
  const runs: string[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${colocated}/1-grpo'` })) runs.push(wf.status.name);
  assert.equal(runs.length, 3);
  const counts = await activityCounts(client, colocated);
  assert.equal(counts.generateRollouts, 1);
  assert.equal(counts.trainGrpoStep, 5);
  assert.equal((await activityCounts(client, separate)).generateRollouts, 5);

  // The same rollouts from the same weights: every step's policy is the same, bit for bit.
  const expected = await policyHashes(store, separate);
  assert.equal(expected.length, 5);
  assert.deepEqual(await policyHashes(store, colocated), expected);
  assert.deepEqual((await listCheckpoints(store, colocated, '1-grpo')).map((c) => c.step), [2, 4, 5]);
});

test('colocate is refused with several rollout shards or with verification on the CPU queue', () => {
  const refused = (phase: Record<string, unknown>) =>
    assert.throws(() => tinySpec([{ ...PHASES.grpo, colocate: true, ...phase }]), (err: Error) => /phases\.0\.colocate/.test(err.message));
  refused({ shards: 2 });
  refused({ shards: 1, verifyOn: 'cpu' });
  assert.doesNotThrow(() => validateSpec(spec(true), 'colocated spec'));
});
