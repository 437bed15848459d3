import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { stringify } from 'yaml';
import { ensureStack } from '../helpers/stack';
import { r1 } from '../helpers/cli';
import { testClient, withWorkers } from '../helpers/workers';
import { pipelineInput, startPipeline } from '../../cli/pipelines';
import { validateSpec } from '../../cli/spec-file';
import { keys } from '../../schemas/layout';
import { ArtifactStore } from '../../storage/artifact-store';

before(async () => {
  await ensureStack();
});

const model = { config: { vocabSize: 260, hiddenSize: 32, intermediateSize: 64, numLayers: 1, numHeads: 2, numKvHeads: 1, maxSeqLen: 64 } };

function specFile(spec: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'r1-start-')), 'spec.yaml');
  writeFileSync(path, stringify(spec));
  return path;
}

test('r1 start checks datasets in S3 before anything starts, naming the spec path of each problem', async () => {
  const store = ArtifactStore.fromEnv();
  const id = `absent-${randomUUID().slice(0, 8)}`;
  const missing = store.uri(store.key(`nowhere/${randomUUID()}.jsonl`));
  const broken = (await store.putBytes(store.key(`tests/${randomUUID()}.jsonl`), Buffer.from('{"prompt": "fine"}\nnot json\n'))).ref.uri;
  const run = await r1('start', specFile({ model, datasets: { a: { kind: 's3', uri: missing }, b: { kind: 's3', uri: broken } }, phases: [] }), '--id', id);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, new RegExp(`datasets\\.a\\.uri: no object at ${missing}`));
  assert.match(run.stderr, /datasets\.b\.uri: .* line 2: not JSON/);
  await assert.rejects((await testClient()).workflow.getHandle(id).describe(), WorkflowNotFoundError);
});

test('inline datasets are uploaded by the client: megabytes of rows start, and only refs reach the workflow', async () => {
  const client = await testClient();
  const id = `inline-${randomUUID().slice(0, 8)}`;
  const rows = Array.from({ length: 30_000 }, (_, i) => ({ prompt: `question ${i} ${'x'.repeat(80)}`, answer: String(i) }));
  const spec = validateSpec({ model, datasets: { big: { kind: 'inline', rows } }, phases: [] });
  const result = await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => (await startPipeline(client, spec, id)).result());
  assert.equal(result.datasets.big.rows, rows.length);
  assert.ok(result.datasets.big.bytes > 3_000_000, `${result.datasets.big.bytes} bytes`);

  const { spec: received } = await pipelineInput(client, id);
  const store = ArtifactStore.fromEnv();
  assert.deepEqual(received.datasets, { big: { kind: 's3', uri: store.uri(store.key(keys.dataset(id, 'big'))) } });
  const { history } = await client.workflowService.getWorkflowExecutionHistory({ namespace: client.options.namespace, execution: { workflowId: id }, maximumPageSize: 1 });
  const input = history!.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0].data!;
  assert.ok(input.length < 16_000, `the workflow input is ${input.length} bytes`);

  // An id runs one pipeline: starting another spec under it is refused, pointing to r1 restart.
  const again = await r1('start', specFile({ model, datasets: {}, phases: [] }), '--id', id);
  assert.equal(again.code, 2);
  assert.match(again.stderr, new RegExp(`pipeline ${id} already exists \\(completed\\): .*r1 restart ${id}`));
});

test('every command answers --help, and an unreachable Temporal is named with a hint', async () => {
  for (const command of ['stack', 'worker', 'start', 'status', 'watch', 'pause', 'resume', 'stop', 'restart', 'history', 'list', 'demo', 'report', 'score']) {
    const run = await r1(command, '--help');
    assert.equal(run.code, 0, `${command}: ${run.stderr}`);
    assert.match(run.stdout, new RegExp(`r1 (\\S+\\|)?${command}\\b`), command);
  }
  // A port nothing listens on.
  const down = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(process.execPath, [join(__dirname, '..', '..', 'cli', 'r1.js'), 'status', 'anything'], { env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' }, encoding: 'utf8' }, (err, _out, stderr) =>
      resolve({ code: err ? Number(err.code) : 0, stderr }),
    );
  });
  assert.equal(down.code, 1);
  assert.match(down.stderr, /cannot reach Temporal at 127\.0\.0\.1:1 .*check the address/);
});
