/**
 * A GRPO step through the trainer on its own rollouts: advantages, packing and the step graph
 * together. At the first step the policy is both the behaviour and the reference policy, so the
 * ratio is 1, nothing is clipped, the KL is 0 and the loss has a closed form.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeAdvantages } from '../../engine/advantages';
import { learningRate } from '../../engine/schedule';
import * as trainer from '../../engine/trainer';
import { modelConfigSchema } from '../../schemas/model';

const config = modelConfigSchema.parse({ vocabSize: 259, hiddenSize: 32, intermediateSize: 48, numLayers: 1, numHeads: 4, numKvHeads: 1, maxSeqLen: 64 });

test('advantages per group, per batch and unscaled', () => {
  const r = [1, 0, 0, 0, 2, 2, 2, 2];
  const close = (a: Float32Array, b: number[]) => a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-5, `${Array.from(a)} vs ${b}`));
  close(computeAdvantages(r, 4, 'none'), [0.75, -0.25, -0.25, -0.25, 0, 0, 0, 0]);
  close(computeAdvantages(r, 4, 'group'), [0.75, -0.25, -0.25, -0.25].map((x) => x / (0.5 + 1e-4)).concat([0, 0, 0, 0]));
  const batchStd = Math.sqrt(r.reduce((a, x) => a + (x - 1.125) ** 2, 0) / 7);
  close(computeAdvantages(r, 4, 'batch'), [0.75, -0.25, -0.25, -0.25, 0, 0, 0, 0].map((x) => x / (batchStd + 1e-4)));
  assert.throws(() => computeAdvantages([1, 2, 3], 2, 'group'), /groups of 2/);
});

test('learning rate warms up linearly and decays by cosine to minLrRatio', () => {
  const s = { lr: 1, warmupSteps: 10, minLrRatio: 0.1, totalSteps: 110 };
  assert.equal(learningRate(5, s), 0.5);
  assert.equal(learningRate(10, s), 1);
  assert.ok(Math.abs(learningRate(60, s) - 0.55) < 1e-12);
  assert.ok(Math.abs(learningRate(110, s) - 0.1) < 1e-12);
});

for (const lossAggregation of ['grpo', 'dapo', 'dr_grpo'] as const) {
  test(`a first GRPO step (${lossAggregation}) on fresh rollouts has ratio 1 and the closed-form loss`, async () => {
    await trainer.init({ config, seed: 11, tokenizer: { kind: 'byte' }, device: { kind: 'cpu', threads: 1 } });
    await trainer.snapshotReference();
    const prompts = [Int32Array.from([257, 65, 66]), Int32Array.from([257, 67])];
    const G = 3;
    const groupPrompts = prompts.flatMap((p) => Array(G).fill(p) as Int32Array[]);
    const rollouts = await trainer.generate(groupPrompts, { maxNewTokens: 6, temperature: 1, seed: 3 });
    const sequences = rollouts.map((r, i) => Int32Array.from([...groupPrompts[i], ...r.tokens]));
    const completionMask = rollouts.map((r, i) => Uint8Array.from([...groupPrompts[i]].map(() => 0).concat([...r.tokens].map(() => 1))));
    const oldLogprobs = await trainer.logprobs(sequences);
    const refLogprobs = await trainer.logprobs(sequences, 'reference');
    const advantages = computeAdvantages([1, 0, 0.5, 0, 0, 1], G, 'group');
    const hp = { lr: 1e-3, beta1: 0.9, beta2: 0.99, weightDecay: 0, gradClip: 1, epsLow: 0.2, epsHigh: 0.28, beta: 0.04, lossAggregation, maxLen: 6 };
    const m = await trainer.grpoStep({ sequences, completionMask, oldLogprobs, refLogprobs, advantages }, hp);

    const lengths = rollouts.map((r) => r.tokens.length);
    const total = lengths.reduce((a, b) => a + b, 0);
    const want =
      lossAggregation === 'grpo' ? -advantages.reduce((a, x) => a + x, 0) / lengths.length
      : lossAggregation === 'dapo' ? -advantages.reduce((a, x, i) => a + x * lengths[i], 0) / total
      : -advantages.reduce((a, x, i) => a + x * lengths[i], 0) / (6 * lengths.length);
    assert.ok(Math.abs(m.loss - want) < 1e-5, `loss ${m.loss}, expected ${want}`);
    assert.equal(m.tokens, total);
    assert.equal(m.clipLow, 0);
    assert.equal(m.clipHigh, 0);
    assert.ok(Math.abs(m.kl) < 1e-6, `kl ${m.kl}`);
    assert.ok(m.gradNorm > 0 && m.entropy > 0);
    const after = await trainer.logprobs(sequences);
    assert.notDeepEqual(after, oldLogprobs, 'the step must change the policy');
  });
}
