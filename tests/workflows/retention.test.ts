import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { runGc } from '../../cli/gc';
import { startPipeline } from '../../cli/pipelines';
import { verifyLineage } from '../../cli/verify';
import { keys, stepObject } from '../../schemas/layout';
import type { CheckpointRef } from '../../schemas/refs';
import { ArtifactStore, sha256Hex } from '../../storage/artifact-store';
import { listCheckpoints, readManifest } from '../../storage/checkpoints';
import { readRetiredManifest, storedBytes, stepsToKeep } from '../../storage/retention';
import { CheckpointManifestSchema } from '../../schemas/manifest';
import type { PipelineResult } from '../../workflows/pipeline';
import { PHASES, tinySpec } from '../fixtures/tiny-pipeline';
import { ensureStack } from '../helpers/stack';
import { testClient, withWorkers } from '../helpers/workers';

before(async () => {
  await ensureStack();
});

test('which steps a retention keeps', () => {
  const steps = [10, 20, 30, 40, 50];
  assert.deepEqual([...stepsToKeep('2-grpo', steps, {}, true)], steps, 'no keepLast: every checkpoint');
  assert.deepEqual([...stepsToKeep('2-grpo', steps, { keepLast: 2 }, true)].sort(), [40, 50]);
  assert.deepEqual([...stepsToKeep('2-grpo', steps, { keepLast: 1, keepEvery: 20 }, true)].sort(), [20, 40, 50]);
  assert.deepEqual([...stepsToKeep('2-grpo.policy', [1, 2, 3], { keepLast: 5 }, false)], [3], 'a running phase keeps its newest policy snapshot');
  assert.deepEqual([...stepsToKeep('2-grpo.policy', [1, 2, 3], {}, true)], [], 'a finished one none');
});

/**
 * Every complete checkpoint of the pipeline: each file its manifest lists exists with the
 * recorded size and SHA-256, and every parent link leads to a manifest with the recorded hash,
 * live or kept by retention in its retired record, back to new weights. Returns the live ones by run.
 */
async function walkKeptManifests(store: ArtifactStore, id: string): Promise<Map<string, number[]>> {
  const live = new Map<string, number[]>();
  for await (const { key } of store.list(store.key(keys.checkpoints(id)))) {
    const at = stepObject(key);
    if (!at || key !== keys.manifest(at.folder)) continue;
    live.set(at.run, [...(live.get(at.run) ?? []), at.step].sort((a, b) => a - b));
    const manifest = await readManifest(store, { uri: store.uri(key) });
    for (const file of manifest.files) await store.verify({ uri: store.uri(file.key), sha256: file.sha256 });
    let link: CheckpointRef | null = manifest.parent;
    while (link) {
      const parentKey = store.keyOf(link.uri);
      const body = (await store.exists(parentKey)) ? await store.getBytes({ uri: link.uri }) : (await readRetiredManifest(store, parentKey))?.body;
      assert.ok(body, `${key}: its parent ${link.uri} is neither kept nor retired`);
      assert.equal(sha256Hex(body), link.sha256, `${link.uri}: the manifest its child names`);
      assert.equal(body.length, link.bytes);
      link = CheckpointManifestSchema.parse(JSON.parse(body.toString('utf8'))).parent;
    }
  }
  return live;
}

test('retention as the pipeline goes, then r1 gc: only what it keeps stays, and nothing a kept manifest points at is deleted', async () => {
  const id = `retention-${randomUUID().slice(0, 8)}`;
  const grpo = { ...PHASES.grpo, steps: 6, checkpointEvery: 2 };
  const spec = tinySpec([PHASES.pretrain, PHASES.sft, grpo, PHASES.rejectionSampling], { retention: { keepLast: 1, keepEvery: 4 } });
  const client = await testClient();
  const result: PipelineResult = await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => (await startPipeline(client, spec, id)).result());
  const store = ArtifactStore.fromEnv();

  const live = await walkKeptManifests(store, id);
  // Each run keeps its newest and the steps at multiples of 4; GRPO's policy snapshots all go once it is done.
  assert.deepEqual(Object.fromEntries(live), { init: [0], '0-pretrain': [4], '1-sft': [60], '2-grpo': [4, 6], '3-rejection-sampling.sft': [2] });
  for (const phase of result.phases) assert.ok((await store.exists(store.keyOf(phase.checkpoint.uri))), `${phase.name}'s result is kept`);
  assert.deepEqual((await listCheckpoints(store, id, '2-grpo.policy')).map((c) => c.step), []);

  const lineage = await verifyLineage(store, id);
  assert.equal(lineage.retired, 3, 'r1 verify follows the retired parents: pretrain 2, sft 30, grpo 2');
  const stored = await storedBytes(store, id);
  assert.equal(stored.retiredCheckpoints, 9, 'those three and the six policy snapshots');
  assert.ok(stored.retiredBytes > stored.liveBytes / 2, `${stored.retiredBytes} bytes deleted, ${stored.liveBytes} kept`);

  // r1 gc with a stricter policy: only the newest checkpoint of each run.
  const lines: string[] = [];
  const log = console.log;
  console.log = (line: string) => lines.push(line);
  try {
    assert.equal(await runGc(client, store, id, { keepLast: '1' }), 0);
  } finally {
    console.log = log;
  }
  assert.match(lines.join('\n'), /retired 1 checkpoints, [\d.]+ MB\nS3 under pipelines\/retention-\w+\/: [\d.]+ MB before, [\d.]+ MB after \(10 checkpoints retired in all/);
  assert.deepEqual((await walkKeptManifests(store, id)).get('2-grpo'), [6]);
  assert.equal((await verifyLineage(store, id)).retired, 4, 'grpo 4 now too: the parent of grpo 6');
});
