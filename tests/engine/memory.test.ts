/**
 * The trainer's memory settings (schemas/runtime.ts, `runtime.memory`) change how a step runs,
 * never what it computes: a batch split into micro-batches takes the whole batch's step (SFT and
 * every GRPO aggregation, each normalising its loss differently; clipping over the whole
 * gradient), and recomputed decoder layers or attention probabilities give the gradient that kept
 * activations give.
 * Compared through AdamW's first moments, which hold the clipped gradient itself ((1 - beta1) c g;
 * the first update's weights move by about lr sign(g) and would hide a wrong gradient), and
 * through the weights after a second step.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { sftStepGraph } from '../../engine/graphs';
import { Rng } from '../../engine/rng';
import type { OptimizerStep } from '../../engine/schedule';
import type { NamedTensors } from '../../engine/tensors';
import * as trainer from '../../engine/trainer';
import type { LossAggregation } from '../../schemas/grpo';
import { modelConfigSchema } from '../../schemas/model';
import { OptimizerSchema } from '../../schemas/optimizer';
import type { Memory } from '../../schemas/runtime';

const config = modelConfigSchema.parse({ vocabSize: 259, hiddenSize: 32, intermediateSize: 48, numLayers: 2, numHeads: 4, numKvHeads: 2, maxSeqLen: 64, qkvBias: true, tieEmbeddings: true });
/** A clip far below these gradients' norm, so that clipping acts and must see the whole batch's gradient. */
const at: OptimizerStep = { optimizer: OptimizerSchema.parse({ lr: 1e-2, beta2: 0.99, weightDecay: 0.01, minLrRatio: 1, gradClip: 0.05 }), step: 1, totalSteps: 1 };

/** Five sequences of different lengths and prompt lengths: micro-batches of 2 split them 2 + 2 + 1, each padded to its own length. */
const rng = new Rng(7);
const shapes = [[3, 9], [2, 5], [4, 12], [2, 7], [1, 3]];
const sequences = shapes.map(([, n]) => Int32Array.from({ length: n }, () => Math.floor(rng.next() * 259)));
const lossMask = shapes.map(([prompt, n]) => Uint8Array.from({ length: n }, (_, t) => (t >= prompt ? 1 : 0)));
/** Per-token log-probs near a fresh model's (ln 259 = 5.56) and off by up to 0.3, so the ratio moves, some tokens clip and the KL is not 0. */
const nearFresh = () => lossMask.map((row) => Float32Array.from(row, (m) => (m ? -5.56 + 0.6 * (rng.next() - 0.5) : 0)));
const oldLogprobs = nearFresh();
const refLogprobs = nearFresh();
const advantages = Float32Array.from([1.2, -0.4, 0.3, -1.1, 0.6]);

type Metrics = Record<string, number>;
interface Trained { metrics: Metrics[]; m: NamedTensors; weights: NamedTensors }

/** Two steps of `step` on a fresh trainer with the given memory settings. */
async function train(memory: Memory, step: () => Promise<object>): Promise<Trained> {
  await trainer.init({ config, seed: 3, device: { kind: 'cpu', threads: 1 }, memory });
  const first = (await step()) as Metrics;
  const { optimizer } = await trainer.exportState();
  const second = (await step()) as Metrics;
  return { metrics: [first, second], m: optimizer.m, weights: (await trainer.exportState()).weights };
}

const sft = () => trainer.sftStep({ sequences, lossMask }, at);
const grpo = (aggregation: LossAggregation) => () =>
  trainer.grpoStep({ sequences, completionMask: lossMask, oldLogprobs, refLogprobs, advantages }, { aggregation, scalars: { epsLow: 0.2, epsHigh: 0.28, beta: 0.04, maxLen: 12 } }, at);

/**
 * Same metrics and first moments to float32 rounding (relative to each moment's largest entry),
 * and weights after two steps within 1% of a step's size (lr): Adam divides by sqrt(v), which
 * magnifies rounding in gradients near zero.
 */
function assertSameSteps(want: Trained, got: Trained, tol: number): void {
  want.metrics.forEach((metrics, i) => {
    for (const [k, x] of Object.entries(metrics)) assert.ok(Math.abs(got.metrics[i][k] - x) <= tol * Math.max(1, Math.abs(x)), `step ${i + 1} ${k}: ${got.metrics[i][k]} vs ${x}`);
  });
  const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((s, x, j) => Math.max(s, Math.abs(x - b[j])), 0);
  for (const name of Object.keys(want.m)) {
    const scale = want.m[name].data.reduce((s, x) => Math.max(s, Math.abs(x)), 0);
    const diff = maxDiff(want.m[name].data, got.m[name].data);
    assert.ok(diff <= tol * scale, `m ${name}: differs by ${diff} (largest entry ${scale})`);
    const moved = maxDiff(want.weights[name].data, got.weights[name].data);
    assert.ok(moved <= 0.01 * at.optimizer.lr, `weights ${name}: differ by ${moved} after two steps`);
  }
}

const cases: [string, () => Promise<object>][] = [['SFT', sft], ...(['grpo', 'dapo', 'dr_grpo'] as const).map((a): [string, () => Promise<object>] => [`GRPO ${a}`, grpo(a)])];

for (const [name, step] of cases) {
  test(`${name}: a batch in micro-batches of 2 (2 + 2 + 1) takes the whole batch's step, clipping included`, async () => {
    const whole = await train({ recompute: 'none' }, step);
    assert.ok(whole.metrics[0].gradNorm > 10 * at.optimizer.gradClip, `the clip must act: gradNorm ${whole.metrics[0].gradNorm}`);
    assertSameSteps(whole, await train({ microBatchSize: 2, recompute: 'none' }, step), 2e-5);
    assertSameSteps(whole, await train({ microBatchSize: 5, recompute: 'none' }, step), 2e-5);
  });
}

for (const [name, step] of cases.slice(0, 2)) {
  test(`${name}: recomputed decoder layers or attention probabilities give the step that kept activations give, alone and with micro-batches`, async () => {
    const kept = await train({ recompute: 'none' }, step);
    assertSameSteps(kept, await train({ recompute: 'layers' }, step), 1e-6);
    assertSameSteps(kept, await train({ recompute: 'attention' }, step), 1e-6);
    assertSameSteps(kept, await train({ microBatchSize: 2, recompute: 'layers' }, step), 2e-5);
    assertSameSteps(kept, await train({ microBatchSize: 2, recompute: 'attention' }, step), 2e-5);
  });
}

test('a step whose loss is not finite throws and leaves weights and moments as they were, whole and in micro-batches', async () => {
  const nan = Float32Array.from(advantages, (a, i) => (i === 3 ? NaN : a));
  for (const memory of [{ recompute: 'none' }, { microBatchSize: 2, recompute: 'none' }] as const) {
    await trainer.init({ config, seed: 3, device: { kind: 'cpu', threads: 1 }, memory });
    await grpo('dapo')();
    const before = await trainer.exportState();
    const bad = trainer.grpoStep({ sequences, completionMask: lossMask, oldLogprobs, refLogprobs, advantages: nan }, { aggregation: 'dapo', scalars: { epsLow: 0.2, epsHigh: 0.28, beta: 0.04, maxLen: 12 } }, at);
    await assert.rejects(bad, { name: 'NonFiniteLossError', nonRetryable: true });
    const after = await trainer.exportState();
    assert.equal(after.optimizer.step, before.optimizer.step);
    for (const [what, want, got] of [['weights', before.weights, after.weights], ['m', before.optimizer.m, after.optimizer.m], ['v', before.optimizer.v, after.optimizer.v]] as const) {
      for (const name of Object.keys(want)) assert.deepEqual(got[name].data, want[name].data, `${JSON.stringify(memory)}: ${what} ${name} changed`);
    }
  }
});

test('recomputing attention or layers, the backward pass computes attention probabilities again: none that the forward pass made is read after the loss', () => {
  for (const recompute of ['attention', 'layers', 'none'] as const) {
    const g = sftStepGraph(config, { part: 'gradient', recompute });
    const loss = g.nodes.find((n) => n.outputs[0].name === 'loss')!.inputs[0]; // the output's Identity reads it
    const lossAt = g.nodes.findIndex((n) => n.outputs.includes(loss));
    assert.ok(lossAt > 0 && lossAt < g.nodes.length / 2, `the loss is made at node ${lossAt} of ${g.nodes.length}`);
    const readers = new Map<string, number[]>();
    g.nodes.forEach((n, i) => n.inputs.forEach((x) => readers.set(x.name, [...(readers.get(x.name) ?? []), i])));
    // A forward softmax's probabilities, followed through the reshapes that only relabel them.
    const lastRead = (name: string): number => Math.max(...(readers.get(name) ?? []).map((i) => (g.nodes[i].op === 'Reshape' ? Math.max(i, lastRead(g.nodes[i].outputs[0].name)) : i)));
    // Attention's softmax runs over [B, kv, group, rows, keys] (the loss's over [rows, V] chunks).
    const isAttention = (n: (typeof g.nodes)[number]) => n.op === 'Softmax' && n.outputs[0].dims.length === 5;
    const forward = g.nodes.map((n, i) => [n, i] as const).filter(([n, i]) => isAttention(n) && i < lossAt);
    assert.ok(forward.length >= 2 * config.numLayers, `recompute ${recompute}: ${forward.length} forward softmaxes`);
    const again = g.nodes.filter((n, i) => isAttention(n) && i > lossAt).length;
    assert.ok(recompute === 'none' ? again === 0 : again >= 2 * config.numLayers, `recompute ${recompute}: ${again} softmaxes computed again`);
    const keptForBackward = forward.filter(([n]) => lastRead(n.outputs[0].name) > lossAt).length;
    assert.equal(keptForBackward, recompute === 'none' ? forward.length : 0, `recompute ${recompute}: forward probabilities read by the backward pass`);
  }
});

test('a bad memory setting is refused, naming the field', async () => {
  await assert.rejects(trainer.init({ config, seed: 1, memory: { microBatchSize: 0, recompute: 'none' } }), /microBatchSize/);
});
