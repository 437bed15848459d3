import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startPipeline } from '../../cli/pipelines';
import { keys } from '../../schemas/layout';
import { ArtifactStore } from '../../storage/artifact-store';
import { listCheckpoints, readManifest } from '../../storage/checkpoints';
import { freeLocalPort } from '../../workers/metrics';
import type { PipelineResult } from '../../workflows/pipeline';
import { PHASES, tinySpec } from '../fixtures/tiny-pipeline';
import { startWorkerProcess, type WorkerProcess } from '../helpers/processes';
import { ensureStack } from '../helpers/stack';
import { readEventFile } from '../helpers/tfevents';
import { testClient } from '../helpers/workers';

let worker: WorkerProcess;
let port: number;

before(async () => {
  await ensureStack();
  port = await freeLocalPort();
  worker = startWorkerProcess('orchestration,cpu,rollout,train', ['--metrics-port', String(port), '--log-format', 'json']);
});

after(async () => {
  await worker?.kill('SIGTERM');
});

/** One sample's value from a Prometheus text exposition, by name and labels. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

test('a worker serves Prometheus metrics, the Temporal SDK\'s and ours, and each phase writes TensorBoard curves beside its checkpoints', async () => {
  const id = `metrics-${randomUUID().slice(0, 8)}`;
  const spec = tinySpec([PHASES.sft, { ...PHASES.grpo, shards: 1 }]);
  const result: PipelineResult = await (await startPipeline(await testClient(), spec, id)).result();
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await res.text();

  // The SDK's own worker metrics, from the same endpoint.
  assert.match(text, /^temporal_\w+/m, 'Temporal SDK metrics');
  assert.ok((sample(text, 'temporal_activity_execution_latency_count', { activity_type: 'trainGrpoStep' }) ?? 0) >= 3, 'SDK activity latencies');

  const grpo = { pipeline: id, phase: '1-grpo' };
  const final = result.phases[1].metrics;
  assert.equal(sample(text, 'r1_train_step', grpo), 3);
  for (const [metric, value] of [['r1_reward', final.reward], ['r1_accuracy', final.accuracy], ['r1_kl', final.kl], ['r1_clip_fraction', final.clipLow + final.clipHigh], ['r1_train_loss', final.loss]] as const) {
    assert.equal(sample(text, metric, grpo), value, `${metric}: the last GRPO step's`);
  }
  assert.ok(sample(text, 'r1_train_step_seconds', grpo)! > 0);
  assert.ok(sample(text, 'r1_train_tokens_per_second', grpo)! > 0);
  assert.ok(sample(text, 'r1_train_tokens_per_second', { pipeline: id, phase: '0-sft' })! > 0);
  assert.ok(sample(text, 'r1_rollout_tokens_per_second', grpo)! > 0);
  assert.equal(sample(text, 'r1_activity_queue_wait_seconds_count', { activity: 'trainGrpoStep' }), 3);
  assert.equal(sample(text, 'r1_activity_seconds_count', { activity: 'generateRollouts', outcome: 'completed' }), 3);

  // TensorBoard: the SFT's 60 steps in two files (one per checkpoint), GRPO's 3 with the policies' metrics.
  const store = ArtifactStore.fromEnv();
  const files = async (run: string) => {
    const found: string[] = [];
    for await (const { key } of store.list(store.key(keys.tensorboard(id, run)))) found.push(key);
    return found.sort();
  };
  const sft = await files('0-sft');
  assert.deepEqual(sft.map((k) => k.split('/').at(-1)), ['events.out.tfevents.0000000001.r1', 'events.out.tfevents.0000000031.r1']);
  const sftSteps = (await Promise.all(sft.map(async (k) => readEventFile(await store.getBytes({ uri: store.uri(k) }))))).flat();
  assert.deepEqual(sftSteps.filter((e) => !e.fileVersion).map((e) => e.step), Array.from({ length: 60 }, (_, i) => i + 1));
  const grpoEvents = (await Promise.all((await files('1-grpo')).map(async (k) => readEventFile(await store.getBytes({ uri: store.uri(k) }))))).flat().filter((e) => !e.fileVersion);
  assert.deepEqual(grpoEvents.map((e) => e.step), [1, 2, 3]);
  for (const { step, manifestKey } of await listCheckpoints(store, id, '1-grpo.policy')) {
    const { metrics } = await readManifest(store, { uri: store.uri(manifestKey) });
    const event = grpoEvents.find((e) => e.step === step)!;
    for (const tag of ['reward', 'kl', 'accuracy', 'clipLow', 'clipHigh', 'loss']) assert.equal(event.values[tag], Math.fround(metrics[tag]), `step ${step} ${tag}`);
  }
});

test('the worker, started with --log-format json, logged one JSON object per line', async () => {
  const lines = readFileSync(worker.log, 'utf8').split('\n').filter(Boolean);
  assert.equal(lines.filter((l) => /^\S+ \[(TRACE|DEBUG|INFO|WARN|ERROR)\] /.test(l)).length, 0, 'no line in the text format');
  const entries = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(entries.length > 0, `JSON lines in ${worker.log}`);
  for (const e of entries) {
    assert.ok(!Number.isNaN(Date.parse(String(e.time))) && typeof e.level === 'string' && typeof e.message === 'string', JSON.stringify(e));
  }
  assert.ok(entries.some((e) => typeof e.taskQueue === 'string'), 'log metadata (the task queue) as fields');
});
