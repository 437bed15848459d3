import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ensureStack } from '../helpers/stack';
import { testClient, withWorkers } from '../helpers/workers';
import { r1 } from '../helpers/cli';
import { terminateIfRunning, waitForProgress } from '../helpers/pipelines';
import { startPipeline } from '../../cli/pipelines';
import { tinySpec } from '../fixtures/tiny-pipeline';
import { readPipelineAudit } from '../../cli/history';
import { ArtifactStore } from '../../storage/artifact-store';
import { listCheckpoints, readManifest } from '../../storage/checkpoints';
import type { CheckpointManifest } from '../../schemas/manifest';
import type { PipelineResult } from '../../workflows/pipeline';
import { pauseUpdate } from '../../workflows/messages';

/**
 * Pretraining, then an SFT phase of four checkpointed chunks of 100 steps: the one interrupted.
 * A chunk takes seconds, so that a pause sent after the first lands before the last.
 */
const spec = tinySpec(
  [
    { kind: 'pretrain', dataset: 'text', steps: 2, batchSize: 2, checkpointEvery: 2, optimizer: { lr: 0.01 } },
    { kind: 'sft', dataset: 'qa', steps: 400, batchSize: 4, checkpointEvery: 100, optimizer: { lr: 0.01 } },
  ],
  { seed: 2, timeouts: { heartbeatSeconds: 10 } },
);

const STEPS = [100, 200, 300, 400];

async function manifests(store: ArtifactStore, id: string, phase: string): Promise<CheckpointManifest[]> {
  const listed = await listCheckpoints(store, id, phase);
  return Promise.all(listed.map((c) => readManifest(store, { uri: store.uri(c.manifestKey) })));
}

before(async () => {
  await ensureStack();
});

test('r1 restart after terminate keeps the finished phase and resumes the broken one from its checkpoint; r1 history audits both runs', async (t) => {
  const client = await testClient();
  const store = ArtifactStore.fromEnv();
  const id = `cli-restart-${randomUUID().slice(0, 8)}`;
  t.after(() => terminateIfRunning(client.workflow.getHandle(id)));
  const pretrain = client.workflow.getHandle(`${id}/0-pretrain`);
  const sft = client.workflow.getHandle(`${id}/1-sft`);

  await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => {
    const first = await startPipeline(client, spec, id);
    // Held at a step boundary while the slow-starting CLI is refused, then terminated there.
    await waitForProgress(client, id, (p) => p.phase === '1-sft' && p.step >= 100);
    await first.executeUpdate(pauseUpdate);
    const refused = await r1('restart', id);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /still running/);
    await first.terminate('test: interrupted mid-phase');
    const watchedBroken = await r1('watch', id);
    assert.equal(watchedBroken.code, 1);
    assert.match(watchedBroken.stderr, new RegExp(`${id} terminated: test: interrupted mid-phase`));

    const pretrainRun = (await pretrain.describe()).runId;
    const brokenRun = (await sft.describe()).runId;
    const interrupted = await manifests(store, id, '1-sft');
    assert.ok(interrupted.length >= 1 && interrupted.length < STEPS.length, `interrupted mid-phase (steps ${interrupted.map((m) => m.step)})`);

    const restarted = await r1('restart', id);
    assert.equal(restarted.code, 0, restarted.stderr);
    assert.match(restarted.stdout, /kept finished phases: 0-pretrain\n/);
    const result: PipelineResult = await client.workflow.getHandle(id).result();
    assert.deepEqual(result.phases.map((p) => p.checkpoint.step), [2, 400]);

    // The finished phase was not run again: its one child execution is the first run's.
    assert.equal((await pretrain.describe()).runId, pretrainRun);
    const resumedRun = (await sft.describe()).runId;
    assert.notEqual(resumedRun, brokenRun);

    // Every step committed once; the first run's checkpoints untouched; the new run continued
    // the lineage from the last of them instead of starting again from step 0.
    // The cancelled activity may also have saved the steps it trained before it stopped: one more
    // checkpoint from the broken run, between two of the regular ones.
    const after = await manifests(store, id, '1-sft');
    assert.deepEqual(after.filter((m) => STEPS.includes(m.step)).map((m) => m.step), STEPS);
    for (const extra of after.filter((m) => !STEPS.includes(m.step))) assert.equal(extra.producer.runId, brokenRun);
    for (const old of interrupted) assert.deepEqual(after.find((m) => m.step === old.step), old);
    const resumed = after.filter((m) => m.producer.workflowId === `${id}/1-sft` && m.producer.runId === resumedRun);
    assert.ok(resumed.length > 0, 'the new run committed the rest');
    const firstResumed = resumed[0];
    const lastBroken = after[after.indexOf(firstResumed) - 1];
    assert.ok(firstResumed.step > interrupted.at(-1)!.step);
    assert.equal(lastBroken.producer.runId, brokenRun);
    assert.equal(firstResumed.parent?.step, lastBroken.step, 'the new run continued from the last checkpoint of the broken one');

    const [again, printed] = await Promise.all([r1('restart', id), r1('history', id)]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /completed; there is nothing to restart/);

    // The audit, structured.
    const audit = await readPipelineAudit(client, id);
    assert.deepEqual(audit.runs.map((r) => r.status), ['terminated', 'completed']);
    assert.equal(audit.runs[0].failure, 'test: interrupted mid-phase');
    assert.deepEqual(audit.runs[1].reused, ['0-pretrain']);
    const [pre, sftAudit] = audit.phases;
    assert.equal(pre.status, 'reused');
    assert.deepEqual(pre.executions.map((x) => x.runIds[0]), [pretrainRun]);
    assert.deepEqual(pre.executions[0].checkpoints.map((c) => c.step), [2]);
    assert.equal(sftAudit.status, 'completed');
    assert.deepEqual(sftAudit.executions.map((x) => [x.runIds[0], x.status]), [[brokenRun, 'terminated'], [resumedRun, 'completed']]);
    const auditedSteps = sftAudit.executions.flatMap((x) => x.checkpoints.map((c) => c.step));
    assert.deepEqual(auditedSteps, after.map((m) => m.step), 'each checkpoint attributed to the one execution that returned it first');
    assert.ok(sftAudit.executions[1].checkpoints[0].step > 100);
    assert.equal(sftAudit.checkpoint?.step, 400);
    assert.equal(typeof sftAudit.metrics?.loss, 'number');

    // And as printed.
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /run 1 \S+ {2}terminated/);
    assert.match(printed.stdout, /\n0-pretrain {2}reused\n {2}run 1: completed .*\n {4}checkpoint step 2 /);
    assert.match(printed.stdout, /\n1-sft {2}completed\n {2}run 1: terminated /);
    assert.match(printed.stdout, / {2}run 2: completed [^\n]*\n(?: {4}checkpoint step \d+ [^\n]*\n)+ {2}final checkpoint step 400 /);
    assert.match(printed.stdout, /metrics loss \d/);
  });
});

test('a phase that fails: r1 watch exits 1 with the failure, r1 history shows the failed activity and its message in each run', async (t) => {
  const client = await testClient();
  const id = `cli-failing-${randomUUID().slice(0, 8)}`;
  t.after(() => terminateIfRunning(client.workflow.getHandle(id)));
  // SFT on rows without prompt/completion: the training activity fails, and is not retried.
  const failing = tinySpec([{ kind: 'sft', dataset: 'text', steps: 4, batchSize: 2, checkpointEvery: 2, optimizer: { lr: 0.01 } }], { seed: 2, timeouts: { heartbeatSeconds: 10 } });
  const message = /SFT needs "prompt" and "completion" fields/;

  await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => {
    await startPipeline(client, failing, id);
    const watched = await r1('watch', id);
    assert.equal(watched.code, 1);
    assert.match(watched.stderr, new RegExp(`${id} failed: phase 0-sft failed: .*${message.source}`));
    const status = await r1('status', id);
    assert.equal(status.code, 1);
    assert.match(status.stdout, new RegExp(`${id}: FAILED: failed: phase 0-sft failed: .*${message.source}`));

    const restarted = await r1('restart', id);
    assert.equal(restarted.code, 0, restarted.stderr);
    assert.match(restarted.stdout, /no phase had finished: all run again/);
    assert.equal((await r1('watch', id)).code, 1);
  });

  const audit = await readPipelineAudit(client, id);
  assert.deepEqual(audit.runs.map((r) => r.status), ['failed', 'failed']);
  assert.match(audit.runs[1].failure!, message);
  const [phase] = audit.phases;
  assert.equal(phase.status, 'failed');
  assert.deepEqual(phase.executions.map((x) => x.status), ['failed', 'failed']);
  for (const x of phase.executions) {
    const train = x.activities.find((a) => a.activity === 'trainSftSteps')!;
    assert.equal(train.status, 'failed');
    assert.equal(train.summary, '0-sft: train steps to 2 of 4');
    assert.match(train.failures.join('\n'), message);
  }

  const printed = await r1('history', id);
  assert.match(printed.stdout, /\n0-sft {2}failed\n {2}run 1: failed .* 1 failed\n {4}failure: .*\n {4}trainSftSteps \(0-sft: train steps to 2 of 4\): failed after 1 attempt\n {6}! .*SFT needs/);
});
