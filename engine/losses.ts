/**
 * Losses and metrics as graph nodes. All per-token tensors are [B, T] and aligned to targets:
 * position t holds log p(token t+1 | tokens <= t); `mask` is 1 where a position counts.
 */
import type { LossAggregation } from '../schemas/grpo';
import { Chunk, chunks, concat, sliceChunk } from './chunks';
import { rowsLast } from './grad-rules';
import { Graph, Value } from './onnx/builder';
import { dimProduct } from './onnx/shape';

/** Sequence chunks the lm head and log-softmax run over (see tokenLogprobs). */
export const HEAD_CHUNKS = 8;

export interface TokenLogprobs {
  /** log p(target) at each position [B, T]. */
  logprobs: Value;
  /** The predicted distribution's entropy at each position [B, T], when asked for: a metric, through which no gradient flows. */
  entropy?: Value;
}

/**
 * Per-target log-probs under the lm head (logits = hidden W^T; hidden [B, T, d], W [V, d] as
 * stored; targets [B, T] int32) without ever holding [B, T, V]: the head, log-softmax, gather
 * (and entropy) run over HEAD_CHUNKS chunks of the sequence, so at most a chunk's logits are
 * alive at once, and the backward pass recomputes each chunk's logits instead of keeping them.
 * At SmolLM2's vocabulary (49,152) and B=8 T=512 one [B, T, V] tensor is 805 MB, and the
 * unchunked graph held several (logits, log-softmax, probabilities, their gradients).
 *
 * Per chunk, with p = softmax(logits) and dy the gradient of the log-probs:
 *   d logits = dy (onehot(target) - p),  d hidden = d logits W,  d W += d logits^T hidden.
 * The recomputation costs one more head GEMM per step. A composite has one output, so with
 * `entropy` the log-probs and entropies come out side by side, [B, T, 2], and are split here.
 */
export function tokenLogprobs(g: Graph, hidden: Value, weight: Value, targets: Value, entropy = false): TokenLogprobs {
  const [B, T] = hidden.dims;
  const [V, d] = weight.dims;
  const parts = chunks(g, T, HEAD_CHUNKS);
  const picked = (c: Chunk) => g.unsqueeze(sliceChunk(g, targets, 1, c), -1); // [B, Tc, 1]
  const logits = (h: Value) => g.matmul(h, g.transposeLast(weight));
  const body = () => {
    const perChunk = parts.map((c) => {
      const logSoftmax = g.logSoftmax(logits(sliceChunk(g, hidden, 1, c)), -1);
      const logprobs = g.gatherElements(logSoftmax, picked(c), -1);
      if (!entropy) return logprobs;
      return g.concat([logprobs, g.neg(g.reduceSum(g.mul(g.exp(logSoftmax), logSoftmax), [-1], true))], -1);
    });
    return concat(g, perChunk, 1, T);
  };
  const out = g.composite('TokenLogprobs', [hidden, weight, targets], body, (dOut) => {
    const dLogprobs = entropy ? g.slice(dOut, 2, 0, 1) : dOut; // [B, T, 1]
    const grads = parts.map((c) => {
      // Sliced with an explicit step, so that onnxruntime's common-subexpression elimination
      // does not take this for the forward pass's slice and keep that chunk's logits alive.
      const h = g.emit('Slice', [hidden, c.startValue, c.endValue, g.ints([1]), g.ints([1])], {}, hidden.dtype, [B, c.size, d]);
      const dy = sliceChunk(g, dLogprobs, 1, c);
      const dLogits = g.scatterAddElements(g.mul(g.softmax(logits(h), -1), g.neg(dy)), picked(c), dy, -1);
      return {
        dHidden: g.matmul(dLogits, weight),
        dWeightT: g.matmul(rowsLast(g, h), g.reshape(dLogits, [dimProduct([B, c.size]), V])), // [d, V]
      };
    });
    const dWeightT = grads.map((x) => x.dWeightT).reduce((a, b) => g.add(a, b));
    return [concat(g, grads.map((x) => x.dHidden), 1, T), g.transposeLast(dWeightT), undefined];
  });
  if (!entropy) return { logprobs: g.squeeze(out, -1) };
  return { logprobs: g.squeeze(g.slice(out, 2, 0, 1), -1), entropy: g.squeeze(g.slice(out, 2, 1, 2), -1) };
}

/** Mean of x over positions where mask is 1 (0 when nothing is masked in). */
export function maskedMean(g: Graph, x: Value, mask: Value): Value {
  return g.div(g.sumAll(g.mul(x, mask)), g.max(g.sumAll(mask), g.scalar(1)));
}

/** Completion-only cross-entropy: mean negative log-likelihood over the masked-in tokens. */
export function sftLoss(g: Graph, logprobs: Value, mask: Value): Value {
  return g.neg(maskedMean(g, logprobs, mask));
}

/** What a batch, or a micro-batch of it, holds: sequences, and tokens in the loss. */
export interface BatchCounts {
  sequences: number;
  tokens: number;
}

/**
 * The weight of a micro-batch's loss in its whole batch's: each loss is a sum over the batch
 * divided by a normaliser, so the whole batch's loss (and gradient) is the sum of its parts'
 * weighted by their share of that normaliser. Token means (SFT, dapo) divide by the batch's
 * tokens; grpo (a mean over sequences) and dr_grpo (a constant times the sequences) by its
 * sequences. A batch without tokens has loss 0, and so has each of its parts.
 */
export function lossShare(loss: LossAggregation | 'sft', part: BatchCounts, whole: BatchCounts): number {
  const by: keyof BatchCounts = loss === 'sft' || loss === 'dapo' ? 'tokens' : 'sequences';
  return whole[by] > 0 ? part[by] / whole[by] : 0;
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
  /**
   * How many of the B rows are sequences (a float scalar), for the aggregations that divide by
   * it; all of them when absent. The step graph counts the rows that hold a token: a looped
   * update pads its mini-batches with empty rows to one shape (looped.ts), which are none.
   */
  sequences?: Value;
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

  const sequences = x.sequences ?? g.count([x.mask.dims[0]]);
  let loss: Value;
  if (aggregation === 'grpo') {
    const perSample = g.div(g.reduceSum(g.mul(perToken, x.mask), [1]), g.max(g.reduceSum(x.mask, [1]), one));
    loss = g.div(g.sumAll(perSample), sequences);
  } else if (aggregation === 'dapo') {
    loss = maskedMean(g, perToken, x.mask);
  } else {
    loss = g.div(g.sumAll(g.mul(perToken, x.mask)), g.mul(x.maxLen, sequences));
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
