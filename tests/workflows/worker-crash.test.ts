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

/** Waits until the GRPO phase has published the policy of `step` (progress reports are throttled; S3 is not). */
async function untilGrpoStep(id: string, step: number): Promise<void> {
  const store = ArtifactStore.fromEnv();
  for (let tries = 0; tries < 3000; tries++) {
    if ((await listCheckpoints(store, id, '1-grpo.policy')).some((c) => c.step >= step)) return;
    await sleep(100);
  }
  throw new Error(`${id}: GRPO never reached step ${step}`);
}

test('a trainer worker SIGKILLed mid-GRPO is replaced; every step is committed exactly once; two rollout workers share the work', async () => {
  const id = `crash-${randomUUID().slice(0, 8)}`;
  const grpo = { ...PHASES.grpo, steps: 6, shards: 4, checkpointEvery: 3 };
  const spec = tinySpec([PHASES.sft, grpo], { timeouts: { heartbeatSeconds: 3 } });
  const processes: WorkerProcess[] = [startWorkerProcess('compute'), startWorkerProcess('compute')];
  try {
    const result = await withWorkers(['orchestration', 'cpu'], async () => {
      const client = await testClient();
      const handle = await startPipeline(client, spec, id);

      // Wait until GRPO is under way, then kill the process that holds its trainer.
      await untilGrpoStep(id, 2);
      const trainerQueues = (await events(`${id}/1-grpo`, 'activityTaskScheduledEventAttributes'))
        .filter((a) => (a.activityType as { name: string }).name === 'trainGrpoStep')
        .map((a) => (a.taskQueue as { name: string }).name);
      const victim = processes.find((p) => trainerQueues.at(-1)!.includes(`-${p.child.pid}-`));
      assert.ok(victim, `no worker process owns ${trainerQueues.at(-1)}`);
      await victim.kill('SIGKILL');
      processes.push(startWorkerProcess('compute'));

      return (await handle.result()) as PipelineResult;
    });

    assert.equal(result.phases[1].checkpoint.step, 6);
    const store = ArtifactStore.fromEnv();
    assert.deepEqual((await listCheckpoints(store, id, '1-grpo')).map((c) => c.step), [3, 6]);
    assert.deepEqual((await listCheckpoints(store, id, '1-grpo.policy')).map((c) => c.step), [1, 2, 3, 4, 5, 6]);

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

test('a trainer worker stopped with SIGTERM mid-GRPO saves the steps it trained; the next trainer continues from them', async () => {
  const id = `stop-${randomUUID().slice(0, 8)}`;
  // No regular checkpoint before the last step: any earlier one is the shutdown's. Colocated
  // rollouts: the trainer that takes over also samples the step the stopped one was sampling.
  const grpo = { ...PHASES.grpo, steps: 6, shards: 1, colocate: true, checkpointEvery: 6 };
  const spec = tinySpec([PHASES.sft, grpo], { timeouts: { heartbeatSeconds: 3 } });
  const processes: WorkerProcess[] = [startWorkerProcess('compute')];
  try {
    const result = await withWorkers(['orchestration', 'cpu'], async () => {
      const handle = await startPipeline(await testClient(), spec, id);
      await untilGrpoStep(id, 2);
      await processes[0].kill('SIGTERM');
      assert.equal(processes[0].child.exitCode, 0, `the stopped worker failed; see ${processes[0].log}`);
      processes.push(startWorkerProcess('compute'));
      return (await handle.result()) as PipelineResult;
    });

    assert.equal(result.phases[1].checkpoint.step, 6);
    const store = ArtifactStore.fromEnv();
    const checkpoints = await listCheckpoints(store, id, '1-grpo');
    assert.equal(checkpoints.length, 2, `checkpoints at steps ${checkpoints.map((c) => c.step)}`);
    const [saved, last] = await Promise.all(checkpoints.map((c) => readManifest(store, { uri: store.uri(c.manifestKey) })));
    assert.ok(saved.step >= 2 && saved.step < 6, `saved at step ${saved.step}`);
    assert.equal(saved.producer.activity, 'worker shutdown');
    assert.equal(last.parent?.step, saved.step, 'the next trainer continued from the saved steps');
    assert.deepEqual((await listCheckpoints(store, id, '1-grpo.policy')).map((c) => c.step), [1, 2, 3, 4, 5, 6]);
  } finally {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  }
});
