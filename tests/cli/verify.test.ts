import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { ensureStack } from '../helpers/stack';
import { verifyLineage, LineageProblem } from '../../cli/verify';
import { producerEnvironment } from '../../activities/provenance';
import { s3Env } from '../../schemas/environment';
import { keys } from '../../schemas/layout';
import type { CheckpointRef } from '../../schemas/refs';
import { ArtifactStore } from '../../storage/artifact-store';
import { commitCheckpoint, readManifest } from '../../storage/checkpoints';

let store: ArtifactStore;

before(async () => {
  await ensureStack();
  store = ArtifactStore.fromEnv({ ...s3Env(), prefix: `test-${randomUUID()}/` });
});

/** A pipeline's starting model and two checkpoints of its SFT phase, each the parent of the next. */
async function lineage(pipelineId: string): Promise<CheckpointRef[]> {
  const commit = (phase: string, step: number, parent: CheckpointRef | null, workflowId: string) =>
    commitCheckpoint(store, {
      pipelineId,
      phase,
      step,
      files: { 'model.safetensors': Buffer.from(`${phase} weights at ${step}`) },
      parent,
      producer: { workflowId, runId: 'run-1', activity: 'trainSftSteps' },
      environment: producerEnvironment(null, null),
      metrics: {},
    }).then((c) => c.ref);
  const init = await commit('init', 0, null, pipelineId);
  const first = await commit('0-sft', 10, init, `${pipelineId}/0-sft`);
  return [init, first, await commit('0-sft', 20, first, `${pipelineId}/0-sft`)];
}

const problem = (uri: string, what: RegExp) => (err: unknown) => {
  assert.ok(err instanceof LineageProblem, String(err));
  assert.equal(err.uri, uri);
  assert.match(err.problem, what);
  return true;
};

test('an intact lineage verifies: every checkpoint and file counted', async () => {
  await lineage('intact');
  const verified = await verifyLineage(store, 'intact');
  assert.equal(verified.checkpoints, 3);
  assert.equal(verified.files, 3);
  assert.deepEqual([...verified.producers.values()], [3]);
});

test('a missing parent manifest is named', async () => {
  const [, first, last] = await lineage('orphan');
  await store.client.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: store.keyOf(first.uri) }));
  await assert.rejects(verifyLineage(store, last.uri), problem(first.uri, /^manifest missing$/));
});

test('a parent whose manifest changed no longer matches the link its child records', async () => {
  const [, first, last] = await lineage('relinked');
  const manifest = await readManifest(store, first);
  await store.putBytes(store.keyOf(first.uri), Buffer.from(JSON.stringify({ ...manifest, metrics: { loss: 0 } })));
  await assert.rejects(verifyLineage(store, last.uri), problem(first.uri, /differs from [0-9a-f]{64} \(\d+ bytes\) recorded as the parent of /));
});

test('a step folder copied to another step: the copy claims a step that is not its own', async () => {
  const [, , last] = await lineage('copied');
  const body = await store.getBytes(last);
  const copy = store.key(keys.manifest(keys.checkpointStep('copied', '0-sft', 30)));
  await store.putBytes(copy, body);
  await assert.rejects(verifyLineage(store, 'copied'), problem(store.uri(copy), /records copied 0-sft step 20, whose manifest belongs at .*step-00000020\/manifest\.json$/));
});

test("a producer that is neither the pipeline's workflow nor its phase's is named", async () => {
  const [, first] = await lineage('stranger');
  const manifest = await readManifest(store, first);
  await store.putBytes(store.keyOf(first.uri), Buffer.from(JSON.stringify({ ...manifest, producer: { ...manifest.producer, workflowId: 'someone-else/0-sft' } })));
  await assert.rejects(verifyLineage(store, first.uri), problem(first.uri, /producer workflow someone-else\/0-sft is neither stranger nor stranger\/0-sft/));
});
