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
 * One position's scores as the decode graph hands them over (see sampling-head.ts): the logits;
 * each token's weight exp((logit - max) / temperature) at the draw's temperature, in float32 (the
 * V exponentials are most of a draw's cost in JS, and onnxruntime vectorises them); and
 * log Σ exp(logits), the temperature-1 normaliser of the log-probs.
 */
export interface TokenScores {
  logits: Float32Array;
  weights: Float32Array;
  logNormaliser: number;
}

/** A token's place in best-first order (higher logits first, then lower ids), by its logit and id. */
export interface Rank {
  logit: number;
  id: number;
}

/**
 * The tokens one draw chooses among. With `ids` (top-k): those tokens best first, weighed
 * exp((logit - max) / temperature) in float64, drawn in that order. Without: every token from
 * the best down to `last` in best-first order (all when `last` is absent), drawn in id order
 * with the row's own weights. `total` is the sum of the weights.
 */
export type Candidates =
  | { ids: Int32Array; weights: Float64Array; total: number }
  | { ids?: undefined; last?: Rank; total: number };

/** Picks one token from a row's scores (one position, vocabulary-sized). */
export function sampleToken(row: TokenScores, opts: SamplingOptions, rng: Rng): SampledToken {
  const { temperature, topK, topP } = opts;
  if (!(temperature >= 0)) throw new RangeError(`temperature must be >= 0, got ${temperature}`);
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) throw new RangeError(`topK must be an integer >= 1, got ${topK}`);
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw new RangeError(`topP must be in (0, 1], got ${topP}`);
  const { logits, logNormaliser } = row;
  // NaN, +Infinity or nothing finite in the logits leave the normaliser non-finite: only then is
  // the row scanned, for an error that names the culprit.
  if (!Number.isFinite(logNormaliser)) {
    checkedArgmax(logits);
    throw new RangeError(`log-normaliser is ${logNormaliser} for finite logits`);
  }
  const picked = (token: number): SampledToken => ({ token, logprob: logits[token] - logNormaliser });
  if (temperature === 0) return picked(checkedArgmax(logits));

  const c = candidates(row, opts);
  let u = rng.next() * c.total;
  if (c.ids) {
    for (let i = 0; i < c.ids.length; i++) if ((u -= c.weights[i]) < 0) return picked(c.ids[i]);
    // Only reachable through rounding in the running subtraction: the last candidate owns the remainder.
    return picked(c.ids[c.ids.length - 1]);
  }
  const { weights } = row;
  const kept = keptBy(logits, c.last ?? { logit: -Infinity, id: weights.length });
  let lastKept = -1;
  for (let t = 0; t < weights.length; t++) {
    if (weights[t] > 0 && kept(t)) {
      if ((u -= weights[t]) < 0) return picked(t);
      lastKept = t;
    }
  }
  return picked(lastKept); // rounding, as above
}

/**
 * The candidates of a draw at a temperature > 0. Nothing here sorts the vocabulary: top-k sorts
 * the tokens above a threshold that at least k reach; top-p finds the stretch of logits where
 * the nucleus ends and sorts only that stretch.
 */
export function candidates(row: TokenScores, opts: SamplingOptions): Candidates {
  const { temperature, topK, topP } = opts;
  const { logits, weights } = row;
  const V = logits.length;
  const cutTopP = topP !== undefined && topP < 1;
  if (topK !== undefined && topK < V) {
    const ids = kBest(logits, topK);
    const max = logits[ids[0]];
    const w = new Float64Array(ids.length);
    for (let i = 0; i < ids.length; i++) w[i] = Math.exp((logits[ids[i]] - max) / temperature);
    const total = sum(w);
    return cutTopP ? keepNucleus(ids, w, total, topP) : { ids, weights: w, total };
  }
  return cutTopP ? nucleus(row, topP, temperature) : { total: sum(weights) };
}

/** Whether token t is at or before `last` in best-first order. */
export function keptBy(logits: Float32Array, last: Rank): (t: number) => boolean {
  return (t) => logits[t] > last.logit || (logits[t] === last.logit && t <= last.id);
}

/**
 * Top-p buckets best-first order by log-weight: BUCKETS equal steps of (max - logit) / temperature
 * over the row's range of it, or over MAX_NATS where the range is wider (tokens lighter than
 * e^-64 of the best one then share the last bucket). Spread over the row's own range, even a
 * nearly flat row leaves few tokens in any one bucket.
 */
const BUCKETS = 4096;
const MAX_NATS = 64;

/**
 * Top-p over the whole vocabulary. The weight of each bucket (see `BUCKETS`) tells which bucket
 * the nucleus ends in; only that bucket's tokens are sorted.
 *
 * The nucleus is the shortest best-first prefix whose weights reach p times the sum in
 * best-first order. The sums here (by bucket, by id) differ from that order's by at most a few
 * V ulps; a prefix sum that far from the threshold decides as the best-first one would. In the
 * rare case one falls within the margin, the whole vocabulary is sorted and summed best first, so
 * the kept set is always exactly the one a full sort gives.
 */
function nucleus(row: TokenScores, topP: number, temperature: number): Candidates {
  const { logits, weights } = row;
  const V = logits.length;
  const total = sum(weights); // in id order
  const { max, min } = extremes(logits);
  const range = Math.min(MAX_NATS, (max - min) / temperature);
  const scale = range > 0 ? (BUCKETS - 1) / range / temperature : 0;
  const buckets = new Uint16Array(V);
  for (let t = 0; t < V; t++) buckets[t] = bucketOf(logits[t], max, scale);
  // Even and odd tokens into histograms of their own, two at a time: neighbours often share a
  // bucket, and with one histogram each addition waits on the one before (3x slower here).
  const mass = new Float64Array(2 * BUCKETS);
  let t = 0;
  for (; t + 1 < V; t += 2) {
    mass[buckets[t]] += weights[t];
    mass[BUCKETS + buckets[t + 1]] += weights[t + 1];
  }
  if (t < V) mass[buckets[t]] += weights[t];
  for (let b = 0; b < BUCKETS; b++) mass[b] += mass[BUCKETS + b];

  const margin = V * 2 ** -50; // relative: each sum is within (V - 1) ulps of the exact one
  const low = topP * total * (1 - margin);
  const high = topP * total * (1 + margin);
  let bucket = 0;
  let cumulative = 0;
  while (bucket < BUCKETS - 1 && cumulative + mass[bucket] < low) cumulative += mass[bucket++];
  const inBucket: number[] = [];
  for (let t = 0; t < V; t++) if (buckets[t] === bucket) inBucket.push(t);
  const ids = bestFirst(logits, Int32Array.from(inBucket));
  for (let keep = 0; keep <= ids.length; keep++) {
    if (cumulative >= high) return { last: rankOf(logits, ids[keep - 1]), total: cumulative };
    if (cumulative >= low || keep === ids.length) break; // too close to call, or short of p by rounding
    cumulative += weights[ids[keep]];
  }
  const sorted = bestFirst(logits, everyId(V));
  const sortedWeights = gather(weights, sorted);
  const kept = keepNucleus(sorted, sortedWeights, sum(sortedWeights), topP);
  return { last: rankOf(logits, kept.ids[kept.ids.length - 1]), total: kept.total };
}

function extremes(logits: Float32Array): { max: number; min: number } {
  let max = -Infinity;
  let min = Infinity;
  for (let t = 0; t < logits.length; t++) {
    const x = logits[t];
    if (x > max) max = x;
    if (x < min) min = x;
  }
  return { max, min };
}

function bucketOf(logit: number, max: number, scale: number): number {
  const b = (max - logit) * scale; // >= 0: `| 0` floors it
  return b < BUCKETS - 1 ? b | 0 : BUCKETS - 1;
}

/** Top-p over best-first candidates whose weights sum to `total` in that order. */
function keepNucleus(ids: Int32Array, weights: Float64Array, total: number, topP: number): { ids: Int32Array; weights: Float64Array; total: number } {
  let cumulative = 0;
  let keep = 0;
  while (keep < weights.length && cumulative < topP * total) cumulative += weights[keep++];
  return { ids: ids.subarray(0, keep), weights: weights.subarray(0, keep), total: cumulative };
}

/**
 * The k best tokens best first (at a tie for k-th place, the lower ids). The k-th best of every
 * stride-th token is a threshold at least k tokens reach; about k * stride do, and only they are
 * sorted.
 */
function kBest(logits: Float32Array, k: number): Int32Array {
  const V = logits.length;
  const stride = Math.max(1, Math.floor(V / (64 * k)));
  const sample = new Int32Array(Math.ceil(V / stride));
  for (let i = 0; i < sample.length; i++) sample[i] = i * stride;
  const threshold = logits[bestFirst(logits, sample)[k - 1]];
  const ids: number[] = [];
  for (let t = 0; t < V; t++) if (logits[t] >= threshold) ids.push(t);
  return bestFirst(logits, Int32Array.from(ids)).subarray(0, k);
}

function rankOf(logits: Float32Array, id: number): Rank {
  return { logit: logits[id], id };
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

function gather(all: Float32Array, ids: Int32Array): Float64Array {
  const out = new Float64Array(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = all[ids[i]];
  return out;
}

function everyId(V: number): Int32Array {
  const ids = new Int32Array(V);
  for (let t = 0; t < V; t++) ids[t] = t;
  return ids;
}

function sum(xs: ArrayLike<number>): number {
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
