/**
 * Training through the Engine facade (a real engine thread): SFT memorises a tiny corpus, and a
 * state saved through engine/checkpoint.ts and loaded into a fresh engine continues exactly as
 * the original (same losses, same weights, optimizer moments included).
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeTrainerState, encodeTrainerState, filesInMemory } from '../../engine/checkpoint';
import { Engine } from '../../engine/engine';
import { parameterShapes } from '../../engine/model';
import { ByteTokenizer } from '../../engine/tokenizer';
import type { OptimizerStep } from '../../engine/schedule';
import type { SftBatch } from '../../engine/trainer';
import { modelConfigSchema } from '../../schemas/model';
import { OptimizerSchema } from '../../schemas/optimizer';

const config = modelConfigSchema.parse({
  vocabSize: 259, hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, maxSeqLen: 64, qkvBias: true,
});
const tok = new ByteTokenizer();
const corpus = [['2+2=', '4'], ['3+5=', '8'], ['capital of France? ', 'Paris'], ['hello ', 'world']];

/** Prompt then completion then EOS; the loss covers the completion and EOS only. */
const batch: SftBatch = { sequences: [], lossMask: [] };
for (const [prompt, completion] of corpus) {
  const p = tok.encode(prompt);
  const c = [...tok.encode(completion), tok.eosId];
  batch.sequences.push(Int32Array.from([tok.bosId, ...p, ...c]));
  batch.lossMask.push(Uint8Array.from([0, ...p.map(() => 0), ...c.map(() => 1)]));
}
/** A constant learning rate: every step is the schedule's first and last. */
const hp: OptimizerStep = { optimizer: OptimizerSchema.parse({ lr: 1e-2, beta2: 0.99, weightDecay: 0.01, minLrRatio: 1 }), step: 1, totalSteps: 1 };

/** One SFT step on each engine gives the same loss and the same weights, bit for bit. */
async function assertSameStep(x: Engine, y: Engine): Promise<void> {
  const [a, b] = [await x.sftStep(batch, hp), await y.sftStep(batch, hp)];
  assert.equal(a.loss, b.loss);
  const [wa, wb] = [await x.exportState(), await y.exportState()];
  for (const name of Object.keys(wa.weights)) assert.deepEqual(wa.weights[name].data, wb.weights[name].data, `${name} differs`);
}

test('SFT drives the loss on a tiny corpus down by more than 20x', async () => {
  const engine = await Engine.start({ config, seed: 1, intraOpThreads: 1 });
  try {
    const first = (await engine.sftStep(batch, hp)).loss;
    let last = first;
    for (let i = 0; i < 60; i++) last = (await engine.sftStep(batch, hp)).loss;
    assert.ok(first > 4, `initial loss ${first} should be near ln(259) = 5.56`);
    assert.ok(last < first / 20, `loss went from ${first} to ${last}`);
  } finally {
    await engine.close();
  }
});

test('a checkpointed trainer resumes with identical losses and weights', async () => {
  const original = await Engine.start({ config, seed: 2, intraOpThreads: 1 });
  let restored: Engine | undefined;
  try {
    for (let i = 0; i < 3; i++) await original.sftStep(batch, hp);
    const saved = await original.exportState();
    const files = encodeTrainerState({ config: saved.config, weights: saved.weights, optimizer: saved.optimizer, rng: saved.rng });
    const loaded = await decodeTrainerState(filesInMemory(files), (c) => parameterShapes(modelConfigSchema.parse(c)));
    assert.equal(loaded.optimizer?.step, 3);
    restored = await Engine.start({ config: loaded.config, seed: 99, weights: loaded.weights, optimizer: loaded.optimizer, rng: loaded.rng, intraOpThreads: 1 });
    for (let i = 0; i < 2; i++) {
      const a = await original.sftStep(batch, hp);
      const b = await restored.sftStep(batch, hp);
      assert.equal(b.loss, a.loss, `step ${4 + i}: resumed loss differs`);
    }
    const [wa, wb] = [await original.exportState(), await restored.exportState()];
    assert.equal(wb.optimizer.step, 5);
    for (const name of Object.keys(wa.weights)) {
      assert.deepEqual(wb.weights[name].data, wa.weights[name].data, `${name} differs after resuming`);
      assert.deepEqual(wb.optimizer.v[name].data, wa.optimizer.v[name].data, `v.${name} differs after resuming`);
    }
  } finally {
    await original.close();
    await restored?.close();
  }
});

test('a fresh optimizer instead of the saved one gives a different next step', async () => {
  // Guards the test above: it must be able to notice lost optimizer state.
  const original = await Engine.start({ config, seed: 2, intraOpThreads: 1 });
  let fresh: Engine | undefined;
  try {
    for (let i = 0; i < 3; i++) await original.sftStep(batch, hp);
    const saved = await original.exportState();
    fresh = await Engine.start({ config, seed: 2, weights: saved.weights, intraOpThreads: 1 });
    await original.sftStep(batch, hp);
    await fresh.sftStep(batch, hp);
    const [a, b] = [await original.sftStep(batch, hp), await fresh.sftStep(batch, hp)];
    assert.notEqual(b.loss, a.loss);
  } finally {
    await original.close();
    await fresh?.close();
  }
});

test('an engine that never trained exports zero moments at step 0 and steps as one given them', async () => {
  // Generation-only engines (rollout workers) never take a step, so they never allocate them.
  const lazy = await Engine.start({ config, seed: 3, intraOpThreads: 1 });
  let explicit: Engine | undefined;
  try {
    const before = await lazy.exportState();
    assert.equal(before.optimizer.step, 0);
    for (const t of Object.values(before.optimizer.m)) assert.ok(t.data.every((x) => x === 0));
    explicit = await Engine.start({ config, seed: 3, weights: before.weights, optimizer: before.optimizer, intraOpThreads: 1 });
    await assertSameStep(lazy, explicit);
  } finally {
    await lazy.close();
    await explicit?.close();
  }
});

test('a trainer moving between SFT and GRPO steps rebuilds its one train session and computes as a fresh one', async () => {
  // Each kind of step gets its own session and only one is kept (its arena is as large as a step's activations).
  const engine = await Engine.start({ config, seed: 4, intraOpThreads: 1 });
  let fresh: Engine | undefined;
  try {
    await engine.sftStep(batch, hp);
    const oldLogprobs = await engine.logprobs(batch.sequences);
    const grpoBatch = { sequences: batch.sequences, completionMask: batch.lossMask, oldLogprobs, advantages: Float32Array.of(1, -1, 0.5, -0.5) };
    const scalars = { epsLow: 0.2, epsHigh: 0.28, beta: 0, maxLen: 1 };
    for (const aggregation of ['dapo', 'grpo'] as const) assert.ok(Number.isFinite((await engine.grpoStep(grpoBatch, { aggregation, scalars }, hp)).loss));
    fresh = await Engine.start({ config, seed: 4, intraOpThreads: 1 });
    await fresh.importState(await engine.exportState());
    await assertSameStep(engine, fresh);
  } finally {
    await engine.close();
    await fresh?.close();
  }
});
