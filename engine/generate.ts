/**
 * Batched sampling with a KV cache. Prompts are left-padded so every row's next token sits in the
 * last column; the prefill runs the decode graph on the whole prompt, then each step feeds one
 * token per row. Rows that finish keep being fed (their output is ignored) until they are a
 * quarter of the batch; then they leave it (`IncrementalDecoder.retain`), so long completions do
 * not drag finished rows along.
 *
 * The cache lives here, in preallocated buffers per layer that grow in chunks: keys transposed
 * [B, kvHeads, headDim, capacity] and values [B, kvHeads, capacity, headDim]. The decode graph
 * reads them as they are (the same tensors every step) and returns only the new tokens' keys and
 * values, which are written into the next free column; a bias over the slots hides the empty ones
 * and the left padding. A step copies nothing of the cache, in the graph or here; only growth
 * (every CACHE_CHUNK columns) and `retain` copy it, once.
 */
import { Tensor } from 'onnxruntime-node';
import type { ModelConfig } from '../schemas/model';
import { headDim } from './model';
import type { Rng } from './rng';
import { sampleToken } from './sampling';
import { firstStop, StopStrings } from './stop-strings';
import type { Tokenizer } from './tokenizer';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 is greedy. */
  temperature: number;
  /** Nucleus sampling; 1 or absent is off. */
  topP?: number;
  /** Keep the k most likely tokens; 0 or absent is off. */
  topK?: number;
  /** Generation of a row stops once its text contains one of these (kept in the output). */
  stopStrings?: string[];
  /** Seed for this call; without it the trainer's generator is used, and advances. */
  seed?: number;
  /** false recomputes the whole sequence each step instead of using the cache (tests, benchmarks). */
  useCache?: boolean;
}

export interface Generation {
  /** The completion's tokens, the EOS token included when one was sampled. */
  tokens: Int32Array;
  /** log p(token) under the sampling policy at temperature 1 (the behaviour log-probs for GRPO). */
  logprobs: Float32Array;
  text: string;
  finishReason: 'eos' | 'stop' | 'length';
}

export type RunDecode = (feeds: Record<string, Tensor>) => Promise<Record<string, Tensor>>;

/**
 * A step's next-token scores, rows one after another: `logits` and `weights` [B * V],
 * `logNormalisers` [B] (decodeGraph's outputs of those names).
 */
export interface StepScores {
  logits: Float32Array;
  weights: Float32Array;
  logNormalisers: Float32Array;
}

/** Cache slots are added this many at a time: the graph attends over the whole buffer, filled or not. */
const CACHE_CHUNK = 32;
const HIDDEN = -1e9;

/**
 * Produces next-token scores for a batch of growing sequences; `temperature` is the one the
 * scores' weights are at (1 for greedy decoding, which reads none).
 */
export class IncrementalDecoder {
  private readonly rows: number[][];
  private readonly pads: number[]; // left padding of each row
  private B: number;
  private readonly kvHeads: number;
  private readonly hd: number;
  /** Columns (left padding included) whose keys and values are in the cache. */
  private filled = 0;
  private capacity = 0;
  private keys: Float32Array[] = []; // per layer [B, kv, hd, capacity]
  private values: Float32Array[] = []; // per layer [B, kv, capacity, hd]
  private pastBias = new Float32Array(0); // [B, capacity]
  private cacheFeeds: Record<string, Tensor> = {};
  /** Feeds of a one-token step, reused: their arrays are rewritten in place. */
  private stepFeeds: { ids: Int32Array; positions: Int32Array; feeds: Record<string, Tensor> } | undefined;
  private readonly temperature: Tensor;

  constructor(
    private readonly run: RunDecode,
    private readonly cfg: ModelConfig,
    prompts: readonly Int32Array[],
    private readonly useCache = true,
    temperature = 1,
  ) {
    if (prompts.length === 0 || prompts.some((p) => p.length === 0)) throw new Error('generate: needs prompts of at least one token');
    this.rows = prompts.map((p) => Array.from(p));
    const width = Math.max(...prompts.map((p) => p.length));
    this.pads = prompts.map((p) => width - p.length);
    this.B = prompts.length;
    this.kvHeads = cfg.numKvHeads;
    this.hd = headDim(cfg);
    this.temperature = new Tensor('float32', Float32Array.of(temperature), []);
  }

  /** Scores after the prompts. */
  start(): Promise<StepScores> {
    return this.forward(this.width());
  }

  /** Appends one token per row and returns the scores after it. */
  step(tokens: Int32Array): Promise<StepScores> {
    this.rows.forEach((r, b) => r.push(tokens[b]));
    return this.useCache ? this.forwardOne(tokens) : this.forward(this.width());
  }

  private width(): number {
    return this.rows[0].length + this.pads[0];
  }

  /**
   * Keeps only the rows `keep` (indices into the current batch, increasing), in that order: the
   * later calls take and return that many rows. One copy of the kept rows' cache.
   */
  retain(keep: readonly number[]): void {
    if (keep.length === 0) throw new Error('IncrementalDecoder.retain: keeps no row');
    const { B: oldB, kvHeads: H, hd, capacity: cap } = this;
    const pick = <T>(xs: T[]) => keep.map((j) => xs[j]);
    this.rows.splice(0, oldB, ...pick(this.rows));
    this.pads.splice(0, oldB, ...pick(this.pads));
    this.B = keep.length;
    this.stepFeeds = undefined;
    if (cap === 0) return;
    const block = H * hd * cap; // one row's slots in a layer's keys or values
    const compact = (from: Float32Array, size: number) => {
      const to = new Float32Array(keep.length * size);
      keep.forEach((j, r) => to.set(from.subarray(j * size, (j + 1) * size), r * size));
      return to;
    };
    for (let i = 0; i < this.cfg.numLayers; i++) {
      this.keys[i] = compact(this.keys[i], block);
      this.values[i] = compact(this.values[i], block);
      this.cacheFeeds[`past.${i}.key`] = new Tensor('float32', this.keys[i], [this.B, H, hd, cap]);
      this.cacheFeeds[`past.${i}.value`] = new Tensor('float32', this.values[i], [this.B, H, cap, hd]);
    }
    this.pastBias = compact(this.pastBias, cap);
    this.cacheFeeds.pastBias = new Tensor('float32', this.pastBias, [this.B, cap]);
  }

  /** A one-token step on the cache, with feeds reused from the last one. */
  private async forwardOne(tokens: Int32Array): Promise<StepScores> {
    const B = this.B;
    if (!this.stepFeeds) {
      const ids = new Int32Array(B);
      const positions = new Int32Array(B);
      const feeds = {
        ids: new Tensor('int32', ids, [B, 1]),
        positions: new Tensor('int32', positions, [B, 1]),
        newBias: new Tensor('float32', new Float32Array(B), [B, 1, 1]), // a new token sees itself
      };
      this.stepFeeds = { ids, positions, feeds };
    }
    const { ids, positions, feeds } = this.stepFeeds;
    const col = this.width() - 1;
    for (let b = 0; b < B; b++) {
      ids[b] = tokens[b];
      positions[b] = col - this.pads[b];
    }
    this.reserve(col + 1);
    return this.take(await this.run({ ...feeds, temperature: this.temperature, ...this.cacheFeeds }), 1);
  }

  /**
   * Runs the last `n` columns: the prefill (cache empty) or, without the cache, the whole sequence
   * against an empty one.
   */
  private async forward(n: number): Promise<StepScores> {
    const B = this.B;
    const width = this.width();
    const first = width - n; // column of the first new token
    const ids = new Int32Array(B * n);
    const positions = new Int32Array(B * n);
    const newBias = new Float32Array(B * n * n).fill(HIDDEN);
    this.rows.forEach((row, b) => {
      const pad = this.pads[b];
      for (let t = 0; t < n; t++) {
        const c = first + t;
        ids[b * n + t] = c < pad ? 0 : row[c - pad];
        positions[b * n + t] = Math.max(0, c - pad);
        for (let s = Math.max(0, pad - first); s <= t; s++) newBias[(b * n + t) * n + s] = 0;
      }
    });
    let cache = this.cacheFeeds;
    if (this.useCache) this.reserve(width);
    else cache = emptyCache(this.cfg, B); // recomputation: nothing cached
    const out = await this.run({
      ids: new Tensor('int32', ids, [B, n]),
      positions: new Tensor('int32', positions, [B, n]),
      newBias: new Tensor('float32', newBias, [B, n, n]),
      temperature: this.temperature,
      ...cache,
    });
    return this.useCache ? this.take(out, n) : scores(out);
  }

  /** Writes the `n` new columns' keys and values from a run into the cache; returns its scores. */
  private take(out: Record<string, Tensor>, n: number): StepScores {
    const { B, kvHeads: H, hd, capacity: cap } = this;
    const at = this.filled;
    for (let i = 0; i < this.cfg.numLayers; i++) {
      const k = out[`new.${i}.key`]?.data as Float32Array | undefined; // [B, H, hd, n]
      const v = out[`new.${i}.value`]?.data as Float32Array | undefined; // [B, H, n, hd]
      if (!k || !v) continue; // a stand-in model (tests) without cache outputs
      const keys = this.keys[i];
      const values = this.values[i];
      for (let bh = 0; bh < B * H; bh++) {
        if (n === 1) for (let d = 0; d < hd; d++) keys[(bh * hd + d) * cap + at] = k[bh * hd + d];
        else for (let d = 0; d < hd; d++) keys.set(k.subarray((bh * hd + d) * n, (bh * hd + d + 1) * n), (bh * hd + d) * cap + at);
        values.set(v.subarray(bh * n * hd, (bh + 1) * n * hd), (bh * cap + at) * hd);
      }
    }
    for (let b = 0; b < B; b++) this.pastBias.fill(0, b * cap + Math.max(at, this.pads[b]), b * cap + at + n);
    this.filled = at + n;
    return scores(out);
  }

  /** Makes room for `columns` cached columns, growing the buffers by whole chunks. */
  private reserve(columns: number): void {
    if (columns <= this.capacity) return;
    const { B, kvHeads: H, hd, capacity: old } = this;
    const cap = Math.ceil(columns / CACHE_CHUNK) * CACHE_CHUNK;
    for (let i = 0; i < this.cfg.numLayers; i++) {
      const keys = new Float32Array(B * H * hd * cap);
      const values = new Float32Array(B * H * cap * hd);
      if (old > 0) {
        for (let r = 0; r < B * H * hd; r++) keys.set(this.keys[i].subarray(r * old, r * old + this.filled), r * cap);
        for (let bh = 0; bh < B * H; bh++) values.set(this.values[i].subarray(bh * old * hd, (bh * old + this.filled) * hd), bh * cap * hd);
      }
      this.keys[i] = keys;
      this.values[i] = values;
      this.cacheFeeds[`past.${i}.key`] = new Tensor('float32', keys, [B, H, hd, cap]);
      this.cacheFeeds[`past.${i}.value`] = new Tensor('float32', values, [B, H, cap, hd]);
    }
    const bias = new Float32Array(B * cap).fill(HIDDEN);
    for (let b = 0; b < B; b++) bias.set(this.pastBias.subarray(b * old, b * old + this.filled), b * cap);
    this.pastBias = bias;
    this.cacheFeeds.pastBias = new Tensor('float32', bias, [B, cap]);
    this.capacity = cap;
  }
}

function scores(out: Record<string, Tensor>): StepScores {
  return {
    logits: out.logits.data as Float32Array,
    weights: out.weights.data as Float32Array,
    logNormalisers: out.logNormaliser.data as Float32Array,
  };
}

/** A cache of one empty slot (hidden by its bias): what recomputation attends to besides the sequence. */
function emptyCache(cfg: ModelConfig, B: number): Record<string, Tensor> {
  const H = cfg.numKvHeads;
  const hd = headDim(cfg);
  const feeds: Record<string, Tensor> = { pastBias: new Tensor('float32', new Float32Array(B).fill(HIDDEN), [B, 1]) };
  for (let i = 0; i < cfg.numLayers; i++) {
    feeds[`past.${i}.key`] = new Tensor('float32', new Float32Array(B * H * hd), [B, H, hd, 1]);
    feeds[`past.${i}.value`] = new Tensor('float32', new Float32Array(B * H * hd), [B, H, 1, hd]);
  }
  return feeds;
}

export async function generate(
  run: RunDecode, cfg: ModelConfig, tokenizer: Tokenizer,
  prompts: readonly Int32Array[], opts: GenerateOptions, rng: Rng,
): Promise<Generation[]> {
  const V = cfg.vocabSize;
  const sampling = {
    temperature: opts.temperature,
    ...(opts.topK ? { topK: opts.topK } : {}),
    ...(opts.topP !== undefined && opts.topP < 1 ? { topP: opts.topP } : {}),
  };
  const stops = opts.stopStrings ?? [];
  const out = prompts.map(() => ({
    tokens: [] as number[],
    logprobs: [] as number[],
    finishReason: 'length' as Generation['finishReason'],
    done: false,
    watch: stops.length > 0 ? new StopStrings(tokenizer, stops) : undefined,
  }));
  const decoder = new IncrementalDecoder(run, cfg, prompts, opts.useCache ?? true, opts.temperature || 1);
  // active[j]: the prompt whose sequence is the decoder's row j. Finished rows leave the batch
  // once they are a quarter of it, so a step computes (nearly) only rows still generating.
  let active = prompts.map((_, b) => b);
  let scores = await decoder.start();
  for (let step = 0; step < opts.maxNewTokens; step++) {
    const next = new Int32Array(active.length).fill(tokenizer.padId);
    active.forEach((b, j) => {
      const o = out[b];
      if (o.done) return;
      const row = { logits: scores.logits.subarray(j * V, (j + 1) * V), weights: scores.weights.subarray(j * V, (j + 1) * V), logNormaliser: scores.logNormalisers[j] };
      const { token, logprob } = sampleToken(row, sampling, rng);
      o.tokens.push(token);
      o.logprobs.push(logprob);
      next[j] = token;
      if (tokenizer.stopIds.includes(token)) {
        o.done = true;
        o.finishReason = 'eos';
      } else if (o.watch?.push(token)) {
        o.done = true;
        o.finishReason = 'stop';
      }
    });
    if (out.every((o) => o.done) || step === opts.maxNewTokens - 1) break;
    const keep = active.flatMap((b, j) => (out[b].done ? [] : [j]));
    if (active.length - keep.length >= Math.max(1, active.length / 4)) {
      decoder.retain(keep);
      active = keep.map((j) => active[j]);
      scores = await decoder.step(Int32Array.from(keep, (j) => next[j]));
    } else {
      scores = await decoder.step(next);
    }
  }
  return out.map((o) => {
    const text = tokenizer.decode(o.tokens);
    return {
      tokens: Int32Array.from(o.tokens),
      logprobs: Float32Array.from(o.logprobs),
      // Cut where the whole decoded text first holds a stop string (the token-by-token watch saw it).
      text: o.finishReason === 'stop' ? text.slice(0, firstStop(text, stops)) : text,
      finishReason: o.finishReason,
    };
  });
}
