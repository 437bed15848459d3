/**
 * Optimizer updates folded into one onnxruntime run (engine/looped.ts, the GPU path of issue #15)
 * against the same updates one run each: per-update metrics, trained values, both AdamW moments
 * and the step count agree to float32 rounding. The cases are the ones a wrong loop would get
 * wrong: GRPO with μ = 2 iterations over 3 mini-batches of different sizes and lengths (the loop
 * pads them to one shape, and the grpo and dr_grpo losses divide by the sequences, which padding
 * must not add to), a schedule that moves between updates, gradient clipping and the ratio clip
 * acting, LoRA adapters as the trained values, recomputed layers. The comparison is shown to
 * catch an update that reads its neighbour's learning rate or batch; a non-finite loss keeps the
 * state as it was.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { grpoUpdate, type GrpoMetrics, type GrpoPolicy, type GrpoUpdateInput } from '../../engine/grpo';
import { Rng } from '../../engine/rng';
import type { OptimizerStep } from '../../engine/schedule';
import type { NamedTensors } from '../../engine/tensors';
import * as trainer from '../../engine/trainer';
import { GrpoConfigSchema, type LossAggregation } from '../../schemas/grpo';
import { LoraSchema } from '../../schemas/lora';
import { modelConfigSchema } from '../../schemas/model';
import { OptimizerSchema } from '../../schemas/optimizer';
import type { Memory } from '../../schemas/runtime';

const config = modelConfigSchema.parse({ vocabSize: 259, hiddenSize: 32, intermediateSize: 48, numLayers: 2, numHeads: 4, numKvHeads: 2, maxSeqLen: 64, qkvBias: true, tieEmbeddings: true });
/** Warmup over the first 4 steps, so that each update has its own learning rate; a clip far below these gradients' norm. */
const optimizer = OptimizerSchema.parse({ lr: 1e-2, beta2: 0.99, weightDecay: 0.01, warmupSteps: 4, gradClip: 0.02 });
const at = (step: number): OptimizerStep => ({ optimizer, step, totalSteps: 10 });

const rng = new Rng(7);
/** [prompt, completion] lengths: 9 samples in groups of 3. */
const shapes = [[3, 6], [2, 3], [4, 8], [2, 5], [1, 2], [3, 9], [2, 4], [5, 3], [1, 6]];
const rollouts = shapes.map(([prompt, n]) => ({
  promptTokens: Array.from({ length: prompt }, () => Math.floor(rng.next() * 259)),
  tokens: Array.from({ length: n }, () => Math.floor(rng.next() * 259)),
  // Near a fresh model's log-probs (ln 259 = 5.56) and off by up to 0.3: the ratio moves and the clip acts from the first update.
  logprobs: Array.from({ length: n }, () => -5.56 + 0.6 * (rng.next() - 0.5)),
}));
/** The fifth sample masked (as DAPO's overlong filter does): 8 train, in mini-batches of 2 + 3 + 3. */
const scores = [1, 0, 0.5, 0, 1, 1, 0.2, 0.9, 0].map((reward, i) => ({ reward, mask: i === 4 }));

type Metrics = Record<string, number>;
interface Trained { metrics: Metrics[]; state: Awaited<ReturnType<typeof trainer.exportState>> }

/** `lora`: train adapters, the frozen base given as inputs of every run or as session initializers. */
type LoraBase = 'inputs' | 'initializers';

async function fresh(memory?: Memory, lora?: LoraBase): Promise<void> {
  const adapters = lora ? { lora: LoraSchema.parse({ rank: 4, alpha: 8, targets: ['q_proj', 'v_proj', 'down_proj'] }), loraBase: lora } : {};
  await trainer.init({ config, seed: 3, device: { kind: 'cpu', threads: 1 }, ...(memory && { memory }), ...adapters });
  await trainer.snapshotReference();
}

/** GRPO over the rollouts (engine/grpo.ts): μ = 2 iterations x 3 mini-batches, each optimizer update recorded. */
async function grpo(aggregation: LossAggregation, looped: boolean): Promise<Trained> {
  await fresh();
  const grpoConfig = GrpoConfigSchema.parse({ groupSize: 3, iterations: 2, miniBatches: 3, beta: 0.04, lossAggregation: aggregation });
  const input: GrpoUpdateInput = { step: 2, rollouts, scores, settings: { grpo: grpoConfig, optimizer, totalSteps: 10, maxNewTokens: 9 } };
  const metrics: GrpoMetrics[] = [];
  const policy: GrpoPolicy = {
    referenceLogprobs: (sequences) => trainer.logprobs(sequences, 'reference'),
    step: async (batch, loss, when) => {
      const m = await trainer.grpoStep(batch, loss, when);
      metrics.push(m);
      return m;
    },
    ...(looped && {
      steps: async (steps, loss) => {
        const m = await trainer.grpoSteps(steps, loss);
        metrics.push(...m);
        return m;
      },
    }),
  };
  await grpoUpdate(policy, input);
  return { metrics: metrics as unknown as Metrics[], state: await trainer.exportState() };
}

/** Three SFT batches of different sizes and lengths, as steps 1-3 of a warmup. */
const sftBatches = [[0, 2], [2, 5], [4, 8]].map(([from, to]) => ({
  sequences: rollouts.slice(from, to).map((r) => Int32Array.from([...r.promptTokens, ...r.tokens])),
  lossMask: rollouts.slice(from, to).map((r) => Uint8Array.from([...r.promptTokens.map(() => 0), ...r.tokens.map(() => 1)])),
}));

async function sftInTurn(lora?: LoraBase, memory?: Memory): Promise<Trained> {
  await fresh(memory, lora);
  const metrics: Metrics[] = [];
  for (const [i, batch] of sftBatches.entries()) metrics.push({ ...(await trainer.sftStep(batch, at(i + 1))) });
  return { metrics, state: await trainer.exportState() };
}

/** The same steps in one run; `ats` and `batches` default to each step's own. */
async function sftLooped(opts: { lora?: LoraBase; memory?: Memory; ats?: OptimizerStep[]; batches?: typeof sftBatches } = {}): Promise<Trained> {
  await fresh(opts.memory, opts.lora);
  const batches = opts.batches ?? sftBatches;
  const metrics = await trainer.sftSteps(batches.map((batch, i) => ({ batch, at: opts.ats?.[i] ?? at(i + 1) })));
  return { metrics: metrics as unknown as Metrics[], state: await trainer.exportState() };
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((s, x, j) => Math.max(s, Math.abs(x - b[j])), 0);
const largest = (a: Float32Array) => a.reduce((s, x) => Math.max(s, Math.abs(x)), 0);

/**
 * Per-update metrics within 1e-5 relative, each moment within 1e-5 of its largest entry, trained
 * values within 1e-3 of the learning rate (Adam divides by sqrt(v), which magnifies rounding in
 * gradients near zero; an update off by one schedule step moves them by ~1e-1 of it).
 */
function assertSame(want: Trained, got: Trained): void {
  assert.equal(got.metrics.length, want.metrics.length, 'updates');
  want.metrics.forEach((m, i) => {
    for (const [k, x] of Object.entries(m)) assert.ok(Math.abs(got.metrics[i][k] - x) <= 1e-5 * Math.max(1, Math.abs(x)), `update ${i + 1} ${k}: ${got.metrics[i][k]} vs ${x}`);
  });
  assert.equal(got.state.optimizer.step, want.state.optimizer.step, 'optimizer steps');
  const trained = (t: Trained): NamedTensors => t.state.lora?.adapters ?? t.state.weights;
  for (const name of Object.keys(trained(want))) {
    for (const moment of ['m', 'v'] as const) {
      const [a, b] = [want.state.optimizer[moment][name].data, got.state.optimizer[moment][name].data];
      assert.ok(maxDiff(a, b) <= 1e-5 * largest(a), `${moment} ${name}: differs by ${maxDiff(a, b)} (largest entry ${largest(a)})`);
    }
    const moved = maxDiff(trained(want)[name].data, trained(got)[name].data);
    assert.ok(moved <= 1e-3 * optimizer.lr, `${name}: differs by ${moved}`);
  }
}

for (const aggregation of ['grpo', 'dapo', 'dr_grpo'] as const) {
  test(`GRPO (${aggregation}), μ = 2 x 3 mini-batches of different shapes: one looped run takes the six updates' steps`, async () => {
    const inTurn = await grpo(aggregation, false);
    assert.equal(inTurn.metrics.length, 6);
    assert.ok(inTurn.metrics.every((m) => m.gradNorm > 5 * optimizer.gradClip), `the gradient clip must act: ${inTurn.metrics.map((m) => m.gradNorm)}`);
    assert.ok(inTurn.metrics.some((m) => m.clipLow + m.clipHigh > 0), 'the ratio clip must act');
    assertSame(inTurn, await grpo(aggregation, true));
  });
}

test('trainer.grpoUpdate told to loop gives the update it gives one run per optimizer update', async () => {
  const grpoConfig = GrpoConfigSchema.parse({ groupSize: 3, iterations: 2, miniBatches: 3, beta: 0.04, lossAggregation: 'grpo' });
  const input: GrpoUpdateInput = { step: 2, rollouts, scores, settings: { grpo: grpoConfig, optimizer, totalSteps: 10, maxNewTokens: 9 } };
  const run = async (looped: boolean): Promise<Trained> => {
    await fresh();
    const metrics = await trainer.grpoUpdate(input, { looped });
    return { metrics: [metrics], state: await trainer.exportState() };
  };
  assertSame(await run(false), await run(true));
});

test('SFT steps at a moving learning rate: one looped run takes the steps of three; an update off by one learning rate or batch is caught', async () => {
  const inTurn = await sftInTurn();
  assertSame(inTurn, await sftLooped());
  // Mutations: update i given step i+1's learning rate (the last keeps its own), or the batches in another order.
  const shiftedLr = await sftLooped({ ats: [at(2), at(3), at(3)] });
  assert.throws(() => assertSame(inTurn, shiftedLr), assert.AssertionError);
  const rotated = await sftLooped({ batches: [sftBatches[1], sftBatches[2], sftBatches[0]] });
  assert.throws(() => assertSame(inTurn, rotated), /update 1 loss/);
});

for (const base of ['inputs', 'initializers'] as const) {
  test(`LoRA, the base as ${base}: the looped run trains the adapters as the steps one by one do`, async () => {
    const inTurn = await sftInTurn(base);
    const looped = await sftLooped({ lora: base });
    assertSame(inTurn, looped);
    assert.deepEqual(looped.state.weights['model.embed_tokens.weight'], inTurn.state.weights['model.embed_tokens.weight'], 'the base stays');
  });
}

test('recomputed layers (runtime.memory.recompute) inside the loop: the same steps as one by one', async () => {
  const memory = { recompute: 'layers' as const };
  assertSame(await sftInTurn(undefined, memory), await sftLooped({ memory }));
});

test('a non-finite loss in any update keeps the trainer as it was before the first (NonFiniteLossError)', async () => {
  await fresh();
  const before = await trainer.exportState();
  const loss = { aggregation: 'dapo' as const, scalars: { epsLow: 0.2, epsHigh: 0.28, beta: 0, maxLen: 9 } };
  const batch = (i: number, old: (x: number) => number) => ({
    sequences: [sftBatches[i].sequences[0]],
    completionMask: [sftBatches[i].lossMask[0]],
    oldLogprobs: [Float32Array.from(sftBatches[i].lossMask[0], (m) => (m ? old(-5.5) : 0))],
    advantages: Float32Array.of(1),
  });
  await assert.rejects(trainer.grpoSteps([{ batch: batch(0, (x) => x), at: at(1) }, { batch: batch(1, () => NaN), at: at(2) }], loss), (err: Error) => {
    assert.equal(err.name, 'NonFiniteLossError');
    assert.match(err.message, /step 2 \(update 2 of 2 in one run\): loss is NaN/);
    return true;
  });
  const after = await trainer.exportState();
  assert.deepEqual(after.weights, before.weights);
  assert.deepEqual(after.optimizer, before.optimizer);
});

test('micro-batches: a looped update is refused by name, and grpoUpdate takes the updates one run each', async () => {
  await fresh({ microBatchSize: 2, recompute: 'none' });
  const grpoConfig = GrpoConfigSchema.parse({ groupSize: 3, iterations: 2, miniBatches: 2 });
  const input: GrpoUpdateInput = { step: 1, rollouts, scores, settings: { grpo: grpoConfig, optimizer, totalSteps: 10, maxNewTokens: 9 } };
  await assert.rejects(trainer.grpoUpdate(input, { looped: true }), /runtime\.memory\.microBatchSize/);
  const m = await trainer.grpoUpdate(input);
  assert.equal(m.updates, 4);
  assert.equal((await trainer.exportState()).optimizer.step, 4);
});
