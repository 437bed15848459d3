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
  /** The global gradient norm, when the slots are only some of the parameters; else computed from them. */
  gradNorm?: Value;
}

export interface AdamWSlot {
  param: Value;
  grad: Value;
  m: Value;
  v: Value;
  /** Whether weight decay applies (matrices yes; norm gains and biases no, as HF Trainer). */
  decay: boolean;
}

/**
 * Every per-parameter scalar (clipping, bias corrections, learning rate) is folded into rank-0
 * coefficients first, so each parameter sees the fewest full-size passes: these tensors are as
 * large as the model, and on CPU each pass over them costs about as much as a small GEMM.
 *   m' = beta1 m + (1 - beta1) c g            (c: the clipping scale)
 *   v' = beta2 v + (1 - beta2) c^2 g^2        (g^2 is shared with the grad norm)
 *   p' = p (1 - lr wd) - lr / (1 - beta1^t) * m' / (sqrt(v') / sqrt(1 - beta2^t) + eps)
 * which is PyTorch's AdamW update rearranged.
 */
export function adamW(g: Graph, slots: readonly AdamWSlot[], h: AdamWInputs): { updated: { param: Value; m: Value; v: Value }[]; gradNorm: Value } {
  const one = g.scalar(1);
  const squares = slots.map((s) => g.mul(s.grad, s.grad));
  const gradNorm = h.gradNorm ?? g.sqrt(squares.map((sq) => g.sumAll(sq)).reduce((a, b) => g.add(a, b), g.scalar(0)));
  const clipScale = g.min(one, g.div(h.gradClip, g.add(gradNorm, g.scalar(1e-6))));
  const gradCoef = g.mul(g.sub(one, h.beta1), clipScale);
  const squareCoef = g.mul(g.sub(one, h.beta2), g.mul(clipScale, clipScale));
  const stepSize = g.div(h.lr, g.sub(one, g.pow(h.beta1, h.step)));
  const sqrtCoef = g.reciprocal(g.sqrt(g.sub(one, g.pow(h.beta2, h.step))));
  const decayCoef = g.sub(one, g.mul(h.lr, h.weightDecay));

  const updated = slots.map((s, i) => {
    const m = g.add(g.mul(s.m, h.beta1), g.mul(s.grad, gradCoef));
    const v = g.add(g.mul(s.v, h.beta2), g.mul(squares[i], squareCoef));
    const update = g.div(g.mul(m, stepSize), g.add(g.mul(g.sqrt(v), sqrtCoef), h.eps));
    const kept = s.decay ? g.mul(s.param, decayCoef) : s.param;
    return { param: g.sub(kept, update), m, v };
  });
  return { updated, gradNorm };
}
