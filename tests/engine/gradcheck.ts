/**
 * Central finite differences against the autodiff gradient, in float64. The checked function's
 * output y is reduced to the scalar sum(y * r) with fixed random weights r, so every output
 * element contributes with a different weight and a wrong gradient cannot cancel out.
 */
import * as assert from 'node:assert/strict';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { gradients } from '../../engine/autodiff';
import { Dim, Graph, Value } from '../../engine/onnx/builder';
import { Rng } from '../../engine/rng';

export interface GradInput {
  shape: number[];
  /** Declared dims when they differ from shape (symbolic batch/sequence dims). */
  dims?: Dim[];
  /** Values sampled in [0.5, 2) instead of [-1, 1) (for log, sqrt, division). */
  positive?: boolean;
  data?: Float64Array;
}

export interface GradCase {
  inputs: Record<string, GradInput>;
  build(g: Graph, x: Record<string, Value>): Value;
  /** Extra inputs the build declares itself (indices, masks); not differentiated. */
  feeds?: Record<string, Tensor>;
  /** Check at most this many coordinates per input (a fixed random subset). */
  maxCoords?: number;
}

const STEP = 1e-6;
// onnxruntime 1.30's QuickGeluFusion ('extended' level) rewrites x*sigmoid(x) into a float-only
// kernel even in float64 graphs, which then fails to load; the 'basic' level leaves it alone.
export const SESSION_OPTIONS = { graphOptimizationLevel: 'basic' } as const;

/** Returns the largest error |analytic - numeric| / max(1, |numeric|) over the checked coordinates. */
export async function gradCheck(c: GradCase, seed = 1): Promise<number> {
  const rng = new Rng(seed);
  const g = new Graph('float64');
  const names = Object.keys(c.inputs);
  const x: Record<string, Value> = {};
  for (const n of names) x[n] = g.input(n, 'float64', c.inputs[n].dims ?? c.inputs[n].shape);
  const y = c.build(g, x);
  const weights = g.input('weights', 'float64', y.dims);
  const loss = g.sumAll(g.mul(y, weights));
  const grads = gradients(g, loss, names.map((n) => x[n]));
  g.output(loss, 'loss');
  grads.forEach((gr, i) => g.output(gr, `grad.${names[i]}`));
  const session = await InferenceSession.create(g.toModel(), SESSION_OPTIONS);

  const data: Record<string, Float64Array> = {};
  for (const n of names) {
    const inp = c.inputs[n];
    data[n] = inp.data ?? Float64Array.from({ length: inp.shape.reduce((a, b) => a * b, 1) }, () => (inp.positive ? 0.5 + 1.5 * rng.next() : 2 * rng.next() - 1));
  }
  const outDims = await outputShape(c, data, names);
  const w = Float64Array.from({ length: outDims.reduce((a, b) => a * b, 1) }, () => 2 * rng.next() - 1);
  const run = async () => (await session.run(feedsFor(c, data, w, outDims, names))) as Record<string, Tensor>;

  const base = await run();
  let worst = 0;
  for (const n of names) {
    const analytic = base[`grad.${n}`].data as Float64Array;
    const coords = pick(data[n].length, c.maxCoords, rng);
    for (const i of coords) {
      const keep = data[n][i];
      data[n][i] = keep + STEP;
      const plus = (await run()).loss.data[0] as number;
      data[n][i] = keep - STEP;
      const minus = (await run()).loss.data[0] as number;
      data[n][i] = keep;
      const numeric = (plus - minus) / (2 * STEP);
      worst = Math.max(worst, Math.abs(analytic[i] - numeric) / Math.max(1, Math.abs(numeric)));
    }
  }
  return worst;
}

/** Asserts the gradient of a case within `tol` (relative to max(1, |gradient|)). */
export async function assertGradient(c: GradCase, tol = 1e-6): Promise<void> {
  const err = await gradCheck(c);
  assert.ok(err < tol, `gradient error ${err} exceeds ${tol}`);
}

function pick(n: number, max: number | undefined, rng: Rng): number[] {
  const all = [...Array(n).keys()];
  if (max === undefined || max >= n) return all;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, max);
}

function feedsFor(c: GradCase, data: Record<string, Float64Array>, w: Float64Array, wDims: number[], names: string[]) {
  const feeds: Record<string, Tensor> = { ...c.feeds, weights: new Tensor('float64', w, wDims) };
  for (const n of names) feeds[n] = new Tensor('float64', data[n], c.inputs[n].shape);
  return feeds;
}

/** Runs the bare function once to learn the concrete shape of its output. */
async function outputShape(c: GradCase, data: Record<string, Float64Array>, names: string[]): Promise<number[]> {
  const g = new Graph('float64');
  const x: Record<string, Value> = {};
  for (const n of names) x[n] = g.input(n, 'float64', c.inputs[n].dims ?? c.inputs[n].shape);
  g.output(c.build(g, x), 'y');
  const session = await InferenceSession.create(g.toModel(), SESSION_OPTIONS);
  const feeds: Record<string, Tensor> = { ...c.feeds };
  for (const n of names) feeds[n] = new Tensor('float64', data[n], c.inputs[n].shape);
  return [...(await session.run(feeds)).y.dims];
}
