import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { PrivateStack } from '../../infra/local/private-stack';
import { testClient, withWorkers } from '../helpers/workers';
import { startPipeline } from '../../cli/pipelines';
import { ArtifactStore } from '../../storage/artifact-store';
import { listCheckpoints, readManifest } from '../../storage/checkpoints';
import type { PipelineResult } from '../../workflows/pipeline';
import { PHASES, tinySpec } from '../fixtures/tiny-pipeline';

/**
 * Storage and Temporal outages in the middle of GRPO, on servers of this file's own (killed with
 * SIGKILL, as a crash would): the pipeline waits them out and ends with the same weights, file for
 * file, as a run that saw no fault. One engine thread makes runs of one spec bit-identical.
 */
const spec = tinySpec(
  [PHASES.sft, { ...PHASES.grpo, steps: 8, shards: 2, checkpointEvery: 2 }],
  { runtime: { chatTemplate: 'plain' } },
);

let stack: PrivateStack;

before(async () => {
  stack = await PrivateStack.start();
  Object.assign(process.env, stack.env);
});

after(async () => {
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every GRPO policy and checkpoint file of a run, by step and name, with its SHA-256. */
async function weights(store: ArtifactStore, id: string): Promise<string[]> {
  const files: string[] = [];
  for (const phase of ['1-grpo', '1-grpo.policy']) {
    for (const c of await listCheckpoints(store, id, phase)) {
      const manifest = await readManifest(store, { uri: store.uri(c.manifestKey) });
      for (const f of manifest.files) files.push(`${phase} ${c.step} ${f.name} ${f.sha256}`);
    }
  }
  return files.sort();
}

async function untilPolicy(store: ArtifactStore, id: string, step: number): Promise<void> {
  while (!(await listCheckpoints(store, id, '1-grpo.policy')).some((c) => c.step >= step)) await sleep(100);
}

/** Runs the spec under `id` while `fault` runs beside it; returns the time the run took. */
async function run(id: string, fault: (store: ArtifactStore) => Promise<void> = async () => {}): Promise<number> {
  const store = ArtifactStore.fromEnv();
  const began = Date.now();
  await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => {
    const handle = await startPipeline(await testClient(), spec, id);
    const [result] = await Promise.all([handle.result() as Promise<PipelineResult>, fault(store)]);
    assert.equal(result.phases[1].checkpoint.step, 8);
  });
  return Date.now() - began;
}

let reference: string[];

test('an uninterrupted run, for reference', async () => {
  const id = `reference-${randomUUID().slice(0, 8)}`;
  await run(id);
  reference = await weights(ArtifactStore.fromEnv(), id);
  assert.ok(reference.length > 8, `${reference.length} files`);
});

const OUTAGES = [
  { server: 'S3', seconds: 45, kill: () => stack.killS3(), restart: () => stack.startS3() },
  { server: 'Temporal', seconds: 10, kill: () => stack.killTemporal(), restart: () => stack.startTemporal() },
];

for (const outage of OUTAGES) {
  test(`${outage.server} killed mid-GRPO for ${outage.seconds} s: the pipeline waits it out and ends with the same weights`, async (t) => {
    const id = `outage-${outage.server.toLowerCase()}-${randomUUID().slice(0, 8)}`;
    const took = await run(id, async (store) => {
      await untilPolicy(store, id, 2);
      await outage.kill();
      await sleep(outage.seconds * 1000);
      await outage.restart();
    });
    t.diagnostic(`run with a ${outage.seconds} s ${outage.server} outage took ${(took / 1000).toFixed(1)} s`);
    assert.deepEqual(await weights(ArtifactStore.fromEnv(), id), reference);
  });
}
