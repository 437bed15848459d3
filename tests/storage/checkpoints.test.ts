import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ensureStack } from '../helpers/stack';
import { ArtifactStore } from '../../storage/artifact-store';
import { ChecksumMismatchError } from '../../storage/errors';
import {
  checkpointsPrefix,
  commitCheckpoint,
  latestCheckpoint,
  listCheckpoints,
  openCheckpointFiles,
  readCheckpointFiles,
  readManifest,
  type CheckpointCommit,
} from '../../storage/checkpoints';
import { s3Env } from '../../schemas/environment';
import { keys } from '../../schemas/layout';
import { producerEnvironment } from '../../activities/provenance';
import { engineEnvironment } from '../../engine/environment';

/** A real measurement of this machine: an engine on two threads, made under some spec. */
const ENVIRONMENT = producerEnvironment(engineEnvironment({ kind: 'cpu', threads: 2 }), 'ab'.repeat(32));

let store: ArtifactStore;

before(async () => {
  await ensureStack();
  store = ArtifactStore.fromEnv({ ...s3Env(), prefix: `test-${randomUUID()}/` });
});

function commitOf(pipelineId: string, step: number, extra: Partial<CheckpointCommit> = {}): CheckpointCommit {
  return {
    pipelineId,
    phase: '1-sft',
    step,
    files: { 'model.safetensors': Buffer.from(`weights at ${step}`), 'state.json': Buffer.from(JSON.stringify({ step })) },
    parent: null,
    producer: { workflowId: `${pipelineId}/1-sft`, runId: 'run-1', activity: 'trainSftSteps' },
    environment: ENVIRONMENT,
    metrics: { loss: 1 / (step + 1) },
    ...extra,
  };
}

test('committing the same step twice leaves one checkpoint, the first', async () => {
  const first = await commitCheckpoint(store, commitOf('twice', 10));
  const again = await commitCheckpoint(store, commitOf('twice', 10, { files: { 'model.safetensors': Buffer.from('different') } }));
  assert.equal(first.created, true);
  assert.equal(again.created, false);
  assert.deepEqual(again.ref, first.ref);
  assert.equal((await listCheckpoints(store, 'twice', '1-sft')).length, 1);
  const files = await readCheckpointFiles(store, again.ref);
  assert.equal(files['model.safetensors'].toString(), 'weights at 10');
  // Only the first commit's files exist: the second stopped before uploading anything.
  const keys: string[] = [];
  for await (const { key } of store.list(checkpointsPrefix(store, 'twice'))) keys.push(key);
  assert.equal(keys.length, 3);
});

test('a checkpoint whose manifest is missing is not complete', async () => {
  const done = await commitCheckpoint(store, commitOf('partial', 3));
  // Files of step 5 were written, then the writer died before the manifest.
  const folder = `${checkpointsPrefix(store, 'partial', '1-sft')}step-00000005/`;
  await store.putBytes(`${folder}abc-model.safetensors`, Buffer.from('half'));
  const latest = await latestCheckpoint(store, 'partial', '1-sft');
  assert.equal(latest?.step, 3);
  assert.deepEqual(latest, done.ref);
  assert.deepEqual((await listCheckpoints(store, 'partial', '1-sft')).map((c) => c.step), [3]);
  assert.equal(await latestCheckpoint(store, 'partial', '2-grpo'), null);
});

test('manifests record files, lineage, producer, environment and metrics', async () => {
  const parent = (await commitCheckpoint(store, commitOf('lineage', 1))).ref;
  const child = (await commitCheckpoint(store, commitOf('lineage', 2, { phase: '2-grpo', parent }))).ref;
  const manifest = await readManifest(store, child);
  assert.deepEqual(manifest.parent, parent);
  assert.equal(manifest.producer.activity, 'trainSftSteps');
  assert.deepEqual(manifest.environment, ENVIRONMENT);
  assert.match(manifest.environment!.warnings[0], /2 intra-op threads/);
  assert.deepEqual(manifest.files.map((f) => f.name).sort(), ['model.safetensors', 'state.json']);
  assert.equal(manifest.metrics.loss, 1 / 3);
  assert.ok(!Number.isNaN(Date.parse(manifest.createdAt)));
});

test('a manifest written before environments were recorded still loads, with its files', async () => {
  const { ref } = await commitCheckpoint(store, commitOf('old', 4));
  const { environment, ...older } = await readManifest(store, ref);
  assert.ok(environment);
  const key = store.key(keys.manifest(keys.checkpointStep('old', '1-sft', 6)));
  await store.putBytes(key, Buffer.from(JSON.stringify({ ...older, step: 6 })));
  const latest = await latestCheckpoint(store, 'old', '1-sft');
  assert.equal(latest?.step, 6);
  assert.equal((await readManifest(store, latest!)).environment, undefined);
  assert.equal((await readCheckpointFiles(store, latest!))['model.safetensors'].toString(), 'weights at 4');
});

test('a corrupted checkpoint file is detected by its hash and never returned', async () => {
  const { ref } = await commitCheckpoint(store, commitOf('corrupt', 7));
  const manifest = await readManifest(store, ref);
  const weights = manifest.files.find((f) => f.name === 'model.safetensors')!;
  await store.client.send(new PutObjectCommand({ Bucket: store.bucket, Key: weights.key, Body: Buffer.from('garbage!') }));
  await assert.rejects(readCheckpointFiles(store, ref), (err: unknown) => {
    assert.ok(err instanceof ChecksumMismatchError);
    assert.ok(err.message.includes(weights.key));
    return true;
  });
});

test('a file made of chunks uploads multipart and reads back as a verified stream; a tampered one fails at its end', async () => {
  // Three parts of the store's part size and a bit: the upload is multipart, the read streamed.
  const part = Buffer.alloc(store.partSizeBytes, 7);
  const file = { bytes: 3 * part.length + 5, *chunks() { yield part; yield part; yield part; yield Buffer.from('tail!'); } };
  const { ref } = await commitCheckpoint(store, commitOf('chunked', 1, { files: { 'model.safetensors': file, 'state.json': Buffer.from('{}') } }));
  const opened = await openCheckpointFiles(store, ref);
  const entry = opened.manifest.files.find((f) => f.name === 'model.safetensors')!;
  assert.equal(entry.bytes, file.bytes);
  let bytes = 0;
  for await (const chunk of opened.stream('model.safetensors')) bytes += chunk.length;
  assert.equal(bytes, file.bytes);

  await store.client.send(new PutObjectCommand({ Bucket: store.bucket, Key: entry.key, Body: Buffer.alloc(1000, 7) }));
  const read = async () => {
    for await (const _ of (await openCheckpointFiles(store, ref)).stream('model.safetensors'));
  };
  await assert.rejects(read(), (err: unknown) => err instanceof ChecksumMismatchError && err.message.includes(entry.key));
});

test('latest checkpoint is found among more than 1,000 keys', async () => {
  // 400 checkpoints of 3 objects each: 1,200 keys, so the listing spans two pages.
  for (let step = 0; step < 400; step += 40) {
    await Promise.all(Array.from({ length: 40 }, (_, i) => commitCheckpoint(store, commitOf('long', step + i))));
  }
  const all = await listCheckpoints(store, 'long', '1-sft');
  assert.equal(all.length, 400);
  assert.deepEqual(all.map((c) => c.step), Array.from({ length: 400 }, (_, i) => i));
  assert.equal((await latestCheckpoint(store, 'long', '1-sft'))?.step, 399);
});
