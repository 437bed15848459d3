import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ensureStack } from '../helpers/stack';
import { testClient, withWorkers } from '../helpers/workers';
import { startPipeline } from '../../cli/pipelines';
import { ArtifactStore } from '../../storage/artifact-store';
import { listCheckpoints, readCheckpointFiles, readManifest } from '../../storage/checkpoints';
import type { PipelineResult } from '../../workflows/pipeline';
import { PHASES, tinySpec } from '../fixtures/tiny-pipeline';

before(async () => {
  await ensureStack();
});

async function failureOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, String(err));
    return String(err.cause?.message);
  }
  assert.fail('the pipeline succeeded');
}

test('an invalid spec is refused by `r1 start` with exit code 2 and nothing is started', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'r1-bad-'));
  const id = `never-${randomUUID().slice(0, 8)}`;
  writeFileSync(join(dir, 'spec.yaml'), `id: ${id}\ndatasets: {}\nphases: [{ kind: sft, steps: -1 }]\n`);
  const run = spawnSync(process.execPath, [join(__dirname, '..', '..', 'cli', 'r1.js'), 'start', join(dir, 'spec.yaml')], { encoding: 'utf8' });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /model: /);
  assert.match(run.stderr, /phases\.0\.steps: /);
  await assert.rejects((await testClient()).workflow.getHandle(id).describe(), WorkflowNotFoundError);
});

test('a missing checkpoint fails the pipeline at once with a message naming it', async () => {
  const store = ArtifactStore.fromEnv();
  const uri = store.uri(store.key(`pipelines/nowhere-${randomUUID()}/checkpoints/0-sft/step-00000001/manifest.json`));
  const spec = tinySpec([PHASES.eval], { model: { checkpoint: uri } });
  const message = await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () =>
    failureOf((await startPipeline(await testClient(), spec, `missing-${randomUUID().slice(0, 8)}`)).result()),
  );
  assert.match(message, /artifact not found/);
  assert.ok(message.includes(uri), message);
});

test('a corrupted checkpoint is detected by its hash, never loaded, and earlier checkpoints stay intact', async () => {
  const store = ArtifactStore.fromEnv();
  const source = `source-${randomUUID().slice(0, 8)}`;
  const pretrain = { ...PHASES.pretrain, steps: 4, checkpointEvery: 2 };
  const message = await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => {
    const client = await testClient();
    const first = (await (await startPipeline(client, tinySpec([pretrain]), source)).result()) as PipelineResult;
    const checkpoint = first.phases[0].checkpoint;
    const weights = (await readManifest(store, checkpoint)).files.find((f) => f.name === 'model.safetensors')!;
    await store.client.send(new PutObjectCommand({ Bucket: store.bucket, Key: weights.key, Body: Buffer.from('not weights') }));

    const spec = tinySpec([PHASES.eval], { model: { checkpoint: checkpoint.uri } });
    return failureOf((await startPipeline(client, spec, `corrupt-${randomUUID().slice(0, 8)}`)).result());
  });
  assert.match(message, /checksum mismatch/);
  assert.match(message, /model\.safetensors/);
  // The step-2 checkpoint and the starting model of the source run still load.
  const [step2] = await listCheckpoints(store, source, '0-pretrain');
  assert.equal(step2.step, 2);
  const ref = { ...(await store.adopt(store.uri(step2.manifestKey))).ref, pipelineId: source, phase: '0-pretrain', step: 2 };
  assert.ok((await readCheckpointFiles(store, ref))['model.safetensors'].length > 0);
});
