/**
 * The AdamW graph against PyTorch's AdamW written out in plain TypeScript (global grad-norm
 * clipping first, then torch.optim.AdamW), over three steps with clipping active and both a
 * decayed and an undecayed parameter. Tolerance: 1e-12 (float64 graph).
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { Graph, Value } from '../../engine/onnx/builder';
import { ADAMW_INPUTS } from '../../engine/graphs';
import { adamW } from '../../engine/optimizer';

const hp = { lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, gradClip: 0.5 };
const shapes = { w: [2, 3], b: [3] };
type Name = keyof typeof shapes;
const names = Object.keys(shapes) as Name[];

interface State { param: number[]; m: number[]; v: number[] }

/** torch.nn.utils.clip_grad_norm_ then torch.optim.AdamW.step, element by element. */
function reference(states: Record<Name, State>, grads: Record<Name, number[]>, step: number): number {
  const norm = Math.sqrt(names.reduce((a, n) => a + grads[n].reduce((s, x) => s + x * x, 0), 0));
  const clip = Math.min(1, hp.gradClip / (norm + 1e-6));
  for (const n of names) {
    const s = states[n];
    s.param.forEach((p, i) => {
      const g = grads[n][i] * clip;
      if (n === 'w') p *= 1 - hp.lr * hp.weightDecay;
      s.m[i] = hp.beta1 * s.m[i] + (1 - hp.beta1) * g;
      s.v[i] = hp.beta2 * s.v[i] + (1 - hp.beta2) * g * g;
      const denom = Math.sqrt(s.v[i]) / Math.sqrt(1 - hp.beta2 ** step) + hp.eps;
      s.param[i] = p - (hp.lr / (1 - hp.beta1 ** step)) * (s.m[i] / denom);
    });
  }
  return norm;
}

test('AdamW with clipping and decoupled weight decay matches PyTorch\'s formulas', async () => {
  const g = new Graph('float64');
  const hyper = Object.fromEntries(ADAMW_INPUTS.map((k) => [k, g.input(k, 'float64', [])])) as Record<(typeof ADAMW_INPUTS)[number], Value>;
  const slots = names.map((n) => ({
    param: g.input(n, 'float64', shapes[n]),
    grad: g.input(`grad.${n}`, 'float64', shapes[n]),
    m: g.input(`m.${n}`, 'float64', shapes[n]),
    v: g.input(`v.${n}`, 'float64', shapes[n]),
    decay: n === 'w',
  }));
  const { updated, gradNorm } = adamW(g, slots, hyper);
  updated.forEach((u, i) => {
    g.output(u.param, `new.${names[i]}`);
    g.output(u.m, `new.m.${names[i]}`);
    g.output(u.v, `new.v.${names[i]}`);
  });
  g.output(gradNorm, 'gradNorm');
  const session = await InferenceSession.create(g.toModel());

  const init = (n: Name, f: (i: number) => number) => Array.from({ length: shapes[n].reduce((a, b) => a * b) }, (_, i) => f(i));
  const want = Object.fromEntries(names.map((n) => [n, { param: init(n, (i) => 0.3 - 0.1 * i), m: init(n, () => 0), v: init(n, () => 0) }])) as Record<Name, State>;
  let got = structuredClone(want);
  for (let step = 1; step <= 3; step++) {
    const grads = Object.fromEntries(names.map((n) => [n, init(n, (i) => Math.sin(step + 2 * i) * (n === 'w' ? 1 : 0.4))])) as Record<Name, number[]>;
    const wantNorm = reference(want, grads, step);
    const f64 = (data: number[], dims: number[]) => new Tensor('float64', Float64Array.from(data), dims);
    const feeds: Record<string, Tensor> = { step: f64([step], []) };
    for (const k of ADAMW_INPUTS) if (k !== 'step') feeds[k] = f64([hp[k]], []);
    for (const n of names) {
      feeds[n] = f64(got[n].param, shapes[n]);
      feeds[`grad.${n}`] = f64(grads[n], shapes[n]);
      feeds[`m.${n}`] = f64(got[n].m, shapes[n]);
      feeds[`v.${n}`] = f64(got[n].v, shapes[n]);
    }
    const out = await session.run(feeds);
    assert.ok(wantNorm > hp.gradClip, 'the test means clipping to be active');
    assert.ok(Math.abs((out.gradNorm.data[0] as number) - wantNorm) < 1e-12);
    got = Object.fromEntries(names.map((n) => [n, {
      param: Array.from(out[`new.${n}`].data as Float64Array),
      m: Array.from(out[`new.m.${n}`].data as Float64Array),
      v: Array.from(out[`new.v.${n}`].data as Float64Array),
    }])) as Record<Name, State>;
    for (const n of names) {
      for (const k of ['param', 'm', 'v'] as const) {
        got[n][k].forEach((x, i) => assert.ok(Math.abs(x - want[n][k][i]) < 1e-12, `step ${step} ${k} of ${n}[${i}]: ${x} vs ${want[n][k][i]}`));
      }
    }
  }
});
