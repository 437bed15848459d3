/**
 * Losses and metrics as graph nodes. All per-token tensors are [B, T] and aligned to targets:
 * position t holds log p(token t+1 | tokens <= t); `mask` is 1 where a position counts.
 */
import type { LossAggregation } from '../schemas/grpo';
import { Graph, Value } from './onnx/builder';

/** log-softmax over the vocabulary [B, T, V] and the log-prob of each target [B, T]. */
export function tokenLogprobs(g: Graph, logits: Value, targets: Value): { logSoftmax: Value; logprobs: Value } {
  const logSoftmax = g.logSoftmax(logits, -1);
  const logprobs = g.squeeze(g.gatherElements(logSoftmax, g.unsqueeze(targets, -1), -1), -1);
  return { logSoftmax, logprobs };
}

/** Mean of x over positions where mask is 1 (0 when nothing is masked in). */
export function maskedMean(g: Graph, x: Value, mask: Value): Value {
  return g.div(g.sumAll(g.mul(x, mask)), g.max(g.sumAll(mask), g.scalar(1)));
}

/** Completion-only cross-entropy: mean negative log-likelihood over the masked-in tokens. */
export function sftLoss(g: Graph, logprobs: Value, mask: Value): Value {
  return g.neg(maskedMean(g, logprobs, mask));
}

/** Mean entropy of the predicted distribution over masked-in positions (a metric). */
export function meanEntropy(g: Graph, logSoftmax: Value, mask: Value): Value {
  const perToken = g.neg(g.reduceSum(g.mul(g.exp(logSoftmax), logSoftmax), [-1]));
  return maskedMean(g, perToken, mask);
}

/**
 * The GRPO loss's scalar settings, each a rank-0 input of the step graph under the same name, so
 * that nothing between the GRPO update (grpo.ts) and this file spells them out.
 */
export const GRPO_LOSS_SCALARS = ['epsLow', 'epsHigh', 'beta', 'maxLen'] as const;
export type GrpoLossScalar = (typeof GRPO_LOSS_SCALARS)[number];

export interface GrpoInputs extends Record<GrpoLossScalar, Value> {
  logprobs: Value; // current policy [B, T]
  oldLogprobs: Value; // behaviour policy that sampled the completions [B, T]
  refLogprobs: Value; // reference policy for the KL term [B, T]
  advantages: Value; // one per sample [B]
  mask: Value; // completion tokens [B, T]
}

export interface GrpoOutputs {
  loss: Value;
  kl: Value; // mean k3 KL per completion token
  clipLow: Value; // share of tokens where the lower clip bound is active (ratio < 1-epsLow, A < 0)
  clipHigh: Value; // share where the upper one is (ratio > 1+epsHigh, A > 0)
}

/**
 * Log-ratios enter exp() clamped to [-20, 20], as verl does: a token whose probability moved by
 * e^20 already saturates the clip, and one extreme token cannot make the loss infinite.
 */
const MAX_LOG_RATIO = 20;

function clampedExp(g: Graph, logRatio: Value): Value {
  return g.exp(g.min(g.max(logRatio, g.scalar(-MAX_LOG_RATIO)), g.scalar(MAX_LOG_RATIO)));
}

/**
 * The clipped GRPO surrogate with a k3 KL penalty (DESIGN.md, "GRPO, precisely"):
 * per token, -min(r A, clip(r, 1-epsLow, 1+epsHigh) A) + beta (exp(ref-new) - (ref-new) - 1).
 */
export function grpoLoss(g: Graph, x: GrpoInputs, aggregation: LossAggregation): GrpoOutputs {
  const one = g.scalar(1);
  const ratio = clampedExp(g, g.sub(x.logprobs, x.oldLogprobs));
  const adv = g.unsqueeze(x.advantages, 1);
  const low = g.sub(one, x.epsLow);
  const high = g.add(one, x.epsHigh);
  const clipped = g.min(g.max(ratio, low), high);
  const surrogate = g.min(g.mul(ratio, adv), g.mul(clipped, adv));
  const refMinusNew = g.sub(x.refLogprobs, x.logprobs);
  const kl = g.sub(g.sub(clampedExp(g, refMinusNew), refMinusNew), one);
  const perToken = g.add(g.neg(surrogate), g.mul(x.beta, kl));

  let loss: Value;
  if (aggregation === 'grpo') {
    const perSample = g.div(g.reduceSum(g.mul(perToken, x.mask), [1]), g.max(g.reduceSum(x.mask, [1]), one));
    loss = g.reduceMean(perSample, [0]);
  } else if (aggregation === 'dapo') {
    loss = maskedMean(g, perToken, x.mask);
  } else {
    loss = g.div(g.sumAll(g.mul(perToken, x.mask)), g.mul(x.maxLen, g.count([x.mask.dims[0]])));
  }

  const zero = g.scalar(0);
  const asFloat = (b: Value) => g.cast(b, g.float);
  const lowActive = g.and(g.less(ratio, low), g.less(adv, zero));
  const highActive = g.and(g.greater(ratio, high), g.greater(adv, zero));
  return {
    loss,
    kl: maskedMean(g, kl, x.mask),
    clipLow: maskedMean(g, asFloat(lowActive), x.mask),
    clipHigh: maskedMean(g, asFloat(highActive), x.mask),
  };
}
