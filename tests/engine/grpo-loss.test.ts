/**
 * The GRPO loss graph against an independent plain-TypeScript computation, for each aggregation,
 * on data where the ratio is clipped on both sides; and its gradient against finite differences.
 * Tolerances: values within 1e-9 (float64 graph), gradient 1e-6 relative.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { grpoLoss } from '../../engine/losses';
import type { LossAggregation } from '../../schemas/grpo';
import { Graph } from '../../engine/onnx/builder';
import { Rng } from '../../engine/rng';
import { assertGradient } from './gradcheck';

const [B, T] = [3, 5];
const hp = { epsLow: 0.2, epsHigh: 0.28, beta: 0.04, maxLen: 8 };
const rng = new Rng(7);
const logprobs = Array.from({ length: B * T }, () => -3 + 2.9 * rng.next());
// log-ratios new - old: each row has tokens inside the clip range and beyond both bounds
// (ln 0.8 = -0.22, ln 1.28 = 0.25), with advantages of both signs.
const logRatios = [0.1, 0.4, -0.5, 0.05, 0.6, -0.3, -0.6, 0.3, 0.02, -0.1, 0.5, -0.4, 0.15, 0.35, -0.05];
const oldLogprobs = logprobs.map((x, i) => x - logRatios[i]);
const refLogprobs = logprobs.map((x) => x + (-0.5 + rng.next()));
const advantages = [1.2, -0.8, 0.5];
const mask = [0, 1, 1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1];

/** The reference: loops over tokens, written straight from DESIGN.md. */
function reference(aggregation: LossAggregation) {
  let total = 0, count = 0, kl = 0, low = 0, high = 0, perSampleSum = 0;
  for (let b = 0; b < B; b++) {
    let sampleSum = 0, sampleCount = 0;
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      if (!mask[i]) continue;
      const a = advantages[b];
      const ratio = Math.exp(logprobs[i] - oldLogprobs[i]);
      const clipped = Math.min(Math.max(ratio, 1 - hp.epsLow), 1 + hp.epsHigh);
      const surrogate = Math.min(ratio * a, clipped * a);
      const d = refLogprobs[i] - logprobs[i];
      const k3 = Math.exp(d) - d - 1;
      const loss = -surrogate + hp.beta * k3;
      sampleSum += loss; sampleCount++;
      total += loss; count++; kl += k3;
      if (ratio < 1 - hp.epsLow && a < 0) low++;
      if (ratio > 1 + hp.epsHigh && a > 0) high++;
    }
    perSampleSum += sampleSum / Math.max(sampleCount, 1);
  }
  const loss = aggregation === 'grpo' ? perSampleSum / B : aggregation === 'dapo' ? total / count : total / (hp.maxLen * B);
  return { loss, kl: kl / count, clipLow: low / count, clipHigh: high / count };
}

function buildLoss(g: Graph, aggregation: LossAggregation, logprobsValue = g.input('logprobs', 'float64', ['B', 'T'])) {
  const f = (name: string) => g.input(name, 'float64', ['B', 'T']);
  const s = (name: keyof typeof hp) => g.input(name, 'float64', []);
  return grpoLoss(g, {
    logprobs: logprobsValue,
    oldLogprobs: f('oldLogprobs'),
    refLogprobs: f('refLogprobs'),
    mask: f('mask'),
    advantages: g.input('advantages', 'float64', ['B']),
    epsLow: s('epsLow'), epsHigh: s('epsHigh'), beta: s('beta'), maxLen: s('maxLen'),
  }, aggregation);
}

const bt = (x: number[]) => new Tensor('float64', Float64Array.from(x), [B, T]);
const fixedFeeds = () => ({
  oldLogprobs: bt(oldLogprobs),
  refLogprobs: bt(refLogprobs),
  mask: bt(mask),
  advantages: new Tensor('float64', Float64Array.from(advantages), [B]),
  ...Object.fromEntries(Object.entries(hp).map(([k, v]) => [k, new Tensor('float64', Float64Array.from([v]), [])])),
});

for (const aggregation of ['grpo', 'dapo', 'dr_grpo'] as const) {
  test(`GRPO loss and metrics (${aggregation}) match a plain TypeScript computation`, async () => {
    const g = new Graph('float64');
    const out = buildLoss(g, aggregation);
    for (const k of ['loss', 'kl', 'clipLow', 'clipHigh'] as const) g.output(out[k], k);
    const session = await InferenceSession.create(g.toModel());
    const r = await session.run({ logprobs: bt(logprobs), ...fixedFeeds() });
    const want = reference(aggregation);
    assert.ok(want.clipLow > 0 && want.clipHigh > 0, 'the data must clip on both sides');
    for (const k of ['loss', 'kl', 'clipLow', 'clipHigh'] as const) {
      const got = r[k].data[0] as number;
      assert.ok(Math.abs(got - want[k]) < 1e-9, `${k}: graph ${got}, reference ${want[k]}`);
    }
  });

  test(`GRPO loss gradient (${aggregation}) matches finite differences`, async () => {
    await assertGradient({
      inputs: { logprobs: { shape: [B, T], dims: ['B', 'T'], data: Float64Array.from(logprobs) } },
      feeds: fixedFeeds(),
      build: (g, x) => buildLoss(g, aggregation, x.logprobs).loss,
    });
  });
}
