/**
 * The chunked lm head + log-softmax (losses.ts tokenLogprobs): its log-probs and entropies
 * against a plain-TypeScript computation over the whole vocabulary, and its gradient with respect
 * to the hidden states and the head weight against finite differences, for sequences shorter
 * than the number of chunks (empty chunks), of uneven chunks, and of several per chunk.
 * Tolerances: values within 1e-9 (float64 graph), gradient 1e-6 relative.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { HEAD_CHUNKS, tokenLogprobs } from '../../engine/losses';
import { Graph } from '../../engine/onnx/builder';
import { Rng } from '../../engine/rng';
import { assertGradient } from './gradcheck';

const [B, d, V] = [2, 5, 7];

function randomCase(T: number, seed: number) {
  const rng = new Rng(seed);
  return {
    hidden: Float64Array.from({ length: B * T * d }, () => 2 * rng.next() - 1),
    weight: Float64Array.from({ length: V * d }, () => 2 * rng.next() - 1),
    targets: Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * V)),
  };
}

/** log p(target) and the entropy at each position, straight from the definitions. */
function reference(T: number, x: ReturnType<typeof randomCase>) {
  const logprobs: number[] = [];
  const entropy: number[] = [];
  for (let r = 0; r < B * T; r++) {
    const logits = Array.from({ length: V }, (_, v) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += x.hidden[r * d + k] * x.weight[v * d + k];
      return s;
    });
    const lse = Math.log(logits.reduce((a, l) => a + Math.exp(l), 0));
    logprobs.push(logits[x.targets[r]] - lse);
    entropy.push(-logits.reduce((a, l) => a + Math.exp(l - lse) * (l - lse), 0));
  }
  return { logprobs, entropy };
}

for (const T of [3, HEAD_CHUNKS + 3, 3 * HEAD_CHUNKS]) {
  test(`log-probs and entropies over ${T} positions match the whole-vocabulary computation`, async () => {
    const g = new Graph('float64');
    const hidden = g.input('hidden', 'float64', ['B', 'T', d]);
    const weight = g.input('weight', 'float64', [V, d]);
    const targets = g.input('targets', 'int32', ['B', 'T']);
    const out = tokenLogprobs(g, hidden, weight, targets, true);
    g.output(out.logprobs, 'logprobs');
    g.output(out.entropy!, 'entropy');
    const x = randomCase(T, T);
    const session = await InferenceSession.create(g.toModel());
    const got = await session.run({
      hidden: new Tensor('float64', x.hidden, [B, T, d]),
      weight: new Tensor('float64', x.weight, [V, d]),
      targets: new Tensor('int32', x.targets, [B, T]),
    });
    const want = reference(T, x);
    for (const k of ['logprobs', 'entropy'] as const) {
      const values = got[k].data as Float64Array;
      assert.equal(values.length, B * T);
      values.forEach((v, i) => assert.ok(Math.abs(v - want[k][i]) < 1e-9, `${k}[${i}] = ${v}, expected ${want[k][i]}`));
    }
  });

  for (const entropy of [false, true]) {
    test(`gradient of the log-probs over ${T} positions${entropy ? ' (entropy alongside)' : ''} matches finite differences`, async () => {
      const x = randomCase(T, 100 + T);
      await assertGradient({
        inputs: { hidden: { shape: [B, T, d], dims: ['B', 'T', d], data: x.hidden }, weight: { shape: [V, d], data: x.weight } },
        feeds: { targets: new Tensor('int32', x.targets, [B, T]) },
        build: (g, p) => tokenLogprobs(g, p.hidden, p.weight, g.input('targets', 'int32', ['B', 'T']), entropy).logprobs,
      });
    });
  }
}
