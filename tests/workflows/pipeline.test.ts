import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ensureStack } from '../helpers/stack';
import { testClient, withWorkers } from '../helpers/workers';
import { startPipeline } from '../../cli/pipelines';
import { ArtifactStore } from '../../storage/artifact-store';
import { listCheckpoints, readManifest } from '../../storage/checkpoints';
import type { PipelineResult } from '../../workflows/pipeline';
import { tinySpec, WHOLE_RECIPE } from '../fixtures/tiny-pipeline';

before(async () => {
  await ensureStack();
});

test('the whole recipe runs through real workers; every phase ends in a checkpoint whose lineage leads back to the start', async () => {
  const id = `recipe-${randomUUID().slice(0, 8)}`;
  const spec = tinySpec(WHOLE_RECIPE);
  const result = await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => {
    const handle = await startPipeline(await testClient(), spec, id);
    return (await handle.result()) as PipelineResult;
  });

  assert.deepEqual(
    result.phases.map((p) => p.name),
    ['0-pretrain', '1-sft', '2-grpo', '3-rejection-sampling', '4-grpo', '5-distill', '6-eval'],
  );
  const store = ArtifactStore.fromEnv();

  // Walk every phase's final checkpoint back through its parents: each step of the chain is a
  // committed manifest, and the chain ends at the starting model.
  for (const phase of result.phases) {
    let manifest = await readManifest(store, phase.checkpoint);
    assert.ok(manifest.files.some((f) => f.name === 'model.safetensors'), `${phase.name}: no weights`);
    const seen = new Set<string>();
    while (manifest.parent) {
      assert.ok(!seen.has(manifest.parent.uri), 'lineage has a cycle');
      seen.add(manifest.parent.uri);
      manifest = await readManifest(store, manifest.parent);
    }
    const root = phase.kind === 'distill' || phase.name === '6-eval' ? '5-distill.student-init' : 'init';
    assert.equal(manifest.phase, root, `${phase.name}'s lineage ends at ${manifest.phase}`);
  }

  // Steps of the training phases are committed once each, at the checkpoint interval.
  assert.deepEqual((await listCheckpoints(store, id, '1-sft')).map((c) => c.step), [30, 60]);
  assert.deepEqual((await listCheckpoints(store, id, '2-grpo')).map((c) => c.step), [2, 3]);
  assert.deepEqual((await listCheckpoints(store, id, '2-grpo.policy')).map((c) => c.step), [1, 2, 3]);

  // Cold-start SFT taught the answer, so RL sees reward and rejection sampling keeps samples.
  const byName = Object.fromEntries(result.phases.map((p) => [p.name, p]));
  assert.ok(byName['1-sft'].metrics.loss < 0.1, `SFT loss ${byName['1-sft'].metrics.loss}`);
  assert.ok(byName['2-grpo'].metrics.reward > 0, 'GRPO saw no reward');
  assert.ok(byName['3-rejection-sampling'].metrics.kept > 0);
  for (const key of ['pass1', 'majK', 'formatRate', 'meanLength']) assert.ok(key in byName['6-eval'].metrics, `eval has no ${key}`);
  assert.ok('teacher' in byName['5-distill'].evals && 'student' in byName['5-distill'].evals);
});
