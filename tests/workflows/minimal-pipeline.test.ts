import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ensureStack } from '../helpers/stack';
import { testClient, withWorkers } from '../helpers/workers';
import { validateSpec } from '../../cli/spec-file';
import { startPipeline } from '../../cli/pipelines';
import { ArtifactStore } from '../../storage/artifact-store';
import { decodeDatasetRows } from '../../activities/build-dataset';
import type { PipelineResult } from '../../workflows/pipeline';
import { R1Status } from '../../workflows/search-attributes';

const spec = validateSpec({
  model: { config: { vocabSize: 260, hiddenSize: 32, intermediateSize: 64, numLayers: 1, numHeads: 2, numKvHeads: 1, maxSeqLen: 64 } },
  datasets: {
    train: { kind: 'inline', rows: [{ prompt: 'What is 2 + 3?', answer: '5' }, { prompt: 'What is 4 * 4?', answer: '16' }] },
    heldout: { kind: 'inline', rows: [{ prompt: 'What is 9 - 7?', answer: '2' }] },
  },
  phases: [],
});

before(async () => {
  await ensureStack();
});

test('the minimal pipeline runs through real workers, stores its datasets in S3 and is searchable', async () => {
  const client = await testClient();
  const id = `minimal-${randomUUID().slice(0, 8)}`;
  const result = await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => {
    const handle = await startPipeline(client, spec, id);
    return (await handle.result()) as PipelineResult;
  });

  assert.deepEqual(Object.keys(result.datasets).sort(), ['heldout', 'train']);
  const store = ArtifactStore.fromEnv();
  const rows = decodeDatasetRows((await store.getBytes(result.datasets.train)).toString(), 'train');
  assert.deepEqual(rows, spec.datasets.train.kind === 'inline' ? spec.datasets.train.rows : []);
  assert.equal(result.datasets.train.rows, 2);

  // The pipeline and its child are found by the typed search attributes, through the list API.
  const found: string[] = [];
  const deadline = Date.now() + 20_000; // visibility is eventually consistent
  while (Date.now() < deadline) {
    found.length = 0;
    for await (const wf of client.workflow.list({ query: `R1Pipeline = '${id}'` })) found.push(wf.workflowId);
    if (found.length === 2) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(found.sort(), [id, `${id}/datasets`]);

  const described = await client.workflow.getHandle(id).describe();
  assert.equal(described.status.name, 'COMPLETED');
  assert.equal(described.typedSearchAttributes.get(R1Status), 'completed');
  assert.match(String(described.memo?.specHash), /^[0-9a-f]{64}$/);
});
