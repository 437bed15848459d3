import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ensureStack } from '../helpers/stack';
import { testClient, withWorkers } from '../helpers/workers';
import { r1 } from '../helpers/cli';
import { terminateIfRunning, waitForProgress, waitUntil } from '../helpers/pipelines';
import { startPipeline } from '../../cli/pipelines';
import { tinySpec } from '../fixtures/tiny-pipeline';
import type { PipelineResult } from '../../workflows/pipeline';
import { R1Status } from '../../workflows/search-attributes';
import { pauseUpdate, resumeUpdate } from '../../workflows/messages';

/**
 * Pretraining, then an SFT phase long enough (thirty checkpointed chunks of ten steps) for the
 * slow-starting CLI to pause it in.
 */
const SFT_STEPS = 300;
const spec = tinySpec(
  [
    { kind: 'pretrain', dataset: 'text', steps: 4, batchSize: 2, checkpointEvery: 2, optimizer: { lr: 0.01 } },
    { kind: 'sft', dataset: 'qa', steps: SFT_STEPS, batchSize: 4, checkpointEvery: 10, optimizer: { lr: 0.01 } },
  ],
  { seed: 1, timeouts: { heartbeatSeconds: 10 } },
);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  await ensureStack();
});

test('r1 pause holds a pipeline at a step boundary, r1 resume lets it finish, r1 watch follows it all', async (t) => {
  const client = await testClient();
  const id = `cli-pause-${randomUUID().slice(0, 8)}`;
  t.after(() => terminateIfRunning(client.workflow.getHandle(id)));
  await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => {
    const handle = await startPipeline(client, spec, id);
    const watching = r1('watch', id); // not a TTY here: one line per change

    await waitForProgress(client, id, (p) => p.phase === '1-sft' && p.step >= 10);
    const paused = await r1('pause', id);
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, new RegExp(`${id}: paused \\(phase 1-sft, step \\d+/${SFT_STEPS}\\)`));

    // The chunk in flight still lands; then the phase holds at its boundary with nothing scheduled.
    const phase = client.workflow.getHandle(`${id}/1-sft`);
    const idle = async () => ((await phase.describe()).raw.pendingActivities ?? []).length === 0;
    await waitUntil(idle, 'the paused phase has no activity scheduled');
    await sleep(2000);
    const held = await waitForProgress(client, id, () => true);
    await sleep(2000);
    const still = await waitForProgress(client, id, () => true);
    assert.equal(held.status, 'paused');
    assert.equal(still.step, held.step, 'no step while paused');
    assert.ok(held.step < SFT_STEPS, `paused before the end (step ${held.step})`);
    assert.ok(await idle(), 'nothing scheduled while paused');
    assert.equal((await phase.describe()).status.name, 'RUNNING');
    assert.equal((await handle.describe()).typedSearchAttributes.get(R1Status), 'paused');

    const resumed = await r1('resume', id);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`${id}: running`));
    const result: PipelineResult = await handle.result();
    assert.deepEqual(result.phases.map((p) => p.name), ['0-pretrain', '1-sft']);
    assert.equal(result.phases[1].checkpoint.step, SFT_STEPS);

    const watched = await watching;
    assert.equal(watched.code, 0, watched.stderr);
    const lines = watched.stdout.trim().split('\n');
    assert.ok(lines.some((l) => new RegExp(`^paused · phase 2/2 1-sft · step \\d+/${SFT_STEPS} · loss \\d`).test(l)), watched.stdout);
    assert.ok(lines.some((l) => new RegExp(`^running · phase 2/2 1-sft · step \\d+/${SFT_STEPS}`).test(l)), watched.stdout);
    assert.ok(lines.every((l, i) => l !== lines[i - 1]), 'a line only when something changed');
    assert.match(lines.at(-1)!, new RegExp(`^${id} completed: 2/2 phases · 1-sft loss \\d`));
  });
});

test('r1 stop finishes the running phase and stops; r1 watch of a closed pipeline reports how it ended; r1 restart continues it', async (t) => {
  const client = await testClient();
  const id = `cli-stop-${randomUUID().slice(0, 8)}`;
  t.after(() => terminateIfRunning(client.workflow.getHandle(id)));
  await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => {
    const handle = await startPipeline(client, spec, id);
    // Held inside the first phase (between its two chunks), so that the slow-starting CLI surely lands there.
    await waitForProgress(client, id, (p) => p.phase === '0-pretrain');
    await handle.executeUpdate(pauseUpdate);
    const stopped = await r1('stop', id);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, new RegExp(`${id}: stops when 0-pretrain finishes`));
    await handle.executeUpdate(resumeUpdate);
    const result: PipelineResult = await handle.result();
    assert.equal(result.stoppedEarly, true);
    assert.deepEqual(result.phases.map((p) => p.name), ['0-pretrain']);

    const watched = await r1('watch', id);
    assert.equal(watched.code, 0, watched.stderr);
    assert.match(watched.stdout, new RegExp(`${id} completed: 1/2 phases \\(stopped early\\)`));
    const status = await r1('status', id);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`${id}: COMPLETED \\(stopped after 1 phases; continue with \`r1 restart ${id}\`\\)`));

    // A stopped pipeline goes on where it stopped.
    const continued = await r1('restart', id);
    assert.equal(continued.code, 0, continued.stderr);
    assert.match(continued.stdout, /kept finished phases: 0-pretrain\n/);
    const rest: PipelineResult = await client.workflow.getHandle(id).result();
    assert.deepEqual([rest.stoppedEarly, rest.phases.map((p) => p.name)], [false, ['0-pretrain', '1-sft']]);
  });

  const unknown = await r1('pause', `${id}-nope`);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /not found/i);
});
