import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainerHost } from '../../activities/trainer-host';
import { initParameters } from '../../engine/model';
import { modelConfigSchema } from '../../schemas/model';

const config = modelConfigSchema.parse({ vocabSize: 259, hiddenSize: 16, intermediateSize: 32, numLayers: 1, numHeads: 2, numKvHeads: 1, maxSeqLen: 32 });
const opts = { runtime: { seed: 1, chatTemplate: 'plain' as const, device: 'cpu' as const, thinkPrefill: false, memory: { recompute: 'none' as const } }, basis: 's3://b/base', step: 0 };

test('a full trainer host evicts its least recently used trainer, which first saves its unsaved steps', async () => {
  const host = new TrainerHost({ kind: 'cpu', threads: 1 }, 2);
  const saved: string[] = [];
  try {
    const a = await host.start('a', { config, weights: initParameters(config, 1) }, opts);
    a.saveOnExit = async (reason) => saved.push(`a: ${reason}`);
    const b = await host.start('b', { config, weights: initParameters(config, 2) }, opts);
    b.saveOnExit = async (reason) => saved.push(`b: ${reason}`);
    assert.equal(host.get('a'), a); // a was used after b was started: b is now the least recently used

    await host.start('c', { config, weights: initParameters(config, 3) }, opts);
    assert.deepEqual(saved, ['b: trainer evicted']);
    assert.equal(host.get('b'), undefined);
    assert.equal(host.get('a'), a);
  } finally {
    await host.close();
  }
  assert.deepEqual(saved, ['b: trainer evicted', 'a: worker shutdown']);
});

test("starting a pipeline's next phase drops the trainer of its previous phase (saving its steps), not other pipelines'", async () => {
  const host = new TrainerHost({ kind: 'cpu', threads: 1 }, 3);
  const saved: string[] = [];
  try {
    const sft = await host.start('p/1-sft', { config, weights: initParameters(config, 1) }, opts);
    sft.saveOnExit = async (reason) => saved.push(`p/1-sft: ${reason}`);
    const other = await host.start('q/1-sft', { config, weights: initParameters(config, 2) }, opts);
    await host.start('p/2-grpo', { config, weights: initParameters(config, 3) }, opts);
    assert.deepEqual(saved, ['p/1-sft: next phase']);
    assert.equal(host.get('p/1-sft'), undefined);
    assert.equal(host.get('q/1-sft'), other);
  } finally {
    await host.close();
  }
});
