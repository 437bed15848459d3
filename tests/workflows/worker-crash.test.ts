import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ensureStack } from '../helpers/stack';
import { testClient, withWorkers } from '../helpers/workers';
import { startWorkerProcess, type WorkerProcess } from '../helpers/processes';
import { startPipeline } from '../../cli/pipelines';
import { ArtifactStore } from '../../storage/artifact-store';
import { listCheckpoints, readManifest } from '../../storage/checkpoints';
import type { PipelineResult } from '../../workflows/pipeline';
import type { PipelineSpec } from '../../schemas/pipeline-spec';
import { PHASES, tinySpec } from '../fixtures/tiny-pipeline';

before(async () => {
  await ensureStack();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Event attributes of one kind in a workflow's history, across its continued-as-new runs. */
async function events(workflowId: string, kind: 'activityTaskScheduledEventAttributes' | 'activityTaskStartedEventAttributes') {
  const client = await testClient();
  const found: Record<string, unknown>[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const history = await client.workflow.getHandle(workflowId, wf.runId).fetchHistory();
    for (const e of history.events ?? []) if (e[kind]) found.push({ ...(e[kind] as object), eventId: Number(e.eventId) });
  }
  return found;
}

/** Waits until the GRPO phase has published the policy of `step` (progress reports are throttled; S3 is not); returns the newest step. */
async function untilGrpoStep(id: string, step: number): Promise<number> {
  const store = ArtifactStore.fromEnv();
  for (let tries = 0; tries < 3000; tries++) {
    const newest = (await listCheckpoints(store, id, '1-grpo.policy')).at(-1)?.step ?? 0;
    if (newest >= step) return newest;
    await sleep(100);
  }
  throw new Error(`${id}: GRPO never reached step ${step}`);
}

/** Every GRPO policy and checkpoint file of a run, by step and name, with its SHA-256. */
async function weights(id: string): Promise<string[]> {
  const store = ArtifactStore.fromEnv();
  const files: string[] = [];
  for (const phase of ['1-grpo', '1-grpo.policy']) {
    for (const c of await listCheckpoints(store, id, phase)) {
      const manifest = await readManifest(store, { uri: store.uri(c.manifestKey) });
      for (const f of manifest.files) if (f.name !== 'state.json' || phase === '1-grpo') files.push(`${phase} ${c.step} ${f.name} ${f.sha256}`);
    }
  }
  return files.sort();
}

/** The policies a run of `spec` publishes when nothing goes wrong: what a run with a fault must end with. */
async function uninterrupted(spec: PipelineSpec): Promise<string[]> {
  const id = `reference-${randomUUID().slice(0, 8)}`;
  await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => (await startPipeline(await testClient(), spec, id)).result());
  return (await weights(id)).filter((f) => f.startsWith('1-grpo.policy'));
}

/** One engine thread: runs of a spec are then bit-identical, whichever trainer applies a step. */
const deterministic = { runtime: { chatTemplate: 'plain' }, timeouts: { heartbeatSeconds: 3 } };

test('a trainer worker SIGKILLed mid-GRPO is replaced; every step is committed exactly once, with the weights of a run without the fault; two rollout workers share the work', async (t) => {
  const id = `crash-${randomUUID().slice(0, 8)}`;
  const grpo = { ...PHASES.grpo, steps: 6, shards: 4, checkpointEvery: 3 };
  const spec = tinySpec([PHASES.sft, grpo], deterministic);
  const expected = await uninterrupted(spec);
  const processes: WorkerProcess[] = [startWorkerProcess('rollout,train'), startWorkerProcess('rollout,train')];
  try {
    const result = await withWorkers(['orchestration', 'cpu'], async () => {
      const client = await testClient();
      const handle = await startPipeline(client, spec, id);

      // Wait until GRPO is under way, then kill the process that holds its trainer.
      const atKill = await untilGrpoStep(id, 2);
      const trainerQueues = (await events(`${id}/1-grpo`, 'activityTaskScheduledEventAttributes'))
        .filter((a) => (a.activityType as { name: string }).name === 'trainGrpoStep')
        .map((a) => (a.taskQueue as { name: string }).name);
      const victim = processes.find((p) => trainerQueues.at(-1)!.includes(`-${p.child.pid}-`));
      assert.ok(victim, `no worker process owns ${trainerQueues.at(-1)}`);
      processes.push(startWorkerProcess('rollout,train'));
      const killed = Date.now();
      await victim.kill('SIGKILL');
      if (atKill < grpo.steps) {
        await untilGrpoStep(id, atKill + 1);
        t.diagnostic(`next GRPO step published ${((Date.now() - killed) / 1000).toFixed(1)} s after the SIGKILL (heartbeat timeout ${spec.timeouts.heartbeatSeconds} s)`);
      }

      return (await handle.result()) as PipelineResult;
    });

    assert.equal(result.phases[1].checkpoint.step, 6);
    const store = ArtifactStore.fromEnv();
    assert.deepEqual((await listCheckpoints(store, id, '1-grpo')).map((c) => c.step), [3, 6]);
    assert.deepEqual((await listCheckpoints(store, id, '1-grpo.policy')).map((c) => c.step), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual((await weights(id)).filter((f) => f.startsWith('1-grpo.policy')), expected);

    const scheduled = await events(`${id}/1-grpo`, 'activityTaskScheduledEventAttributes');
    const trainers = new Set(scheduled.filter((a) => (a.activityType as { name: string }).name === 'trainGrpoStep').map((a) => (a.taskQueue as { name: string }).name));
    assert.ok(trainers.size >= 2, `the phase kept one trainer queue: ${[...trainers]}`);

    const started = await events(`${id}/1-grpo`, 'activityTaskStartedEventAttributes');
    const scheduledById = new Map(scheduled.map((a) => [a.eventId, (a.activityType as { name: string }).name]));
    const rolloutWorkers = new Set(
      started.filter((a) => scheduledById.get(Number(a.scheduledEventId)) === 'generateRollouts').map((a) => String(a.identity)),
    );
    assert.ok(rolloutWorkers.size >= 2, `rollouts ran on ${[...rolloutWorkers]} only`);
  } finally {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  }
});

test('a trainer worker stopped with SIGTERM mid-GRPO saves the steps it trained and hands its phase over; the next trainer continues from them, to the weights of a run without the fault', async (t) => {
  const id = `stop-${randomUUID().slice(0, 8)}`;
  // No regular checkpoint before the last step: any earlier one is the shutdown's. Colocated
  // rollouts: the trainer that takes over also samples the step the stopped one was sampling.
  const grpo = { ...PHASES.grpo, steps: 6, shards: 1, colocate: true, checkpointEvery: 6 };
  const spec = tinySpec([PHASES.sft, grpo], deterministic);
  const expected = await uninterrupted(spec);
  const processes: WorkerProcess[] = [startWorkerProcess('rollout,train'), startWorkerProcess('rollout,train')];
  try {
    const result = await withWorkers(['orchestration', 'cpu'], async () => {
      const handle = await startPipeline(await testClient(), spec, id);
      const atStop = await untilGrpoStep(id, 2);
      const trainer = (await events(`${id}/1-grpo`, 'activityTaskScheduledEventAttributes'))
        .filter((a) => (a.activityType as { name: string }).name === 'trainGrpoStep')
        .map((a) => (a.taskQueue as { name: string }).name)
        .at(-1)!;
      const victim = processes.find((p) => trainer.includes(`-${p.child.pid}-`))!;
      const stopped = Date.now();
      const exited = victim.kill('SIGTERM');
      if (atStop < grpo.steps) {
        await untilGrpoStep(id, atStop + 1);
        t.diagnostic(`next GRPO step published ${((Date.now() - stopped) / 1000).toFixed(1)} s after the SIGTERM`);
      }
      await exited;
      assert.equal(victim.child.exitCode, 0, `the stopped worker failed; see ${victim.log}`);
      return (await handle.result()) as PipelineResult;
    });

    assert.equal(result.phases[1].checkpoint.step, 6);
    const store = ArtifactStore.fromEnv();
    const checkpoints = await listCheckpoints(store, id, '1-grpo');
    assert.equal(checkpoints.length, 2, `checkpoints at steps ${checkpoints.map((c) => c.step)}`);
    const [saved, last] = await Promise.all(checkpoints.map((c) => readManifest(store, { uri: store.uri(c.manifestKey) })));
    assert.ok(saved.step >= 2 && saved.step < 6, `saved at step ${saved.step}`);
    // Saved by the step under way when it finished (or, between steps, by the shutdown itself).
    assert.ok(['trainGrpoStep', 'worker shutdown'].includes(saved.producer.activity), saved.producer.activity);
    assert.equal(last.parent?.step, saved.step, 'the next trainer continued from the saved steps');
    // The phase learned of the leaving trainer from its answer, not by waiting for a timeout.
    const client = await testClient();
    const timedOut: string[] = [];
    for await (const wf of client.workflow.list({ query: `WorkflowId = '${id}/1-grpo'` })) {
      const history = await client.workflow.getHandle(`${id}/1-grpo`, wf.runId).fetchHistory();
      for (const e of history.events ?? []) if (e.activityTaskTimedOutEventAttributes) timedOut.push(String(e.eventId));
    }
    assert.deepEqual(timedOut, []);
    assert.deepEqual((await listCheckpoints(store, id, '1-grpo.policy')).map((c) => c.step), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual((await weights(id)).filter((f) => f.startsWith('1-grpo.policy')), expected);
  } finally {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  }
});
