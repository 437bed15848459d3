/**
 * Every gradient rule against central finite differences (float64, step 1e-6).
 * Tolerance: 1e-6 relative to max(1, |gradient|); float64 differences are good to ~1e-9.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from 'onnxruntime-node';
import { gradientRules } from '../../engine/grad-rules';
import { GradCase, assertGradient } from './gradcheck';

const i32 = (data: number[], dims: number[]) => new Tensor('int32', Int32Array.from(data), dims);

const cases: Record<string, GradCase[]> = {
  Identity: [{ inputs: { x: { shape: [2, 3] } }, build: (g, x) => g.emit('Identity', [x.x], {}, 'float64', x.x.dims) }],
  Add: [{ inputs: { a: { shape: [2, 3] }, b: { shape: [3] } }, build: (g, x) => g.add(x.a, x.b) }],
  Sub: [{ inputs: { a: { shape: [2, 1] }, b: { shape: [2, 3] } }, build: (g, x) => g.sub(x.a, x.b) }],
  Mul: [{ inputs: { a: { shape: [2, 3] }, b: { shape: [1, 3] } }, build: (g, x) => g.mul(x.a, x.b) }],
  Div: [{ inputs: { a: { shape: [2, 3] }, b: { shape: [3], positive: true } }, build: (g, x) => g.div(x.a, x.b) }],
  Neg: [{ inputs: { x: { shape: [4] } }, build: (g, x) => g.neg(x.x) }],
  Exp: [{ inputs: { x: { shape: [4] } }, build: (g, x) => g.exp(x.x) }],
  Log: [{ inputs: { x: { shape: [4], positive: true } }, build: (g, x) => g.log(x.x) }],
  Sqrt: [{ inputs: { x: { shape: [4], positive: true } }, build: (g, x) => g.sqrt(x.x) }],
  Reciprocal: [{ inputs: { x: { shape: [4], positive: true } }, build: (g, x) => g.reciprocal(x.x) }],
  Sigmoid: [{ inputs: { x: { shape: [4] } }, build: (g, x) => g.sigmoid(x.x) }],
  Min: [{ inputs: { a: { shape: [2, 4] }, b: { shape: [4] } }, build: (g, x) => g.min(x.a, x.b) }],
  Max: [{ inputs: { a: { shape: [2, 4] }, b: { shape: [2, 1] } }, build: (g, x) => g.max(x.a, x.b) }],
  Where: [{ inputs: { a: { shape: [2, 3] }, b: { shape: [3] } }, build: (g, x) => g.where(g.greater(x.a, g.scalar(0)), x.a, x.b) }],
  MatMul: [
    // batched, with the second operand broadcast over a batch axis (grouped-query attention)
    { inputs: { a: { shape: [2, 3, 2, 4] }, b: { shape: [2, 1, 4, 3] } }, build: (g, x) => g.matmul(x.a, x.b) },
    // activations [B, T, in] times a weight [in, out], symbolic B and T (the linear-layer path)
    { inputs: { a: { shape: [2, 3, 4], dims: ['B', 'T', 4] }, w: { shape: [4, 5] } }, build: (g, x) => g.matmul(x.a, x.w) },
  ],
  Transpose: [{ inputs: { x: { shape: [2, 3, 4] } }, build: (g, x) => g.transpose(x.x, [2, 0, 1]) }],
  Reshape: [{ inputs: { x: { shape: [2, 6], dims: ['B', 6] } }, build: (g, x) => g.reshape(x.x, ['B', 2, 3]) }],
  Unsqueeze: [{ inputs: { x: { shape: [2, 3] } }, build: (g, x) => g.unsqueeze(x.x, 1) }],
  Squeeze: [{ inputs: { x: { shape: [2, 1, 3] } }, build: (g, x) => g.squeeze(x.x, 1) }],
  Expand: [{ inputs: { x: { shape: [3, 1] } }, build: (g, x) => g.expand(x.x, [2, 3, 4]) }],
  Concat: [{ inputs: { a: { shape: [2, 3] }, b: { shape: [2, 2] } }, build: (g, x) => g.concat([x.a, g.neg(x.b), x.a], 1) }],
  Slice: [{ inputs: { x: { shape: [2, 6] } }, build: (g, x) => g.slice(x.x, 1, 1, 4) }],
  Pad: [{ inputs: { x: { shape: [2, 3] } }, build: (g, x) => g.pad(x.x, 1, 2, 1) }],
  ReduceSum: [
    { inputs: { x: { shape: [2, 3, 4] } }, build: (g, x) => g.reduceSum(x.x, [0, 2]) },
    { inputs: { x: { shape: [2, 3, 4] } }, build: (g, x) => g.reduceSum(x.x, [1], true) },
  ],
  ReduceMean: [{ inputs: { x: { shape: [2, 3, 4], dims: ['B', 'T', 4] } }, build: (g, x) => g.reduceMean(x.x, [1, 2], true) }],
  Softmax: [{ inputs: { x: { shape: [2, 5] } }, build: (g, x) => g.softmax(x.x, -1) }],
  LogSoftmax: [{ inputs: { x: { shape: [2, 5] } }, build: (g, x) => g.logSoftmax(x.x, -1) }],
  Gather: [
    {
      // repeated ids: their gradients must add up
      inputs: { w: { shape: [5, 3] } },
      feeds: { ids: i32([1, 4, 1, 1, 0, 2], [2, 3]) },
      build: (g, x) => g.gather(x.w, g.input('ids', 'int32', [2, 3])),
    },
  ],
  GatherElements: [
    {
      inputs: { x: { shape: [2, 3, 5] } },
      feeds: { idx: i32([4, 0, 2, 2, 1, 3], [2, 3, 1]) },
      build: (g, x) => g.gatherElements(x.x, g.input('idx', 'int32', [2, 3, 1]), -1),
    },
  ],
};

test('every gradient rule has a finite-difference case', () => {
  assert.deepEqual(Object.keys(gradientRules).sort(), Object.keys(cases).sort());
});

for (const [op, opCases] of Object.entries(cases)) {
  test(`gradient of ${op} matches finite differences`, async () => {
    for (const c of opCases) await assertGradient(c);
  });
}

test('a gradient through two paths adds up (x * exp(x))', async () => {
  await assertGradient({ inputs: { x: { shape: [5] } }, build: (g, x) => g.mul(x.x, g.exp(x.x)) });
});
