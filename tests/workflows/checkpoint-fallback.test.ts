import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ensureStack } from '../helpers/stack';
import { terminateIfRunning, waitUntil } from '../helpers/pipelines';
import { testClient, withWorkers } from '../helpers/workers';
import { startPipeline } from '../../cli/pipelines';
import { restartPipeline } from '../../cli/restart';
import { ArtifactStore } from '../../storage/artifact-store';
import { checkpointProblem, listCheckpoints, readManifest } from '../../storage/checkpoints';
import type { CheckpointRef } from '../../schemas/refs';
import type { PipelineResult } from '../../workflows/pipeline';
import { pauseUpdate } from '../../workflows/messages';
import { PHASES, tinySpec } from '../fixtures/tiny-pipeline';

before(async () => {
  await ensureStack();
});

/**
 * A phase interrupted after a few checkpoints, whose newest checkpoint is then altered in S3 (as
 * a bad disk or a hand edit would): `r1 restart` must not load it, nor stop at it forever. The new
 * run sets it aside (its manifest moves to manifest.rejected.json, with the reason) and goes on
 * from the newest checkpoint that verifies, redoing the steps after it.
 */
const cases = {
  sft: { phase: { ...PHASES.sft, steps: 200, checkpointEvery: 20 }, name: '1-sft' },
  grpo: { phase: { ...PHASES.grpo, steps: 12, shards: 1, checkpointEvery: 2 }, name: '1-grpo' },
};

for (const [kind, { phase, name }] of Object.entries(cases)) {
  test(`a restarted ${kind} phase falls back past a checkpoint that fails verification, and says so`, async (t) => {
    const client = await testClient();
    const store = ArtifactStore.fromEnv();
    const id = `fallback-${kind}-${randomUUID().slice(0, 8)}`;
    t.after(() => terminateIfRunning(client.workflow.getHandle(id)));
    const spec = tinySpec(kind === 'sft' ? [PHASES.pretrain, phase] : [PHASES.sft, phase]);

    // The first run's workers go with it (a crash, say): the restart's trainer has only S3 to go by.
    await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => {
      const first = await startPipeline(client, spec, id);
      await waitUntil(async () => (await listCheckpoints(store, id, name)).length >= 2, `${name} has two checkpoints`);
      // Held at a step boundary with nothing in flight, so that no late save follows the terminate.
      await first.executeUpdate(pauseUpdate);
      const child = client.workflow.getHandle(`${id}/${name}`);
      await waitUntil(async () => ((await child.describe()).raw.pendingActivities ?? []).length === 0, 'the paused phase is idle');
      await first.terminate('test: interrupted');
    });
    // Listed once the workers are gone: a trainer saves the steps it held beyond its last checkpoint as it stops.
    const interrupted = await listCheckpoints(store, id, name);
    const newest = interrupted.at(-1)!;
    const manifest = await readManifest(store, { uri: store.uri(newest.manifestKey) });
    const weights = manifest.files.find((f) => f.name === 'model.safetensors')!;
    await store.client.send(new PutObjectCommand({ Bucket: store.bucket, Key: weights.key, Body: Buffer.from('not weights') }));

    const final = await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => {
      await restartPipeline(client, id);
      return (await client.workflow.getHandle(id).result()) as PipelineResult;
    });
    const result = { final, newest: newest.step, before: interrupted.at(-2)!.step };

    assert.equal(result.final.phases[1].checkpoint.step, phase.steps);
    assert.ok(result.newest < phase.steps, `interrupted before the end (at step ${result.newest})`);
    // The altered checkpoint was set aside with its reason.
    const rejected = JSON.parse((await store.adopt(store.uri(store.key(`pipelines/${id}/checkpoints/${name}/step-${String(result.newest).padStart(8, '0')}/manifest.rejected.json`)))).body.toString());
    assert.match(rejected.reason, /checksum mismatch .*model\.safetensors/);
    // The final checkpoint's lineage continues from the one before it, and every checkpoint in it verifies.
    const lineage: number[] = [];
    for (let ref: CheckpointRef | null = result.final.phases[1].checkpoint; ref && ref.phase === name; ref = (await readManifest(store, ref)).parent) {
      assert.equal(await checkpointProblem(store, ref), null, `step ${ref.step}`);
      lineage.push(ref.step);
    }
    assert.ok(lineage.includes(result.before), `lineage ${lineage} passes through step ${result.before}`);
  });
}
