import type { Rng } from './rng';

export interface SamplingOptions {
  /** 0 picks the most likely token (greedy); 1 samples from the model's distribution. */
  temperature: number;
  /** Keep only the k most likely tokens. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (nucleus sampling). */
  topP?: number;
}

export interface SampledToken {
  token: number;
  /**
   * log p(token) under the model itself: log-softmax of the raw logits, before temperature,
   * top-k or top-p. This is what the GRPO loss graph recomputes, so the two agree.
   */
  logprob: number;
}

/** Picks one token from a row of logits (one position, vocabulary-sized). */
export function sampleToken(logits: Float32Array, opts: SamplingOptions, rng: Rng): SampledToken {
  const { temperature, topK, topP } = opts;
  if (!(temperature >= 0)) throw new RangeError(`temperature must be >= 0, got ${temperature}`);
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) throw new RangeError(`topK must be an integer >= 1, got ${topK}`);
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw new RangeError(`topP must be in (0, 1], got ${topP}`);

  const argmax = checkedArgmax(logits);
  const logprobOf = (token: number) => logits[token] - logSumExp(logits, logits[argmax]);
  if (temperature === 0) return { token: argmax, logprob: logprobOf(argmax) };

  // Sorting the vocabulary (O(V log V) per token) only happens when a filter actually cuts.
  const keepK = topK !== undefined && topK < logits.length ? topK : undefined;
  const cutTopP = topP !== undefined && topP < 1;
  const candidates = Array.from(logits.keys());
  if (keepK !== undefined || cutTopP) {
    // Best first; ties keep the lower id so the order, and so the draw, is deterministic.
    candidates.sort((a, b) => logits[b] - logits[a] || a - b);
    if (keepK !== undefined) candidates.length = keepK;
  }

  // Softmax weights at this temperature over the candidates, shifted by the max for stability.
  const maxLogit = logits[argmax];
  const weights = candidates.map((t) => Math.exp((logits[t] - maxLogit) / temperature));
  if (cutTopP) {
    const total = weights.reduce((a, b) => a + b, 0);
    let cumulative = 0;
    let keep = 0;
    while (keep < weights.length && cumulative < topP * total) cumulative += weights[keep++];
    candidates.length = weights.length = Math.max(keep, 1);
  }

  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng.next() * total;
  for (let i = 0; i < candidates.length; i++) {
    u -= weights[i];
    if (u < 0) return { token: candidates[i], logprob: logprobOf(candidates[i]) };
  }
  // Only reachable through rounding in the running subtraction: the last candidate owns the remainder.
  const last = candidates[candidates.length - 1];
  return { token: last, logprob: logprobOf(last) };
}

/** Index of the largest logit (lowest index on ties); refuses NaN and rows with nothing finite. */
function checkedArgmax(logits: Float32Array): number {
  let best = -1;
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i];
    if (Number.isNaN(x)) throw new RangeError(`logits contain NaN at index ${i}`);
    if (x === Infinity) throw new RangeError(`logits contain +Infinity at index ${i}`);
    if (x !== -Infinity && (best < 0 || x > logits[best])) best = i;
  }
  if (best < 0) throw new RangeError(`logits have no finite value (length ${logits.length})`);
  return best;
}

function logSumExp(logits: Float32Array, max: number): number {
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return max + Math.log(sum);
}
