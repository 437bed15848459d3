/**
 * GRPO through the trainer: advantages, the samples that count, packing and the step graph
 * together. At the first step the policy is both the behaviour and the reference policy, so the
 * ratio is 1, nothing is clipped, the KL is 0 and the loss has a closed form.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeAdvantages, trainableSamples } from '../../engine/grpo';
import { learningRate, type OptimizerStep } from '../../engine/schedule';
import * as trainer from '../../engine/trainer';
import { GrpoConfigSchema } from '../../schemas/grpo';
import { modelConfigSchema } from '../../schemas/model';
import { OptimizerSchema } from '../../schemas/optimizer';

const config = modelConfigSchema.parse({ vocabSize: 259, hiddenSize: 32, intermediateSize: 48, numLayers: 1, numHeads: 4, numKvHeads: 1, maxSeqLen: 64 });
const at: OptimizerStep = { optimizer: OptimizerSchema.parse({ lr: 1e-3, beta2: 0.99, minLrRatio: 1 }), step: 1, totalSteps: 1 };

test('advantages per group, per batch and unscaled', () => {
  const r = [1, 0, 0, 0, 2, 2, 2, 2];
  const close = (a: Float32Array, b: number[]) => a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-5, `${Array.from(a)} vs ${b}`));
  close(computeAdvantages(r, 4, 'none'), [0.75, -0.25, -0.25, -0.25, 0, 0, 0, 0]);
  close(computeAdvantages(r, 4, 'group'), [0.75, -0.25, -0.25, -0.25].map((x) => x / (0.5 + 1e-4)).concat([0, 0, 0, 0]));
  const batchStd = Math.sqrt(r.reduce((a, x) => a + (x - 1.125) ** 2, 0) / 7);
  close(computeAdvantages(r, 4, 'batch'), [0.75, -0.25, -0.25, -0.25, 0, 0, 0, 0].map((x) => x / (batchStd + 1e-4)));
  assert.throws(() => computeAdvantages([1, 2, 3], 2, 'group'), /groups of 2/);
});

test('the samples that train: dynamic sampling drops groups without signal; masked and empty completions stay out', () => {
  const rollouts = [[1], [2], [3], [4], [5], [], [7], [8]].map((tokens) => ({ tokens }));
  const scores = [1, 1, 1, 1, 1, 0, 0, 0].map((reward, i) => ({ reward, mask: i === 6 }));
  assert.deepEqual(trainableSamples({ rollouts, scores }, { groupSize: 4, dynamicSampling: false }), [0, 1, 2, 3, 4, 7]);
  assert.deepEqual(trainableSamples({ rollouts, scores }, { groupSize: 4, dynamicSampling: true }), [4, 7]);
});

test('learning rate warms up linearly and decays by cosine to minLrRatio', () => {
  const optimizer = OptimizerSchema.parse({ lr: 1, warmupSteps: 10, minLrRatio: 0.1 });
  const lr = (step: number) => learningRate({ optimizer, step, totalSteps: 110 });
  assert.equal(lr(5), 0.5);
  assert.equal(lr(10), 1);
  assert.ok(Math.abs(lr(60) - 0.55) < 1e-12);
  assert.ok(Math.abs(lr(110) - 0.1) < 1e-12);
});

/** G samples for each of two prompts from the trainer's own policy, as token-aligned arrays. */
async function sampleGroups(G: number, seed: number) {
  const prompts = [Int32Array.from([257, 65, 66]), Int32Array.from([257, 67])].flatMap((p) => Array(G).fill(p) as Int32Array[]);
  const generated = await trainer.generate(prompts, { maxNewTokens: 6, temperature: 1, seed });
  const sequences = generated.map((r, i) => Int32Array.from([...prompts[i], ...r.tokens]));
  const completionMask = generated.map((r, i) => Uint8Array.from([...prompts[i]].map(() => 0).concat([...r.tokens].map(() => 1))));
  const rollouts = generated.map((r, i) => ({ promptTokens: Array.from(prompts[i]), tokens: Array.from(r.tokens), logprobs: Array.from(r.logprobs) }));
  return { sequences, completionMask, rollouts, lengths: generated.map((r) => r.tokens.length) };
}

for (const aggregation of ['grpo', 'dapo', 'dr_grpo'] as const) {
  test(`a first GRPO step (${aggregation}) on fresh rollouts has ratio 1 and the closed-form loss`, async () => {
    await trainer.init({ config, seed: 11, device: { kind: 'cpu', threads: 1 } });
    await trainer.snapshotReference();
    const G = 3;
    const { sequences, completionMask, lengths } = await sampleGroups(G, 3);
    const oldLogprobs = await trainer.logprobs(sequences);
    const refLogprobs = await trainer.logprobs(sequences, 'reference');
    const advantages = computeAdvantages([1, 0, 0.5, 0, 0, 1], G, 'group');
    const loss = { aggregation, scalars: { epsLow: 0.2, epsHigh: 0.28, beta: 0.04, maxLen: 6 } };
    const m = await trainer.grpoStep({ sequences, completionMask, oldLogprobs, refLogprobs, advantages }, loss, at);

    const total = lengths.reduce((a, b) => a + b, 0);
    const want =
      aggregation === 'grpo' ? -advantages.reduce((a, x) => a + x, 0) / lengths.length
      : aggregation === 'dapo' ? -advantages.reduce((a, x, i) => a + x * lengths[i], 0) / total
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

test('a token whose log-ratio is extreme leaves the loss finite (the ratio and the KL exponent are clamped)', async () => {
  await trainer.init({ config, seed: 12, device: { kind: 'cpu', threads: 1 } });
  const { sequences, completionMask } = await sampleGroups(2, 4);
  const logprobs = await trainer.logprobs(sequences);
  // The behaviour policy gave the last token e^-200 (the ratio would be e^200); the reference gives the first far more than the policy.
  const oldLogprobs = logprobs.map((row) => row.map((x, j) => (j === row.length - 1 ? -200 : x)));
  const refLogprobs = logprobs.map((row, i) => row.map((x, j) => (j === completionMask[i].indexOf(1) ? x + 200 : x)));
  const advantages = Float32Array.from([-1, 1, -1, 1]);
  const m = await trainer.grpoStep({ sequences, completionMask, oldLogprobs, refLogprobs, advantages }, { aggregation: 'dapo', scalars: { epsLow: 0.2, epsHigh: 0.28, beta: 0.04, maxLen: 6 } }, at);
  assert.ok(Number.isFinite(m.loss) && Number.isFinite(m.kl) && Number.isFinite(m.gradNorm), JSON.stringify(m));
  assert.ok(m.clipHigh > 0 || m.loss !== 0, 'the extreme tokens entered the loss');
});

test('one update call trains μ iterations over the mini-batches, and a step without signal changes nothing', async () => {
  await trainer.init({ config, seed: 13, device: { kind: 'cpu', threads: 1 } });
  const G = 4;
  const { sequences, rollouts } = await sampleGroups(G, 5);
  const grpo = GrpoConfigSchema.parse({ groupSize: G, iterations: 2, miniBatches: 2, dynamicSampling: true });
  const settings = { grpo, optimizer: at.optimizer, totalSteps: 1, maxNewTokens: 6 };
  const before = await trainer.logprobs(sequences);

  const flat = await trainer.grpoUpdate({ step: 1, rollouts, scores: rollouts.map(() => ({ reward: 1, mask: false })), settings });
  assert.deepEqual({ kept: flat.kept, updates: flat.updates }, { kept: 0, updates: 0 });
  assert.deepEqual(await trainer.logprobs(sequences), before, 'all rewards equal: nothing to learn');

  const scores = [1, 0, 0, 1, 1, 1, 1, 1].map((reward) => ({ reward, mask: false }));
  const m = await trainer.grpoUpdate({ step: 1, rollouts, scores, settings });
  assert.equal(m.kept, G, 'the second group has no signal and is dropped');
  assert.equal(m.updates, 4, '2 iterations x 2 mini-batches');
  assert.equal(m.lr, 1e-3);
  assert.ok(Math.abs(m.reward - 0.75) < 1e-12);
  assert.notDeepEqual(await trainer.logprobs(sequences), before);
});
