/**
 * AdamW as graph nodes, so gradient, clipping and update run in the same session as the loss:
 * global grad-norm clipping, bias-corrected moments, decoupled weight decay (PyTorch's AdamW).
 */
import { Graph, Value } from './onnx/builder';

export interface AdamWInputs {
  step: Value; // the step being taken, counting from 1 (for bias correction)
  lr: Value;
  beta1: Value;
  beta2: Value;
  eps: Value;
  weightDecay: Value;
  gradClip: Value; // max global gradient L2 norm
}

export interface AdamWSlot {
  param: Value;
  grad: Value;
  m: Value;
  v: Value;
  /** Whether weight decay applies (matrices yes; norm gains and biases no, as HF Trainer). */
  decay: boolean;
}

export function adamW(g: Graph, slots: readonly AdamWSlot[], h: AdamWInputs): { updated: { param: Value; m: Value; v: Value }[]; gradNorm: Value } {
  const one = g.scalar(1);
  let sumSquares: Value | undefined;
  for (const s of slots) {
    const sq = g.sumAll(g.mul(s.grad, s.grad));
    sumSquares = sumSquares ? g.add(sumSquares, sq) : sq;
  }
  const gradNorm = g.sqrt(sumSquares ?? g.scalar(0));
  const clipScale = g.min(one, g.div(h.gradClip, g.add(gradNorm, g.scalar(1e-6))));
  const correction1 = g.sub(one, g.pow(h.beta1, h.step));
  const correction2 = g.sub(one, g.pow(h.beta2, h.step));

  const updated = slots.map((s) => {
    const grad = g.mul(s.grad, clipScale);
    const m = g.add(g.mul(h.beta1, s.m), g.mul(g.sub(one, h.beta1), grad));
    const v = g.add(g.mul(h.beta2, s.v), g.mul(g.sub(one, h.beta2), g.mul(grad, grad)));
    const mHat = g.div(m, correction1);
    const vHat = g.div(v, correction2);
    let delta = g.div(mHat, g.add(g.sqrt(vHat), h.eps));
    if (s.decay) delta = g.add(delta, g.mul(h.weightDecay, s.param));
    return { param: g.sub(s.param, g.mul(h.lr, delta)), m, v };
  });
  return { updated, gradNorm };
}
