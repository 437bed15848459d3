import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { testClient, withWorkers } from '../helpers/workers';
import { validateSpec } from '../../cli/spec-file';
import { startPipeline } from '../../cli/pipelines';
import { ArtifactStore } from '../../storage/artifact-store';
import type { PipelineResult } from '../../workflows/pipeline';

const r1 = (...args: string[]) =>
  execFileSync(process.execPath, [join(__dirname, '..', '..', 'cli', 'r1.js'), ...args], { encoding: 'utf8', timeout: 120_000 });

const spec = validateSpec({
  model: { config: { vocabSize: 260, hiddenSize: 32, intermediateSize: 64, numLayers: 1, numHeads: 2, numKvHeads: 1, maxSeqLen: 64 } },
  datasets: { facts: { kind: 'inline', rows: [{ text: 'two plus two is four' }] } },
  phases: [],
});

test('stack up, a pipeline, down, up again: its history and its artifact survive', async () => {
  const up = r1('stack', 'up');
  assert.match(up, /Temporal\s+127\.0\.0\.1:7233/);
  assert.match(up, /Web UI\s+http:\/\/127\.0\.0\.1:8233/);
  assert.match(up, /S3\s+http:\/\/127\.0\.0\.1:8333/);

  const id = `survives-${randomUUID().slice(0, 8)}`;
  const result = await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => {
    const handle = await startPipeline(await testClient(), spec, id);
    return (await handle.result()) as PipelineResult;
  });

  assert.match(r1('stack', 'down'), /stopped temporal and s3/);
  assert.match(r1('stack', 'status'), /temporal\s+down/);
  const again = r1('stack', 'up');
  assert.match(again, /started temporal and s3/);

  const described = await (await testClient()).workflow.getHandle(id).describe();
  assert.equal(described.status.name, 'COMPLETED');
  const body = await ArtifactStore.fromEnv().getBytes(result.datasets.facts);
  assert.match(body.toString(), /two plus two is four/);
  assert.match(r1('stack', 'status'), /temporal\s+up\s+local\s+pid \d+/);
});
