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

/**
 * The tokens one draw chooses among, in the order the draw walks them: every token by id when no
 * filter cuts (`ids` absent), else the kept ones best first (ties: lower id first). `weights` are
 * exp((logit - max) / temperature); `total` is their sum, added up in that order.
 */
export interface Candidates {
  ids?: Int32Array;
  weights: Float64Array;
  total: number;
}

/** Picks one token from a row of logits (one position, vocabulary-sized). */
export function sampleToken(logits: Float32Array, opts: SamplingOptions, rng: Rng): SampledToken {
  const { temperature, topK, topP } = opts;
  if (!(temperature >= 0)) throw new RangeError(`temperature must be >= 0, got ${temperature}`);
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) throw new RangeError(`topK must be an integer >= 1, got ${topK}`);
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw new RangeError(`topP must be in (0, 1], got ${topP}`);

  const argmax = checkedArgmax(logits);
  const max = logits[argmax];
  if (temperature === 0) return picked(logits, argmax, logSumExp(logits, max));

  const { ids, weights, total } = candidates(logits, opts, max);
  // Unfiltered at temperature 1, `total` is the very sum logSumExp adds up: same terms, same order.
  const logNormaliser = !ids && temperature === 1 ? max + Math.log(total) : logSumExp(logits, max);
  let u = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return picked(logits, ids ? ids[i] : i, logNormaliser);
  }
  // Only reachable through rounding in the running subtraction: the last candidate owns the remainder.
  const last = weights.length - 1;
  return picked(logits, ids ? ids[last] : last, logNormaliser);
}

function picked(logits: Float32Array, token: number, logNormaliser: number): SampledToken {
  return { token, logprob: logits[token] - logNormaliser };
}

/**
 * The candidates of a draw at a temperature > 0; `max` is the largest logit. Nothing here sorts
 * the vocabulary: top-k selects its k tokens in linear time and sorts only those; top-p sorts only
 * the tokens heavy enough to be in the nucleus (see `nucleus`).
 */
export function candidates(logits: Float32Array, opts: SamplingOptions, max: number): Candidates {
  const { temperature, topK, topP } = opts;
  const V = logits.length;
  const cutTopP = topP !== undefined && topP < 1;
  if (topK !== undefined && topK < V) {
    const ids = bestFirst(logits, kBest(logits, topK));
    const weights = new Float64Array(ids.length);
    for (let i = 0; i < ids.length; i++) weights[i] = Math.exp((logits[ids[i]] - max) / temperature);
    const total = sum(weights);
    return cutTopP ? keepNucleus(ids, weights, total, topP) : { ids, weights, total };
  }
  const weights = new Float64Array(V);
  let total = 0;
  for (let t = 0; t < V; t++) total += weights[t] = Math.exp((logits[t] - max) / temperature);
  return cutTopP ? nucleus(logits, weights, total, topP) : { weights, total };
}

/**
 * Top-p over the whole vocabulary, `all` being every token's weight by id and `total` their sum
 * in id order. Only tokens weighing at least (1 - p) * total / V can be in the nucleus: the
 * tokens from its last one on carry more than (1 - p) * total (those before it fall short of p),
 * and were the last one lighter than that, so would be all of them, at most V tokens. Half that
 * cut leaves room for rounding; the tokens above it (a prefix of the best-first order) are the
 * only ones sorted.
 *
 * The nucleus is the shortest best-first prefix whose weights reach p times the sum in
 * best-first order, which differs from `total` (the same numbers summed in another order) by at
 * most a few V ulps. A prefix sum that far from the threshold decides as it would against that
 * sum; in the rare case one falls within the margin, the whole vocabulary is sorted and summed in
 * that order, so the kept set is always exactly the one a full sort gives.
 */
function nucleus(logits: Float32Array, all: Float64Array, total: number, topP: number): Candidates {
  const V = all.length;
  const cut = ((1 - topP) * total) / V / 2;
  const heavy = new Int32Array(V);
  let n = 0;
  for (let t = 0; t < V; t++) if (all[t] >= cut) heavy[n++] = t;
  const ids = bestFirst(logits, heavy.subarray(0, n));
  const weights = gather(all, ids);

  const margin = V * 2 ** -50; // relative: each sum is within (V - 1) ulps of the exact one
  const low = topP * total * (1 - margin);
  const high = topP * total * (1 + margin);
  let cumulative = 0;
  for (let keep = 0; keep <= n; keep++) {
    if (cumulative >= high) return { ids: ids.subarray(0, keep), weights: weights.subarray(0, keep), total: cumulative };
    if (cumulative >= low || keep === n) break; // too close to call, or (never, by the bound above) short of p
    cumulative += weights[keep];
  }
  const sorted = bestFirst(logits, everyId(V));
  const sortedWeights = gather(all, sorted);
  return keepNucleus(sorted, sortedWeights, sum(sortedWeights), topP);
}

/** Top-p over best-first candidates whose weights sum to `total` in that order. */
function keepNucleus(ids: Int32Array, weights: Float64Array, total: number, topP: number): Candidates {
  let cumulative = 0;
  let keep = 0;
  while (keep < weights.length && cumulative < topP * total) cumulative += weights[keep++];
  return { ids: ids.subarray(0, keep), weights: weights.subarray(0, keep), total: cumulative };
}

/**
 * The k best tokens (at a tie for k-th place, the lower ids), by increasing id among equal
 * logits: the k-th largest logit by quickselect on a copy, then passes collecting the tokens
 * above it and at it.
 */
function kBest(logits: Float32Array, k: number): Int32Array {
  const kth = kthLargest(logits.slice(), k);
  const ids = new Int32Array(k);
  let n = 0;
  for (let t = 0; t < logits.length; t++) if (logits[t] > kth) ids[n++] = t;
  for (let t = 0; n < k; t++) if (logits[t] === kth) ids[n++] = t;
  return ids;
}

/** Hoare's quickselect (median-of-three pivots); reorders `xs`. */
function kthLargest(xs: Float32Array, k: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  while (lo < hi) {
    const pivot = medianOfThree(xs[lo], xs[(lo + hi) >>> 1], xs[hi]);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (xs[i] > pivot) i++;
      while (xs[j] < pivot) j--;
      if (i <= j) {
        const x = xs[i];
        xs[i++] = xs[j];
        xs[j--] = x;
      }
    }
    // Now xs[lo..j] >= pivot >= xs[i..hi], and anything between equals the pivot.
    if (k - 1 <= j) hi = j;
    else if (k - 1 >= i) lo = i;
    else return pivot;
  }
  return xs[k - 1];
}

function medianOfThree(a: number, b: number, c: number): number {
  return a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
}

/**
 * `ids` best first: higher logits first, then as given (every caller gives equal logits' ids in
 * increasing order, so ties go to the lower id). A stable radix sort (three passes of 11 bits,
 * least significant first) on each logit's float32 bits, mapped to unsigned integers that order
 * the other way round from the floats: linear in the number of ids.
 */
function bestFirst(logits: Float32Array, ids: Int32Array): Int32Array {
  const n = ids.length;
  const bits = new Uint32Array(logits.buffer, logits.byteOffset, logits.length);
  let keys = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const u = logits[ids[i]] === 0 ? 0 : bits[ids[i]]; // -0 as +0: the two compare equal, so they tie
    keys[i] = u & 0x80000000 ? u : ~u & 0x7fffffff; // negatives: larger bits are lower floats
  }
  let order = ids.slice();
  let nextKeys = new Uint32Array(n);
  let nextOrder = new Int32Array(n);
  for (let shift = 0; shift < 32; shift += 11) {
    const starts = new Int32Array(2049);
    for (let i = 0; i < n; i++) starts[((keys[i] >>> shift) & 2047) + 1]++;
    for (let d = 1; d < 2049; d++) starts[d] += starts[d - 1];
    for (let i = 0; i < n; i++) {
      const key = keys[i];
      const at = starts[(key >>> shift) & 2047]++;
      nextKeys[at] = key;
      nextOrder[at] = order[i];
    }
    const k = keys;
    keys = nextKeys;
    nextKeys = k;
    const o = order;
    order = nextOrder;
    nextOrder = o;
  }
  return order;
}

function gather(all: Float64Array, ids: Int32Array): Float64Array {
  const out = new Float64Array(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = all[ids[i]];
  return out;
}

function everyId(V: number): Int32Array {
  const ids = new Int32Array(V);
  for (let t = 0; t < V; t++) ids[t] = t;
  return ids;
}

function sum(xs: Float64Array): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s;
}

/** Index of the largest logit (lowest index on ties); refuses NaN and rows with nothing finite. */
function checkedArgmax(logits: Float32Array): number {
  let best = -1;
  let bestLogit = -Infinity;
  // One comparison per logit on the common path: only a new best or a NaN (which compares false
  // both ways) looks further.
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i];
    if (x > bestLogit) {
      if (x === Infinity) throw new RangeError(`logits contain +Infinity at index ${i}`);
      best = i;
      bestLogit = x;
    } else if (!(x <= bestLogit)) {
      throw new RangeError(`logits contain NaN at index ${i}`);
    }
  }
  if (best < 0) throw new RangeError(`logits have no finite value (length ${logits.length})`);
  return best;
}

function logSumExp(logits: Float32Array, max: number): number {
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return max + Math.log(sum);
}
